// Package api is what every source backed by an HTTP API shares: the
// client (pacing, Retry-After gate, backoff, timeouts), the request
// self-metrics, and the incremental-sync helper.
package api

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the API self-metrics of every source of the process; the
// source label tells them apart. The pipeline registers them once.
type Metrics struct {
	requests      *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	valuesSkipped *prometheus.CounterVec
}

// NewMetrics registers the API self-metrics with reg; nil registers nothing.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_api_requests_total",
			Help: "HTTP requests sent to the service desk API, by route and HTTP status (error for transport failures).",
		}, []string{"source", "endpoint", "code"}),
		rateLimited: f.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_api_rate_limited_total",
			Help: "Responses that asked the exporter to slow down (429, or 503 with Retry-After).",
		}, []string{"source"}),
		valuesSkipped: f.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_api_values_skipped_total",
			Help: "Values of API answers the source could not use and left out of their ticket, by reason; the ticket itself is kept. Counted each time a changed ticket is read.",
		}, []string{"source", "reason"}),
	}
}

// SkipValues counts n values a source left out of a ticket for reason (a
// short snake_case word the source documents, never a ticket's data).
func (m *Metrics) SkipValues(source, reason string, n int) {
	if n > 0 {
		m.valuesSkipped.WithLabelValues(source, reason).Add(float64(n))
	}
}

// Forget removes a source's series, for a source removed by a reload.
func (m *Metrics) Forget(source string) {
	m.requests.DeletePartialMatch(prometheus.Labels{"source": source})
	m.rateLimited.DeleteLabelValues(source)
	m.valuesSkipped.DeletePartialMatch(prometheus.Labels{"source": source})
}
