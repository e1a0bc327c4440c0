package jira

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// specSample reads a payload copied from the official Atlassian spec
// examples into testdata/spec (see its README).
func specSample(t *testing.T, name string) []byte { t.Helper(); return testdata(t, "spec", name) }

// realWorld reads a hand-made payload of a shape seen on real sites (see
// testdata/realworld/README.md).
func realWorld(t *testing.T, name string) []byte { t.Helper(); return testdata(t, "realworld", name) }

// testdata reads testdata/dir/name. A missing file fails the test: every
// test runs from a plain clone.
func testdata(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testConfig(url string) Config {
	cfg := DefaultConfig
	cfg.URL = url
	cfg.JQL = "project = ITSD"
	cfg.RequestsPerSecond = 1000
	cfg.MaxRetries = 3
	cfg.Timeout = model.Duration(5 * time.Second)
	return cfg
}

type testEnv struct {
	src   *Source
	srv   *httptest.Server
	clock *stepClock
	reg   *prometheus.Registry
}

// newTestEnv starts handler on 127.0.0.1 and a source pointed at it.
func newTestEnv(t *testing.T, handler http.Handler, mutate func(*Config)) *testEnv {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	if mutate != nil {
		mutate(&cfg)
	}
	reg := prometheus.NewRegistry()
	clock := &stepClock{now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	src, err := New("test", cfg, promconfig.HTTPClientConfig{}, source.Env{API: api.NewMetrics(reg), Now: clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &testEnv{src: src, srv: srv, clock: clock, reg: reg}
}

// counterValue reads one counter series from reg; 0 when it does not exist.
func counterValue(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// requestCount is servicedesk_api_requests_total of one source, endpoint and code.
func requestCount(t *testing.T, reg prometheus.Gatherer, source, endpoint, code string) float64 {
	t.Helper()
	return counterValue(t, reg, "servicedesk_api_requests_total", map[string]string{"source": source, "endpoint": endpoint, "code": code})
}

// rateLimitedCount is servicedesk_api_rate_limited_total of one source.
func rateLimitedCount(t *testing.T, reg prometheus.Gatherer, source string) float64 {
	t.Helper()
	return counterValue(t, reg, "servicedesk_api_rate_limited_total", map[string]string{"source": source})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch b := v.(type) {
	case []byte:
		_, _ = w.Write(b)
	case string:
		_, _ = io.WriteString(w, b)
	default:
		_ = json.NewEncoder(w).Encode(v)
	}
}

// discoveryMux answers the four discovery endpoints of a JSM site.
func discoveryMux(deployment, timeZone string, fields []map[string]any) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rest/api/2/serverInfo", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"deploymentType": deployment, "version": "1001.0.0"})
	})
	mux.HandleFunc("GET /rest/api/2/myself", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"accountId": "bot", "displayName": "Exporter Bot", "timeZone": timeZone})
	})
	mux.HandleFunc("GET /rest/api/2/field", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, fields)
	})
	mux.HandleFunc("GET /rest/api/2/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []map[string]any{
			{"id": "1", "name": "Waiting for support", "statusCategory": map[string]any{"key": "new"}},
			{"id": "3", "name": "In Progress", "statusCategory": map[string]any{"key": "indeterminate"}},
			{"id": "5", "name": "Resolved", "statusCategory": map[string]any{"key": "done"}},
		})
	})
	return mux
}

func jsmField(id, name, custom string) map[string]any {
	return map[string]any{"id": id, "name": name, "custom": true, "schema": map[string]any{"type": "any", "custom": custom}}
}
