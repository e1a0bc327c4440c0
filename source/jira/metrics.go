package jira

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// Metrics are the Jira sources' self-metrics: the shared API request
// counters, labelled by source.
type Metrics struct {
	api         *api.Metrics
	requests    *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
}

// NewMetrics registers the API self-metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics { return MetricsFrom(api.NewMetrics(reg)) }

// MetricsFrom counts Jira requests in the shared API metrics.
func MetricsFrom(m *api.Metrics) *Metrics {
	return &Metrics{api: m, requests: m.Requests(), rateLimited: m.RateLimited()}
}

// Forget removes a source's series, for a source removed by a reload.
func (m *Metrics) Forget(source string) { m.api.Forget(source) }
