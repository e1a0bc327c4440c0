package ticket

import "time"

// SLAPolicy is an SLA the exporter measures itself, for sources that keep
// no SLA data of their own (Request Tracker) or any source whose owners want
// a target of their own. Derivation turns it into SLA facts with the same
// shape a source like Jira reports, so cycles and breaches count the same:
// WithPolicies adds them to a ticket, PolicySLAs says exactly how they are
// measured, ValidatePolicies checks a configured set.
type SLAPolicy struct {
	// Name is the SLA's name in metrics and event ids; a policy replaces a
	// source's SLA of the same name.
	Name string
	// Goals maps a priority name (matched exactly) to its goal; DefaultGoal
	// applies to every priority not listed, tickets without a priority
	// included. A zero goal, listed or default, means such tickets have no
	// cycle of this SLA.
	Goals       map[string]time.Duration
	DefaultGoal time.Duration
	// Stop ends the cycle; it starts when the ticket is created (and, for
	// StopResolution, again at each reopen).
	Stop SLAStop
	// PauseStatuses stop the clock while the ticket is in one of them
	// (status names as the source reports them, compared case-insensitively).
	PauseStatuses []string
	// Calendar is when the clock runs; nil runs it around the clock.
	Calendar *Calendar
}

// SLAStop names the event that ends a policy's cycle.
type SLAStop string

// The events a policy cycle can stop at.
const (
	// StopFirstResponse: one cycle from creation to the first response, or
	// to the first resolution if that comes first; never restarted.
	StopFirstResponse SLAStop = "first_response"
	// StopResolution: a cycle from creation to the first resolution and one
	// from each reopen to the next resolution.
	StopResolution SLAStop = "resolution"
)

// Calendar is a business calendar: the working hours of each working day in
// one time zone, minus holidays. Elapsed and Add do its arithmetic, for the
// years 1900 to 2199; Validate checks a configured one.
type Calendar struct {
	Location *time.Location
	// WorkingDays is indexed by time.Weekday.
	WorkingDays [7]bool
	// DayStart and DayEnd bound the working hours as local clock readings,
	// 0 <= DayStart < DayEnd <= 24h (24h is the next midnight): 09:00–17:00
	// is 8 h also on the day clocks change, 00:00–24:00 is then 23 or 25 h.
	// Hours no day has make a calendar without working time.
	DayStart, DayEnd time.Duration
	// Holidays are local calendar dates (year, month, day) with no working
	// hours; duplicates and holidays on days off are harmless.
	Holidays []CivilDate
}

// CivilDate is a date without a time or zone.
type CivilDate struct {
	Year  int
	Month time.Month
	Day   int
}
