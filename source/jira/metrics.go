package jira

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the Jira sources' self-metrics. One Metrics is shared by every
// Jira source of the process; the source label tells them apart.
type Metrics struct {
	requests       *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	ticketsSkipped *prometheus.CounterVec
}

// NewMetrics registers the Jira self-metrics with reg.
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
		ticketsSkipped: sharedSkippedCounter(reg),
	}
}

// sharedSkippedCounter returns servicedesk_tickets_skipped_total. The poller
// registers the same family (for tickets the store rejects); the description
// is kept identical so that whichever side registers second reuses the
// first one's vector instead of failing.
func sharedSkippedCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "servicedesk_tickets_skipped_total",
		Help: "Tickets skipped because the source delivered facts the exporter cannot use.",
	}, []string{"source"})
	if reg == nil {
		return vec
	}
	if err := reg.Register(vec); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		// Any other conflict leaves the counter unregistered: skips are
		// still logged, and a self-metric must not stop the exporter.
	}
	return vec
}

// Forget removes a source's series, for a source removed by a reload.
func (m *Metrics) Forget(source string) {
	m.requests.DeletePartialMatch(prometheus.Labels{"source": source})
	m.rateLimited.DeleteLabelValues(source)
	m.ticketsSkipped.DeleteLabelValues(source)
}
