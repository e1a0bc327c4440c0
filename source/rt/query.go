package rt

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// sqlTimeLayout is the only date form the exporter writes into TicketSQL.
// RT 5.0.3 reads an ISO time with T and Z as the start of its day (REST2.md).
const sqlTimeLayout = "2006-01-02 15:04:05"

// rtReading is the instant RT makes of a date literal, given as the wall
// time it spells (in UTC, as a naive clock reading) and the zone RT reads
// it in: RT::Date parses it as UTC and subtracts the zone's offset at that
// UTC instant (ParseByTimeParseDate), which is the true reading except in
// the hours around a clock change.
func rtReading(naive time.Time, loc *time.Location) time.Time {
	_, offset := naive.In(loc).Zone()
	return naive.Add(-time.Duration(offset) * time.Second)
}

// lowerBound writes t as a TicketSQL literal that RT reads as an instant
// not after t, and returns that instant: t floored to the second, moved
// back where RT's reading near a clock change would land after t.
func lowerBound(t time.Time, loc *time.Location) (string, time.Time) {
	w := t.In(loc)
	naive := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
	for range 4 {
		r := rtReading(naive, loc)
		if !r.After(t) {
			return naive.Format(sqlTimeLayout), r
		}
		over := r.Sub(t)
		step := over.Truncate(time.Second)
		if step < over {
			step += time.Second
		}
		naive = naive.Add(-step)
	}
	// Unreachable for real zones (offsets differ by hours at most), but a
	// day earlier is always a safe lower bound.
	naive = naive.Add(-26 * time.Hour)
	return naive.Format(sqlTimeLayout), rtReading(naive, loc)
}

// quote writes s as a TicketSQL string.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// ticketSQL writes the queries of one source around its selection, which
// is always parenthesised so its OR clauses cannot capture the bounds.
type ticketSQL struct {
	base string
	loc  *time.Location
}

func newTicketSQL(cfg Config, loc *time.Location) ticketSQL {
	if q := strings.TrimSpace(cfg.Query); q != "" {
		return ticketSQL{base: q, loc: loc}
	}
	parts := make([]string, len(cfg.Queues))
	for i, q := range cfg.Queues {
		parts[i] = "Queue = " + quote(strings.TrimSpace(q))
	}
	return ticketSQL{base: strings.Join(parts, " OR "), loc: loc}
}

// selection is every ticket the configuration chooses.
func (b ticketSQL) selection() string { return "(" + b.base + ")" }

// scope is every ticket the exporter tracks: updated since the horizon, or
// still active however old (__Active__ is RT's initial and active
// statuses of every lifecycle).
func (b ticketSQL) scope(horizon time.Time) string {
	lit, _ := lowerBound(horizon, b.loc)
	return fmt.Sprintf("%s AND (LastUpdated >= '%s' OR Status = '__Active__')", b.selection(), lit)
}

// updatedSince is every selected ticket updated at or after since.
func (b ticketSQL) updatedSince(since time.Time) string {
	lit, _ := lowerBound(since, b.loc)
	return fmt.Sprintf("%s AND LastUpdated >= '%s'", b.selection(), lit)
}

// afterID adds the keyset position: a walk resumes with "id > last id seen".
func afterID(query string, id int64) string {
	if id <= 0 {
		return query
	}
	return query + " AND id > " + strconv.FormatInt(id, 10)
}

// idSet writes "ObjectId is one of ids" for transaction SQL, which has no
// IN: runs of consecutive ids become ranges, the rest an OR of equalities.
// ids must be sorted ascending and distinct.
func idSet(ids []int64) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j-i >= 2 {
			parts = append(parts, fmt.Sprintf("(ObjectId >= %d AND ObjectId <= %d)", ids[i], ids[j]))
		} else {
			for k := i; k <= j; k++ {
				parts = append(parts, "ObjectId = "+strconv.FormatInt(ids[k], 10))
			}
		}
		i = j + 1
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}
