package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Query is one walk over a source's tickets, always in ascending id order
// so that a walk cut short resumes after the last committed id.
type Query struct {
	// Horizon bounds the scope: tickets updated at or after it, or still
	// open however old. It is not rounded: a literal written for it must
	// not be after it.
	Horizon time.Time
	// Since, when not zero, makes this an incremental pass: every ticket
	// updated at or after Since (Sync passes an instant Bound returned, so
	// the query language can state it exactly), scope or not.
	Since time.Time
	// AfterID asks only for ids above it (0: from the start).
	AfterID int64
	// ThroughID, when not zero, asks only for ids at or below it: one range
	// of a concurrent initial sync (Sync.Concurrency).
	ThroughID int64
	// IDsOnly asks for the ids in scope and nothing else, in pages as large
	// as the API allows (reconciliation, and the walk that cuts a
	// concurrent initial sync into ranges, which needs them in ascending
	// order and honours AfterID). Since is zero then.
	IDsOnly bool
}

// Page is one answer of a Pager.
type Page struct {
	Items []json.RawMessage
	// Parsed, when not nil, holds for each item what the pager already
	// read of it while splitting the page — a Jira issue cut into its
	// fields in the walk that validated it — for Decode, so the item is not
	// walked a second time; nil where the pager has nothing.
	Parsed []any
	// Last is set on the query's last page. APIs whose totals can be
	// missing end at a short (or empty) page.
	Last bool
	// Matched is how many tickets the query matched when the API says so
	// (progress only); 0 when unknown.
	Matched int
	// Release, when not nil, is called once every item was decoded (or
	// read for its id): the pager may reuse the memory the items are in.
	Release func()
}

// parsed is what the pager read of item i, if anything.
func (p Page) parsed(i int) any {
	if i < len(p.Parsed) {
		return p.Parsed[i]
	}
	return nil
}

// release hands the page's memory back to its pager.
func (p Page) release() {
	if p.Release != nil {
		p.Release()
	}
}

// Pager walks one Query page by page. Sync fetches the next page while it
// completes and emits the current one, so Next runs on a goroutine of its
// own, concurrently with Decode and Complete.
type Pager interface {
	Next(ctx context.Context) (Page, error)
}

// Item is a decoded ticket on its way through a pass; a source keeps what
// its Complete needs next to the facts.
type Item interface {
	// Ticket returns the facts; Complete may still change them.
	Ticket() *ticket.Ticket
}

// Tickets is what a source supplies to Sync: the parts that depend on its
// API and query language.
type Tickets[T Item] interface {
	// Pages walks q.
	Pages(q Query) Pager
	// Decode reads one item of a full page, given what the pager parsed of
	// it (Page.Parsed; nil if nothing). id is the ticket's position in
	// the id order, also when err is set (0 if even that is unreadable), so
	// the pass moves past a ticket it cannot use; err is logged and counted
	// in ticket.Batch.Skipped, and should name the ticket.
	Decode(raw json.RawMessage, parsed any) (item T, id int64, err error)
	// ScopeID reads the ticket id from an item of an IDsOnly page.
	ScopeID(raw json.RawMessage) (string, bool)
	// Complete fills in what pages leave out, for a whole batch at once
	// (Jira Cloud: one changelog bulkfetch per 1000 tickets); never called
	// with an empty batch.
	Complete(ctx context.Context, batch []T) error
	// CountScope estimates how many tickets the initial sync will read,
	// for progress only; 0 when unknown. It must not fail the pass.
	CountScope(ctx context.Context, horizon time.Time) int
	// Bound is the earliest instant a lower bound written for t in the
	// query language can mean: not after t, rounded to what the language
	// can say (JQL: minutes in the API user's zone; TicketSQL: seconds).
	Bound(t time.Time) time.Time
}

// Sync is the incremental sync of one source: an initial sync of the
// scope, then incremental passes from the last pass's start minus Overlap,
// with tickets the overlap re-reads unchanged dropped, the scope
// reconciled every ReconcileInterval, and progress reported. Its position
// is the cursor the store commits with every batch.
type Sync[T Item] struct {
	Tickets Tickets[T]
	// Overlap re-reads tickets updated shortly before the last pass
	// started: eventual consistency of search, clock skew.
	Overlap time.Duration
	// ReconcileInterval is how often the ids in scope are listed so tickets
	// that left it drop out; 0 disables it.
	ReconcileInterval time.Duration
	// MaxPages caps the pages of one pass or reconciliation; reaching it
	// is an error rather than an endless loop on a misbehaving server.
	MaxPages int
	// BatchTickets collects pages until a batch holds this many tickets
	// (one bulk request in Complete); 0 makes every page a batch.
	BatchTickets int
	// MaxPagesKey and QueryKey name the settings in messages, e.g.
	// jira.max_pages and jira.jql.
	MaxPagesKey, QueryKey string

	// Concurrency, above 1, pages an initial sync of more than one range
	// (CountScope's count) in that many id ranges at once, each completed
	// beside the next one's pages (see IDRange). It requires Pages to honour
	// Query.ThroughID and to list IDsOnly pages in ascending id order, and
	// ScopeID to return decimal ids; Decode and Complete are then called
	// from several goroutines at once. 0 or 1: one page at a time.
	Concurrency int
	// RangeTickets is how many ids a range holds; 0 means BatchTickets, or
	// 1000 without it.
	RangeTickets int

	Logger *slog.Logger
	// Now is the data clock: pass starts, bounds, reconciliation.
	Now func() time.Time
}

// Poll reads what changed since cursor and emits it batch by batch, each
// with the cursor that resumes after it (the poller's contract).
func (s *Sync[T]) Poll(ctx context.Context, horizon time.Time, cursor []byte, emit func(context.Context, ticket.Batch) error) error {
	if s.MaxPages < 1 {
		return fmt.Errorf("%s must be at least 1", s.MaxPagesKey)
	}
	cur, err := DecodeCursor(cursor)
	if err != nil {
		// A cursor this build cannot read (another version, damage) must
		// not wedge the source: a full sync is safe because the store
		// never counts a re-delivered event twice.
		s.logger().Warn("cannot read the stored cursor; starting a full sync", "err", err)
		cur, _ = DecodeCursor(nil)
	}
	if !cur.Initial() && !cur.Active && s.reconcileDue(cur) {
		if cur, err = s.reconcile(ctx, horizon, cur, emit); err != nil {
			return err
		}
	}
	return s.runPass(ctx, horizon, cur, emit)
}

func (s *Sync[T]) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Sync[T]) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Sync[T]) reconcileDue(cur Cursor) bool {
	return s.ReconcileInterval > 0 && !s.now().Before(cur.LastReconcile.Add(s.ReconcileInterval))
}

// nextSince is where the pass after one started at passStart begins. It is
// the instant the query's literal of that bound denotes, so the tickets the
// next pass re-reads are exactly those kept in Seen and recognised as
// unchanged; with the unrounded instant, tickets updated just before it were
// re-read, never recognised, and re-emitted.
func (s *Sync[T]) nextSince(passStart time.Time) time.Time {
	return s.Tickets.Bound(passStart.Add(-s.Overlap))
}

// runPass walks one query to its end (or to an error), emitting batches.
func (s *Sync[T]) runPass(ctx context.Context, horizon time.Time, cur Cursor, emit func(context.Context, ticket.Batch) error) error {
	initial := cur.Initial()
	if !cur.Active {
		cur.Active = true
		cur.PassStart = s.now()
		cur.AfterID, cur.Done, cur.Pages = 0, 0, 0
		cur.Ranged, cur.DoneRanges = false, nil
		if initial {
			cur.Total = s.Tickets.CountScope(ctx, horizon)
			s.logger().Info("initial sync starting", "horizon", horizon, "expected_tickets", cur.Total)
		} else {
			cur.PassSince = cur.Since
		}
	} else if initial && cur.Total > 0 {
		// Resuming an initial sync after a restart: report how far it got
		// before the first new batch, so progress does not read 0 meanwhile.
		s.logger().Info("initial sync resuming", "tickets_so_far", cur.Done, "expected_tickets", cur.Total)
		if err := emit(ctx, ticket.Batch{Progress: &ticket.Progress{Done: cur.Done, Total: cur.Total}}); err != nil {
			return err
		}
	}
	if initial && s.rangedInitial(cur) {
		return s.runRanges(ctx, horizon, cur, emit)
	}
	q := Query{Horizon: horizon, AfterID: cur.AfterID}
	if !initial {
		q.Since = cur.PassSince
	}
	nextSince := s.nextSince(cur.PassStart)
	pg := newPrefetcher(ctx, s.Tickets.Pages(q))
	defer pg.stop()
	progress := newProgressLog(s, cur)

	var batch []T
	skipped := 0
	batchMaxID := cur.AfterID
	for {
		page, err := pg.next(ctx)
		if err != nil {
			return err
		}
		if cur.Pages++; cur.Pages > s.MaxPages {
			return fmt.Errorf("search needed more than %d pages in one pass (%s); narrow %s or raise the cap", s.MaxPages, s.MaxPagesKey, s.QueryKey)
		}
		if cur.Total == 0 && initial && page.Matched > 0 {
			// The API counted the query; on resume that is what is left.
			cur.Total = cur.Done + page.Matched
		}
		cur.Done += len(page.Items)
		for i, raw := range page.Items {
			item, id, err := s.Tickets.Decode(raw, page.parsed(i))
			batchMaxID = max(batchMaxID, id)
			if err != nil {
				s.logger().Warn("skipping a ticket the exporter cannot decode", "id", id, "err", err)
				skipped++
				continue
			}
			if cur.unchanged(item.Ticket()) {
				continue
			}
			batch = append(batch, item)
		}
		page.release()
		if !page.Last && s.BatchTickets > 0 && len(batch) < s.BatchTickets {
			continue
		}
		if len(batch) > 0 {
			if err := s.Tickets.Complete(ctx, batch); err != nil {
				return err
			}
		}
		cur.AfterID = batchMaxID
		out := ticket.Batch{Tickets: facts(&cur, batch, nextSince), Skipped: skipped}
		if initial {
			out.Progress = &ticket.Progress{Done: cur.Done}
			if cur.Total > 0 {
				out.Progress.Total = max(cur.Total, cur.Done)
			}
		}
		if page.Last {
			cur = finishPass(cur, nextSince)
			if initial {
				out.Progress = &ticket.Progress{Done: cur.Done, Total: cur.Done}
			}
		}
		out.Cursor = cur.encode()
		if err := emit(ctx, out); err != nil {
			return err
		}
		if initial {
			progress.log(cur, page.Last)
		}
		if page.Last {
			return nil
		}
		clear(batch)
		batch, skipped = batch[:0], 0
	}
}

// facts are the tickets of batch for the store; those updated at or after
// nextSince are remembered in Seen, since the next pass re-reads them.
func facts[T Item](c *Cursor, batch []T, nextSince time.Time) []ticket.Ticket {
	tickets := make([]ticket.Ticket, 0, len(batch))
	for _, item := range batch {
		t := item.Ticket()
		tickets = append(tickets, *t)
		if !t.Updated.Before(nextSince) {
			if c.Seen == nil {
				c.Seen = map[string]int64{}
			}
			c.Seen[t.ID] = t.Updated.UnixMilli()
		}
	}
	return tickets
}

// finishPass turns a completed pass into the start of the next one, which
// begins at since.
func finishPass(cur Cursor, since time.Time) Cursor {
	initial := cur.Initial()
	cur.Active = false
	cur.Since = since
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
	cur.Ranged, cur.DoneRanges = false, nil
	return cur
}

// reconcile lists the ids of every ticket in scope and emits them as
// InScope, so tickets that left the scope drop out of the gauges.
func (s *Sync[T]) reconcile(ctx context.Context, horizon time.Time, cur Cursor, emit func(context.Context, ticket.Batch) error) (Cursor, error) {
	started := s.now()
	pg := s.Tickets.Pages(Query{Horizon: horizon, IDsOnly: true})
	ids := make([]string, 0, 1024)
	for pages := 0; ; pages++ {
		if pages >= s.MaxPages {
			return cur, fmt.Errorf("reconciliation needed more than %d pages (%s)", s.MaxPages, s.MaxPagesKey)
		}
		page, err := pg.Next(ctx)
		if err != nil {
			return cur, fmt.Errorf("reconcile: %w", err)
		}
		for _, raw := range page.Items {
			if id, ok := s.Tickets.ScopeID(raw); ok {
				ids = append(ids, id)
			}
		}
		page.release()
		if page.Last {
			break
		}
	}
	cur.LastReconcile = started
	if err := emit(ctx, ticket.Batch{InScope: ids, Cursor: cur.encode()}); err != nil {
		return cur, err
	}
	s.logger().Debug("reconciled tickets in scope", "count", len(ids))
	return cur, nil
}

const cursorVersion = 1

// Pass phases kept in the cursor.
const (
	phaseInitial     = "initial"
	phaseIncremental = "incremental"
)

// Cursor is a Sync's position, committed by the store with the batch that
// carries it. A pass (the initial sync or one incremental poll) walks its
// query in ascending id order, so a pass cut short by a crash resumes with
// "id > AfterID" and nothing is skipped. The JSON form is versioned; a
// change to it must keep decoding what earlier builds stored.
type Cursor struct {
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
	// Ranged marks an initial sync paged in concurrent ranges; DoneRanges
	// are the ranges above AfterID it committed (AfterID is every id up to
	// the first one still to do).
	Ranged     bool      `json:"ranged,omitempty"`
	DoneRanges []IDRange `json:"done_ranges,omitempty"`

	// Since is the lower bound of the next incremental pass.
	Since time.Time `json:"since,omitzero"`
	// Seen maps ticket id to updated (Unix ms) for tickets at or after
	// Since: the overlap re-reads them and they are dropped unless changed.
	Seen          map[string]int64 `json:"seen,omitempty"`
	LastReconcile time.Time        `json:"last_reconcile,omitzero"`
}

// DecodeCursor reads a stored cursor; empty means a new source, whose
// first pass is the initial sync.
func DecodeCursor(b []byte) (Cursor, error) {
	if len(b) == 0 {
		return Cursor{Version: cursorVersion, Phase: phaseInitial}, nil
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return Cursor{}, fmt.Errorf("decode cursor: %w", err)
	}
	if c.Version != cursorVersion || (c.Phase != phaseInitial && c.Phase != phaseIncremental) {
		return Cursor{}, fmt.Errorf("cursor version %d phase %q is not understood", c.Version, c.Phase)
	}
	return c, nil
}

// Initial reports whether the initial sync has not finished yet.
func (c Cursor) Initial() bool { return c.Phase == phaseInitial }

func (c Cursor) encode() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("cursor is always encodable: %v", err))
	}
	return b
}

// unchanged reports a ticket the overlap re-read without a change.
func (c Cursor) unchanged(t *ticket.Ticket) bool {
	updated, ok := c.Seen[t.ID]
	return ok && updated == t.Updated.UnixMilli()
}

// progressLogEvery spaces progress lines of a long initial sync.
const progressLogEvery = 30 * time.Second

// progressLog reports the initial sync's pace.
type progressLog struct {
	logger    *slog.Logger
	now       func() time.Time
	started   time.Time
	lastLine  time.Time
	doneAtRun int
}

func newProgressLog[T Item](s *Sync[T], cur Cursor) *progressLog {
	return &progressLog{logger: s.logger(), now: s.now, started: s.now(), doneAtRun: cur.Done}
}

func (l *progressLog) log(cur Cursor, done bool) {
	now := l.now()
	elapsed := now.Sub(l.started)
	if done {
		l.logger.Info("initial sync complete", "tickets", cur.Done, "duration", elapsed.Round(time.Second))
		return
	}
	if !l.lastLine.IsZero() && now.Sub(l.lastLine) < progressLogEvery {
		return
	}
	l.lastLine = now
	args := []any{"tickets", cur.Done, "pages", cur.Pages}
	if fetched := cur.Done - l.doneAtRun; elapsed > 0 && fetched > 0 {
		perSecond := float64(fetched) / elapsed.Seconds()
		args = append(args, "tickets_per_second", fmt.Sprintf("%.1f", perSecond))
		if cur.Total > cur.Done {
			eta := time.Duration(float64(cur.Total-cur.Done) / perSecond * float64(time.Second))
			args = append(args, "total", cur.Total, "eta", eta.Round(time.Second))
		}
	}
	l.logger.Info("initial sync progress", args...)
}

// prefetcher fetches the next page while the caller completes and emits the
// current one, so a long sync waits on the API once per page instead of
// twice. It never fetches past the last page, so an idle poll stays one
// request; its requests share the source's pacing and Retry-After gate.
type prefetcher struct {
	inner Pager
	// ctx bounds the background fetches, which outlive a single next call;
	// stop cancels it.
	ctx      context.Context
	cancel   context.CancelFunc
	inflight chan pageResult
	wait     sync.WaitGroup
}

type pageResult struct {
	page Page
	err  error
}

func newPrefetcher(ctx context.Context, inner Pager) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	return &prefetcher{inner: inner, ctx: ctx, cancel: cancel}
}

func (p *prefetcher) fetch() {
	ch := make(chan pageResult, 1)
	p.inflight = ch
	p.wait.Go(func() {
		page, err := p.inner.Next(p.ctx)
		ch <- pageResult{page: page, err: err}
	})
}

// next returns the page fetched in the background (fetching it now on the
// first call) and starts fetching the one after it.
func (p *prefetcher) next(ctx context.Context) (Page, error) {
	if p.inflight == nil {
		p.fetch()
	}
	var r pageResult
	select {
	case r = <-p.inflight:
	case <-ctx.Done():
		return Page{}, ctx.Err()
	}
	p.inflight = nil
	if r.err == nil && !r.page.Last {
		p.fetch()
	}
	return r.page, r.err
}

// stop abandons a fetch in flight and waits for it to end.
func (p *prefetcher) stop() {
	p.cancel()
	p.wait.Wait()
}
