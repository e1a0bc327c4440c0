package reliability_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// selfSignedCert writes an ECDSA certificate for 127.0.0.1 and its key into
// dir and returns their paths and a pool trusting it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "servicedesk_exporter reliability test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// basicAuthTransport adds credentials to every request.
type basicAuthTransport struct {
	user, password string
	next           http.RoundTripper
}

func (b basicAuthTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.password)
	return b.next.RoundTrip(r)
}

func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	const user, password = "prometheus", "correct horse battery staple"
	certFile, keyFile, pool := selfSignedCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "web.yml"), fmt.Sprintf(`tls_server_config:
  cert_file: %s
  key_file: %s
basic_auth_users:
  %s: %s
`, certFile, keyFile, user, hash))
	writeFile(t, filepath.Join(dir, "config.yaml"), demoConfig("30s"))

	p := startExporter(t, dir, "--web.config.file=web.yml")
	tlsTransport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tlsTransport.CloseIdleConnections)
	p.scheme = "https"
	p.client = &http.Client{Timeout: 20 * time.Second, Transport: basicAuthTransport{user, password, tlsTransport}}
	p.waitReady(t, 30*time.Second)

	code, body := p.get(t, "/metrics")
	if code != http.StatusOK || !strings.Contains(body, `servicedesk_up{source="demo"} 1`) {
		t.Fatalf("https with the right password: %d, want 200 with servicedesk_up:\n%s", code, tail(body, 500))
	}

	status := func(client *http.Client, url string) int {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	wrongPassword := &http.Client{Timeout: 20 * time.Second, Transport: basicAuthTransport{user, "Tr0ub4dor&3", tlsTransport}}
	wrongUser := &http.Client{Timeout: 20 * time.Second, Transport: basicAuthTransport{"admin", password, tlsTransport}}
	anonymous := &http.Client{Timeout: 20 * time.Second, Transport: tlsTransport}
	plain := &http.Client{Timeout: 20 * time.Second}
	for _, tc := range []struct {
		name   string
		client *http.Client
		url    string
		want   int
	}{
		{"wrong password on /metrics", wrongPassword, p.url("/metrics"), http.StatusUnauthorized},
		{"unknown user on /metrics", wrongUser, p.url("/metrics"), http.StatusUnauthorized},
		{"no credentials on /metrics", anonymous, p.url("/metrics"), http.StatusUnauthorized},
		{"no credentials on the landing page", anonymous, p.url("/"), http.StatusUnauthorized},
		{"no credentials on /-/reload", anonymous, p.url("/-/reload"), http.StatusUnauthorized},
		{"plain http to the TLS port", plain, "http://" + p.Addr + "/metrics", http.StatusBadRequest},
		{"right password on the landing page", p.client, p.url("/"), http.StatusOK},
	} {
		if got := status(tc.client, tc.url); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if strings.Contains(p.Stderr.String(), password) || strings.Contains(p.Stderr.String(), string(hash)) {
		t.Error("the basic auth password or its hash appears in the log")
	}
}

// TestSlowlorisIsDisconnected holds a request's headers open, one header line
// per second, and expects the server to hang up once ReadHeaderTimeout (10 s)
// passes, instead of keeping the connection forever.
func TestSlowlorisIsDisconnected(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.yaml"), demoConfig("30s"))
	p := startExporter(t, dir)
	p.waitReady(t, 30*time.Second)

	conn, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil {
		t.Fatal(err)
	}
	const maxTrickle = 40 // header lines, one a second: far beyond the 10 s timeout
	closedAfter := time.Duration(0)
	buf := make([]byte, 512)
	for i := 0; i < maxTrickle && closedAfter == 0; i++ {
		// Waiting on Read paces the trickle and notices the hang-up.
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		_, err := conn.Read(buf)
		var netErr net.Error
		switch {
		case err == nil:
			// The server answered (e.g. 408) before closing; keep reading.
		case errors.As(err, &netErr) && netErr.Timeout():
			if _, werr := fmt.Fprintf(conn, "X-Slow-%d: x\r\n", i); werr != nil {
				closedAfter = time.Since(start)
			}
		default:
			closedAfter = time.Since(start)
		}
	}
	if closedAfter == 0 {
		t.Fatalf("connection still open after %d slow header lines (%v)", maxTrickle, time.Since(start).Round(time.Second))
	}
	t.Logf("slowloris connection closed by the server after %v", closedAfter.Round(100*time.Millisecond))
	// Well above zero proves the trickle was accepted at first; the upper
	// bound is the 10 s timeout with room for a loaded machine.
	if closedAfter < 5*time.Second || closedAfter > 30*time.Second {
		t.Errorf("closed after %v, want about the 10 s ReadHeaderTimeout", closedAfter)
	}
	if !p.Running() {
		t.Fatal("exporter died")
	}
	if code, _ := p.get(t, "/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy after slowloris: %d", code)
	}
}

// stuckScrape pipelines many scrapes on one socket with a tiny receive
// buffer and never reads the answers. The server works through them until
// its send buffer (autotuned up to 4 MB on Linux) is full; from then on the
// handler is blocked in Write and keeps its in-flight slot until the
// connection is closed. 64 answers of ~280 KB are far beyond any buffer.
func stuckScrape(t *testing.T, addr string) net.Conn {
	t.Helper()
	dialer := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var sockErr error
		if err := c.Control(func(fd uintptr) {
			sockErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024)
		}); err != nil {
			return err
		}
		return sockErr
	}}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := io.WriteString(conn, strings.Repeat("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 64)); err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestMaxRequestsCapsConcurrentScrapes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.yaml"), demoConfig("30s"))
	p := startExporter(t, dir, "--web.max-requests=2")
	p.waitReady(t, 30*time.Second)
	if code, body := p.get(t, "/metrics"); code != http.StatusOK || len(body) < 200_000 {
		t.Fatalf("/metrics: %d with %d bytes; 64 of them must exceed the socket buffers", code, len(body))
	}

	stuck := []net.Conn{stuckScrape(t, p.Addr), stuckScrape(t, p.Addr)}
	// Probe only once both have filled their buffers (~15 answers each,
	// well under a second): a probe served earlier would hold a slot while a
	// stuck socket's pipelined requests burn through as quick 503s.
	time.Sleep(3 * time.Second)
	// Both slots taken: a third scrape is refused, not queued.
	got503 := false
	for deadline := time.Now().Add(15 * time.Second); !got503 && time.Now().Before(deadline); {
		code, _ := p.get(t, "/metrics")
		got503 = code == http.StatusServiceUnavailable
		if !got503 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !got503 {
		t.Fatal("a third concurrent scrape was served with --web.max-requests=2 and two scrapes in flight")
	}
	// Other endpoints are not capped.
	if code, _ := p.get(t, "/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy while scrapes are capped: %d", code)
	}
	for _, c := range stuck {
		_ = c.Close()
	}
	served := false
	for deadline := time.Now().Add(15 * time.Second); !served && time.Now().Before(deadline); {
		code, _ := p.get(t, "/metrics")
		served = code == http.StatusOK
		if !served {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !served {
		t.Fatal("scrapes still refused after the stuck ones went away")
	}
}

// TestConcurrentScrapersUnderPolling runs 100 scrapers for 30 s (or 200,000
// requests) against the demo desk polled every second. Memory is compared
// with the RSS 5 s into the load: 100 concurrent gzip-compressed scrapes
// legitimately need tens of MB of buffers, a leak keeps growing after that.
func TestConcurrentScrapersUnderPolling(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s load test; runs without -short")
	}
	const (
		scrapers    = 100
		duration    = 30 * time.Second
		maxRequests = 200_000
	)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.yaml"), demoConfig("1s"))
	// The default cap (40) would answer 503 by design; allow all 100.
	p := startExporter(t, dir, fmt.Sprintf("--web.max-requests=%d", scrapers))
	p.waitReady(t, 30*time.Second)
	firstPoll, _ := sample(p.scrape(t), "servicedesk_last_successful_poll_timestamp_seconds", map[string]string{"source": "demo"})
	rssIdle := rssBytes(t, p.Cmd.Process.Pid)
	var rssWarm atomic.Int64
	warmTimer := time.AfterFunc(5*time.Second, func() {
		if rss, err := readRSS(p.Cmd.Process.Pid); err == nil {
			rssWarm.Store(rss)
		}
	})
	t.Cleanup(func() { warmTimer.Stop() })

	transport := &http.Transport{MaxIdleConnsPerHost: scrapers}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Timeout: 20 * time.Second, Transport: transport}
	var (
		issued    atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		failures  []string
		wg        sync.WaitGroup
	)
	stopAt := time.Now().Add(duration)
	for range scrapers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(stopAt) && issued.Add(1) <= maxRequests {
				start := time.Now()
				resp, err := client.Get(p.url("/metrics"))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	rssAfter := rssBytes(t, p.Cmd.Process.Pid)
	lastPoll, _ := sample(p.scrape(t), "servicedesk_last_successful_poll_timestamp_seconds", map[string]string{"source": "demo"})

	slices.Sort(latencies)
	pct := func(q float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(q*float64(len(latencies)-1))].Round(time.Millisecond)
	}
	rssBefore := rssWarm.Load()
	t.Logf("%d scrapers: %d scrapes OK, %d errors, p50 %v, p99 %v, max %v; RSS %.1f MB idle, %.1f MB 5 s into the load, %.1f MB after %v; polls kept running: %.0f s of poll timestamps advanced",
		scrapers, len(latencies), len(failures), pct(0.50), pct(0.99), pct(1), float64(rssIdle)/1e6, float64(rssBefore)/1e6, float64(rssAfter)/1e6, duration, lastPoll-firstPoll)
	if rssBefore == 0 {
		t.Fatal("RSS 5 s into the load was not read")
	}
	if len(failures) > 0 {
		t.Errorf("%d failed scrapes, first: %s", len(failures), failures[0])
	}
	if len(latencies) < scrapers {
		t.Errorf("only %d scrapes completed", len(latencies))
	}
	if limit := 2*rssBefore + 50<<20; rssAfter > limit {
		t.Errorf("RSS grew from %d to %d bytes, over the %d bound", rssBefore, rssAfter, limit)
	}
	// Polling every second must not be starved by the scrapers.
	if lastPoll-firstPoll < duration.Seconds()/3 {
		t.Errorf("last successful poll advanced only %.0f s during %v of load", lastPoll-firstPoll, duration)
	}
	if !p.Running() {
		t.Fatal("exporter died under load")
	}
}
