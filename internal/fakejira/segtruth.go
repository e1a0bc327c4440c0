package fakejira

import (
	"sort"
	"strings"
	"time"
)

// SegmentLabels identify a customer-group or team series: source, desk and
// the value, "" for an issue without one.
type SegmentLabels struct {
	Source, Desk, Value string
}

// CrossLabels identify a team × customer-group series.
type CrossLabels struct {
	Source, Desk, Team, CustomerGroup string
}

// SegmentCounts are the counters, observations and gauges of one view
// (by customer group, or by team).
type SegmentCounts struct {
	Created, Resolved, Reopened map[SegmentLabels]int
	// Observations in seconds, and ratings, in issue id order.
	FirstResponseSeconds, ResolutionSeconds map[SegmentLabels][]float64
	Satisfaction                            map[SegmentLabels][]int

	Open, AwaitingFirstResponse map[SegmentLabels]int
	OldestAwaitingCreated       map[SegmentLabels]time.Time
}

// SegmentTruth is what the exporter's customer-group, team and assignment
// metrics must say, from the data model alone.
type SegmentTruth struct {
	Horizon, Now time.Time

	CustomerGroup, Team SegmentCounts
	// The cross view has first responses and ratings only.
	CrossFirstResponseSeconds map[CrossLabels][]float64
	CrossSatisfaction         map[CrossLabels][]int

	// Unassigned counts open issues without an assignee, for every desk
	// with open issues.
	Unassigned map[string]int
	// SLAAtRisk counts open issues whose running cycle has used at least
	// the ratio of its goal and not all of it, for every desk and SLA with
	// an ongoing cycle on an open issue.
	SLAAtRisk map[DeskSLA]int
}

// SegmentTruthOptions say how the exporter read the site.
type SegmentTruthOptions struct {
	Horizon          time.Time
	FirstResponseSLA string
	// Polls are the instants the exporter read the site, oldest first.
	// Empty means a single read at Now.
	Polls []time.Time
	// AtRiskRatio is metrics.sla_at_risk_ratio; zero means 0.75.
	AtRiskRatio float64
}

// SegmentTruth computes the per customer group and per team metrics. The
// event rules are Truth's; what is added is where an event is counted:
//
//   - the customer group of an issue at an instant is the first of its
//     organizations then by name, ignoring case (ties by exact name); no
//     organization is "". Its team is the Team field then. Both are read
//     back from the changelog, so a change moves nothing counted earlier;
//   - an event is counted by the first poll at or after it, under the group
//     and team the issue had at that poll; an event after the last poll is
//     not counted yet;
//   - a rating is counted if a poll saw it current (at or after it was
//     given, before the next rating), by the first such poll;
//   - gauges describe every issue at Now with its values of Now;
//     unassigned = open and no assignee; at risk = open, the cycle running
//     (not paused), elapsed at Now at least AtRiskRatio of the goal and
//     below the goal.
func (s *Server) SegmentTruth(o SegmentTruthOptions) SegmentTruth {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	ratio := o.AtRiskRatio
	if ratio == 0 {
		ratio = 0.75
	}
	polls := o.Polls
	if len(polls) == 0 {
		polls = []time.Time{now}
	}
	t := SegmentTruth{
		Horizon: o.Horizon, Now: now,
		CustomerGroup: newSegmentCounts(), Team: newSegmentCounts(),
		CrossFirstResponseSeconds: map[CrossLabels][]float64{}, CrossSatisfaction: map[CrossLabels][]int{},
		Unassigned: map[string]int{}, SLAAtRisk: map[DeskSLA]int{},
	}
	source := s.opts.Source
	for _, is := range s.issues {
		// labelsAt says where an event at e is counted, and false while no
		// poll has seen it.
		labelsAt := func(e time.Time) (g, tm SegmentLabels, ok bool) {
			i := sort.Search(len(polls), func(i int) bool { return !polls[i].Before(e) })
			if i == len(polls) || e.Before(o.Horizon) {
				return g, tm, false
			}
			group, team := segmentsAt(is, polls[i])
			return SegmentLabels{source, is.Project, group}, SegmentLabels{source, is.Project, team}, true
		}
		both := func(g, tm SegmentLabels, fn func(*SegmentCounts, SegmentLabels)) {
			fn(&t.CustomerGroup, g)
			fn(&t.Team, tm)
		}
		if g, tm, ok := labelsAt(is.Created); ok {
			both(g, tm, func(c *SegmentCounts, l SegmentLabels) { c.Created[l]++ })
		}
		for _, change := range categoryChanges(is) {
			g, tm, ok := labelsAt(change.at)
			if !ok {
				continue
			}
			switch {
			case change.to == CategoryDone:
				seconds := change.at.Sub(is.Created).Seconds()
				both(g, tm, func(c *SegmentCounts, l SegmentLabels) {
					c.Resolved[l]++
					c.ResolutionSeconds[l] = append(c.ResolutionSeconds[l], seconds)
				})
			case change.from == CategoryDone:
				both(g, tm, func(c *SegmentCounts, l SegmentLabels) { c.Reopened[l]++ })
			}
		}
		responseAt, responded := firstResponse(is, o.FirstResponseSLA)
		if responded {
			if g, tm, ok := labelsAt(responseAt); ok {
				seconds := responseAt.Sub(is.Created).Seconds()
				both(g, tm, func(c *SegmentCounts, l SegmentLabels) {
					c.FirstResponseSeconds[l] = append(c.FirstResponseSeconds[l], seconds)
				})
				k := CrossLabels{source, is.Project, tm.Value, g.Value}
				t.CrossFirstResponseSeconds[k] = append(t.CrossFirstResponseSeconds[k], seconds)
			}
		}
		for i, r := range is.Ratings {
			j := sort.Search(len(polls), func(j int) bool { return !polls[j].Before(r.At) })
			replaced := i+1 < len(is.Ratings) && !polls[min(j, len(polls)-1)].Before(is.Ratings[i+1].At)
			if j == len(polls) || replaced || r.At.Before(o.Horizon) {
				continue // not seen yet, or replaced before any poll saw it
			}
			group, team := segmentsAt(is, polls[j])
			g, tm := SegmentLabels{source, is.Project, group}, SegmentLabels{source, is.Project, team}
			both(g, tm, func(c *SegmentCounts, l SegmentLabels) { c.Satisfaction[l] = append(c.Satisfaction[l], r.Value) })
			k := CrossLabels{source, is.Project, team, group}
			t.CrossSatisfaction[k] = append(t.CrossSatisfaction[k], r.Value)
		}

		if categoryOf(is.StatusID) == CategoryDone {
			continue
		}
		group, team := segmentsAt(is, now)
		g, tm := SegmentLabels{source, is.Project, group}, SegmentLabels{source, is.Project, team}
		t.Unassigned[is.Project] += 0
		if is.Assignee == nil {
			t.Unassigned[is.Project]++
		}
		both(g, tm, func(c *SegmentCounts, l SegmentLabels) {
			c.Open[l]++
			c.AwaitingFirstResponse[l] += 0
			if !responded {
				c.AwaitingFirstResponse[l]++
				if cur, ok := c.OldestAwaitingCreated[l]; !ok || is.Created.Before(cur) {
					c.OldestAwaitingCreated[l] = is.Created
				}
			}
		})
		for _, sla := range is.SLAs {
			if sla.Ongoing == nil {
				continue
			}
			k := DeskSLA{Desk: is.Project, SLA: sla.Name}
			t.SLAAtRisk[k] += 0
			elapsed := sla.Ongoing.Elapsed(now)
			if !sla.Ongoing.Paused && float64(elapsed) >= ratio*float64(sla.Ongoing.Goal) && elapsed < sla.Ongoing.Goal {
				t.SLAAtRisk[k]++
			}
		}
	}
	return t
}

func newSegmentCounts() SegmentCounts {
	return SegmentCounts{
		Created: map[SegmentLabels]int{}, Resolved: map[SegmentLabels]int{}, Reopened: map[SegmentLabels]int{},
		FirstResponseSeconds: map[SegmentLabels][]float64{}, ResolutionSeconds: map[SegmentLabels][]float64{},
		Satisfaction: map[SegmentLabels][]int{},
		Open:         map[SegmentLabels]int{}, AwaitingFirstResponse: map[SegmentLabels]int{},
		OldestAwaitingCreated: map[SegmentLabels]time.Time{},
	}
}

// segmentsAt is the customer group and team an issue had at t: its values
// now, with every change after t undone from the changelog.
func segmentsAt(is *Issue, t time.Time) (group, team string) {
	orgs, team := is.Organizations, is.Team
	for i := len(is.Histories) - 1; i >= 0 && is.Histories[i].At.After(t); i-- {
		for _, it := range is.Histories[i].Items {
			switch it.Field {
			case HistoryOrganizations:
				orgs = it.FromValues
			case HistoryTeam:
				team = it.From
			}
		}
	}
	return firstByName(orgs), team
}

// firstByName is the organization a ticket of several counts under.
func firstByName(names []string) string {
	first := ""
	for _, n := range names {
		a, b := strings.ToLower(n), strings.ToLower(first)
		if first == "" || a < b || a == b && n < first {
			first = n
		}
	}
	return first
}
