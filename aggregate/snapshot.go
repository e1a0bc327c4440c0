package aggregate

import (
	"sort"
	"time"
)

// Snapshot is an immutable view of everything the collector exposes about
// tickets. The pipeline publishes a new one after commits; scrapes only read it.
type Snapshot struct {
	// Tickets holds counters and histograms per ticket label set. Every
	// label set that ever counted an event is present, so families with no
	// events yet are exported as zero rather than missing.
	Tickets map[TicketLabels]*TicketSeries
	// SLACycles counts completed SLA cycles by outcome.
	SLACycles map[SLALabels]*SLACounts
	// Satisfaction is the rating histogram (upper bounds 1..5).
	Satisfaction map[SatisfactionLabels]*Histogram

	// Current state of open tickets in scope (gauges).
	Open           map[OpenLabels]float64
	Awaiting       map[TicketLabels]float64 // open tickets still without a first response
	OldestOpen     map[DeskLabels]time.Time // creation time of the oldest open ticket
	OldestAwaiting map[DeskLabels]time.Time // creation time of the oldest open ticket awaiting a first response
	SLABreached    map[DeskSLALabels]*BreachState
	Tracked        map[string]int // tickets in scope per source (open or not)

	// Unassigned counts open tickets nobody owns, per desk; every desk with
	// open tickets is present.
	Unassigned map[DeskLabels]float64
	// SLAAtRisk holds, per desk and SLA, when each running cycle comes at
	// risk and when it breaches, so a scrape counts the cycles at risk at
	// its own time; present wherever SLABreached is.
	SLAAtRisk map[DeskSLALabels]*RiskState

	// The internal-customer view: counters, histograms and gauges per
	// customer group and, separately, per serving team, each summing to the
	// desk totals of the families above. A ticket without a value counts
	// under NoneLabelValue. Every series that ever counted an event is
	// present; the gauges hold every group (team) with open tickets.
	CustomerGroups              map[CustomerGroupLabels]*SegmentSeries
	CustomerGroupOpen           map[CustomerGroupLabels]float64
	CustomerGroupAwaiting       map[CustomerGroupLabels]float64
	CustomerGroupOldestAwaiting map[CustomerGroupLabels]time.Time
	Teams                       map[TeamLabels]*SegmentSeries
	TeamOpen                    map[TeamLabels]float64
	TeamAwaiting                map[TeamLabels]float64
	TeamOldestAwaiting          map[TeamLabels]time.Time
	// TeamCustomerGroups crosses the two for the "who serves whom how
	// well" table: first response and satisfaction only, because its
	// cardinality is the product of the two.
	TeamCustomerGroups map[TeamCustomerGroupLabels]*CrossSeries
}

// TicketLabels are the labels shared by ticket metrics.
type TicketLabels struct {
	Source, Desk, RequestType, Priority string
}

// OpenLabels add the status category to TicketLabels.
type OpenLabels struct {
	TicketLabels
	StatusCategory string
}

// SLALabels identify a completed-cycle counter series.
type SLALabels struct {
	TicketLabels
	SLA string
}

// SatisfactionLabels are TicketLabels without priority.
type SatisfactionLabels struct {
	Source, Desk, RequestType string
}

// DeskLabels identify a desk.
type DeskLabels struct {
	Source, Desk string
}

// DeskSLALabels identify an SLA on a desk.
type DeskSLALabels struct {
	Source, Desk, SLA string
}

// CustomerGroupLabels identify a customer group on a desk.
type CustomerGroupLabels struct {
	Source, Desk, CustomerGroup string
}

// TeamLabels identify a serving team on a desk.
type TeamLabels struct {
	Source, Desk, Team string
}

// TeamCustomerGroupLabels identify a team serving a customer group on a desk.
type TeamCustomerGroupLabels struct {
	Source, Desk, Team, CustomerGroup string
}

// SegmentSeries are the persisted counters and histograms of one customer
// group or team.
type SegmentSeries struct {
	Created, Resolved, Reopened float64
	FirstResponse               Histogram // seconds
	Resolution                  Histogram // seconds
	Satisfaction                Histogram // ratings, upper bounds 1..5
}

// CrossSeries are the histograms of one team serving one customer group.
type CrossSeries struct {
	FirstResponse Histogram // seconds
	Satisfaction  Histogram // ratings, upper bounds 1..5
}

// TicketSeries are the persisted counters and histograms of one label set.
type TicketSeries struct {
	Created, Resolved, Reopened float64
	FirstResponse               Histogram // seconds
	Resolution                  Histogram // seconds
}

// SLACounts counts completed cycles.
type SLACounts struct {
	Met, Breached float64
}

// Histogram is in the shape prometheus.MustNewConstHistogram takes.
type Histogram struct {
	Count   uint64
	Sum     float64
	Buckets map[float64]uint64 // cumulative count per upper bound, +Inf excluded
}

// BreachState counts open tickets whose ongoing cycle of an SLA is breached.
// Breached tickets are already breached at snapshot time; Pending holds the
// sorted breach times of running cycles that have not breached yet, so a
// scrape can count those whose time has come without a new poll.
type BreachState struct {
	Breached int
	Pending  []time.Time
}

// BreachedAt returns how many tickets are breached at now.
func (b *BreachState) BreachedAt(now time.Time) int {
	n := b.Breached
	for _, t := range b.Pending {
		if t.After(now) {
			break
		}
		n++
	}
	return n
}

// RiskState says when the running, unpaused, not yet breached cycles of an
// SLA on a desk come at risk (From: the ratio of the goal used) and when they
// breach (Breach), both sorted. A cycle is at risk from its From until its
// Breach, after which the breach gauge counts it instead.
type RiskState struct {
	From, Breach []time.Time
}

// AtRiskAt returns how many cycles are at risk at now. Every cycle's From is
// at or before its Breach, so those at risk are the cycles whose From has
// come minus those whose Breach has.
func (r *RiskState) AtRiskAt(now time.Time) int {
	return countUntil(r.From, now) - countUntil(r.Breach, now)
}

// countUntil counts the sorted times that are at or before now.
func countUntil(sorted []time.Time, now time.Time) int {
	return sort.Search(len(sorted), func(i int) bool { return sorted[i].After(now) })
}
