package aggregate_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// ledger is a store as Load reads it, built up by the test.
type ledger struct {
	order   map[string][]string
	tickets map[string]*store.Ticket // by source/id
}

func (l *ledger) LabelOrder() (map[string][]string, error) { return l.order, nil }

func (l *ledger) Scan(fn func(string, store.Ticket) error) error {
	keys := make([]string, 0, len(l.tickets))
	for k := range l.tickets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t := l.tickets[k]
		if err := fn(sourceOf(k), *t); err != nil {
			return err
		}
	}
	return nil
}

func sourceOf(key string) string {
	for i := range key {
		if key[i] == '/' {
			return key[:i]
		}
	}
	return key
}

var replayOptions = aggregate.Options{
	LabelValueLimit:      2,
	FirstResponseBuckets: []float64{60, 600},
	ResolutionBuckets:    []float64{3600},
}

// TestReplayEqualsBuild drives a replay and, in parallel, a ledger through
// random steps; after every step the replay's snapshot must equal what
// Build makes of the same ledger and states loaded from scratch (the live
// path), and its changes must be exactly the difference to the last step.
func TestReplayEqualsBuild(t *testing.T) {
	order := map[string][]string{
		"desk":         {"IT", "HR", "FAC"},
		"request_type": {"a", "b", "c"},
		"priority":     {"P1", "P2", "P3"},
		"sla":          {"first", "resolve"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(vs []string) string { return vs[rng.IntN(len(vs))] }
	l := &ledger{order: order, tickets: map[string]*store.Ticket{}}
	r := aggregate.NewReplay(replayOptions, order)
	base := time.UnixMilli(1_700_000_000_000).UTC()
	kinds := []ticket.EventKind{ticket.EventCreated, ticket.EventResolved, ticket.EventReopened,
		ticket.EventFirstResponse, ticket.EventSatisfaction, ticket.EventSLACycle}
	var prev *aggregate.Snapshot
	for step := range 60 {
		now := base.Add(time.Duration(step) * time.Minute)
		for range rng.IntN(6) {
			source, id := pick([]string{"jira", "demo"}), fmt.Sprint(rng.IntN(30))
			tk := l.ticket(source, id)
			e := store.Entry{ID: fmt.Sprint(len(tk.Ledger)), Kind: kinds[rng.IntN(len(kinds))], At: now,
				Labels: ticket.Labels{Desk: pick(order["desk"]), RequestType: pick(order["request_type"]), Priority: pick(order["priority"])},
				Value:  float64(rng.IntN(5000000)) / 1000, SLA: pick(order["sla"]), Breached: rng.IntN(2) == 0}
			if e.Kind == ticket.EventSatisfaction {
				e.Value = float64(1 + rng.IntN(5))
			}
			tk.Ledger = append(tk.Ledger, e)
			r.Count(source, e)
		}
		for range rng.IntN(8) {
			source, id := pick([]string{"jira", "demo"}), fmt.Sprint(rng.IntN(30))
			tk := l.ticket(source, id)
			tk.Labels = ticket.Labels{Desk: pick(order["desk"]), RequestType: pick(order["request_type"]), Priority: pick(order["priority"])}
			tk.State = ticket.State{Category: ticket.CategoryDone, Created: base.Add(-time.Duration(rng.IntN(1000)) * time.Second)}
			if rng.IntN(3) > 0 {
				tk.State.Open = true
				tk.State.Category = ticket.Category(pick([]string{string(ticket.CategoryNew), string(ticket.CategoryIndeterminate)}))
				tk.State.AwaitingFirstResponse = rng.IntN(2) == 0
			}
			if err := r.SetTicket(source, id, tk.Labels, tk.State); err != nil {
				t.Fatal(err)
			}
		}
		changed, removed := r.Step()
		snap := r.Snapshot()

		want := aggregate.New(replayOptions)
		if err := want.Load(replayOptions, l); err != nil {
			t.Fatal(err)
		}
		ws := want.Build()
		ws.Tracked = snap.Tracked // the replay leaves scope to the backfill
		if !reflect.DeepEqual(snap, ws) {
			t.Fatalf("step %d: replay\n%s\nBuild\n%s", step, dump(snap), dump(ws))
		}
		checkDelta(t, step, prev, snap, changed, removed)
		prev = snap
	}
}

func (l *ledger) ticket(source, id string) *store.Ticket {
	k := source + "/" + id
	tk := l.tickets[k]
	if tk == nil {
		tk = &store.Ticket{ID: id, State: ticket.State{Category: ticket.CategoryDone}}
		l.tickets[k] = tk
	}
	return tk
}

// checkDelta wants changed to hold every series that is new or changed
// (and every series holding an instant, which the collector ages), removed
// every series gone, and nothing else.
func checkDelta(t *testing.T, step int, prev, cur, changed, removed *aggregate.Snapshot) {
	t.Helper()
	pv, cv, chv, rmv := reflect.ValueOf(prev), reflect.ValueOf(cur).Elem(), reflect.ValueOf(changed).Elem(), reflect.ValueOf(removed).Elem()
	for i := range cv.NumField() {
		name := cv.Type().Field(i).Name
		cm, chm, rmm := cv.Field(i), chv.Field(i), rmv.Field(i)
		var pm reflect.Value
		if prev != nil {
			pm = pv.Elem().Field(i)
		}
		instant := cm.Type().Elem() == reflect.TypeFor[time.Time]() || cm.Type().Elem() == reflect.TypeFor[*aggregate.BreachState]()
		it := cm.MapRange()
		for it.Next() {
			var old reflect.Value
			if pm.IsValid() {
				old = pm.MapIndex(it.Key())
			}
			differs := !old.IsValid() || !reflect.DeepEqual(old.Interface(), it.Value().Interface()) || instant
			got := chm.MapIndex(it.Key())
			switch {
			case differs && !got.IsValid():
				t.Errorf("step %d: %s[%v] changed but is not in changed", step, name, it.Key())
			case got.IsValid() && !reflect.DeepEqual(got.Interface(), it.Value().Interface()):
				t.Errorf("step %d: changed %s[%v] = %v, snapshot has %v", step, name, it.Key(), got, it.Value())
			}
		}
		it = chm.MapRange()
		for it.Next() {
			if !cm.MapIndex(it.Key()).IsValid() {
				t.Errorf("step %d: changed %s[%v] is not in the snapshot", step, name, it.Key())
			}
		}
		if pm.IsValid() {
			it = pm.MapRange()
			for it.Next() {
				if !cm.MapIndex(it.Key()).IsValid() && !rmm.MapIndex(it.Key()).IsValid() {
					t.Errorf("step %d: %s[%v] disappeared but is not in removed", step, name, it.Key())
				}
			}
		}
		it = rmm.MapRange()
		for it.Next() {
			if cm.MapIndex(it.Key()).IsValid() || !pm.IsValid() || !pm.MapIndex(it.Key()).IsValid() {
				t.Errorf("step %d: removed %s[%v] was not there before or still is", step, name, it.Key())
			}
		}
	}
}

func dump(s *aggregate.Snapshot) string {
	v := reflect.ValueOf(s).Elem()
	out := ""
	for i := range v.NumField() {
		var lines []string
		it := v.Field(i).MapRange()
		for it.Next() {
			val := it.Value().Interface()
			if p := it.Value(); p.Kind() == reflect.Pointer {
				val = p.Elem().Interface()
			}
			lines = append(lines, fmt.Sprintf("  %v = %v", it.Key(), val))
		}
		sort.Strings(lines)
		out += v.Type().Field(i).Name + "\n"
		for _, l := range lines {
			out += l + "\n"
		}
	}
	return out
}

// TestEverySnapshotFieldIsAMap guards the replay's generic handling: a
// replay sums and diffs Snapshot's maps field by field; a field of another
// kind would silently be left out of the backfill.
func TestEverySnapshotFieldIsAMap(t *testing.T) {
	st := reflect.TypeFor[aggregate.Snapshot]()
	for i := range st.NumField() {
		if st.Field(i).Type.Kind() != reflect.Map {
			t.Errorf("Snapshot.%s is a %s; Replay only handles maps (extend aggregate/replay.go)", st.Field(i).Name, st.Field(i).Type)
		}
	}
}

// TestReplayRefusesRunningSLAs: the state of running SLA cycles at a past
// instant is not stored, so a replay refuses states that carry them rather
// than sum something it cannot.
func TestReplayRefusesRunningSLAs(t *testing.T) {
	r := aggregate.NewReplay(replayOptions, map[string][]string{"desk": {"IT"}})
	err := r.SetTicket("jira", "1", ticket.Labels{Desk: "IT"}, ticket.State{Open: true, Category: ticket.CategoryNew,
		SLAs: []ticket.SLAState{{Name: "first", Breached: true}}})
	if err == nil {
		t.Fatal("a state with a running SLA cycle was accepted")
	}
}

// TestReplayNarrowsEveryCounterMap: Replay builds only the counter series a
// step counted into by narrowing Aggregates' maps by name. A map it does not
// know is exported whole at every step: still right, but a backfill of a
// large store gets slower by its size. Add a new counter map to
// Replay.counted, and here.
func TestReplayNarrowsEveryCounterMap(t *testing.T) {
	known := map[string]bool{
		"tickets": true, "sla": true, "sat": true, "groups": true, "teams": true, "cross": true, // narrowed
		"open": true, "live": true, "active": true, "ranks": true, // not counters
	}
	at := reflect.TypeFor[aggregate.Aggregates]()
	for i := range at.NumField() {
		if f := at.Field(i); f.Type.Kind() == reflect.Map && !known[f.Name] {
			t.Errorf("Aggregates.%s is a map Replay.counted does not narrow", f.Name)
		}
	}
}
