package api

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestForgetRemovesOnlyThatSource(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	for _, source := range []string{"gone", "kept"} {
		m.requests.WithLabelValues(source, "search_jql", "200").Inc()
		m.requests.WithLabelValues(source, "search_jql", "429").Inc()
		m.rateLimited.WithLabelValues(source).Inc()
		m.SkipValues(source, "sla_error", 2)
		m.SkipValues(source, "nothing", 0) // no series for nothing skipped
	}
	m.Forget("gone")
	if n := testutil.CollectAndCount(reg); n != 4 {
		t.Fatalf("%d series left, want the 4 of the kept source", n)
	}
	if got := testutil.ToFloat64(m.valuesSkipped.WithLabelValues("kept", "sla_error")); got != 2 {
		t.Fatalf("kept source's skipped values = %v", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("kept", "search_jql", "200")); got != 1 {
		t.Fatalf("kept source's requests = %v", got)
	}
}

// TestSourcesShareOneRegistration: every API source of a process counts
// into the one Metrics; a second source must not register anything again.
func TestSourcesShareOneRegistration(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	for _, name := range []string{"jira-a", "rt-b"} {
		if _, err := NewClient(ClientConfig{System: "x", Source: name, URL: "http://127.0.0.1:1", RequestsPerSecond: 1, Metrics: m}); err != nil {
			t.Fatal(err)
		}
		m.rateLimited.WithLabelValues(name).Inc()
	}
	if err := testutil.CollectAndCompare(reg, strings.NewReader(`
# HELP servicedesk_api_rate_limited_total Responses that asked the exporter to slow down (429, or 503 with Retry-After).
# TYPE servicedesk_api_rate_limited_total counter
servicedesk_api_rate_limited_total{source="jira-a"} 1
servicedesk_api_rate_limited_total{source="rt-b"} 1
`), "servicedesk_api_rate_limited_total"); err != nil {
		t.Fatal(err)
	}
}
