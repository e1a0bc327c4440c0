package prometheus

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// history is what examples/history/load-history.sh loaded.
type history struct {
	from, to time.Time
	step     time.Duration
}

// loadHistory runs examples/history/load-history.sh, the script the
// docker-compose quickstart's history-loader service runs, against the
// running exporter and the Debian Prometheus and promtool: it fetches the
// backfill from the exporter's /-/backfill, creates blocks in tsdbDir and
// backfills the recording rules with a temporary Prometheus on it.
func loadHistory(t *testing.T, root, exporterAddress, tsdbDir string, from time.Time, rules []string) history {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(root, "examples", "history", "load-history.sh"))
	cmd.Env = append(os.Environ(),
		"EXPORTER_URL=http://"+exporterAddress,
		"DATA_DIR="+tsdbDir,
		"RULES="+strings.Join(rules, " "),
		"HISTORY_FROM="+strconv.FormatInt(from.Unix(), 10),
		"STEP="+historyStep.String(),
		"EVAL_INTERVAL=1m",
		"TEMP_LISTEN="+exportertest.FreeAddr(t),
	)
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("load-history.sh: %v\n%s", err, out)
	}
	marker, err := os.ReadFile(filepath.Join(tsdbDir, "servicedesk-history"))
	if err != nil {
		t.Fatalf("load-history.sh left no marker: %v\n%s", err, out)
	}
	var h history
	var fromSec, toSec int64
	var step string
	if _, err := fmt.Sscanf(string(marker), "from=%d to=%d step=%s", &fromSec, &toSec, &step); err != nil {
		t.Fatalf("marker %q: %v", marker, err)
	}
	h.from, h.to = time.Unix(fromSec, 0), time.Unix(toSec, 0)
	if h.step, err = time.ParseDuration(step); err != nil {
		t.Fatal(err)
	}
	t.Logf("load-history.sh loaded %s of history in %s", h.to.Sub(h.from), time.Since(began).Round(time.Millisecond))
	rerun := exec.CommandContext(ctx, cmd.Args[0], cmd.Args[1:]...)
	rerun.Env = cmd.Env
	if again, err := rerun.CombinedOutput(); err != nil || !strings.Contains(string(again), "nothing to do") {
		t.Errorf("a second run of load-history.sh did not leave the loaded history alone: %v\n%s", err, again)
	}
	return h
}

// window is (from, to], what v(to) - v(from) of a counter counts.
type window struct{ from, to time.Time }

func (w window) has(at time.Time) bool { return at.After(w.from) && !at.After(w.to) }

// expected is what a source's tickets say about a window, worked out by
// the test and not by the exporter.
type expected struct {
	resolved      int
	firstResponse []float64 // seconds
	ratings       []float64
}

// demoTickets lists the demo desk's tickets that changed after since, with
// their facts as of at, by polling the demo source directly: a full
// delivery at since gives a cursor, and the incremental delivery from it
// brings every ticket that changed after it, in scope or not.
func demoTickets(t *testing.T, cfg demo.Config, since, at time.Time) []ticket.Ticket {
	t.Helper()
	now := since
	src, err := demo.New(cfg, demo.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	var cursor []byte
	err = src.Poll(context.Background(), since, nil, func(_ context.Context, b ticket.Batch) error {
		cursor = b.Cursor
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	now = at
	var out []ticket.Ticket
	err = src.Poll(context.Background(), since, cursor, func(_ context.Context, b ticket.Batch) error {
		out = append(out, b.Tickets...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// demoExpected applies the derivation rules docs/metrics.md states to the
// demo's facts: a resolution is a change into the done category; the first
// response is the first public comment by an agent; a rating counts at its
// own time (the store holds the rating a ticket had at the exporter's poll).
func demoExpected(tickets []ticket.Ticket, w window) expected {
	var e expected
	for _, tk := range tickets {
		for _, tr := range tk.Transitions {
			if tr.To == ticket.CategoryDone && tr.From != ticket.CategoryDone && w.has(tr.At) {
				e.resolved++
			}
		}
		var first time.Time
		for _, c := range tk.Comments {
			if c.Author == ticket.AuthorAgent && c.Public && (first.IsZero() || c.At.Before(first)) {
				first = c.At
			}
		}
		if !first.IsZero() && w.has(first) {
			e.firstResponse = append(e.firstResponse, first.Sub(tk.Created).Seconds())
		}
		if r := tk.Satisfaction; r != nil && w.has(r.At) {
			e.ratings = append(e.ratings, float64(r.Value))
		}
	}
	return e
}

// jiraExpected takes the window from the fake's own ground truth: what is
// counted at or after from+1ms, less what is counted at or after to+1ms.
func jiraExpected(srv *fakejira.Server, w window) expected {
	const firstResponseSLA = "Time to first response" // the site has it, so auto mode uses it
	after, later := srv.Truth(w.from.Add(time.Millisecond), firstResponseSLA), srv.Truth(w.to.Add(time.Millisecond), firstResponseSLA)
	e := expected{resolved: fakejira.Sum(after.Resolved) - fakejira.Sum(later.Resolved)}
	for l, obs := range after.FirstResponseSeconds {
		e.firstResponse = append(e.firstResponse, without(obs, later.FirstResponseSeconds[l])...)
	}
	for l, rs := range after.Satisfaction {
		e.ratings = append(e.ratings, without(floats(rs), floats(later.Satisfaction[l]))...)
	}
	return e
}

func floats(in []int) []float64 {
	out := make([]float64, len(in))
	for i, v := range in {
		out[i] = float64(v)
	}
	return out
}

// without is the multiset all minus some.
func without(all, some []float64) []float64 {
	left := map[float64]int{}
	for _, v := range some {
		left[v]++
	}
	var out []float64
	for _, v := range all {
		if left[v] > 0 {
			left[v]--
			continue
		}
		out = append(out, v)
	}
	return out
}

// quantile is PromQL's histogram_quantile over observations counted into
// bounds (the configured buckets and +Inf): linear interpolation within the
// bucket the rank falls in, the highest finite bound when it is +Inf.
func quantile(q float64, bounds, observations []float64) float64 {
	if len(observations) == 0 {
		return math.NaN()
	}
	bounds = append(slices.Clone(bounds), math.Inf(+1))
	cumulative := make([]float64, len(bounds))
	for _, o := range observations {
		for i, b := range bounds {
			if o <= b {
				cumulative[i]++
			}
		}
	}
	rank := q * cumulative[len(cumulative)-1]
	i, _ := slices.BinarySearchFunc(cumulative, rank, func(c, r float64) int {
		if c >= r {
			return 1
		}
		return -1
	})
	if i == len(bounds)-1 {
		return bounds[len(bounds)-2]
	}
	start, below := 0.0, 0.0
	if i > 0 {
		start, below = bounds[i-1], cumulative[i-1]
	}
	return start + (bounds[i]-start)*((rank-below)/(cumulative[i]-below))
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

func sameNumber(got, want float64) bool {
	if math.IsNaN(got) || math.IsNaN(want) {
		return math.IsNaN(got) && math.IsNaN(want)
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}
