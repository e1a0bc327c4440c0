package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
)

// sourceFactory turns a source's config into its adapter, through the
// registry of built-in types.
type sourceFactory struct {
	registry *source.Registry
	env      source.Env
}

// newSourceFactory registers the API self-metrics with reg.
func newSourceFactory(reg prometheus.Registerer, logger *slog.Logger) sourceFactory {
	return sourceFactory{
		registry: builtin.Registry(),
		env:      source.Env{Logger: logger, API: api.NewMetrics(reg)},
	}
}

func (f sourceFactory) build(_ context.Context, sc config.Source) (source.Source, error) {
	env := f.env
	env.Logger = env.Logger.With("source_name", sc.Name)
	return f.registry.Build(sc, env)
}
