package pipeline

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/poller"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

var (
	t0      = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	horizon = t0.Add(-24 * time.Hour)
	ctx     = context.Background()
	opts    = aggregate.Options{LabelValueLimit: 100, FirstResponseBuckets: []float64{300, 3600}, ResolutionBuckets: []float64{3600, 86400}}
)

// The recorder's tests exercise the whole stage: derivation, the store's
// ledger and the aggregates, through the snapshot the collector reads.

func openStore(t *testing.T, path string, o aggregate.Options) *Recorder {
	t.Helper()
	s, err := OpenRecorder(path, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.Horizon("demo", horizon); err != nil {
		t.Fatal(err)
	}
	return s
}

func newStore(t *testing.T) (*Recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sd.db")
	s := openStore(t, path, opts)
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// resolvedTicket is created at t0, answered after 10m, resolved after 2h and rated 4.
func resolvedTicket(id, desk string) ticket.Ticket {
	return ticket.Ticket{
		ID: id, Key: desk + "-" + id, Desk: desk, RequestType: "Access", Priority: "High",
		Created: t0, Updated: t0.Add(3 * time.Hour), StatusCategory: ticket.CategoryDone,
		Transitions:  []ticket.Transition{{At: t0.Add(2 * time.Hour), From: ticket.CategoryNew, To: ticket.CategoryDone}},
		Comments:     []ticket.Comment{{At: t0.Add(10 * time.Minute), Author: ticket.AuthorAgent, Public: true}},
		SLAs:         []ticket.SLA{{Name: "Time to resolution", Completed: []ticket.SLACycle{{Start: t0, Stop: t0.Add(2 * time.Hour), Breached: true}}}},
		Satisfaction: &ticket.Rating{Value: 4, At: t0.Add(3 * time.Hour)},
	}
}

func openTicketFacts(id, desk string, created time.Time) ticket.Ticket {
	return ticket.Ticket{
		ID: id, Key: desk + "-" + id, Desk: desk, RequestType: "Access", Priority: "High",
		Created: created, Updated: created, StatusCategory: ticket.CategoryNew,
		SLAs: []ticket.SLA{{Name: "Time to first response", Ongoing: &ticket.OngoingCycle{Start: created, BreachAt: created.Add(time.Hour)}}},
	}
}

func labels(desk string) aggregate.TicketLabels {
	return aggregate.TicketLabels{Source: "demo", Desk: desk, RequestType: "Access", Priority: "High"}
}

func apply(t *testing.T, s *Recorder, b ticket.Batch) poller.Result {
	t.Helper()
	res, err := s.Commit(ctx, "demo", horizon, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	s.Publish()
	return res
}

func TestRedeliveryAddsNothing(t *testing.T) {
	s, _ := newStore(t)
	batch := ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("1", "IT"), resolvedTicket("2", "IT")}}
	if res := apply(t, s, batch); res.Counted != 10 {
		t.Fatalf("first delivery counted %d events, want 10", res.Counted)
	}
	for i := 0; i < 3; i++ {
		if res := apply(t, s, batch); res.Counted != 0 {
			t.Fatalf("re-delivery %d counted %d events", i, res.Counted)
		}
	}
	ser := s.Snapshot().Tickets[labels("IT")]
	if ser.Created != 2 || ser.Resolved != 2 || ser.FirstResponse.Count != 2 || ser.Resolution.Count != 2 {
		t.Fatalf("series after re-delivery: %+v", ser)
	}
	if got := ser.FirstResponse.Buckets[3600]; got != 2 {
		t.Errorf("first responses within 1h = %d, want 2", got)
	}
	if got := ser.Resolution.Buckets[3600]; got != 0 {
		t.Errorf("resolutions within 1h = %d, want 0", got)
	}
	sat := s.Snapshot().Satisfaction[aggregate.SatisfactionLabels{Source: "demo", Desk: "IT", RequestType: "Access"}]
	if sat.Count != 2 || sat.Sum != 8 || sat.Buckets[3] != 0 || sat.Buckets[4] != 2 {
		t.Errorf("satisfaction: %+v", sat)
	}
	sla := s.Snapshot().SLACycles[aggregate.SLALabels{TicketLabels: labels("IT"), SLA: "Time to resolution"}]
	if sla.Breached != 2 || sla.Met != 0 {
		t.Errorf("sla cycles: %+v", sla)
	}
}

func TestRestartContinuesWithoutDecrease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sd.db")
	s := openStore(t, path, opts)
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("1", "IT")}, Cursor: []byte("c1")})
	before := *s.Snapshot().Tickets[labels("IT")]
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, path, opts)
	defer s.Close()
	after := s.Snapshot().Tickets[labels("IT")]
	if after.Created != before.Created || after.Resolved != before.Resolved || after.FirstResponse.Sum != before.FirstResponse.Sum {
		t.Fatalf("restart changed counters: before %+v after %+v", before, *after)
	}
	if c, _ := s.store.Cursor("demo"); string(c) != "c1" {
		t.Fatalf("cursor after restart = %q", c)
	}
	// Same ticket again after the restart, now reopened: only the reopen is new.
	tk := resolvedTicket("1", "IT")
	tk.Transitions = append(tk.Transitions, ticket.Transition{At: t0.Add(4 * time.Hour), From: ticket.CategoryDone, To: ticket.CategoryIndeterminate})
	tk.StatusCategory = ticket.CategoryIndeterminate
	if res := apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{tk, resolvedTicket("2", "IT")}}); res.Counted != 6 {
		t.Fatalf("counted %d, want 1 reopen + 5 for the new ticket", res.Counted)
	}
	got := s.Snapshot().Tickets[labels("IT")]
	if got.Reopened != 1 || got.Created != 2 || got.Resolved != 2 {
		t.Fatalf("after restart and more events: %+v", got)
	}
}

func TestHorizonIsFixedAtFirstStart(t *testing.T) {
	s, path := newStore(t)
	later := horizon.Add(48 * time.Hour)
	if h, _ := s.store.Horizon("demo", later); !h.Equal(horizon) {
		t.Fatalf("horizon moved to %v", h)
	}
	_ = s.Close()
	s2 := openStore(t, path, opts)
	defer s2.Close()
	if h, _ := s2.store.Horizon("demo", later); !h.Equal(horizon) {
		t.Fatalf("horizon after restart %v, want %v", h, horizon)
	}
	// Events before the horizon do not count; the ticket is still tracked.
	old := resolvedTicket("9", "IT")
	old.Created = horizon.Add(-time.Hour)
	old.Transitions[0].At = horizon.Add(-time.Minute)
	old.Comments[0].At = horizon.Add(-30 * time.Minute)
	old.SLAs[0].Completed[0] = ticket.SLACycle{Start: old.Created, Stop: horizon.Add(-time.Minute)}
	old.Satisfaction = &ticket.Rating{Value: 5, At: horizon.Add(time.Minute)}
	res, err := s2.Commit(ctx, "demo", horizon, nil, ticket.Batch{Tickets: []ticket.Ticket{old}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Counted != 1 {
		t.Fatalf("counted %d events of a pre-horizon ticket, want only its post-horizon rating", res.Counted)
	}
}

func TestGaugesAndScope(t *testing.T) {
	s, _ := newStore(t)
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{
		openTicketFacts("1", "IT", t0),
		openTicketFacts("2", "IT", t0.Add(-72*time.Hour)), // before the horizon: a gauge, not an event
		resolvedTicket("3", "IT"),
	}})
	snap := s.Snapshot()
	if got := snap.Open[aggregate.OpenLabels{TicketLabels: labels("IT"), StatusCategory: "new"}]; got != 2 {
		t.Fatalf("open = %v, want 2", got)
	}
	if got := snap.Awaiting[labels("IT")]; got != 2 {
		t.Fatalf("awaiting = %v, want 2", got)
	}
	desk := aggregate.DeskLabels{Source: "demo", Desk: "IT"}
	if !snap.OldestOpen[desk].Equal(t0.Add(-72*time.Hour)) || !snap.OldestAwaiting[desk].Equal(t0.Add(-72*time.Hour)) {
		t.Fatalf("oldest open %v awaiting %v", snap.OldestOpen[desk], snap.OldestAwaiting[desk])
	}
	bs := snap.SLABreached[aggregate.DeskSLALabels{Source: "demo", Desk: "IT", SLA: "Time to first response"}]
	if n := bs.BreachedAt(t0.Add(30 * time.Minute)); n != 1 {
		t.Fatalf("breached at t0+30m = %d, want 1 (the old ticket)", n)
	}
	if n := bs.BreachedAt(t0.Add(time.Hour)); n != 2 {
		t.Fatalf("breached at t0+1h = %d, want 2", n)
	}
	if snap.Tracked["demo"] != 3 || snap.Tickets[labels("IT")].Created != 2 {
		t.Fatalf("tracked %d created %v", snap.Tracked["demo"], snap.Tickets[labels("IT")].Created)
	}

	// Ticket 2 leaves the scope: out of the gauges, its counts untouched.
	res := apply(t, s, ticket.Batch{InScope: []string{"1", "3"}})
	if res.Dropped != 1 {
		t.Fatalf("dropped %d, want 1", res.Dropped)
	}
	snap = s.Snapshot()
	if got := snap.Open[aggregate.OpenLabels{TicketLabels: labels("IT"), StatusCategory: "new"}]; got != 1 {
		t.Fatalf("open after reconciliation = %v, want 1", got)
	}
	if snap.Tracked["demo"] != 2 || snap.Tickets[labels("IT")].Created != 2 {
		t.Fatalf("after reconciliation tracked %d created %v", snap.Tracked["demo"], snap.Tickets[labels("IT")].Created)
	}
	// Answering ticket 1 clears it from awaiting.
	tk := openTicketFacts("1", "IT", t0)
	tk.Comments = []ticket.Comment{{At: t0.Add(time.Minute), Author: ticket.AuthorAgent, Public: true}}
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{tk}})
	if got := s.Snapshot().Awaiting[labels("IT")]; got != 0 {
		t.Fatalf("awaiting after answer = %v", got)
	}
	if _, ok := s.Snapshot().OldestAwaiting[desk]; ok {
		t.Fatal("oldest awaiting still set with nothing awaiting")
	}
}

func TestLabelValuesFoldIntoOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sd.db")
	o := opts
	o.LabelValueLimit = 2
	s := openStore(t, path, o)
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("1", "A"), resolvedTicket("2", "B"), resolvedTicket("3", "C"), resolvedTicket("4", "D")}})
	snap := s.Snapshot()
	if snap.Tickets[labels("other")].Created != 2 || snap.Tickets[labels("A")].Created != 1 {
		t.Fatalf("folding: %+v", snap.Tickets)
	}
	_ = s.Close()
	// The admitted set is persisted: after a restart C still folds, A does not.
	s = openStore(t, path, o)
	defer s.Close()
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("5", "C"), resolvedTicket("6", "A")}})
	snap = s.Snapshot()
	if snap.Tickets[labels("other")].Created != 3 || snap.Tickets[labels("A")].Created != 2 {
		t.Fatalf("folding after restart: other=%v A=%v", snap.Tickets[labels("other")].Created, snap.Tickets[labels("A")].Created)
	}
}

func TestInvalidTicketIsSkippedNotFatal(t *testing.T) {
	s, _ := newStore(t)
	bad := resolvedTicket("2", "IT")
	bad.StatusCategory = "undefined"
	res := apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("1", "IT"), bad}, Cursor: []byte("c")})
	if len(res.Skipped) != 1 || res.Applied != 1 {
		t.Fatalf("result %+v", res)
	}
	if c, _ := s.store.Cursor("demo"); string(c) != "c" {
		t.Fatalf("cursor %q", c)
	}
}

func TestCancelledApplyCommitsNothing(t *testing.T) {
	s, _ := newStore(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Commit(cctx, "demo", horizon, nil, ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("1", "IT")}, Cursor: []byte("c")}); err == nil {
		t.Fatal("apply with a cancelled context succeeded")
	}
	if c, _ := s.store.Cursor("demo"); c != nil {
		t.Fatalf("cursor moved to %q", c)
	}
}

func TestReconfigureRebuildsHistograms(t *testing.T) {
	s, _ := newStore(t)
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("1", "IT")}})
	o := opts
	o.FirstResponseBuckets = []float64{60, 900}
	if err := s.Reconfigure(o); err != nil {
		t.Fatal(err)
	}
	h := s.Snapshot().Tickets[labels("IT")].FirstResponse
	if h.Buckets[60] != 0 || h.Buckets[900] != 1 || h.Count != 1 {
		t.Fatalf("rebuilt histogram %+v", h)
	}
}

func TestActiveSourcesLimitTheSnapshot(t *testing.T) {
	s, _ := newStore(t)
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("1", "IT")}})
	s.SetActiveSources([]string{"other-source"})
	snap := s.Snapshot()
	if len(snap.Tickets) != 0 || snap.Tracked["other-source"] != 0 {
		t.Fatalf("inactive source exported: %+v", snap.Tickets)
	}
	if _, ok := snap.Tracked["other-source"]; !ok {
		t.Fatal("active source without tickets should export tracked 0")
	}
}

func TestEmptyLabelValuesAreAdmitted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sd.db")
	s := openStore(t, path, opts)
	tk := resolvedTicket("1", "IT")
	tk.Priority, tk.RequestType = "", ""
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{tk}})
	_ = s.Close()
	s = openStore(t, path, opts)
	defer s.Close()
	if got := s.Snapshot().Tickets[aggregate.TicketLabels{Source: "demo", Desk: "IT"}]; got == nil || got.Created != 1 {
		t.Fatalf("empty label values after restart: %+v", s.Snapshot().Tickets)
	}
}

// A store cut short or emptied must be refused with the file and the fix
// named, never crash the process or silently start over.
func TestTruncatedOrEmptyStoreIsRefused(t *testing.T) {
	src := filepath.Join(t.TempDir(), "sd.db")
	s := openStore(t, src, opts)
	var batch []ticket.Ticket
	for i := range 3000 {
		batch = append(batch, resolvedTicket(strconv.Itoa(i), "IT"))
	}
	apply(t, s, ticket.Batch{Tickets: batch})
	_ = s.Close()
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		size int
		want string
	}{
		{"empty", 0, "the file is empty"},
		{"cut inside the first meta page", 40, "no valid bbolt meta page"},
		{"first meta page only", 100, "truncated"},
		{"16 KiB", 16 * 1024, "truncated"},
		{"half", len(full) / 2, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sd.db")
			if err := os.WriteFile(path, full[:tc.size], 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := OpenRecorder(path, opts, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--store.rebuild") {
				t.Fatalf("error %v, want one naming %s, %q and --store.rebuild", err, path, tc.want)
			}
		})
	}
	if _, err := OpenRecorder(src, opts, nil); err != nil {
		t.Fatalf("the intact store was refused: %v", err)
	}
}

// Random bytes over any one page of the file: a page the store reads must be
// refused with the file and the fix named — never a crash, which is what a
// bad page header did before Open recovered from bbolt's panics and faults —
// and a page it does not read (freed by copy-on-write, or past the last
// used page) must change nothing.
func TestEveryDamagedPageIsRefusedOrHarmless(t *testing.T) {
	src := filepath.Join(t.TempDir(), "sd.db")
	s := openStore(t, src, opts)
	for round := range 3 { // rewriting tickets leaves freed pages behind
		var batch []ticket.Ticket
		for i := range 400 {
			batch = append(batch, resolvedTicket(strconv.Itoa(round*300+i), "IT"))
		}
		apply(t, s, ticket.Batch{Tickets: batch})
	}
	want := s.Snapshot().Tickets[labels("IT")].Created
	_ = s.Close()
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	types := pageTypes(t, src)

	const pageSize = 4096
	tried := map[string]int{}
	for id := 0; (id+1)*pageSize <= len(full); id++ {
		damaged := bytes.Clone(full)
		rng := rand.New(rand.NewPCG(uint64(id), 1))
		for i := range pageSize {
			damaged[id*pageSize+i] = byte(rng.UintN(256))
		}
		path := filepath.Join(t.TempDir(), "sd.db")
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		typ := types[id]
		tried[typ]++
		st, err := OpenRecorder(path, opts, nil)
		switch typ {
		case "branch", "leaf", "freelist":
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--store.rebuild") {
				t.Errorf("page %d (%s) damaged: error %v, want one naming the file and --store.rebuild", id, typ, err)
			}
		case "free", "":
			if err != nil {
				t.Errorf("page %d (%s) damaged: %v; nothing reads it", id, typ, err)
			} else if got := st.Snapshot().Tickets[labels("IT")].Created; got != want {
				t.Errorf("page %d (%s) damaged: created %v, want %v", id, typ, got, want)
			}
		}
		// A damaged meta page is either refused or bbolt falls back to
		// the other, older one; both are correct.
		if err == nil {
			_ = st.Close()
		}
	}
	t.Logf("pages damaged, by type: %v", tried)
	for _, typ := range []string{"branch", "leaf", "freelist", "free"} {
		if tried[typ] == 0 {
			t.Errorf("no %s page in the store: the test no longer covers it", typ)
		}
	}
}

// pageTypes maps each page of a bbolt file to its type; pages past the last
// used one are missing (type "").
func pageTypes(t *testing.T, path string) map[int]string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	types := map[int]string{}
	if err := db.View(func(tx *bolt.Tx) error {
		for id := 0; int64(id+1)*4096 <= tx.Size(); id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info != nil {
				types[id] = info.Type
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return types
}

// Raising the label limit re-aggregates from the ledger, so values folded
// into "other" get their own series at once rather than when one of their
// tickets next changes; lowering it folds the latest values again.
func TestChangedLabelLimitAppliesToHistoryAtOnce(t *testing.T) {
	s, _ := newStore(t)
	o := opts
	o.LabelValueLimit = 2
	if err := s.Reconfigure(o); err != nil {
		t.Fatal(err)
	}
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("1", "A"), resolvedTicket("2", "B"), resolvedTicket("3", "C"), resolvedTicket("4", "D")}})
	if got := s.Snapshot().Tickets[labels("other")].Created; got != 2 {
		t.Fatalf("other = %v before raising the limit, want 2", got)
	}
	o.LabelValueLimit = 3
	if err := s.Reconfigure(o); err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	if snap.Tickets[labels("C")] == nil || snap.Tickets[labels("C")].Created != 1 || snap.Tickets[labels("other")].Created != 1 {
		t.Fatalf("after raising the limit to 3: C=%+v other=%+v", snap.Tickets[labels("C")], snap.Tickets[labels("other")])
	}
	o.LabelValueLimit = 1
	if err := s.Reconfigure(o); err != nil {
		t.Fatal(err)
	}
	snap = s.Snapshot()
	if snap.Tickets[labels("A")].Created != 1 || snap.Tickets[labels("other")].Created != 3 || snap.Tickets[labels("B")] != nil {
		t.Fatalf("after lowering the limit to 1: %+v", snap.Tickets)
	}
}
