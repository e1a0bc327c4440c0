package aggregate

import (
	"sort"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// NoneLabelValue is the customer_group or team of a ticket that has none, so
// that the per-group and per-team series still add up to the desk totals.
const NoneLabelValue = "none"

// DefaultSLAAtRiskRatio applies when Options leave the ratio at zero.
const DefaultSLAAtRiskRatio = 0.75

// segmentAgg accumulates one customer group's or team's counters: those of
// a ticket label set, and the ratings.
type segmentAgg struct {
	ticketAgg
	satisfaction hist
}

// add counts the entry kinds every ticket series has: created, resolved,
// reopened and first response; it ignores the others.
func (s *ticketAgg) add(o Options, e store.Entry) {
	switch e.Kind {
	case ticket.EventCreated:
		s.created++
	case ticket.EventResolved:
		s.resolved++
		s.resolution.observe(o.ResolutionBuckets, e.Value)
	case ticket.EventReopened:
		s.reopened++
	case ticket.EventFirstResponse:
		s.firstResponse.observe(o.FirstResponseBuckets, e.Value)
	}
}

// crossAgg accumulates one team × customer group pair.
type crossAgg struct {
	firstResponse, satisfaction hist
}

func (a *Aggregates) resetSegments() {
	a.groups = map[CustomerGroupLabels]*segmentAgg{}
	a.teams = map[TeamLabels]*segmentAgg{}
	a.cross = map[TeamCustomerGroupLabels]*crossAgg{}
}

// segment folds a customer_group or team value; a ticket without one counts
// under "none", which is never folded.
func (a *Aggregates) segment(name, value string) string {
	if value == "" {
		return NoneLabelValue
	}
	return a.fold(name, value)
}

func (a *Aggregates) segmentLabels(source, desk string, l ticket.Labels) (CustomerGroupLabels, TeamLabels) {
	return CustomerGroupLabels{Source: source, Desk: desk, CustomerGroup: a.segment(labelCustomerGroup, l.CustomerGroup)},
		TeamLabels{Source: source, Desk: desk, Team: a.segment(labelTeam, l.Team)}
}

// countSegments adds one ledger entry to its customer group, its team and
// their pair, under the labels it was counted with.
func (a *Aggregates) countSegments(at *entryTargets, e store.Entry) {
	switch e.Kind {
	case ticket.EventCreated, ticket.EventResolved, ticket.EventReopened, ticket.EventFirstResponse, ticket.EventSatisfaction:
	default:
		return
	}
	gl, tl := at.gl, at.tl
	if at.group == nil {
		at.group, at.team = segmentSeries(a, a.groups, gl), segmentSeries(a, a.teams, tl)
	}
	for _, s := range []*segmentAgg{at.group, at.team} {
		s.add(a.opts, e)
		if e.Kind == ticket.EventSatisfaction {
			s.satisfaction.observe(satisfactionBounds, e.Value)
		}
	}
	switch e.Kind {
	case ticket.EventFirstResponse:
		a.crossSeries(gl, tl).firstResponse.observe(a.opts.FirstResponseBuckets, e.Value)
	case ticket.EventSatisfaction:
		a.crossSeries(gl, tl).satisfaction.observe(satisfactionBounds, e.Value)
	}
}

// segmentSeries is the series of l in m (the groups' or the teams'),
// made on first use.
func segmentSeries[K comparable](a *Aggregates, m map[K]*segmentAgg, l K) *segmentAgg {
	s := m[l]
	if s == nil {
		s = &segmentAgg{
			ticketAgg: ticketAgg{
				firstResponse: newHist(a.opts.FirstResponseBuckets),
				resolution:    newHist(a.opts.ResolutionBuckets),
			},
			satisfaction: newHist(satisfactionBounds),
		}
		m[l] = s
	}
	return s
}

func (a *Aggregates) crossSeries(g CustomerGroupLabels, t TeamLabels) *crossAgg {
	l := TeamCustomerGroupLabels{Source: g.Source, Desk: g.Desk, Team: t.Team, CustomerGroup: g.CustomerGroup}
	s := a.cross[l]
	if s == nil {
		s = &crossAgg{firstResponse: newHist(a.opts.FirstResponseBuckets), satisfaction: newHist(satisfactionBounds)}
		a.cross[l] = s
	}
	return s
}

func (s *segmentAgg) export(o Options) *SegmentSeries {
	return &SegmentSeries{
		Created: s.created, Resolved: s.resolved, Reopened: s.reopened,
		FirstResponse: s.firstResponse.export(o.FirstResponseBuckets),
		Resolution:    s.resolution.export(o.ResolutionBuckets),
		Satisfaction:  s.satisfaction.export(satisfactionBounds),
	}
}

// buildSegments copies the segment counters of the active sources into snap
// and makes its segment gauge maps.
func (a *Aggregates) buildSegments(snap *Snapshot, active func(string) bool) {
	snap.Unassigned = map[DeskLabels]float64{}
	snap.SLAAtRisk = map[DeskSLALabels]*RiskState{}
	snap.CustomerGroups = map[CustomerGroupLabels]*SegmentSeries{}
	snap.CustomerGroupOpen = map[CustomerGroupLabels]float64{}
	snap.CustomerGroupAwaiting = map[CustomerGroupLabels]float64{}
	snap.CustomerGroupOldestAwaiting = map[CustomerGroupLabels]time.Time{}
	snap.Teams = map[TeamLabels]*SegmentSeries{}
	snap.TeamOpen = map[TeamLabels]float64{}
	snap.TeamAwaiting = map[TeamLabels]float64{}
	snap.TeamOldestAwaiting = map[TeamLabels]time.Time{}
	snap.TeamCustomerGroups = map[TeamCustomerGroupLabels]*CrossSeries{}
	for l, s := range a.groups {
		if active(l.Source) {
			snap.CustomerGroups[l] = s.export(a.opts)
		}
	}
	for l, s := range a.teams {
		if active(l.Source) {
			snap.Teams[l] = s.export(a.opts)
		}
	}
	for l, s := range a.cross {
		if active(l.Source) {
			snap.TeamCustomerGroups[l] = &CrossSeries{
				FirstResponse: s.firstResponse.export(a.opts.FirstResponseBuckets),
				Satisfaction:  s.satisfaction.export(satisfactionBounds),
			}
		}
	}
}

// addOpenSegments adds one open ticket to the unassigned, per-group and
// per-team gauges. desk is already folded.
func (a *Aggregates) addOpenSegments(snap *Snapshot, source, desk string, ot *openTicket) {
	st := ot.state
	unassigned := DeskLabels{Source: source, Desk: desk}
	snap.Unassigned[unassigned] += 0 // present for every desk with open tickets
	if !st.Assigned {
		snap.Unassigned[unassigned]++
	}
	gl, tl := a.segmentLabels(source, desk, ot.labels)
	snap.CustomerGroupOpen[gl]++
	snap.TeamOpen[tl]++
	snap.CustomerGroupAwaiting[gl] += 0
	snap.TeamAwaiting[tl] += 0
	if !st.AwaitingFirstResponse {
		return
	}
	snap.CustomerGroupAwaiting[gl]++
	snap.TeamAwaiting[tl]++
	if old, ok := snap.CustomerGroupOldestAwaiting[gl]; !ok || st.Created.Before(old) {
		snap.CustomerGroupOldestAwaiting[gl] = st.Created
	}
	if old, ok := snap.TeamOldestAwaiting[tl]; !ok || st.Created.Before(old) {
		snap.TeamOldestAwaiting[tl] = st.Created
	}
}

// addAtRisk records when a running cycle comes at risk and breaches. Only a
// cycle whose breach time and goal are known can be judged; a paused or
// breached one is never at risk.
func (a *Aggregates) addAtRisk(snap *Snapshot, k DeskSLALabels, sla ticket.SLAState) {
	rs := snap.SLAAtRisk[k]
	if rs == nil {
		rs = &RiskState{}
		snap.SLAAtRisk[k] = rs
	}
	if sla.Breached || sla.Paused || sla.BreachAt.IsZero() || sla.Goal <= 0 {
		return
	}
	rest := time.Duration(float64(sla.Goal) * (1 - a.opts.SLAAtRiskRatio))
	rs.From = append(rs.From, sla.BreachAt.Add(-rest))
	rs.Breach = append(rs.Breach, sla.BreachAt)
}

func sortRisk(snap *Snapshot) {
	for _, rs := range snap.SLAAtRisk {
		sort.Slice(rs.From, func(i, j int) bool { return rs.From[i].Before(rs.From[j]) })
		sort.Slice(rs.Breach, func(i, j int) bool { return rs.Breach[i].Before(rs.Breach[j]) })
	}
}
