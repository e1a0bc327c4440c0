package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// cloudBatchTickets is how many tickets a Cloud batch collects before its
// changelogs are fetched: one bulkfetch call takes up to 1000 issues.
const cloudBatchTickets = bulkChangelogIssues

// idPageSize is the maxResults of id-only searches (reconciliation, and the
// walk that cuts a concurrent initial sync into ranges): Cloud returns up to
// 5000 issues a page when only ids are asked for.
const idPageSize = 5000

// Poll reads what changed since cursor and emits it batch by batch, each
// with the cursor that resumes after it. See the package comment of the
// poller for the contract.
func (s *Source) Poll(ctx context.Context, horizon time.Time, cursor []byte, emit func(context.Context, ticket.Batch) error) error {
	st, err := s.ensureSite(ctx)
	if err != nil {
		return err
	}
	return s.sync(st).Poll(ctx, horizon, cursor, emit)
}

// sync is the incremental sync over the discovered site.
func (s *Source) sync(st *site) *api.Sync[*pending] {
	batch := 0 // a Data Center page already carries its changelogs and is a batch
	if st.cloud() {
		batch = cloudBatchTickets
	}
	concurrency := 1 // Data Center pages concurrently inside its pager
	if st.cloud() {
		concurrency = s.cfg.Concurrency
	}
	return &api.Sync[*pending]{
		Tickets:           siteTickets{src: s, st: st},
		Overlap:           time.Duration(s.cfg.Overlap),
		ReconcileInterval: time.Duration(s.cfg.ReconcileInterval),
		MaxPages:          s.cfg.MaxPages,
		BatchTickets:      batch,
		Concurrency:       concurrency,
		MaxPagesKey:       "jira.max_pages",
		QueryKey:          "jira.jql",
		Logger:            s.logger,
		Now:               s.now,
	}
}

// siteTickets is the Jira side of the sync: JQL, search paging, decoding
// and enrichment on one discovered site.
type siteTickets struct {
	src *Source
	st  *site
}

var _ api.Tickets[*pending] = siteTickets{}

func (t siteTickets) jql() jqlBuilder { return jqlBuilder{user: t.src.cfg.JQL, loc: t.st.loc} }

func (t siteTickets) Pages(q api.Query) api.Pager {
	switch {
	case q.IDsOnly:
		return t.src.newPager(t.st, t.jql().scope(q.Horizon), q, []string{"id"}, idPageSize)
	case q.Since.IsZero():
		return t.src.newPager(t.st, t.jql().scope(q.Horizon), q, t.st.searchFields(), t.src.cfg.PageSize)
	default:
		return t.src.newPager(t.st, t.jql().updatedSince(q.Since), q, t.st.searchFields(), t.src.cfg.PageSize)
	}
}

// Decode decodes one issue. Only a failed issue is read a second time, for
// its id and key: every extra pass over each issue's bytes showed in the
// sync's CPU profile.
func (t siteTickets) Decode(raw json.RawMessage, parsed any) (*pending, int64, error) {
	split, _ := parsed.(*rawIssue)
	p, err := decodeIssue(t.st, raw, split)
	if err == nil {
		return p, p.id, nil
	}
	var head struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	_ = json.Unmarshal(raw, &head)
	id, _ := strconv.ParseInt(head.ID, 10, 64)
	return nil, id, fmt.Errorf("ticket %s: %w", head.Key, err)
}

func (t siteTickets) ScopeID(raw json.RawMessage) (string, bool) {
	var head struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &head) != nil || head.ID == "" {
		return "", false
	}
	return head.ID, true
}

func (t siteTickets) Complete(ctx context.Context, batch []*pending) error {
	if err := t.src.complete(ctx, t.st, batch); err != nil {
		return err
	}
	// Only the facts go on to the store. A concurrent sync holds several
	// completed batches at once; their raw comments and histories were most
	// of what the collector had to trace.
	for _, p := range batch {
		p.comments, p.histories = nil, nil
	}
	return nil
}

// CountScope asks Cloud for the approximate size of the initial sync, for
// progress and ETA only; failures just leave the total unknown. Data Center
// reports the total with the first page.
func (t siteTickets) CountScope(ctx context.Context, horizon time.Time) int {
	if !t.st.cloud() {
		return 0
	}
	n, err := approximateCount(ctx, t.src.api, t.jql().scope(horizon))
	if err != nil {
		t.src.logger.Debug("approximate count failed; progress has no total", "err", err)
		return 0
	}
	return n
}

// Bound is the instant the JQL literal written for t denotes (JQL has
// minute precision in the API user's zone).
func (t siteTickets) Bound(at time.Time) time.Time { return jqlBoundInstant(at, t.st.loc) }

// approximateCount is Cloud's estimate of how many tickets jql matches.
func approximateCount(ctx context.Context, c *api.Client, jql string) (int, error) {
	var resp struct {
		Count int `json:"count"`
	}
	err := c.Do(ctx, api.Request{Endpoint: "approximate_count", Method: http.MethodPost,
		Path: "rest/api/2/search/approximate-count", Body: map[string]string{"jql": jql}}, &resp)
	return resp.Count, err
}

// newPager pages base (with q's id bounds).
func (s *Source) newPager(st *site, base string, q api.Query, fields []string, pageSize int) api.Pager {
	if st.cloud() {
		return &cloudPager{src: s, base: base, afterID: q.AfterID, throughID: q.ThroughID, fields: fields, pageSize: pageSize}
	}
	parallel := s.cfg.Concurrency
	if len(fields) == 1 || !q.Since.IsZero() {
		// Reconciliation and incremental polls stay one request at a time:
		// a poll is usually one page, and the budget is the initial sync's.
		parallel = 1
	}
	return &dcPager{src: s, base: base, afterID: q.AfterID, throughID: q.ThroughID, fields: fields, pageSize: pageSize,
		window: s.cfg.MaxResultWindow, changelog: len(fields) > 1, first: -1, parallel: parallel}
}

// cloudPager follows search/jql's nextPageToken; total is never relied on.
type cloudPager struct {
	src                *Source
	base               string
	afterID, throughID int64
	fields             []string
	pageSize           int
	token              string
}

func (p *cloudPager) Next(ctx context.Context) (api.Page, error) {
	q := url.Values{
		"jql":        {keyset(p.base, p.afterID, p.throughID)},
		"maxResults": {strconv.Itoa(p.pageSize)},
		"fields":     {strings.Join(p.fields, ",")},
	}
	if p.token != "" {
		q.Set("nextPageToken", p.token)
	}
	page := &cloudPageBody{split: len(p.fields) > 1}
	if err := p.src.api.Do(ctx, api.Request{Endpoint: "search_jql", Method: http.MethodGet, Path: "rest/api/2/search/jql", Query: q}, page); err != nil {
		return api.Page{}, fmt.Errorf("search: %w", p.src.explain(err))
	}
	p.token = page.NextPageToken
	last := page.NextPageToken == "" || len(page.Issues) == 0 || page.IsLast
	return api.Page{Items: page.Issues, Parsed: page.parsed, Last: last, Release: page.release}, nil
}
