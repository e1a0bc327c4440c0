package exposition

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

func newTestExposition(t *testing.T, maxInFlight int) (*Handler, *countingGatherer, *int, *time.Time) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "servicedesk_test_total", Help: "Test counter."})
	c.Add(3)
	reg.MustRegister(c)
	g := &countingGatherer{reg: reg}
	version := new(int)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	e := NewHandler(g, func() any { return *version }, maxInFlight, promslog.NewNopLogger())
	e.now = func() time.Time { return now }
	return e, g, version, &now
}

func scrape(t *testing.T, h http.Handler, method, acceptEncoding string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "/metrics", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
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
