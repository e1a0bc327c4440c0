package store

import (
	"math"
	"sort"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// satisfactionBounds are the rating histogram's upper bounds: le="1".."5",
// so _sum/_count is the average rating and each bucket step one rating.
var satisfactionBounds = []float64{1, 2, 3, 4, 5}

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

// aggregates are the counters and histograms, kept in memory and rebuilt
// from the ledgers on open; every change to them is a ledger entry committed
// first.
type aggregates struct {
	frBounds, resBounds []float64
	tickets             map[TicketLabels]*ticketAgg
	sla                 map[SLALabels]*SLACounts
	satisfaction        map[SatisfactionLabels]*hist
}

func newAggregates(frBounds, resBounds []float64) *aggregates {
	return &aggregates{
		frBounds: frBounds, resBounds: resBounds,
		tickets:      map[TicketLabels]*ticketAgg{},
		sla:          map[SLALabels]*SLACounts{},
		satisfaction: map[SatisfactionLabels]*hist{},
	}
}

func (a *aggregates) series(l TicketLabels) *ticketAgg {
	s := a.tickets[l]
	if s == nil {
		s = &ticketAgg{firstResponse: newHist(a.frBounds), resolution: newHist(a.resBounds)}
		a.tickets[l] = s
	}
	return s
}

// add counts one ledger entry under its labels.
func (a *aggregates) add(l TicketLabels, e entry) {
	s := a.series(l)
	switch e.Kind {
	case ticket.EventCreated:
		s.created++
	case ticket.EventResolved:
		s.resolved++
		s.resolution.observe(a.resBounds, e.Value)
	case ticket.EventReopened:
		s.reopened++
	case ticket.EventFirstResponse:
		s.firstResponse.observe(a.frBounds, e.Value)
	case ticket.EventSatisfaction:
		k := SatisfactionLabels{Source: l.Source, Desk: l.Desk, RequestType: l.RequestType}
		h := a.satisfaction[k]
		if h == nil {
			nh := newHist(satisfactionBounds)
			h = &nh
			a.satisfaction[k] = h
		}
		h.observe(satisfactionBounds, e.Value)
	case ticket.EventSLACycle:
		k := SLALabels{TicketLabels: l, SLA: e.SLA}
		c := a.sla[k]
		if c == nil {
			c = &SLACounts{}
			a.sla[k] = c
		}
		if e.Breach {
			c.Breached++
		} else {
			c.Met++
		}
	}
}

func (a *aggregates) export(snap *Snapshot, active func(string) bool) {
	for l, s := range a.tickets {
		if !active(l.Source) {
			continue
		}
		snap.Tickets[l] = &TicketSeries{
			Created: s.created, Resolved: s.resolved, Reopened: s.reopened,
			FirstResponse: s.firstResponse.export(a.frBounds),
			Resolution:    s.resolution.export(a.resBounds),
		}
	}
	for l, c := range a.sla {
		if active(l.Source) {
			cp := *c
			snap.SLACycles[l] = &cp
		}
	}
	for l, h := range a.satisfaction {
		if active(l.Source) {
			e := h.export(satisfactionBounds)
			snap.Satisfaction[l] = &e
		}
	}
}
