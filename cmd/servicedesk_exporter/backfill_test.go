package main

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
)

// backfillConfig polls once an hour, so the store does not change while a
// test compares the endpoint's output with the command's.
const backfillConfig = `store: { path: data/servicedesk.db }
sources:
  - name: demo
    type: demo
    poll_interval: 1h
    lookback: 3d
    demo: { seed: 1, desks: [IT, HR, FAC], tickets_per_day: 150 }
`

func (p *exporterProcess) backfill(t *testing.T, query string, header http.Header) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+p.Addr+"/-/backfill?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// TestBackfillEndpointAndCommandAgree: while the exporter runs, the command
// refuses with the exact request to send to the endpoint instead; the
// endpoint serves it (gzipped when asked); once the exporter is stopped, the
// command writes byte for byte the same file from the same store.
func TestBackfillEndpointAndCommandAgree(t *testing.T) {
	p := startExporterWith(t, []byte(backfillConfig))
	p.waitReady(t)
	to := time.Now().UTC().Truncate(time.Second)
	from := to.Add(-6 * time.Hour)
	args := []string{"backfill", "--config.file=config.yaml", "--web.listen-address=" + p.Addr, "--out", "history.om",
		"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339), "--step", "10m", "--label", "instance=sd:9811"}

	code, out := exportertest.Run(t, p.Dir, 30*time.Second, args...)
	if code != 1 || !strings.Contains(out, "held by a running exporter") {
		t.Fatalf("backfill beside a running exporter: exit %d\n%s", code, out)
	}
	var query string
	for _, line := range strings.Split(out, "\n") {
		if _, after, ok := strings.Cut(line, "/-/backfill?"); ok {
			query = strings.TrimSuffix(after, "'")
		}
	}
	if query == "" || !strings.Contains(out, "-o 'history.om'") || !strings.Contains(out, "http://"+p.Addr+"/") {
		t.Fatalf("no usable endpoint request in the hint:\n%s", out)
	}

	status, header, plain := p.backfill(t, query, http.Header{"Accept-Encoding": {"identity"}})
	if status != http.StatusOK || !strings.HasPrefix(header.Get("Content-Type"), "application/openmetrics-text") {
		t.Fatalf("/-/backfill: %d %s\n%s", status, header.Get("Content-Type"), plain)
	}
	if !strings.HasSuffix(plain, "\n# EOF\n") || !strings.Contains(plain, `instance="sd:9811",job="servicedesk"`) {
		t.Fatalf("/-/backfill body does not look like the history:\n%.500s", plain)
	}
	// Go's client asks for gzip and unpacks it when left to itself.
	_, header, unpacked := p.backfill(t, query, nil)
	if unpacked != plain {
		t.Errorf("gzipped response (Content-Encoding %q) differs from the plain one", header.Get("Content-Encoding"))
	}

	p.stop(t)
	code, out = exportertest.Run(t, p.Dir, time.Minute, args...)
	if code != 0 {
		t.Fatalf("backfill after the exporter stopped: exit %d\n%s", code, out)
	}
	file, err := os.ReadFile(filepath.Join(p.Dir, "history.om"))
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != plain {
		t.Errorf("the command's file (%d bytes) differs from the endpoint's response (%d bytes)", len(file), len(plain))
	}
	if !strings.Contains(out, "backfill written") || !strings.Contains(out, "steps=37") {
		t.Errorf("no summary of 37 steps logged:\n%s", out)
	}
}

func TestBackfillEndpointRefusals(t *testing.T) {
	p := startExporterWith(t, []byte(backfillConfig))
	p.waitReady(t)
	for _, tc := range []struct {
		query string
		code  int
		says  string
	}{
		{"steps=5m", http.StatusBadRequest, `unknown parameter "steps"`},
		{"step=5x", http.StatusBadRequest, "step"},
		{"source=rt", http.StatusBadRequest, `source "rt" is not configured`},
		{"from=yesterday", http.StatusBadRequest, "from:"},
		{"label=instance", http.StatusBadRequest, "NAME=VALUE"},
		{"from=2030-01-01", http.StatusBadRequest, "is before start"},
	} {
		code, _, body := p.backfill(t, tc.query, nil)
		if code != tc.code || !strings.Contains(body, tc.says) {
			t.Errorf("?%s: %d %q, want %d saying %q", tc.query, code, strings.TrimSpace(body), tc.code, tc.says)
		}
	}
	resp, err := http.Post("http://"+p.Addr+"/-/backfill", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}

	// One backfill at a time: the first is held by not reading it (the
	// three days of history are far more than the socket buffers take).
	first, err := http.Get("http://" + p.Addr + "/-/backfill?step=1m")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	if _, err := bufio.NewReader(first.Body).ReadString('\n'); err != nil || first.StatusCode != http.StatusOK {
		t.Fatalf("first backfill: %d %v", first.StatusCode, err)
	}
	code, header, body := p.backfill(t, "", nil)
	if code != http.StatusTooManyRequests || header.Get("Retry-After") == "" {
		t.Errorf("second concurrent backfill: %d %q, want 429 with Retry-After", code, body)
	}
}

func TestBackfillCommandRefusals(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(backfillConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"no instance", []string{"--out", "x.om"}, "no instance label"},
		{"unknown source", []string{"--out", "x.om", "--label", "instance=a:1", "--source", "rt"}, `source "rt" is not configured`},
		{"no store yet", []string{"--out", "x.om", "--label", "instance=a:1"}, "no such file"},
		{"bad time", []string{"--out", "x.om", "--label", "instance=a:1", "--to", "soon"}, "to:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := exportertest.Run(t, dir, 30*time.Second, append([]string{"backfill", "--config.file=config.yaml"}, tc.args...)...)
			if code != 1 || !strings.Contains(out, tc.says) {
				t.Errorf("exit %d, want 1 saying %q:\n%s", code, tc.says, out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.om")); err == nil {
		t.Error("a refused backfill left a file behind")
	}
}

func TestParseInstant(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-03-01T10:00:00Z", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"2026-03-01T10:00:00.250+01:00", time.Date(2026, 3, 1, 9, 0, 0, 250e6, time.UTC)},
		{"2026-03-01", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"1772359200.5", time.Date(2026, 3, 1, 10, 0, 0, 500e6, time.UTC)},
	} {
		got, err := parseInstant(tc.in, time.Time{})
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseInstant(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestBackfillQueryDefaultsAndRoundTrip(t *testing.T) {
	in := backfillRequest{from: "2026-03-01", step: 2 * time.Minute, sources: []string{"demo", "jira"},
		labels: map[string]string{"instance": "sd:9811", "job": "desk"}}
	r := &http.Request{Host: "exporter:9811", URL: &url.URL{RawQuery: in.query()}}
	got, err := backfillQuery(r)
	if err != nil {
		t.Fatal(err)
	}
	if got.from != in.from || got.step != in.step || strings.Join(got.sources, ",") != "demo,jira" ||
		got.labels["instance"] != "sd:9811" || got.labels["job"] != "desk" {
		t.Errorf("round trip of %q: %+v", in.query(), got)
	}
	got, err = backfillQuery(&http.Request{Host: "exporter:9811", URL: &url.URL{}})
	if err != nil || got.labels["instance"] != "exporter:9811" || got.step != 5*time.Minute {
		t.Errorf("defaults: %+v %v; want instance from the Host and a 5m step", got, err)
	}
}

// TestBackfillEndpointIsBehindTheWebConfig: the history is as private as
// /metrics, so basic auth guards it too, and the health listener does not
// serve it.
func TestBackfillEndpointIsBehindTheWebConfig(t *testing.T) {
	const user, password = "prometheus", "s3cret-for-the-scraper"
	webConfig := writeBasicAuthWebConfig(t, t.TempDir(), user, password)
	healthAddr := exportertest.FreeAddr(t)
	p := startExporterWith(t, []byte(backfillConfig), "--web.config.file="+webConfig, "--web.health-address="+healthAddr)
	waitStatus(t, p, "http://"+healthAddr+"/-/ready", http.StatusOK)
	query := "/-/backfill?step=1h&label=instance=sd:9811"
	for _, tc := range []struct {
		name, url, user string
		want            int
	}{
		{"without credentials", "http://" + p.Addr + query, "", http.StatusUnauthorized},
		{"with credentials", "http://" + p.Addr + query, user, http.StatusOK},
		{"on the health listener", "http://" + healthAddr + query, user, http.StatusNotFound},
	} {
		code, body := status(t, http.MethodGet, tc.url, tc.user, password)
		if code != tc.want || code == http.StatusOK && !strings.HasSuffix(body, "# EOF\n") {
			t.Errorf("%s: %d (%d bytes), want %d", tc.name, code, len(body), tc.want)
		}
	}
}
