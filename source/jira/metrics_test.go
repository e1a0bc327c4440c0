package jira

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestForgetRemovesOnlyThatSource(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	for _, source := range []string{"gone", "kept"} {
		m.requests.WithLabelValues(source, "search_jql", "200").Inc()
		m.rateLimited.WithLabelValues(source).Inc()
	}
	m.Forget("gone")
	if n := testutil.CollectAndCount(reg); n != 2 {
		t.Fatalf("%d series left, want the 2 of the kept source", n)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("kept", "search_jql", "200")); got != 1 {
		t.Fatalf("kept source's requests = %v", got)
	}
}
