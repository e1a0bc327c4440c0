package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/poller"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/jira"
)

// sourceFactory turns a source's config into its adapter.
type sourceFactory struct {
	logger      *slog.Logger
	jiraMetrics *jira.Metrics
}

// newSourceFactory registers the adapters' self-metrics with reg. The poller
// metrics must be registered first: both sides share the skipped-tickets
// family and the second registration reuses the first.
func newSourceFactory(reg prometheus.Registerer, logger *slog.Logger) sourceFactory {
	return sourceFactory{logger: logger, jiraMetrics: jira.NewMetrics(reg)}
}

// adapter is what a source is to the binary: something to poll, and
// optionally something that can check its connection.
type adapter interface {
	poller.Source
}

type checker interface {
	Check(ctx context.Context) (*jira.CheckReport, error)
}

func (f sourceFactory) build(_ context.Context, sc config.Source) (adapter, error) {
	switch sc.Type {
	case config.TypeDemo:
		dc := demo.DefaultConfig()
		if sc.Demo != nil {
			dc = *sc.Demo
		}
		return demo.New(dc)
	case config.TypeJira:
		if sc.Jira == nil {
			return nil, fmt.Errorf("type jira needs a jira: section")
		}
		return jira.New(sc.Name, *sc.Jira, sc.HTTPClient, f.logger.With("source_name", sc.Name), f.jiraMetrics)
	default:
		return nil, fmt.Errorf("unsupported source type %q", sc.Type)
	}
}
