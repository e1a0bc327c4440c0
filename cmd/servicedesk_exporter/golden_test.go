package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden from the current output; review its git diff before committing")

// goldenClock is a Monday morning; the demo desk is a pure function of time.
var goldenClock = time.Date(2026, 11, 16, 9, 30, 0, 0, time.UTC)

// demoRun runs the real demo → derivation → store → collector path with a
// pinned clock, the way the binary does, minus the web server.
type demoRun struct {
	*exportertest.DemoPipeline
}

func newPipeline(t *testing.T, dbPath string) *demoRun {
	t.Helper()
	cfg, err := config.Load("../../config.yaml", builtin.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return &demoRun{exportertest.NewDemoPipeline(t, cfg, dbPath, goldenClock, nil)}
}

func (p *demoRun) pollAt(t *testing.T, at time.Time) {
	t.Helper()
	if err := p.PollAt(at); err != nil {
		t.Fatal(err)
	}
}

func (p *demoRun) exposition(t *testing.T) []byte {
	t.Helper()
	mfs, err := p.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestGoldenMetrics pins the whole /metrics of a fixed demo run: every
// family, label set, bucket and value. A golden change is a reviewed diff,
// never just re-recorded output: run
//
//	go test ./cmd/servicedesk_exporter -run TestGoldenMetrics -update
//	git diff cmd/servicedesk_exporter/testdata/metrics.golden
//
// and check every changed line against the change under review (a new
// family or label, a count the change means to move, HELP text); a line
// that moved for no reason the change gives is a bug, not a new golden.
// Commit the golden file with the change that explains it.
func TestGoldenMetrics(t *testing.T) {
	p := newPipeline(t, filepath.Join(t.TempDir(), "sd.db"))
	p.pollAt(t, goldenClock)
	p.pollAt(t, goldenClock.Add(10*time.Minute))
	got := p.exposition(t)

	golden := filepath.Join("testdata", "metrics.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it, then review it line by line before committing)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("/metrics differs from %s:\n%s\nIf the change is intended, run go test ./cmd/servicedesk_exporter -run TestGoldenMetrics -update, "+
			"review git diff %s line by line (each change must follow from the change under review) and commit it with that change.",
			golden, firstDiff(string(want), string(got)), golden)
	}
	if problems, err := testutil.GatherAndLint(p.Registry); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	promtoolCheckMetrics(t, got)
}

// TestRestartMatchesUninterruptedRun checks the exactly-once promise end to
// end: polling with a restart in between gives the same counters as polling
// straight through, and re-polling the same instant adds nothing.
func TestRestartMatchesUninterruptedRun(t *testing.T) {
	straight := newPipeline(t, filepath.Join(t.TempDir(), "a.db"))
	for i := 0; i < 4; i++ {
		straight.pollAt(t, goldenClock.Add(time.Duration(i)*time.Hour))
	}

	path := filepath.Join(t.TempDir(), "b.db")
	first := newPipeline(t, path)
	first.pollAt(t, goldenClock)
	first.pollAt(t, goldenClock.Add(time.Hour))
	first.pollAt(t, goldenClock.Add(time.Hour)) // same instant again
	_ = first.Close()
	second := newPipeline(t, path)
	second.pollAt(t, goldenClock.Add(2*time.Hour))
	second.pollAt(t, goldenClock.Add(3*time.Hour))

	counters := func(p *demoRun) string {
		var keep []string
		for _, l := range strings.Split(string(p.exposition(t)), "\n") {
			if strings.HasPrefix(l, "servicedesk_tickets_") && strings.Contains(l, "_total") ||
				strings.HasPrefix(l, "servicedesk_sla_cycles_total") ||
				strings.HasPrefix(l, "servicedesk_first_response_seconds") ||
				strings.HasPrefix(l, "servicedesk_resolution_seconds") ||
				strings.HasPrefix(l, "servicedesk_satisfaction_rating") ||
				strings.HasPrefix(l, "servicedesk_open_tickets") ||
				strings.HasPrefix(l, "servicedesk_customer_group_") ||
				strings.HasPrefix(l, "servicedesk_team_") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	a, b := counters(straight), counters(second)
	if a == "" {
		t.Fatal("no counters exported")
	}
	if a != b {
		t.Fatalf("restart changed the counters:\n%s", firstDiff(a, b))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + w + "\n  got: " + g
		}
	}
	return "(no difference)"
}

// promtoolCheckMetrics runs promtool on real exposition text. CI installs
// promtool, so there it must be present.
func promtoolCheckMetrics(t *testing.T, exposition []byte) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not on PATH in CI; scripts/test.sh installs it")
		}
		t.Log("promtool not on PATH; skipping promtool check metrics")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
