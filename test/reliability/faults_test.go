package reliability_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
)

// jiraState is what a scrape says about the jira source.
type jiraState struct {
	up, pollErrors, skipped, created float64
	series                           int
}

func stateOf(families map[string]*dto.MetricFamily) jiraState {
	only := map[string]string{"source": jiraSource}
	var s jiraState
	s.up, _ = sample(families, "servicedesk_up", only)
	s.pollErrors, _ = sample(families, "servicedesk_poll_errors_total", only)
	s.skipped, _ = sample(families, "servicedesk_tickets_skipped_total", only)
	for _, v := range exported(families, "servicedesk_tickets_created_total", counterValue) {
		s.created += v
		s.series++
	}
	return s
}

// TestFaultStorm drives the exporter through every kind of Jira failure in
// turn. During each it must keep running and serving the last good
// counters, report up=0 and count the error, never call Jira inside a
// Retry-After penalty, and recover by itself once Jira behaves. A ticket
// with garbage in a custom field is skipped and counted without failing the
// poll; a ticket with 10,000 comments is handled. At the end every counter,
// histogram and gauge equals the ground truth.
func TestFaultStorm(t *testing.T) {
	f := newJiraFixture(t, 13, 2000, 10*time.Millisecond, "1s")
	rng := rand.New(rand.NewPCG(13, 13))
	p := startExporter(t, f.dir)
	p.waitReady(t, 60*time.Second)
	if took, diffs := converge(t, p, f, 30*time.Second); len(diffs) > 0 {
		t.Fatalf("not converged before the storm (%v):\n%s", took, firstN(diffs, 20))
	}

	phases := []struct {
		name     string
		fault    *fakejira.Fault
		latency  time.Duration // instead of a fault: answers slower than jira.timeout (5 s)
		duration time.Duration
	}{
		{name: "429 with Retry-After 2s", fault: &fakejira.Fault{Kind: fakejira.FaultStatus, Status: 429, RetryAfter: 2 * time.Second}, duration: 8 * time.Second},
		{name: "500 burst", fault: &fakejira.Fault{Kind: fakejira.FaultStatus, Status: 500}, duration: 4 * time.Second},
		{name: "503 burst", fault: &fakejira.Fault{Kind: fakejira.FaultStatus, Status: 503}, duration: 4 * time.Second},
		{name: "dropped connections", fault: &fakejira.Fault{Kind: fakejira.FaultDrop}, duration: 4 * time.Second},
		{name: "truncated JSON from search", fault: &fakejira.Fault{Kind: fakejira.FaultTruncate, Endpoint: "search_jql"}, duration: 4 * time.Second},
		{name: "HTML page with status 200", fault: &fakejira.Fault{Kind: fakejira.FaultHTML}, duration: 4 * time.Second},
		{name: "timeouts", latency: 6 * time.Second},
	}
	for _, ph := range phases {
		before := stateOf(p.scrape(t))
		f.mutate(t, rng, 5)
		faultStart := time.Now()
		if ph.fault != nil {
			f.fake.FailFor(ph.duration, *ph.fault)
		} else {
			f.fake.SetLatency(ph.latency)
		}
		// Until a failed poll is reported: the last good counters stay served.
		sawDown := false
		for deadline := time.Now().Add(60 * time.Second); ; {
			if !p.Running() {
				t.Fatalf("%s: the exporter died: %v\n%s", ph.name, p.WaitErr(), tail(p.Stderr.String(), 3000))
			}
			now := stateOf(p.scrape(t))
			if now.created < before.created || now.series < before.series {
				t.Errorf("%s: counters went back from %v to %v: last good metrics not served", ph.name, before, now)
			}
			if now.up == 0 && now.pollErrors > before.pollErrors {
				sawDown = true
				break
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !sawDown {
			t.Errorf("%s: within 60 s, servicedesk_up never went 0 with the error counted", ph.name)
		}
		faultEnd := faultStart.Add(ph.duration)
		if ph.fault == nil {
			f.fake.SetLatency(10 * time.Millisecond)
			faultEnd = time.Now()
		}
		recovered := false
		for deadline := time.Now().Add(90 * time.Second); !recovered && time.Now().Before(deadline); {
			recovered = stateOf(p.scrape(t)).up == 1
			if !recovered {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if !recovered {
			t.Fatalf("%s: not recovered within 90 s after the fault ended", ph.name)
		}
		after := stateOf(p.scrape(t))
		t.Logf("%-28s up=0 with %g poll errors counted; recovered %v after the fault ended",
			ph.name, after.pollErrors-before.pollErrors, time.Since(faultEnd).Round(100*time.Millisecond))
	}
	if v := f.fake.PenaltyViolations(); len(v) > 0 {
		t.Errorf("%d requests reached Jira during a Retry-After penalty, first: %+v", len(v), v[0])
	}

	// One ticket's Satisfaction field holds garbage, another has 10,000
	// comments: the poll still succeeds, the bad ticket is skipped. The bad
	// one has no rating date: with one, the exporter rightly asks the
	// feedback endpoint for the rating instead of skipping.
	issues := f.fake.Issues()
	// The big one awaits its first response, so the 10,000 public agent
	// replies change what must be counted.
	var bigKey, badKey string
	for _, is := range issues {
		status, _ := fakejira.StatusByID(is.StatusID)
		if status.Category == fakejira.CategoryDone {
			continue
		}
		for _, sla := range is.SLAs {
			if sla.Name == fakejira.SLATimeToFirstResponse && sla.Ongoing != nil && len(sla.Completed) == 0 {
				bigKey = is.Key
			}
		}
	}
	if bigKey == "" {
		t.Fatal("no open ticket awaiting its first response")
	}
	for _, is := range issues[len(issues)/3:] {
		if len(is.Ratings) == 0 && is.Key != bigKey {
			badKey = is.Key
			break
		}
	}
	before := stateOf(p.scrape(t))
	if err := f.fake.SetSatisfactionRaw(badKey, json.RawMessage(`"garbage"`)); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.AddComments(bigKey, 10_000, fakejira.RoleAgent, true); err != nil {
		t.Fatal(err)
	}
	skippedAt := time.Now()
	skipped := false
	for deadline := time.Now().Add(60 * time.Second); !skipped && time.Now().Before(deadline); {
		if !p.Running() {
			t.Fatalf("the exporter died on a bad ticket: %v\n%s", p.WaitErr(), tail(p.Stderr.String(), 3000))
		}
		now := stateOf(p.scrape(t))
		skipped = now.skipped > before.skipped && now.up == 1
		if !skipped {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !skipped {
		t.Errorf("the ticket with garbage in a custom field was not counted in servicedesk_tickets_skipped_total with the source up")
	} else {
		t.Logf("bad ticket skipped and counted %v after the change", time.Since(skippedAt).Round(100*time.Millisecond))
	}

	// Once the field is fixed the ticket is counted like any other and every
	// metric equals the truth: no gap, no double count.
	if err := f.fake.SetSatisfactionRaw(badKey, nil); err != nil {
		t.Fatal(err)
	}
	took, diffs := converge(t, p, f, 60*time.Second)
	if len(diffs) > 0 {
		t.Fatalf("after the storm, not converged within %v:\n%s", took, firstN(diffs, 40))
	}
	if log := p.Stderr.String(); strings.Contains(log, "panic:") || strings.Contains(log, "fatal error:") {
		t.Errorf("the log shows a panic:\n%s", tail(log, 3000))
	}
	t.Logf("after the storm: converged in %v; %d requests in all, %d answered 429", took.Round(10*time.Millisecond), f.fake.Total(), count429(f.fake.Requests()))
}

func count429(reqs []fakejira.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Status == 429 {
			n++
		}
	}
	return n
}
