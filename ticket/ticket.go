// Package ticket holds the normalized ticket facts every source delivers and
// the one implementation of the rules that turn them into countable events
// and current-state figures. Sources never derive; the store never re-derives.
package ticket

import "time"

// Category is a status category, the only part of a workflow status the
// derivation rules look at: names are renamable and localised, categories are not.
type Category string

// The three status categories shared by Jira and the demo desk.
const (
	CategoryNew           Category = "new"
	CategoryIndeterminate Category = "indeterminate"
	CategoryDone          Category = "done"
)

// Valid reports whether c is one of the known categories.
func (c Category) Valid() bool {
	return c == CategoryNew || c == CategoryIndeterminate || c == CategoryDone
}

// Author says who wrote a comment, as far as the derivation rules care.
type Author string

// Comment authors. Only an agent's public comment is a response to the customer.
const (
	AuthorReporter   Author = "reporter"
	AuthorAgent      Author = "agent"
	AuthorAutomation Author = "automation"
)

// Ticket is what a source knows about one ticket at the time it was read.
// Times are absolute instants; sources convert from whatever zone the API uses.
type Ticket struct {
	ID          string // stable id within the source (Jira: numeric issue id)
	Key         string // human key (Jira: ITSD-42); logged, never a label
	Desk        string // Jira: project key
	RequestType string
	Priority    string // may be empty
	Reporter    string // opaque identity; never exported
	// CustomerGroup is the internal customer's segment (a department, an
	// organization, "Contractors") and Team the team serving the ticket;
	// both opaque and optional, never a person.
	CustomerGroup string
	Team          string
	// Assigned says whether anyone owns the ticket now.
	Assigned bool

	Created time.Time
	Updated time.Time

	Status         string
	StatusCategory Category

	// Transitions is the timeline of status changes, oldest first. Changes
	// within one category (two "in progress" statuses) count for nothing in
	// the category rules, but SLA policies that pause in a named status need
	// them; sources report every change they know, with status names.
	Transitions []Transition
	// Resolutions are resolution set/cleared events, oldest first.
	Resolutions []ResolutionChange
	// ResolvedAt is the latest resolution time if the source has one; used
	// only when the source delivers no status timeline at all.
	ResolvedAt time.Time

	// Comments holds at least every comment up to and including the first
	// public agent comment; later ones may be omitted.
	Comments []Comment

	SLAs []SLA

	// Satisfaction is the current rating, nil when none was given.
	Satisfaction *Rating

	// FirstResponseSLA names the SLA whose first completed cycle gives the
	// first response; empty means "first public agent comment".
	FirstResponseSLA string
	// FirstResponseAt is a first-response time the source states directly;
	// zero when it does not. It wins over both SLA and comments.
	FirstResponseAt time.Time
}

// Transition is one change of status.
type Transition struct {
	At   time.Time
	From Category
	To   Category
	// FromStatus and ToStatus are the status names, empty when the source
	// does not know them.
	FromStatus, ToStatus string
}

// ResolutionChange is a resolution being set (Set) or cleared.
type ResolutionChange struct {
	At  time.Time
	Set bool
}

// Comment is one comment or reply.
type Comment struct {
	At     time.Time
	Author Author
	Public bool
}

// SLA is one SLA as the source reports it.
type SLA struct {
	Name      string
	Completed []SLACycle
	Ongoing   *OngoingCycle
}

// SLACycle is a completed SLA cycle.
type SLACycle struct {
	Start    time.Time
	Stop     time.Time
	Goal     time.Duration
	Elapsed  time.Duration // in the SLA's calendar (e.g. working hours)
	Breached bool
}

// OngoingCycle is the running SLA cycle.
type OngoingCycle struct {
	Start     time.Time
	Goal      time.Duration
	Elapsed   time.Duration
	Remaining time.Duration // negative once breached
	// BreachAt is when the cycle breaches if its clock keeps running (Jira's
	// breachTime); zero when unknown. It lets a ticket nobody touched turn
	// "breaching now" without a new poll of that ticket.
	BreachAt time.Time
	Breached bool
	Paused   bool
}

// Rating is a satisfaction rating 1..5 and when it was given.
type Rating struct {
	Value int
	At    time.Time
}

// Batch is what a source hands over in one go; the poller commits each batch
// in one store transaction together with its cursor.
type Batch struct {
	Tickets []Ticket
	// Cursor is the source's opaque position after this batch; it is given
	// back to the source on the next poll (also after a restart). Nil keeps
	// the previous cursor.
	Cursor []byte
	// InScope, when non-nil, is the complete set of ticket ids the source
	// currently tracks: stored tickets missing from it leave the gauges
	// (their counted events stay counted).
	InScope []string
	// Progress reports an initial sync's progress; nil when not syncing.
	Progress *Progress
	// Skipped counts tickets the source read but could not decode; they are
	// logged by the source and counted with the tickets derivation rejects.
	Skipped int
}

// Progress of a long initial sync.
type Progress struct {
	Done  int // tickets fetched so far
	Total int // tickets expected; 0 when unknown
}
