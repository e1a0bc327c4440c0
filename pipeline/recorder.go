package pipeline

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/poller"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Recorder is the stage between the sources and the metrics: it derives
// each delivered ticket, commits the batch to the store, adds what the
// commit counted to the aggregates, and publishes snapshots. One mutex
// orders commits with rebuilds, so a rebuild from the ledger can never miss
// or double a commit.
type Recorder struct {
	store *store.Store
	now   func() time.Time

	mu    sync.Mutex
	opts  aggregate.Options
	agg   *aggregate.Aggregates
	built time.Time
	snap  atomic.Pointer[aggregate.Snapshot]
}

// OpenRecorder opens the store at path and loads the aggregates from its
// ledger. now is the clock that throttles snapshot rebuilds.
func OpenRecorder(path string, opts aggregate.Options, now func() time.Time) (*Recorder, error) {
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	r := &Recorder{store: st, now: now, opts: opts, agg: aggregate.New(opts)}
	if err := r.agg.Load(opts, st); err != nil {
		_ = st.Close()
		return nil, err
	}
	r.publishLocked()
	return r, nil
}

// Close closes the store.
func (r *Recorder) Close() error { return r.store.Close() }

// Path is the store file.
func (r *Recorder) Path() string { return r.store.Path() }

// Snapshot returns the latest published snapshot; never nil.
func (r *Recorder) Snapshot() *aggregate.Snapshot { return r.snap.Load() }

// Commit derives b's tickets, measuring the source's SLA policies, and
// commits them for source. Tickets that fail validation are skipped and
// reported, not fatal to the batch.
func (r *Recorder) Commit(ctx context.Context, source string, horizon time.Time, policies []ticket.SLAPolicy, b ticket.Batch) (poller.Result, error) {
	var res poller.Result
	c := store.Commit{InScope: b.InScope, Cursor: b.Cursor, Tickets: make([]ticket.Derived, 0, len(b.Tickets))}
	seen := map[store.LabelValue]bool{}
	for _, t := range b.Tickets {
		d, err := ticket.Derive(t, horizon, policies)
		if err != nil {
			res.Skipped = append(res.Skipped, err)
			continue
		}
		c.Tickets = append(c.Tickets, d)
		c.Labels = aggregate.AppendLabelValues(c.Labels, seen, d)
	}
	res.Applied = len(c.Tickets)

	r.mu.Lock()
	defer r.mu.Unlock()
	sr, err := r.store.Commit(ctx, source, c)
	if err != nil {
		return poller.Result{}, err
	}
	r.agg.Apply(source, sr)
	res.Counted, res.Dropped = sr.Counted, sr.Dropped
	// Rebuilding the gauges costs a pass over open tickets; during a long
	// initial sync of many pages once a second is plenty.
	if r.now().Sub(r.built) >= time.Second {
		r.publishLocked()
	}
	return res, nil
}

// Publish rebuilds the snapshot now if anything it shows changed since the
// last one; the poller calls it after each poll.
func (r *Recorder) Publish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.agg.Changed() {
		r.publishLocked()
	}
}

func (r *Recorder) publishLocked() {
	r.snap.Store(r.agg.Build())
	r.built = r.now()
}

// SetActiveSources limits snapshots to the configured sources.
func (r *Recorder) SetActiveSources(names []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.agg.SetActiveSources(names)
	r.publishLocked()
}

// Reconfigure applies new aggregation options by rebuilding the aggregates
// from the ledger, so new buckets hold all of history and a raised label
// limit unfolds values from "other" at once.
func (r *Recorder) Reconfigure(opts aggregate.Options) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if opts.LabelValueLimit == r.opts.LabelValueLimit &&
		slices.Equal(opts.FirstResponseBuckets, r.opts.FirstResponseBuckets) &&
		slices.Equal(opts.ResolutionBuckets, r.opts.ResolutionBuckets) &&
		opts.SLAAtRiskRatio == r.opts.SLAAtRiskRatio {
		return nil
	}
	agg := aggregate.New(opts)
	if err := agg.Load(opts, r.store); err != nil {
		return err
	}
	if r.agg != nil {
		agg.CopyActiveSources(r.agg)
	}
	r.opts, r.agg = opts, agg
	r.publishLocked()
	return nil
}

// sink binds the recorder to one source and its SLA policies for its poller.
type sink struct {
	r        *Recorder
	source   string
	policies []ticket.SLAPolicy
}

var _ poller.Sink = sink{}

func (s sink) Horizon(proposed time.Time) (time.Time, error) {
	return s.r.store.Horizon(s.source, proposed)
}

func (s sink) Cursor() ([]byte, error) { return s.r.store.Cursor(s.source) }

func (s sink) Commit(ctx context.Context, horizon time.Time, b ticket.Batch) (poller.Result, error) {
	return s.r.Commit(ctx, s.source, horizon, s.policies, b)
}

func (s sink) Publish() { s.r.Publish() }

func (s sink) MarkSynced(t time.Time) error { return s.r.store.MarkSynced(s.source, t) }

func (s sink) LastSynced() (time.Time, error) { return s.r.store.LastSynced(s.source) }
