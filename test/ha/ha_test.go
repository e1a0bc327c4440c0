// Package ha_test proves the high-availability promise of docs/scaling.md:
// two exporters polling the same site at different times, each with its own
// store, export identical ticket series, so a Prometheus HA pair (or
// Thanos/Mimir deduplication) may scrape either. Both replicas are the real
// binary, polling one fake Jira on 127.0.0.1.
package ha_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
)

func TestMain(m *testing.M) {
	code := m.Run()
	exportertest.RemoveBinary()
	os.Exit(code)
}

const (
	sourceName       = fakejira.DefaultSource // the source label Truth uses
	firstResponseSLA = "Time to first response"
	// catchUp bounds each wait for both replicas to reflect the fake.
	catchUp = 60 * time.Second
)

// ticketFamily reports whether a family describes tickets (and so must be
// equal on every replica), as opposed to the exporter's own work (poll
// timings, API requests, build info), which differs by design, or gauges
// that age with the clock of the snapshot.
func ticketFamily(name string) bool {
	for _, prefix := range []string{
		"servicedesk_tickets_", "servicedesk_first_response_seconds", "servicedesk_resolution_seconds",
		"servicedesk_sla_cycles_total", "servicedesk_satisfaction_rating", "servicedesk_open_tickets",
	} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// site is a fake Jira Cloud with generated history and the config every
// replica uses. The horizon is a date (`since:`), not a lookback: a
// lookback is taken from each replica's first start, so replicas started
// apart would count from different instants.
type site struct {
	fake    *fakejira.Server
	horizon time.Time
	config  string
}

func newSite(t *testing.T, seed uint64, tickets int) *site {
	t.Helper()
	fake := fakejira.New(fakejira.Options{Deployment: fakejira.DeploymentCloud, Seed: seed})
	t.Cleanup(fake.Close)
	now := time.Now()
	fake.Add(fakejira.Generate(seed, tickets, fakejira.GenerateOptions{Start: now.Add(-60 * 24 * time.Hour), End: now})...)
	fake.SetLatency(2 * time.Millisecond)
	horizon := now.Add(-30 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)
	return &site{fake: fake, horizon: horizon, config: `store:
  path: data/servicedesk.db
sources:
  - name: ` + sourceName + `
    type: jira
    poll_interval: 1s
    since: ` + horizon.Format(time.DateOnly) + `
    jira:
      url: ` + fake.URL + `
      jql: project in (IT, HR, FAC)
      requests_per_second: 200
      timeout: 5s
      max_retries: 2
    http_client:
      basic_auth: { username: ` + fakejira.DefaultEmail + `, password: ` + fakejira.DefaultAPIToken + ` }
`}
}

// replica is one exporter process with its own working directory and store.
type replica struct {
	*exportertest.Process
	name string
}

func (s *site) startReplica(t *testing.T, name string) *replica {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(s.config), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &replica{Process: exportertest.Start(t, dir), name: name}
	// Runs before Start's cleanup logs the output by PID, so a failure
	// says which replica that was.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replica %s is pid %d", r.name, r.Cmd.Process.Pid)
		}
	})
	return r
}

func (r *replica) get(path string) (int, string, error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + r.Addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func (r *replica) alive(t *testing.T) {
	t.Helper()
	if !r.Running() {
		t.Fatalf("replica %s exited: %v", r.name, r.WaitErr())
	}
}

func (r *replica) waitReady(t *testing.T) {
	t.Helper()
	r.WaitReady(t, &http.Client{Timeout: 10 * time.Second}, "http://"+r.Addr, catchUp)
}

func (r *replica) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	r.alive(t)
	code, body, err := r.get("/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("replica %s /metrics: %d %v", r.name, code, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("replica %s /metrics: %v", r.name, err)
	}
	return families
}

// series renders every ticket series of a scrape as "name{labels} value"
// lines, sorted, with values printed exactly (shortest round-trip form):
// histograms as their _bucket, _sum and _count samples.
func series(families map[string]*dto.MetricFamily) []string {
	var out []string
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for name, mf := range families {
		if !ticketFamily(name) {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName()+"="+strconv.Quote(lp.GetValue()))
			}
			ls := strings.Join(labels, ",")
			switch {
			case m.GetHistogram() != nil:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					out = append(out, fmt.Sprintf("%s_bucket{%s,le=%q} %d", name, ls, num(b.GetUpperBound()), b.GetCumulativeCount()))
				}
				out = append(out, fmt.Sprintf("%s_sum{%s} %s", name, ls, num(h.GetSampleSum())),
					fmt.Sprintf("%s_count{%s} %d", name, ls, h.GetSampleCount()))
			case m.GetCounter() != nil:
				out = append(out, fmt.Sprintf("%s{%s} %s", name, ls, num(m.GetCounter().GetValue())))
			case m.GetGauge() != nil:
				out = append(out, fmt.Sprintf("%s{%s} %s", name, ls, num(m.GetGauge().GetValue())))
			default:
				out = append(out, fmt.Sprintf("%s{%s} has an unexpected type %v", name, ls, mf.GetType()))
			}
		}
	}
	slices.Sort(out)
	return out
}

// totals are the sums over all series of what the fake's ground truth also
// knows; equal totals mean a replica has caught up with every mutation.
type totals struct {
	created, resolved, reopened, firstResponses, resolutions, slaCycles, ratings int
}

func truthTotals(tr fakejira.Truth) totals {
	var tt totals
	for _, n := range tr.Created {
		tt.created += n
	}
	for _, n := range tr.Resolved {
		tt.resolved += n
	}
	for _, n := range tr.Reopened {
		tt.reopened += n
	}
	for _, obs := range tr.FirstResponseSeconds {
		tt.firstResponses += len(obs)
	}
	for _, obs := range tr.ResolutionSeconds {
		tt.resolutions += len(obs)
	}
	for _, o := range tr.SLACycles {
		tt.slaCycles += o.Met + o.Breached
	}
	// The current ratings: Jira keeps no history of changed ones, so an
	// initial sync counts one per rated ticket.
	for _, rs := range tr.Satisfaction {
		tt.ratings += len(rs)
	}
	return tt
}

func exportedTotals(families map[string]*dto.MetricFamily) totals {
	counter := func(name string) int {
		sum := 0.0
		for _, m := range families[name].GetMetric() {
			sum += m.GetCounter().GetValue()
		}
		return int(sum)
	}
	observations := func(name string) int {
		n := uint64(0)
		for _, m := range families[name].GetMetric() {
			n += m.GetHistogram().GetSampleCount()
		}
		return int(n)
	}
	return totals{
		created: counter("servicedesk_tickets_created_total"), resolved: counter("servicedesk_tickets_resolved_total"),
		reopened: counter("servicedesk_tickets_reopened_total"), firstResponses: observations("servicedesk_first_response_seconds"),
		resolutions: observations("servicedesk_resolution_seconds"), slaCycles: counter("servicedesk_sla_cycles_total"),
		ratings: observations("servicedesk_satisfaction_rating"),
	}
}

// caughtUp scrapes every replica until each one's totals equal the fake's
// ground truth, and returns the last scrape of each.
func (s *site) caughtUp(t *testing.T, replicas ...*replica) []map[string]*dto.MetricFamily {
	t.Helper()
	return waitTotals(t, truthTotals(s.fake.Truth(s.horizon, firstResponseSLA)), replicas...)
}

// waitTotals scrapes every replica until each one's totals equal want. A
// replica's totals are taken from one scrape, so they come from one
// snapshot.
func waitTotals(t *testing.T, want totals, replicas ...*replica) []map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(catchUp)
	scrapes := make([]map[string]*dto.MetricFamily, len(replicas))
	for {
		behind := ""
		for i, r := range replicas {
			scrapes[i] = r.scrape(t)
			if got := exportedTotals(scrapes[i]); got != want {
				behind += fmt.Sprintf("\n  %s: %+v", r.name, got)
			}
		}
		if behind == "" {
			return scrapes
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up within %v; the fake's truth is %+v, replicas have:%s", catchUp, want, behind)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// mutator changes the site the way agents and customers do. Every change
// appends to Jira's history (new tickets, comments, transitions with their
// changelog, first ratings), which every replica reads in full; see
// TestChangedRatingCountsOnlyWhereItWasSeen for the one kind that is not.
type mutator struct {
	t    *testing.T
	fake *fakejira.Server
	rng  *rand.Rand
}

func (m *mutator) apply(n int) {
	m.t.Helper()
	desks := []string{"IT", "HR", "FAC"}
	issues := m.fake.Issues()
	for range n {
		// Read the ticket afresh: an earlier change may have moved it.
		is, ok := m.fake.Issue(issues[m.rng.IntN(len(issues))].Key)
		if !ok {
			m.t.Fatal("a ticket vanished from the fake")
		}
		status, _ := fakejira.StatusByID(is.StatusID)
		done := status.Category == fakejira.CategoryDone
		var err error
		switch m.rng.IntN(7) {
		case 0:
			key := m.fake.CreateIssue(fakejira.NewIssue{Project: desks[m.rng.IntN(len(desks))], Priority: "High", RequestType: "Get IT help"})
			err = m.fake.AddComment(key, fakejira.RoleAgent, true) // its first response
		case 1:
			err = m.fake.AddComment(is.Key, fakejira.RoleAgent, true)
		case 2:
			err = m.fake.AddComment(is.Key, fakejira.RoleAgent, false)
		case 3:
			err = m.fake.AddComment(is.Key, fakejira.RoleCustomer, true)
		case 4:
			if done {
				err = m.fake.Transition(is.Key, fakejira.StatusInProgress) // a reopen
			} else {
				err = m.fake.Transition(is.Key, fakejira.StatusResolved)
			}
		case 5:
			if !done && is.StatusID != fakejira.StatusWaitingForCustomer {
				err = m.fake.Transition(is.Key, fakejira.StatusWaitingForCustomer)
			}
		case 6:
			if done && len(is.Ratings) == 0 {
				err = m.fake.Rate(is.Key, 1+m.rng.IntN(5))
			}
		}
		if err != nil {
			m.t.Fatalf("mutating %s: %v", is.Key, err)
		}
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, l := range a {
		if !slices.Contains(b, l) {
			out = append(out, "only on the first:  "+l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			out = append(out, "only on the second: "+l)
		}
	}
	return out
}

func firstLines(lines []string, n int) string {
	if len(lines) > n {
		return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n... and %d more", len(lines)-n)
	}
	return strings.Join(lines, "\n")
}

// TestReplicasExportIdenticalTicketSeries runs replica a, changes the site,
// then starts replica b a while later with an empty store: b learns in its
// initial sync what a saw change poll by poll. After more changes while
// both poll, each at its own times, both must export the same ticket
// series, value for value.
func TestReplicasExportIdenticalTicketSeries(t *testing.T) {
	start := time.Now()
	s := newSite(t, 41, 600)
	m := &mutator{t: t, fake: s.fake, rng: rand.New(rand.NewPCG(41, 1))}

	a := s.startReplica(t, "a")
	a.waitReady(t)
	before := exportedTotals(s.caughtUp(t, a)[0])
	for range 3 { // a polls in between
		m.apply(40)
		time.Sleep(700 * time.Millisecond)
	}
	s.caughtUp(t, a)

	b := s.startReplica(t, "b")
	b.waitReady(t)
	scrapes := s.caughtUp(t, a, b)
	if d := diff(series(scrapes[0]), series(scrapes[1])); len(d) > 0 {
		t.Fatalf("after b's initial sync the replicas differ in %d series:\n%s", len(d), firstLines(d, 20))
	}

	for range 4 { // both poll in between, at their own times
		m.apply(40)
		time.Sleep(600 * time.Millisecond)
	}
	scrapes = s.caughtUp(t, a, b)
	sa, sb := series(scrapes[0]), series(scrapes[1])
	if d := diff(sa, sb); len(d) > 0 {
		t.Fatalf("after changes seen by both the replicas differ in %d series:\n%s", len(d), firstLines(d, 20))
	}

	// Not equal by being empty: every family is there, and the site's
	// history and every kind of change are in the series compared.
	for _, family := range []string{
		"servicedesk_tickets_created_total", "servicedesk_tickets_resolved_total", "servicedesk_tickets_reopened_total",
		"servicedesk_tickets_awaiting_first_response", "servicedesk_open_tickets", "servicedesk_sla_cycles_total",
		"servicedesk_first_response_seconds_bucket", "servicedesk_resolution_seconds_sum", "servicedesk_satisfaction_rating_count",
	} {
		if !slices.ContainsFunc(sa, func(l string) bool { return strings.HasPrefix(l, family+"{") }) {
			t.Errorf("no %s series was compared", family)
		}
	}
	after := exportedTotals(scrapes[0])
	if after.created <= before.created || after.resolved <= before.resolved || after.reopened <= before.reopened ||
		after.firstResponses <= before.firstResponses || after.ratings <= before.ratings || before.slaCycles == 0 {
		t.Fatalf("the changes did not reach every family: before %+v, after %+v", before, after)
	}
	t.Logf("%d identical ticket series on both replicas (totals %+v) in %v", len(sa), after, time.Since(start).Round(100*time.Millisecond))
}

// TestChangedRatingCountsOnlyWhereItWasSeen pins down the one documented way
// replicas part: Jira keeps no history of satisfaction ratings, only the
// current one, so a changed rating is a second observation on a replica
// that polled between the two ratings and none on a replica that first
// read the ticket after the change (docs/scaling.md).
func TestChangedRatingCountsOnlyWhereItWasSeen(t *testing.T) {
	s := newSite(t, 43, 150)
	a := s.startReplica(t, "a")
	a.waitReady(t)

	// A resolved ticket of the horizon without a rating yet.
	var key string
	for _, is := range s.fake.Issues() {
		status, _ := fakejira.StatusByID(is.StatusID)
		if status.Category == fakejira.CategoryDone && len(is.Ratings) == 0 && is.Created.After(s.horizon) {
			key = is.Key
			break
		}
	}
	if key == "" {
		t.Fatal("the generated site has no unrated resolved ticket")
	}
	if err := s.fake.Rate(key, 2); err != nil {
		t.Fatal(err)
	}
	s.caughtUp(t, a) // a has seen the 2
	if err := s.fake.Rate(key, 5); err != nil {
		t.Fatal(err)
	}
	// a saw the 2 and now the 5, two observations; the truth's current
	// ratings hold only the 5.
	want := truthTotals(s.fake.Truth(s.horizon, firstResponseSLA))
	want.ratings++
	waitTotals(t, want, a)

	b := s.startReplica(t, "b")
	b.waitReady(t)
	var sa, sb []string
	deadline := time.Now().Add(catchUp)
	for {
		sa, sb = series(a.scrape(t)), series(b.scrape(t))
		d := diff(sa, sb)
		if onlyRatings(d) && len(d) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want the replicas to differ in the satisfaction histogram only; they differ in:\n%s", firstLines(d, 20))
		}
		time.Sleep(250 * time.Millisecond)
	}
	ratingsA, ratingsB := exportedTotals(a.scrape(t)).ratings, exportedTotals(b.scrape(t)).ratings
	if ratingsA != ratingsB+1 {
		t.Fatalf("a counted %d ratings and b %d; want a to have exactly the changed one more", ratingsA, ratingsB)
	}
}

func onlyRatings(d []string) bool {
	for _, l := range d {
		if !strings.Contains(l, "servicedesk_satisfaction_rating") {
			return false
		}
	}
	return true
}
