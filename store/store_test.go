package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

var (
	t0      = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	horizon = t0.Add(-24 * time.Hour)
	ctx     = context.Background()
)

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sd.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Horizon("demo", horizon); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// derived is ticket id as derivation hands it over: created at t0 on desk,
// resolved after 2h.
func derived(id, desk string) ticket.Derived {
	return ticket.Derived{
		ID: id, Updated: t0.Add(2 * time.Hour),
		Labels: ticket.Labels{Desk: desk, RequestType: "Access", Priority: "High"},
		Events: []ticket.Event{
			{Kind: ticket.EventCreated, ID: "created", At: t0},
			{Kind: ticket.EventResolved, ID: "resolved/1", At: t0.Add(2 * time.Hour), Seconds: 7200},
		},
		State:   ticket.State{Category: ticket.CategoryDone, Created: t0},
		History: ticket.History{Created: t0, Categories: []ticket.CategoryAt{{At: t0, Category: ticket.CategoryNew}, {At: t0.Add(2 * time.Hour), Category: ticket.CategoryDone}}},
	}
}

func commit(t *testing.T, s *Store, c Commit) Result {
	t.Helper()
	res, err := s.Commit(ctx, "demo", c)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ledger(t *testing.T, s *Store) map[string]Ticket {
	t.Helper()
	out := map[string]Ticket{}
	if err := s.Scan(func(source string, tk Ticket) error {
		out[source+"/"+tk.ID] = tk
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLedgerCountsEachEventOnce(t *testing.T) {
	s, path := newStore(t)
	res := commit(t, s, Commit{Tickets: []ticket.Derived{derived("1", "IT")}, Cursor: []byte("c1")})
	if res.Counted != 2 || len(res.Tickets) != 1 || len(res.Tickets[0].Ledger) != 2 {
		t.Fatalf("first commit %+v", res)
	}
	if res := commit(t, s, Commit{Tickets: []ticket.Derived{derived("1", "IT")}}); res.Counted != 0 || len(res.Tickets) != 0 {
		t.Fatalf("re-delivery changed %+v", res)
	}
	// A desk move keeps the counted entries under the old labels.
	moved := derived("1", "HR")
	moved.Events = append(moved.Events, ticket.Event{Kind: ticket.EventReopened, ID: "reopened/1", At: t0.Add(3 * time.Hour)})
	res = commit(t, s, Commit{Tickets: []ticket.Derived{moved}})
	if res.Counted != 1 || res.Tickets[0].Labels.Desk != "HR" || res.Tickets[0].Ledger[0].Labels.Desk != "HR" {
		t.Fatalf("after a desk move %+v", res)
	}
	_ = s.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tk := ledger(t, s)["demo/1"]
	var desks []string
	for _, e := range tk.Ledger {
		desks = append(desks, e.Labels.Desk+":"+string(e.Kind))
		if e.At.IsZero() {
			t.Errorf("entry %s lost its time", e.ID)
		}
	}
	if want := []string{"IT:created", "IT:resolved", "HR:reopened"}; !slices.Equal(desks, want) {
		t.Fatalf("ledger after restart %v, want %v", desks, want)
	}
	if c, _ := s.Cursor("demo"); string(c) != "c1" {
		t.Fatalf("cursor after restart = %q", c)
	}
	if got, _ := tk.History.CategoryAt(t0.Add(time.Hour)); got != ticket.CategoryNew {
		t.Fatalf("history lost: category at t0+1h = %q", got)
	}
}

func TestHorizonIsFixedAtFirstStart(t *testing.T) {
	s, path := newStore(t)
	later := horizon.Add(48 * time.Hour)
	if h, _ := s.Horizon("demo", later); !h.Equal(horizon) {
		t.Fatalf("horizon moved to %v", h)
	}
	_ = s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if h, _ := s2.Horizon("demo", later); !h.Equal(horizon) {
		t.Fatalf("horizon after restart %v, want %v", h, horizon)
	}
}

func TestLabelsKeepTheirFirstSeenOrder(t *testing.T) {
	s, path := newStore(t)
	res := commit(t, s, Commit{Labels: []LabelValue{{"desk", "IT"}, {"desk", "HR"}, {"desk", "IT"}, {"priority", ""}}})
	if len(res.Labels) != 3 {
		t.Fatalf("registered %v", res.Labels)
	}
	commit(t, s, Commit{Labels: []LabelValue{{"desk", "FAC"}, {"desk", "HR"}}})
	_ = s.Close()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	order, err := s.LabelOrder()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order["desk"], []string{"IT", "HR", "FAC"}) || !slices.Equal(order["priority"], []string{""}) {
		t.Fatalf("order %v", order)
	}
}

func TestScopeMarksTicketsGone(t *testing.T) {
	s, _ := newStore(t)
	commit(t, s, Commit{Tickets: []ticket.Derived{derived("1", "IT"), derived("2", "IT"), derived("3", "IT")}})
	// 3 is missing from the scope but delivered in the same batch: kept.
	res := commit(t, s, Commit{Tickets: []ticket.Derived{derived("3", "FAC")}, InScope: []string{"1"}})
	if res.Dropped != 1 {
		t.Fatalf("dropped %d, want 1", res.Dropped)
	}
	got := ledger(t, s)
	if !got["demo/2"].Gone || got["demo/1"].Gone || got["demo/3"].Gone || len(got["demo/2"].Ledger) != 2 {
		t.Fatalf("after reconciliation: %+v", got)
	}
	if res := commit(t, s, Commit{InScope: []string{"1", "3"}}); res.Dropped != 0 {
		t.Fatalf("a gone ticket was dropped again: %+v", res)
	}
}

func TestCancelledCommitWritesNothing(t *testing.T) {
	s, _ := newStore(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Commit(cctx, "demo", Commit{Tickets: []ticket.Derived{derived("1", "IT")}, Cursor: []byte("c")}); err == nil {
		t.Fatal("commit with a cancelled context succeeded")
	}
	if c, _ := s.Cursor("demo"); c != nil {
		t.Fatalf("cursor moved to %q", c)
	}
}

func TestCommitNeedsAHorizon(t *testing.T) {
	s, _ := newStore(t)
	if _, err := s.Commit(ctx, "unknown", Commit{}); err == nil || !strings.Contains(err.Error(), "horizon") {
		t.Fatalf("error %v", err)
	}
}

// A reader opens a store no exporter holds without changing it; its writes
// fail, a store the exporter holds is refused naming the lock, and a
// missing file is an error, not a new store.
func TestReadOnlyOpen(t *testing.T) {
	s, path := newStore(t)
	commit(t, s, Commit{Tickets: []ticket.Derived{derived("1", "IT")}})
	if _, err := Open(path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("read-only open beside the writer: %v", err)
	}
	_ = s.Close()
	r, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(ledger(t, r)) != 1 {
		t.Fatal("read-only store sees no ticket")
	}
	if _, err := r.Commit(ctx, "demo", Commit{}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("write to a read-only store: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.db"), Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing file succeeded")
	}
}

func TestIncompatibleFormatIsRefused(t *testing.T) {
	for _, version := range []string{"1", "99"} {
		path := filepath.Join(t.TempDir(), "sd.db")
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			return b.Put(keyFormat, []byte(version))
		}); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
		_, err = Open(path, Options{})
		if !errors.Is(err, ErrIncompatibleFormat) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--store.rebuild") {
			t.Fatalf("format %s: error %v", version, err)
		}
	}
}

func TestDamagedFileNamesTheFileAndTheFix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sd.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a bolt file ", 1024)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--store.rebuild") {
		t.Fatalf("error %v", err)
	}
}
