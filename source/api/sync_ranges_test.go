package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// newRangedSync is the toy sync with concurrent ranges of rangeTickets.
func newRangedSync(desk *toyDesk, clock *toyClock, concurrency, rangeTickets int) *Sync[*toyItem] {
	sy := newToySync(desk, clock, nil)
	sy.Concurrency, sy.RangeTickets = concurrency, rangeTickets
	return sy
}

// inScope lists the ids the initial sync must deliver.
func inScope(desk *toyDesk, horizon time.Time) []string {
	desk.mu.Lock()
	defer desk.mu.Unlock()
	var ids []string
	for _, t := range desk.matching(Query{Horizon: horizon}) {
		ids = append(ids, strconv.FormatInt(t.id, 10))
	}
	return ids
}

// rangeRequests groups the page requests of ranges by range.
func rangeRequests(desk *toyDesk) map[IDRange]int {
	desk.mu.Lock()
	defer desk.mu.Unlock()
	out := map[IDRange]int{}
	for _, q := range desk.requests {
		if q.IDsOnly {
			continue
		}
		through := q.ThroughID
		if through == 0 {
			through = math.MaxInt64
		}
		out[IDRange{After: q.AfterID, Through: through}]++
	}
	return out
}

func TestRangedInitialSyncPagesRangesAtOnce(t *testing.T) {
	desk := newToyDesk()
	desk.pageSize = 4
	seedDesk(desk, 95)
	horizon := toyStart.Add(-60 * time.Hour)
	want := inScope(desk, horizon)
	desk.count = len(want)
	var inFlight, most atomic.Int32
	desk.onQuery = func(q Query, _ int) {
		if q.IDsOnly {
			return
		}
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(2 * time.Millisecond) // long enough for the others to start
		inFlight.Add(-1)
	}
	clock := &toyClock{now: toyStart}
	sy := newRangedSync(desk, clock, 3, 10)
	store := newToyStore()
	store.poll(t, sy, horizon)

	delivered := slices.Clone(store.delivered)
	slices.SortFunc(delivered, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	if !slices.Equal(delivered, want) {
		t.Fatalf("delivered %v, want each ticket in scope once: %v", delivered, want)
	}
	if most.Load() < 2 {
		t.Errorf("at most %d range page in flight at once, want up to 3", most.Load())
	}
	// The ranges partition the ids: 10 tickets each, the last open above.
	ranges := rangeRequests(desk)
	var bounds []IDRange
	for r := range ranges {
		bounds = append(bounds, r)
	}
	sort.Slice(bounds, func(i, j int) bool { return bounds[i].After < bounds[j].After })
	for i, r := range bounds {
		if i == 0 && r.After != 0 || i > 0 && r.After != bounds[i-1].Through {
			t.Errorf("ranges %v do not partition the ids", bounds)
			break
		}
		n := 0
		for _, id := range want {
			if v, _ := strconv.ParseInt(id, 10, 64); v > r.After && v <= r.Through {
				n++
			}
		}
		if n != 10 && i < len(bounds)-1 || n > 10 {
			t.Errorf("range %v holds %d tickets, want 10 (fewer only in the last)", r, n)
		}
		// The toy pages 4 tickets and ends at a short page.
		if pages := ranges[r]; pages != n/4+1 {
			t.Errorf("range %v took %d pages for %d tickets, want %d", r, pages, n, n/4+1)
		}
	}
	if last := bounds[len(bounds)-1]; last.Through != math.MaxInt64 {
		t.Errorf("last range %v is bounded above; tickets created during the sync would be missed", last)
	}
	if len(desk.completed) != len(bounds) {
		t.Errorf("%d Complete calls for %d ranges, want one each", len(desk.completed), len(bounds))
	}
	for _, batch := range desk.completed {
		if len(batch) > 10 {
			t.Errorf("a Complete call of %d tickets, more than a range", len(batch))
		}
	}
	cur := cursorOf(t, store.cursor)
	if cur.Initial() || cur.Active || cur.Ranged || cur.DoneRanges != nil || cur.AfterID != 0 ||
		!cur.Since.Equal(toyStart.Add(-5*time.Minute)) || !cur.LastReconcile.Equal(toyStart) {
		t.Fatalf("cursor after the ranged sync: %+v", cur)
	}
	if last := store.progress[len(store.progress)-1]; last != (ticket.Progress{Done: len(want), Total: len(want)}) {
		t.Errorf("final progress %+v", last)
	}
	for i, p := range store.progress {
		if i > 0 && p.Done < store.progress[i-1].Done || p.Total > 0 && p.Done > p.Total {
			t.Errorf("progress %d = %+v after %+v", i, p, store.progress[max(i-1, 0)])
		}
	}

	// Incremental polls are one query at a time, as before.
	desk.resetCounts()
	clock.Advance(time.Minute)
	store.poll(t, sy, horizon)
	if n := desk.pageCount(); n != 1 {
		t.Errorf("idle poll after a ranged sync: %d pages, want 1", n)
	}
}

func TestSmallScopeStaysSequential(t *testing.T) {
	desk := newToyDesk()
	seedDesk(desk, 30)
	horizon := toyStart.Add(-1000 * time.Hour)
	desk.count = 30 // three ranges of 10 would be worth it; one of 40 is not
	store := newToyStore()
	store.poll(t, newRangedSync(desk, &toyClock{now: toyStart}, 4, 40), horizon)
	desk.mu.Lock()
	defer desk.mu.Unlock()
	for _, q := range desk.requests {
		if q.IDsOnly || q.ThroughID != 0 {
			t.Fatalf("request %+v: a scope of one range must not be walked for ids", q)
		}
	}
	if len(store.tickets) != 30 {
		t.Errorf("delivered %d, want 30", len(store.tickets))
	}
}

func TestRangedCrashResumesWithoutRefetchingCommittedRanges(t *testing.T) {
	desk := newToyDesk()
	desk.pageSize = 5
	seedDesk(desk, 120)
	horizon := toyStart.Add(-1000 * time.Hour)
	desk.count = 120
	// The first range is slow, so the ones after it commit first and the
	// committed cursor has ranges above a gap.
	release := make(chan struct{})
	var once sync.Once
	desk.onQuery = func(q Query, _ int) {
		if !q.IDsOnly && q.AfterID == 0 {
			<-release
		}
	}
	clock := &toyClock{now: toyStart}
	store := newToyStore()
	store.crashAt = 3
	emit := func(ctx context.Context, b ticket.Batch) error {
		err := store.emit(ctx, b)
		if store.batches == 2 {
			once.Do(func() { close(release) })
		}
		return err
	}
	err := newRangedSync(desk, clock, 3, 10).Poll(context.Background(), horizon, nil, emit)
	if !errors.Is(err, errToyCrash) {
		t.Fatalf("poll error %v, want the crash", err)
	}
	committed := cursorOf(t, store.cursor)
	if !committed.Initial() || !committed.Active || !committed.Ranged || len(committed.DoneRanges) == 0 || committed.AfterID != 0 {
		t.Fatalf("committed cursor %+v, want two ranges above a gap", committed)
	}
	done := func(id int64) bool {
		if id <= committed.AfterID {
			return true
		}
		for _, r := range committed.DoneRanges {
			if id > r.After && id <= r.Through {
				return true
			}
		}
		return false
	}
	deliveredBefore := len(store.delivered)

	// The restart.
	store.crashAt = 0
	desk.resetCounts()
	desk.onQuery = nil
	clock.Advance(time.Minute)
	store.poll(t, newRangedSync(desk, clock, 3, 10), horizon)
	for r := range rangeRequests(desk) {
		for id := r.After + 1; id <= min(r.Through, 200); id++ {
			if done(id) {
				t.Errorf("resumed sync asked for range %v, which includes committed id %d", r, id)
				break
			}
		}
	}
	if len(store.tickets) != 120 || len(store.delivered) != 120 {
		t.Errorf("%d deliveries of %d tickets (%d before the crash): a committed range was delivered again, or tickets were lost",
			len(store.delivered), len(store.tickets), deliveredBefore)
	}
	if cur := cursorOf(t, store.cursor); cur.Initial() || !cur.Since.Equal(toyStart.Add(-5*time.Minute)) {
		t.Errorf("cursor after the resumed sync %+v: the first pass start must stay", cur)
	}
}

func TestRangedSyncStopsAtTheFirstError(t *testing.T) {
	desk := newToyDesk()
	seedDesk(desk, 80)
	desk.count = 80
	horizon := toyStart.Add(-1000 * time.Hour)
	store := newToyStore()
	sy := newRangedSync(desk, &toyClock{now: toyStart}, 3, 10)
	broken := Tickets[*toyItem](failingComplete{toyTickets{desk: desk}, 35})
	sy.Tickets = broken
	err := sy.Poll(context.Background(), horizon, nil, store.emit)
	if err == nil || err.Error() != "complete: ticket 35 is gone" {
		t.Fatalf("poll error %v, want the Complete failure", err)
	}
	for _, id := range store.delivered {
		if v, _ := strconv.Atoi(id); v > 30 && v <= 40 {
			t.Fatalf("ticket %s of the failed range was committed", id)
		}
	}
	// The next poll resumes and finishes once the ticket is back.
	sy.Tickets = toyTickets{desk: desk}
	store.poll(t, sy, horizon)
	if len(store.tickets) != 80 {
		t.Errorf("%d tickets after the retry, want 80", len(store.tickets))
	}
}

// failingComplete fails the Complete call of the batch holding one ticket.
type failingComplete struct {
	toyTickets
	id int
}

func (f failingComplete) Complete(ctx context.Context, batch []*toyItem) error {
	for _, it := range batch {
		if it.t.ID == strconv.Itoa(f.id) {
			return fmt.Errorf("complete: ticket %d is gone", f.id)
		}
	}
	return f.toyTickets.Complete(ctx, batch)
}

func TestPlanRangesAroundDoneRanges(t *testing.T) {
	tests := []struct {
		name    string
		ids     []int64
		after   int64
		islands []IDRange
		want    []plannedRange
	}{
		{"fresh", []int64{1, 2, 3, 4, 5, 6, 7}, 0, nil, []plannedRange{
			{IDRange: IDRange{0, 3}}, {IDRange: IDRange{3, 6}}, {IDRange: IDRange{6, unbounded}},
		}},
		{"a multiple of the range size: no empty range after the last", []int64{1, 2, 3, 4, 5, 6}, 0, nil, []plannedRange{
			{IDRange: IDRange{0, 3}}, {IDRange: IDRange{3, unbounded}},
		}},
		{"nothing in scope", nil, 0, nil, []plannedRange{{IDRange: IDRange{0, unbounded}}}},
		{"resumed above a prefix and around islands", []int64{11, 12, 13, 14, 15, 16, 17, 18, 19, 30, 31}, 10,
			[]IDRange{{13, 15}, {20, 29}, {31, unbounded}}, []plannedRange{
				{IDRange: IDRange{10, 13}}, {IDRange: IDRange{15, 18}}, {IDRange: IDRange{18, 20}}, {IDRange: IDRange{29, 31}},
			}},
		{"an island with nothing between it and the next", []int64{5, 6, 30}, 0,
			[]IDRange{{6, 20}, {21, 25}}, []plannedRange{
				{IDRange: IDRange{0, 6}}, {IDRange: IDRange{20, 21}, empty: true}, {IDRange: IDRange{25, unbounded}},
			}},
		{"the open range done before the restart", []int64{1, 2}, 0,
			[]IDRange{{2, unbounded}}, []plannedRange{{IDRange: IDRange{0, 2}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desk := newToyDesk()
			for _, id := range tt.ids {
				desk.add(id, toyStart, true)
			}
			sy := newRangedSync(desk, &toyClock{now: toyStart}, 2, 3)
			out := make(chan plannedRange, 100)
			cur := Cursor{AfterID: tt.after, DoneRanges: tt.islands}
			if err := sy.planRanges(context.Background(), toyStart, cur, func() error { return nil }, out); err != nil {
				t.Fatal(err)
			}
			close(out)
			var got []plannedRange
			for r := range out {
				got = append(got, r)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ranges %+v\nwant   %+v", got, tt.want)
			}
		})
	}
}

func TestMarkDoneMergesIntoTheCursor(t *testing.T) {
	tests := []struct {
		name      string
		after     int64
		done      []IDRange
		add       IDRange
		wantAfter int64
		wantDone  []IDRange
	}{
		{"first range", 0, nil, IDRange{0, 10}, 10, nil},
		{"above a gap", 0, nil, IDRange{10, 20}, 0, []IDRange{{10, 20}}},
		{"closes the gap", 0, []IDRange{{10, 20}, {30, 40}}, IDRange{0, 10}, 20, []IDRange{{30, 40}}},
		{"joins two islands", 5, []IDRange{{10, 20}, {30, 40}}, IDRange{20, 30}, 5, []IDRange{{10, 40}}},
		{"the open range last", 0, []IDRange{{10, unbounded}}, IDRange{0, 10}, unbounded, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Cursor{AfterID: tt.after, DoneRanges: slices.Clone(tt.done)}
			c.markDone(tt.add)
			if c.AfterID != tt.wantAfter || !slices.Equal(c.DoneRanges, tt.wantDone) {
				t.Errorf("after %d, done %v; want %d, %v", c.AfterID, c.DoneRanges, tt.wantAfter, tt.wantDone)
			}
		})
	}
}
