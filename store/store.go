// Package store keeps tickets, cursors and the exactly-once counter ledger in
// an embedded bbolt file, and publishes immutable snapshots for the collector.
//
// Every counted event is a ledger entry written in the same transaction as
// the ticket and the source's cursor, so re-delivered tickets add nothing, a
// crash loses nothing that was committed, and a restart continues exactly
// where it stopped. Counters and histograms are rebuilt from the ledgers when
// the store is opened and then maintained in memory.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// FormatVersion is the on-disk format this build reads and writes. Bump it
// on any incompatible change to the records or bucket layout.
const FormatVersion = 1

// OtherLabelValue replaces label values beyond the configured limit.
const OtherLabelValue = "other"

var (
	bucketMeta    = []byte("meta")
	bucketSources = []byte("sources")
	bucketLabels  = []byte("labels")
	bucketTickets = []byte("tickets")
	keyFormat     = []byte("format")
	keyHorizon    = []byte("horizon")
	keyCursor     = []byte("cursor")
	keySynced     = []byte("synced")
)

// ticketsFillPercent is how full bbolt packs a tickets page when it splits
// one. Sources deliver a pass in ascending id order, so an initial sync
// appends; bbolt's default (0.5) would leave every page half empty, doubling
// the file and the resident memory of its mapping. Pages stay a little short
// of full so that records rewritten later can grow without a split each.
const ticketsFillPercent = 0.9

// Label names subject to the value limit.
const (
	labelDesk        = "desk"
	labelRequestType = "request_type"
	labelPriority    = "priority"
	labelSLA         = "sla"
)

// ErrIncompatibleFormat is returned by Open for a store written by a build
// with another format version.
var ErrIncompatibleFormat = errors.New("incompatible store format")

// Options shape counting and exporting.
type Options struct {
	// LabelValueLimit caps distinct values per label; later values fold into "other".
	LabelValueLimit      int
	FirstResponseBuckets []float64 // upper bounds in seconds, increasing
	ResolutionBuckets    []float64
	// Now is the clock used to throttle snapshot rebuilds; time.Now if nil.
	Now func() time.Time
}

// Result reports what Apply did with a batch.
type Result struct {
	Applied int     // tickets written
	Counted int     // new events counted
	Skipped []error // tickets rejected by ticket.Validate, one error each
	Dropped int     // tickets that left the scope by this batch's InScope
}

// Store is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string

	mu       sync.Mutex // serializes writers and guards everything below
	opts     Options
	horizons map[string]time.Time
	admitted map[string]map[string]bool // label name → admitted values
	agg      *aggregates
	open     map[string]map[string]*openTicket // source → id → open ticket
	live     map[string]map[string]bool        // source → ids in scope
	active   map[string]bool                   // sources exported; nil = all
	built    time.Time
	// changed is set by everything that alters what a snapshot shows and
	// cleared by publishing, so a poll that brought nothing new (the usual
	// idle poll) does not rebuild the snapshot with a pass over every open
	// ticket.
	changed bool

	snap atomic.Pointer[Snapshot]
}

// Open opens or creates the store at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.LabelValueLimit < 1 {
		opts.LabelValueLimit = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
	}
	if err := preflight(path); err != nil {
		return nil, err
	}
	db, err := openBolt(path)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, opts: opts}
	for _, step := range []func() error{s.checkFormat, s.load} {
		if err := survivingDamage(path, step); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	s.publish()
	return s, nil
}

// openBolt opens the file; the damage preflight cannot see (a bad freelist
// page) surfaces here.
func openBolt(path string) (db *bolt.DB, err error) {
	err = survivingDamage(path, func() error {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return fmt.Errorf("store %s is locked by another process; stop it or use another store.path", path)
		case err != nil:
			return damaged(path, err)
		}
		return nil
	})
	return db, err
}

// survivingDamage runs fn, which reads the memory-mapped file, and turns
// what a damaged page makes bbolt do — panic on a bad page header, or fault
// on an offset past the mapping — into an error naming the file and the fix.
// Without SetPanicOnFault a fault on mapped memory kills the process.
func survivingDamage(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, fmt.Errorf("%v", r))
		}
	}()
	return fn()
}

func damaged(path string, err error) error {
	return fmt.Errorf("store %s is damaged (%w); move it away or start with --store.rebuild to rebuild it from the sources", path, err)
}

func (s *Store) checkFormat() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("store %s: %w: no format version; move it away or start with --store.rebuild", s.path, ErrIncompatibleFormat)
			}
			m, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if _, err := tx.CreateBucket(bucketSources); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(bucketLabels); err != nil {
				return err
			}
			return m.Put(keyFormat, []byte(strconv.Itoa(FormatVersion)))
		}
		v, err := strconv.Atoi(string(meta.Get(keyFormat)))
		if err != nil || v != FormatVersion {
			return fmt.Errorf("store %s: %w: it has format %q, this exporter reads format %d; move it away or start with --store.rebuild to rebuild it from the sources",
				s.path, ErrIncompatibleFormat, meta.Get(keyFormat), FormatVersion)
		}
		return nil
	})
}

// load rebuilds every in-memory structure from disk, reading every ticket,
// so a damaged page is found here, at start, not by a later poll.
func (s *Store) load() error {
	s.changed = true
	s.horizons = map[string]time.Time{}
	s.admitted = map[string]map[string]bool{}
	s.agg = newAggregates(s.opts.FirstResponseBuckets, s.opts.ResolutionBuckets)
	s.open = map[string]map[string]*openTicket{}
	s.live = map[string]map[string]bool{}
	return s.db.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketLabels).ForEachBucket(func(name []byte) error {
			vals := map[string]bool{}
			s.admitted[string(name)] = vals
			return tx.Bucket(bucketLabels).Bucket(name).ForEach(func(k, _ []byte) error {
				vals[labelValue(k)] = true
				return nil
			})
		}); err != nil {
			return err
		}
		srcs := tx.Bucket(bucketSources)
		return srcs.ForEachBucket(func(name []byte) error {
			source := string(name)
			sb := srcs.Bucket(name)
			if h := sb.Get(keyHorizon); h != nil {
				var t time.Time
				if err := t.UnmarshalText(h); err != nil {
					return damaged(s.path, fmt.Errorf("source %s horizon: %w", source, err))
				}
				s.horizons[source] = t
			}
			tb := sb.Bucket(bucketTickets)
			if tb == nil {
				return nil
			}
			return tb.ForEach(func(k, v []byte) error {
				var rec record
				if err := json.Unmarshal(v, &rec); err != nil {
					return damaged(s.path, fmt.Errorf("source %s ticket %s: %w", source, k, err))
				}
				s.index(source, string(k), &rec)
				for _, e := range rec.Ledger {
					if e.Labels < 0 || e.Labels >= len(rec.Labels) {
						return damaged(s.path, fmt.Errorf("source %s ticket %s: ledger entry %s has no labels", source, k, e.ID))
					}
					l := rec.Labels[e.Labels]
					s.agg.add(TicketLabels{Source: source, Desk: l[0], RequestType: l[1], Priority: l[2]}, e)
				}
				return nil
			})
		})
	})
}

// index updates the in-memory scope and open-ticket maps for one record.
func (s *Store) index(source, id string, rec *record) {
	live := s.live[source]
	if live == nil {
		live = map[string]bool{}
		s.live[source] = live
	}
	open := s.open[source]
	if open == nil {
		open = map[string]*openTicket{}
		s.open[source] = open
	}
	if rec.Gone {
		delete(live, id)
	} else {
		live[id] = true
	}
	if ot := rec.openTicket(); ot != nil {
		open[id] = ot
	} else {
		delete(open, id)
	}
}

// Close closes the underlying file.
func (s *Store) Close() error { return s.db.Close() }

// Path is the store file.
func (s *Store) Path() string { return s.path }

// Horizon returns the source's tracking horizon. The first call for a source
// persists proposed; later calls return what was persisted, so changing
// lookback in the config never re-counts or un-counts history.
func (s *Store) Horizon(source string, proposed time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.horizons[source]; ok {
		return h, nil
	}
	proposed = proposed.UTC().Truncate(time.Millisecond)
	err := s.db.Update(func(tx *bolt.Tx) error {
		sb, err := tx.Bucket(bucketSources).CreateBucketIfNotExists([]byte(source))
		if err != nil {
			return err
		}
		b, err := proposed.MarshalText()
		if err != nil {
			return err
		}
		return sb.Put(keyHorizon, b)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("store %s: persist horizon of %s: %w", s.path, source, err)
	}
	s.horizons[source] = proposed
	return proposed, nil
}

// Cursor returns the cursor committed with the source's last batch, nil if none.
func (s *Store) Cursor(source string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if sb := tx.Bucket(bucketSources).Bucket([]byte(source)); sb != nil {
			out = bytes.Clone(sb.Get(keyCursor))
		}
		return nil
	})
	return out, err
}

// MarkSynced records that a poll of the source completed at t, so that after
// a restart the source is ready at once: its committed data is complete up
// to its cursor, and the next poll only catches up.
func (s *Store) MarkSynced(source string, t time.Time) error {
	b, err := t.UTC().MarshalText()
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		sb, err := tx.Bucket(bucketSources).CreateBucketIfNotExists([]byte(source))
		if err != nil {
			return err
		}
		return sb.Put(keySynced, b)
	})
}

// LastSynced returns when a poll of the source last completed, zero if never.
func (s *Store) LastSynced(source string) (time.Time, error) {
	var t time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		if sb := tx.Bucket(bucketSources).Bucket([]byte(source)); sb != nil {
			if v := sb.Get(keySynced); v != nil {
				return t.UnmarshalText(v)
			}
		}
		return nil
	})
	return t, err
}

// SetActiveSources limits snapshots to the configured sources, so a source
// removed from the config disappears from /metrics while its data stays on
// disk for when it comes back.
func (s *Store) SetActiveSources(names []string) {
	s.mu.Lock()
	s.active = map[string]bool{}
	for _, n := range names {
		s.active[n] = true
	}
	s.changed = true
	s.mu.Unlock()
	s.Publish()
}

// Reconfigure applies new options. Histogram bucket changes rebuild the
// aggregates from the ledgers, so the new layout holds all of history.
func (s *Store) Reconfigure(opts Options) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if opts.LabelValueLimit < 1 {
		opts.LabelValueLimit = 100
	}
	if opts.Now == nil {
		opts.Now = s.opts.Now
	}
	rebuild := !slices.Equal(opts.FirstResponseBuckets, s.opts.FirstResponseBuckets) ||
		!slices.Equal(opts.ResolutionBuckets, s.opts.ResolutionBuckets)
	s.opts = opts
	s.changed = true
	if rebuild {
		if err := survivingDamage(s.path, s.load); err != nil {
			return err
		}
	}
	s.publishLocked()
	return nil
}

// pending collects what a transaction changed, applied to memory only after
// the commit succeeded so memory never runs ahead of disk.
type pending struct {
	admitted map[string]map[string]bool
	counted  []countedEvent
	records  map[string]*record
	written  int // records whose encoding changed
}

type countedEvent struct {
	labels TicketLabels
	entry  entry
}

// admit returns the value to count under: the value itself if admitted (or
// room remains, in which case it is admitted in tx), otherwise "other".
func (s *Store) admit(tx *bolt.Tx, p *pending, name, value string) (string, error) {
	if s.admitted[name][value] || p.admitted[name][value] {
		return value, nil
	}
	if len(s.admitted[name])+len(p.admitted[name]) >= s.opts.LabelValueLimit {
		return OtherLabelValue, nil
	}
	b, err := tx.Bucket(bucketLabels).CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return "", err
	}
	if err := b.Put(labelKey(value), nil); err != nil {
		return "", err
	}
	if p.admitted[name] == nil {
		p.admitted[name] = map[string]bool{}
	}
	p.admitted[name][value] = true
	return value, nil
}

// labelKey prefixes a label value because bbolt keys cannot be empty and an
// empty priority is a legitimate value.
func labelKey(value string) []byte { return append([]byte{'v'}, value...) }

func labelValue(key []byte) string { return string(key[1:]) }

// Apply commits one batch of a source: tickets, newly counted events, scope
// changes and the cursor, all in one transaction.
func (s *Store) Apply(ctx context.Context, source string, b ticket.Batch) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	horizon, ok := s.horizons[source]
	if !ok {
		return Result{}, fmt.Errorf("source %s has no horizon; call Horizon first", source)
	}
	var res Result
	p := &pending{admitted: map[string]map[string]bool{}, records: map[string]*record{}}
	err := s.db.Update(func(tx *bolt.Tx) error {
		sb, err := tx.Bucket(bucketSources).CreateBucketIfNotExists([]byte(source))
		if err != nil {
			return err
		}
		tb, err := sb.CreateBucketIfNotExists(bucketTickets)
		if err != nil {
			return err
		}
		tb.FillPercent = ticketsFillPercent
		for _, t := range b.Tickets {
			if err := ticket.Validate(t); err != nil {
				res.Skipped = append(res.Skipped, err)
				continue
			}
			n, err := s.applyTicket(tx, tb, p, source, horizon, t)
			if err != nil {
				return err
			}
			res.Applied++
			res.Counted += n
		}
		if b.InScope != nil {
			n, err := s.dropOutOfScope(tb, p, source, b.InScope)
			if err != nil {
				return err
			}
			res.Dropped = n
		}
		if b.Cursor != nil {
			return sb.Put(keyCursor, b.Cursor)
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("store %s: commit batch of %s: %w", s.path, source, err)
	}
	for name, vals := range p.admitted {
		if s.admitted[name] == nil {
			s.admitted[name] = map[string]bool{}
		}
		for v := range vals {
			s.admitted[name][v] = true
		}
	}
	for _, c := range p.counted {
		s.agg.add(c.labels, c.entry)
	}
	for id, rec := range p.records {
		s.index(source, id, rec)
	}
	if len(p.admitted) > 0 || len(p.counted) > 0 || p.written > 0 {
		s.changed = true
	}
	// Rebuilding the gauges costs a pass over open tickets; during a long
	// initial sync of many pages once a second is plenty.
	if now := s.opts.Now(); now.Sub(s.built) >= time.Second {
		s.publishLocked()
	}
	return res, nil
}

func (s *Store) applyTicket(tx *bolt.Tx, tb *bolt.Bucket, p *pending, source string, horizon time.Time, t ticket.Ticket) (int, error) {
	key := []byte(t.ID)
	old := tb.Get(key)
	rec := &record{}
	if prev, ok := p.records[t.ID]; ok {
		rec = prev
	} else if old != nil {
		if err := json.Unmarshal(old, rec); err != nil {
			return 0, damaged(s.path, fmt.Errorf("source %s ticket %s: %w", source, t.ID, err))
		}
	}
	counted := make(map[string]bool, len(rec.Ledger))
	for _, e := range rec.Ledger {
		counted[e.ID] = true
	}
	rec.Updated = t.Updated.UnixMilli()
	rec.Desk, rec.RequestType, rec.Priority = t.Desk, t.RequestType, t.Priority
	rec.Gone = false

	var tuple [3]string
	var err error
	for i, lv := range []struct{ name, value string }{{labelDesk, t.Desk}, {labelRequestType, t.RequestType}, {labelPriority, t.Priority}} {
		if tuple[i], err = s.admit(tx, p, lv.name, lv.value); err != nil {
			return 0, err
		}
	}
	labels := TicketLabels{Source: source, Desk: tuple[0], RequestType: tuple[1], Priority: tuple[2]}
	n := 0
	for _, ev := range ticket.Events(t, horizon) {
		if counted[ev.ID] {
			continue
		}
		e := entry{ID: ev.ID, Kind: ev.Kind, Labels: rec.labelIndex(tuple), Value: ev.Seconds, Breach: ev.Breached}
		switch ev.Kind {
		case ticket.EventSatisfaction:
			e.Value = float64(ev.Rating)
		case ticket.EventSLACycle:
			if e.SLA, err = s.admit(tx, p, labelSLA, ev.SLA); err != nil {
				return 0, err
			}
		}
		rec.Ledger = append(rec.Ledger, e)
		p.counted = append(p.counted, countedEvent{labels: labels, entry: e})
		counted[ev.ID] = true
		n++
	}
	state := ticket.CurrentState(t)
	for i := range state.SLAs {
		// Admit SLA names of running cycles too, so the breach gauge and the
		// cycle counter agree on which names fold into "other".
		if _, err := s.admit(tx, p, labelSLA, state.SLAs[i].Name); err != nil {
			return 0, err
		}
	}
	rec.State = newStateRec(state)
	enc, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	p.records[t.ID] = rec
	if bytes.Equal(enc, old) {
		return n, nil
	}
	p.written++
	return n, tb.Put(key, enc)
}

func (s *Store) dropOutOfScope(tb *bolt.Bucket, p *pending, source string, inScope []string) (int, error) {
	keep := make(map[string]bool, len(inScope))
	for _, id := range inScope {
		keep[id] = true
	}
	candidates := make([]string, 0)
	for id := range s.live[source] {
		if !keep[id] {
			if rec, ok := p.records[id]; ok && !rec.Gone {
				// Delivered in this very batch: the scope list is older than
				// the ticket itself, so trust the ticket.
				continue
			}
			candidates = append(candidates, id)
		}
	}
	sort.Strings(candidates)
	for _, id := range candidates {
		raw := tb.Get([]byte(id))
		if raw == nil {
			continue
		}
		rec := &record{}
		if err := json.Unmarshal(raw, rec); err != nil {
			return 0, damaged(s.path, fmt.Errorf("source %s ticket %s: %w", source, id, err))
		}
		rec.Gone = true
		enc, err := json.Marshal(rec)
		if err != nil {
			return 0, err
		}
		if err := tb.Put([]byte(id), enc); err != nil {
			return 0, err
		}
		p.written++
		p.records[id] = rec
	}
	return len(candidates), nil
}

// Publish rebuilds the snapshot now if anything it shows changed since the
// last one; the poller calls it after each poll.
func (s *Store) Publish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed {
		s.publishLocked()
	}
}

func (s *Store) publish() { s.Publish() }

// Snapshot returns the latest published snapshot; never nil after Open.
func (s *Store) Snapshot() *Snapshot { return s.snap.Load() }

func (s *Store) capped(name, value string) string {
	if s.admitted[name][value] {
		return value
	}
	return OtherLabelValue
}

func (s *Store) publishLocked() {
	active := func(source string) bool { return s.active == nil || s.active[source] }
	snap := &Snapshot{
		Tickets:        map[TicketLabels]*TicketSeries{},
		SLACycles:      map[SLALabels]*SLACounts{},
		Satisfaction:   map[SatisfactionLabels]*Histogram{},
		Open:           map[OpenLabels]float64{},
		Awaiting:       map[TicketLabels]float64{},
		OldestOpen:     map[DeskLabels]time.Time{},
		OldestAwaiting: map[DeskLabels]time.Time{},
		SLABreached:    map[DeskSLALabels]*BreachState{},
		Tracked:        map[string]int{},
	}
	s.agg.export(snap, active)
	for source := range s.active {
		snap.Tracked[source] = 0
	}
	for source, ids := range s.live {
		if active(source) {
			snap.Tracked[source] = len(ids)
		}
	}
	for source, open := range s.open {
		if !active(source) {
			continue
		}
		for _, ot := range open {
			l := TicketLabels{
				Source:      source,
				Desk:        s.capped(labelDesk, ot.desk),
				RequestType: s.capped(labelRequestType, ot.requestType),
				Priority:    s.capped(labelPriority, ot.priority),
			}
			snap.Open[OpenLabels{TicketLabels: l, StatusCategory: ot.category}]++
			desk := DeskLabels{Source: source, Desk: l.Desk}
			if old, ok := snap.OldestOpen[desk]; !ok || ot.created.Before(old) {
				snap.OldestOpen[desk] = ot.created
			}
			if _, ok := snap.Awaiting[l]; !ok {
				snap.Awaiting[l] = 0
			}
			if ot.awaiting {
				snap.Awaiting[l]++
				if old, ok := snap.OldestAwaiting[desk]; !ok || ot.created.Before(old) {
					snap.OldestAwaiting[desk] = ot.created
				}
			}
			for _, sla := range ot.slas {
				k := DeskSLALabels{Source: source, Desk: l.Desk, SLA: s.capped(labelSLA, sla.Name)}
				bs := snap.SLABreached[k]
				if bs == nil {
					bs = &BreachState{}
					snap.SLABreached[k] = bs
				}
				switch {
				case sla.Breached:
					bs.Breached++
				case !sla.BreachAt.IsZero():
					bs.Pending = append(bs.Pending, sla.BreachAt)
				}
			}
		}
	}
	for _, bs := range snap.SLABreached {
		sort.Slice(bs.Pending, func(i, j int) bool { return bs.Pending[i].Before(bs.Pending[j]) })
	}
	s.built = s.opts.Now()
	s.changed = false
	s.snap.Store(snap)
}

// OptionsFor returns the options the configuration's metrics section asks
// for; every place that opens a store for the exporter uses it, so they all
// export the same series.
func OptionsFor(m config.MetricsConfig) Options {
	return Options{
		LabelValueLimit:      m.LabelValueLimit,
		FirstResponseBuckets: config.BucketSeconds(m.FirstResponseBuckets),
		ResolutionBuckets:    config.BucketSeconds(m.ResolutionBuckets),
	}
}
