// Package exposition serves /metrics from one rendering shared by every
// scrape within a second, so a burst of concurrent scrapers costs one
// gather, encode and gzip instead of one each.
package exposition

import (
	"bytes"
	"compress/gzip"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// RenderEvery bounds how often /metrics is rendered. The ticket families
// only change when the store publishes a snapshot; the self-metrics (Go,
// process, poller, API client) are at most this stale, which no 15–30 s
// scrape interval can see.
const RenderEvery = time.Second

// Handler serves /metrics from one rendering shared by every scrape within
// RenderEvery (or until the ticket data changes).
// Gathering, text encoding and gzip cost ~5 ms of CPU per render; repeated
// per scrape, 50 concurrent scrapers on 2 cores queued for hundreds of
// milliseconds (BENCHMARKS.md). Rendering once keeps a scrape's cost at a
// copy of bytes, whatever the number of scrapers.
type Handler struct {
	gatherer prometheus.Gatherer
	version  func() any // changes when the exposed data changes
	now      func() time.Time
	logger   *slog.Logger
	inflight chan struct{} // nil: no limit

	mu       sync.Mutex
	rendered time.Time
	forData  any
	plain    []byte
	gzipped  []byte
}

// NewHandler serves what g gathers. version returns a comparable value that
// changes whenever what is exposed changes in a way a scraper must see at
// once (a new store snapshot, a finished poll), so it is never hidden behind
// the once-a-second rendering. More than maxInFlight concurrent scrapes get
// 503; 0 means no limit.
func NewHandler(g prometheus.Gatherer, version func() any, maxInFlight int, logger *slog.Logger) *Handler {
	c := &Handler{gatherer: g, version: version, now: time.Now, logger: logger}
	if maxInFlight > 0 {
		c.inflight = make(chan struct{}, maxInFlight)
	}
	return c
}

var textContentType = string(expfmt.NewFormat(expfmt.TypeTextPlain))

func (c *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.inflight != nil {
		select {
		case c.inflight <- struct{}{}:
			defer func() { <-c.inflight }()
		default:
			http.Error(w, "too many concurrent scrapes; raise --web.max-requests", http.StatusServiceUnavailable)
			return
		}
	}
	plain, gzipped, err := c.current()
	if err != nil {
		http.Error(w, "gathering metrics failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	body := plain
	w.Header().Set("Content-Type", textContentType)
	w.Header().Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		body = gzipped
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// current returns the rendering for now, rendering again when it is older
// than RenderEvery or the ticket data changed. Concurrent callers wait for
// one rendering instead of each doing it.
func (c *Handler) current() ([]byte, []byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, data := c.now(), c.version()
	if c.plain != nil && data == c.forData && now.Sub(c.rendered) < RenderEvery {
		return c.plain, c.gzipped, nil
	}
	mfs, err := c.gatherer.Gather()
	if err != nil {
		if len(mfs) == 0 {
			return nil, nil, err
		}
		// Serve what could be gathered, as promhttp's ContinueOnError does.
		c.logger.Error("some metrics could not be gathered", "err", err)
	}
	var plain bytes.Buffer
	enc := expfmt.NewEncoder(&plain, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, nil, err
		}
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if _, err := zw.Write(plain.Bytes()); err != nil {
		return nil, nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, nil, err
	}
	c.rendered, c.forData, c.plain, c.gzipped = now, data, plain.Bytes(), gz.Bytes()
	return c.plain, c.gzipped, nil
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
