package jira

import (
	"fmt"
	"strings"
	"time"
)

// jqlTimeLayout is the only date form the exporter writes into JQL. Jira
// reads it in the API user's time zone, with minute precision.
const jqlTimeLayout = "2006-01-02 15:04"

// jqlLowerBound formats t as a JQL date literal that Jira, reading it in loc,
// places at or before t. Seconds are dropped (a floor); where the wall clock
// repeats (the autumn DST change) the literal is moved back until even its
// latest reading is not after t, so a ">=" bound never skips tickets.
func jqlLowerBound(t time.Time, loc *time.Location) string {
	w := t.In(loc)
	w = time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, loc)
	for range 4 {
		s := w.Format(jqlTimeLayout)
		if latest, ok := latestReading(s, loc); ok && !latest.After(t) {
			return s
		}
		w = w.Add(-30 * time.Minute)
	}
	return w.Format(jqlTimeLayout)
}

// jqlBoundInstant is the earliest instant a ">=" bound written for t can
// mean to Jira: everything from it on is re-read by a query using the bound.
func jqlBoundInstant(t time.Time, loc *time.Location) time.Time {
	lit := jqlLowerBound(t, loc)
	if earliest, ok := earliestReading(lit, loc); ok {
		return earliest
	}
	return t
}

// latestReading returns the latest instant whose wall clock in loc reads s.
func latestReading(s string, loc *time.Location) (time.Time, bool) {
	_, latest, ok := readingRange(s, loc)
	return latest, ok
}

// earliestReading returns the earliest instant whose wall clock in loc reads s.
func earliestReading(s string, loc *time.Location) (time.Time, bool) {
	earliest, _, ok := readingRange(s, loc)
	return earliest, ok
}

// readingRange returns the earliest and latest instants whose wall clock in
// loc reads s; they differ only where the clock repeats (DST ending).
func readingRange(s string, loc *time.Location) (earliest, latest time.Time, found bool) {
	naive, err := time.Parse(jqlTimeLayout, s)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	// Every offset the zone uses within a day of the wall time is a
	// candidate reading; a reading is real if it formats back to s.
	seen := map[int]bool{}
	for h := -26; h <= 26; h++ {
		_, offset := naive.Add(time.Duration(h) * time.Hour).In(loc).Zone()
		if seen[offset] {
			continue
		}
		seen[offset] = true
		candidate := naive.Add(-time.Duration(offset) * time.Second)
		if candidate.In(loc).Format(jqlTimeLayout) != s {
			continue
		}
		if !found || candidate.After(latest) {
			latest = candidate
		}
		if !found || candidate.Before(earliest) {
			earliest = candidate
		}
		found = true
	}
	return earliest, latest, found
}

// jqlBuilder writes the queries of the supported JQL subset around the
// user's JQL, which is always wrapped in parentheses so its OR clauses
// cannot capture the exporter's bounds.
type jqlBuilder struct {
	user string
	loc  *time.Location
}

// scope is every ticket the exporter tracks: updated since the horizon, or
// still open however old.
func (b jqlBuilder) scope(horizon time.Time) string {
	return fmt.Sprintf(`(%s) AND (updated >= "%s" OR statusCategory != Done)`,
		strings.TrimSpace(b.user), jqlLowerBound(horizon, b.loc))
}

// updatedSince is every ticket in the user's JQL updated at or after since.
func (b jqlBuilder) updatedSince(since time.Time) string {
	return fmt.Sprintf(`(%s) AND updated >= "%s"`, strings.TrimSpace(b.user), jqlLowerBound(since, b.loc))
}

// keyset adds the keyset position and the id order that makes paging
// restartable: a pass resumes with "id > last id seen". throughID, when not
// zero, bounds a range of a concurrent initial sync above.
func keyset(base string, afterID, throughID int64) string {
	if afterID > 0 {
		base += fmt.Sprintf(" AND id > %d", afterID)
	}
	if throughID > 0 {
		base += fmt.Sprintf(" AND id <= %d", throughID)
	}
	return base + " ORDER BY id ASC"
}
