package demo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

const (
	// retention is how far back the desk's history reaches: tickets created
	// earlier are in scope only while they are still open.
	retention = 45 * day
	// maxBatch caps the tickets in one emitted batch.
	maxBatch = 500
	// maxTicketsPerDay keeps the busiest hour well below slotCapacity and a
	// poll cheap.
	maxTicketsPerDay = 5000
	// slotCapacity is the id space per hour: id = slot*slotCapacity + index.
	slotCapacity = 1000
	slotLength   = time.Hour
)

// keyBase makes keys shorter than ids: key numbers count from 2020.
var keyBase = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / int64(slotLength/time.Second) * slotCapacity

// cursorPrefix versions the cursor format and the simulation: a cursor of
// an earlier version (v1 had no customer groups or teams) makes the next
// poll deliver everything again.
const cursorPrefix = "demo/v2"

// Source is the simulated service desk. It is safe for concurrent use.
type Source struct {
	seed          uint64
	desks         []weighted[string]
	ticketsPerDay float64
	fingerprint   string
	now           func() time.Time

	mu sync.Mutex
	// slots memoises generated lifecycles per hour slot, sorted by creation.
	// Slots older than the retention window keep only the tickets that can
	// still matter.
	slots map[int64][]*lifecycle
	// latest is the newest clock reading a poll used; pruning relies on the
	// clock not going back, so the memo is dropped when it does.
	latest time.Time
	// generated counts lifecycles generated, to check what a poll costs.
	generated int
	// ticketPCG and ticketRand are reseeded for every lifecycle generated,
	// which spares two allocations per ticket.
	ticketPCG  *rand.PCG
	ticketRand *rand.Rand
}

// Option configures a Source.
type Option func(*Source)

// WithClock replaces the wall clock, for tests and golden files.
func WithClock(now func() time.Time) Option {
	return func(s *Source) {
		if now != nil {
			s.now = now
		}
	}
}

// New validates cfg and returns the simulated desk it describes.
func New(cfg Config, opts ...Option) (*Source, error) {
	if len(cfg.Desks) == 0 {
		return nil, errors.New("demo source: desks must list at least one desk")
	}
	seen := make(map[string]bool, len(cfg.Desks))
	desks := make([]weighted[string], 0, len(cfg.Desks))
	for i, desk := range cfg.Desks {
		switch {
		case strings.TrimSpace(desk) == "":
			return nil, fmt.Errorf("demo source: desk %d is empty", i+1)
		case seen[desk]:
			return nil, fmt.Errorf("demo source: desk %q is listed twice", desk)
		}
		seen[desk] = true
		desks = append(desks, weighted[string]{desk, profileOf(desk).share})
	}
	tpd := cfg.TicketsPerDay
	switch {
	case math.IsNaN(tpd) || tpd <= 0:
		return nil, fmt.Errorf("demo source: tickets_per_day must be greater than 0, got %v", tpd)
	case tpd > maxTicketsPerDay:
		return nil, fmt.Errorf("demo source: tickets_per_day must be at most %d, got %v", maxTicketsPerDay, tpd)
	}

	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%v\x00%s", cfg.Seed, tpd, strings.Join(cfg.Desks, "\x00"))
	s := &Source{
		seed:          uint64(cfg.Seed),
		desks:         desks,
		ticketsPerDay: tpd,
		fingerprint:   strconv.FormatUint(h.Sum64(), 16),
		now:           time.Now,
		slots:         make(map[int64][]*lifecycle),
		ticketPCG:     rand.NewPCG(0, 0),
	}
	s.ticketRand = rand.New(s.ticketPCG)
	for _, opt := range opts {
		opt(s)
	}
	return s, nil
}

// Poll delivers the desk's tickets as of the source's clock. With a nil,
// foreign or outdated cursor it delivers the whole history (tickets created
// within the last 45 days and tickets still open); otherwise only the
// tickets whose facts changed after the cursor. The last batch carries the
// cursor for "now" and the complete in-scope id set.
//
// The simulation keeps its own fixed history window, so horizon, which
// only decides which events the store counts, does not change what is
// delivered.
func (s *Source) Poll(ctx context.Context, horizon time.Time, cursor []byte, emit func(context.Context, ticket.Batch) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.now()
	windowStart := now.Add(-retention)
	since, incremental := s.decodeCursor(cursor)
	if incremental && since.Before(windowStart) {
		incremental = false
	}
	s.advance(now)

	// Each delivered ticket goes with its last change up to now.
	type delivery struct {
		lc   *lifecycle
		last time.Time
	}
	var deliver []delivery
	var inScope []string
	for slot := slotOf(windowStart.Add(-maxLifetime)); slot <= slotOf(now); slot++ {
		for _, lc := range s.slots[slot] {
			if lc.created.After(now) {
				break
			}
			scoped := !lc.created.Before(windowStart) || now.Before(lc.settled)
			if scoped {
				inScope = append(inScope, lc.id)
			}
			if incremental && lc.changedIn(since, now) || !incremental && scoped {
				deliver = append(deliver, delivery{lc, lc.lastChangeUntil(now)})
			}
		}
	}
	// Oldest change first, so that a batch's cursor can promise every
	// ticket that changed up to it has been delivered.
	slices.SortStableFunc(deliver, func(a, b delivery) int { return a.last.Compare(b.last) })

	finalCursor := s.encodeCursor(now)
	if incremental && !now.After(since) {
		finalCursor = nil // the clock has not moved past the cursor
	}
	for start := 0; start == 0 || start < len(deliver); start += maxBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+maxBatch, len(deliver))
		batch := ticket.Batch{Tickets: make([]ticket.Ticket, 0, end-start)}
		for _, d := range deliver[start:end] {
			batch.Tickets = append(batch.Tickets, d.lc.factsAt(now))
		}
		if end < len(deliver) {
			// Everything that changed before the next ticket's last change
			// is in this batch or an earlier one.
			batch.Cursor = s.encodeCursor(deliver[end].last.Add(-time.Nanosecond))
		} else {
			batch.Cursor = finalCursor
			batch.InScope = inScope
		}
		if !incremental {
			batch.Progress = &ticket.Progress{Done: end, Total: len(deliver)}
		}
		if err := emit(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// advance brings the slot memo to the window that matters at now: slots
// within retention+maxLifetime are generated, older ones dropped, and slots
// before the retention window keep only tickets that changed within it
// (the only ones still open or still changing after any valid cursor).
func (s *Source) advance(now time.Time) {
	if now.Before(s.latest) {
		s.slots = make(map[int64][]*lifecycle)
	}
	s.latest = now
	windowStart := now.Add(-retention)
	lo, hi := slotOf(windowStart.Add(-maxLifetime)), slotOf(now)
	for slot := range s.slots {
		if slot < lo {
			delete(s.slots, slot)
		}
	}
	for slot := lo; slot <= hi; slot++ {
		tickets, ok := s.slots[slot]
		if !ok {
			tickets = s.generateSlot(slot)
		}
		if slotStart(slot + 1).Before(windowStart) {
			tickets = slices.DeleteFunc(tickets, func(lc *lifecycle) bool { return lc.lastChange.Before(windowStart) })
		}
		s.slots[slot] = tickets
	}
}

// generateSlot creates the tickets that arrive in one hour slot.
func (s *Source) generateSlot(slot int64) []*lifecycle {
	start := slotStart(slot)
	r := rand.New(rand.NewPCG(s.seed, uint64(slot)))
	n := min(poisson(r, arrivalMean(s.ticketsPerDay, start)), slotCapacity)
	type arrival struct {
		offset time.Duration
		desk   string
	}
	arrivals := make([]arrival, n)
	for i := range arrivals {
		arrivals[i] = arrival{
			offset: time.Duration(r.Int64N(int64(slotLength/time.Millisecond))) * time.Millisecond,
			desk:   pick(r, s.desks),
		}
	}
	slices.SortStableFunc(arrivals, func(a, b arrival) int { return int(a.offset - b.offset) })
	tickets := make([]*lifecycle, n)
	for i, a := range arrivals {
		id := slot*slotCapacity + int64(i)
		seedTicketRNG(s.ticketPCG, s.seed, id)
		tickets[i] = newLifecycle(s.ticketRand, s.seed, id, id-keyBase+1, a.desk, start.Add(a.offset))
	}
	s.generated += n
	return tickets
}

func slotOf(t time.Time) int64 {
	return int64(math.Floor(float64(t.Unix()) / slotLength.Seconds()))
}

func slotStart(slot int64) time.Time {
	return time.Unix(slot*int64(slotLength/time.Second), 0).UTC()
}

func (s *Source) encodeCursor(t time.Time) []byte {
	return fmt.Appendf(nil, "%s %s %d", cursorPrefix, s.fingerprint, t.UnixNano())
}

// decodeCursor returns the instant a cursor was delivered up to. It reports
// false for a nil cursor, one in another format, or one written for another
// configuration: all of those call for a full delivery.
func (s *Source) decodeCursor(cursor []byte) (time.Time, bool) {
	fields := strings.Fields(string(cursor))
	if len(fields) != 3 || fields[0] != cursorPrefix || fields[1] != s.fingerprint {
		return time.Time{}, false
	}
	nanos, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, nanos).UTC(), true
}
