package demo

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// pinned is a Wednesday morning; every test runs on a pinned clock.
var pinned = time.Date(2026, 11, 18, 10, 17, 23, 0, time.UTC)

var defaultConfig = Config{Seed: 1, Desks: []string{"IT", "HR", "FAC"}, TicketsPerDay: 150}

// clock is a settable clock for WithClock.
type clock struct{ now time.Time }

func (c *clock) read() time.Time { return c.now }

func newSource(t *testing.T, cfg Config, c *clock) *Source {
	t.Helper()
	s, err := New(cfg, WithClock(c.read))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// poll runs one poll and returns its batches.
func poll(t *testing.T, s *Source, cursor []byte) []ticket.Batch {
	t.Helper()
	var batches []ticket.Batch
	err := s.Poll(context.Background(), time.Time{}, cursor, func(_ context.Context, b ticket.Batch) error {
		batches = append(batches, b)
		return nil
	})
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if len(batches) == 0 {
		t.Fatal("Poll emitted no batch")
	}
	return batches
}

// lastCursor is the cursor the store holds after committing batches on top
// of previous.
func lastCursor(previous []byte, batches []ticket.Batch) []byte {
	for _, b := range batches {
		if b.Cursor != nil {
			previous = b.Cursor
		}
	}
	return previous
}

func tickets(batches []ticket.Batch) []ticket.Ticket {
	var all []ticket.Ticket
	for _, b := range batches {
		all = append(all, b.Tickets...)
	}
	return all
}

// comparable drops the ongoing cycles' elapsed and remaining time: like a
// Jira read they are measured at the moment of reading, so they differ
// between two reads of an unchanged ticket.
func comparable(tk ticket.Ticket) ticket.Ticket {
	slas := make([]ticket.SLA, len(tk.SLAs))
	for i, sla := range tk.SLAs {
		if sla.Ongoing != nil {
			ongoing := *sla.Ongoing
			ongoing.Elapsed, ongoing.Remaining = 0, 0
			sla.Ongoing = &ongoing
		}
		slas[i] = sla
	}
	tk.SLAs = slas
	return tk
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no desks", Config{TicketsPerDay: 10}, "demo source: desks must list at least one desk"},
		{"blank desk", Config{Desks: []string{"IT", " "}, TicketsPerDay: 10}, "demo source: desk 2 is empty"},
		{"duplicate desk", Config{Desks: []string{"IT", "HR", "IT"}, TicketsPerDay: 10}, `demo source: desk "IT" is listed twice`},
		{"zero tickets", Config{Desks: []string{"IT"}}, "demo source: tickets_per_day must be greater than 0, got 0"},
		{"negative tickets", Config{Desks: []string{"IT"}, TicketsPerDay: -3}, "demo source: tickets_per_day must be greater than 0, got -3"},
		{"NaN tickets", Config{Desks: []string{"IT"}, TicketsPerDay: math.NaN()}, "demo source: tickets_per_day must be greater than 0, got NaN"},
		{"too many tickets", Config{Desks: []string{"IT"}, TicketsPerDay: 5001}, "demo source: tickets_per_day must be at most 5000, got 5001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("New() = %v, %v; want error %q", s, err, tt.want)
			}
		})
	}
}

func TestPollIsAPureFunctionOfConfigAndTime(t *testing.T) {
	// early started ten days before pinned and has polled since; late
	// starts at pinned. Their full deliveries at pinned must be identical.
	earlyClock := &clock{pinned.Add(-10 * day)}
	early := newSource(t, defaultConfig, earlyClock)
	cursor := lastCursor(nil, poll(t, early, nil))
	for earlyClock.now.Before(pinned) {
		earlyClock.now = earlyClock.now.Add(7 * time.Hour)
		cursor = lastCursor(cursor, poll(t, early, cursor))
	}
	earlyClock.now = pinned
	fromEarly := poll(t, early, nil)
	fromLate := poll(t, newSource(t, defaultConfig, &clock{pinned}), nil)
	if !reflect.DeepEqual(fromEarly, fromLate) {
		t.Fatal("sources started at different times disagree at the same instant")
	}

	// Any part of the configuration changes the tickets; a day of slots
	// is enough to tell.
	dayOfTickets := func(cfg Config) []ticket.Ticket {
		s := newSource(t, cfg, &clock{pinned})
		var all []ticket.Ticket
		for slot := slotOf(pinned.Add(-day)); slot < slotOf(pinned); slot++ {
			for _, lc := range s.generateSlot(slot) {
				all = append(all, lc.factsAt(pinned))
			}
		}
		return all
	}
	reference := dayOfTickets(defaultConfig)
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"seed", func(c *Config) { c.Seed = 2 }},
		{"desks", func(c *Config) { c.Desks = []string{"IT", "HR"} }},
		{"tickets per day", func(c *Config) { c.TicketsPerDay = 300 }},
	}
	for _, tt := range tests {
		t.Run("other "+tt.name, func(t *testing.T) {
			cfg := defaultConfig
			cfg.Desks = append([]string(nil), cfg.Desks...)
			tt.change(&cfg)
			if reflect.DeepEqual(dayOfTickets(cfg), reference) {
				t.Fatal("a different configuration produced the same tickets")
			}
		})
	}
	if !reflect.DeepEqual(dayOfTickets(defaultConfig), reference) {
		t.Fatal("the same configuration produced different tickets")
	}
}

func TestIncrementalPollsConvergeOnTheFactsAtT(t *testing.T) {
	start := pinned.Add(-3 * day)
	c := &clock{start}
	s := newSource(t, defaultConfig, c)
	held := map[string]ticket.Ticket{} // what a store would hold
	keep := func(t *testing.T, batches []ticket.Batch) {
		t.Helper()
		for _, tk := range tickets(batches) {
			if before, ok := held[tk.ID]; ok {
				switch {
				case tk.Updated.Before(before.Updated),
					len(tk.Comments) < len(before.Comments),
					len(tk.Transitions) < len(before.Transitions),
					len(tk.Resolutions) < len(before.Resolutions):
					t.Fatalf("ticket %s went backwards at %v", tk.Key, c.now)
				}
			}
			held[tk.ID] = tk
		}
	}
	first := poll(t, s, nil)
	keep(t, first)
	cursor := lastCursor(nil, first)

	// Irregular poll intervals, with a restart (a fresh Source given the
	// stored cursor) halfway.
	steps := []time.Duration{30 * time.Second, 17 * time.Minute, 3 * time.Hour, time.Minute, 26 * time.Hour, 90 * time.Minute}
	for i := 0; c.now.Before(pinned); i++ {
		c.now = c.now.Add(steps[i%len(steps)])
		if c.now.After(pinned) {
			c.now = pinned
		}
		if i == 9 {
			s = newSource(t, defaultConfig, c)
		}
		batches := poll(t, s, cursor)
		keep(t, batches)
		cursor = lastCursor(cursor, batches)
	}

	reference := poll(t, newSource(t, defaultConfig, &clock{pinned}), nil)
	assertHeldMatches(t, held, reference)
}

// assertHeldMatches checks that every ticket in the reference's scope is
// held with the reference's facts.
func assertHeldMatches(t *testing.T, held map[string]ticket.Ticket, reference []ticket.Batch) {
	t.Helper()
	scope := reference[len(reference)-1].InScope
	if len(scope) == 0 {
		t.Fatal("reference has an empty scope")
	}
	want := map[string]ticket.Ticket{}
	for _, tk := range tickets(reference) {
		want[tk.ID] = tk
	}
	for _, id := range scope {
		got, ok := held[id]
		if !ok {
			t.Fatalf("ticket %s in scope was never delivered", id)
		}
		if !reflect.DeepEqual(comparable(got), comparable(want[id])) {
			t.Fatalf("ticket %s differs:\n held %+v\n want %+v", id, got, want[id])
		}
	}
}

func TestCursorOfAnInterruptedPollResumes(t *testing.T) {
	// The store commits batches one by one; after a crash it holds the
	// batches up to k and the cursor of batch k. Polling on from that cursor
	// must bring it to the facts at the new time.
	full := poll(t, newSource(t, defaultConfig, &clock{pinned}), nil)
	later := &clock{pinned.Add(2 * time.Hour)}
	reference := poll(t, newSource(t, defaultConfig, later), nil)
	// One restarted source serves all three resumptions: its memo does not
	// change what it delivers.
	restarted := newSource(t, defaultConfig, later)
	for _, k := range []int{0, len(full) / 2, len(full) - 2} {
		held := map[string]ticket.Ticket{}
		for _, tk := range tickets(full[:k+1]) {
			held[tk.ID] = tk
		}
		for _, tk := range tickets(poll(t, restarted, lastCursor(nil, full[:k+1]))) {
			held[tk.ID] = tk
		}
		assertHeldMatches(t, held, reference)
	}
}

func TestBatchesAreBoundedAndOnlyTheLastClaimsNow(t *testing.T) {
	s := newSource(t, defaultConfig, &clock{pinned})
	batches := poll(t, s, nil)
	if len(batches) < 3 {
		t.Fatalf("got %d batches, want several", len(batches))
	}
	nowCursor := string(s.encodeCursor(pinned))
	seen := map[string]bool{}
	for i, b := range batches {
		last := i == len(batches)-1
		if len(b.Tickets) > maxBatch {
			t.Errorf("batch %d has %d tickets", i, len(b.Tickets))
		}
		if (string(b.Cursor) == nowCursor) != last || (b.InScope != nil) != last {
			t.Errorf("batch %d (last %v) has cursor %q and %d in scope", i, last, b.Cursor, len(b.InScope))
		}
		if b.Progress == nil || b.Progress.Done != countTickets(batches[:i+1]) || b.Progress.Total != countTickets(batches) {
			t.Errorf("batch %d progress %+v", i, b.Progress)
		}
		for _, tk := range b.Tickets {
			if seen[tk.ID] {
				t.Errorf("ticket %s delivered twice in one poll", tk.Key)
			}
			seen[tk.ID] = true
		}
	}
	if len(seen) != len(batches[len(batches)-1].InScope) {
		t.Errorf("full delivery has %d tickets, scope %d", len(seen), len(batches[len(batches)-1].InScope))
	}
}

func countTickets(batches []ticket.Batch) int {
	n := 0
	for _, b := range batches {
		n += len(b.Tickets)
	}
	return n
}

func TestCursorHandling(t *testing.T) {
	c := &clock{pinned}
	s := newSource(t, defaultConfig, c)
	cursor := lastCursor(nil, poll(t, s, nil))
	other := defaultConfig
	other.Seed = 7
	tests := []struct {
		name      string
		source    *Source
		cursor    []byte
		after     time.Duration
		wantFull  bool
		wantMoved bool
	}{
		{"nil cursor", s, nil, 0, true, true},
		{"garbage cursor", s, []byte("garbage"), 0, true, true},
		{"cursor of another configuration", newSource(t, other, c), cursor, time.Minute, true, true},
		{"cursor older than the history", s, s.encodeCursor(pinned.Add(-retention - time.Hour)), 0, true, true},
		{"clock standing still", s, cursor, 0, false, false},
		{"clock moved on", s, cursor, 10 * time.Minute, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.now = pinned.Add(tt.after)
			batches := poll(t, tt.source, tt.cursor)
			last := batches[len(batches)-1]
			if full := last.Progress != nil; full != tt.wantFull {
				t.Errorf("full delivery = %v, want %v", full, tt.wantFull)
			}
			if moved := last.Cursor != nil; moved != tt.wantMoved {
				t.Errorf("cursor set = %v, want %v", moved, tt.wantMoved)
			}
			if len(last.InScope) == 0 {
				t.Error("no scope")
			}
			if !tt.wantFull && countTickets(batches) > 50 {
				t.Errorf("incremental poll delivered %d tickets", countTickets(batches))
			}
		})
	}
}

func TestPollStopsOnEmitErrorAndCancellation(t *testing.T) {
	s := newSource(t, defaultConfig, &clock{pinned})
	failure := errors.New("store full")
	calls := 0
	err := s.Poll(context.Background(), time.Time{}, nil, func(context.Context, ticket.Batch) error {
		calls++
		return failure
	})
	if !errors.Is(err, failure) || calls != 1 {
		t.Errorf("Poll = %v after %d emits; want the emit error after 1", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = s.Poll(ctx, time.Time{}, nil, func(context.Context, ticket.Batch) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("Poll = %v after %d emits; want context.Canceled after 1", err, calls)
	}
}

func TestPollCostIsBounded(t *testing.T) {
	c := &clock{pinned}
	s := newSource(t, defaultConfig, c)
	cursor := lastCursor(nil, poll(t, s, nil))
	historySlots := int(slotOf(pinned) - slotOf(pinned.Add(-retention-maxLifetime)) + 1)
	// 150 a day is 6.25 an hour on average; allow for the randomness.
	perSlot := 7.0
	if limit := int(perSlot * float64(historySlots)); s.generated > limit {
		t.Fatalf("first poll generated %d lifecycles, want at most %d", s.generated, limit)
	}
	// Two months of polls, a few hours apart.
	for c.now.Before(pinned.Add(60 * day)) {
		c.now = c.now.Add(7 * time.Hour)
		before := s.generated
		batches := poll(t, s, cursor)
		cursor = lastCursor(cursor, batches)
		if n := s.generated - before; n > 200 {
			t.Fatalf("poll at %v generated %d lifecycles", c.now, n)
		}
		if n := countTickets(batches); n > 400 {
			t.Fatalf("poll at %v delivered %d tickets", c.now, n)
		}
	}
	cached := 0
	for _, lcs := range s.slots {
		cached += len(lcs)
	}
	// The retention window holds about 150*45 tickets; older ones are
	// kept only while they can still change.
	if limit := int(150 * 45 * 1.3); cached > limit {
		t.Fatalf("memo holds %d lifecycles after two months, want at most %d", cached, limit)
	}
	if total := int(perSlot * float64(historySlots+60*24)); s.generated > total {
		t.Fatalf("generated %d lifecycles in total, want at most %d", s.generated, total)
	}
}
