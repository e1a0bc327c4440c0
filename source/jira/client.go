package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gojira "github.com/andygrunwald/go-jira"
	"golang.org/x/time/rate"
)

// maxBodyBytes bounds what is read from one response; a search page with
// many comments is a few MB at most.
const maxBodyBytes = 64 << 20

// Backoff between retries of 5xx and transport failures: exponential from
// backoffBase, capped, with jitter so several exporters do not retry in step.
const (
	backoffBase = 500 * time.Millisecond
	backoffCap  = 30 * time.Second
	// maxPenalty caps one Retry-After so a bogus header cannot park the
	// source for days; the poll context bounds the rest.
	maxPenalty = 15 * time.Minute
)

// APIError is a non-2xx answer from Jira. It carries Jira's own messages but
// never request headers, so no credential can leak through it.
type APIError struct {
	Endpoint   string // route name, e.g. search_jql
	Method     string
	Path       string // request path without query
	StatusCode int
	Messages   []string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("jira %s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if len(e.Messages) > 0 {
		msg += ": " + strings.Join(e.Messages, "; ")
	}
	return msg
}

// StatusCode returns the HTTP status of err if it is (or wraps) an APIError.
func StatusCode(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// penaltyGate holds every request to one site while a Retry-After penalty
// runs. It is shared by all goroutines of a source, so a 429 seen by one
// stops the others too instead of each sleeping on its own.
type penaltyGate struct {
	mu    sync.Mutex
	until time.Time
}

func (g *penaltyGate) extend(until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.until) {
		g.until = until
	}
}

func (g *penaltyGate) openAt() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until
}

// apiClient sends requests through go-jira's client with pacing, the
// penalty gate, retries and the self-metrics.
type apiClient struct {
	jc         *gojira.Client
	source     string
	metrics    *Metrics
	limiter    *rate.Limiter
	gate       *penaltyGate
	timeout    time.Duration
	maxRetries int
	logger     *slog.Logger
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	jitter     func() float64
}

// responseInfo is what callers may need from a response beyond its body.
type responseInfo struct {
	Date time.Time // server's Date header; zero when absent
}

type request struct {
	endpoint string // low-cardinality route name for the metrics
	method   string
	path     string // relative to the base URL, no leading slash needed
	query    url.Values
	body     any
	header   http.Header
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitGate blocks while a Retry-After penalty runs. The loop is bounded: each
// round either finds the gate open or sleeps until the deadline it read, and
// the deadline only moves when another response extends it.
func (c *apiClient) waitGate(ctx context.Context) error {
	for range 64 {
		wait := c.gate.openAt().Sub(c.now())
		if wait <= 0 {
			return nil
		}
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
	}
	return errors.New("rate-limit penalty kept being extended")
}

func (c *apiClient) backoff(attempt int) time.Duration {
	d := float64(backoffBase) * math.Pow(2, float64(attempt))
	if d > float64(backoffCap) {
		d = float64(backoffCap)
	}
	// Equal jitter: never less than half the step, so retries cannot spin.
	return time.Duration(d/2 + c.jitter()*d/2)
}

// do sends req and decodes a 2xx JSON body into out (when out is not nil).
func (c *apiClient) do(ctx context.Context, req request, out any) (responseInfo, error) {
	target := req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	var lastErr error
	for attempt := 0; attempt <= c.maxRetries; attempt++ {
		if err := c.waitGate(ctx); err != nil {
			return responseInfo{}, err
		}
		if err := c.limiter.Wait(ctx); err != nil {
			return responseInfo{}, err
		}
		status, header, body, err := c.once(ctx, req, target)
		if err != nil {
			if ctx.Err() != nil {
				return responseInfo{}, ctx.Err()
			}
			c.metrics.requests.WithLabelValues(c.source, req.endpoint, "error").Inc()
			lastErr = fmt.Errorf("jira %s %s: %w", req.method, req.path, err)
			c.logger.Debug("jira request failed, will retry", "endpoint", req.endpoint, "attempt", attempt, "err", err)
			if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
				return responseInfo{}, err
			}
			continue
		}
		c.metrics.requests.WithLabelValues(c.source, req.endpoint, strconv.Itoa(status)).Inc()
		info := responseInfo{}
		if d, err := http.ParseTime(header.Get("Date")); err == nil {
			info.Date = d
		}
		if status >= 200 && status < 300 {
			if out == nil || len(bytes.TrimSpace(body)) == 0 {
				return info, nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return info, fmt.Errorf("decode %s response: %w", req.endpoint, err)
			}
			return info, nil
		}
		apiErr := &APIError{Endpoint: req.endpoint, Method: req.method, Path: "/" + strings.TrimLeft(req.path, "/"),
			StatusCode: status, Messages: errorMessages(body)}
		lastErr = apiErr
		retryAfter, hasRetryAfter := parseRetryAfter(header.Get("Retry-After"), c.now())
		switch {
		case status == http.StatusTooManyRequests || (status == http.StatusServiceUnavailable && hasRetryAfter):
			c.metrics.rateLimited.WithLabelValues(c.source).Inc()
			if !hasRetryAfter {
				retryAfter = c.backoff(attempt)
			}
			retryAfter = min(retryAfter, maxPenalty)
			c.gate.extend(c.now().Add(retryAfter))
			c.logger.Warn("jira asked to slow down; holding all requests to this site",
				"endpoint", req.endpoint, "status", status, "retry_after", retryAfter,
				"reason", header.Get("RateLimit-Reason"))
		case status >= 500:
			c.logger.Debug("jira server error, will retry", "endpoint", req.endpoint, "status", status, "attempt", attempt)
			if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
				return responseInfo{}, err
			}
		default:
			return info, apiErr
		}
	}
	return responseInfo{}, fmt.Errorf("giving up after %d retries: %w", c.maxRetries, lastErr)
}

// once sends one attempt with its own timeout and reads the whole body, so
// the connection is reused and the timeout covers the body too.
func (c *apiClient) once(ctx context.Context, req request, target string) (int, http.Header, []byte, error) {
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	httpReq, err := c.jc.NewRequestWithContext(reqCtx, req.method, target, req.body)
	if err != nil {
		return 0, nil, nil, err
	}
	httpReq.Header.Set("Accept", "application/json")
	for k, vs := range req.header {
		for _, v := range vs {
			httpReq.Header.Add(k, v)
		}
	}
	// go-jira's Do returns the response unread for non-2xx answers and for a
	// nil target, which is what lets the body be read (and closed) here.
	resp, err := c.jc.Do(httpReq, nil)
	if resp == nil || resp.Response == nil {
		if err == nil {
			err = errors.New("no response")
		}
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read body: %w", err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && !math.IsInf(secs, 0) {
		return time.Duration(secs * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// errorMessages extracts Jira's error texts (errorMessages, errors, message),
// shortened so a proxy's HTML error page cannot flood a log line.
func errorMessages(body []byte) []string {
	var parsed struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		Message       string            `json:"message"`
	}
	if json.Unmarshal(body, &parsed) != nil {
		return nil
	}
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s == "" {
			return
		}
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		out = append(out, s)
	}
	for _, m := range parsed.ErrorMessages {
		add(m)
	}
	keys := make([]string, 0, len(parsed.Errors))
	for k := range parsed.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k + ": " + parsed.Errors[k])
	}
	add(parsed.Message)
	return out
}

func randJitter() float64 { return rand.Float64() }
