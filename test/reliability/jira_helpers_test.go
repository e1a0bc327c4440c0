package reliability_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
)

const (
	jiraSource       = "jira" // fakejira's default Truth source label
	firstResponseSLA = "Time to first response"
)

// jiraFixture is a fake Jira with generated tickets and an exporter work dir
// configured to poll it.
type jiraFixture struct {
	fake    *fakejira.Server
	dir     string
	horizon time.Time
}

// newJiraFixture generates tickets over 90 days ending now on a fake Jira
// Cloud; events count from a `since:` date 45 days back, so the horizon is
// exact.
func newJiraFixture(t *testing.T, seed uint64, tickets int, latency time.Duration, pollInterval string) *jiraFixture {
	t.Helper()
	return newJiraFixtureOn(t, fakejira.DeploymentCloud, seed, tickets, latency, pollInterval)
}

// newJiraFixtureOn is newJiraFixture on the given deployment; the exporter
// finds out which it is from serverInfo, as with deployment: auto.
func newJiraFixtureOn(t *testing.T, deployment fakejira.Deployment, seed uint64, tickets int, latency time.Duration, pollInterval string) *jiraFixture {
	t.Helper()
	fake := fakejira.New(fakejira.Options{Deployment: deployment, Seed: seed})
	t.Cleanup(fake.Close)
	now := time.Now()
	fake.Add(fakejira.Generate(seed, tickets, fakejira.GenerateOptions{Start: now.Add(-90 * 24 * time.Hour), End: now})...)
	fake.SetLatency(latency)
	horizon := now.Add(-45 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)
	f := &jiraFixture{fake: fake, dir: t.TempDir(), horizon: horizon}
	writeFile(t, filepath.Join(f.dir, "config.yaml"), `store:
  path: data/servicedesk.db
sources:
  - name: `+jiraSource+`
    type: jira
    poll_interval: `+pollInterval+`
    since: `+horizon.Format("2006-01-02")+`
    jira:
      url: `+fake.URL+`
      jql: project in (IT, HR, FAC)
      requests_per_second: 200
      timeout: 5s
      max_retries: 2
    http_client:
      basic_auth: { username: `+fakejira.DefaultEmail+`, password: `+fakejira.DefaultAPIToken+` }
`)
	return f
}

func (f *jiraFixture) truth() fakejira.Truth {
	return f.fake.Truth(f.horizon, firstResponseSLA)
}

// mutate changes n random tickets the way agents and customers do: new
// tickets, public replies, internal notes, resolutions, reopens, first
// ratings. Ratings are only ever given once per ticket, so every rating the
// exporter must count is visible in Jira's current state.
func (f *jiraFixture) mutate(t *testing.T, rng *rand.Rand, n int) {
	t.Helper()
	issues := f.fake.Issues()
	desks := []string{"IT", "HR", "FAC"}
	for range n {
		// Read the ticket afresh: an earlier iteration may have changed it,
		// and transitioning to the status it already has is an error.
		is, ok := f.fake.Issue(issues[rng.IntN(len(issues))].Key)
		if !ok {
			t.Fatal("a ticket vanished from the fake")
		}
		status, _ := fakejira.StatusByID(is.StatusID)
		var err error
		switch rng.IntN(6) {
		case 0:
			f.fake.CreateIssue(fakejira.NewIssue{Project: desks[rng.IntN(len(desks))], Priority: "Medium", RequestType: "Ask a question"})
		case 1:
			err = f.fake.AddComment(is.Key, fakejira.RoleAgent, true)
		case 2:
			err = f.fake.AddComment(is.Key, fakejira.RoleAgent, false)
		case 3:
			if status.Category == fakejira.CategoryDone {
				err = f.fake.Transition(is.Key, fakejira.StatusInProgress)
			} else {
				err = f.fake.Transition(is.Key, fakejira.StatusResolved)
			}
		case 4:
			if len(is.Ratings) == 0 && status.Category == fakejira.CategoryDone {
				err = f.fake.Rate(is.Key, 1+rng.IntN(5))
			}
		case 5:
			err = f.fake.AddComment(is.Key, fakejira.RoleCustomer, true)
		}
		if err != nil {
			t.Fatalf("mutating %s: %v", is.Key, err)
		}
	}
}

// seriesKey is a series' labels without source, sorted, as one string.
func seriesKey(m *dto.Metric, drop ...string) string {
	var parts []string
	for _, lp := range m.GetLabel() {
		if lp.GetName() == "source" || contains(drop, lp.GetName()) {
			continue
		}
		parts = append(parts, lp.GetName()+"="+strconv.Quote(lp.GetValue()))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func labelsKey(l fakejira.Labels, extra ...string) string {
	parts := append([]string{
		"desk=" + strconv.Quote(l.Desk), "priority=" + strconv.Quote(l.Priority), "request_type=" + strconv.Quote(l.RequestType),
	}, extra...)
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// exported collects one family's values for the jira source by series key.
func exported(families map[string]*dto.MetricFamily, family string, value func(*dto.Metric) float64) map[string]float64 {
	out := map[string]float64{}
	mf := families[family]
	if mf == nil {
		return out
	}
	for _, m := range mf.GetMetric() {
		if !labelsInclude(m, map[string]string{"source": jiraSource}) {
			continue
		}
		out[seriesKey(m)] = value(m)
	}
	return out
}

func counterValue(m *dto.Metric) float64 { return m.GetCounter().GetValue() }
func gaugeValue(m *dto.Metric) float64   { return m.GetGauge().GetValue() }

// diffMaps reports keys whose values differ; a key missing on one side
// counts as zero there.
func diffMaps(name string, want, got map[string]float64) []string {
	var diffs []string
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for k := range keys {
		if math.Abs(want[k]-got[k]) > 1e-6*math.Max(1, math.Abs(want[k])) {
			diffs = append(diffs, fmt.Sprintf("%s{%s}: exported %g, truth %g", name, k, got[k], want[k]))
		}
	}
	sort.Strings(diffs)
	return diffs
}

func countersOf[K comparable](m map[K]int, key func(K) string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[key(k)] += float64(v)
	}
	return out
}

// histogramDiffs compares count, sum and every cumulative bucket of an
// exported histogram family with the truth's observations.
func histogramDiffs(families map[string]*dto.MetricFamily, family string, truth map[string][]float64) []string {
	var diffs []string
	got := map[string]*dto.Histogram{}
	if mf := families[family]; mf != nil {
		for _, m := range mf.GetMetric() {
			if labelsInclude(m, map[string]string{"source": jiraSource}) {
				got[seriesKey(m)] = m.GetHistogram()
			}
		}
	}
	keys := map[string]bool{}
	for k := range truth {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for k := range keys {
		obs, h := truth[k], got[k]
		if h == nil {
			if len(obs) > 0 {
				diffs = append(diffs, fmt.Sprintf("%s{%s}: missing, truth has %d observations", family, k, len(obs)))
			}
			continue
		}
		sum := 0.0
		for _, o := range obs {
			sum += o
		}
		if h.GetSampleCount() != uint64(len(obs)) {
			diffs = append(diffs, fmt.Sprintf("%s_count{%s}: exported %d, truth %d", family, k, h.GetSampleCount(), len(obs)))
		}
		// Observations are millisecond timestamps apart: allow 1 ms each.
		if math.Abs(h.GetSampleSum()-sum) > 1e-3*float64(len(obs))+1e-6 {
			diffs = append(diffs, fmt.Sprintf("%s_sum{%s}: exported %f, truth %f", family, k, h.GetSampleSum(), sum))
		}
		for _, b := range h.GetBucket() {
			n := 0
			for _, o := range obs {
				if o <= b.GetUpperBound() {
					n++
				}
			}
			if b.GetCumulativeCount() != uint64(n) {
				diffs = append(diffs, fmt.Sprintf("%s_bucket{%s,le=%g}: exported %d, truth %d", family, k, b.GetUpperBound(), b.GetCumulativeCount(), n))
			}
		}
	}
	sort.Strings(diffs)
	return diffs
}

// counterDiffs compares every counter and histogram the exporter persists
// with the fake's ground truth.
func counterDiffs(families map[string]*dto.MetricFamily, truth fakejira.Truth) []string {
	plain := func(l fakejira.Labels) string { return labelsKey(l) }
	var diffs []string
	diffs = append(diffs, diffMaps("servicedesk_tickets_created_total", countersOf(truth.Created, plain), exported(families, "servicedesk_tickets_created_total", counterValue))...)
	diffs = append(diffs, diffMaps("servicedesk_tickets_resolved_total", countersOf(truth.Resolved, plain), exported(families, "servicedesk_tickets_resolved_total", counterValue))...)
	diffs = append(diffs, diffMaps("servicedesk_tickets_reopened_total", countersOf(truth.Reopened, plain), exported(families, "servicedesk_tickets_reopened_total", counterValue))...)

	sla := map[string]float64{}
	for k, v := range truth.SLACycles {
		sla[labelsKey(k.Labels, "sla="+strconv.Quote(k.SLA), `outcome="met"`)] += float64(v.Met)
		sla[labelsKey(k.Labels, "sla="+strconv.Quote(k.SLA), `outcome="breached"`)] += float64(v.Breached)
	}
	diffs = append(diffs, diffMaps("servicedesk_sla_cycles_total", sla, exported(families, "servicedesk_sla_cycles_total", counterValue))...)

	seconds := func(m map[fakejira.Labels][]float64) map[string][]float64 {
		out := map[string][]float64{}
		for k, v := range m {
			out[labelsKey(k)] = append(out[labelsKey(k)], v...)
		}
		return out
	}
	diffs = append(diffs, histogramDiffs(families, "servicedesk_first_response_seconds", seconds(truth.FirstResponseSeconds))...)
	diffs = append(diffs, histogramDiffs(families, "servicedesk_resolution_seconds", seconds(truth.ResolutionSeconds))...)
	ratings := map[string][]float64{}
	for k, v := range truth.Satisfaction {
		key := "desk=" + strconv.Quote(k.Desk) + ",request_type=" + strconv.Quote(k.RequestType)
		for _, r := range v {
			ratings[key] = append(ratings[key], float64(r))
		}
	}
	diffs = append(diffs, histogramDiffs(families, "servicedesk_satisfaction_rating", ratings)...)
	return diffs
}

// gaugeDiffs compares the current-state gauges with truths taken just before
// (early) and just after (late) the scrape: time-dependent gauges must lie
// between the two, the others must equal both.
func gaugeDiffs(families map[string]*dto.MetricFamily, early, late fakejira.Truth) []string {
	plain := func(l fakejira.Labels) string { return labelsKey(l) }
	open := func(k fakejira.OpenLabels) string {
		return labelsKey(k.Labels, "status_category="+strconv.Quote(string(k.StatusCategory)))
	}
	var diffs []string
	diffs = append(diffs, diffMaps("servicedesk_open_tickets", countersOf(late.Open, open), exported(families, "servicedesk_open_tickets", gaugeValue))...)
	diffs = append(diffs, diffMaps("servicedesk_tickets_awaiting_first_response", countersOf(late.AwaitingFirstResponse, plain), exported(families, "servicedesk_tickets_awaiting_first_response", gaugeValue))...)

	ages := func(family string, oldest map[string]time.Time) {
		got := exported(families, family, gaugeValue)
		for desk, created := range oldest {
			key := "desk=" + strconv.Quote(desk)
			// Ages are days long; 5 s of slack absorbs a snapshot built
			// slightly before the scrape on a loaded machine.
			lo, hi := early.Now.Sub(created).Seconds()-5, late.Now.Sub(created).Seconds()+5
			if v, ok := got[key]; !ok || v < lo || v > hi {
				diffs = append(diffs, fmt.Sprintf("%s{%s}: exported %g, truth between %.0f and %.0f", family, key, v, lo, hi))
			}
		}
	}
	ages("servicedesk_oldest_open_ticket_age_seconds", late.OldestOpenCreated)
	ages("servicedesk_oldest_awaiting_first_response_seconds", late.OldestAwaitingCreated)

	got := exported(families, "servicedesk_sla_breached_open_tickets", gaugeValue)
	keys := map[string]bool{}
	for k := range late.BreachedOpen {
		keys["desk="+strconv.Quote(k.Desk)+",sla="+strconv.Quote(k.SLA)] = true
	}
	for k := range got {
		keys[k] = true
	}
	for key := range keys {
		var lo, hi int
		for k, v := range early.BreachedOpen {
			if "desk="+strconv.Quote(k.Desk)+",sla="+strconv.Quote(k.SLA) == key {
				lo = v
			}
		}
		for k, v := range late.BreachedOpen {
			if "desk="+strconv.Quote(k.Desk)+",sla="+strconv.Quote(k.SLA) == key {
				hi = v
			}
		}
		if v := got[key]; v < float64(lo) || v > float64(hi) {
			diffs = append(diffs, fmt.Sprintf("servicedesk_sla_breached_open_tickets{%s}: exported %g, truth between %d and %d", key, v, lo, hi))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// converge scrapes until the exported metrics equal the truth (counters,
// histograms and gauges) or timeout passes; it returns how long that took
// and the differences left at the end.
func converge(t *testing.T, p *exporter, f *jiraFixture, timeout time.Duration) (time.Duration, []string) {
	t.Helper()
	start := time.Now()
	var diffs []string
	for time.Since(start) < timeout {
		if !p.Running() {
			t.Fatalf("exporter exited while converging: %v\n%s", p.WaitErr(), tail(p.Stderr.String(), 3000))
		}
		early := f.truth()
		families := p.scrape(t)
		late := f.truth()
		diffs = append(counterDiffs(families, late), gaugeDiffs(families, early, late)...)
		if len(diffs) == 0 {
			return time.Since(start), nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return time.Since(start), diffs
}

func firstN(s []string, n int) string {
	if len(s) > n {
		return strings.Join(s[:n], "\n") + fmt.Sprintf("\n... and %d more", len(s)-n)
	}
	return strings.Join(s, "\n")
}
