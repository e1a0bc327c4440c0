// Package aggregate keeps the counters, histograms and open-ticket index the
// metrics are made of, in memory, and builds the immutable snapshots the
// collector exports. It is fed from the store only: rebuilt from a full scan
// of the ledger at start (and when the label limit or buckets change), then
// kept up to date with each commit's result. Folding rare label values into
// "other" happens here, by each value's place in the store's first-seen
// order, so a raised limit applies to all of history at once.
package aggregate

import (
	"math"
	"sort"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// DefaultLabelValueLimit applies when Options leave the limit at zero.
const DefaultLabelValueLimit = 100

// Options shape what is counted and how it is exported.
type Options struct {
	// LabelValueLimit caps distinct values per label; later values fold into "other".
	LabelValueLimit      int
	FirstResponseBuckets []float64 // upper bounds in seconds, increasing
	ResolutionBuckets    []float64
	// SLAAtRiskRatio is the share of an SLA goal a running cycle has used
	// when it counts as at risk; zero means DefaultSLAAtRiskRatio.
	SLAAtRiskRatio float64
}

func (o Options) withDefaults() Options {
	if o.LabelValueLimit < 1 {
		o.LabelValueLimit = DefaultLabelValueLimit
	}
	if !(o.SLAAtRiskRatio > 0 && o.SLAAtRiskRatio < 1) {
		o.SLAAtRiskRatio = DefaultSLAAtRiskRatio
	}
	return o
}

// satisfactionBounds are the rating histogram's upper bounds: le="1".."5",
// so _sum/_count is the average rating and each bucket step one rating.
var satisfactionBounds = []float64{1, 2, 3, 4, 5}

// Aggregates is not safe for concurrent use; the pipeline serializes it
// with the commits that feed it.
type Aggregates struct {
	opts    Options
	ranks   ranks
	tickets map[TicketLabels]*ticketAgg
	sla     map[SLALabels]*SLACounts
	sat     map[SatisfactionLabels]*hist
	groups  map[CustomerGroupLabels]*segmentAgg
	teams   map[TeamLabels]*segmentAgg
	cross   map[TeamCustomerGroupLabels]*crossAgg
	open    map[string]map[string]*openTicket // source → id → open ticket
	live    map[string]map[string]bool        // source → ids in scope
	active  map[string]bool                   // sources exported; nil = all
	// changed is set by everything that alters what a snapshot shows, so
	// an idle poll does not rebuild the snapshot.
	changed bool
}

// openTicket keeps an open ticket's gauge facts with raw label values:
// folding is applied when a snapshot is built.
type openTicket struct {
	labels ticket.Labels
	state  ticket.State
}

// New returns empty aggregates.
func New(opts Options) *Aggregates {
	opts = opts.withDefaults()
	a := &Aggregates{opts: opts}
	a.reset(nil)
	return a
}

func (a *Aggregates) reset(order map[string][]string) {
	a.ranks = newRanks(order)
	a.tickets = map[TicketLabels]*ticketAgg{}
	a.sla = map[SLALabels]*SLACounts{}
	a.sat = map[SatisfactionLabels]*hist{}
	a.resetSegments()
	a.open = map[string]map[string]*openTicket{}
	a.live = map[string]map[string]bool{}
	a.changed = true
}

// Ledger is what Load reads: the store's label order and a full scan.
type Ledger interface {
	LabelOrder() (map[string][]string, error)
	Scan(fn func(source string, t store.Ticket) error) error
}

// Load replaces everything with what the ledger holds, under opts.
func (a *Aggregates) Load(opts Options, l Ledger) error {
	opts = opts.withDefaults()
	order, err := l.LabelOrder()
	if err != nil {
		return err
	}
	a.opts = opts
	a.reset(order)
	var at entryTargets
	return l.Scan(func(source string, t store.Ticket) error {
		a.index(source, t)
		for _, e := range t.Ledger {
			a.count(&at, source, e)
		}
		return nil
	})
}

// Apply adds a commit's result.
func (a *Aggregates) Apply(source string, r store.Result) {
	for _, lv := range r.Labels {
		a.ranks.add(lv)
	}
	var at entryTargets
	for _, t := range r.Tickets {
		a.index(source, t)
		for _, e := range t.Ledger {
			a.count(&at, source, e)
		}
	}
	if len(r.Labels) > 0 || len(r.Tickets) > 0 {
		a.changed = true
	}
}

// SetActiveSources limits snapshots to the configured sources, so a source
// removed from the config disappears from /metrics while its data stays on
// disk for when it comes back.
func (a *Aggregates) SetActiveSources(names []string) {
	a.active = map[string]bool{}
	for _, n := range names {
		a.active[n] = true
	}
	a.changed = true
}

// Changed reports whether a snapshot built now would differ from the last.
func (a *Aggregates) Changed() bool { return a.changed }

func (a *Aggregates) index(source string, t store.Ticket) {
	live := a.live[source]
	if live == nil {
		live = map[string]bool{}
		a.live[source] = live
	}
	open := a.open[source]
	if open == nil {
		open = map[string]*openTicket{}
		a.open[source] = open
	}
	if t.Gone {
		delete(live, t.ID)
	} else {
		live[t.ID] = true
	}
	if !t.Gone && t.State.Open {
		open[t.ID] = &openTicket{labels: t.Labels, state: t.State}
	} else {
		delete(open, t.ID)
	}
}

func (a *Aggregates) fold(name, value string) string {
	return a.ranks.fold(a.opts.LabelValueLimit, name, value)
}

func (a *Aggregates) ticketLabels(source string, l ticket.Labels) TicketLabels {
	return TicketLabels{
		Source:      source,
		Desk:        a.fold(labelDesk, l.Desk),
		RequestType: a.fold(labelRequestType, l.RequestType),
		Priority:    a.fold(labelPriority, l.Priority),
	}
}

// entryTargets are the folded labels of an entry and the series they
// count into. A ticket's entries mostly carry the same labels, so they are
// looked up once for a run of entries that share them: folding and hashing
// the same labels for every entry was most of counting it. Label ranks do
// not change within one Load or Apply, so neither do the folded labels.
type entryTargets struct {
	valid  bool
	source string
	labels ticket.Labels
	folded TicketLabels
	series *ticketAgg
	// The segment series, made only once an entry of a kind they count
	// needs them, as without the cache.
	group, team *segmentAgg
	gl          CustomerGroupLabels
	tl          TeamLabels
}

func (a *Aggregates) targets(at *entryTargets, source string, labels ticket.Labels) *entryTargets {
	if !at.valid || at.source != source || at.labels != labels {
		folded := a.ticketLabels(source, labels)
		gl, tl := a.segmentLabels(source, folded.Desk, labels)
		*at = entryTargets{valid: true, source: source, labels: labels, folded: folded, series: a.series(folded), gl: gl, tl: tl}
	}
	return at
}

// count adds one ledger entry under its folded labels.
func (a *Aggregates) count(at *entryTargets, source string, e store.Entry) {
	at = a.targets(at, source, e.Labels)
	l := at.folded
	a.countSegments(at, e)
	at.series.add(a.opts, e)
	switch e.Kind {
	case ticket.EventSatisfaction:
		k := SatisfactionLabels{Source: source, Desk: l.Desk, RequestType: l.RequestType}
		h := a.sat[k]
		if h == nil {
			nh := newHist(satisfactionBounds)
			h = &nh
			a.sat[k] = h
		}
		h.observe(satisfactionBounds, e.Value)
	case ticket.EventSLACycle:
		k := SLALabels{TicketLabels: l, SLA: a.fold(labelSLA, e.SLA)}
		c := a.sla[k]
		if c == nil {
			c = &SLACounts{}
			a.sla[k] = c
		}
		if e.Breached {
			c.Breached++
		} else {
			c.Met++
		}
	}
}

func (a *Aggregates) series(l TicketLabels) *ticketAgg {
	s := a.tickets[l]
	if s == nil {
		s = &ticketAgg{firstResponse: newHist(a.opts.FirstResponseBuckets), resolution: newHist(a.opts.ResolutionBuckets)}
		a.tickets[l] = s
	}
	return s
}

// Build returns a new snapshot of everything and clears Changed.
func (a *Aggregates) Build() *Snapshot {
	active := func(source string) bool { return a.active == nil || a.active[source] }
	snap := &Snapshot{
		Tickets:        map[TicketLabels]*TicketSeries{},
		SLACycles:      map[SLALabels]*SLACounts{},
		Satisfaction:   map[SatisfactionLabels]*Histogram{},
		Open:           map[OpenLabels]float64{},
		Awaiting:       map[TicketLabels]float64{},
		OldestOpen:     map[DeskLabels]time.Time{},
		OldestAwaiting: map[DeskLabels]time.Time{},
		SLABreached:    map[DeskSLALabels]*BreachState{},
		Tracked:        map[string]int{},
	}
	for l, s := range a.tickets {
		if active(l.Source) {
			snap.Tickets[l] = &TicketSeries{
				Created: s.created, Resolved: s.resolved, Reopened: s.reopened,
				FirstResponse: s.firstResponse.export(a.opts.FirstResponseBuckets),
				Resolution:    s.resolution.export(a.opts.ResolutionBuckets),
			}
		}
	}
	for l, c := range a.sla {
		if active(l.Source) {
			cp := *c
			snap.SLACycles[l] = &cp
		}
	}
	for l, h := range a.sat {
		if active(l.Source) {
			e := h.export(satisfactionBounds)
			snap.Satisfaction[l] = &e
		}
	}
	a.buildSegments(snap, active)
	for source := range a.active {
		snap.Tracked[source] = 0
	}
	for source, ids := range a.live {
		if active(source) {
			snap.Tracked[source] = len(ids)
		}
	}
	for source, open := range a.open {
		if !active(source) {
			continue
		}
		for _, ot := range open {
			a.addOpen(snap, source, ot)
		}
	}
	for _, bs := range snap.SLABreached {
		sort.Slice(bs.Pending, func(i, j int) bool { return bs.Pending[i].Before(bs.Pending[j]) })
	}
	sortRisk(snap)
	a.changed = false
	return snap
}

func (a *Aggregates) addOpen(snap *Snapshot, source string, ot *openTicket) {
	l := a.ticketLabels(source, ot.labels)
	st := ot.state
	snap.Open[OpenLabels{TicketLabels: l, StatusCategory: string(st.Category)}]++
	desk := DeskLabels{Source: source, Desk: l.Desk}
	if old, ok := snap.OldestOpen[desk]; !ok || st.Created.Before(old) {
		snap.OldestOpen[desk] = st.Created
	}
	if _, ok := snap.Awaiting[l]; !ok {
		snap.Awaiting[l] = 0
	}
	a.addOpenSegments(snap, source, l.Desk, ot)
	if st.AwaitingFirstResponse {
		snap.Awaiting[l]++
		if old, ok := snap.OldestAwaiting[desk]; !ok || st.Created.Before(old) {
			snap.OldestAwaiting[desk] = st.Created
		}
	}
	for _, sla := range st.SLAs {
		k := DeskSLALabels{Source: source, Desk: l.Desk, SLA: a.fold(labelSLA, sla.Name)}
		a.addAtRisk(snap, k, sla)
		bs := snap.SLABreached[k]
		if bs == nil {
			bs = &BreachState{}
			snap.SLABreached[k] = bs
		}
		switch {
		case sla.Breached:
			bs.Breached++
		case !sla.BreachAt.IsZero():
			bs.Pending = append(bs.Pending, sla.BreachAt)
		}
	}
}

// hist accumulates observations into fixed upper bounds (non-cumulative;
// observations above the last bound only show in count).
type hist struct {
	perBound []uint64
	count    uint64
	// sumMilli is the sum in thousandths: sources report milliseconds, so
	// an integer sum is exact and independent of the order observations
	// arrive in, which keeps a restart's rebuilt sum identical to the live one.
	sumMilli int64
}

func newHist(bounds []float64) hist { return hist{perBound: make([]uint64, len(bounds))} }

func (h *hist) observe(bounds []float64, v float64) {
	h.count++
	h.sumMilli += int64(math.Round(v * 1000))
	if i := sort.SearchFloat64s(bounds, v); i < len(bounds) {
		h.perBound[i]++
	}
}

func (h *hist) export(bounds []float64) Histogram {
	out := Histogram{Count: h.count, Sum: float64(h.sumMilli) / 1000, Buckets: make(map[float64]uint64, len(bounds))}
	var cum uint64
	for i, b := range bounds {
		cum += h.perBound[i]
		out.Buckets[b] = cum
	}
	return out
}

type ticketAgg struct {
	created, resolved, reopened float64
	firstResponse, resolution   hist
}

// CopyActiveSources takes over other's set of exported sources.
func (a *Aggregates) CopyActiveSources(other *Aggregates) {
	if other.active == nil {
		a.active = nil
		return
	}
	a.SetActiveSources(nil)
	for n := range other.active {
		a.active[n] = true
	}
}
