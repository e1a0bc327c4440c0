package main

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/servicedesk-exporter/servicedesk_exporter/collector"
	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/poller"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
)

// daemon owns the running pollers and swaps them on reload. Only the main
// loop calls apply/reload/stop, so reloads never race each other.
type daemon struct {
	ctx    context.Context
	store  *store.Store
	logger *slog.Logger

	registry      *prometheus.Registry
	pollerMetrics *poller.Metrics
	sources       sourceFactory
	reloadOK      prometheus.Gauge
	reloadTime    prometheus.Gauge

	mu        sync.Mutex
	cfg       *config.Config
	running   map[string]*runningSource
	storePath string
}

type runningSource struct {
	cfg    config.Source
	poller *poller.Poller
	cancel context.CancelFunc
	done   chan struct{}
}

func newDaemon(ctx context.Context, st *store.Store, logger *slog.Logger) *daemon {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector(programName),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collector.New(st.Snapshot),
	)
	f := promauto.With(reg)
	pollerMetrics := poller.NewMetrics(reg)
	return &daemon{
		ctx: ctx, store: st, logger: logger, registry: reg,
		pollerMetrics: pollerMetrics,
		sources:       newSourceFactory(reg, logger),
		reloadOK: f.NewGauge(prometheus.GaugeOpts{
			Name: "servicedesk_config_last_reload_successful",
			Help: "Whether the last configuration load or reload succeeded (1) or failed (0).",
		}),
		reloadTime: f.NewGauge(prometheus.GaugeOpts{
			Name: "servicedesk_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load or reload.",
		}),
		running:   map[string]*runningSource{},
		storePath: st.Path(),
	}
}

func (d *daemon) configLoaded(ok bool) {
	if ok {
		d.reloadOK.Set(1)
		d.reloadTime.SetToCurrentTime()
		return
	}
	d.reloadOK.Set(0)
}

// reload loads the file and applies it; on any error the running
// configuration stays untouched.
func (d *daemon) reload(path string) error {
	cfg, err := config.Load(path, d.sources.registry)
	if err == nil {
		err = d.apply(cfg)
	}
	d.configLoaded(err == nil)
	if err == nil {
		d.logger.Info("configuration reloaded", "sources", len(cfg.Sources))
	}
	return err
}

// apply starts, restarts and stops pollers so that exactly the configured
// sources run. Sources whose config did not change keep running untouched.
// Every new source is built before anything is stopped, so an unusable new
// config changes nothing.
func (d *daemon) apply(cfg *config.Config) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cfg != nil && cfg.Store.Path != d.cfg.Store.Path {
		return fmt.Errorf("store.path changed from %s to %s; a restart is required to switch stores", d.cfg.Store.Path, cfg.Store.Path)
	}
	type plan struct {
		cfg config.Source
		src poller.Source
	}
	var starts []plan
	wanted := map[string]bool{}
	for _, sc := range cfg.Sources {
		wanted[sc.Name] = true
		if r, ok := d.running[sc.Name]; ok && reflect.DeepEqual(r.cfg, sc) {
			continue
		}
		src, err := d.sources.build(d.ctx, sc)
		if err != nil {
			return fmt.Errorf("source %s: %w", sc.Name, err)
		}
		starts = append(starts, plan{cfg: sc, src: src})
	}
	if d.cfg == nil || !reflect.DeepEqual(cfg.Metrics, d.cfg.Metrics) {
		if err := d.store.Reconfigure(store.OptionsFor(cfg.Metrics)); err != nil {
			return err
		}
	}
	for name, r := range d.running {
		if !wanted[name] {
			d.stopSource(r)
			delete(d.running, name)
			d.pollerMetrics.Forget(name)
			d.sources.env.API.Forget(name)
			d.logger.Info("source removed", "source", name)
		}
	}
	for _, p := range starts {
		if old, ok := d.running[p.cfg.Name]; ok {
			d.stopSource(old)
		}
		d.running[p.cfg.Name] = d.startSource(p.cfg, p.src)
	}
	names := make([]string, 0, len(cfg.Sources))
	for _, sc := range cfg.Sources {
		names = append(names, sc.Name)
	}
	d.store.SetActiveSources(names)
	d.cfg = cfg
	return nil
}

func (d *daemon) startSource(sc config.Source, src poller.Source) *runningSource {
	logger := d.logger.With("source_name", sc.Name)
	p := poller.New(sc.Name, src, d.store, time.Duration(sc.PollInterval), sc.Horizon(time.Now()), logger, d.pollerMetrics)
	ctx, cancel := context.WithCancel(d.ctx)
	r := &runningSource{cfg: sc, poller: p, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		p.Run(ctx)
	}()
	logger.Info("source started", "type", sc.Type, "poll_interval", sc.PollInterval)
	return r
}

// stopSource cancels a poller and waits for it; a batch being committed
// finishes, an API call in flight is abandoned. Its cursor stays at the
// last committed batch, so nothing is lost or counted twice.
func (d *daemon) stopSource(r *runningSource) {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(shutdownGrace):
		d.logger.Warn("source did not stop in time", "source", r.cfg.Name)
	}
}

// stop stops every poller.
func (d *daemon) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.running {
		r.cancel()
	}
	for _, r := range d.running {
		d.stopSource(r)
	}
}

// ready reports whether every configured source completed a poll.
func (d *daemon) ready() (bool, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var waiting []string
	for name, r := range d.running {
		if !r.poller.Ready() {
			waiting = append(waiting, name)
		}
	}
	return len(waiting) == 0, waiting
}

// exposedState identifies what /metrics shows: the ticket snapshot and how
// many polls have finished (each may change up, errors, last success).
type exposedState struct {
	snapshot *store.Snapshot
	polls    uint64
}

// dataVersion changes whenever /metrics must be rendered anew rather than
// served from the last rendering: a failed poll shows at the next scrape.
func (d *daemon) dataVersion() any {
	return exposedState{snapshot: d.store.Snapshot(), polls: d.pollerMetrics.Polls()}
}

type sourceStatus struct {
	name, kind string
	ready      bool
}

// sourceStatus lists the configured sources in config order.
func (d *daemon) sourceStatus() []sourceStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]sourceStatus, 0, len(d.cfg.Sources))
	for _, sc := range d.cfg.Sources {
		st := sourceStatus{name: sc.Name, kind: sc.Type}
		if r, ok := d.running[sc.Name]; ok {
			st.ready = r.poller.Ready()
		}
		out = append(out, st)
	}
	return out
}
