package jira_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
)

func horizonOf(t *testing.T, e *exporter) time.Time {
	t.Helper()
	horizon, ok := e.pipeline.Horizon("jira")
	if !ok {
		t.Fatal("no horizon for source jira")
	}
	return horizon
}

// orNone is the label value of a segment: "none" for a ticket without one.
func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

// assertSegmentsMatchTruth compares every customer group, team and cross
// family and the unassigned and at-risk gauges with the fake's segment
// truth, for the polls the exporter made, and checks that they add up to
// the desk totals.
func assertSegmentsMatchTruth(t *testing.T, e *exporter, srv *fakejira.Server, firstResponseSLA string) {
	t.Helper()
	truth := srv.SegmentTruth(fakejira.SegmentTruthOptions{
		Horizon: horizonOf(t, e), FirstResponseSLA: firstResponseSLA, Polls: *e.polls,
	})
	got := e.gather(t)
	views := []struct {
		prefix string
		counts fakejira.SegmentCounts
		key    func(l fakejira.SegmentLabels) string
	}{
		{"customer_group", truth.CustomerGroup, func(l fakejira.SegmentLabels) string {
			return fmt.Sprintf("customer_group=%s,desk=%s,source=%s", orNone(l.Value), l.Desk, l.Source)
		}},
		{"team", truth.Team, func(l fakejira.SegmentLabels) string {
			return fmt.Sprintf("desk=%s,source=%s,team=%s", l.Desk, l.Source, orNone(l.Value))
		}},
	}
	for _, v := range views {
		counts := func(m map[fakejira.SegmentLabels]int) map[string]float64 {
			out := map[string]float64{}
			for l, n := range m {
				out[v.key(l)] += float64(n)
			}
			return out
		}
		obs := func(m map[fakejira.SegmentLabels][]float64) map[string][]float64 {
			out := map[string][]float64{}
			for l, o := range m {
				out[v.key(l)] = append(out[v.key(l)], o...)
			}
			return out
		}
		ratings := map[string][]float64{}
		for l, rs := range v.counts.Satisfaction {
			for _, r := range rs {
				ratings[v.key(l)] = append(ratings[v.key(l)], float64(r))
			}
		}
		name := "servicedesk_" + v.prefix + "_"
		compareCounts(t, v.prefix+" created", got[name+"tickets_created_total"], counts(v.counts.Created))
		compareCounts(t, v.prefix+" resolved", got[name+"tickets_resolved_total"], counts(v.counts.Resolved))
		compareCounts(t, v.prefix+" reopened", got[name+"tickets_reopened_total"], counts(v.counts.Reopened))
		compareHistograms(t, v.prefix+" first_response", got[name+"first_response_seconds"], obs(v.counts.FirstResponseSeconds))
		compareHistograms(t, v.prefix+" resolution", got[name+"resolution_seconds"], obs(v.counts.ResolutionSeconds))
		compareHistograms(t, v.prefix+" satisfaction", got[name+"satisfaction_rating"], ratings)
		compareCounts(t, v.prefix+" open", got[name+"open_tickets"], counts(v.counts.Open))
		compareCounts(t, v.prefix+" awaiting", got[name+"tickets_awaiting_first_response"], counts(v.counts.AwaitingFirstResponse))
		ages := map[string]float64{}
		for l, created := range v.counts.OldestAwaitingCreated {
			ages[v.key(l)] = e.clock.Now().Sub(created).Seconds()
		}
		compareCounts(t, v.prefix+" oldest_awaiting", got[name+"oldest_awaiting_first_response_seconds"], ages)
		if len(v.counts.Created) < 2 {
			t.Errorf("%s: ground truth has %d values; too few to prove a split", v.prefix, len(v.counts.Created))
		}
	}

	crossKey := func(l fakejira.CrossLabels) string {
		return fmt.Sprintf("customer_group=%s,desk=%s,source=%s,team=%s", orNone(l.CustomerGroup), l.Desk, l.Source, orNone(l.Team))
	}
	crossResponses := map[string][]float64{}
	for l, o := range truth.CrossFirstResponseSeconds {
		crossResponses[crossKey(l)] = o
	}
	crossRatings := map[string][]float64{}
	for l, rs := range truth.CrossSatisfaction {
		for _, r := range rs {
			crossRatings[crossKey(l)] = append(crossRatings[crossKey(l)], float64(r))
		}
	}
	compareHistograms(t, "cross first_response", got["servicedesk_team_customer_group_first_response_seconds"], crossResponses)
	compareHistograms(t, "cross satisfaction", got["servicedesk_team_customer_group_satisfaction_rating"], crossRatings)

	unassigned := map[string]float64{}
	for desk, n := range truth.Unassigned {
		unassigned["desk="+desk+",source=jira"] = float64(n)
	}
	compareCounts(t, "unassigned", got["servicedesk_unassigned_open_tickets"], unassigned)
	atRisk := map[string]float64{}
	for k, n := range truth.SLAAtRisk {
		atRisk["desk="+k.Desk+",sla="+k.SLA+",source=jira"] = float64(n)
	}
	compareCounts(t, "at_risk", got["servicedesk_sla_at_risk_open_tickets"], atRisk)
	if len(got["servicedesk_unassigned_open_tickets"]) != len(unassigned) || len(got["servicedesk_sla_at_risk_open_tickets"]) != len(atRisk) {
		t.Errorf("unassigned series %d (truth %d), at-risk series %d (truth %d)", len(got["servicedesk_unassigned_open_tickets"]), len(unassigned),
			len(got["servicedesk_sla_at_risk_open_tickets"]), len(atRisk))
	}

	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range exportertest.SegmentSumProblems(families) {
		t.Errorf("sums: %s", p)
	}
}

// resolvedWithOrganization returns a resolved ticket with an organization
// other than Contractors whose creation the exporter counted.
func resolvedWithOrganization(t *testing.T, srv *fakejira.Server) string {
	t.Helper()
	for _, is := range srv.Issues() {
		if is.Resolution != "" && len(is.Organizations) == 1 && is.Organizations[0] != "Contractors" &&
			is.Created.After(fakejira.DefaultGenerateEnd.Add(-30*24*time.Hour)) {
			return is.Key
		}
	}
	t.Fatal("no resolved ticket with an organization")
	return ""
}

// unansweredWithTeam returns an open ticket without comments, created
// within the last 30 days (so its creation was counted) by a team other
// than Identity & Access, and not one of skip.
func unansweredWithTeam(t *testing.T, srv *fakejira.Server, skip []string) string {
	t.Helper()
	for _, is := range srv.Issues() {
		if is.Resolution == "" && len(is.Comments) == 0 && is.Team != "" && is.Team != "Identity & Access" &&
			is.Created.After(fakejira.DefaultGenerateEnd.Add(-30*24*time.Hour)) && !slices.Contains(skip, is.Key) {
			return is.Key
		}
	}
	t.Fatal("no unanswered ticket with a team")
	return ""
}

func TestDefaultSegmentsAreOrganizationsAndNoTeam(t *testing.T) {
	c := &clock{t: fakejira.DefaultGenerateEnd}
	srv := fakejira.New(fakejira.Options{Now: c.Now, Seed: 3})
	defer srv.Close()
	srv.Add(fakejira.Generate(11, 300, fakejira.GenerateOptions{End: c.Now()})...)
	e := startExporter(t, configFor(t, srv, false), filepath.Join(t.TempDir(), "sd.db"), c)
	defer e.pipeline.Close()
	e.poll(t)

	truth := srv.SegmentTruth(fakejira.SegmentTruthOptions{Horizon: horizonOf(t, e), FirstResponseSLA: "Time to first response", Polls: *e.polls})
	got := e.gather(t)
	want := map[string]float64{}
	for l, n := range truth.CustomerGroup.Created {
		want[fmt.Sprintf("customer_group=%s,desk=%s,source=%s", orNone(l.Value), l.Desk, l.Source)] += float64(n)
	}
	compareCounts(t, "customer_group created", got["servicedesk_customer_group_tickets_created_total"], want)
	for key := range got["servicedesk_team_tickets_created_total"] {
		if !strings.HasSuffix(key, ",team=none") {
			t.Errorf("without segments.team every ticket counts under team none, got series %s", key)
		}
	}
	if len(want) < 4 {
		t.Errorf("only %d customer groups in the ground truth", len(want))
	}
}

func TestSegmentFieldTheSiteLacksIsAnErrorNamingIt(t *testing.T) {
	c := &clock{t: fakejira.DefaultGenerateEnd}
	srv := fakejira.New(fakejira.Options{Now: c.Now})
	defer srv.Close()
	cfg := configWithSegments(t, srv, false, "    segments:\n      customer_group: { field: Department }\n")
	e := startExporter(t, cfg, filepath.Join(t.TempDir(), "sd.db"), c)
	defer e.pipeline.Close()
	err := e.pipeline.PollOnce(t.Context(), "jira")
	if err == nil || !strings.Contains(err.Error(), `segments.customer_group.field: the site has no field named "Department"`) {
		t.Fatalf("poll with a missing segment field: %v", err)
	}
}
