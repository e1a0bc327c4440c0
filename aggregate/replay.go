package aggregate

import (
	"fmt"
	"reflect"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Replay rebuilds, instant by instant, the snapshots the live pipeline
// would have published, for the backfill. Ledger entries are counted in
// time order by the live path's own count (same folding, buckets and exact
// sums) and tickets are set to the state they had at each instant, their
// gauges worked out by the live path's own addOpen; families added to count,
// addOpen or Snapshot come out of a replay without changes here.
//
// What Replay adds is bookkeeping that makes a step cost what changed in it:
// Build walks every open ticket, thousands of times too often for a history
// of 5-minute steps. Instead each open ticket's contribution (what addOpen
// writes for it alone) is kept and summed per series, so that a ticket's
// change costs a subtraction and an addition; and Step reports which series
// changed, so the exposition is rebuilt for those only.
//
// Replay is not safe for concurrent use. Live aggregation never uses it.
type Replay struct {
	agg *Aggregates // every counted entry; its open index stays empty
	// step counts the entries since the last Step: its snapshot's keys are
	// the series those entries changed.
	step        *Aggregates
	stepCounted bool

	fields  []replayField
	scratch reflect.Value // *Snapshot that addOpen writes one ticket's contribution into
	sums    []map[any]*gaugeSum
	touched map[gaugeRef]bool
	tickets map[ticketRef][]contribution

	stepped bool // Step ran before
}

// replayField describes one field of Snapshot.
type replayField struct {
	index int
	typ   reflect.Type // the map type
	// instant is set when the values are points in time (summed as the
	// earliest contribution), number when they are counts (summed).
	instant, number bool
	// clocked is set when the values hold a point in time: the collector
	// exports those relative to its clock (ages, breaches come due), so
	// their metrics change at every step even when the values do not.
	clocked bool
}

var (
	snapshotType = reflect.TypeFor[Snapshot]()
	timeType     = reflect.TypeFor[time.Time]()
)

type ticketRef struct{ source, id string }

type gaugeRef struct {
	field int
	key   any
}

// contribution is one series value addOpen wrote for one ticket.
type contribution struct {
	ref gaugeRef
	num float64
	at  int64 // UnixNano, for instant fields
}

// gaugeSum is one gauge series summed over the open tickets contributing.
type gaugeSum struct {
	n   int     // contributing tickets; the series exists while n > 0
	sum float64 // number fields
	// times counts the tickets that contributed each instant (UnixNano),
	// for instant fields; earliest is the smallest of them while n > 0.
	times    map[int64]int
	earliest int64
	exported bool // reported by the last Step, so its end must be too
}

// NewReplay returns an empty replay that folds label values by order, the
// store's first-seen order at the end of the history, which is also the
// order the live pipeline registered them in.
func NewReplay(opts Options, order map[string][]string) *Replay {
	r := &Replay{agg: New(opts), touched: map[gaugeRef]bool{}, tickets: map[ticketRef][]contribution{}}
	r.agg.ranks = newRanks(order)
	r.step = r.newStep()
	for i := range snapshotType.NumField() {
		f := snapshotType.Field(i)
		if f.Type.Kind() != reflect.Map {
			continue
		}
		elem := f.Type.Elem()
		r.fields = append(r.fields, replayField{
			index:   i,
			typ:     f.Type,
			instant: elem == timeType,
			number:  isNumber(elem.Kind()),
			clocked: holdsTime(elem, map[reflect.Type]bool{}),
		})
	}
	r.sums = make([]map[any]*gaugeSum, len(r.fields))
	for i := range r.sums {
		r.sums[i] = map[any]*gaugeSum{}
	}
	r.scratch = r.emptySnapshot()
	return r
}

func (r *Replay) newStep() *Aggregates {
	s := New(r.agg.opts)
	s.ranks = r.agg.ranks
	return s
}

func isNumber(k reflect.Kind) bool {
	switch k {
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func holdsTime(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == timeType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsTime(t.Elem(), seen)
	case reflect.Map:
		return holdsTime(t.Key(), seen) || holdsTime(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsTime(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// emptySnapshot returns a *Snapshot with every map made.
func (r *Replay) emptySnapshot() reflect.Value {
	s := reflect.New(snapshotType)
	for _, f := range r.fields {
		s.Elem().Field(f.index).Set(reflect.MakeMap(f.typ))
	}
	return s
}

// Count counts one ledger entry, as Apply does for a committed one.
func (r *Replay) Count(source string, e store.Entry) {
	r.agg.count(&entryTargets{}, source, e)
	r.step.count(&entryTargets{}, source, e)
	r.stepCounted = true
}

// SetTicket sets a ticket's state as of the instant being replayed: an open
// one counts in the gauges under labels, one that is not open (or has left
// the scope) does not. Only gauges whose values are counts or instants can
// be summed; a state that makes addOpen write anything else (running SLA
// cycles) is refused, since the store cannot say what they were at a past
// instant anyway.
func (r *Replay) SetTicket(source, id string, labels ticket.Labels, st ticket.State) error {
	ref := ticketRef{source, id}
	if old, ok := r.tickets[ref]; ok {
		for _, c := range old {
			r.sub(c)
		}
		delete(r.tickets, ref)
	}
	if !st.Open {
		return nil
	}
	s := r.scratch.Elem()
	for _, f := range r.fields {
		if m := s.Field(f.index); m.Len() > 0 {
			m.Clear()
		}
	}
	r.agg.addOpen(r.scratch.Interface().(*Snapshot), source, &openTicket{labels: labels, state: st})
	var items []contribution
	for fi, f := range r.fields {
		m := s.Field(f.index)
		if m.Len() == 0 {
			continue
		}
		if !f.number && !f.instant {
			return fmt.Errorf("ticket %s of %s: Snapshot.%s holds %s values, which a replay cannot sum",
				id, source, snapshotType.Field(f.index).Name, f.typ.Elem())
		}
		it := m.MapRange()
		for it.Next() {
			c := contribution{ref: gaugeRef{field: fi, key: it.Key().Interface()}}
			if f.instant {
				c.at = it.Value().Interface().(time.Time).UnixNano()
			} else {
				c.num = numberOf(it.Value())
			}
			items = append(items, c)
		}
	}
	for _, c := range items {
		r.add(c)
	}
	r.tickets[ref] = items
	return nil
}

func numberOf(v reflect.Value) float64 {
	switch {
	case v.CanFloat():
		return v.Float()
	case v.CanInt():
		return float64(v.Int())
	default:
		return float64(v.Uint())
	}
}

func (r *Replay) add(c contribution) {
	m := r.sums[c.ref.field]
	g := m[c.ref.key]
	if g == nil {
		g = &gaugeSum{}
		m[c.ref.key] = g
	}
	g.n++
	if r.fields[c.ref.field].instant {
		if g.times == nil {
			g.times = map[int64]int{}
		}
		g.times[c.at]++
		if g.n == 1 || c.at < g.earliest {
			g.earliest = c.at
		}
	} else {
		g.sum += c.num
	}
	r.touched[c.ref] = true
}

func (r *Replay) sub(c contribution) {
	g := r.sums[c.ref.field][c.ref.key]
	g.n--
	if r.fields[c.ref.field].instant {
		if g.times[c.at]--; g.times[c.at] == 0 {
			delete(g.times, c.at)
			if c.at == g.earliest {
				// The earliest went; the next is found by a pass, which
				// only the earliest ticket's change costs.
				first := true
				for at := range g.times {
					if first || at < g.earliest {
						g.earliest, first = at, false
					}
				}
			}
		}
	} else {
		g.sum -= c.num
	}
	r.touched[c.ref] = true
}

// value is the series' value as Build would export it.
func (r *Replay) value(f replayField, g *gaugeSum) reflect.Value {
	if f.instant {
		return reflect.ValueOf(time.Unix(0, g.earliest).UTC())
	}
	return reflect.ValueOf(g.sum).Convert(f.typ.Elem())
}

// Snapshot returns everything as of what was counted and set so far, as
// Build would. It costs a pass over every series; Step costs what changed.
func (r *Replay) Snapshot() *Snapshot {
	s := reflect.New(snapshotType)
	s.Elem().Set(reflect.ValueOf(r.agg.Build()).Elem())
	for fi, f := range r.fields {
		if len(r.sums[fi]) == 0 {
			continue
		}
		m := reflect.MakeMapWithSize(f.typ, len(r.sums[fi]))
		for k, g := range r.sums[fi] {
			if g.n > 0 {
				m.SetMapIndex(reflect.ValueOf(k), r.value(f, g))
			}
		}
		s.Elem().Field(f.index).Set(m)
	}
	return s.Interface().(*Snapshot)
}

// counted builds, of everything agg counted, only the series that the
// entries since the last Step counted into: building them all would cost a
// pass over every series at every step. It is Build run on a view of agg
// whose counter maps hold just those series; a map Build reads that is not
// narrowed here is exported whole, which costs time but is never wrong
// (TestReplayNarrowsEveryCounterMap asks for new ones to be added).
func (r *Replay) counted() *Snapshot {
	view := *r.agg
	view.tickets = narrow(r.agg.tickets, r.step.tickets)
	view.sla = narrow(r.agg.sla, r.step.sla)
	view.sat = narrow(r.agg.sat, r.step.sat)
	view.groups = narrow(r.agg.groups, r.step.groups)
	view.teams = narrow(r.agg.teams, r.step.teams)
	view.cross = narrow(r.agg.cross, r.step.cross)
	return view.Build()
}

func narrow[K comparable, V any](all, keys map[K]V) map[K]V {
	out := make(map[K]V, len(keys))
	for k := range keys {
		out[k] = all[k]
	}
	return out
}

// Step reports what changed since the previous Step (or, the first time,
// everything): changed holds the series that are new or whose values
// changed, with their values now, removed the series that disappeared.
// Series whose values are points in time are in changed at every step,
// because the collector exports them relative to its clock. Its cost is
// proportional to what changed. The snapshots are immutable.
func (r *Replay) Step() (changed, removed *Snapshot) {
	ch, rm := r.emptySnapshot(), r.emptySnapshot()
	if !r.stepped {
		ch.Elem().Set(reflect.ValueOf(r.Snapshot()).Elem())
	} else if r.stepCounted {
		counted := reflect.ValueOf(r.counted()).Elem()
		for _, f := range r.fields {
			it := counted.Field(f.index).MapRange()
			for it.Next() {
				ch.Elem().Field(f.index).SetMapIndex(it.Key(), it.Value())
			}
		}
	}
	for ref := range r.touched {
		f := r.fields[ref.field]
		g := r.sums[ref.field][ref.key]
		k := reflect.ValueOf(ref.key)
		switch {
		case g.n > 0:
			ch.Elem().Field(f.index).SetMapIndex(k, r.value(f, g))
			g.exported = true
		case g.exported:
			rm.Elem().Field(f.index).SetMapIndex(k, r.value(f, g))
		}
		if g.n == 0 {
			delete(r.sums[ref.field], ref.key)
		}
	}
	for fi, f := range r.fields {
		if !f.clocked {
			continue
		}
		for k, g := range r.sums[fi] {
			ch.Elem().Field(f.index).SetMapIndex(reflect.ValueOf(k), r.value(f, g))
			g.exported = true
		}
	}
	clear(r.touched)
	if r.stepCounted {
		r.step, r.stepCounted = r.newStep(), false
	}
	r.stepped = true
	return ch.Interface().(*Snapshot), rm.Interface().(*Snapshot)
}
