package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the smoke test re-execute this test binary as the exporter
// side, exactly as the command re-executes itself.
func TestMain(m *testing.M) {
	if configPath := os.Getenv(childEnv); configPath != "" {
		if err := childMain(configPath); err != nil {
			fmt.Fprintln(os.Stderr, "exporter side:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmoke runs the whole harness at a small size without latency: it
// must finish, track every ticket, keep to the request budgets that do not
// depend on the machine, and render a table with a section BENCHMARKS.md can
// take. Timings are not asserted: the default test run shares the machine.
func TestSmoke(t *testing.T) {
	const n = 2000
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := benchConfig{
		sizes: []int{n}, runs: 1,
		opts: scenarioOptions{
			Seed: 1, RPS: 1000, ChangedFraction: 0.01,
			Scrapers: 4, ScrapesPerScraper: 5, ScrapeTime: 10 * time.Second, MaxRequests: 4,
			StepTimeout: 60 * time.Second, WorkDir: dir,
			Child: func(env []string) *exec.Cmd {
				cmd := exec.Command(self)
				cmd.Env = append(os.Environ(), env...)
				return cmd
			},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	results, err := measure(ctx, cfg, func(msg string) { t.Log(msg) })
	if err != nil {
		t.Fatal(err)
	}
	f := results[n][0]
	if f.Tracked != n {
		t.Errorf("tracked %d tickets, want %d", f.Tracked, n)
	}
	if f.SyncRequests > requestBudget(n) || f.IDPages != ceilDiv(n, 5000) {
		t.Errorf("full sync used %d requests (%d search pages, %d of them id-only, %d bulkfetches); budget %d: the minimum %d plus %d id pages",
			f.SyncRequests, f.SearchPages, f.IDPages, f.Bulkfetches, requestBudget(n), minimumRequests(n), ceilDiv(n, 5000))
	}
	if f.IdleRequests != 1 {
		t.Errorf("idle poll sent %d requests, want 1", f.IdleRequests)
	}
	if f.Changed != n/100 {
		t.Errorf("changed %d tickets, want %d", f.Changed, n/100)
	}
	if budget := minimumRequests(f.Changed) + 1; f.ChangedRequests > budget {
		t.Errorf("poll after %d changes sent %d requests, budget %d", f.Changed, f.ChangedRequests, budget)
	}
	if f.Scrapes != 4*5 || f.ScrapeErrors != 0 || f.ScrapeBytes == 0 {
		t.Errorf("scrapes: %d measured, %d failed, %d bytes; want 20, 0, > 0", f.Scrapes, f.ScrapeErrors, f.ScrapeBytes)
	}
	if f.FloorP50 <= 0 || f.FloorP99 < f.FloorP50 {
		t.Errorf("floor: p50 %.6f s, p99 %.6f s; want both measured", f.FloorP50, f.FloorP99)
	}
	if f.RestartRequestsBeforeReady != 0 || f.RestartReadySeconds < 0 {
		t.Errorf("restart: %d requests before ready, in-process ready after %.3f s; want 0 requests and ready at once",
			f.RestartRequestsBeforeReady, f.RestartReadySeconds)
	}
	if f.SyncPeakRSSKiB == 0 || f.StoreBytes == 0 || f.SyncCPUSeconds <= 0 {
		t.Errorf("process figures missing: peak RSS %d KiB, store %d B, CPU %.3f s", f.SyncPeakRSSKiB, f.StoreBytes, f.SyncCPUSeconds)
	}

	report, _ := render(cfg, results, time.Now(), "go test")
	if !strings.Contains(report, "| full sync: wall ÷ sequential floor |") {
		t.Errorf("report lacks the request ratio row:\n%s", report)
	}
	path := filepath.Join(dir, "BENCHMARKS.md")
	if err := os.WriteFile(path, []byte("# Benchmarks\n\nintro\n\n"+beginMarker+"\nold\n"+endMarker+"\n\n## Open findings\n\nkept\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeBenchmarks(path, report); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(got); !strings.Contains(s, "intro") || !strings.Contains(s, "kept") || strings.Contains(s, "\nold\n") || !strings.Contains(s, report) {
		t.Errorf("rewritten BENCHMARKS.md did not replace exactly the generated section:\n%s", s)
	}
}
