package jira

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

func TestFieldDiscoveryByCustomType(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			id := func() string { return fmt.Sprintf("customfield_%d", 10000+rng.IntN(90000)) }
			ttfr, ttr, sat, satDate, origin := id(), id(), id(), id(), id()
			fields := []map[string]any{
				{"id": "summary", "name": "Summary", "schema": map[string]any{"system": "summary", "type": "string"}},
				// Decoys: names that match but types that do not.
				{"id": id(), "name": "Satisfaction", "custom": true, "schema": map[string]any{"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"}},
				jsmField(ttfr, "Time to first response", customSLA),
				jsmField(ttr, "Time to resolution", customSLA),
				jsmField(sat, "Kundenzufriedenheit", customSatisfaction),
				jsmField(satDate, "Satisfaction date", customSatisfactionDate),
				jsmField(origin, "Customer Request Type", customRequestType),
			}
			rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
			var searched atomic.Value
			mux := discoveryMux("Cloud", "Europe/Berlin", fields)
			mux.HandleFunc("GET /rest/api/2/search/jql", func(w http.ResponseWriter, r *http.Request) {
				searched.Store(r.URL.Query().Get("fields"))
				writeJSON(w, 200, `{"issues":[],"isLast":true}`)
			})
			mux.HandleFunc("POST /rest/api/2/search/approximate-count", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, `{"count":0}`)
			})
			env := newTestEnv(t, mux, nil)
			if err := env.src.Poll(context.Background(), env.clock.Now().Add(-24*time.Hour), nil, func(context.Context, ticket.Batch) error { return nil }); err != nil {
				t.Fatal(err)
			}
			st := env.src.site
			if st.satisfaction != sat || st.satisfactionDate != satDate || st.requestType != origin {
				t.Errorf("found satisfaction=%s date=%s origin=%s, want %s %s %s", st.satisfaction, st.satisfactionDate, st.requestType, sat, satDate, origin)
			}
			var slaIDs []string
			for _, f := range st.slaFields {
				slaIDs = append(slaIDs, f.ID)
			}
			if !slices.Contains(slaIDs, ttfr) || !slices.Contains(slaIDs, ttr) || len(slaIDs) != 2 {
				t.Errorf("sla fields %v, want %s and %s", slaIDs, ttfr, ttr)
			}
			if st.firstResponseSLA != "Time to first response" {
				t.Errorf("auto first response chose %q", st.firstResponseSLA)
			}
			if st.loc.String() != "Europe/Berlin" {
				t.Errorf("time zone %s", st.loc)
			}
			got, _ := searched.Load().(string)
			for _, want := range []string{ttfr, ttr, sat, satDate, origin, "created", "updated", "status", "comment"} {
				if !slices.Contains(strings.Split(got, ","), want) {
					t.Errorf("search fields %q lack %s", got, want)
				}
			}
		})
	}
}

func TestOldSearchGoneExplains(t *testing.T) {
	mux := discoveryMux("Cloud", "UTC", nil)
	mux.HandleFunc("GET /rest/api/2/search", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusGone, `{"errorMessages":["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."],"errors":{}}`)
	})
	env := newTestEnv(t, mux, func(c *Config) { c.Deployment = DeploymentDataCenter })
	err := env.src.Poll(context.Background(), env.clock.Now(), nil, func(context.Context, ticket.Batch) error { return nil })
	if StatusCode(err) != http.StatusGone || !strings.Contains(err.Error(), "set jira.deployment to cloud or auto") {
		t.Fatalf("error = %v", err)
	}
	if got := testutil.ToFloat64(env.metrics.requests.WithLabelValues("test", "search", "410")); got != 1 {
		t.Errorf("410 counted %v times, want 1 (no retry)", got)
	}
}

func TestRetryAfterHoldsEveryRequest(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantWait   time.Duration
	}{
		{"429 seconds", http.StatusTooManyRequests, "7", 7 * time.Second},
		{"503 with retry-after", http.StatusServiceUnavailable, "3", 3 * time.Second},
		{"429 http date", http.StatusTooManyRequests, "Fri, 20 Nov 2026 12:00:09 GMT", 9 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			mux := http.NewServeMux()
			mux.HandleFunc("GET /rest/api/2/myself", func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.retryAfter)
					writeJSON(w, tt.status, `{"errorMessages":["Rate limit exceeded."]}`)
					return
				}
				writeJSON(w, 200, `{"accountId":"x"}`)
			})
			env := newTestEnv(t, mux, nil)
			start := env.clock.Now()
			var me user
			if _, err := env.src.api.do(context.Background(), request{endpoint: "myself", method: "GET", path: "rest/api/2/myself"}, &me); err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 2 {
				t.Fatalf("%d calls, want 2", calls.Load())
			}
			if waited := env.clock.Now().Sub(start); waited != tt.wantWait {
				t.Errorf("waited %s before retrying, want %s", waited, tt.wantWait)
			}
			if got := testutil.ToFloat64(env.metrics.rateLimited.WithLabelValues("test")); got != 1 {
				t.Errorf("rate limited counter = %v", got)
			}
			// A second, independent request must also respect the penalty
			// opened by the first: the gate is shared, not per call.
			env.src.api.gate.extend(env.clock.Now().Add(4 * time.Second))
			before := env.clock.Now()
			if _, err := env.src.api.do(context.Background(), request{endpoint: "myself", method: "GET", path: "rest/api/2/myself"}, &me); err != nil {
				t.Fatal(err)
			}
			if waited := env.clock.Now().Sub(before); waited != 4*time.Second {
				t.Errorf("independent request waited %s, want 4s", waited)
			}
		})
	}
}

// TestPenaltyGateBlocksConcurrentRequests uses real time: while one
// goroutine's 429 penalty runs, no request of another may reach the server.
func TestPenaltyGateBlocksConcurrentRequests(t *testing.T) {
	var mu sync.Mutex
	var penaltyUntil time.Time
	var violations, total atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rest/api/2/myself", func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		switch {
		case now.Before(penaltyUntil):
			violations.Add(1)
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{}`)
		case penaltyUntil.IsZero():
			penaltyUntil = now.Add(time.Second)
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{}`)
		default:
			writeJSON(w, 200, `{"accountId":"x"}`)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	src, err := New("gate", testConfig(srv.URL), promconfig.HTTPClientConfig{}, nil, NewMetrics(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The first request opens the penalty; the others start while it runs.
	if _, err := src.api.do(ctx, request{endpoint: "myself", method: "GET", path: "rest/api/2/myself"}, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := src.api.do(ctx, request{endpoint: "myself", method: "GET", path: "rest/api/2/myself"}, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if violations.Load() != 0 {
		t.Errorf("%d requests arrived during the penalty", violations.Load())
	}
	if total.Load() != 6 {
		t.Errorf("%d requests, want 6 (one 429, its retry, four others)", total.Load())
	}
}

func TestServerErrorsBackOffBounded(t *testing.T) {
	tests := []struct {
		name       string
		maxRetries int
		handler    http.HandlerFunc
		wantCode   string
	}{
		{"500 forever", 4, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 500, `{}`) }, "500"},
		{"502 forever, no retries", 0, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 502, `<html>`) }, "502"},
		{"connection dropped", 2, func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, tt.handler, func(c *Config) { c.MaxRetries = tt.maxRetries })
			_, err := env.src.api.do(context.Background(), request{endpoint: "field", method: "GET", path: "rest/api/2/field"}, nil)
			if err == nil || !strings.Contains(err.Error(), "giving up after") {
				t.Fatalf("error = %v", err)
			}
			if got := testutil.ToFloat64(env.metrics.requests.WithLabelValues("test", "field", tt.wantCode)); int(got) != tt.maxRetries+1 {
				t.Errorf("%v attempts counted, want %d", got, tt.maxRetries+1)
			}
			sleeps := env.clock.Sleeps()
			if len(sleeps) != tt.maxRetries+1 {
				t.Fatalf("slept %d times, want %d", len(sleeps), tt.maxRetries+1)
			}
			for i, d := range sleeps {
				want := min(time.Duration(float64(backoffBase)*float64(int(1)<<i)), backoffCap) * 3 / 4 // jitter 0.5
				if d != want {
					t.Errorf("sleep %d = %s, want %s", i, d, want)
				}
			}
		})
	}
}

func TestBackoffCapped(t *testing.T) {
	c := &apiClient{jitter: func() float64 { return 1 }}
	for attempt := range 40 {
		if d := c.backoff(attempt); d > backoffCap || d < backoffBase/2 {
			t.Fatalf("backoff(%d) = %s outside [%s, %s]", attempt, d, backoffBase/2, backoffCap)
		}
	}
}

func TestCheckExplainsAuthFailures(t *testing.T) {
	tests := []struct {
		name     string
		siteURL  string
		status   int
		body     string
		wantText []string
	}{
		{"scoped token on site url", "https://acme.atlassian.net", 401, `{"message":"Unauthorized; scope does not match"}`,
			[]string{"basic_auth username is the account email", "https://api.atlassian.com/ex/jira/<cloudId>", "https://acme.atlassian.net/_edge/tenant_info"}},
		{"data center 401", "https://jira.example.com", 401, `{}`, []string{"personal access token"}},
		{"403", "https://jira.example.com", 403, `{}`, []string{"Browse Projects"}},
		{"404 wrong url", "https://jira.example.com/wrong", 404, `<html>`, []string{"check that jira.url is the site's base URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, tt.status, tt.body)
			}))
			t.Cleanup(srv.Close)
			target, _ := url.Parse(srv.URL)
			// The site URL is kept in the config; the transport sends every
			// request to the local test server instead.
			client := &http.Client{Transport: redirectTransport{target: target}}
			cfg := testConfig(tt.siteURL)
			src, err := New("acme", cfg, promconfig.HTTPClientConfig{}, nil, NewMetrics(nil), WithHTTPClient(client))
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Check(context.Background())
			if err == nil {
				t.Fatal("check succeeded")
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

type redirectTransport struct{ target *url.URL }

func (rt redirectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = rt.target.Scheme, rt.target.Host
	r.Host = rt.target.Host
	return http.DefaultTransport.RoundTrip(r)
}
