package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
)

// fakeTime is a clock that only moves when a test sleep advances it, so
// retry and penalty waits take no real time and are observable.
type fakeTime struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeTime() *fakeTime {
	return &fakeTime{now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	if d > 0 {
		f.now = f.now.Add(d)
	}
	return ctx.Err()
}

func (f *fakeTime) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

type clientEnv struct {
	client  *Client
	srv     *httptest.Server
	clock   *fakeTime
	metrics *Metrics
	reg     *prometheus.Registry
}

// newClientEnv starts handler on 127.0.0.1 and a client pointed at it, with
// a fake clock and the jitter fixed at 0.5.
func newClientEnv(t *testing.T, handler http.Handler, mutate func(*ClientConfig)) *clientEnv {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	cfg := ClientConfig{System: "jira", Source: "test", URL: srv.URL, RequestsPerSecond: 1000, Timeout: 5 * time.Second, MaxRetries: 3, Metrics: m}
	if mutate != nil {
		mutate(&cfg)
	}
	clock := newFakeTime()
	c, err := NewClient(cfg, WithTimers(clock.Now, clock.Sleep), WithJitter(func() float64 { return 0.5 }))
	if err != nil {
		t.Fatal(err)
	}
	return &clientEnv{client: c, srv: srv, clock: clock, metrics: m, reg: reg}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

var getMyself = Request{Endpoint: "myself", Method: http.MethodGet, Path: "rest/api/2/myself"}

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
		{"429 without retry-after backs off", http.StatusTooManyRequests, "", backoffBase * 3 / 4},
		{"429 asking for days is capped", http.StatusTooManyRequests, "864000", maxPenalty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			env := newClientEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
					writeJSON(w, tt.status, `{"message":"Rate limit exceeded."}`)
					return
				}
				writeJSON(w, 200, `{"accountId":"x"}`)
			}), nil)
			start := env.clock.Now()
			var me struct {
				AccountID string `json:"accountId"`
			}
			if err := env.client.Do(context.Background(), getMyself, &me); err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 2 || me.AccountID != "x" {
				t.Fatalf("%d calls, decoded %+v; want 2 calls and the second answer", calls.Load(), me)
			}
			if waited := env.clock.Now().Sub(start); waited != tt.wantWait {
				t.Errorf("waited %s before retrying, want %s", waited, tt.wantWait)
			}
			if got := testutil.ToFloat64(env.metrics.rateLimited.WithLabelValues("test")); got != 1 {
				t.Errorf("rate limited counter = %v", got)
			}
			// A second, independent request must also respect a penalty
			// opened by another: the gate is shared, not per call.
			env.client.gate.extend(env.clock.Now().Add(4 * time.Second))
			before := env.clock.Now()
			if err := env.client.Do(context.Background(), getMyself, nil); err != nil {
				t.Fatal(err)
			}
			if waited := env.clock.Now().Sub(before); waited != 4*time.Second {
				t.Errorf("independent request waited %s, want 4s", waited)
			}
		})
	}
}

// TestPenaltyGateBlocksConcurrentRequests uses real time: while one
// goroutine's 429 penalty runs, no request of another may reach the server,
// also not one sent through a WithRetries copy of the client.
func TestPenaltyGateBlocksConcurrentRequests(t *testing.T) {
	var mu sync.Mutex
	var penaltyUntil time.Time
	var violations, total atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(ClientConfig{System: "jira", Source: "gate", URL: srv.URL, RequestsPerSecond: 1000, Timeout: 5 * time.Second, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The first request opens the penalty; the others start while it runs.
	if err := c.Do(ctx, getMyself, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		client := c
		if i%2 == 1 {
			client = c.WithRetries(1, time.Second)
		}
		wg.Go(func() {
			if err := client.Do(ctx, getMyself, nil); err != nil {
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
			env := newClientEnv(t, tt.handler, func(c *ClientConfig) { c.MaxRetries = tt.maxRetries })
			err := env.client.Do(context.Background(), Request{Endpoint: "field", Method: "GET", Path: "rest/api/2/field"}, nil)
			if err == nil || !strings.Contains(err.Error(), "giving up after") {
				t.Fatalf("error = %v", err)
			}
			if got := testutil.ToFloat64(env.metrics.requests.WithLabelValues("test", "field", tt.wantCode)); int(got) != tt.maxRetries+1 {
				t.Errorf("%v attempts counted, want %d", got, tt.maxRetries+1)
			}
			// A sleep between attempts, none after the last one: giving up
			// is reported at once.
			sleeps := env.clock.Sleeps()
			if len(sleeps) != tt.maxRetries {
				t.Fatalf("slept %d times (%v), want %d", len(sleeps), sleeps, tt.maxRetries)
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

func TestBackoffBounds(t *testing.T) {
	for _, jitter := range []float64{0, 0.5, 0.999} {
		c := &Client{jitter: func() float64 { return jitter }}
		prev := time.Duration(0)
		for attempt := range 40 {
			d := c.backoff(attempt)
			if d > backoffCap || d < backoffBase/2 {
				t.Fatalf("jitter %v: backoff(%d) = %s outside [%s, %s]", jitter, attempt, d, backoffBase/2, backoffCap)
			}
			if d < prev {
				t.Fatalf("jitter %v: backoff(%d) = %s shrank from %s", jitter, attempt, d, prev)
			}
			prev = d
		}
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	var calls atomic.Int32
	env := newClientEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, http.StatusNotFound, `{"message":"No such ticket."}`)
	}), nil)
	err := env.client.Do(context.Background(), Request{Endpoint: "ticket", Method: "GET", Path: "/REST/2.0/ticket/7"}, nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || StatusCode(err) != http.StatusNotFound {
		t.Fatalf("error = %v, want an Error with 404", err)
	}
	if want := "jira GET /REST/2.0/ticket/7: HTTP 404: No such ticket."; err.Error() != want {
		t.Errorf("error text %q, want %q", err.Error(), want)
	}
	if calls.Load() != 1 || len(env.clock.Sleeps()) != 0 {
		t.Errorf("%d calls, %d sleeps; a 404 is final", calls.Load(), len(env.clock.Sleeps()))
	}
}

func TestRequestShape(t *testing.T) {
	type seen struct {
		method, path, query, accept, contentType, custom, body string
	}
	got := make(chan seen, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Accept"), r.Header.Get("Content-Type"), r.Header.Get("X-ExperimentalApi"), string(b)}
		writeJSON(w, 200, ``)
	})
	env := newClientEnv(t, mux, nil)
	// A context path in the base URL is kept; the request path may or may
	// not start with a slash.
	withPath, err := NewClient(ClientConfig{System: "rt", Source: "test", URL: env.srv.URL + "/rt", RequestsPerSecond: 1000, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		client *Client
		req    Request
		want   seen
	}{
		{"get with query", env.client, Request{Endpoint: "search", Method: "GET", Path: "rest/api/2/search",
			Query: map[string][]string{"jql": {`updated >= "2026-01-01 10:00"`}}},
			seen{"GET", "/rest/api/2/search", "jql=updated+%3E%3D+%222026-01-01+10%3A00%22", "application/json", "", "", ""}},
		{"post json with header", env.client, Request{Endpoint: "bulk", Method: "POST", Path: "/rest/api/2/changelog/bulkfetch",
			Body: map[string]any{"issueIdsOrKeys": []string{"1"}}, Header: http.Header{"X-ExperimentalApi": {"opt-in"}}},
			seen{"POST", "/rest/api/2/changelog/bulkfetch", "", "application/json", "application/json", "opt-in", `{"issueIdsOrKeys":["1"]}` + "\n"}},
		{"context path", withPath, Request{Endpoint: "tickets", Method: "GET", Path: "/REST/2.0/tickets"},
			seen{"GET", "/rt/REST/2.0/tickets", "", "application/json", "", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct{}
			if err := tt.client.Do(context.Background(), tt.req, &out); err != nil {
				t.Fatal(err)
			}
			if s := <-got; s != tt.want {
				t.Errorf("server saw %+v, want %+v", s, tt.want)
			}
		})
	}
}

func TestUndecodableAnswerIsAnError(t *testing.T) {
	env := newClientEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `<html>login</html>`)
	}), nil)
	var out map[string]any
	err := env.client.Do(context.Background(), getMyself, &out)
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) || !strings.Contains(err.Error(), "decode myself response") {
		t.Fatalf("error = %v, want a decode error naming the endpoint", err)
	}
}

// rawBody records the body it was handed and can refuse it.
type rawBody struct {
	got    []byte
	refuse error
}

func (r *rawBody) DecodeBody(body []byte) error {
	r.got = body
	return r.refuse
}

func TestBodyDecoderGetsTheBodyAsSent(t *testing.T) {
	const body = ` {"issues": [1, 2]} `
	env := newClientEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, body)
	}), nil)
	var out rawBody
	if err := env.client.Do(context.Background(), getMyself, &out); err != nil || string(out.got) != body {
		t.Fatalf("DecodeBody got %q (%v), want the body %q", out.got, err, body)
	}
	refused := &rawBody{refuse: errors.New("not a page")}
	if err := env.client.Do(context.Background(), getMyself, refused); err == nil || !strings.Contains(err.Error(), "decode myself response: not a page") {
		t.Fatalf("error = %v, want the decoder's error naming the endpoint", err)
	}
}

// TestBodiesOfUnknownLength reads chunked answers of growing and shrinking
// size whole: the buffer sized after the last answer of the endpoint must
// neither cut a larger one nor pad a smaller one.
func TestBodiesOfUnknownLength(t *testing.T) {
	var size atomic.Int64
	env := newClientEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		flusher := w.(http.Flusher)
		n := int(size.Load())
		_, _ = io.WriteString(w, `"`)
		flusher.Flush() // no Content-Length from here on
		_, _ = io.WriteString(w, strings.Repeat("x", n))
		_, _ = io.WriteString(w, `"`)
	}), nil)
	for _, n := range []int64{10, 300_000, 1_000_000, 5, 700_000} {
		size.Store(n)
		var out rawBody
		if err := env.client.Do(context.Background(), getMyself, &out); err != nil {
			t.Fatal(err)
		}
		if int64(len(out.got)) != n+2 || out.got[0] != '"' || out.got[len(out.got)-1] != '"' {
			t.Fatalf("body of %d bytes read as %d bytes", n+2, len(out.got))
		}
	}
}

// TestAttemptTimeout uses real time: an attempt that hangs is cut at the
// timeout, counted as a transport error and retried.
func TestAttemptTimeout(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	env := newClientEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		writeJSON(w, 200, `{}`)
	}), func(c *ClientConfig) { c.Timeout = 100 * time.Millisecond })
	if err := env.client.Do(context.Background(), getMyself, nil); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(env.metrics.requests.WithLabelValues("test", "myself", "error")); got != 1 {
		t.Errorf("timed-out attempts counted %v, want 1", got)
	}
	if got := testutil.ToFloat64(env.metrics.requests.WithLabelValues("test", "myself", "200")); got != 1 {
		t.Errorf("successful attempts counted %v, want 1", got)
	}
}

func TestNoRequestWhileCancelled(t *testing.T) {
	var calls atomic.Int32
	env := newClientEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 200, `{}`)
	}), nil)
	env.client.gate.extend(env.clock.Now().Add(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := env.client.Do(ctx, getMyself, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if calls.Load() != 0 {
		t.Errorf("%d requests sent during a penalty with the context cancelled", calls.Load())
	}
}

func TestErrorMessages(t *testing.T) {
	jiraLike := func(body []byte) []string {
		var parsed struct {
			ErrorMessages []string `json:"errorMessages"`
		}
		_ = json.Unmarshal(body, &parsed)
		return parsed.ErrorMessages
	}
	long := strings.Repeat("é", 400) // two bytes each: the cut must not split one
	tests := []struct {
		name     string
		messages func([]byte) []string
		body     string
		want     []string
	}{
		{"default reads message", nil, `{"message":"Unauthorized"}`, []string{"Unauthorized"}},
		{"default ignores html", nil, `<html><body>Bad gateway</body></html>`, nil},
		{"source extractor", jiraLike, `{"errorMessages":["Field 'x' does not exist.", "  "],"message":"ignored"}`, []string{"Field 'x' does not exist."}},
		{"long message shortened", nil, `{"message":"` + long + `"}`, []string{strings.Repeat("é", maxMessageLen/2) + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newClientEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusBadRequest, tt.body)
			}), func(c *ClientConfig) { c.Messages = tt.messages })
			err := env.client.Do(context.Background(), getMyself, nil)
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v", err)
			}
			if strings.Join(apiErr.Messages, "|") != strings.Join(tt.want, "|") {
				t.Errorf("messages %q, want %q", apiErr.Messages, tt.want)
			}
		})
	}
}

// TestSecretsNeverInErrorsLogsOrMetrics sends credentials of every kind to
// servers that refuse them or cannot be reached.
func TestSecretsNeverInErrorsLogsOrMetrics(t *testing.T) {
	const secret = "hunter2-secret-token"
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, `{"message":"Basic authentication with passwords is deprecated."}`)
	}))
	t.Cleanup(refuse.Close)
	closed := closedURL(t)
	auths := map[string]promconfig.HTTPClientConfig{
		"basic":  {BasicAuth: &promconfig.BasicAuth{Username: "bot@example.com", Password: secret}},
		"bearer": {Authorization: &promconfig.Authorization{Type: "Bearer", Credentials: secret}},
		"token":  {Authorization: &promconfig.Authorization{Type: "token", Credentials: secret}},
	}
	for name, auth := range auths {
		for _, target := range []string{refuse.URL, closed} {
			t.Run(name+" "+target, func(t *testing.T) {
				var logs strings.Builder
				reg := prometheus.NewRegistry()
				clock := newFakeTime()
				c, err := NewClient(ClientConfig{System: "jira", Source: "test", URL: target, HTTP: auth, RequestsPerSecond: 1000,
					Timeout: time.Second, MaxRetries: 1, Metrics: NewMetrics(reg),
					Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))},
					WithTimers(clock.Now, clock.Sleep))
				if err != nil {
					t.Fatal(err)
				}
				err = c.Do(context.Background(), getMyself, nil)
				if err == nil {
					t.Fatal("request succeeded")
				}
				explained := ExplainUnreachable(err, "jira.url", target, auth)
				metrics, _ := testutil.CollectAndFormat(reg, expfmt.TypeTextPlain, "servicedesk_api_requests_total")
				for what, text := range map[string]string{"error": err.Error(), "explained": explained.Error(), "logs": logs.String(), "metrics": string(metrics)} {
					if strings.Contains(text, secret) {
						t.Errorf("%s contain the secret: %s", what, text)
					}
				}
			})
		}
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"7", 7 * time.Second, true},
		{" 1.5 ", 1500 * time.Millisecond, true},
		{"0", 0, true},
		{"Fri, 20 Nov 2026 12:00:09 GMT", 9 * time.Second, true},
		{"Fri, 20 Nov 2026 11:00:00 GMT", 0, true}, // in the past: go now
		{"", 0, false},
		{"-3", 0, false},
		{"soon", 0, false},
		{"+Inf", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.value, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tt.value, got, ok, tt.want, tt.ok)
		}
	}
}
