package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/pipeline"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
)

// daemon is the running exporter: the pipeline, the process metrics and
// the reload state. Only the main loop calls reload and stop, so reloads
// never race each other.
type daemon struct {
	*pipeline.Pipeline
	logger     *slog.Logger
	types      *source.Registry
	registry   *prometheus.Registry
	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
}

func newDaemon(ctx context.Context, cfg *config.Config, types *source.Registry, logger *slog.Logger) (*daemon, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector(programName),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	f := promauto.With(reg)
	d := &daemon{
		logger: logger, types: types, registry: reg,
		reloadOK: f.NewGauge(prometheus.GaugeOpts{
			Name: "servicedesk_config_last_reload_successful",
			Help: "Whether the last configuration load or reload succeeded (1) or failed (0).",
		}),
		reloadTime: f.NewGauge(prometheus.GaugeOpts{
			Name: "servicedesk_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load or reload.",
		}),
	}
	p, err := pipeline.New(ctx, cfg, pipeline.Options{Types: types, Registerer: reg, Logger: logger})
	if err != nil {
		return nil, err
	}
	d.Pipeline = p
	d.configLoaded(true)
	return d, nil
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
	cfg, err := config.Load(path, d.types)
	if err == nil {
		err = d.Apply(cfg)
	}
	d.configLoaded(err == nil)
	if err == nil {
		d.logger.Info("configuration reloaded", "sources", len(cfg.Sources))
	}
	return err
}
