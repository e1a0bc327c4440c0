package exposition

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/promslog"
)

// countingGatherer counts renderings and can fail.
type countingGatherer struct {
	reg   *prometheus.Registry
	calls atomic.Int32
	err   error
}

func (g *countingGatherer) Gather() ([]*dto.MetricFamily, error) {
	g.calls.Add(1)
	if g.err != nil {
		return nil, g.err
	}
	return g.reg.Gather()
}

func newTestExposition(t *testing.T, maxInFlight int, opts ...Option) (*Handler, *countingGatherer, *int, *time.Time) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "servicedesk_test_total", Help: "Test counter."})
	c.Add(3)
	reg.MustRegister(c)
	g := &countingGatherer{reg: reg}
	version := new(int)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	e := NewHandler(g, func() any { return *version }, maxInFlight, promslog.NewNopLogger(), opts...)
	e.now = func() time.Time { return now }
	return e, g, version, &now
}

func scrape(t *testing.T, h http.Handler, method, acceptEncoding string) *httptest.ResponseRecorder {
	t.Helper()
	return scrapeAccepting(t, h, method, "", acceptEncoding)
}

func scrapeAccepting(t *testing.T, h http.Handler, method, accept, acceptEncoding string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExpositionRendersOncePerSecondAndSnapshot(t *testing.T) {
	e, g, version, now := newTestExposition(t, 0)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rec := scrape(t, e, http.MethodGet, ""); rec.Code != http.StatusOK {
				t.Errorf("status %d", rec.Code)
			}
		}()
	}
	wg.Wait()
	if n := g.calls.Load(); n != 1 {
		t.Fatalf("20 concurrent scrapes rendered %d times, want 1", n)
	}
	*now = now.Add(RenderEvery - time.Millisecond)
	scrape(t, e, http.MethodGet, "")
	if n := g.calls.Load(); n != 1 {
		t.Fatalf("rendered again within RenderEvery: %d", n)
	}
	*version = 1 // the store published a new snapshot
	scrape(t, e, http.MethodGet, "")
	if n := g.calls.Load(); n != 2 {
		t.Fatalf("new snapshot not rendered: %d renderings", n)
	}
	*now = now.Add(RenderEvery)
	scrape(t, e, http.MethodGet, "")
	if n := g.calls.Load(); n != 3 {
		t.Fatalf("stale rendering served after RenderEvery: %d renderings", n)
	}
}

func TestExpositionEncodings(t *testing.T) {
	e, _, _, _ := newTestExposition(t, 0)
	plain := scrape(t, e, http.MethodGet, "")
	if got := plain.Body.String(); !strings.Contains(got, "servicedesk_test_total 3") || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("plain scrape: %q %v", got, plain.Header())
	}
	if ct := plain.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	zipped := scrape(t, e, http.MethodGet, "deflate, gzip;q=1.0")
	if zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip not used: %v", zipped.Header())
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, plain.Body.Bytes()) {
		t.Fatal("gzip body differs from the plain one")
	}
	if rec := scrape(t, e, http.MethodGet, "gzip;q=0"); rec.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip sent although the client refused it")
	}
	if rec := scrape(t, e, http.MethodHead, ""); rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != plain.Header().Get("Content-Length") {
		t.Fatalf("HEAD: body %d bytes, length %q", rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

func TestExpositionCapsConcurrentScrapes(t *testing.T) {
	e, _, _, _ := newTestExposition(t, 2)
	e.inflight <- struct{}{}
	e.inflight <- struct{}{} // two scrapes in flight
	if rec := scrape(t, e, http.MethodGet, ""); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("third concurrent scrape: %d, want 503", rec.Code)
	}
	<-e.inflight
	if rec := scrape(t, e, http.MethodGet, ""); rec.Code != http.StatusOK {
		t.Fatalf("scrape after a slot freed: %d", rec.Code)
	}
}

func TestExpositionGatherFailure(t *testing.T) {
	e, g, _, _ := newTestExposition(t, 0)
	g.err = errors.New("collector broke")
	if rec := scrape(t, e, http.MethodGet, ""); rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "collector broke") {
		t.Fatalf("failed gather: %d %q", rec.Code, rec.Body.String())
	}
}

// Prometheus's own Accept headers: the default scrape protocols (OpenMetrics
// first), then a server configured for the classic text format only.
const (
	prometheusAccept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
	textOnlyAccept   = "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)

func TestExpositionNegotiatesFormats(t *testing.T) {
	e, g, _, _ := newTestExposition(t, 0, WithOpenMetrics())
	for _, tc := range []struct {
		name, accept string
		contentType  string // prefix
		want         []string
		eof          bool
	}{
		{"no Accept", "", "text/plain; version=0.0.4", []string{"# TYPE servicedesk_test_total counter", "servicedesk_test_total 3"}, false},
		{"text only", textOnlyAccept, "text/plain; version=0.0.4", []string{"servicedesk_test_total 3"}, false},
		{"Prometheus default", prometheusAccept, "application/openmetrics-text; version=1.0.0", []string{"# TYPE servicedesk_test counter", "servicedesk_test_total 3.0"}, true},
		{"OpenMetrics 0.0.1", "application/openmetrics-text; version=0.0.1", "application/openmetrics-text; version=0.0.1", []string{"servicedesk_test_total 3.0"}, true},
		{"protobuf only: text instead", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "text/plain; version=0.0.4", []string{"servicedesk_test_total 3"}, false},
		{"anything: text", "*/*", "text/plain; version=0.0.4", []string{"servicedesk_test_total 3"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain := scrapeAccepting(t, e, http.MethodGet, tc.accept, "")
			zipped := scrapeAccepting(t, e, http.MethodGet, tc.accept, "gzip")
			if ct := plain.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Fatalf("Content-Type %q, want %q…", ct, tc.contentType)
			}
			if zipped.Header().Get("Content-Type") != plain.Header().Get("Content-Type") || zipped.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("gzip response headers %v differ from the plain %v", zipped.Header(), plain.Header())
			}
			body := plain.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w+"\n") {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			if got := strings.HasSuffix(body, "# EOF\n"); got != tc.eof {
				t.Errorf("ends with # EOF: %v, want %v:\n%s", got, tc.eof, body)
			}
			if !bytes.Equal(gunzip(t, zipped.Body.Bytes()), plain.Body.Bytes()) {
				t.Error("gzip body differs from the plain one")
			}
			if n := plain.Header().Get("Content-Length"); n != strconv.Itoa(plain.Body.Len()) {
				t.Errorf("Content-Length %s for %d bytes", n, plain.Body.Len())
			}
			if !strings.Contains(plain.Header().Get("Vary"), "Accept") {
				t.Errorf("Vary %q does not name Accept", plain.Header().Get("Vary"))
			}
		})
	}
	if n := g.calls.Load(); n != 1 {
		t.Errorf("every format came from one gather: %d gathers", n)
	}
}

// TestExpositionServesTextUnlessOpenMetricsIsOn: by default every Accept
// header, Prometheus's own included, gets the text format, so a Prometheus 2
// keeps the bucket series it has (le="14400", not "14400.0").
func TestExpositionServesTextUnlessOpenMetricsIsOn(t *testing.T) {
	e, _, _, _ := newTestExposition(t, 0)
	for _, accept := range []string{"", prometheusAccept, textOnlyAccept, "application/openmetrics-text; version=1.0.0", "*/*"} {
		rec := scrapeAccepting(t, e, http.MethodGet, accept, "gzip")
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("Accept %q: Content-Type %q, want the text format", accept, ct)
		}
		if body := gunzip(t, rec.Body.Bytes()); !bytes.Contains(body, []byte("servicedesk_test_total 3\n")) || bytes.Contains(body, []byte("# EOF")) {
			t.Errorf("Accept %q: body is not the text format:\n%s", accept, body)
		}
	}
}

func TestExpositionGzipNegotiation(t *testing.T) {
	e, _, _, _ := newTestExposition(t, 0)
	for _, tc := range []struct {
		header string
		gzip   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"br, gzip;q=0.5", true},
		{"deflate, gzip ; q=1.0", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"identity", false},
		{"x-gzip2", false},
	} {
		rec := scrape(t, e, http.MethodGet, tc.header)
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.gzip {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.header, got, tc.gzip)
		}
	}
}

// blockingGatherer holds a gather until released, to catch scrapes waiting
// on a rendering.
type blockingGatherer struct {
	countingGatherer
	block chan struct{} // nil: no blocking
}

func (g *blockingGatherer) Gather() ([]*dto.MetricFamily, error) {
	if g.block != nil {
		<-g.block
	}
	return g.countingGatherer.Gather()
}

func TestExpositionServesThePreviousRenderingWhileRenderingByAge(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "servicedesk_test_total", Help: "Test counter."})
	reg.MustRegister(c)
	g := &blockingGatherer{countingGatherer: countingGatherer{reg: reg}}
	version := new(atomic.Int32)
	var now atomic.Pointer[time.Time]
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	now.Store(&start)
	e := NewHandler(g, func() any { return version.Load() }, 0, promslog.NewNopLogger())
	e.now = func() time.Time { return *now.Load() }

	first := scrape(t, e, http.MethodGet, "").Body.String()
	c.Inc()
	later := start.Add(RenderEvery)
	now.Store(&later)
	g.block = make(chan struct{})
	rendering := make(chan string)
	go func() { rendering <- scrape(t, e, http.MethodGet, "").Body.String() }()
	// Wait until that scrape holds the rendering (it blocks in Gather).
	for deadline := time.Now().Add(10 * time.Second); e.renderMu.TryLock(); {
		e.renderMu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("the scrape after RenderEvery never started rendering")
		}
		time.Sleep(time.Millisecond)
	}
	// While that scrape renders, others get the previous rendering at once.
	for range 5 {
		if got := scrape(t, e, http.MethodGet, "").Body.String(); got != first {
			t.Fatalf("scrape during a rendering by age got %q, want the previous %q", got, first)
		}
	}
	close(g.block)
	if got := <-rendering; got == first || !strings.Contains(got, "servicedesk_test_total 1") {
		t.Fatalf("the rendering scrape got %q", got)
	}
	if got := scrape(t, e, http.MethodGet, "").Body.String(); !strings.Contains(got, "servicedesk_test_total 1") {
		t.Fatalf("after the rendering: %q", got)
	}
}

func TestExpositionNewDataIsNeverServedStale(t *testing.T) {
	e, g, version, _ := newTestExposition(t, 0)
	scrape(t, e, http.MethodGet, "")
	g.reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "servicedesk_new_gauge", Help: "Appears with the new data."}))
	*version = 1 // a poll finished: every scrape from now on must show it
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for _, accept := range []string{"", prometheusAccept} {
				if body := scrapeAccepting(t, e, http.MethodGet, accept, "").Body.String(); !strings.Contains(body, "servicedesk_new_gauge") {
					t.Errorf("scrape after new data (Accept %q) served the old rendering", accept)
				}
			}
		})
	}
	wg.Wait()
	if n := g.calls.Load(); n != 2 {
		t.Errorf("%d gathers, want 2 (one per data version)", n)
	}
}

// BenchmarkScrapeCached is a scrape served from a rendering: what 50
// concurrent scrapers each pay (BENCHMARKS.md).
func BenchmarkScrapeCached(b *testing.B) {
	reg := prometheus.NewRegistry()
	for i := range 200 {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "servicedesk_bench_" + strconv.Itoa(i) + "_total", Help: "Bench."}, []string{"desk"})
		for _, d := range []string{"IT", "HR", "FAC"} {
			c.WithLabelValues(d).Add(float64(i))
		}
		reg.MustRegister(c)
	}
	e := NewHandler(reg, func() any { return 0 }, 0, promslog.NewNopLogger())
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", prometheusAccept)
	req.Header.Set("Accept-Encoding", "gzip")
	w := &discardWriter{header: http.Header{}}
	e.ServeHTTP(w, req)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		e.ServeHTTP(w, req)
	}
}

type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
