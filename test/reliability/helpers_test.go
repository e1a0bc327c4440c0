// Package reliability_test proves the promises of RELIABILITY.md against the
// real binary: it is built once per run, started as a child process on
// 127.0.0.1 and only ever observed from outside (HTTP, exit code, stderr).
package reliability_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	exportertest.RemoveBinary()
	os.Exit(code)
}

// demoConfig is a demo desk polled every pollInterval, its store in the
// working directory.
func demoConfig(pollInterval string) string {
	return `store:
  path: data/servicedesk.db
sources:
  - name: demo
    type: demo
    poll_interval: ` + pollInterval + `
    lookback: 30d
    demo: { seed: 1, desks: [IT, HR, FAC], tickets_per_day: 150 }
`
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// exporter is one run of the binary, reached over scheme with client (a
// TLS test sets both).
type exporter struct {
	*exportertest.Process
	client *http.Client
	scheme string
}

// startExporter runs the binary in dir (which holds config.yaml unless args
// say otherwise) on a fresh loopback port. The process is killed by PID when
// the test ends, whatever happened.
func startExporter(t *testing.T, dir string, args ...string) *exporter {
	t.Helper()
	return &exporter{Process: exportertest.Start(t, dir, args...), client: &http.Client{Timeout: 20 * time.Second}, scheme: "http"}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func (p *exporter) url(path string) string { return p.scheme + "://" + p.Addr + path }

func (p *exporter) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := p.client.Get(p.url(path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// waitReady polls /-/ready until 200, the process exits, or timeout.
func (p *exporter) waitReady(t *testing.T, timeout time.Duration) {
	t.Helper()
	p.WaitReady(t, p.client, p.url(""), timeout)
}

// scrape fetches and parses /metrics.
func (p *exporter) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := p.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, tail(body, 500))
	}
	return parseMetrics(t, body)
}

func parseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// sample returns the value of the single series of family whose labels
// include want, and whether there is one.
func sample(families map[string]*dto.MetricFamily, family string, want map[string]string) (float64, bool) {
	mf := families[family]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if !labelsInclude(m, want) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func labelsInclude(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == k && lp.GetValue() == v {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// rssBytes reads VmRSS of a running process from /proc.
func rssBytes(t *testing.T, pid int) int64 {
	t.Helper()
	rss, err := readRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	return rss
}

func readRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "VmRSS:" && fields[2] == "kB" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// listening reports whether anything accepts TCP connections on addr.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func readAll(resp *http.Response) (string, error) {
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// parseText parses an exposition without failing the test, for best-effort
// observations.
func parseText(body string) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(strings.NewReader(body))
}
