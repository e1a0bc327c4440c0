package api

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
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	promconfig "github.com/prometheus/common/config"
	"golang.org/x/time/rate"
)

// maxBodyBytes bounds what is read from one response; a page of tickets with
// their comments is a few MB at most.
const maxBodyBytes = 64 << 20

// Backoff between retries of 5xx and transport failures: exponential from
// backoffBase, capped, with jitter so several exporters do not retry in step.
const (
	backoffBase = 500 * time.Millisecond
	backoffCap  = 30 * time.Second
	// maxPenalty caps one Retry-After so a bogus header cannot park the
	// source for days; the poll context bounds the rest.
	maxPenalty = 15 * time.Minute
	// maxMessageLen shortens an API's error text so a proxy's HTML error
	// page cannot flood a log line.
	maxMessageLen = 300
)

// Error is a non-2xx answer. It carries the API's own messages but never
// request headers, so no credential can leak through it.
type Error struct {
	System     string // the API's product, e.g. jira
	Endpoint   string // route name, e.g. search_jql
	Method     string
	Path       string // request path without query
	StatusCode int
	Messages   []string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s %s: HTTP %d", e.System, e.Method, e.Path, e.StatusCode)
	if len(e.Messages) > 0 {
		msg += ": " + strings.Join(e.Messages, "; ")
	}
	return msg
}

// TransportError is a request that got no HTTP answer: connection, TLS,
// proxy or timeout.
type TransportError struct {
	System, Method, Path string
	Err                  error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%s %s %s: %v", e.System, e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// StatusCode returns the HTTP status of err if it is (or wraps) an Error.
func StatusCode(err error) int {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// ClientConfig is what a source tells its client.
type ClientConfig struct {
	// System names the API in errors and logs, e.g. jira.
	System string
	// Source is the configured source name, the self-metrics' source label.
	Source string
	// URL is the base URL; request paths are relative to it, so a context
	// path (https://host/jira) is kept.
	URL string
	// HTTP is the source's http_client: auth, TLS, proxy, *_file secrets.
	HTTP promconfig.HTTPClientConfig

	RequestsPerSecond float64
	// Burst is how many requests may go at once; 0 means the integer part
	// of RequestsPerSecond, at least 1.
	Burst int
	// Timeout bounds one attempt, body included; each retry gets its own.
	Timeout time.Duration
	// MaxRetries bounds retries of one request after 429, 5xx or a
	// transport failure.
	MaxRetries int
	// Messages extracts the API's error texts from a non-2xx body; nil
	// reads {"message": "..."}. The client trims and shortens them.
	Messages func(body []byte) []string

	// Metrics counts requests and rate limits; nil counts into unregistered
	// vectors.
	Metrics *Metrics
	Logger  *slog.Logger
}

// Client sends the requests of one source: pacing by a token bucket, a
// Retry-After gate, retries with backoff, a per-attempt timeout, a bounded
// body read, JSON decoding and the request self-metrics. It is safe for
// concurrent use; all goroutines of a source share one pacing and one gate.
type Client struct {
	system     string
	source     string
	base       *url.URL
	http       *http.Client
	metrics    *Metrics
	limiter    *rate.Limiter
	gate       *penaltyGate
	timeout    time.Duration
	maxRetries int
	messages   func([]byte) []string
	logger     *slog.Logger
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	jitter     func() float64
	bodySizes  *sync.Map // endpoint → size of its last body
}

// ClientOption changes how a Client is built.
type ClientOption func(*Client)

// WithHTTPClient replaces the client built from ClientConfig.HTTP.
func WithHTTPClient(c *http.Client) ClientOption {
	return func(cl *Client) { cl.http = c }
}

// WithTimers replaces the clock and sleep of backoff and the penalty gate
// (tests: a sleep that advances the clock makes waits instant and visible).
func WithTimers(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) ClientOption {
	return func(cl *Client) { cl.now, cl.sleep = now, sleep }
}

// WithJitter replaces the backoff jitter source, a value in [0, 1) (tests).
func WithJitter(j func() float64) ClientOption {
	return func(cl *Client) { cl.jitter = j }
}

// NewClient builds a client. It does no I/O.
func NewClient(cfg ClientConfig, opts ...ClientOption) (*Client, error) {
	base := cfg.URL
	// With the trailing slash a relative path resolves below the base path.
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		// Not echoed: a mistyped URL may carry credentials.
		return nil, errors.New("the base URL is not an absolute URL")
	}
	burst := cfg.Burst
	if burst <= 0 {
		burst = max(1, int(cfg.RequestsPerSecond))
	}
	c := &Client{
		system:     cfg.System,
		source:     cfg.Source,
		base:       u,
		metrics:    cfg.Metrics,
		limiter:    rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), burst),
		gate:       &penaltyGate{},
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		messages:   cfg.Messages,
		logger:     cfg.Logger,
		now:        time.Now,
		sleep:      sleepContext,
		jitter:     rand.Float64,
		bodySizes:  &sync.Map{},
	}
	if c.metrics == nil {
		c.metrics = NewMetrics(nil)
	}
	if c.messages == nil {
		c.messages = MessageOnly
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		hc, err := promconfig.NewClientFromConfig(cfg.HTTP, "servicedesk_exporter")
		if err != nil {
			return nil, fmt.Errorf("http client: %w", err)
		}
		c.http = hc
	}
	return c, nil
}

// WithRetries returns a client that shares this one's pacing, gate and
// metrics but gives up sooner: for a check a person waits on, not a poll.
func (c *Client) WithRetries(maxRetries int, timeout time.Duration) *Client {
	cp := *c
	cp.maxRetries, cp.timeout = maxRetries, timeout
	return &cp
}

// Request is one API call.
type Request struct {
	// Endpoint is a low-cardinality route name, the metrics' endpoint label.
	Endpoint string
	Method   string
	// Path is relative to the base URL; a leading slash is ignored.
	Path  string
	Query url.Values
	// Body is sent as JSON when not nil.
	Body   any
	Header http.Header
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
func (c *Client) waitGate(ctx context.Context) error {
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

func (c *Client) backoff(attempt int) time.Duration {
	d := float64(backoffBase) * math.Pow(2, float64(attempt))
	if d > float64(backoffCap) {
		d = float64(backoffCap)
	}
	// Equal jitter: never less than half the step, so retries cannot spin.
	return time.Duration(d/2 + c.jitter()*d/2)
}

// Do sends req and decodes a 2xx JSON body into out (when out is not nil).
// A non-2xx answer that is not retried, or the last one, is an *Error.
func (c *Client) Do(ctx context.Context, req Request, out any) error {
	target := req.Path
	if len(req.Query) > 0 {
		target += "?" + req.Query.Encode()
	}
	var lastErr error
	for attempt := 0; attempt <= c.maxRetries; attempt++ {
		if err := c.waitGate(ctx); err != nil {
			return err
		}
		if err := c.limiter.Wait(ctx); err != nil {
			return err
		}
		// Another request may have been told to slow down while this one
		// waited for its token (concurrent streams): look again.
		if err := c.waitGate(ctx); err != nil {
			return err
		}
		buffers, _ := out.(BodyBuffers)
		status, header, body, err := c.once(ctx, req, target, buffers)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.metrics.requests.WithLabelValues(c.source, req.Endpoint, "error").Inc()
			lastErr = &TransportError{System: c.system, Method: req.Method, Path: c.path(req), Err: err}
			if attempt == c.maxRetries {
				break
			}
			c.logger.Debug(c.system+" request failed, will retry", "endpoint", req.Endpoint, "attempt", attempt, "err", err)
			if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
				return err
			}
			continue
		}
		c.metrics.requests.WithLabelValues(c.source, req.Endpoint, strconv.Itoa(status)).Inc()
		if status >= 200 && status < 300 {
			if out == nil || len(bytes.TrimSpace(body)) == 0 {
				return nil
			}
			if err := decodeBody(body, out); err != nil {
				return fmt.Errorf("decode %s response: %w", req.Endpoint, err)
			}
			return nil
		}
		apiErr := &Error{System: c.system, Endpoint: req.Endpoint, Method: req.Method, Path: c.path(req),
			StatusCode: status, Messages: cleanMessages(c.messages(body))}
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
			c.logger.Warn(c.system+" asked to slow down; holding all requests to this site",
				"endpoint", req.Endpoint, "status", status, "retry_after", retryAfter,
				"reason", header.Get("RateLimit-Reason"))
		case status >= 500:
			if attempt == c.maxRetries {
				break
			}
			c.logger.Debug(c.system+" server error, will retry", "endpoint", req.Endpoint, "status", status, "attempt", attempt)
			if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
				return err
			}
		default:
			return apiErr
		}
	}
	return fmt.Errorf("giving up after %d retries: %w", c.maxRetries, lastErr)
}

// BodyDecoder is implemented by response types that decode a body
// themselves rather than through json.Unmarshal: a search page split into
// raw tickets without copying them, say. The body is not used by the client
// after DecodeBody returns, so the decoder may keep slices of it.
type BodyDecoder interface {
	DecodeBody(body []byte) error
}

// BodyBuffers is implemented by a BodyDecoder that reuses the memory of the
// bodies it decoded once it is done with them (a search page is half a
// megabyte, a sync reads a thousand): the body of an answer is read into
// Buffer(n)[:0], grown if need be, instead of a new buffer. n is the size
// expected.
type BodyBuffers interface {
	BodyDecoder
	Buffer(n int) []byte
}

func decodeBody(body []byte, out any) error {
	if d, ok := out.(BodyDecoder); ok {
		return d.DecodeBody(body)
	}
	return json.Unmarshal(body, out)
}

// path is the request path as errors show it: from the root, no query.
func (c *Client) path(req Request) string { return "/" + strings.TrimLeft(req.Path, "/") }

// once sends one attempt with its own timeout and reads the whole body, so
// the connection is reused and the timeout covers the body too.
func (c *Client) once(ctx context.Context, req Request, target string, buffers BodyBuffers) (int, http.Header, []byte, error) {
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	httpReq, err := c.newRequest(reqCtx, req, target)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := c.http.Do(httpReq)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := c.readBody(resp, req.Endpoint, buffers)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read body: %w", err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// readBody reads a response body of at most maxBodyBytes into one buffer:
// of the announced length when there is one, else as large as the last
// answer of the same endpoint (compressed and chunked answers announce
// none). A search page is half a megabyte, and growing a buffer to that
// size copied it a dozen times.
func (c *Client) readBody(resp *http.Response, endpoint string, buffers BodyBuffers) ([]byte, error) {
	alloc := func(n int) []byte {
		if buffers != nil {
			if b := buffers.Buffer(n); cap(b) >= n {
				return b[:0]
			}
		}
		return make([]byte, 0, n)
	}
	if n := resp.ContentLength; n > 0 && n <= maxBodyBytes {
		// net/http ends the body at Content-Length; a shorter one is an
		// error here as in io.ReadAll.
		body := alloc(int(n))[:n]
		if _, err := io.ReadFull(resp.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	hint := 512
	if last, ok := c.bodySizes.Load(endpoint); ok {
		hint = min(last.(int)+last.(int)/8+512, maxBodyBytes) // room for a somewhat larger one
	}
	body := alloc(hint)
	r := io.LimitReader(resp.Body, maxBodyBytes)
	for {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)] // grow as append does
		}
		n, err := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			c.bodySizes.Store(endpoint, len(body))
			return body, nil
		}
		if err != nil {
			return body, err
		}
	}
}

func (c *Client) newRequest(ctx context.Context, req Request, target string) (*http.Request, error) {
	rel, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	rel.Path = strings.TrimLeft(rel.Path, "/")
	var body io.Reader
	if req.Body != nil {
		buf := new(bytes.Buffer)
		if err := json.NewEncoder(buf).Encode(req.Body); err != nil {
			return nil, fmt.Errorf("encode %s request: %w", req.Endpoint, err)
		}
		body = buf
	}
	httpReq, err := http.NewRequestWithContext(ctx, req.Method, c.base.ResolveReference(rel).String(), body)
	if err != nil {
		return nil, err
	}
	httpReq.Header.Set("Accept", "application/json")
	if req.Body != nil {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			httpReq.Header.Add(k, v)
		}
	}
	return httpReq, nil
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

// MessageOnly reads the {"message": "..."} error body many APIs answer with
// (Request Tracker's REST2 among them).
func MessageOnly(body []byte) []string {
	var parsed struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &parsed) != nil || parsed.Message == "" {
		return nil
	}
	return []string{parsed.Message}
}

// cleanMessages drops empty messages and shortens long ones.
func cleanMessages(msgs []string) []string {
	var out []string
	for _, s := range msgs {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if len(s) > maxMessageLen {
			cut := maxMessageLen
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			s = s[:cut] + "…"
		}
		out = append(out, s)
	}
	return out
}
