package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

const cursorVersion = 1

// Pass phases kept in the cursor.
const (
	phaseInitial     = "initial"
	phaseIncremental = "incremental"
)

// cloudBatchTickets is how many tickets a Cloud batch collects before its
// changelogs are fetched: one bulkfetch call takes up to 1000 issues.
const cloudBatchTickets = bulkChangelogIssues

// reconcilePageSize is the maxResults of id-only searches; Jira allows more
// per page when only ids are asked for.
const reconcilePageSize = 1000

// cursorState is the source's position, committed by the store with the
// batch that carries it. A pass (initial sync or one incremental poll) walks
// its query in ascending id order, so a pass cut short by a crash resumes
// with "id > AfterID" and nothing is skipped.
type cursorState struct {
	Version int    `json:"v"`
	Phase   string `json:"phase"`

	// The pass in progress, if Active.
	Active    bool      `json:"active,omitempty"`
	PassStart time.Time `json:"pass_start,omitzero"`
	PassSince time.Time `json:"pass_since,omitzero"` // incremental lower bound; zero for the initial sync
	AfterID   int64     `json:"after_id,omitempty"`
	Done      int       `json:"done,omitempty"`
	Total     int       `json:"total,omitempty"`
	Pages     int       `json:"pages,omitempty"`

	// Since is the lower bound of the next incremental pass.
	Since time.Time `json:"since,omitzero"`
	// Seen maps ticket id to updated (Unix ms) for tickets at or after
	// Since: the overlap re-reads them and they are dropped unless changed.
	Seen          map[string]int64 `json:"seen,omitempty"`
	LastReconcile time.Time        `json:"last_reconcile,omitzero"`
}

func decodeCursor(b []byte) (cursorState, error) {
	if len(b) == 0 {
		return cursorState{Version: cursorVersion, Phase: phaseInitial}, nil
	}
	var c cursorState
	if err := json.Unmarshal(b, &c); err != nil {
		return cursorState{}, fmt.Errorf("decode cursor: %w", err)
	}
	if c.Version != cursorVersion || (c.Phase != phaseInitial && c.Phase != phaseIncremental) {
		return cursorState{}, fmt.Errorf("cursor version %d phase %q is not understood", c.Version, c.Phase)
	}
	return c, nil
}

func (c cursorState) encode() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("cursor is always encodable: %v", err))
	}
	return b
}

// Poll reads what changed since cursor and emits it batch by batch, each
// with the cursor that resumes after it. See the package comment of the
// poller for the contract.
func (s *Source) Poll(ctx context.Context, horizon time.Time, cursor []byte, emit func(context.Context, ticket.Batch) error) error {
	st, err := s.ensureSite(ctx)
	if err != nil {
		return err
	}
	cur, err := decodeCursor(cursor)
	if err != nil {
		// A cursor this build cannot read (another version, damage) must
		// not wedge the source: a full sync is safe because the store
		// never counts a re-delivered event twice.
		s.logger.Warn("cannot read the stored cursor; starting a full sync", "err", err)
		cur, _ = decodeCursor(nil)
	}
	if cur.Phase == phaseIncremental && !cur.Active && s.reconcileDue(cur) {
		if cur, err = s.reconcile(ctx, st, horizon, cur, emit); err != nil {
			return err
		}
	}
	return s.runPass(ctx, st, horizon, cur, emit)
}

func (s *Source) reconcileDue(cur cursorState) bool {
	interval := time.Duration(s.cfg.ReconcileInterval)
	return interval > 0 && !s.now().Before(cur.LastReconcile.Add(interval))
}

// nextSince is where the pass after one started at passStart begins: the
// overlap covers Cloud's eventual consistency and clock skew. It is the
// instant the JQL literal of that bound denotes (JQL has minute precision),
// so the tickets the next pass re-reads are exactly those kept in Seen and
// recognised as unchanged; with the unrounded instant, tickets updated in
// the seconds before it were re-read, never recognised, and re-emitted.
func (s *Source) nextSince(passStart time.Time, loc *time.Location) time.Time {
	return jqlBoundInstant(passStart.Add(-time.Duration(s.cfg.Overlap)), loc)
}

// runPass walks one query to its end (or to an error), emitting batches.
func (s *Source) runPass(ctx context.Context, st *site, horizon time.Time, cur cursorState, emit func(context.Context, ticket.Batch) error) error {
	initial := cur.Phase == phaseInitial
	jql := jqlBuilder{user: s.cfg.JQL, loc: st.loc}
	if !cur.Active {
		cur.Active = true
		cur.PassStart = s.now()
		cur.AfterID, cur.Done, cur.Pages = 0, 0, 0
		if initial {
			cur.Total = s.countScope(ctx, st, jql.scope(horizon))
			s.logger.Info("initial sync starting", "horizon", horizon, "expected_tickets", cur.Total)
		} else {
			cur.PassSince = cur.Since
		}
	} else if initial && cur.Total > 0 {
		// Resuming an initial sync after a restart: report how far it got
		// before the first new batch, so progress does not read 0 meanwhile.
		s.logger.Info("initial sync resuming", "tickets_so_far", cur.Done, "expected_tickets", cur.Total)
		if err := emit(ctx, ticket.Batch{Progress: &ticket.Progress{Done: cur.Done, Total: cur.Total}}); err != nil {
			return err
		}
	}
	base := jql.scope(horizon)
	if !initial {
		base = jql.updatedSince(cur.PassSince)
	}
	pg := newPrefetcher(ctx, s.newPager(st, base, cur.AfterID, st.searchFields(), s.cfg.PageSize))
	defer pg.stop()
	progress := newProgressLog(s, cur)

	var batch []*pending
	skipped := 0 // undecodable tickets in batch, reported with it
	batchMaxID := cur.AfterID
	for {
		issues, done, err := pg.next(ctx)
		if err != nil {
			return err
		}
		if cur.Pages++; cur.Pages > s.cfg.MaxPages {
			return fmt.Errorf("search needed more than %d pages in one pass (jira.max_pages); narrow jira.jql or raise the cap", s.cfg.MaxPages)
		}
		if cur.Total == 0 && initial {
			if tp, ok := pg.inner.(interface{ remaining() int }); ok && tp.remaining() > 0 {
				// Data Center counts the query; on resume that is what is left.
				cur.Total = cur.Done + tp.remaining()
			}
		}
		cur.Done += len(issues)
		for _, raw := range issues {
			p, id := s.decodeOrSkip(st, raw)
			batchMaxID = max(batchMaxID, id)
			if p == nil {
				skipped++
				continue
			}
			if s.unchanged(cur, p) {
				continue
			}
			batch = append(batch, p)
		}
		// Cloud collects pages until one bulkfetch call is full; a Data
		// Center page already carries its changelogs and is a batch.
		if !done && st.cloud() && len(batch) < cloudBatchTickets {
			continue
		}
		if err := s.complete(ctx, st, batch); err != nil {
			return err
		}
		cur.AfterID = batchMaxID
		tickets := make([]ticket.Ticket, 0, len(batch))
		for _, p := range batch {
			tickets = append(tickets, p.t)
			if !p.t.Updated.Before(s.nextSince(cur.PassStart, st.loc)) {
				if cur.Seen == nil {
					cur.Seen = map[string]int64{}
				}
				cur.Seen[p.t.ID] = p.t.Updated.UnixMilli()
			}
		}
		out := ticket.Batch{Tickets: tickets, Skipped: skipped}
		if initial {
			out.Progress = &ticket.Progress{Done: cur.Done}
			if cur.Total > 0 {
				out.Progress.Total = max(cur.Total, cur.Done)
			}
		}
		if done {
			cur = s.finishPass(cur, initial, st.loc)
			if initial {
				out.Progress = &ticket.Progress{Done: cur.Done, Total: cur.Done}
			}
		}
		out.Cursor = cur.encode()
		if err := emit(ctx, out); err != nil {
			return err
		}
		if initial {
			progress.log(cur, done)
		}
		if done {
			return nil
		}
		batch, skipped = batch[:0], 0
	}
}

// finishPass turns a completed pass into the start of the next one.
func (s *Source) finishPass(cur cursorState, initial bool, loc *time.Location) cursorState {
	cur.Active = false
	cur.Since = s.nextSince(cur.PassStart, loc)
	for id, updated := range cur.Seen {
		if time.UnixMilli(updated).Before(cur.Since) {
			delete(cur.Seen, id)
		}
	}
	if initial {
		// The initial sync listed the whole scope, so it counts as a
		// reconciliation.
		cur.Phase = phaseIncremental
		cur.LastReconcile = cur.PassStart
	}
	cur.AfterID, cur.Pages, cur.PassSince = 0, 0, time.Time{}
	return cur
}

// unchanged reports a ticket the overlap re-read without a change.
func (s *Source) unchanged(cur cursorState, p *pending) bool {
	updated, ok := cur.Seen[p.t.ID]
	return ok && updated == p.t.Updated.UnixMilli()
}

// decodeOrSkip decodes one issue; a malformed one is logged and skipped
// (the batch reports it). The id is returned either way so paging moves past it.
func (s *Source) decodeOrSkip(st *site, raw json.RawMessage) (*pending, int64) {
	p, err := decodeIssue(st, raw)
	if err == nil {
		return p, p.id
	}
	// Only a failed ticket is read a second time, for its id and key: every
	// extra pass over each issue's bytes showed in the sync's CPU profile.
	var head struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	_ = json.Unmarshal(raw, &head)
	id, _ := strconv.ParseInt(head.ID, 10, 64)
	s.logger.Warn("skipping a ticket the exporter cannot decode", "ticket", head.Key, "id", head.ID, "err", err)
	return nil, id
}

// countScope asks Cloud for the approximate size of the initial sync, for
// progress and ETA only; failures just leave the total unknown.
func (s *Source) countScope(ctx context.Context, st *site, jql string) int {
	if !st.cloud() {
		return 0 // Data Center reports total with the first page
	}
	var resp struct {
		Count int `json:"count"`
	}
	if _, err := s.api.do(ctx, request{endpoint: "approximate_count", method: http.MethodPost,
		path: "rest/api/2/search/approximate-count", body: map[string]string{"jql": jql}}, &resp); err != nil {
		s.logger.Debug("approximate count failed; progress has no total", "err", err)
		return 0
	}
	return resp.Count
}

// reconcile lists the ids of every ticket in scope (ids only, large pages)
// and emits them as InScope.
func (s *Source) reconcile(ctx context.Context, st *site, horizon time.Time, cur cursorState, emit func(context.Context, ticket.Batch) error) (cursorState, error) {
	started := s.now()
	pg := s.newPager(st, jqlBuilder{user: s.cfg.JQL, loc: st.loc}.scope(horizon), 0, []string{"id"}, reconcilePageSize)
	ids := make([]string, 0, 1024)
	for pages := 0; ; pages++ {
		if pages >= s.cfg.MaxPages {
			return cur, fmt.Errorf("reconciliation needed more than %d pages (jira.max_pages)", s.cfg.MaxPages)
		}
		issues, done, err := pg.next(ctx)
		if err != nil {
			return cur, fmt.Errorf("reconcile: %w", err)
		}
		for _, raw := range issues {
			var head struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(raw, &head) == nil && head.ID != "" {
				ids = append(ids, head.ID)
			}
		}
		if done {
			break
		}
	}
	cur.LastReconcile = started
	if err := emit(ctx, ticket.Batch{InScope: ids, Cursor: cur.encode()}); err != nil {
		return cur, err
	}
	s.logger.Debug("reconciled tickets in scope", "count", len(ids))
	return cur, nil
}

// pager walks one search query page by page.
type pager interface {
	// next returns the next page and whether it was the last.
	next(ctx context.Context) (issues []json.RawMessage, done bool, err error)
}

func (s *Source) newPager(st *site, base string, afterID int64, fields []string, pageSize int) pager {
	if st.cloud() {
		return &cloudPager{src: s, base: base, afterID: afterID, fields: fields, pageSize: pageSize}
	}
	return &dcPager{src: s, base: base, afterID: afterID, fields: fields, pageSize: pageSize,
		window: s.cfg.MaxResultWindow, changelog: len(fields) > 1, first: -1}
}

// cloudPager follows search/jql's nextPageToken; total is never relied on.
type cloudPager struct {
	src      *Source
	base     string
	afterID  int64
	fields   []string
	pageSize int
	token    string
	started  bool
}

func (p *cloudPager) next(ctx context.Context) ([]json.RawMessage, bool, error) {
	q := url.Values{
		"jql":        {keyset(p.base, p.afterID)},
		"maxResults": {strconv.Itoa(p.pageSize)},
		"fields":     {strings.Join(p.fields, ",")},
	}
	if p.token != "" {
		q.Set("nextPageToken", p.token)
	}
	var page searchJQLPage
	if _, err := p.src.api.do(ctx, request{endpoint: "search_jql", method: http.MethodGet, path: "rest/api/2/search/jql", query: q}, &page); err != nil {
		return nil, false, fmt.Errorf("search: %w", p.src.explain(err))
	}
	p.started = true
	p.token = page.NextPageToken
	done := page.NextPageToken == "" || len(page.Issues) == 0 || page.IsLast
	return page.Issues, done, nil
}

// dcPager pages Data Center search with startAt, reading maxResults back,
// and re-queries past the last id before startAt reaches the result window.
type dcPager struct {
	src       *Source
	base      string
	afterID   int64
	fields    []string
	pageSize  int
	window    int
	changelog bool
	startAt   int
	first     int // total reported by the first page, -1 before it
}

// remaining is how many tickets the first page said the query matched.
func (p *dcPager) remaining() int { return p.first }

func (p *dcPager) next(ctx context.Context) ([]json.RawMessage, bool, error) {
	size := p.pageSize
	if p.startAt+size > p.window {
		size = p.window - p.startAt
	}
	q := url.Values{
		"jql":        {keyset(p.base, p.afterID)},
		"startAt":    {strconv.Itoa(p.startAt)},
		"maxResults": {strconv.Itoa(size)},
		"fields":     {strings.Join(p.fields, ",")},
	}
	if p.changelog {
		q.Set("expand", "changelog")
	}
	var page searchPage
	if _, err := p.src.api.do(ctx, request{endpoint: "search", method: http.MethodGet, path: "rest/api/2/search", query: q}, &page); err != nil {
		return nil, false, fmt.Errorf("search: %w", p.src.explain(err))
	}
	if p.first < 0 {
		p.first = page.Total
	}
	if len(page.Issues) == 0 {
		return nil, true, nil
	}
	p.startAt += len(page.Issues)
	if p.startAt >= page.Total {
		return page.Issues, true, nil
	}
	if p.startAt >= p.window {
		// Past the window startAt fails; continue after the last id
		// instead (results are in id order).
		last, err := lastIssueID(page.Issues)
		if err != nil {
			return nil, false, err
		}
		p.afterID, p.startAt = last, 0
	}
	return page.Issues, false, nil
}

func lastIssueID(issues []json.RawMessage) (int64, error) {
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(issues[len(issues)-1], &head); err != nil {
		return 0, fmt.Errorf("read last issue id: %w", err)
	}
	id, err := strconv.ParseInt(head.ID, 10, 64)
	if err != nil {
		return 0, errors.New("last issue of a page has no numeric id")
	}
	return id, nil
}

// progressLogEvery spaces progress lines of a long initial sync.
const progressLogEvery = 30 * time.Second

// progressLog reports the initial sync's pace.
type progressLog struct {
	src       *Source
	started   time.Time
	lastLine  time.Time
	doneAtRun int
}

func newProgressLog(s *Source, cur cursorState) *progressLog {
	return &progressLog{src: s, started: s.now(), doneAtRun: cur.Done}
}

func (l *progressLog) log(cur cursorState, done bool) {
	elapsed := l.src.now().Sub(l.started)
	fetched := cur.Done - l.doneAtRun
	if done {
		l.src.logger.Info("initial sync complete", "tickets", cur.Done, "duration", elapsed.Round(time.Second))
		return
	}
	now := l.src.now()
	if !l.lastLine.IsZero() && now.Sub(l.lastLine) < progressLogEvery {
		return
	}
	l.lastLine = now
	args := []any{"tickets", cur.Done, "pages", cur.Pages}
	if elapsed > 0 && fetched > 0 {
		perSecond := float64(fetched) / elapsed.Seconds()
		args = append(args, "tickets_per_second", fmt.Sprintf("%.1f", perSecond))
		if cur.Total > cur.Done {
			eta := time.Duration(float64(cur.Total-cur.Done) / perSecond * float64(time.Second))
			args = append(args, "total", cur.Total, "eta", eta.Round(time.Second))
		}
	}
	l.src.logger.Info("initial sync progress", args...)
}

// prefetcher fetches the next search page while the caller completes and
// emits the current one, so a long initial sync waits on Jira once per page
// instead of twice. It never fetches past the last page, so an idle poll
// stays one request; all its requests share the source's pacing and
// Retry-After gate.
type prefetcher struct {
	inner pager
	// ctx bounds the background fetches, which outlive a single next call;
	// stop cancels it.
	ctx      context.Context
	cancel   context.CancelFunc
	inflight chan pageResult
	wait     sync.WaitGroup
}

type pageResult struct {
	issues []json.RawMessage
	done   bool
	err    error
}

func newPrefetcher(ctx context.Context, inner pager) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	return &prefetcher{inner: inner, ctx: ctx, cancel: cancel}
}

func (p *prefetcher) fetch() {
	ch := make(chan pageResult, 1)
	p.inflight = ch
	p.wait.Go(func() {
		issues, done, err := p.inner.next(p.ctx)
		ch <- pageResult{issues: issues, done: done, err: err}
	})
}

// next returns the page fetched in the background (fetching it now on the
// first call) and starts fetching the one after it.
func (p *prefetcher) next(ctx context.Context) ([]json.RawMessage, bool, error) {
	if p.inflight == nil {
		p.fetch()
	}
	var r pageResult
	select {
	case r = <-p.inflight:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	p.inflight = nil
	if r.err == nil && !r.done {
		p.fetch()
	}
	return r.issues, r.done, r.err
}

// stop abandons a fetch in flight and waits for it to end.
func (p *prefetcher) stop() {
	p.cancel()
	p.wait.Wait()
}
