package aggregate

import "time"

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
