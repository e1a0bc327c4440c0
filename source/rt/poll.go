package rt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// batchTickets is how many tickets one batch collects before their
// histories are read: one ticket page, whose ids still make a transaction
// search short enough for any front end's URL limit (about 2.5 kB).
const batchTickets = perPage

// Poll reads what changed since cursor and emits it batch by batch, each
// with the cursor that resumes after it (the poller's contract).
func (s *Source) Poll(ctx context.Context, horizon time.Time, cursor []byte, emit func(context.Context, ticket.Batch) error) error {
	st, err := s.ensureSite(ctx, s.api, 0)
	if err != nil {
		return err
	}
	return s.sync(st).Poll(ctx, horizon, cursor, emit)
}

// sync is the incremental sync over the discovered site.
func (s *Source) sync(st *site) *api.Sync[*pending] {
	return &api.Sync[*pending]{
		Tickets:           siteTickets{src: s, st: st, sql: newTicketSQL(s.cfg, s.loc)},
		Overlap:           time.Duration(s.cfg.Overlap),
		ReconcileInterval: time.Duration(s.cfg.ReconcileInterval),
		MaxPages:          s.cfg.MaxPages,
		BatchTickets:      batchTickets,
		MaxPagesKey:       "rt.max_pages",
		QueryKey:          s.queryKey(),
		Logger:            s.logger,
		Now:               s.now,
	}
}

func (s *Source) queryKey() string {
	if len(s.cfg.Queues) > 0 {
		return "rt.queues"
	}
	return "rt.query"
}

// pending is a ticket on its way through a pass: the facts, and what
// Complete needs to finish them.
type pending struct {
	t          ticket.Ticket
	id         int64
	lifecycle  lifecycle
	requestors map[string]bool
}

func (p *pending) Ticket() *ticket.Ticket { return &p.t }

// siteTickets is RT's side of the sync: TicketSQL, ticket pages, decoding
// and the bulk history read.
type siteTickets struct {
	src *Source
	st  *site
	sql ticketSQL
}

var _ api.Tickets[*pending] = siteTickets{}

func (t siteTickets) Pages(q api.Query) api.Pager {
	p := &ticketPager{src: t.src, afterID: q.AfterID}
	switch {
	case q.IDsOnly:
		p.query = t.sql.scope(q.Horizon)
	case q.Since.IsZero():
		p.query, p.fields = t.sql.scope(q.Horizon), t.src.ticketFields()
	default:
		p.query, p.fields = t.sql.updatedSince(q.Since), t.src.ticketFields()
	}
	return p
}

// ticketFields asks a ticket page for what the facts need: with the queue's
// name and lifecycle, the requestors (the ids are their names), and custom
// fields only when some are read from the page.
func (s *Source) ticketFields() url.Values {
	fields := []string{"Status", "Queue", "Owner", "Requestor", "Created", "LastUpdated", "Resolved", "Priority"}
	if len(s.customFieldsWanted()) > 0 {
		fields = append(fields, "CustomFields")
	}
	v := url.Values{"fields": {strings.Join(fields, ",")}, "fields[Queue]": {"Name,Lifecycle"}}
	if s.customerGroup == SegmentRequestorOrganization || s.team == SegmentRequestorOrganization {
		v.Set("fields[Requestor]", "Organization")
	}
	return v
}

func (t siteTickets) Decode(raw json.RawMessage, _ any) (*pending, int64, error) {
	var rt restTicket
	if err := json.Unmarshal(raw, &rt); err != nil {
		id := itemID(raw)
		return nil, id, fmt.Errorf("ticket %d: %w", id, err)
	}
	p, err := t.src.decodeTicket(rt)
	if err != nil {
		return nil, int64(rt.ID), fmt.Errorf("ticket %d: %w", rt.ID, err)
	}
	return p, p.id, nil
}

func (t siteTickets) ScopeID(raw json.RawMessage) (string, bool) {
	id := itemID(raw)
	return strconv.FormatInt(id, 10), id > 0
}

func (t siteTickets) Complete(ctx context.Context, batch []*pending) error {
	return t.src.complete(ctx, t.src.api, t.st, batch)
}

// CountScope is left to the first page: /tickets reports its total to
// every user (REST2.md), which costs nothing extra.
func (t siteTickets) CountScope(context.Context, time.Time) int { return 0 }

// Bound is the instant RT reads the literal written for at as.
func (t siteTickets) Bound(at time.Time) time.Time {
	_, instant := lowerBound(at, t.sql.loc)
	return instant
}

// ticketPager walks /tickets in id order by keyset ("id > last"), a page
// at a time: rows arriving while it pages cannot shift a page boundary.
type ticketPager struct {
	src     *Source
	query   string
	fields  url.Values // nil: ids only
	afterID int64
	matched int // the first page's total: what this walk matched
	pages   int
}

func (p *ticketPager) Next(ctx context.Context) (api.Page, error) {
	q := url.Values{
		"query":    {afterID(p.query, p.afterID)},
		"orderby":  {"id"},
		"order":    {"ASC"},
		"per_page": {strconv.Itoa(perPage)},
	}
	for k, v := range p.fields {
		q[k] = v
	}
	var page collection
	if err := p.src.api.Do(ctx, api.Request{Endpoint: endpointTickets, Method: http.MethodGet, Path: restPrefix + "tickets", Query: q}, &page); err != nil {
		return api.Page{}, fmt.Errorf("search tickets: %w", p.src.explain(err))
	}
	if p.pages == 0 && page.Total != nil {
		p.matched = *page.Total
	}
	p.pages++
	// /tickets applies ACLs in SQL, so its pages are full until the last.
	out := api.Page{Items: page.Items, Matched: p.matched, Last: len(page.Items) < max(page.PerPage, 1)}
	if !out.Last {
		last := itemID(page.Items[len(page.Items)-1])
		if last <= 0 {
			return api.Page{}, fmt.Errorf("search tickets: the last ticket of a page has no id")
		}
		p.afterID = last
	}
	return out, nil
}

// decodeTicket turns a ticket page's item into facts; the history comes in
// Complete.
func (s *Source) decodeTicket(rt restTicket) (*pending, error) {
	if rt.ID <= 0 {
		return nil, fmt.Errorf("no id")
	}
	if rt.Created.IsZero() {
		return nil, fmt.Errorf("no creation time")
	}
	lcName := rt.Queue.Lifecycle
	if lcName == "" {
		return nil, fmt.Errorf("queue %q has no lifecycle in the answer: may the API user see the queue (SeeQueue)?", rt.Queue.Name)
	}
	lc, ok := s.lifecycles[lcName]
	if !ok {
		return nil, fmt.Errorf("queue %q uses lifecycle %q, which rt.lifecycles does not describe", rt.Queue.Name, lcName)
	}
	status := strings.ToLower(rt.Status)
	cat, ok := lc[status]
	if !ok {
		return nil, fmt.Errorf("status %q is not in lifecycle %q: add it to rt.lifecycles.%s", rt.Status, lcName, lcName)
	}
	p := &pending{id: int64(rt.ID), lifecycle: lc, requestors: make(map[string]bool, len(rt.Requestor))}
	id := strconv.FormatInt(p.id, 10)
	requestors := append([]userRef(nil), rt.Requestor...)
	sort.Slice(requestors, func(i, j int) bool { return requestors[i].Name < requestors[j].Name })
	for _, r := range requestors {
		p.requestors[r.Name] = true
	}
	p.t = ticket.Ticket{
		ID:             id,
		Key:            id,
		Desk:           rt.Queue.Name,
		RequestType:    rt.Queue.Name,
		Created:        rt.Created.Time,
		Updated:        rt.LastUpdated.Time,
		Status:         status,
		StatusCategory: cat,
		Assigned:       rt.Owner.Name != "" && rt.Owner.Name != nobody,
	}
	if p.t.Updated.IsZero() {
		p.t.Updated = p.t.Created
	}
	if rt.Priority.Set {
		p.t.Priority = s.priorities.name(int(rt.Priority.Value))
	}
	if len(requestors) > 0 {
		p.t.Reporter = requestors[0].Name
	}
	if cat == ticket.CategoryDone {
		// Only used when no status change is visible (created resolved).
		p.t.ResolvedAt = rt.Resolved.Time
	}
	if f := strings.TrimSpace(s.cfg.RequestTypeField); f != "" {
		p.t.RequestType = customFieldValue(rt.CustomFields, f)
	}
	p.t.CustomerGroup = segmentValue(s.customerGroup, rt, requestors)
	p.t.Team = segmentValue(s.team, rt, requestors)
	return p, nil
}

// segmentValue reads a segment from a ticket page's item.
func segmentValue(field string, rt restTicket, requestors []userRef) string {
	switch field {
	case "":
		return ""
	case SegmentQueue:
		return rt.Queue.Name
	case SegmentRequestorOrganization:
		for _, r := range requestors {
			if org := strings.TrimSpace(r.Organization); org != "" {
				return org
			}
		}
		return ""
	default:
		return customFieldValue(rt.CustomFields, field)
	}
}

// customFieldValue is a custom field's first value on the ticket, "" when
// it has none. Matched by name: the page lists the fields of the ticket's
// queue, where a name is unique.
func customFieldValue(fields []restFieldVals, name string) string {
	for _, f := range fields {
		if strings.EqualFold(strings.TrimSpace(f.Name), name) {
			for _, v := range f.Values {
				if v = strings.TrimSpace(v); v != "" {
					return v
				}
			}
		}
	}
	return ""
}
