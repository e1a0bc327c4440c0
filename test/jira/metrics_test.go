// Package jira_test checks the whole pipeline against a fake Jira: the real
// adapter, derivation, store and collector produce /metrics, and every value
// is compared with the fake's ground truth, which is computed from its own
// data model and not by any exporter code.
package jira_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/pipeline"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
)

const tickets = 700

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// exporter is the in-process pipeline the binary wires up, on one store file.
type exporter struct {
	cfg      *config.Config
	pipeline *pipeline.Pipeline
	reg      *prometheus.Registry
	clock    *clock
	// polls are the instants it read the site, across restarts: where an
	// event is counted by customer group and team depends on them.
	polls *[]time.Time
}

func configFor(t *testing.T, srv *fakejira.Server, dc bool) *config.Config {
	t.Helper()
	return configWith(t, srv, dc, "project in (IT, HR, FAC)", "")
}

func configForJQL(t *testing.T, srv *fakejira.Server, dc bool, jql string) *config.Config {
	t.Helper()
	return configWith(t, srv, dc, jql, "")
}

// configWithSegments is configFor with a segments: section (YAML, indented
// under the source), empty for none.
func configWithSegments(t *testing.T, srv *fakejira.Server, dc bool, segments string) *config.Config {
	t.Helper()
	return configWith(t, srv, dc, "project in (IT, HR, FAC)", segments)
}

func configWith(t *testing.T, srv *fakejira.Server, dc bool, jql, segments string) *config.Config {
	t.Helper()
	auth := fmt.Sprintf("basic_auth: { username: %s, password: %s }", fakejira.DefaultEmail, fakejira.DefaultAPIToken)
	if dc {
		auth = fmt.Sprintf("authorization: { type: Bearer, credentials: %s }", fakejira.DefaultPAT)
	}
	yaml := fmt.Sprintf(`
store: { path: unused.db }
sources:
  - name: jira
    type: jira
    lookback: 60d
    jira:
      url: %s
      jql: %s
    http_client:
      %s
%s`, srv.URL, jql, auth, segments)
	cfg, err := config.Parse([]byte(yaml), "test.yaml", builtin.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startExporter(t *testing.T, cfg *config.Config, path string, c *clock) *exporter {
	t.Helper()
	return restartExporter(t, cfg, path, c, new([]time.Time))
}

// restartExporter starts the pipeline on path again, keeping the record of
// the polls before.
func restartExporter(t *testing.T, cfg *config.Config, path string, c *clock, polls *[]time.Time) *exporter {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	run := *cfg
	run.Store.Path = path
	p, err := pipeline.New(context.Background(), &run, pipeline.Options{
		Types: builtin.Registry(), Registerer: reg, Now: c.Now, Manual: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &exporter{cfg: cfg, pipeline: p, reg: reg, clock: c, polls: polls}
}

func (e *exporter) poll(t *testing.T) {
	t.Helper()
	if err := e.pipeline.PollOnce(context.Background(), e.cfg.Sources[0].Name); err != nil {
		t.Fatalf("poll: %v", err)
	}
	*e.polls = append(*e.polls, e.clock.Now())
}

// sample is one gathered series: labels rendered canonically, and value
// (counter/gauge) or histogram.
type sample struct {
	value float64
	hist  *dto.Histogram
}

func (e *exporter) gather(t *testing.T) map[string]map[string]sample {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]sample{}
	for _, mf := range mfs {
		series := map[string]sample{}
		for _, m := range mf.GetMetric() {
			var parts []string
			for _, lp := range m.GetLabel() {
				parts = append(parts, lp.GetName()+"="+lp.GetValue())
			}
			key := strings.Join(parts, ",")
			switch {
			case m.GetCounter() != nil:
				series[key] = sample{value: m.GetCounter().GetValue()}
			case m.GetGauge() != nil:
				series[key] = sample{value: m.GetGauge().GetValue()}
			case m.GetHistogram() != nil:
				series[key] = sample{hist: m.GetHistogram()}
			}
		}
		out[mf.GetName()] = series
	}
	return out
}

func ticketKey(l fakejira.Labels) string {
	return fmt.Sprintf("desk=%s,priority=%s,request_type=%s,source=%s", l.Desk, l.Priority, l.RequestType, l.Source)
}

// compareCounts checks that every series in want has its value and every
// exported series not in want is zero.
func compareCounts(t *testing.T, name string, got map[string]sample, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if g := got[k].value; g != w {
			t.Errorf("%s{%s} = %v, want %v", name, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g.value != 0 {
			t.Errorf("%s{%s} = %v, want 0 (absent from the ground truth)", name, k, g.value)
		}
	}
}

func compareHistograms(t *testing.T, name string, got map[string]sample, want map[string][]float64) {
	t.Helper()
	for k, obs := range want {
		h := got[k].hist
		if h == nil {
			t.Errorf("%s{%s} missing, want %d observations", name, k, len(obs))
			continue
		}
		sum := 0.0
		for _, o := range obs {
			sum += o
		}
		if h.GetSampleCount() != uint64(len(obs)) || math.Abs(h.GetSampleSum()-sum) > 0.001*float64(len(obs))+1e-9 {
			t.Errorf("%s{%s}: count %d sum %.3f, want count %d sum %.3f", name, k, h.GetSampleCount(), h.GetSampleSum(), len(obs), sum)
			continue
		}
		for _, b := range h.GetBucket() {
			n := 0
			for _, o := range obs {
				if o <= b.GetUpperBound() {
					n++
				}
			}
			if b.GetCumulativeCount() != uint64(n) {
				t.Errorf("%s{%s} bucket le=%v: %d, want %d", name, k, b.GetUpperBound(), b.GetCumulativeCount(), n)
			}
		}
	}
	for k, s := range got {
		if _, ok := want[k]; !ok && s.hist.GetSampleCount() != 0 {
			t.Errorf("%s{%s} has %d observations, want none", name, k, s.hist.GetSampleCount())
		}
	}
}

// assertMatchesTruth compares every ticket family with the fake's truth.
func assertMatchesTruth(t *testing.T, e *exporter, srv *fakejira.Server, firstResponseSLA string) {
	t.Helper()
	horizon, ok := e.pipeline.Horizon("jira")
	if !ok {
		t.Fatal("no horizon for source jira")
	}
	truth := srv.Truth(horizon, firstResponseSLA)
	got := e.gather(t)

	counts := func(m map[fakejira.Labels]int) map[string]float64 {
		out := map[string]float64{}
		for l, n := range m {
			out[ticketKey(l)] = float64(n)
		}
		return out
	}
	compareCounts(t, "created", got["servicedesk_tickets_created_total"], counts(truth.Created))
	compareCounts(t, "resolved", got["servicedesk_tickets_resolved_total"], counts(truth.Resolved))
	compareCounts(t, "reopened", got["servicedesk_tickets_reopened_total"], counts(truth.Reopened))
	compareCounts(t, "awaiting", got["servicedesk_tickets_awaiting_first_response"], counts(truth.AwaitingFirstResponse))

	obs := func(m map[fakejira.Labels][]float64) map[string][]float64 {
		out := map[string][]float64{}
		for l, v := range m {
			out[ticketKey(l)] = v
		}
		return out
	}
	compareHistograms(t, "first_response", got["servicedesk_first_response_seconds"], obs(truth.FirstResponseSeconds))
	compareHistograms(t, "resolution", got["servicedesk_resolution_seconds"], obs(truth.ResolutionSeconds))

	sla := map[string]float64{}
	for l, o := range truth.SLACycles {
		base := fmt.Sprintf("desk=%s,outcome=%%s,priority=%s,request_type=%s,sla=%s,source=%s", l.Desk, l.Priority, l.RequestType, l.SLA, l.Source)
		sla[fmt.Sprintf(base, "met")] = float64(o.Met)
		sla[fmt.Sprintf(base, "breached")] = float64(o.Breached)
	}
	compareCounts(t, "sla_cycles", got["servicedesk_sla_cycles_total"], sla)

	ratings := map[string][]float64{}
	for l, rs := range truth.Satisfaction {
		k := fmt.Sprintf("desk=%s,request_type=%s,source=%s", l.Desk, l.RequestType, l.Source)
		for _, r := range rs {
			ratings[k] = append(ratings[k], float64(r))
		}
	}
	compareHistograms(t, "satisfaction", got["servicedesk_satisfaction_rating"], ratings)

	open := map[string]float64{}
	for l, n := range truth.Open {
		open[fmt.Sprintf("desk=%s,priority=%s,request_type=%s,source=%s,status_category=%s", l.Desk, l.Priority, l.RequestType, l.Source, l.StatusCategory)] = float64(n)
	}
	compareCounts(t, "open", got["servicedesk_open_tickets"], open)

	now := e.clock.Now()
	ages := func(m map[string]time.Time) map[string]float64 {
		out := map[string]float64{}
		for desk, created := range m {
			out["desk="+desk+",source=jira"] = now.Sub(created).Seconds()
		}
		return out
	}
	compareCounts(t, "oldest_open", got["servicedesk_oldest_open_ticket_age_seconds"], ages(truth.OldestOpenCreated))
	compareCounts(t, "oldest_awaiting", got["servicedesk_oldest_awaiting_first_response_seconds"], ages(truth.OldestAwaitingCreated))

	breached := map[string]float64{}
	for k, n := range truth.BreachedOpen {
		breached["desk="+k.Desk+",sla="+k.SLA+",source=jira"] = float64(n)
	}
	compareCounts(t, "breached_open", got["servicedesk_sla_breached_open_tickets"], breached)

	if fakejira.Sum(truth.Created) == 0 || fakejira.Sum(truth.Resolved) == 0 || len(truth.SLACycles) == 0 || len(truth.Open) == 0 {
		t.Fatalf("ground truth too thin to prove anything: %d created, %d resolved", fakejira.Sum(truth.Created), fakejira.Sum(truth.Resolved))
	}
}

// openUnanswered returns keys of open issues with no comment at all.
func openUnanswered(srv *fakejira.Server, n int) []string {
	var keys []string
	for _, is := range srv.Issues() {
		if len(keys) == n {
			break
		}
		if is.Resolution == "" && len(is.Comments) == 0 {
			keys = append(keys, is.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

// deployments are the sites every truth test runs against.
var deployments = []struct {
	name string
	dep  fakejira.Deployment
}{
	{"cloud", fakejira.DeploymentCloud},
	{"datacenter", fakejira.DeploymentDataCenter},
}

func TestMetricsEqualGroundTruth(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dep      fakejira.Deployment
		segments string
	}{
		// Cloud: the customer group by default from Organizations, the
		// team from the Atlassian Team field; Data Center: both named,
		// the team from an "Assignment group" select.
		{"cloud", fakejira.DeploymentCloud, "    segments:\n      team: { field: Team }\n"},
		{"datacenter", fakejira.DeploymentDataCenter,
			"    segments:\n      customer_group: { field: Organizations }\n      team: { field: Assignment group }\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: fakejira.DefaultGenerateEnd}
			srv := fakejira.New(fakejira.Options{Deployment: tc.dep, Now: c.Now, Seed: 42})
			defer srv.Close()
			srv.Add(fakejira.Generate(7, tickets, fakejira.GenerateOptions{End: c.Now(), Desks: []string{"IT", "HR", "FAC"}})...)
			cfg := configWithSegments(t, srv, tc.dep == fakejira.DeploymentDataCenter, tc.segments)
			path := filepath.Join(t.TempDir(), "sd.db")

			e := startExporter(t, cfg, path, c)
			e.poll(t)
			// The default first_response mode is auto and the site has the
			// SLA, so the SLA's first completed cycle is the first response.
			assertMatchesTruth(t, e, srv, "Time to first response")
			assertSegmentsMatchTruth(t, e, srv, "Time to first response")
			if tc.dep == fakejira.DeploymentCloud {
				counts := srv.Counts()
				pages := (tickets + 99) / 100
				if counts["search_jql"] > pages {
					t.Errorf("full sync used %d search pages, budget %d", counts["search_jql"], pages)
				}
				if counts["changelog_bulkfetch"] > 1 {
					t.Errorf("full sync used %d bulkfetch calls, budget 1", counts["changelog_bulkfetch"])
				}
				if counts["sd_sla"] != 0 {
					t.Errorf("%d per-ticket SLA requests", counts["sd_sla"])
				}
				t.Logf("full Cloud sync of %d tickets: %d requests %v", tickets, srv.Total(), counts)
			}

			// An idle poll costs one search request.
			srv.ResetCounts()
			c.Advance(time.Minute)
			e.poll(t)
			if total := srv.Total(); total != 1 {
				t.Errorf("idle incremental poll sent %d requests (%v), want 1", total, srv.Counts())
			}

			// Live mutations: answer, resolve, reopen, rate, create.
			keys := openUnanswered(srv, 3)
			if len(keys) < 3 {
				t.Fatalf("generator gave only %d open unanswered tickets", len(keys))
			}
			c.Advance(5 * time.Minute)
			// Will have used 22 of its 25 minutes to a first response at
			// the next poll: at risk; breached by the restart.
			srv.CreateIssue(fakejira.NewIssue{Project: "FAC", SLAGoals: map[string]time.Duration{"Time to first response": 25 * time.Minute}})
			must(t, srv.AddComment(keys[0], fakejira.RoleAgent, true))
			must(t, srv.AddComment(keys[1], fakejira.RoleAgent, false)) // internal: no response
			c.Advance(5 * time.Minute)
			must(t, srv.Transition(keys[0], fakejira.StatusResolved))
			must(t, srv.Rate(keys[0], 2))
			c.Advance(5 * time.Minute)
			must(t, srv.Transition(keys[0], fakejira.StatusInProgress))
			newKey := srv.CreateIssue(fakejira.NewIssue{Project: "HR", RequestType: "Ask an HR question", Priority: "High",
				Organizations: []string{"Finance"}, Team: "Payroll"})
			// A resolved ticket moves to another organization, then is
			// reopened: what it counted stays with the old one, the reopen
			// and the open gauge go to the new one.
			moved := resolvedWithOrganization(t, srv)
			c.Advance(5 * time.Minute)
			must(t, srv.SetOrganizations(moved, "Contractors"))
			c.Advance(time.Minute)
			must(t, srv.Transition(moved, fakejira.StatusInProgress))
			// An unanswered ticket is reassigned to another team and agent,
			// who answers: the first response counts under the new team.
			c.Advance(time.Minute)
			reassigned := unansweredWithTeam(t, srv, keys[:2])
			must(t, srv.Reassign(reassigned, "Identity & Access", &fakejira.DefaultAgent))
			must(t, srv.AddComment(reassigned, fakejira.RoleAgent, true))
			c.Advance(5 * time.Minute)
			e.poll(t)
			assertMatchesTruth(t, e, srv, "Time to first response")
			assertSegmentsMatchTruth(t, e, srv, "Time to first response")
			// The comparison only proves the rule if the mutations make
			// "where it was counted" differ from "where it is now".
			counted := srv.SegmentTruth(fakejira.SegmentTruthOptions{Horizon: horizonOf(t, e), FirstResponseSLA: "Time to first response", Polls: *e.polls})
			now := srv.SegmentTruth(fakejira.SegmentTruthOptions{Horizon: horizonOf(t, e), FirstResponseSLA: "Time to first response"})
			if reflect.DeepEqual(counted.CustomerGroup, now.CustomerGroup) || reflect.DeepEqual(counted.Team, now.Team) {
				t.Fatal("the organization change and the reassignment moved no counted event in the ground truth; the test would not notice re-labelling")
			}
			if n := counted.SLAAtRisk[fakejira.DeskSLA{Desk: "FAC", SLA: "Time to first response"}]; n == 0 {
				t.Fatal("no first-response cycle at risk on FAC in the ground truth")
			}

			// Restart on the same store: nothing is counted twice.
			_ = e.pipeline.Close()
			c.Advance(5 * time.Minute)
			must(t, srv.AddComment(newKey, fakejira.RoleAgent, true))
			e = restartExporter(t, cfg, path, c, e.polls)
			defer e.pipeline.Close()
			if ready, _ := e.pipeline.Ready(); !ready {
				t.Error("not ready straight after a restart with a synced store")
			}
			e.poll(t)
			e.poll(t)
			assertMatchesTruth(t, e, srv, "Time to first response")
			assertSegmentsMatchTruth(t, e, srv, "Time to first response")
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRealWorldPayloadsEqualGroundTruth runs the shapes real sites send
// through the whole pipeline: issues of a software project whose SLA
// fields hold JSM's error object, old histories naming statuses the site
// no longer lists, and (Data Center) comments read with expand=properties
// that carry no properties key. Every ticket family still equals the
// truth; a ticket whose SLA field is an error object gets its
// comment-based first response counted exactly once, also after more
// replies and a restart.
func TestRealWorldPayloadsEqualGroundTruth(t *testing.T) {
	for _, tc := range deployments {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: fakejira.DefaultGenerateEnd}
			srv := fakejira.New(fakejira.Options{Deployment: tc.dep, Now: c.Now, Seed: 43, CommentProperties: fakejira.PropertiesAbsent})
			defer srv.Close()
			srv.Add(fakejira.Generate(8, 300, fakejira.GenerateOptions{End: c.Now(), Desks: []string{"IT", "HR", "FAC"}})...)
			srv.Add(fakejira.MigratedIssues("HR", c.Now().Add(-50*24*time.Hour))...)
			// A software project in the JQL: JSM has no SLA for its issues.
			var dev []string
			for range 3 {
				key := srv.CreateIssue(fakejira.NewIssue{Project: "DEV", Priority: "Medium"})
				must(t, srv.SetSLAError(key, fakejira.SLATimeToFirstResponse))
				must(t, srv.SetSLAError(key, fakejira.SLATimeToResolution))
				dev = append(dev, key)
			}
			c.Advance(10 * time.Minute)
			must(t, srv.AddComment(dev[0], fakejira.RoleAgent, false)) // internal: no answer
			c.Advance(10 * time.Minute)
			must(t, srv.AddComment(dev[0], fakejira.RoleAgent, true))
			must(t, srv.AddComment(dev[1], fakejira.RoleAgent, true))
			c.Advance(time.Hour)
			must(t, srv.Transition(dev[1], fakejira.StatusResolved))

			cfg := configForJQL(t, srv, tc.dep == fakejira.DeploymentDataCenter, "project in (IT, HR, FAC, DEV)")
			path := filepath.Join(t.TempDir(), "sd.db")
			e := startExporter(t, cfg, path, c)
			e.poll(t)
			assertMatchesTruth(t, e, srv, "Time to first response")
			devResponses := func(e *exporter) uint64 {
				t.Helper()
				h := e.gather(t)["servicedesk_first_response_seconds"]["desk=DEV,priority=Medium,request_type=,source=jira"].hist
				return h.GetSampleCount()
			}
			if n := devResponses(e); n != 2 {
				t.Errorf("%d first responses on the DEV desk, want 2 (one per answered ticket)", n)
			}
			skipped := e.gather(t)["servicedesk_api_values_skipped_total"]
			if skipped["reason=sla_error,source=jira"].value < 6 || skipped["reason=status_unmapped,source=jira"].value != 3 {
				t.Errorf("skipped values %+v, want at least 6 SLA error objects and 3 unmapped status changes", skipped)
			}

			// More replies, then a restart: still one first response each.
			c.Advance(5 * time.Minute)
			must(t, srv.AddComment(dev[0], fakejira.RoleAgent, true))
			must(t, srv.AddComment(dev[2], fakejira.RoleCustomer, true))
			c.Advance(5 * time.Minute)
			e.poll(t)
			assertMatchesTruth(t, e, srv, "Time to first response")
			_ = e.pipeline.Close()
			c.Advance(5 * time.Minute)
			must(t, srv.AddComment(dev[1], fakejira.RoleAgent, true))
			e = startExporter(t, cfg, path, c)
			defer e.pipeline.Close()
			e.poll(t)
			assertMatchesTruth(t, e, srv, "Time to first response")
			if n := devResponses(e); n != 2 {
				t.Errorf("after more replies and a restart: %d first responses on the DEV desk, want 2", n)
			}
		})
	}
}
