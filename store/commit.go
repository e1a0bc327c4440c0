package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// LabelValue is a value of a label, as registered in first-seen order.
type LabelValue struct {
	Name, Value string
}

// Commit is one batch of a source, written in one transaction.
type Commit struct {
	// Tickets are derived tickets to persist; their events whose id the
	// ticket's ledger already holds are not counted again.
	Tickets []ticket.Derived
	// Labels are label values to register; those seen before are ignored,
	// new ones are numbered in the order given.
	Labels []LabelValue
	// InScope, when non-nil, is the complete set of ticket ids the source
	// tracks: stored tickets missing from it are marked gone.
	InScope []string
	// Cursor is the source's position after this batch; nil keeps the last.
	Cursor []byte
}

// Result says what a commit changed.
type Result struct {
	// Tickets lists every ticket whose record changed, with only the
	// entries this commit counted in its Ledger; tickets marked gone have
	// Gone set.
	Tickets []Ticket
	Counted int // entries counted
	Dropped int // tickets marked gone by InScope
	// Labels are the values registered for the first time, in order.
	Labels []LabelValue
}

// ErrReadOnly is returned by writes to a store opened read-only.
var ErrReadOnly = errors.New("store is open read-only")

// Commit writes c for source in one transaction. Memory is updated only
// after the commit succeeded, so it never runs ahead of the file.
func (s *Store) Commit(ctx context.Context, source string, c Commit) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if s.readOnly {
		return Result{}, ErrReadOnly
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.horizons[source]; !ok {
		return Result{}, fmt.Errorf("source %s has no horizon; call Horizon first", source)
	}
	var res Result
	var fresh []LabelValue
	err := s.db.Update(func(tx *bolt.Tx) error {
		res = Result{}
		var err error
		if fresh, err = s.registerLabels(tx, c.Labels); err != nil {
			return err
		}
		sb, err := tx.Bucket(bucketSources).CreateBucketIfNotExists([]byte(source))
		if err != nil {
			return err
		}
		tb, err := sb.CreateBucketIfNotExists(bucketTickets)
		if err != nil {
			return err
		}
		tb.FillPercent = ticketsFillPercent
		delivered := make(map[string]int, len(c.Tickets))
		res.Tickets = make([]Ticket, 0, len(c.Tickets))
		arena := valueArena{chunk: min(arenaChunk, max(4<<10, 2<<10*len(c.Tickets)))}
		for _, d := range c.Tickets {
			t, counted, changed, err := s.writeTicket(tb, &arena, source, d)
			if err != nil {
				return err
			}
			res.Counted += counted
			if !changed {
				continue
			}
			if i, ok := delivered[d.ID]; ok {
				// Delivered twice in one batch: one result, the entries of both.
				t.Ledger = append(res.Tickets[i].Ledger, t.Ledger...)
				res.Tickets[i] = t
				continue
			}
			delivered[d.ID] = len(res.Tickets)
			res.Tickets = append(res.Tickets, t)
		}
		if c.InScope != nil {
			gone, err := s.dropOutOfScope(tb, source, c.InScope, delivered)
			if err != nil {
				return err
			}
			res.Dropped = len(gone)
			res.Tickets = append(res.Tickets, gone...)
		}
		if c.Cursor != nil {
			return sb.Put(keyCursor, c.Cursor)
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("store %s: commit batch of %s: %w", s.path, source, err)
	}
	for _, lv := range fresh {
		if s.labels[lv.Name] == nil {
			s.labels[lv.Name] = map[string]bool{}
		}
		s.labels[lv.Name][lv.Value] = true
	}
	res.Labels = fresh
	return res, nil
}

// registerLabels numbers label values seen for the first time, in order.
func (s *Store) registerLabels(tx *bolt.Tx, values []LabelValue) ([]LabelValue, error) {
	var fresh []LabelValue
	inTx := map[LabelValue]bool{}
	lb := tx.Bucket(bucketLabels)
	for _, lv := range values {
		if s.labels[lv.Name][lv.Value] || inTx[lv] {
			continue
		}
		b, err := lb.CreateBucketIfNotExists([]byte(lv.Name))
		if err != nil {
			return nil, err
		}
		seq, err := lb.NextSequence()
		if err != nil {
			return nil, err
		}
		if err := b.Put(labelKey(lv.Value), binary.BigEndian.AppendUint64(nil, seq)); err != nil {
			return nil, err
		}
		inTx[lv] = true
		fresh = append(fresh, lv)
	}
	return fresh, nil
}

// writeTicket merges d into its stored record: new events join the ledger
// under the ticket's labels of now; the state and history are replaced.
func (s *Store) writeTicket(tb *bolt.Bucket, arena *valueArena, source string, d ticket.Derived) (Ticket, int, bool, error) {
	old := tb.Get([]byte(d.ID))
	rec := &record{}
	if old != nil {
		if err := json.Unmarshal(old, rec); err != nil {
			return Ticket{}, 0, false, damaged(s.path, fmt.Errorf("source %s ticket %s: %w", source, d.ID, err))
		}
	}
	rec.setDerived(d)
	known := newIDSet(rec.Ledger, len(d.Events))
	added := make([]entry, 0, len(d.Events))
	for _, ev := range d.Events {
		if known.has(ev.ID) {
			continue
		}
		e := entry{ID: ev.ID, Kind: ev.Kind, At: ms(ev.At), Labels: rec.Current, Value: ev.Seconds, SLA: ev.SLA, Breach: ev.Breached}
		if ev.Kind == ticket.EventSatisfaction {
			e.Value = float64(ev.Rating)
		}
		known.add(ev.ID)
		added = append(added, e)
	}
	rec.Ledger = append(rec.Ledger, added...)
	enc, err := appendRecord(s.encoded[:0], rec)
	if err != nil {
		return Ticket{}, 0, false, err
	}
	s.encoded = enc
	if bytes.Equal(enc, old) {
		return Ticket{}, 0, false, nil
	}
	if err := tb.Put(arena.copy([]byte(d.ID)), arena.copy(enc)); err != nil {
		return Ticket{}, 0, false, err
	}
	t, ok := rec.view(d.ID, added)
	if !ok {
		return Ticket{}, 0, false, fmt.Errorf("ticket %s: inconsistent record", d.ID)
	}
	return t, len(added), true, nil
}

// valueArena holds the keys and records one transaction writes, which
// bbolt reads until the transaction commits: in chunks, where a buffer per
// ticket, grown on the way, was a tenth of a full sync's allocations.
type valueArena struct {
	buf   []byte
	chunk int // bytes allocated at a time: about what the batch needs, at most arenaChunk
}

const arenaChunk = 256 << 10

// copy returns a copy of b that stays valid for the arena's life.
func (a *valueArena) copy(b []byte) []byte {
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, max(a.chunk, len(b)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// idSet holds the event ids of a ticket's ledger. A ticket has a handful
// of entries, so up to smallIDSet of them a slice is searched; a map is
// built only past that (it was an allocation per ticket of every commit).
type idSet struct {
	ids []string
	set map[string]bool
}

const smallIDSet = 32

func newIDSet(ledger []entry, more int) idSet {
	var s idSet
	if len(ledger)+more > smallIDSet {
		s.set = make(map[string]bool, len(ledger)+more)
		for _, e := range ledger {
			s.set[e.ID] = true
		}
		return s
	}
	s.ids = make([]string, 0, len(ledger)+more)
	for _, e := range ledger {
		s.ids = append(s.ids, e.ID)
	}
	return s
}

func (s *idSet) has(id string) bool {
	if s.set != nil {
		return s.set[id]
	}
	for _, known := range s.ids {
		if known == id {
			return true
		}
	}
	return false
}

func (s *idSet) add(id string) {
	if s.set != nil {
		s.set[id] = true
		return
	}
	s.ids = append(s.ids, id)
}

// dropOutOfScope marks stored tickets missing from inScope as gone, except
// those delivered in the same batch: the scope list is older than them.
func (s *Store) dropOutOfScope(tb *bolt.Bucket, source string, inScope []string, delivered map[string]int) ([]Ticket, error) {
	keep := make(map[string]bool, len(inScope))
	for _, id := range inScope {
		keep[id] = true
	}
	var gone []string
	c := tb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		id := string(k)
		if keep[id] {
			continue
		}
		if _, ok := delivered[id]; ok {
			continue
		}
		// Cheap test before decoding: only live records change.
		if bytes.Contains(v, []byte(`"g":true`)) {
			continue
		}
		gone = append(gone, id)
	}
	sort.Strings(gone)
	out := make([]Ticket, 0, len(gone))
	for _, id := range gone {
		rec := &record{}
		if err := json.Unmarshal(tb.Get([]byte(id)), rec); err != nil {
			return nil, damaged(s.path, fmt.Errorf("source %s ticket %s: %w", source, id, err))
		}
		if rec.Gone {
			continue
		}
		rec.Gone = true
		enc, err := appendRecord(make([]byte, 0, 1024), rec)
		if err != nil {
			return nil, err
		}
		if err := tb.Put([]byte(id), enc); err != nil {
			return nil, err
		}
		t, ok := rec.view(id, nil)
		if !ok {
			return nil, damaged(s.path, fmt.Errorf("source %s ticket %s: labels out of range", source, id))
		}
		out = append(out, t)
	}
	return out, nil
}
