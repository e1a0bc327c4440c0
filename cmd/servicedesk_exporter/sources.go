package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/poller"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
)

// sourceFactory turns a source's config into its adapter.
type sourceFactory struct {
	logger *slog.Logger
}

func newSourceFactory(_ prometheus.Registerer, logger *slog.Logger) sourceFactory {
	return sourceFactory{logger: logger}
}

func (f sourceFactory) build(_ context.Context, sc config.Source) (poller.Source, error) {
	switch sc.Type {
	case config.TypeDemo:
		dc := config.DefaultDemoConfig()
		if sc.Demo != nil {
			dc = *sc.Demo
		}
		return demo.New(dc)
	default:
		return nil, fmt.Errorf("unsupported source type %q", sc.Type)
	}
}

// forget drops per-source self-metrics of a removed source.
func (f sourceFactory) forget(string) {}
