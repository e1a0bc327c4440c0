// Package exposition serves /metrics from one rendering shared by every
// scrape within a second, so a burst of concurrent scrapers costs one
// gather, encode and gzip instead of one each, and a scrape itself is a
// copy of precomputed bytes.
package exposition

import (
	"bytes"
	"compress/gzip"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// RenderEvery bounds how often /metrics is rendered. The ticket families
// only change when the store publishes a snapshot; the self-metrics (Go,
// process, poller, API client) are at most this stale (plus one rendering),
// which no 15–30 s scrape interval can see.
const RenderEvery = time.Second

// The formats served, in the order of preference used when an Accept header
// allows several: with WithOpenMetrics, OpenMetrics as Prometheus asks for
// it, then the classic text format, which is also the answer to anything
// else (protobuf included).
var (
	textOnly        = []expfmt.Format{expfmt.FmtText}
	withOpenMetrics = []expfmt.Format{expfmt.FmtOpenMetrics_1_0_0, expfmt.FmtOpenMetrics_0_0_1, expfmt.FmtText}
)

// Option changes a Handler.
type Option func(*Handler)

// WithOpenMetrics offers OpenMetrics 1.0.0 and 0.0.1 to scrapers that ask for
// it. It is off by default: Prometheus 2 stores histogram bucket bounds as
// the format writes them, le="14400.0" in OpenMetrics and le="14400" in
// the text format, so switching formats under a running Prometheus starts
// new bucket series (test/prometheus's backfill continuity shows it).
func WithOpenMetrics() Option {
	return func(h *Handler) { h.offered = withOpenMetrics }
}

// maxFormats bounds the encodings kept per rendering: every offered format
// times the name escaping schemes an Accept header can ask for.
const maxFormats = 16

// Handler serves /metrics from one rendering shared by every scrape within
// RenderEvery (or until the exposed data changes).
//
// Gathering, encoding and gzip cost milliseconds of CPU per rendering;
// repeated per scrape, 50 concurrent scrapers on 2 cores queued for hundreds
// of milliseconds (BENCHMARKS.md). Rendering once and keeping every
// negotiated format as finished bytes — plain and gzip, with their headers
// — keeps a scrape's cost at a header lookup and one write. Only a scrape
// that sees new data waits for the rendering; when a rendering is merely
// older than RenderEvery, one scrape renders again and the others are served
// the previous one meanwhile.
type Handler struct {
	gatherer prometheus.Gatherer
	version  func() any // changes when the exposed data changes
	now      func() time.Time
	logger   *slog.Logger
	inflight chan struct{} // nil: no limit

	latest atomic.Pointer[rendering]
	// renderMu admits one rendering at a time.
	renderMu sync.Mutex

	offered         []expfmt.Format
	negotiated      sync.Map // Accept header → expfmt.Format
	negotiatedCount atomic.Int32
}

// rendering is one gather, encoded lazily into each format asked for.
type rendering struct {
	at   time.Time
	data any
	mfs  []*dto.MetricFamily

	mu      sync.Mutex
	formats map[expfmt.Format]*encoding
}

// encoding is one format of a rendering as it goes on the wire. The header
// slices are shared by every response and never appended to (len == cap).
type encoding struct {
	once                 sync.Once
	err                  error
	contentType          []string
	plain, gzipped       []byte
	plainLen, gzippedLen []string
}

// NewHandler serves what g gathers. version returns a comparable value that
// changes whenever what is exposed changes in a way a scraper must see at
// once (a new store snapshot, a finished poll), so it is never hidden behind
// the once-a-second rendering. More than maxInFlight concurrent scrapes get
// 503; 0 means no limit.
func NewHandler(g prometheus.Gatherer, version func() any, maxInFlight int, logger *slog.Logger, opts ...Option) *Handler {
	c := &Handler{gatherer: g, version: version, now: time.Now, logger: logger, offered: textOnly}
	if maxInFlight > 0 {
		c.inflight = make(chan struct{}, maxInFlight)
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

var (
	varyAcceptEncoding = []string{"Accept, Accept-Encoding"}
	gzipEncoding       = []string{"gzip"}
)

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
	rd, err := c.current()
	if err != nil {
		http.Error(w, "gathering metrics failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	enc, err := rd.encoded(c.negotiate(r.Header.Get("Accept")))
	if err != nil {
		http.Error(w, "encoding metrics failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h["Content-Type"] = enc.contentType
	h["Vary"] = varyAcceptEncoding
	body, length := enc.plain, enc.plainLen
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h["Content-Encoding"] = gzipEncoding
		body, length = enc.gzipped, enc.gzippedLen
	}
	h["Content-Length"] = length
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// current returns the rendering to serve now. A scrape that sees new data
// waits for its rendering (one at a time, shared by all waiting scrapes);
// when the rendering is only older than RenderEvery, the first scrape to
// notice renders again and the others keep getting the previous one.
func (c *Handler) current() (*rendering, error) {
	now, data := c.now(), c.version()
	if rd := c.latest.Load(); rd != nil && rd.data == data {
		if now.Sub(rd.at) < RenderEvery || !c.renderMu.TryLock() {
			return rd, nil
		}
	} else {
		c.renderMu.Lock()
	}
	defer c.renderMu.Unlock()
	// Another scrape may have rendered while this one waited.
	if rd := c.latest.Load(); rd != nil && rd.data == data && now.Sub(rd.at) < RenderEvery {
		return rd, nil
	}
	mfs, err := c.gatherer.Gather()
	if err != nil {
		if len(mfs) == 0 {
			return nil, err
		}
		// Serve what could be gathered, as promhttp's ContinueOnError does.
		c.logger.Error("some metrics could not be gathered", "err", err)
	}
	rd := &rendering{at: now, data: data, mfs: mfs, formats: make(map[expfmt.Format]*encoding, 2)}
	// The text format is what most scrapers take; encode it now, while
	// this scrape holds the rendering anyway, rather than in a later one.
	if _, err := rd.encoded(c.negotiate("")); err != nil {
		return nil, err
	}
	c.latest.Store(rd)
	return rd, nil
}

// encoded returns f's bytes, encoding them on first use; concurrent first
// uses wait for one encoding.
func (rd *rendering) encoded(f expfmt.Format) (*encoding, error) {
	rd.mu.Lock()
	enc, ok := rd.formats[f]
	if !ok {
		if len(rd.formats) >= maxFormats {
			// Unreachable with the offered formats and escaping schemes.
			rd.mu.Unlock()
			return nil, errors.New("too many formats asked for")
		}
		enc = &encoding{}
		rd.formats[f] = enc
	}
	rd.mu.Unlock()
	enc.once.Do(func() { enc.err = enc.encode(rd.mfs, f) })
	return enc, enc.err
}

func (e *encoding) encode(mfs []*dto.MetricFamily, f expfmt.Format) error {
	var plain bytes.Buffer
	enc := expfmt.NewEncoder(&plain, f)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		// OpenMetrics ends with "# EOF".
		if err := closer.Close(); err != nil {
			return err
		}
	}
	var gz bytes.Buffer
	// Rendered once and sent many times: compression level is worth it.
	zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	if _, err := zw.Write(plain.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	e.contentType = []string{string(f)}
	e.plain, e.gzipped = plain.Bytes(), gz.Bytes()
	e.plainLen, e.gzippedLen = []string{strconv.Itoa(len(e.plain))}, []string{strconv.Itoa(len(e.gzipped))}
	return nil
}

// maxNegotiated bounds the Accept headers whose negotiated format is kept.
const maxNegotiated = 64

// negotiate picks the format for an Accept header: OpenMetrics when offered
// and asked for, else the text format (also without an Accept header). Scrapers send
// the same few headers again and again, and parsing one costs more than the
// rest of a scrape, so the answers are kept.
func (c *Handler) negotiate(accept string) expfmt.Format {
	if f, ok := c.negotiated.Load(accept); ok {
		return f.(expfmt.Format)
	}
	f := expfmt.NegotiateAccept(http.Header{"Accept": {accept}}, c.offered...)
	if c.negotiatedCount.Load() < maxNegotiated && c.negotiatedCount.Add(1) <= maxNegotiated {
		c.negotiated.Store(accept, f)
	}
	return f
}

// acceptsGzip reads an Accept-Encoding header: gzip listed without q=0.
func acceptsGzip(header string) bool {
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		enc, params, _ := strings.Cut(part, ";")
		enc = strings.TrimSpace(enc)
		if !strings.EqualFold(enc, "gzip") {
			continue
		}
		return !zeroQuality(params)
	}
	return false
}

// zeroQuality reports a q parameter of 0 (q=0, q=0.0, q=0.000).
func zeroQuality(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		return err == nil && q == 0
	}
	return false
}
