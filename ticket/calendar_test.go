package ticket

import (
	"math/rand/v2"
	"testing"
	"time"

	// The zones the tests use, whatever the machine has installed.
	_ "time/tzdata"
)

func zone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

func days(ds ...time.Weekday) [7]bool {
	var w [7]bool
	for _, d := range ds {
		w[d] = true
	}
	return w
}

var (
	monToFri = days(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)
	everyDay = [7]bool{true, true, true, true, true, true, true}
)

func hm(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }

// local is a wall-clock time in loc; the tests avoid readings that a clock
// change makes ambiguous, or say which instant they mean in UTC.
func local(loc *time.Location, y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, loc)
}

func TestCalendarElapsed(t *testing.T) {
	berlin, ny, sydney := zone(t, "Europe/Berlin"), zone(t, "America/New_York"), zone(t, "Australia/Sydney")
	lordHowe, apia, saoPaulo := zone(t, "Australia/Lord_Howe"), zone(t, "Pacific/Apia"), zone(t, "America/Sao_Paulo")
	office := func(loc *time.Location, w [7]bool, from, to time.Duration, holidays ...CivilDate) *Calendar {
		return &Calendar{Location: loc, WorkingDays: w, DayStart: from, DayEnd: to, Holidays: holidays}
	}
	germany2026 := []CivilDate{
		{2026, 1, 1}, {2026, 4, 3}, {2026, 4, 6}, {2026, 5, 1}, {2026, 5, 14},
		{2026, 5, 25}, {2026, 10, 3}, {2026, 12, 25}, {2026, 12, 26},
	}
	tests := []struct {
		name     string
		cal      *Calendar
		from, to time.Time
		want     time.Duration
	}{
		{
			name: "nil calendar is wall-clock time, 23 h over Berlin's spring-forward night",
			from: local(berlin, 2026, 3, 28, 12, 0), to: local(berlin, 2026, 3, 29, 12, 0),
			want: 23 * time.Hour,
		},
		{
			name: "09:00-17:00 is 8 h on Berlin's spring-forward Sunday",
			cal:  office(berlin, everyDay, hm(9, 0), hm(17, 0)),
			from: local(berlin, 2026, 3, 29, 0, 0), to: local(berlin, 2026, 3, 30, 0, 0),
			want: 8 * time.Hour,
		},
		{
			name: "00:00-24:00 is 23 h on Berlin's spring-forward Sunday",
			cal:  office(berlin, everyDay, 0, 24*time.Hour),
			from: local(berlin, 2026, 3, 29, 0, 0), to: local(berlin, 2026, 3, 30, 0, 0),
			want: 23 * time.Hour,
		},
		{
			name: "09:00-17:00 is 8 h on Berlin's fall-back Sunday",
			cal:  office(berlin, everyDay, hm(9, 0), hm(17, 0)),
			from: local(berlin, 2026, 10, 25, 0, 0), to: local(berlin, 2026, 10, 26, 0, 0),
			want: 8 * time.Hour,
		},
		{
			name: "00:00-24:00 is 25 h on Berlin's fall-back Sunday",
			cal:  office(berlin, everyDay, 0, 24*time.Hour),
			from: local(berlin, 2026, 10, 25, 0, 0), to: local(berlin, 2026, 10, 26, 0, 0),
			want: 25 * time.Hour,
		},
		{
			name: "hours starting in the skipped hour start when the clocks jump",
			cal:  office(berlin, everyDay, hm(2, 30), hm(4, 0)),
			from: local(berlin, 2026, 3, 29, 0, 0), to: local(berlin, 2026, 3, 30, 0, 0),
			want: time.Hour,
		},
		{
			name: "hours ending in the repeated hour end at its first occurrence",
			cal:  office(berlin, everyDay, hm(1, 0), hm(2, 30)),
			from: local(berlin, 2026, 10, 25, 0, 0), to: local(berlin, 2026, 10, 26, 0, 0),
			want: 90 * time.Minute,
		},
		{
			name: "hours around the repeated hour contain it twice",
			cal:  office(berlin, everyDay, hm(2, 30), hm(3, 30)),
			from: local(berlin, 2026, 10, 25, 0, 0), to: local(berlin, 2026, 10, 26, 0, 0),
			want: 2 * time.Hour,
		},
		{
			name: "00:00-24:00 is 23 h on New York's spring-forward Sunday",
			cal:  office(ny, everyDay, 0, 24*time.Hour),
			from: local(ny, 2026, 3, 8, 0, 0), to: local(ny, 2026, 3, 9, 0, 0),
			want: 23 * time.Hour,
		},
		{
			name: "09:00-17:00 is 8 h on New York's fall-back Sunday",
			cal:  office(ny, everyDay, hm(9, 0), hm(17, 0)),
			from: local(ny, 2026, 11, 1, 0, 0), to: local(ny, 2026, 11, 2, 0, 0),
			want: 8 * time.Hour,
		},
		{
			name: "00:00-24:00 is 25 h on New York's fall-back Sunday",
			cal:  office(ny, everyDay, 0, 24*time.Hour),
			from: local(ny, 2026, 11, 1, 0, 0), to: local(ny, 2026, 11, 2, 0, 0),
			want: 25 * time.Hour,
		},
		{
			name: "two Monday-to-Friday weeks across New York's change are 80 h",
			cal:  office(ny, monToFri, hm(9, 0), hm(17, 0)),
			from: local(ny, 2026, 3, 2, 0, 0), to: local(ny, 2026, 3, 16, 0, 0),
			want: 80 * time.Hour,
		},
		{
			name: "00:00-24:00 is 25 h when Sydney's clocks go back in April",
			cal:  office(sydney, everyDay, 0, 24*time.Hour),
			from: local(sydney, 2026, 4, 5, 0, 0), to: local(sydney, 2026, 4, 6, 0, 0),
			want: 25 * time.Hour,
		},
		{
			name: "00:00-24:00 is 23 h when Sydney's clocks go forward in October",
			cal:  office(sydney, everyDay, 0, 24*time.Hour),
			from: local(sydney, 2026, 10, 4, 0, 0), to: local(sydney, 2026, 10, 5, 0, 0),
			want: 23 * time.Hour,
		},
		{
			name: "09:00-17:00 is 8 h on Sydney's October change",
			cal:  office(sydney, everyDay, hm(9, 0), hm(17, 0)),
			from: local(sydney, 2026, 10, 4, 0, 0), to: local(sydney, 2026, 10, 5, 0, 0),
			want: 8 * time.Hour,
		},
		{
			name: "Sydney's southern summer across the year end: a 24 h week of seven days is 168 h",
			cal:  office(sydney, everyDay, 0, 24*time.Hour),
			from: local(sydney, 2026, 12, 28, 0, 0), to: local(sydney, 2027, 1, 4, 0, 0),
			want: 168 * time.Hour,
		},
		{
			name: "Lord Howe's half-hour change makes a 24.5 h day",
			cal:  office(lordHowe, everyDay, 0, 24*time.Hour),
			from: local(lordHowe, 2026, 4, 5, 0, 0), to: local(lordHowe, 2026, 4, 6, 0, 0),
			want: 24*time.Hour + 30*time.Minute,
		},
		{
			name: "Samoa skipped 30 December 2011: no working hours that day",
			cal:  office(apia, everyDay, hm(9, 0), hm(17, 0)),
			from: local(apia, 2011, 12, 29, 0, 0), to: local(apia, 2012, 1, 1, 0, 0),
			want: 16 * time.Hour,
		},
		{
			name: "Samoa's December 2011 had 30 working days",
			cal:  office(apia, everyDay, hm(9, 0), hm(17, 0)),
			from: local(apia, 2011, 12, 1, 0, 0), to: local(apia, 2012, 1, 1, 0, 0),
			want: 30 * 8 * time.Hour,
		},
		{
			name: "São Paulo's clocks skipped midnight in November 2018: a 23 h day",
			cal:  office(saoPaulo, everyDay, 0, 24*time.Hour),
			from: local(saoPaulo, 2018, 11, 3, 12, 0), to: local(saoPaulo, 2018, 11, 5, 12, 0),
			want: 47 * time.Hour,
		},
		{
			name: "a weekend and two holidays across the year end",
			cal:  office(berlin, monToFri, hm(9, 0), hm(17, 0), CivilDate{2026, 12, 25}, CivilDate{2027, 1, 1}),
			from: local(berlin, 2026, 12, 31, 16, 0), to: local(berlin, 2027, 1, 4, 10, 0),
			want: 2 * time.Hour,
		},
		{
			name: "from outside working hours counts from the next morning",
			cal:  office(berlin, monToFri, hm(9, 0), hm(17, 0)),
			from: local(berlin, 2026, 3, 6, 18, 0), to: local(berlin, 2026, 3, 9, 10, 30),
			want: 90 * time.Minute,
		},
		{
			name: "round-the-clock weekdays across midnight and a weekend",
			cal:  office(berlin, monToFri, 0, 24*time.Hour),
			from: local(berlin, 2026, 3, 6, 20, 0), to: local(berlin, 2026, 3, 9, 4, 0),
			want: 8 * time.Hour,
		},
		{
			name: "hours until 24:00 run to midnight",
			cal:  office(berlin, monToFri, hm(18, 0), 24*time.Hour),
			from: local(berlin, 2026, 3, 6, 20, 0), to: local(berlin, 2026, 3, 7, 20, 0),
			want: 4 * time.Hour,
		},
		{
			name: "within one working day",
			cal:  office(berlin, monToFri, hm(9, 0), hm(17, 0)),
			from: local(berlin, 2026, 3, 3, 10, 15), to: local(berlin, 2026, 3, 3, 11, 0),
			want: 45 * time.Minute,
		},
		{
			name: "2026 in Berlin with German holidays: 254 working days",
			cal:  office(berlin, monToFri, hm(9, 0), hm(17, 0), germany2026...),
			from: local(berlin, 2026, 1, 1, 0, 0), to: local(berlin, 2027, 1, 1, 0, 0),
			want: 254 * 8 * time.Hour,
		},
		{
			name: "a holiday on a Saturday changes nothing",
			cal:  office(berlin, monToFri, hm(9, 0), hm(17, 0), CivilDate{2026, 10, 3}),
			from: local(berlin, 2026, 9, 28, 0, 0), to: local(berlin, 2026, 10, 5, 0, 0),
			want: 40 * time.Hour,
		},
		{
			name: "duplicate holidays count once",
			cal:  office(berlin, monToFri, hm(9, 0), hm(17, 0), CivilDate{2026, 3, 4}, CivilDate{2026, 3, 4}),
			from: local(berlin, 2026, 3, 2, 0, 0), to: local(berlin, 2026, 3, 23, 0, 0),
			want: 14 * 8 * time.Hour,
		},
		{
			name: "round the clock from January to July in Berlin loses the spring hour",
			cal:  office(berlin, everyDay, 0, 24*time.Hour),
			from: local(berlin, 2026, 1, 1, 0, 0), to: local(berlin, 2026, 7, 1, 0, 0),
			want: 181*24*time.Hour - time.Hour,
		},
		{
			name: "round the clock from July to January in Sydney loses the October hour",
			cal:  office(sydney, everyDay, 0, 24*time.Hour),
			from: local(sydney, 2026, 7, 1, 0, 0), to: local(sydney, 2027, 1, 1, 0, 0),
			want: 184*24*time.Hour - time.Hour,
		},
		{
			name: "a round-the-clock calendar over ten Berlin years is wall-clock time",
			cal:  office(berlin, everyDay, 0, 24*time.Hour),
			from: local(berlin, 2020, 1, 1, 0, 0), to: local(berlin, 2030, 1, 1, 0, 0),
			want: local(berlin, 2030, 1, 1, 0, 0).Sub(local(berlin, 2020, 1, 1, 0, 0)),
		},
		{
			name: "a round-the-clock calendar over thirty Sydney years is wall-clock time",
			cal:  office(sydney, everyDay, 0, 24*time.Hour),
			from: local(sydney, 2000, 7, 1, 13, 0), to: local(sydney, 2030, 7, 1, 13, 0),
			want: local(sydney, 2030, 7, 1, 13, 0).Sub(local(sydney, 2000, 7, 1, 13, 0)),
		},
		{
			name: "no working days: no working time",
			cal:  office(berlin, [7]bool{}, hm(9, 0), hm(17, 0)),
			from: local(berlin, 2026, 1, 1, 0, 0), to: local(berlin, 2027, 1, 1, 0, 0),
		},
		{
			name: "hours ending before they start: no working time",
			cal:  office(berlin, everyDay, hm(17, 0), hm(9, 0)),
			from: local(berlin, 2026, 1, 1, 0, 0), to: local(berlin, 2027, 1, 1, 0, 0),
		},
		{
			name: "to before from is zero",
			cal:  office(berlin, everyDay, 0, 24*time.Hour),
			from: local(berlin, 2026, 1, 2, 0, 0), to: local(berlin, 2026, 1, 1, 0, 0),
		},
		{
			name: "nothing before 1900 is working time",
			cal:  office(time.UTC, everyDay, 0, 24*time.Hour),
			from: time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC), to: time.Date(1900, 1, 2, 0, 0, 0, 0, time.UTC),
			want: 24 * time.Hour,
		},
		{
			name: "nothing from 2200 on is working time",
			cal:  office(time.UTC, everyDay, 0, 24*time.Hour),
			from: time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC), to: time.Date(2200, 1, 2, 0, 0, 0, 0, time.UTC),
			want: 24 * time.Hour,
		},
		{
			name: "a calendar without a zone is UTC",
			cal:  &Calendar{WorkingDays: everyDay, DayStart: hm(9, 0), DayEnd: hm(17, 0)},
			from: time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC), to: time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC),
			want: 3 * time.Hour,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.Elapsed(tt.from, tt.to); got != tt.want {
				t.Errorf("Elapsed(%s, %s) = %s, want %s", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestCalendarAdd(t *testing.T) {
	berlin, sydney, ny := zone(t, "Europe/Berlin"), zone(t, "Australia/Sydney"), zone(t, "America/New_York")
	office := &Calendar{Location: berlin, WorkingDays: monToFri, DayStart: hm(9, 0), DayEnd: hm(17, 0),
		Holidays: []CivilDate{{2026, 12, 25}, {2027, 1, 1}, {2026, 4, 6}}}
	tests := []struct {
		name string
		cal  *Calendar
		from time.Time
		d    time.Duration
		// want is Add's answer, the earliest instant; latest is the instant
		// the clock runs on past d, what a breach is.
		want, latest time.Time
	}{
		{
			name: "nil calendar adds wall-clock time",
			from: local(berlin, 2026, 3, 28, 12, 0), d: 24 * time.Hour,
			want: local(berlin, 2026, 3, 29, 13, 0), latest: local(berlin, 2026, 3, 29, 13, 0),
		},
		{
			name: "Friday afternoon into Monday",
			cal:  office, from: local(berlin, 2026, 3, 6, 15, 0), d: 4 * time.Hour,
			want: local(berlin, 2026, 3, 9, 11, 0), latest: local(berlin, 2026, 3, 9, 11, 0),
		},
		{
			name: "used up at the end of Friday: 17:00, breached when Monday starts",
			cal:  office, from: local(berlin, 2026, 3, 6, 16, 0), d: time.Hour,
			want: local(berlin, 2026, 3, 6, 17, 0), latest: local(berlin, 2026, 3, 9, 9, 0),
		},
		{
			name: "used up before Easter Monday: breached on Tuesday",
			cal:  office, from: local(berlin, 2026, 4, 2, 9, 0), d: 8 * time.Hour,
			want: local(berlin, 2026, 4, 2, 17, 0), latest: local(berlin, 2026, 4, 3, 9, 0),
		},
		{
			name: "from a Saturday: the next working morning",
			cal:  office, from: local(berlin, 2026, 3, 7, 12, 0), d: 30 * time.Minute,
			want: local(berlin, 2026, 3, 9, 9, 30), latest: local(berlin, 2026, 3, 9, 9, 30),
		},
		{
			name: "over Christmas and the new year",
			cal:  office, from: local(berlin, 2026, 12, 24, 16, 0), d: 2*8*time.Hour + 2*time.Hour,
			want: local(berlin, 2026, 12, 30, 10, 0), latest: local(berlin, 2026, 12, 30, 10, 0),
		},
		{
			name: "zero from a Saturday is the Saturday; its breach is Monday morning",
			cal:  office, from: local(berlin, 2026, 3, 7, 12, 0),
			want: local(berlin, 2026, 3, 7, 12, 0), latest: local(berlin, 2026, 3, 9, 9, 0),
		},
		{
			name: "negative is zero",
			cal:  office, from: local(berlin, 2026, 3, 7, 12, 0), d: -time.Hour,
			want: local(berlin, 2026, 3, 7, 12, 0), latest: local(berlin, 2026, 3, 9, 9, 0),
		},
		{
			name: "1000 working hours are 125 working days",
			cal:  &Calendar{Location: berlin, WorkingDays: monToFri, DayStart: hm(9, 0), DayEnd: hm(17, 0)},
			from: local(berlin, 2026, 1, 5, 9, 0), d: 1000 * time.Hour,
			want: local(berlin, 2026, 6, 26, 17, 0), latest: local(berlin, 2026, 6, 29, 9, 0),
		},
		{
			name: "round the clock over Berlin's spring-forward night",
			cal:  &Calendar{Location: berlin, WorkingDays: everyDay, DayEnd: 24 * time.Hour},
			from: local(berlin, 2026, 3, 29, 0, 0), d: 23 * time.Hour,
			want: local(berlin, 2026, 3, 30, 0, 0), latest: local(berlin, 2026, 3, 30, 0, 0),
		},
		{
			name: "round the clock over Sydney's April change",
			cal:  &Calendar{Location: sydney, WorkingDays: everyDay, DayEnd: 24 * time.Hour},
			from: local(sydney, 2026, 4, 5, 0, 0), d: 25 * time.Hour,
			want: local(sydney, 2026, 4, 6, 0, 0), latest: local(sydney, 2026, 4, 6, 0, 0),
		},
		{
			name: "into New York's repeated hour: its first occurrence",
			cal:  &Calendar{Location: ny, WorkingDays: everyDay, DayEnd: 24 * time.Hour},
			from: local(ny, 2026, 11, 1, 0, 0), d: 90 * time.Minute,
			want: time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), latest: time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),
		},
		{
			name: "a year of working weeks, jumped over, with holidays",
			cal:  office, from: local(berlin, 2026, 1, 2, 9, 0), d: 3 * 8 * time.Hour * 100,
			// 300 working days from Friday 2 January 2026, with 6 April,
			// 25 December and 1 January off.
			want: workingDayEnd(t, office, local(berlin, 2026, 1, 2, 9, 0), 300),
		},
		{
			name: "no working days: never",
			cal:  &Calendar{Location: berlin, DayStart: hm(9, 0), DayEnd: hm(17, 0)},
			from: local(berlin, 2026, 3, 6, 15, 0), d: time.Hour,
		},
		{
			name: "beyond 2199: never",
			cal:  &Calendar{Location: time.UTC, WorkingDays: everyDay, DayEnd: 24 * time.Hour},
			from: time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC), d: 48 * time.Hour,
		},
		{
			name: "from before 1900 counts from 1900",
			cal:  &Calendar{Location: time.UTC, WorkingDays: everyDay, DayEnd: 24 * time.Hour},
			from: time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), d: time.Hour,
			want: time.Date(1900, 1, 1, 1, 0, 0, 0, time.UTC), latest: time.Date(1900, 1, 1, 1, 0, 0, 0, time.UTC),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cal.Add(tt.from, tt.d)
			if !got.Equal(tt.want) {
				t.Errorf("Add(%s, %s) = %s, want %s", tt.from, tt.d, got, tt.want)
			}
			if tt.latest.IsZero() && !tt.want.IsZero() {
				return // the case is about the earliest instant only
			}
			if got := tt.cal.index().add(tt.from, tt.d, true); !got.Equal(tt.latest) {
				t.Errorf("latest add(%s, %s) = %s, want %s", tt.from, tt.d, got, tt.latest)
			}
		})
	}
}

// workingDayEnd is the end of the nth working day from start, counted day by
// day without the arithmetic under test.
func workingDayEnd(t *testing.T, c *Calendar, start time.Time, n int) time.Time {
	t.Helper()
	holiday := map[CivilDate]bool{}
	for _, h := range c.Holidays {
		holiday[h] = true
	}
	y, m, d := start.In(c.Location).Date()
	for i := 0; ; d++ {
		date := time.Date(y, m, d, 0, 0, 0, 0, c.Location)
		cd := CivilDate{date.Year(), date.Month(), date.Day()}
		if c.WorkingDays[date.Weekday()] && !holiday[cd] {
			if i++; i == n {
				return time.Date(cd.Year, cd.Month, cd.Day, 0, 0, 0, int(c.DayEnd), c.Location)
			}
		}
	}
}

// wantError fails unless err is nil where want is empty, or has exactly the
// text want: configuration errors are read by people, so their wording is
// part of the contract.
func wantError(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("Validate() = %v, want nil", err)
	case want != "" && (err == nil || err.Error() != want):
		t.Errorf("Validate() = %v, want %q", err, want)
	}
}

func TestCalendarValidate(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	good := func() *Calendar {
		return &Calendar{Location: berlin, WorkingDays: monToFri, DayStart: hm(9, 0), DayEnd: hm(17, 0)}
	}
	tests := []struct {
		name   string
		mutate func(*Calendar)
		want   string
	}{
		{name: "valid", mutate: func(*Calendar) {}},
		{name: "until midnight", mutate: func(c *Calendar) { c.DayEnd = 24 * time.Hour }},
		{name: "no zone", mutate: func(c *Calendar) { c.Location = nil }, want: "calendar has no time zone"},
		{name: "start before midnight", mutate: func(c *Calendar) { c.DayStart = -time.Minute }, want: "working hours start at -1m0s, which is not a time of day"},
		{name: "start at 24:00", mutate: func(c *Calendar) { c.DayStart = 24 * time.Hour }, want: "working hours start at 24:00, which is not a time of day"},
		{name: "end after 24:00", mutate: func(c *Calendar) { c.DayEnd = hm(25, 0) }, want: "working hours end at 25h0m0s, which is not between 00:00 and 24:00"},
		{name: "end at 00:00", mutate: func(c *Calendar) { c.DayEnd = 0 }, want: "working hours end at 00:00, which is not between 00:00 and 24:00"},
		{name: "night shift", mutate: func(c *Calendar) { c.DayStart, c.DayEnd = hm(22, 0), hm(6, 0) }, want: "working hours start at 22:00, not before they end at 06:00"},
		{name: "empty hours", mutate: func(c *Calendar) { c.DayEnd = c.DayStart }, want: "working hours start at 09:00, not before they end at 09:00"},
		{name: "no working days", mutate: func(c *Calendar) { c.WorkingDays = [7]bool{} }, want: "calendar has no working days"},
		{name: "31 April", mutate: func(c *Calendar) { c.Holidays = []CivilDate{{2026, 12, 25}, {2026, 4, 31}} }, want: "holiday 2026-04-31 is not a date"},
		{name: "month 13", mutate: func(c *Calendar) { c.Holidays = []CivilDate{{2026, 13, 1}} }, want: "holiday 2026-13-01 is not a date"},
		{name: "holiday in 2200", mutate: func(c *Calendar) { c.Holidays = []CivilDate{{2200, 1, 1}} }, want: "holiday 2200-01-01 is outside the years 1900 to 2199 a calendar covers"},
		{name: "duplicate holiday", mutate: func(c *Calendar) { c.Holidays = []CivilDate{{2026, 12, 25}, {2026, 12, 25}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.mutate(c)
			wantError(t, c.Validate(), tt.want)
		})
	}
	if err := (*Calendar)(nil).Validate(); err != nil {
		t.Errorf("nil calendar: %v", err)
	}
}

// propertyZones cover both hemispheres, half-hour offsets and changes, a
// skipped day and clocks that changed at midnight.
var propertyZones = []string{
	"UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
	"Asia/Kolkata", "Pacific/Apia", "Pacific/Chatham", "America/St_Johns", "America/Sao_Paulo",
}

// randomCalendar draws a calendar with whole-minute hours and a few holidays
// in 2010..2030.
func randomCalendar(r *rand.Rand, locs []*time.Location) *Calendar {
	c := &Calendar{Location: locs[r.IntN(len(locs))]}
	for !c.WorkingDays[0] && !c.WorkingDays[1] && !c.WorkingDays[2] && !c.WorkingDays[3] &&
		!c.WorkingDays[4] && !c.WorkingDays[5] && !c.WorkingDays[6] {
		for i := range c.WorkingDays {
			c.WorkingDays[i] = r.IntN(3) > 0
		}
	}
	if r.IntN(4) == 0 {
		c.DayStart, c.DayEnd = 0, 24*time.Hour
	} else {
		start := r.IntN(24 * 60)
		c.DayStart = time.Duration(start) * time.Minute
		c.DayEnd = time.Duration(start+1+r.IntN(24*60-start)) * time.Minute
	}
	for range r.IntN(12) {
		c.Holidays = append(c.Holidays, CivilDate{2010 + r.IntN(21), time.Month(1 + r.IntN(12)), 1 + r.IntN(28)})
	}
	return c
}

func randomInstant(r *rand.Rand) time.Time {
	from, to := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	return time.Unix(from+r.Int64N(to-from), 0)
}

// TestCalendarProperties checks, on seeded random calendars and instants:
// Add and Elapsed are inverse, Elapsed is additive, the whole-week arithmetic
// equals a plain day-by-day sum, and the latest instant is one where the
// clock runs.
func TestCalendarProperties(t *testing.T) {
	locs := make([]*time.Location, len(propertyZones))
	for i, z := range propertyZones {
		locs[i] = zone(t, z)
	}
	r := rand.New(rand.NewPCG(11, 2026))
	const cases = 1000
	for i := range cases {
		c := randomCalendar(r, locs)
		x := c.index()
		from := randomInstant(r)
		d := time.Duration(r.Int64N(int64(2000 * time.Hour))).Truncate(time.Minute)
		if r.IntN(3) == 0 {
			d = time.Duration(r.Int64N(int64(10 * time.Hour))).Truncate(time.Minute)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("case %d, %s %v %s–%s holidays %v: "+format,
				append([]any{i, c.Location, c.WorkingDays, clock(c.DayStart), clock(c.DayEnd), c.Holidays}, args...)...)
		}

		earliest, latest := c.Add(from, d), x.add(from, d, true)
		switch {
		case earliest.IsZero():
			// Never: only when the working time left before 2200 falls short.
			if left := c.Elapsed(from, calendarEnd); left >= d || !latest.IsZero() {
				fail("Add(%s, %s) is never, latest %s, with %s of working time left", from, d, latest, left)
			}
		case earliest.Before(from):
			fail("Add(%s, %s) = %s is before from", from, d, earliest)
		case c.Elapsed(from, earliest) != d:
			fail("Elapsed(from, Add(from, %s)) = %s; from %s, Add %s", d, c.Elapsed(from, earliest), from, earliest)
		case latest.Before(earliest) || x.elapsed(from, latest) != d:
			fail("latest add(%s, %s) = %s, earliest %s, elapsed %s", from, d, latest, earliest, x.elapsed(from, latest))
		case x.elapsed(latest, latest.Add(time.Nanosecond)) != time.Nanosecond:
			fail("the clock does not run at the latest instant %s (from %s, d %s)", latest, from, d)
		}

		to := from.Add(time.Duration(r.Int64N(int64(120 * 24 * time.Hour))))
		mid := from.Add(time.Duration(r.Int64N(int64(to.Sub(from)) + 1)))
		whole := c.Elapsed(from, to)
		if parts := c.Elapsed(from, mid) + c.Elapsed(mid, to); parts != whole {
			fail("Elapsed(%s, %s) = %s, but %s split at %s", from, to, whole, parts, mid)
		}
		var byDay time.Duration
		for dn := x.day(from); dn <= x.day(to); dn++ {
			byDay += x.overlap(dn, from, to)
		}
		if byDay != whole {
			fail("Elapsed(%s, %s) = %s, day by day %s", from, to, whole, byDay)
		}
	}
}

// TestCalendarBounded: instants far outside the calendar's years and the
// longest spans cost a bounded amount and give the defined results.
func TestCalendarBounded(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	c := &Calendar{Location: berlin, WorkingDays: monToFri, DayStart: hm(9, 0), DayEnd: hm(17, 0)}
	minTime, maxTime := time.Unix(-1<<62, 0), time.Unix(1<<62, 0)
	all := c.Elapsed(calendarStart, calendarEnd)
	if got := c.Elapsed(minTime, maxTime); got != all || all <= 0 {
		t.Errorf("Elapsed over all time = %s, over 1900..2199 %s", got, all)
	}
	if got := c.Elapsed(time.Time{}, calendarStart); got != 0 {
		t.Errorf("Elapsed before 1900 = %s", got)
	}
	if got := c.Add(maxTime, time.Hour); !got.IsZero() {
		t.Errorf("Add after 2199 = %s, want never", got)
	}
	if got := c.Add(minTime, time.Hour); !got.Equal(local(berlin, 1900, 1, 1, 10, 0)) {
		t.Errorf("Add from before 1900 = %s", got)
	}
	if got := c.Add(calendarStart, all); got.IsZero() || c.Elapsed(calendarStart, got) != all {
		t.Errorf("Add(1900, all working time) = %s", got)
	}
	if got := c.Add(calendarStart, all+time.Nanosecond); !got.IsZero() {
		t.Errorf("Add(1900, more than all working time) = %s, want never", got)
	}
	tiny := &Calendar{Location: berlin, WorkingDays: days(time.Sunday), DayStart: hm(2, 45), DayEnd: hm(3, 15)}
	if got := tiny.Add(calendarStart, 1<<62); !got.IsZero() {
		t.Errorf("Add(1900, 146 years) on half an hour a week = %s, want never", got)
	}
	round := &Calendar{Location: time.UTC, WorkingDays: everyDay, DayEnd: 24 * time.Hour}
	if got := round.Elapsed(minTime, maxTime); got != 1<<63-1 {
		t.Errorf("300 years round the clock = %s, want the largest Duration", got)
	}
}
