package collector

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output; review their git diff before committing")

const goldenPath = "testdata/collector.prom"

// scrapeTime is the pinned clock of the fixtures.
var scrapeTime = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func pinnedClock() time.Time { return scrapeTime }

// fixtureSnapshot covers two sources and three desks, a request type folded
// into "other", an empty priority, SLA breaches both already counted and
// pending on either side of the pinned clock, and an oldest ticket whose
// creation time is ahead of the clock.
func fixtureSnapshot() *aggregate.Snapshot {
	itIncident := aggregate.TicketLabels{Source: "jira", Desk: "IT", RequestType: "Incident", Priority: "High"}
	itOther := aggregate.TicketLabels{Source: "jira", Desk: "IT", RequestType: "other", Priority: "Low"}
	hrNoPriority := aggregate.TicketLabels{Source: "jira", Desk: "HR", RequestType: "Onboarding", Priority: ""}
	facQuiet := aggregate.TicketLabels{Source: "demo", Desk: "FAC", RequestType: "Repair", Priority: "Medium"}

	return &aggregate.Snapshot{
		Tickets: map[aggregate.TicketLabels]*aggregate.TicketSeries{
			itIncident: {
				Created: 12, Resolved: 10, Reopened: 2,
				FirstResponse: aggregate.Histogram{Count: 11, Sum: 9000, Buckets: map[float64]uint64{300: 3, 3600: 9, 86400: 11}},
				Resolution:    aggregate.Histogram{Count: 10, Sum: 500000, Buckets: map[float64]uint64{3600: 1, 86400: 6, 604800: 10}},
			},
			itOther: {
				Created: 3, Resolved: 1,
				FirstResponse: aggregate.Histogram{Count: 2, Sum: 7300, Buckets: map[float64]uint64{300: 0, 3600: 1, 86400: 2}},
				Resolution:    aggregate.Histogram{Count: 1, Sum: 90000, Buckets: map[float64]uint64{3600: 0, 86400: 0, 604800: 1}},
			},
			hrNoPriority: {
				Created: 5, Resolved: 5,
				FirstResponse: aggregate.Histogram{Count: 5, Sum: 1200, Buckets: map[float64]uint64{300: 4, 3600: 5, 86400: 5}},
				Resolution:    aggregate.Histogram{Count: 5, Sum: 40000, Buckets: map[float64]uint64{3600: 0, 86400: 5, 604800: 5}},
			},
			// Present with no events yet: every family must still show zeros.
			facQuiet: {
				FirstResponse: aggregate.Histogram{Buckets: map[float64]uint64{300: 0, 3600: 0, 86400: 0}},
				Resolution:    aggregate.Histogram{Buckets: map[float64]uint64{3600: 0, 86400: 0, 604800: 0}},
			},
		},
		SLACycles: map[aggregate.SLALabels]*aggregate.SLACounts{
			{TicketLabels: itIncident, SLA: "Time to first response"}:   {Met: 8, Breached: 3},
			{TicketLabels: itIncident, SLA: "Time to resolution"}:       {Met: 10},
			{TicketLabels: hrNoPriority, SLA: "Time to first response"}: {Met: 5},
		},
		Satisfaction: map[aggregate.SatisfactionLabels]*aggregate.Histogram{
			{Source: "jira", Desk: "IT", RequestType: "Incident"}:   {Count: 4, Sum: 15, Buckets: map[float64]uint64{1: 0, 2: 1, 3: 1, 4: 2, 5: 4}},
			{Source: "jira", Desk: "HR", RequestType: "Onboarding"}: {Count: 1, Sum: 5, Buckets: map[float64]uint64{1: 0, 2: 0, 3: 0, 4: 0, 5: 1}},
		},
		Open: map[aggregate.OpenLabels]float64{
			{TicketLabels: itIncident, StatusCategory: "new"}:           1,
			{TicketLabels: itIncident, StatusCategory: "indeterminate"}: 1,
			{TicketLabels: itOther, StatusCategory: "new"}:              2,
			{TicketLabels: facQuiet, StatusCategory: "indeterminate"}:   0,
		},
		Awaiting: map[aggregate.TicketLabels]float64{
			itIncident: 1,
			itOther:    1,
			facQuiet:   0,
		},
		OldestOpen: map[aggregate.DeskLabels]time.Time{
			{Source: "jira", Desk: "IT"}: scrapeTime.Add(-400 * 24 * time.Hour), // created long before any horizon
			// Clock skew: the source says the ticket was created after our now.
			{Source: "demo", Desk: "FAC"}: scrapeTime.Add(30 * time.Second),
		},
		OldestAwaiting: map[aggregate.DeskLabels]time.Time{
			{Source: "jira", Desk: "IT"}: scrapeTime.Add(-90 * time.Minute),
		},
		SLABreached: map[aggregate.DeskSLALabels]*aggregate.BreachState{
			// One already breached, one breaching exactly now, one pending in an hour.
			{Source: "jira", Desk: "IT", SLA: "Time to first response"}: {
				Breached: 1,
				Pending:  []time.Time{scrapeTime, scrapeTime.Add(time.Hour)},
			},
			// Only pending, none due yet.
			{Source: "jira", Desk: "IT", SLA: "Time to resolution"}: {
				Pending: []time.Time{scrapeTime.Add(time.Minute)},
			},
		},
		Tracked: map[string]int{"jira": 240, "demo": 1},

		Unassigned: map[aggregate.DeskLabels]float64{
			{Source: "jira", Desk: "IT"}:  2,
			{Source: "demo", Desk: "FAC"}: 0, // open tickets, all assigned
		},
		SLAAtRisk: map[aggregate.DeskSLALabels]*aggregate.RiskState{
			// One at risk since an hour, one coming at risk in a minute; one
			// whose risk window has passed (it breaches at the pinned clock).
			{Source: "jira", Desk: "IT", SLA: "Time to first response"}: {
				From:   []time.Time{scrapeTime.Add(-2 * time.Hour), scrapeTime.Add(-time.Hour), scrapeTime.Add(time.Minute)},
				Breach: []time.Time{scrapeTime, scrapeTime.Add(time.Hour), scrapeTime.Add(2 * time.Hour)},
			},
			{Source: "jira", Desk: "IT", SLA: "Time to resolution"}: {},
		},
		CustomerGroups: map[aggregate.CustomerGroupLabels]*aggregate.SegmentSeries{
			{Source: "jira", Desk: "IT", CustomerGroup: "Finance"}: {
				Created: 10, Resolved: 8, Reopened: 2,
				FirstResponse: aggregate.Histogram{Count: 9, Sum: 12000, Buckets: map[float64]uint64{300: 2, 3600: 7, 86400: 9}},
				Resolution:    aggregate.Histogram{Count: 8, Sum: 490000, Buckets: map[float64]uint64{3600: 1, 86400: 5, 604800: 8}},
				Satisfaction:  aggregate.Histogram{Count: 3, Sum: 7, Buckets: map[float64]uint64{1: 1, 2: 2, 3: 2, 4: 2, 5: 3}},
			},
			// Tickets without a group count under none.
			{Source: "jira", Desk: "IT", CustomerGroup: "none"}: {
				Created: 5, Resolved: 3,
				FirstResponse: aggregate.Histogram{Count: 4, Sum: 4300, Buckets: map[float64]uint64{300: 1, 3600: 3, 86400: 4}},
				Resolution:    aggregate.Histogram{Count: 3, Sum: 100000, Buckets: map[float64]uint64{3600: 0, 86400: 1, 604800: 3}},
				Satisfaction:  aggregate.Histogram{Count: 1, Sum: 5, Buckets: map[float64]uint64{1: 0, 2: 0, 3: 0, 4: 0, 5: 1}},
			},
		},
		CustomerGroupOpen:     map[aggregate.CustomerGroupLabels]float64{{Source: "jira", Desk: "IT", CustomerGroup: "Finance"}: 3, {Source: "jira", Desk: "IT", CustomerGroup: "none"}: 1},
		CustomerGroupAwaiting: map[aggregate.CustomerGroupLabels]float64{{Source: "jira", Desk: "IT", CustomerGroup: "Finance"}: 2, {Source: "jira", Desk: "IT", CustomerGroup: "none"}: 0},
		CustomerGroupOldestAwaiting: map[aggregate.CustomerGroupLabels]time.Time{
			{Source: "jira", Desk: "IT", CustomerGroup: "Finance"}: scrapeTime.Add(-90 * time.Minute),
		},
		Teams: map[aggregate.TeamLabels]*aggregate.SegmentSeries{
			{Source: "jira", Desk: "IT", Team: "Service Desk L1"}: {
				Created: 15, Resolved: 11, Reopened: 2,
				FirstResponse: aggregate.Histogram{Count: 13, Sum: 16300, Buckets: map[float64]uint64{300: 3, 3600: 10, 86400: 13}},
				Resolution:    aggregate.Histogram{Count: 11, Sum: 590000, Buckets: map[float64]uint64{3600: 1, 86400: 6, 604800: 11}},
				Satisfaction:  aggregate.Histogram{Count: 4, Sum: 12, Buckets: map[float64]uint64{1: 1, 2: 2, 3: 2, 4: 2, 5: 4}},
			},
		},
		TeamOpen:     map[aggregate.TeamLabels]float64{{Source: "jira", Desk: "IT", Team: "Service Desk L1"}: 4},
		TeamAwaiting: map[aggregate.TeamLabels]float64{{Source: "jira", Desk: "IT", Team: "Service Desk L1"}: 2},
		TeamOldestAwaiting: map[aggregate.TeamLabels]time.Time{
			{Source: "jira", Desk: "IT", Team: "Service Desk L1"}: scrapeTime.Add(-90 * time.Minute),
		},
		TeamCustomerGroups: map[aggregate.TeamCustomerGroupLabels]*aggregate.CrossSeries{
			{Source: "jira", Desk: "IT", Team: "Service Desk L1", CustomerGroup: "Finance"}: {
				FirstResponse: aggregate.Histogram{Count: 9, Sum: 12000, Buckets: map[float64]uint64{300: 2, 3600: 7, 86400: 9}},
				Satisfaction:  aggregate.Histogram{Count: 3, Sum: 7, Buckets: map[float64]uint64{1: 1, 2: 2, 3: 2, 4: 2, 5: 3}},
			},
		},
	}
}

func staticSnapshot(s *aggregate.Snapshot) func() *aggregate.Snapshot {
	return func() *aggregate.Snapshot { return s }
}

// exposition gathers c through a pedantic registry and renders it in the
// text format, sorted as Prometheus would serve it.
func exposition(t *testing.T, c prometheus.Collector) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatalf("register collector: %v", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			t.Fatalf("encode %s: %v", mf.GetName(), err)
		}
	}
	return buf.Bytes()
}

// TestCollectGolden compares the collector's exposition of a fixed
// snapshot with testdata/collector.prom. A change to it is a reviewed diff:
// run go test ./collector -run TestCollectGolden -update, read git diff
// collector/testdata/collector.prom, and accept only lines the change under
// review explains (its families, labels, values, HELP texts); commit the
// golden file with that change.
func TestCollectGolden(t *testing.T) {
	c := New(staticSnapshot(fixtureSnapshot()), WithClock(pinnedClock))

	if *update {
		if err := os.WriteFile(goldenPath, exposition(t, c), 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
	}
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it, then review it before committing): %v", err)
	}
	if err := testutil.CollectAndCompare(c, bytes.NewReader(golden)); err != nil {
		t.Errorf("exposition differs from %s:\n%v\nIf intended, run with -update, review git diff %s line by line and commit it with the change that explains it.", goldenPath, err, goldenPath)
	}
}

func TestCollectLint(t *testing.T) {
	c := New(staticSnapshot(fixtureSnapshot()), WithClock(pinnedClock))
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// TestGoldenPromtool checks the golden exposition with the same linter CI
// runs on the live binary's output.
func TestGoldenPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not on PATH in CI; scripts/test.sh installs it")
		}
		t.Skip("promtool not on PATH")
	}
	golden, err := os.Open(filepath.FromSlash(goldenPath))
	if err != nil {
		t.Fatalf("open golden file: %v", err)
	}
	defer golden.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = golden
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics %s: %v\n%s", goldenPath, err, out)
	}
}

func TestCollectWithoutData(t *testing.T) {
	for _, tc := range []struct {
		name     string
		snapshot *aggregate.Snapshot
	}{
		{name: "no snapshot published yet", snapshot: nil},
		{name: "empty snapshot", snapshot: &aggregate.Snapshot{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(staticSnapshot(tc.snapshot), WithClock(pinnedClock))
			if n := testutil.CollectAndCount(c); n != 0 {
				t.Errorf("collected %d metrics, want none", n)
			}
		})
	}
}

// TestCollectUsesClock checks that ages and pending breaches are computed at
// the injected clock's time, not at snapshot time or the wall clock.
func TestCollectUsesClock(t *testing.T) {
	desk := aggregate.DeskLabels{Source: "jira", Desk: "IT"}
	sla := aggregate.DeskSLALabels{Source: "jira", Desk: "IT", SLA: "Time to first response"}
	created := scrapeTime.Add(-time.Hour)
	s := &aggregate.Snapshot{
		OldestOpen:     map[aggregate.DeskLabels]time.Time{desk: created},
		OldestAwaiting: map[aggregate.DeskLabels]time.Time{desk: created.Add(10 * time.Minute)},
		SLABreached: map[aggregate.DeskSLALabels]*aggregate.BreachState{
			sla: {Breached: 2, Pending: []time.Time{scrapeTime.Add(time.Minute), scrapeTime.Add(2 * time.Minute)}},
		},
	}

	for _, tc := range []struct {
		name                         string
		now                          time.Time
		wantOpenAge, wantAwaitingAge float64
		wantBreached                 int
	}{
		{name: "at scrape time", now: scrapeTime, wantOpenAge: 3600, wantAwaitingAge: 3000, wantBreached: 2},
		{name: "first pending due", now: scrapeTime.Add(time.Minute), wantOpenAge: 3660, wantAwaitingAge: 3060, wantBreached: 3},
		{name: "all pending due", now: scrapeTime.Add(time.Hour), wantOpenAge: 7200, wantAwaitingAge: 6600, wantBreached: 4},
		{name: "clock before creation", now: created.Add(-time.Second), wantOpenAge: 0, wantAwaitingAge: 0, wantBreached: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(staticSnapshot(s), WithClock(func() time.Time { return tc.now }))
			want := fmt.Sprintf(`
# HELP servicedesk_oldest_open_ticket_age_seconds Age of the oldest open ticket on the desk. Refreshed in the background every poll_interval.
# TYPE servicedesk_oldest_open_ticket_age_seconds gauge
servicedesk_oldest_open_ticket_age_seconds{desk="IT",source="jira"} %g
# HELP servicedesk_oldest_awaiting_first_response_seconds Age of the oldest open ticket on the desk that has no first response yet. Refreshed in the background every poll_interval.
# TYPE servicedesk_oldest_awaiting_first_response_seconds gauge
servicedesk_oldest_awaiting_first_response_seconds{desk="IT",source="jira"} %g
# HELP servicedesk_sla_breached_open_tickets Open tickets whose ongoing cycle of the SLA is breached. Refreshed in the background every poll_interval.
# TYPE servicedesk_sla_breached_open_tickets gauge
servicedesk_sla_breached_open_tickets{desk="IT",sla="Time to first response",source="jira"} %d
`, tc.wantOpenAge, tc.wantAwaitingAge, tc.wantBreached)
			if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCollectSegmentsUseClock checks that the at-risk gauge and the
// per-group and per-team ages follow the scrape's clock.
func TestCollectSegmentsUseClock(t *testing.T) {
	group := aggregate.CustomerGroupLabels{Source: "jira", Desk: "IT", CustomerGroup: "Contractors"}
	team := aggregate.TeamLabels{Source: "jira", Desk: "IT", Team: "Workplace"}
	sla := aggregate.DeskSLALabels{Source: "jira", Desk: "IT", SLA: "Time to resolution"}
	created := scrapeTime.Add(-time.Hour)
	s := &aggregate.Snapshot{
		CustomerGroupOldestAwaiting: map[aggregate.CustomerGroupLabels]time.Time{group: created},
		TeamOldestAwaiting:          map[aggregate.TeamLabels]time.Time{team: created.Add(10 * time.Minute)},
		SLAAtRisk: map[aggregate.DeskSLALabels]*aggregate.RiskState{sla: {
			From:   []time.Time{scrapeTime.Add(time.Minute), scrapeTime.Add(2 * time.Minute)},
			Breach: []time.Time{scrapeTime.Add(10 * time.Minute), scrapeTime.Add(time.Hour)},
		}},
	}
	for _, tc := range []struct {
		name                      string
		now                       time.Time
		wantGroupAge, wantTeamAge float64
		wantAtRisk                int
	}{
		{name: "before any risk", now: scrapeTime, wantGroupAge: 3600, wantTeamAge: 3000, wantAtRisk: 0},
		{name: "first at risk", now: scrapeTime.Add(time.Minute), wantGroupAge: 3660, wantTeamAge: 3060, wantAtRisk: 1},
		{name: "both at risk", now: scrapeTime.Add(5 * time.Minute), wantGroupAge: 3900, wantTeamAge: 3300, wantAtRisk: 2},
		{name: "first breached", now: scrapeTime.Add(10 * time.Minute), wantGroupAge: 4200, wantTeamAge: 3600, wantAtRisk: 1},
		{name: "all breached", now: scrapeTime.Add(time.Hour), wantGroupAge: 7200, wantTeamAge: 6600, wantAtRisk: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(staticSnapshot(s), WithClock(func() time.Time { return tc.now }))
			want := fmt.Sprintf(`
# HELP servicedesk_customer_group_oldest_awaiting_first_response_seconds Age of the oldest open ticket without a first response, by the ticket's internal customer group (none: without one). Refreshed in the background every poll_interval.
# TYPE servicedesk_customer_group_oldest_awaiting_first_response_seconds gauge
servicedesk_customer_group_oldest_awaiting_first_response_seconds{customer_group="Contractors",desk="IT",source="jira"} %g
# HELP servicedesk_team_oldest_awaiting_first_response_seconds Age of the oldest open ticket without a first response, by the team serving the ticket (none: without one). Refreshed in the background every poll_interval.
# TYPE servicedesk_team_oldest_awaiting_first_response_seconds gauge
servicedesk_team_oldest_awaiting_first_response_seconds{desk="IT",source="jira",team="Workplace"} %g
# HELP servicedesk_sla_at_risk_open_tickets Open tickets whose running, unpaused cycle of the SLA has used at least metrics.sla_at_risk_ratio of its goal and has not breached yet. Refreshed in the background every poll_interval.
# TYPE servicedesk_sla_at_risk_open_tickets gauge
servicedesk_sla_at_risk_open_tickets{desk="IT",sla="Time to resolution",source="jira"} %d
`, tc.wantGroupAge, tc.wantTeamAge, tc.wantAtRisk)
			if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCollectConcurrent runs scrapes in parallel while the store publishes
// new snapshots; run with -race.
func TestCollectConcurrent(t *testing.T) {
	var current atomic.Pointer[aggregate.Snapshot]
	current.Store(fixtureSnapshot())
	c := New(current.Load, WithClock(pinnedClock))
	want := testutil.CollectAndCount(c)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if n := testutil.CollectAndCount(c); n != want {
					t.Errorf("collected %d metrics, want %d", n, want)
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			current.Store(fixtureSnapshot())
		}
	})
	wg.Wait()
}
