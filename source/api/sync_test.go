package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// toyDesk is an in-memory ticketing API shaped like Request Tracker's REST2,
// the second source the sync helper serves: tickets ordered by id, pages by
// number, a query language that states bounds to the second (or, set
// precision, to the minute like JQL), and no totals, so a walk ends at a
// short page.
type toyDesk struct {
	mu        sync.Mutex
	tickets   map[int64]*toyTicket
	pageSize  int
	precision time.Duration // what a bound literal can say
	totals    bool          // pages report how many tickets matched
	count     int           // CountScope's answer

	requests  []Query    // one per page asked for
	completed [][]string // ticket ids of each Complete call
	// onFetch, if set, runs at the start of every page request.
	onFetch func(page int)
	// onQuery, if set, runs at the start of every page request too, with
	// the query (concurrent ranges call it from several goroutines).
	onQuery func(q Query, page int)
}

type toyTicket struct {
	id      int64
	updated time.Time
	open    bool
	broken  bool // served with an unreadable updated
}

func newToyDesk() *toyDesk {
	return &toyDesk{tickets: map[int64]*toyTicket{}, pageSize: 10, precision: time.Second}
}

func (d *toyDesk) add(id int64, updated time.Time, open bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tickets[id] = &toyTicket{id: id, updated: updated, open: open}
}

func (d *toyDesk) touch(id int64, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tickets[id].updated = at
}

func (d *toyDesk) pageCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.requests)
}

func (d *toyDesk) resetCounts() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests, d.completed = nil, nil
}

// matching evaluates q as the desk's query language would: Since is cut to
// what a literal can state.
func (d *toyDesk) matching(q Query) []*toyTicket {
	since := q.Since.Truncate(d.precision)
	var out []*toyTicket
	for _, t := range d.tickets {
		switch {
		case t.id <= q.AfterID:
		case q.ThroughID > 0 && t.id > q.ThroughID:
		case !q.Since.IsZero() && t.updated.Before(since):
		case q.Since.IsZero() && t.updated.Before(q.Horizon) && !t.open:
		default:
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

type toyPager struct {
	desk    *toyDesk
	q       Query
	page    int
	matched int
}

func (p *toyPager) Next(ctx context.Context) (Page, error) {
	d := p.desk
	if d.onFetch != nil {
		d.onFetch(p.page)
	}
	if d.onQuery != nil {
		d.onQuery(p.q, p.page)
	}
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests = append(d.requests, p.q)
	size := d.pageSize
	if p.q.IDsOnly {
		size = 100
	}
	all := d.matching(p.q)
	if p.page == 0 {
		p.matched = len(all)
	}
	from := min(p.page*size, len(all))
	to := min(from+size, len(all))
	p.page++
	out := Page{Last: to-from < size}
	if d.totals {
		out.Matched = p.matched
	}
	for _, t := range all[from:to] {
		var raw []byte
		switch {
		case p.q.IDsOnly:
			raw = fmt.Appendf(nil, `{"id":%d}`, t.id)
		case t.broken:
			raw = fmt.Appendf(nil, `{"id":%d,"updated":"yesterday"}`, t.id)
		default:
			raw = fmt.Appendf(nil, `{"id":%d,"updated":%q,"open":%t}`, t.id, t.updated.Format(time.RFC3339Nano), t.open)
		}
		out.Items = append(out.Items, raw)
	}
	return out, nil
}

type toyItem struct{ t ticket.Ticket }

func (i *toyItem) Ticket() *ticket.Ticket { return &i.t }

// toyTickets is the desk's side of the sync.
type toyTickets struct{ desk *toyDesk }

func (s toyTickets) Pages(q Query) Pager { return &toyPager{desk: s.desk, q: q} }

func (s toyTickets) Decode(raw json.RawMessage, _ any) (*toyItem, int64, error) {
	var v struct {
		ID      int64  `json:"id"`
		Updated string `json:"updated"`
		Open    bool   `json:"open"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, 0, err
	}
	updated, err := time.Parse(time.RFC3339Nano, v.Updated)
	if err != nil {
		return nil, v.ID, fmt.Errorf("ticket %d: %w", v.ID, err)
	}
	return &toyItem{t: ticket.Ticket{ID: strconv.FormatInt(v.ID, 10), Updated: updated}}, v.ID, nil
}

func (s toyTickets) ScopeID(raw json.RawMessage) (string, bool) {
	var v struct {
		ID int64 `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil || v.ID <= 0 {
		return "", false
	}
	return strconv.FormatInt(v.ID, 10), true
}

func (s toyTickets) Complete(ctx context.Context, batch []*toyItem) error {
	ids := make([]string, 0, len(batch))
	for _, it := range batch {
		ids = append(ids, it.t.ID)
	}
	s.desk.mu.Lock()
	defer s.desk.mu.Unlock()
	s.desk.completed = append(s.desk.completed, ids)
	return nil
}

func (s toyTickets) CountScope(ctx context.Context, horizon time.Time) int { return s.desk.count }

func (s toyTickets) Bound(t time.Time) time.Time { return t.Truncate(s.desk.precision) }

// toyStore keeps what the store would: the latest facts per ticket, the
// cursor, and what each batch said. It can fail a commit, as a crash does.
type toyStore struct {
	tickets   map[string]ticket.Ticket
	delivered []string // ticket ids in delivery order
	cursor    []byte
	batches   int
	crashAt   int // the commit of this batch number fails; 0 never
	progress  []ticket.Progress
	skipped   int
	inScope   [][]string
}

var errToyCrash = errors.New("simulated crash before commit")

func newToyStore() *toyStore { return &toyStore{tickets: map[string]ticket.Ticket{}} }

func (s *toyStore) emit(_ context.Context, b ticket.Batch) error {
	if s.crashAt > 0 && s.batches+1 == s.crashAt {
		return errToyCrash
	}
	s.batches++
	for _, t := range b.Tickets {
		s.tickets[t.ID] = t
		s.delivered = append(s.delivered, t.ID)
	}
	if b.Progress != nil {
		s.progress = append(s.progress, *b.Progress)
	}
	s.skipped += b.Skipped
	if b.InScope != nil {
		s.inScope = append(s.inScope, b.InScope)
	}
	if b.Cursor != nil {
		s.cursor = b.Cursor
	}
	return nil
}

type toyClock struct{ now time.Time }

func (c *toyClock) Now() time.Time          { return c.now }
func (c *toyClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

var toyStart = time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC)

func newToySync(desk *toyDesk, clock *toyClock, logs *bytes.Buffer) *Sync[*toyItem] {
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	return &Sync[*toyItem]{
		Tickets:           toyTickets{desk: desk},
		Overlap:           5 * time.Minute,
		ReconcileInterval: time.Hour,
		MaxPages:          100,
		MaxPagesKey:       "rt.max_pages",
		QueryKey:          "rt.query",
		Logger:            logger,
		Now:               clock.Now,
	}
}

func (s *toyStore) poll(t *testing.T, sy *Sync[*toyItem], horizon time.Time) {
	t.Helper()
	if err := sy.Poll(context.Background(), horizon, s.cursor, s.emit); err != nil {
		t.Fatalf("poll: %v", err)
	}
}

// seedDesk adds n tickets, ids 1..n, updated one hour apart back from
// before toyStart; every third is open.
func seedDesk(d *toyDesk, n int) {
	for i := 1; i <= n; i++ {
		d.add(int64(i), toyStart.Add(-time.Duration(n-i+1)*time.Hour), i%3 == 0)
	}
}

func cursorOf(t *testing.T, b []byte) Cursor {
	t.Helper()
	c, err := DecodeCursor(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInitialSyncThenIncrementalPasses(t *testing.T) {
	desk := newToyDesk()
	seedDesk(desk, 95)
	clock := &toyClock{now: toyStart}
	sy := newToySync(desk, clock, nil)
	store := newToyStore()
	horizon := toyStart.Add(-60 * time.Hour)
	store.poll(t, sy, horizon)

	// In scope: updated within 60h, or open.
	want := 0
	for _, tk := range desk.tickets {
		if !tk.updated.Before(horizon) || tk.open {
			want++
		}
	}
	if len(store.tickets) != want || len(store.delivered) != want {
		t.Fatalf("initial sync delivered %d (%d distinct), want %d", len(store.delivered), len(store.tickets), want)
	}
	if got, pages := desk.pageCount(), want/desk.pageSize+1; got != pages {
		t.Errorf("initial sync read %d pages, want %d (a short page ends it)", got, pages)
	}
	cur := cursorOf(t, store.cursor)
	if cur.Initial() || cur.Active || !cur.Since.Equal(toyStart.Add(-5*time.Minute).Truncate(time.Second)) || !cur.LastReconcile.Equal(toyStart) {
		t.Fatalf("cursor after the initial sync: %+v", cur)
	}

	// An idle poll is one page and completes nothing.
	desk.resetCounts()
	clock.Advance(time.Minute)
	before := len(store.delivered)
	store.poll(t, sy, horizon)
	if desk.pageCount() != 1 || len(desk.completed) != 0 || len(store.delivered) != before {
		t.Errorf("idle poll: %d pages, %d completes, %d tickets", desk.pageCount(), len(desk.completed), len(store.delivered)-before)
	}
	if q := desk.requests[0]; !q.Since.Equal(cur.Since) || q.AfterID != 0 || q.IDsOnly {
		t.Errorf("incremental query %+v, want since %s", q, cur.Since)
	}

	// Two changes: only they are delivered, and only they are completed.
	desk.resetCounts()
	clock.Advance(time.Minute)
	desk.touch(7, clock.now.Add(-10*time.Second))
	desk.touch(90, clock.now.Add(-5*time.Second))
	before = len(store.delivered)
	store.poll(t, sy, horizon)
	if got := store.delivered[before:]; !slices.Equal(got, []string{"7", "90"}) {
		t.Errorf("incremental poll delivered %v, want [7 90]", got)
	}
	if len(desk.completed) != 1 || !slices.Equal(desk.completed[0], []string{"7", "90"}) {
		t.Errorf("completed %v, want one batch [7 90]", desk.completed)
	}
	// The next poll re-reads both (they are inside the overlap) and drops them.
	clock.Advance(time.Minute)
	before = len(store.delivered)
	store.poll(t, sy, horizon)
	if len(store.delivered) != before {
		t.Errorf("overlap re-delivered %v", store.delivered[before:])
	}
	// Past the overlap they fall out of Seen.
	clock.Advance(10 * time.Minute)
	store.poll(t, sy, horizon)
	if cur := cursorOf(t, store.cursor); len(cur.Seen) != 0 {
		t.Errorf("Seen still holds %v after the overlap moved past them", cur.Seen)
	}
}

// TestBoundRoundedToTheQueryLanguage: a bound the language can only state
// to the minute re-reads the tickets updated in the seconds before it; they
// must be recognised as unchanged, in both precisions.
func TestBoundRoundedToTheQueryLanguage(t *testing.T) {
	for _, precision := range []time.Duration{time.Second, time.Minute} {
		t.Run(precision.String(), func(t *testing.T) {
			desk := newToyDesk()
			desk.precision = precision
			seedDesk(desk, 20)
			// The pass starts at 10:00:30.500, so the next bound is 09:55:30.500;
			// ticket 4 was updated just after the literal that bound rounds to
			// (09:55:30 or 09:55:00), before the bound itself.
			clock := &toyClock{now: time.Date(2026, 3, 2, 10, 0, 30, 500e6, time.UTC)}
			bound := clock.now.Add(-5 * time.Minute)
			desk.touch(4, bound.Truncate(precision).Add(200*time.Millisecond))
			sy := newToySync(desk, clock, nil)
			store := newToyStore()
			store.poll(t, sy, toyStart.Add(-30*24*time.Hour))
			cur := cursorOf(t, store.cursor)
			if want := bound.Truncate(precision); !cur.Since.Equal(want) {
				t.Errorf("next bound %s, want %s", cur.Since, want)
			}
			clock.Advance(time.Minute)
			desk.resetCounts()
			before := len(store.delivered)
			store.poll(t, sy, toyStart.Add(-30*24*time.Hour))
			if len(store.delivered) != before || len(desk.completed) != 0 {
				t.Errorf("idle poll delivered %v; the ticket inside the bound's %s was not recognised", store.delivered[before:], precision)
			}
		})
	}
}

func TestCrashMidPassResumesAfterCommittedID(t *testing.T) {
	for _, totals := range []bool{false, true} {
		t.Run(fmt.Sprintf("totals=%t", totals), func(t *testing.T) {
			desk := newToyDesk()
			desk.totals = totals
			seedDesk(desk, 57)
			clock := &toyClock{now: toyStart}
			sy := newToySync(desk, clock, nil)
			store := newToyStore()
			store.crashAt = 3
			horizon := toyStart.Add(-1000 * time.Hour)
			if err := sy.Poll(context.Background(), horizon, nil, store.emit); !errors.Is(err, errToyCrash) {
				t.Fatalf("poll error %v, want the crash", err)
			}
			committed := cursorOf(t, store.cursor)
			if !committed.Initial() || !committed.Active || committed.AfterID != 20 || committed.Done != 20 {
				t.Fatalf("committed cursor %+v, want the initial sync active after id 20", committed)
			}
			store.crashAt = 0
			desk.resetCounts()
			clock.Advance(time.Minute) // the restart
			nProgress := len(store.progress)
			store.poll(t, sy, horizon)
			if desk.requests[0].AfterID != 20 {
				t.Errorf("resumed at %+v, want after id 20", desk.requests[0])
			}
			if len(store.delivered) != 57 || len(store.tickets) != 57 {
				t.Errorf("%d deliveries of %d tickets: the resumed pass re-read or lost some", len(store.delivered), len(store.tickets))
			}
			resumed := store.progress[nProgress:]
			if totals && (resumed[0] != ticket.Progress{Done: 20, Total: 57}) {
				t.Errorf("first progress after the restart %+v, want 20 of 57", resumed[0])
			}
			for i, p := range store.progress {
				if p.Done > p.Total && p.Total > 0 || (i > 0 && p.Done < store.progress[i-1].Done) {
					t.Errorf("progress %d = %+v after %+v", i, p, store.progress[max(i-1, 0)])
				}
			}
			if last := store.progress[len(store.progress)-1]; last != (ticket.Progress{Done: 57, Total: 57}) {
				t.Errorf("final progress %+v", last)
			}
			// The pass start is the original one: the next bound does not
			// skip what changed during the interrupted sync.
			if cur := cursorOf(t, store.cursor); !cur.Since.Equal(toyStart.Add(-5 * time.Minute)) {
				t.Errorf("next bound %s, want from the first start", cur.Since)
			}
		})
	}
}

func TestProgressTotals(t *testing.T) {
	tests := []struct {
		name      string
		count     int
		totals    bool
		wantTotal int
	}{
		{"source counts the scope", 40, false, 40},
		{"pages count the query", 0, true, 35},
		{"nothing counts: no total until done", 0, false, 0},
		{"an estimate below the truth never shows done > total", 20, false, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desk := newToyDesk()
			desk.count, desk.totals = tt.count, tt.totals
			seedDesk(desk, 35)
			store := newToyStore()
			store.poll(t, newToySync(desk, &toyClock{now: toyStart}, nil), toyStart.Add(-1000*time.Hour))
			for i, p := range store.progress[:len(store.progress)-1] {
				want := 0
				if tt.wantTotal > 0 {
					want = max(tt.wantTotal, p.Done)
				}
				if p.Done != (i+1)*10 || p.Total != want {
					t.Errorf("progress %d = %+v, want done %d total %d", i, p, (i+1)*10, want)
				}
			}
			if last := store.progress[len(store.progress)-1]; last != (ticket.Progress{Done: 35, Total: 35}) {
				t.Errorf("final progress %+v", last)
			}
		})
	}
}

func TestReconciliationEmitsTheScope(t *testing.T) {
	desk := newToyDesk()
	seedDesk(desk, 30)
	clock := &toyClock{now: toyStart}
	sy := newToySync(desk, clock, nil)
	store := newToyStore()
	horizon := toyStart.Add(-12 * time.Hour)
	store.poll(t, sy, horizon)
	if len(store.inScope) != 0 {
		t.Fatal("the initial sync is the first reconciliation; nothing to list")
	}

	clock.Advance(59 * time.Minute)
	store.poll(t, sy, horizon)
	if len(store.inScope) != 0 {
		t.Fatal("reconciled before the interval")
	}

	// Ticket 3 is closed and old now: it left the scope.
	desk.tickets[3].open = false
	clock.Advance(time.Minute)
	desk.resetCounts()
	store.poll(t, sy, horizon)
	if len(store.inScope) != 1 {
		t.Fatalf("%d reconciliations, want 1", len(store.inScope))
	}
	var want []string
	for _, tk := range desk.matching(Query{Horizon: horizon}) {
		want = append(want, strconv.FormatInt(tk.id, 10))
	}
	if !slices.Equal(store.inScope[0], want) || slices.Contains(want, "3") {
		t.Errorf("in scope %v, want %v", store.inScope[0], want)
	}
	if !desk.requests[0].IDsOnly || desk.requests[1].IDsOnly || len(desk.requests) != 2 {
		t.Errorf("requests %+v, want one id listing then the incremental page", desk.requests)
	}
	if cur := cursorOf(t, store.cursor); !cur.LastReconcile.Equal(clock.now) {
		t.Errorf("last reconcile %s, want %s", cur.LastReconcile, clock.now)
	}

	sy.ReconcileInterval = 0
	clock.Advance(2 * time.Hour)
	store.poll(t, sy, horizon)
	if len(store.inScope) != 1 {
		t.Error("reconciled with the interval off")
	}
}

func TestUndecodableTicketsSkippedAndCounted(t *testing.T) {
	desk := newToyDesk()
	seedDesk(desk, 25)
	desk.tickets[10].broken = true // the last of the first page
	desk.tickets[11].broken = true
	var logs bytes.Buffer
	store := newToyStore()
	store.poll(t, newToySync(desk, &toyClock{now: toyStart}, &logs), toyStart.Add(-1000*time.Hour))
	if store.skipped != 2 || len(store.tickets) != 23 {
		t.Errorf("skipped %d, delivered %d; want 2 and 23", store.skipped, len(store.tickets))
	}
	for _, id := range []string{"ticket 10", "ticket 11"} {
		if !strings.Contains(logs.String(), id) {
			t.Errorf("skip of %s not logged:\n%s", id, logs.String())
		}
	}
	if first := cursorOf(t, store.cursor); first.Since.IsZero() {
		t.Errorf("pass did not finish: %+v", first)
	}
}

func TestBatchesCollectPagesForComplete(t *testing.T) {
	for _, tt := range []struct {
		batchTickets int
		wantBatches  []int
	}{
		{0, []int{10, 10, 10, 7}},
		{25, []int{30, 7}},
		{1000, []int{37}},
	} {
		t.Run(strconv.Itoa(tt.batchTickets), func(t *testing.T) {
			desk := newToyDesk()
			seedDesk(desk, 37)
			sy := newToySync(desk, &toyClock{now: toyStart}, nil)
			sy.BatchTickets = tt.batchTickets
			store := newToyStore()
			store.poll(t, sy, toyStart.Add(-1000*time.Hour))
			var sizes []int
			for _, c := range desk.completed {
				sizes = append(sizes, len(c))
			}
			if !slices.Equal(sizes, tt.wantBatches) || store.batches != len(tt.wantBatches) {
				t.Errorf("complete calls of %v in %d batches, want %v", sizes, store.batches, tt.wantBatches)
			}
			// Each batch's cursor resumes after its last ticket.
			if cur := cursorOf(t, store.cursor); len(store.tickets) != 37 || cur.Initial() {
				t.Errorf("%d tickets, cursor %+v", len(store.tickets), cur)
			}
		})
	}
}

func TestMaxPagesStopsARunawayPass(t *testing.T) {
	desk := newToyDesk()
	seedDesk(desk, 50)
	sy := newToySync(desk, &toyClock{now: toyStart}, nil)
	sy.MaxPages = 3
	err := sy.Poll(context.Background(), toyStart.Add(-1000*time.Hour), nil, newToyStore().emit)
	if err == nil || !strings.Contains(err.Error(), "more than 3 pages") || !strings.Contains(err.Error(), "rt.max_pages") || !strings.Contains(err.Error(), "rt.query") {
		t.Fatalf("error = %v", err)
	}
	if n := desk.pageCount(); n > 5 {
		t.Errorf("%d pages fetched past a cap of 3", n)
	}
}

// TestPrefetchOverlapsTheNextPage: while a batch is being committed the next
// page is already on its way, but never one past the last page.
func TestPrefetchOverlapsTheNextPage(t *testing.T) {
	desk := newToyDesk()
	seedDesk(desk, 30) // pages of 10, 10, 10 and an empty last one
	started := make(chan int, 10)
	desk.onFetch = func(page int) { started <- page }
	store := newToyStore()
	emit := func(ctx context.Context, b ticket.Batch) error {
		if store.batches == 0 {
			select {
			case p := <-started: // page 0
				if p != 0 {
					t.Errorf("first fetch was page %d", p)
				}
			case <-time.After(5 * time.Second):
			}
			select {
			case <-started: // page 1, fetched while batch 0 commits
			case <-time.After(5 * time.Second):
				t.Error("the next page was not fetched while the first batch committed")
			}
		}
		return store.emit(ctx, b)
	}
	if err := newToySync(desk, &toyClock{now: toyStart}, nil).Poll(context.Background(), toyStart.Add(-1000*time.Hour), nil, emit); err != nil {
		t.Fatal(err)
	}
	if n := desk.pageCount(); n != 4 {
		t.Errorf("%d pages fetched, want 4: never past the last", n)
	}
}

func TestUnreadableCursorStartsOver(t *testing.T) {
	desk := newToyDesk()
	seedDesk(desk, 12)
	var logs bytes.Buffer
	store := newToyStore()
	store.cursor = []byte(`{"v":99,"phase":"from the future"}`)
	store.poll(t, newToySync(desk, &toyClock{now: toyStart}, &logs), toyStart.Add(-1000*time.Hour))
	if len(store.tickets) != 12 || !strings.Contains(logs.String(), "starting a full sync") {
		t.Errorf("%d tickets; logs:\n%s", len(store.tickets), logs.String())
	}
}

// TestCursorOfEarlierBuildsDecodes pins the stored form: cursors as the
// Jira source wrote them before the sync moved here must decode to the same
// state and encode back byte for byte. A new field may be added; a changed
// or removed one needs a new version and a migration.
func TestCursorOfEarlierBuildsDecodes(t *testing.T) {
	tests := []struct {
		stored string
		want   Cursor
	}{
		{`{"v":1,"phase":"initial","active":true,"pass_start":"2026-01-15T12:00:00Z","after_id":10240,"done":200,"total":300,"pages":5}`,
			Cursor{Version: 1, Phase: phaseInitial, Active: true, PassStart: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), AfterID: 10240, Done: 200, Total: 300, Pages: 5}},
		{`{"v":1,"phase":"incremental","since":"2026-01-15T11:55:00Z","seen":{"10001":1768478100000},"last_reconcile":"2026-01-15T12:00:00Z"}`,
			Cursor{Version: 1, Phase: phaseIncremental, Since: time.Date(2026, 1, 15, 11, 55, 0, 0, time.UTC),
				Seen: map[string]int64{"10001": 1768478100000}, LastReconcile: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)}},
		{`{"v":1,"phase":"incremental","active":true,"pass_start":"2026-01-15T12:10:00Z","pass_since":"2026-01-15T11:55:00-05:00","after_id":7,"pages":1,"since":"2026-01-15T11:55:00-05:00","last_reconcile":"2026-01-15T12:00:00Z"}`,
			Cursor{Version: 1, Phase: phaseIncremental, Active: true, PassStart: time.Date(2026, 1, 15, 12, 10, 0, 0, time.UTC),
				PassSince: time.Date(2026, 1, 15, 16, 55, 0, 0, time.UTC), AfterID: 7, Pages: 1,
				Since: time.Date(2026, 1, 15, 16, 55, 0, 0, time.UTC), LastReconcile: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		got, err := DecodeCursor([]byte(tt.stored))
		if err != nil {
			t.Fatalf("%s: %v", tt.stored, err)
		}
		if !cursorsEqual(got, tt.want) {
			t.Errorf("%s decoded to %+v, want %+v", tt.stored, got, tt.want)
		}
		if again := string(got.encode()); again != tt.stored {
			t.Errorf("re-encoded\n%s\nwant\n%s", again, tt.stored)
		}
	}
}

func cursorsEqual(a, b Cursor) bool {
	return a.Version == b.Version && a.Phase == b.Phase && a.Active == b.Active && a.PassStart.Equal(b.PassStart) &&
		a.PassSince.Equal(b.PassSince) && a.AfterID == b.AfterID && a.Done == b.Done && a.Total == b.Total &&
		a.Pages == b.Pages && a.Since.Equal(b.Since) && a.LastReconcile.Equal(b.LastReconcile) &&
		len(a.Seen) == len(b.Seen) && func() bool {
		for k, v := range a.Seen {
			if b.Seen[k] != v {
				return false
			}
		}
		return true
	}()
}

// TestProgressLogShowsPaceAndETA: a long initial sync logs its pace and how
// long the rest will take, at most every 30 s, and its end.
func TestProgressLogShowsPaceAndETA(t *testing.T) {
	desk := newToyDesk()
	desk.count = 40
	seedDesk(desk, 40)
	clock := &toyClock{now: toyStart}
	var logs bytes.Buffer
	sy := newToySync(desk, clock, &logs)
	store := newToyStore()
	emit := func(ctx context.Context, b ticket.Batch) error {
		clock.Advance(20 * time.Second) // each batch takes 20 s to read and commit
		return store.emit(ctx, b)
	}
	if err := sy.Poll(context.Background(), toyStart.Add(-1000*time.Hour), nil, emit); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if i := strings.Index(l, "msg="); i >= 0 {
			lines = append(lines, l[i:])
		}
	}
	want := []string{
		`msg="initial sync starting" horizon=2026-01-19T17:00:30.000Z expected_tickets=40`,
		// 10 tickets in 20 s: 0.5 a second, 30 left.
		`msg="initial sync progress" tickets=10 pages=1 tickets_per_second=0.5 total=40 eta=1m0s`,
		// 20 s later: under 30 s since the last line, none.
		`msg="initial sync progress" tickets=30 pages=3 tickets_per_second=0.5 total=40 eta=20s`,
		`msg="initial sync complete" tickets=40 duration=1m40s`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("log lines\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
