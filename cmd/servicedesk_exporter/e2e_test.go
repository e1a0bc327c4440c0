package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
)

// exporterProcess is the binary running on loopback with its own work dir.
type exporterProcess struct{ *exportertest.Process }

// startExporter runs the binary in a fresh directory holding a copy of the
// repository's config.yaml, exactly what the README tells a newcomer to run.
func startExporter(t *testing.T, extraArgs ...string) *exporterProcess {
	t.Helper()
	return startExporterIn(t, newWorkDir(t), extraArgs...)
}

// newWorkDir is a fresh directory holding a copy of config.yaml.
func newWorkDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startExporterWith runs the binary on cfg, written to config.yaml in a
// fresh directory.
func startExporterWith(t *testing.T, cfg []byte, extraArgs ...string) *exporterProcess {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return startExporterIn(t, dir, extraArgs...)
}

// startExporterIn runs the binary in dir.
func startExporterIn(t *testing.T, dir string, extraArgs ...string) *exporterProcess {
	t.Helper()
	return &exporterProcess{exportertest.Start(t, dir, extraArgs...)}
}

func (p *exporterProcess) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.Addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReady polls /-/ready for at most 20 s.
func (p *exporterProcess) waitReady(t *testing.T) {
	t.Helper()
	p.WaitReady(t, http.DefaultClient, "http://"+p.Addr, 20*time.Second)
}

// stop sends SIGTERM and wants a clean exit within 10 s.
func (p *exporterProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
		if err := p.WaitErr(); err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGTERM")
	}
}

func TestBinaryServesDemoMetrics(t *testing.T) {
	p := startExporter(t)
	p.waitReady(t)

	code, body := p.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, family := range []string{
		"servicedesk_tickets_created_total", "servicedesk_tickets_resolved_total", "servicedesk_tickets_reopened_total",
		"servicedesk_sla_cycles_total", "servicedesk_first_response_seconds_bucket", "servicedesk_resolution_seconds_bucket",
		"servicedesk_satisfaction_rating_bucket", "servicedesk_open_tickets", "servicedesk_tickets_awaiting_first_response",
		"servicedesk_oldest_awaiting_first_response_seconds", "servicedesk_oldest_open_ticket_age_seconds",
		"servicedesk_sla_breached_open_tickets", "servicedesk_up", "servicedesk_last_successful_poll_timestamp_seconds",
		"servicedesk_poll_duration_seconds", "servicedesk_poll_errors_total", "servicedesk_tickets_tracked",
		"servicedesk_exporter_build_info", "servicedesk_config_last_reload_successful",
		"servicedesk_config_last_reload_success_timestamp_seconds", "servicedesk_initial_sync_progress_ratio",
	} {
		if !strings.Contains(body, "\n"+family+"{") && !strings.Contains(body, "\n"+family+" ") {
			t.Errorf("family %s missing from /metrics", family)
		}
	}
	if !strings.Contains(body, `servicedesk_up{source="demo"} 1`) {
		t.Error("demo source not up")
	}
	promtoolCheckMetrics(t, []byte(body))

	code, body = p.get(t, "/")
	if code != http.StatusOK || !strings.Contains(body, `href="/metrics"`) || !strings.Contains(body, "demo (demo): ready") ||
		strings.Contains(body, "debug/pprof") || !strings.Contains(body, "version=dev") {
		t.Fatalf("landing page %d:\n%s", code, body)
	}
	if code, _ := p.get(t, "/-/healthy"); code != http.StatusOK {
		t.Fatalf("/-/healthy: %d", code)
	}
	if code, _ := p.get(t, "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /-/reload: %d, want 405", code)
	}
}

func TestReloadKeepsOldConfigOnError(t *testing.T) {
	p := startExporter(t)
	p.waitReady(t)

	resp, err := http.Post("http://"+p.Addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reload of an unchanged config: %d", resp.StatusCode)
	}

	if err := os.WriteFile(filepath.Join(p.Dir, "config.yaml"), []byte("sources:\n  - name: demo\n    typo: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post("http://"+p.Addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "config.yaml:3") {
		t.Fatalf("bad reload: %d %s", resp.StatusCode, body)
	}
	// SIGHUP goes through the same path.
	if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.Stderr.String(), "reload failed") || strings.Count(p.Stderr.String(), "reload failed") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP reload failure not logged")
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, metrics := p.get(t, "/metrics")
	if !strings.Contains(metrics, "servicedesk_config_last_reload_successful 0") {
		t.Error("reload failure not reflected in servicedesk_config_last_reload_successful")
	}
	if !strings.Contains(metrics, `servicedesk_up{source="demo"} 1`) {
		t.Error("old config stopped serving after a failed reload")
	}
}

func TestSIGTERMExitsPromptly(t *testing.T) {
	p := startExporter(t)
	p.waitReady(t)
	start := time.Now()
	p.stop(t)
	t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
}

func TestConfigCheckAndBadConfig(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("../../config.yaml")
	bad := []byte("store:\n  path: x.db\nsources:\n  - name: demo\n    type: demo\n    pol_interval: 30s\n")
	if err := os.WriteFile(filepath.Join(dir, "good.yaml"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		return exportertest.Run(t, dir, time.Minute, args...)
	}
	if code, out := run("--config.file=good.yaml", "--config.check"); code != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("config.check on a good file: %d %s", code, out)
	}
	if code, out := run("--config.file=bad.yaml", "--config.check"); code != 1 || !strings.Contains(out, "bad.yaml:6") {
		t.Fatalf("config.check on a bad file: %d %s", code, out)
	}
	// Serving with a bad config exits 1 before binding the port.
	addr := exportertest.FreeAddr(t)
	code, out := run("--config.file=bad.yaml", "--web.listen-address="+addr)
	if code != 1 || !strings.Contains(out, "bad.yaml:6") || strings.Contains(out, "Listening") {
		t.Fatalf("serve with a bad config: %d %s", code, out)
	}
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("want one line of error output, got:\n%s", out)
	}
}

// TestStoreRebuildWhileAnotherExporterRuns: a second binary started with
// --store.rebuild on the store a running exporter holds refuses, like a
// second start, and leaves the file and the running exporter alone; once
// that one stopped, the rebuild goes ahead.
func TestStoreRebuildWhileAnotherExporterRuns(t *testing.T) {
	dir := newWorkDir(t)
	first := startExporterIn(t, dir)
	first.waitReady(t)
	storePath := filepath.Join(dir, "data", "servicedesk.db")
	before, err := os.Stat(storePath)
	if err != nil {
		t.Fatal(err)
	}

	const locked = "is locked by another process; stop it or use another store.path"
	// The file is still open by the first exporter, so a file created in
	// its place would have another inode.
	code, out := exportertest.Run(t, dir, 30*time.Second, "--store.rebuild", "--web.listen-address="+exportertest.FreeAddr(t))
	if code != 1 || !strings.Contains(out, locked) || strings.Contains(out, "store removed") {
		t.Fatalf("rebuild beside a running exporter: exit %d\n%s", code, out)
	}
	after, err := os.Stat(storePath)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the store file was replaced or removed under the running exporter: %v", err)
	}
	code, out = exportertest.Run(t, dir, 30*time.Second, "--web.listen-address="+exportertest.FreeAddr(t))
	if code != 1 || !strings.Contains(out, locked) {
		t.Fatalf("a second start: exit %d\n%s", code, out)
	}
	if code, body := first.get(t, "/metrics"); code != http.StatusOK || !strings.Contains(body, `servicedesk_up{source="demo"} 1`) {
		t.Fatalf("the running exporter stopped serving: %d", code)
	}

	if err := first.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("the first exporter did not stop after SIGTERM")
	}
	second := startExporterIn(t, dir, "--store.rebuild")
	second.waitReady(t)
	if !strings.Contains(second.Stderr.String(), "store removed; rebuilding it from the sources") {
		t.Fatalf("no rebuild once the store was free:\n%s", second.Stderr.String())
	}
}
