// Package pipeline wires the exporter once: sources from the registry →
// derivation → store → aggregates → collector, with a poller per source.
// The daemon, the in-process test pipeline and the benchmark all build it
// here, so they run the same path.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/collector"
	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/poller"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// stopGrace bounds how long stopping a source waits for a batch being
// committed to finish.
const stopGrace = 5 * time.Second

// Options configure New.
type Options struct {
	// Types are the source types the configuration may use.
	Types *source.Registry
	// Registerer receives the ticket collector and the self-metrics; nil
	// registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock of the data side — sources, pollers, ages in the
	// collector, snapshot throttling; nil is time.Now. Tests pin it.
	Now func() time.Time
	// Manual leaves the pollers idle: PollOnce runs a poll when asked.
	Manual bool
}

// Pipeline runs the configured sources into one store.
type Pipeline struct {
	ctx      context.Context
	opts     Options
	now      func() time.Time
	recorder *Recorder
	polls    *poller.Metrics
	api      *api.Metrics

	mu      sync.Mutex
	cfg     *config.Config
	running map[string]*runningSource
}

type runningSource struct {
	cfg    config.Source
	poller *poller.Poller
	cancel context.CancelFunc
	done   chan struct{}
}

// AggregateOptions are what the configuration's metrics section asks of
// aggregation.
func AggregateOptions(m config.MetricsConfig) aggregate.Options {
	return aggregate.Options{
		LabelValueLimit:      m.LabelValueLimit,
		FirstResponseBuckets: config.BucketSeconds(m.FirstResponseBuckets),
		ResolutionBuckets:    config.BucketSeconds(m.ResolutionBuckets),
		SLAAtRiskRatio:       m.SLAAtRiskRatio,
	}
}

// New opens the store, loads the aggregates from its ledger, registers the
// metrics and starts cfg's sources. ctx bounds the background pollers.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Pipeline, error) {
	if opts.Types == nil {
		return nil, fmt.Errorf("pipeline: no source types")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	rec, err := OpenRecorder(cfg.Store.Path, AggregateOptions(cfg.Metrics), now)
	if err != nil {
		return nil, err
	}
	reg := opts.Registerer
	if reg != nil {
		collectorOpts := []collector.Option{}
		if opts.Now != nil {
			collectorOpts = append(collectorOpts, collector.WithClock(opts.Now))
		}
		if err := reg.Register(collector.New(rec.Snapshot, collectorOpts...)); err != nil {
			_ = rec.Close()
			return nil, err
		}
	}
	p := &Pipeline{
		ctx: ctx, opts: opts, now: now, recorder: rec,
		polls:   poller.NewMetrics(reg),
		api:     api.NewMetrics(reg),
		running: map[string]*runningSource{},
	}
	if err := p.Apply(cfg); err != nil {
		_ = rec.Close()
		return nil, err
	}
	return p, nil
}

// Apply starts, restarts and stops pollers so that exactly cfg's sources
// run. Sources whose configuration did not change keep running untouched.
// Every new source is built before anything is stopped, so an unusable new
// configuration changes nothing.
func (p *Pipeline) Apply(cfg *config.Config) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg != nil && cfg.Store.Path != p.cfg.Store.Path {
		return fmt.Errorf("store.path changed from %s to %s; a restart is required to switch stores", p.cfg.Store.Path, cfg.Store.Path)
	}
	type plan struct {
		cfg config.Source
		src source.Source
	}
	var starts []plan
	wanted := map[string]bool{}
	for _, sc := range cfg.Sources {
		wanted[sc.Name] = true
		if r, ok := p.running[sc.Name]; ok && reflect.DeepEqual(r.cfg, sc) {
			continue
		}
		src, err := p.opts.Types.Build(sc, source.Env{Logger: p.opts.Logger.With("source_name", sc.Name), API: p.api, Now: p.opts.Now})
		if err != nil {
			return fmt.Errorf("source %s: %w", sc.Name, err)
		}
		starts = append(starts, plan{cfg: sc, src: src})
	}
	if err := p.recorder.Reconfigure(AggregateOptions(cfg.Metrics)); err != nil {
		return err
	}
	for name, r := range p.running {
		if !wanted[name] {
			p.stopSource(r)
			delete(p.running, name)
			p.polls.Forget(name)
			p.api.Forget(name)
			p.opts.Logger.Info("source removed", "source", name)
		}
	}
	for _, s := range starts {
		if old, ok := p.running[s.cfg.Name]; ok {
			p.stopSource(old)
		}
		p.running[s.cfg.Name] = p.startSource(s.cfg, s.src)
	}
	names := make([]string, 0, len(cfg.Sources))
	for _, sc := range cfg.Sources {
		names = append(names, sc.Name)
	}
	p.recorder.SetActiveSources(names)
	p.cfg = cfg
	return nil
}

func (p *Pipeline) startSource(sc config.Source, src source.Source) *runningSource {
	logger := p.opts.Logger.With("source_name", sc.Name)
	pl := poller.New(sc.Name, src, sink{r: p.recorder, source: sc.Name, policies: sc.SLAs}, time.Duration(sc.PollInterval),
		sc.Horizon(p.now()), logger, p.polls, poller.WithClock(p.now))
	ctx, cancel := context.WithCancel(p.ctx)
	r := &runningSource{cfg: sc, poller: pl, cancel: cancel, done: make(chan struct{})}
	if p.opts.Manual {
		close(r.done)
		return r
	}
	go func() {
		defer close(r.done)
		pl.Run(ctx)
	}()
	logger.Info("source started", "type", sc.Type, "poll_interval", sc.PollInterval)
	return r
}

// stopSource cancels a poller and waits for it; a batch being committed
// finishes, an API call in flight is abandoned. Its cursor stays at the
// last committed batch, so nothing is lost or counted twice.
func (p *Pipeline) stopSource(r *runningSource) {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(stopGrace):
		p.opts.Logger.Warn("source did not stop in time", "source", r.cfg.Name)
	}
}

// PollOnce runs one poll of the named source now (with Options.Manual the
// only way a source is polled).
func (p *Pipeline) PollOnce(ctx context.Context, name string) error {
	p.mu.Lock()
	r, ok := p.running[name]
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("no source %q", name)
	}
	return r.poller.PollOnce(ctx)
}

// Close stops every poller and closes the store.
func (p *Pipeline) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.running {
		r.cancel()
	}
	for _, r := range p.running {
		p.stopSource(r)
	}
	p.running = map[string]*runningSource{}
	return p.recorder.Close()
}

// Ready reports whether every configured source completed a poll, and
// which ones are still waiting.
func (p *Pipeline) Ready() (bool, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var waiting []string
	for _, sc := range p.cfg.Sources {
		if r, ok := p.running[sc.Name]; ok && !r.poller.Ready() {
			waiting = append(waiting, sc.Name)
		}
	}
	return len(waiting) == 0, waiting
}

// SourceStatus is what the landing page shows of a source: no URL, no
// credential.
type SourceStatus struct {
	Name, Type string
	Ready      bool
}

// Sources lists the configured sources in config order.
func (p *Pipeline) Sources() []SourceStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]SourceStatus, 0, len(p.cfg.Sources))
	for _, sc := range p.cfg.Sources {
		st := SourceStatus{Name: sc.Name, Type: sc.Type}
		if r, ok := p.running[sc.Name]; ok {
			st.Ready = r.poller.Ready()
		}
		out = append(out, st)
	}
	return out
}

// Snapshot is the latest published ticket snapshot.
func (p *Pipeline) Snapshot() *aggregate.Snapshot { return p.recorder.Snapshot() }

// Horizon returns the source's persisted tracking horizon, false before
// its first poll.
func (p *Pipeline) Horizon(name string) (time.Time, bool) {
	h, ok := p.recorder.store.Horizons()[name]
	return h, ok
}

// StorePath is the store file.
func (p *Pipeline) StorePath() string { return p.recorder.Path() }

// exposedState identifies what /metrics shows: the ticket snapshot and how
// many polls have finished (each may change up, errors, last success).
type exposedState struct {
	snapshot *aggregate.Snapshot
	polls    uint64
}

// DataVersion changes whenever /metrics must be rendered anew rather than
// served from the last rendering: a failed poll shows at the next scrape.
func (p *Pipeline) DataVersion() any {
	return exposedState{snapshot: p.recorder.Snapshot(), polls: p.polls.Polls()}
}
