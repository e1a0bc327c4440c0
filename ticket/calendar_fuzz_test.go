package ticket

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzCalendar feeds any calendar, valid or not, and any instants to the
// calendar arithmetic: it must never panic or run away, and Elapsed and Add
// must agree with each other. The seeds in testdata/fuzz/FuzzCalendar are
// clock changes in both hemispheres, Samoa's skipped day, calendars without
// working time and instants far outside 1900..2199.
//
// zoneIndex picks one of propertyZones; weekdays is a bit per time.Weekday;
// the hours are signed minutes (so also outside a day); holidays holds
// little-endian int16 day offsets from the day of from; from is Unix
// milliseconds; span and d are seconds.
func FuzzCalendar(f *testing.F) {
	locs := make([]*time.Location, len(propertyZones))
	for i, z := range propertyZones {
		locs[i] = zone(f, z)
	}
	f.Fuzz(func(t *testing.T, zoneIndex, weekdays uint8, startMinute, endMinute int16, holidays []byte, fromMilli int64, spanSeconds, dSeconds uint32) {
		from := time.UnixMilli(fromMilli)
		c := &Calendar{
			Location: locs[int(zoneIndex)%len(locs)],
			DayStart: time.Duration(startMinute) * time.Minute,
			DayEnd:   time.Duration(endMinute) * time.Minute,
		}
		for i := range c.WorkingDays {
			c.WorkingDays[i] = weekdays&(1<<i) != 0
		}
		for i := 0; i+1 < len(holidays) && len(c.Holidays) < 32; i += 2 {
			offset := int64(int16(binary.LittleEndian.Uint16(holidays[i:])))
			y, m, d := from.Add(time.Duration(offset) * 24 * time.Hour).In(c.Location).Date()
			c.Holidays = append(c.Holidays, CivilDate{y, m, d})
		}
		_ = c.Validate()

		span := time.Duration(spanSeconds) * time.Second
		to := from.Add(span)
		whole := c.Elapsed(from, to)
		if whole < 0 || whole > span {
			t.Fatalf("Elapsed(%s, %s) = %s of a %s span", from, to, whole, span)
		}
		mid := from.Add(span / 3)
		if parts := c.Elapsed(from, mid) + c.Elapsed(mid, to); parts != whole {
			t.Fatalf("Elapsed(%s, %s) = %s, but %s split at %s", from, to, whole, parts, mid)
		}

		d := time.Duration(dSeconds) * time.Second
		earliest := c.Add(from, d)
		switch {
		case d == 0:
			if !earliest.Equal(from) {
				t.Fatalf("Add(%s, 0) = %s", from, earliest)
			}
		case earliest.IsZero():
			if left := c.Elapsed(from, calendarEnd); left >= d {
				t.Fatalf("Add(%s, %s) is never, yet %s of working time is left", from, d, left)
			}
		case earliest.Before(from):
			t.Fatalf("Add(%s, %s) = %s, before from", from, d, earliest)
		default:
			if got := c.Elapsed(from, earliest); got != d {
				t.Fatalf("Elapsed(from, Add(%s, %s) = %s) = %s", from, d, earliest, got)
			}
		}
		latest := c.index().add(from, d, true)
		if earliest.IsZero() && d > 0 && !latest.IsZero() {
			t.Fatalf("Add(%s, %s) is never but its latest instant %s", from, d, latest)
		}
		if !latest.IsZero() {
			if latest.Before(earliest) || c.Elapsed(from, latest) != d {
				t.Fatalf("latest add(%s, %s) = %s, earliest %s", from, d, latest, earliest)
			}
		}
	})
}
