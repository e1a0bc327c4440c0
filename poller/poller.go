// Package poller runs one source on its interval: it hands the source the
// committed cursor, passes every batch the source emits to its sink, and
// keeps the per-source self-metrics and readiness.
package poller

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Source is a ticketing system adapter: I/O only, normalized facts out.
type Source interface {
	// Poll fetches what changed since cursor (nil: everything in scope
	// updated since horizon or still open) and emits it batch by batch.
	Poll(ctx context.Context, horizon time.Time, cursor []byte, emit func(context.Context, ticket.Batch) error) error
}

// Sink is where one source's batches go: derivation, the store and the
// aggregates behind it, bound to the source's name.
type Sink interface {
	// Horizon returns the tracking horizon, persisting proposed the first time.
	Horizon(proposed time.Time) (time.Time, error)
	Cursor() ([]byte, error)
	// Commit derives and commits one batch with its cursor.
	Commit(ctx context.Context, horizon time.Time, b ticket.Batch) (Result, error)
	// Publish makes what was committed visible to scrapes.
	Publish()
	MarkSynced(t time.Time) error
	LastSynced() (time.Time, error)
}

// Result reports what a commit did with a batch.
type Result struct {
	Applied int     // tickets written
	Counted int     // new events counted
	Skipped []error // tickets derivation rejected, one error each
	Dropped int     // tickets that left the scope by the batch's InScope
}

// Metrics are the per-source self-metrics, shared by all pollers.
type Metrics struct {
	up, lastSuccess, duration, progress, interval *prometheus.GaugeVec
	errors, skipped                               *prometheus.CounterVec
	// polls counts finished polls of every source, so a cache of the
	// rendered exposition can tell that the self-metrics changed.
	polls atomic.Uint64
}

// Polls is the number of polls of any source that have finished; it changes
// whenever a poll outcome (up, errors, last success) may have changed.
func (m *Metrics) Polls() uint64 { return m.polls.Load() }

// NewMetrics registers the self-metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		up: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "servicedesk_up",
			Help: "Whether the last poll of the source succeeded (1) or failed (0).",
		}, []string{"source"}),
		lastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "servicedesk_last_successful_poll_timestamp_seconds",
			Help: "Unix time the last successful poll of the source finished.",
		}, []string{"source"}),
		duration: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "servicedesk_poll_duration_seconds",
			Help: "How long the last poll of the source took, successful or not.",
		}, []string{"source"}),
		interval: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "servicedesk_poll_interval_seconds",
			Help: "Configured poll interval of the source, so staleness can be judged in intervals.",
		}, []string{"source"}),
		progress: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "servicedesk_initial_sync_progress_ratio",
			Help: "Progress of the source's initial sync from 0 to 1; 1 once it completed.",
		}, []string{"source"}),
		errors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_poll_errors_total",
			Help: "Polls of the source that failed.",
		}, []string{"source"}),
		skipped: f.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_tickets_skipped_total",
			Help: "Tickets skipped because the source delivered facts the exporter cannot use.",
		}, []string{"source"}),
	}
}

// Forget removes a source's series, for a source removed by a reload.
func (m *Metrics) Forget(source string) {
	for _, v := range []*prometheus.GaugeVec{m.up, m.lastSuccess, m.duration, m.progress, m.interval} {
		v.DeleteLabelValues(source)
	}
	m.errors.DeleteLabelValues(source)
	m.skipped.DeleteLabelValues(source)
}

// Poller polls one source.
type Poller struct {
	name     string
	src      Source
	sink     Sink
	interval time.Duration
	horizon  time.Time // proposed; the store keeps the first one it saw
	logger   *slog.Logger
	metrics  *Metrics
	now      func() time.Time
	ready    atomic.Bool
}

// Option configures a Poller.
type Option func(*Poller)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(p *Poller) { p.now = now } }

// New returns a poller for the named source; horizon is only a proposal the
// first time the store sees this source.
func New(name string, src Source, sink Sink, interval time.Duration, horizon time.Time, logger *slog.Logger, m *Metrics, opts ...Option) *Poller {
	p := &Poller{name: name, src: src, sink: sink, interval: interval, horizon: horizon, logger: logger, metrics: m, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	// Series exist from the start so "never polled" shows as up 0, not absent.
	m.up.WithLabelValues(name)
	m.errors.WithLabelValues(name)
	m.skipped.WithLabelValues(name)
	m.progress.WithLabelValues(name)
	m.interval.WithLabelValues(name).Set(interval.Seconds())
	// A source that completed a poll before a restart is ready at once: its
	// data is complete up to its committed cursor and the next poll only
	// catches up, so a restart costs no API request before /-/ready.
	if last, err := sink.LastSynced(); err == nil && !last.IsZero() {
		p.ready.Store(true)
		m.lastSuccess.WithLabelValues(name).Set(float64(last.UnixMilli()) / 1e3)
		m.progress.WithLabelValues(name).Set(1)
	}
	return p
}

// Name is the source name.
func (p *Poller) Name() string { return p.name }

// Ready reports whether a poll of the source has completed successfully, in
// this process or, with the same store, before a restart.
func (p *Poller) Ready() bool { return p.ready.Load() }

// Run polls right away and then every interval until ctx is done.
func (p *Poller) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		_ = p.PollOnce(ctx)
		timer.Reset(p.interval)
	}
}

// PollOnce runs one poll and records its outcome.
func (p *Poller) PollOnce(ctx context.Context) error {
	start := p.now()
	err := p.poll(ctx)
	p.metrics.duration.WithLabelValues(p.name).Set(p.now().Sub(start).Seconds())
	// Whatever batches were committed are shown even when the poll failed.
	p.sink.Publish()
	switch {
	case err == nil:
		end := p.now()
		if merr := p.sink.MarkSynced(end); merr != nil {
			p.logger.Warn("cannot record the completed poll; the next start waits for a poll before ready", "err", merr)
		}
		p.metrics.up.WithLabelValues(p.name).Set(1)
		p.metrics.lastSuccess.WithLabelValues(p.name).Set(float64(end.UnixMilli()) / 1e3)
		p.metrics.progress.WithLabelValues(p.name).Set(1)
		if !p.ready.Swap(true) {
			p.logger.Info("source ready", "duration", p.now().Sub(start).Round(time.Millisecond))
		}
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// Shutting down or reloading: not the source's fault.
	default:
		p.metrics.up.WithLabelValues(p.name).Set(0)
		p.metrics.errors.WithLabelValues(p.name).Inc()
		p.logger.Error("poll failed; keeping the last good data", "err", err, "retry_in", p.interval)
	}
	p.metrics.polls.Add(1)
	return err
}

func (p *Poller) poll(ctx context.Context) error {
	horizon, err := p.sink.Horizon(p.horizon)
	if err != nil {
		return err
	}
	cursor, err := p.sink.Cursor()
	if err != nil {
		return err
	}
	return p.src.Poll(ctx, horizon, cursor, func(ctx context.Context, b ticket.Batch) error {
		res, err := p.sink.Commit(ctx, horizon, b)
		if err != nil {
			return err
		}
		for _, skipErr := range res.Skipped {
			p.logger.Warn("skipping ticket with unusable facts", "err", skipErr)
		}
		p.metrics.skipped.WithLabelValues(p.name).Add(float64(len(res.Skipped) + b.Skipped))
		if b.Progress != nil && b.Progress.Total > 0 {
			ratio := float64(b.Progress.Done) / float64(b.Progress.Total)
			p.metrics.progress.WithLabelValues(p.name).Set(min(ratio, 1))
		}
		if res.Dropped > 0 {
			p.logger.Info("tickets left the source's scope", "count", res.Dropped)
		}
		return nil
	})
}
