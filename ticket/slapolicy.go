package ticket

import "time"

// SLAPolicy is an SLA the exporter measures itself, for sources that keep
// no SLA data of their own (Request Tracker) or any source whose owners want
// a target of their own. Derivation turns it into SLA facts with the same
// shape a source like Jira reports, so cycles and breaches count the same.
type SLAPolicy struct {
	Name string
	// Goals maps a priority name to its goal; DefaultGoal applies to every
	// priority not listed, and a zero DefaultGoal means such tickets have
	// no cycle of this SLA.
	Goals       map[string]time.Duration
	DefaultGoal time.Duration
	// Stop ends the cycle; it starts when the ticket is created.
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
	StopFirstResponse SLAStop = "first_response"
	StopResolution    SLAStop = "resolution"
)

// Calendar is a business calendar: the working hours of each working day in
// one time zone, minus holidays.
type Calendar struct {
	Location *time.Location
	// WorkingDays is indexed by time.Weekday.
	WorkingDays [7]bool
	// DayStart and DayEnd bound the working hours as offsets from local
	// midnight, 0 <= DayStart < DayEnd <= 24h.
	DayStart, DayEnd time.Duration
	// Holidays are local calendar dates (year, month, day) with no working hours.
	Holidays []CivilDate
}

// CivilDate is a date without a time or zone.
type CivilDate struct {
	Year  int
	Month time.Month
	Day   int
}
