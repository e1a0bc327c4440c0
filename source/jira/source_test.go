package jira

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
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
			st, err := env.src.ensureSite(context.Background())
			if err != nil {
				t.Fatal(err)
			}
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
	if api.StatusCode(err) != http.StatusGone || !strings.Contains(err.Error(), "set jira.deployment to cloud or auto") {
		t.Fatalf("error = %v", err)
	}
	if got := requestCount(t, env.reg, "test", "search", "410"); got != 1 {
		t.Errorf("410 counted %v times, want 1 (no retry)", got)
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
			src, err := New("acme", cfg, promconfig.HTTPClientConfig{}, source.Env{}, WithHTTPClient(client))
			if err != nil {
				t.Fatal(err)
			}
			err = src.Check(context.Background(), io.Discard)
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

// notingWriter notes that something was written, for a test server to see
// while Check runs; the text is read once Check returned.
type notingWriter struct {
	strings.Builder
	wrote atomic.Bool
}

func (w *notingWriter) Write(p []byte) (int, error) {
	w.wrote.Store(true)
	return w.Builder.Write(p)
}

// TestCheckAgainstAnUnreachableSite runs in real time with the defaults a
// user has (timeout 30s, 5 retries): check says what it connects to before
// it waits, gives up well within its bound, and ends with a hint.
func TestCheckAgainstAnUnreachableSite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	var current atomic.Pointer[notingWriter] // the running check's output
	var sawHead atomic.Bool
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawHead.Store(current.Load().wrote.Load())
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)

	tests := []struct {
		name      string
		url       string
		wait      time.Duration
		within    time.Duration
		wantError []string
	}{
		{"connection refused", refused, checkFirstWait, 5 * time.Second,
			[]string{"connection refused", "giving up after 2 retries", "hint: check that jira.url (" + refused + ") is right", "http_client.proxy_url"}},
		{"no answer", hang.URL, 300 * time.Millisecond, 5 * time.Second,
			[]string{"no answer within 300ms", "hint: check that jira.url (" + hang.URL + ")"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig
			cfg.URL, cfg.JQL = tt.url, "project = IT"
			src, err := New("acme", cfg, promconfig.HTTPClientConfig{}, source.Env{})
			if err != nil {
				t.Fatal(err)
			}
			src.checkWait = tt.wait
			out := &notingWriter{}
			current.Store(out)
			start := time.Now()
			err = src.Check(context.Background(), out)
			if took := time.Since(start); took > tt.within {
				t.Errorf("check took %s, want under %s", took, tt.within)
			}
			if err == nil {
				t.Fatal("check succeeded")
			}
			for _, want := range tt.wantError {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if want := "  url:             " + tt.url + "\n  deployment:      auto (configured)\n"; out.String() != want {
				t.Errorf("check wrote %q, want %q", out.String(), want)
			}
		})
	}
	if !sawHead.Load() {
		t.Error("the site was asked before check said what it connects to")
	}
	if checkFirstWait > 10*time.Second {
		t.Errorf("check waits up to %s for a first answer; a person is waiting", checkFirstWait)
	}
}
