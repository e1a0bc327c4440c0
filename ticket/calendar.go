package ticket

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Business-calendar arithmetic covers 1900 to 2199 (UTC): far wider than any
// ticket's life, and narrow enough that the cost of a span, one zone look-up
// per week it covers, stays bounded. Outside these years a business calendar
// has no working time; the 24×7 (nil) calendar has no such bound.
var (
	calendarStart = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	calendarEnd   = time.Date(2200, time.January, 1, 0, 0, 0, 0, time.UTC)
)

const (
	secondsPerDay = 24 * 60 * 60
	oneDay        = 24 * time.Hour
	oneWeek       = 7 * oneDay
	// zoneReach is more than any UTC offset, so a reading's instant lies
	// within it of the reading taken as UTC.
	zoneReach = 16 * time.Hour
)

// Elapsed is the working time in [from, to): with a nil calendar the
// wall-clock time, otherwise the part of it inside the working hours of
// working days that are not holidays. It is zero when to is not after from,
// additive (Elapsed(a, c) == Elapsed(a, b) + Elapsed(b, c) for a ≤ b ≤ c)
// and saturates at the largest Duration.
//
// A day's working hours run from the first instant its local clock reads
// DayStart to the first instant it reads DayEnd (24h: the next midnight). So
// a 09:00–17:00 day lasts 8 h also on a day the clocks change at 02:00, a
// 00:00–24:00 day then lasts 23 or 25 h, a reading the clocks skip means the
// instant they jump and a reading they repeat its first occurrence.
func (c *Calendar) Elapsed(from, to time.Time) time.Duration {
	return c.index().elapsed(from, to)
}

// Add returns the earliest instant at which d of working time has elapsed
// since from, so that Elapsed(from, Add(from, d)) == d; with a business
// calendar that instant is inside working hours or at their end. A d ≤ 0
// gives from. The zero Time means never: the calendar has less than d of
// working time left before 2200 (none at all without a working day).
func (c *Calendar) Add(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	return c.index().add(from, d, false)
}

// Validate reports the first reason the calendar cannot be used, phrased for
// whoever wrote its configuration. A nil calendar (24×7) is valid.
func (c *Calendar) Validate() error {
	if c == nil {
		return nil
	}
	if c.Location == nil {
		return errors.New("calendar has no time zone")
	}
	if c.DayStart < 0 || c.DayStart >= oneDay {
		return fmt.Errorf("working hours start at %s, which is not a time of day", clock(c.DayStart))
	}
	if c.DayEnd <= 0 || c.DayEnd > oneDay {
		return fmt.Errorf("working hours end at %s, which is not between 00:00 and 24:00", clock(c.DayEnd))
	}
	if c.DayStart >= c.DayEnd {
		return fmt.Errorf("working hours start at %s, not before they end at %s", clock(c.DayStart), clock(c.DayEnd))
	}
	if !slices.Contains(c.WorkingDays[:], true) {
		return errors.New("calendar has no working days")
	}
	first, last := calendarStart.Year(), calendarEnd.Year()-1
	for _, h := range c.Holidays {
		if !h.valid() {
			return fmt.Errorf("holiday %s is not a date", h)
		}
		if h.Year < first || h.Year > last {
			return fmt.Errorf("holiday %s is outside the years %d to %d a calendar covers", h, first, last)
		}
	}
	return nil
}

// String formats the date as YYYY-MM-DD.
func (d CivilDate) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

func (d CivilDate) valid() bool {
	y, m, dd := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// clock formats an offset from midnight as a time of day where it is one.
func clock(d time.Duration) string {
	if d < 0 || d > oneDay || d%time.Minute != 0 {
		return d.String()
	}
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// calendarIndex is a calendar prepared for arithmetic: holidays as sorted day
// numbers, hours clamped to a day. A nil *calendarIndex is the 24×7 clock.
// Days are numbered from 1970-01-01 in the calendar's own zone.
type calendarIndex struct {
	loc        *time.Location
	working    [7]bool
	perWeek    int64 // working weekdays
	start, end time.Duration
	dayLen     time.Duration // of a working day without a clock change
	holidays   []int64
	lastDay    int64 // no working day after this one
	// recent memoises the last windows computed: a ticket's clock segments
	// mostly start and stop on the same few days. An index is never shared.
	recent [4]dayWindow
}

type dayWindow struct {
	day        int64
	start, end time.Time
	ok, set    bool
}

func (c *Calendar) index() *calendarIndex {
	if c == nil {
		return nil
	}
	x := &calendarIndex{
		loc:     c.Location,
		working: c.WorkingDays,
		start:   min(max(c.DayStart, 0), oneDay),
		end:     min(max(c.DayEnd, 0), oneDay),
		lastDay: floorDiv(calendarEnd.Unix(), secondsPerDay) + 1,
	}
	if x.loc == nil {
		x.loc = time.UTC
	}
	if x.end > x.start {
		x.dayLen = x.end - x.start
	}
	for _, w := range x.working {
		if w {
			x.perWeek++
		}
	}
	if len(c.Holidays) > 0 {
		x.holidays = make([]int64, 0, len(c.Holidays))
		for _, h := range c.Holidays {
			x.holidays = append(x.holidays, civilDay(h.Year, h.Month, h.Day))
		}
		slices.Sort(x.holidays)
		x.holidays = slices.Compact(x.holidays)
	}
	return x
}

func (c *calendarIndex) hasWorkingTime() bool { return c.perWeek > 0 && c.dayLen > 0 }

func (c *calendarIndex) elapsed(from, to time.Time) time.Duration {
	if c == nil {
		if to.After(from) {
			return to.Sub(from)
		}
		return 0
	}
	if !c.hasWorkingTime() {
		return 0
	}
	from, to = laterTime(from, calendarStart), earlierTime(to, calendarEnd)
	if !from.Before(to) {
		return 0
	}
	df, dt := c.day(from), c.day(to)
	if dt-df < 2 { // also when the clocks went back across midnight
		var sum time.Duration
		for d := min(df, dt); d <= max(df, dt); d++ {
			sum += c.overlap(d, from, to)
		}
		return sum
	}
	return addSat(c.overlap(df, from, to)+c.overlap(dt, from, to), c.fullDays(df+1, dt-1))
}

// add returns the earliest instant by which d of working time has elapsed
// since from or, with latest, the last one: the instant the clock runs on
// past d, which differs when d is used up exactly at the end of working
// hours (a breach happens when the clock next runs, not at 17:00 Friday).
func (c *calendarIndex) add(from time.Time, d time.Duration, latest bool) time.Time {
	if c == nil {
		return from.Add(max(d, 0))
	}
	d = max(d, 0)
	if d == 0 && !latest {
		return from
	}
	if !c.hasWorkingTime() || !from.Before(calendarEnd) {
		return time.Time{}
	}
	from = laterTime(from, calendarStart)
	fits := func(avail time.Duration) bool { return avail > d || (!latest && avail == d) }
	within := func(t time.Time) time.Time {
		if !t.After(calendarEnd) {
			return t.In(from.Location())
		}
		return time.Time{}
	}

	first := c.day(from)
	if ws, we, ok := c.window(first); ok {
		if s := laterTime(from, ws); s.Before(we) {
			avail := we.Sub(s)
			if fits(avail) {
				return within(s.Add(d))
			}
			d -= avail
		}
	}
	weekly := mulSat(c.perWeek, c.dayLen)
	nextJump := int64(math.MinInt64)
	for dn := first + 1; dn <= c.lastDay; {
		// Whole weeks at once while more than two weeks' working time is
		// left; a jump that overshoots (a long day when clocks went back)
		// is halved, and when none fits the next week goes day by day.
		if k := int64(d/weekly) - 1; k > 0 && dn >= nextJump {
			for k = min(k, (c.lastDay-dn)/7); k > 0; k /= 2 {
				if e := c.fullDays(dn, dn+7*k-1); e < d {
					d -= e
					break
				}
			}
			if k > 0 {
				dn += 7 * k
				continue
			}
			nextJump = dn + 7
		}
		if ws, we, ok := c.window(dn); ok {
			avail := we.Sub(ws)
			if fits(avail) {
				return within(ws.Add(d))
			}
			d -= avail
		}
		dn++
	}
	return time.Time{}
}

// fullDays is the working time of the days a..b, all of them: whole weeks
// by counting, corrected on the few days the clocks change.
func (c *calendarIndex) fullDays(a, b int64) time.Duration {
	if b < a {
		return 0
	}
	var correction time.Duration
	for _, d := range c.clockChangeDays(a, b) {
		if c.workday(d) {
			correction += c.windowLen(d) - c.dayLen
		}
	}
	return addSat(mulSat(c.workdays(a, b), c.dayLen), correction)
}

// workdays counts the working days in a..b that are not holidays.
func (c *calendarIndex) workdays(a, b int64) int64 {
	n := (b - a + 1) / 7 * c.perWeek
	first := weekday(a)
	for i := range (b - a + 1) % 7 {
		if c.working[(int64(first)+i)%7] {
			n++
		}
	}
	i, _ := slices.BinarySearch(c.holidays, a)
	for ; i < len(c.holidays) && c.holidays[i] <= b; i++ {
		if c.working[weekday(c.holidays[i])] {
			n--
		}
	}
	return n
}

// clockChangeDays lists the days in a..b on which the zone's UTC offset
// changes. It looks the offset up once a week and searches between two
// differing looks, so a change undone within the same week goes unseen (no
// zone has had one since 1900 in the zones tested).
func (c *calendarIndex) clockChangeDays(a, b int64) []int64 {
	var days []int64
	mark := func(t time.Time) {
		before, after := c.day(t.Add(-time.Second)), c.day(t)
		for d := min(before, after); d <= max(before, after); d++ {
			if d >= a && d <= b && !slices.Contains(days, d) {
				days = append(days, d)
			}
		}
	}
	hi := time.Unix((b+1)*secondsPerDay, 0).Add(zoneReach)
	x := time.Unix(a*secondsPerDay, 0).Add(-zoneReach)
	ox := c.offset(x)
	for x.Before(hi) {
		y := earlierTime(x.Add(oneWeek), hi)
		oy := c.offset(y)
		for ox != oy {
			t, ok := c.nextChange(x, y)
			if !ok {
				break
			}
			mark(t)
			x, ox = t, c.offset(t)
		}
		x, ox = y, oy
	}
	return days
}

// nextChange finds the first whole second in (lo, hi] whose UTC offset
// differs from lo's; zone changes happen on whole seconds.
func (c *calendarIndex) nextChange(lo, hi time.Time) (time.Time, bool) {
	want := c.offset(lo)
	a, b := lo.Unix(), hi.Unix()
	if b <= a || c.offsetAt(b) == want {
		return time.Time{}, false
	}
	for b-a > 1 {
		m := a + (b-a)/2
		if c.offsetAt(m) == want {
			a = m
		} else {
			b = m
		}
	}
	return time.Unix(b, 0), true
}

// overlap is the part of day d's working hours inside [from, to).
func (c *calendarIndex) overlap(d int64, from, to time.Time) time.Duration {
	ws, we, ok := c.window(d)
	if !ok {
		return 0
	}
	if s, e := laterTime(ws, from), earlierTime(we, to); s.Before(e) {
		return e.Sub(s)
	}
	return 0
}

func (c *calendarIndex) windowLen(d int64) time.Duration {
	if ws, we, ok := c.window(d); ok {
		return we.Sub(ws)
	}
	return 0
}

// window is day d's working hours; false on a day off or a day whose
// working hours the clocks skip entirely.
func (c *calendarIndex) window(d int64) (start, end time.Time, ok bool) {
	slot := &c.recent[uint64(d)%uint64(len(c.recent))]
	if slot.set && slot.day == d {
		return slot.start, slot.end, slot.ok
	}
	if c.workday(d) {
		start, end = c.reading(d, c.start), c.reading(d, c.end)
		ok = start.Before(end)
	}
	*slot = dayWindow{day: d, start: start, end: end, ok: ok, set: true}
	return start, end, ok
}

func (c *calendarIndex) workday(d int64) bool {
	if !c.working[weekday(d)] {
		return false
	}
	_, holiday := slices.BinarySearch(c.holidays, d)
	return !holiday
}

// reading returns the first instant at which the local clock reads at least
// off past midnight of day d: the reading itself where the clocks show it
// (its first occurrence where they show it twice), the instant they jump
// where they skip it.
func (c *calendarIndex) reading(d int64, off time.Duration) time.Time {
	asUTC := time.Unix(d*secondsPerDay, 0).Add(off)
	before, after := c.offset(asUTC.Add(-zoneReach)), c.offset(asUTC.Add(zoneReach))
	var best time.Time
	found := false
	for _, o := range [...]int{before, after} {
		u := asUTC.Add(-time.Duration(o) * time.Second)
		if c.offset(u) == o && (!found || u.Before(best)) {
			best, found = u, true
		}
	}
	if found {
		return best
	}
	lo := asUTC.Add(-time.Duration(max(before, after)) * time.Second)
	hi := asUTC.Add(-time.Duration(min(before, after)) * time.Second)
	if t, ok := c.nextChange(lo, hi); ok {
		return t
	}
	return lo // two changes within a day; no zone since 1900 has one
}

// day is the local calendar day of t.
func (c *calendarIndex) day(t time.Time) int64 {
	return floorDiv(t.Unix()+int64(c.offset(t)), secondsPerDay)
}

func (c *calendarIndex) offset(t time.Time) int {
	_, o := t.In(c.loc).Zone()
	return o
}

func (c *calendarIndex) offsetAt(unix int64) int { return c.offset(time.Unix(unix, 0)) }

// civilDay numbers a date (normalised like time.Date) from 1970-01-01.
func civilDay(y int, m time.Month, d int) int64 {
	return floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), secondsPerDay)
}

// weekday of day number d; 1970-01-01 was a Thursday.
func weekday(d int64) time.Weekday {
	return time.Weekday(((d % 7) + 7 + int64(time.Thursday)) % 7)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func addSat(a, b time.Duration) time.Duration {
	switch s := a + b; {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	default:
		return s
	}
}

// mulSat multiplies a non-negative count by a non-negative duration.
func mulSat(n int64, d time.Duration) time.Duration {
	if n <= 0 || d <= 0 {
		return 0
	}
	if n > math.MaxInt64/int64(d) {
		return math.MaxInt64
	}
	return time.Duration(n) * d
}

func laterTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlierTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
