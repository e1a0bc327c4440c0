package reliability_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
)

// crashSeed picks the kill points; RELIABILITY_SEED replays a failed run.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("RELIABILITY_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RELIABILITY_SEED: %v", err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// killPoint describes where a SIGKILL landed.
type killPoint struct {
	after    time.Duration
	ready    bool
	progress float64
	tracked  float64
	created  float64 // sum of servicedesk_tickets_created_total, -1 when unread
	requests int
}

func (k killPoint) String() string {
	phase := fmt.Sprintf("initial sync at %.0f%%", 100*k.progress)
	if k.ready {
		phase = "incremental polls"
	}
	return fmt.Sprintf("%v after start, %s, %.0f tickets in the store, %.0f created counted, %d requests in this run",
		k.after.Round(10*time.Millisecond), phase, k.tracked, k.created, k.requests)
}

// observe reads readiness, sync progress and the created counter just
// before a kill; it has no side effect on the exporter, and what it cannot
// read stays zero (created: -1).
func observe(p *exporter) (ready bool, progress, tracked, created float64) {
	created = -1
	client := &http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get(p.url("/-/ready")); err == nil {
		ready = resp.StatusCode == http.StatusOK
		_ = resp.Body.Close()
	}
	if resp, err := client.Get(p.url("/metrics")); err == nil {
		defer resp.Body.Close()
		if body, err := readAll(resp); err == nil {
			if fams, err := parseText(body); err == nil {
				progress, _ = sample(fams, "servicedesk_initial_sync_progress_ratio", map[string]string{"source": jiraSource})
				tracked, _ = sample(fams, "servicedesk_tickets_tracked", map[string]string{"source": jiraSource})
				created = stateOf(fams).created
			}
		}
	}
	return ready, progress, tracked, created
}

// TestSIGKILLAnywhereNeverMiscounts kills the exporter at random points of
// its initial sync and of incremental polls, with tickets changing between
// and during runs, then checks that after a last restart every counter,
// histogram and gauge equals the fake's ground truth. Cloud and Data Center
// page and commit differently, so each gets its own kills.
func TestSIGKILLAnywhereNeverMiscounts(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("seed %d (rerun with RELIABILITY_SEED=%d)", seed, seed)
	for i, tc := range []struct {
		name       string
		deployment fakejira.Deployment
		search     string // the fake's name for the search endpoint
		killPoints int
		// Kills in the initial sync come after 1..maxPages search pages,
		// so that they land before, during and after commits and the
		// sync (about 32 pages) advances over several runs.
		maxPages int
	}{
		// A Cloud batch is 1000 tickets: 10 pages, then a bulk changelog
		// fetch, then one commit.
		{"Cloud", fakejira.DeploymentCloud, "search_jql", 24, 14},
		// A Data Center page carries its changelogs and is committed alone.
		{"Data Center", fakejira.DeploymentDataCenter, "search", 12, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newJiraFixtureOn(t, tc.deployment, 11, 5000, 100*time.Millisecond, "1s")
			killAnywhere(t, f, rand.New(rand.NewPCG(seed, uint64(i+1))), tc.search, tc.killPoints, tc.maxPages)
		})
	}
}

func killAnywhere(t *testing.T, f *jiraFixture, rng *rand.Rand, searchEndpoint string, killPoints, maxPages int) {
	var points []killPoint
	for i := range killPoints {
		p := startExporter(t, f.dir)
		started := time.Now()
		before, searchesBefore := f.fake.Total(), f.fake.Count(searchEndpoint)
		f.mutate(t, rng, 3+rng.IntN(6))
		if i < killPoints/2 {
			// First half: in the initial sync.
			f.fake.SetLatency(100 * time.Millisecond)
			pages := 1 + rng.IntN(maxPages)
			for deadline := time.Now().Add(30 * time.Second); f.fake.Count(searchEndpoint)-searchesBefore < pages && time.Now().Before(deadline) && p.Running(); {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		} else {
			// Second half: past the initial sync, into incremental polls.
			f.fake.SetLatency(60 * time.Millisecond)
			p.waitReady(t, 120*time.Second)
			f.mutate(t, rng, 3+rng.IntN(6))
			time.Sleep(time.Duration(200+rng.IntN(1800)) * time.Millisecond)
		}
		ready, progress, tracked, created := observe(p)
		if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.Exited()
		k := killPoint{after: time.Since(started), ready: ready, progress: progress, tracked: tracked, created: created, requests: f.fake.Total() - before}
		// A restart continues where the last one stopped: never a decrease.
		for _, earlier := range points {
			if created >= 0 && created < earlier.created {
				t.Errorf("kill %d: created total %v is below the %v seen before an earlier kill", len(points)+1, created, earlier.created)
				break
			}
		}
		points = append(points, k)
		f.mutate(t, rng, 3+rng.IntN(6))
	}
	inSync, incremental := 0, 0
	for i, k := range points {
		t.Logf("kill %2d: %v", i+1, k)
		if k.ready {
			incremental++
		} else {
			inSync++
		}
	}

	p := startExporter(t, f.dir)
	p.waitReady(t, 120*time.Second)
	took, diffs := converge(t, p, f, 60*time.Second)
	truth := f.truth()
	t.Logf("%d kills (%d during the initial sync, %d during incremental polls); converged %v after ready; truth: %d created, %d resolved, %d reopened, %d tickets",
		len(points), inSync, incremental, took.Round(10*time.Millisecond), fakejira.Sum(truth.Created), fakejira.Sum(truth.Resolved), fakejira.Sum(truth.Reopened), f.fake.Len())
	if len(diffs) > 0 {
		t.Fatalf("after %d kills the metrics differ from the truth:\n%s", len(points), firstN(diffs, 40))
	}
	if inSync == 0 {
		t.Error("no kill landed in the initial sync")
	}
}

// TestSIGTERMDuringPollExitsCleanly stops the exporter while a poll waits on
// slow Jira answers: it must exit 0 within a few seconds, and a restart must
// still converge to the truth.
func TestSIGTERMDuringPollExitsCleanly(t *testing.T) {
	f := newJiraFixture(t, 12, 1000, 10*time.Millisecond, "1s")
	p := startExporter(t, f.dir)
	p.waitReady(t, 60*time.Second)
	f.mutate(t, rand.New(rand.NewPCG(12, 12)), 20)
	f.fake.SetLatency(3 * time.Second)
	inFlight := f.fake.Total()
	// A request that arrives now is held 3 s by the fake: the poll is mid-flight.
	for deadline := time.Now().Add(10 * time.Second); f.fake.Total() == inFlight; {
		if time.Now().After(deadline) {
			t.Fatal("no poll reached the fake within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.ExitCode(t, 20*time.Second)
	stopped := time.Since(start)
	t.Logf("exit %d %v after SIGTERM during a poll", code, stopped.Round(10*time.Millisecond))
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	if stopped > 8*time.Second {
		t.Errorf("took %v to stop; shutdown grace is 5 s", stopped)
	}

	f.fake.SetLatency(10 * time.Millisecond)
	again := startExporter(t, f.dir)
	again.waitReady(t, 60*time.Second)
	if took, diffs := converge(t, again, f, 30*time.Second); len(diffs) > 0 {
		t.Fatalf("after SIGTERM and restart, not converged within %v:\n%s", took, firstN(diffs, 30))
	}
}
