package fakejira

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// segmentScenario is a small site whose segment truth can be worked out by
// hand. The exporter is taken to poll at t0+1m and t0+1h.
func segmentScenario(t *testing.T) (srv *Server, t0 time.Time, polls []time.Time) {
	t.Helper()
	t0 = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0.Add(-150 * time.Minute)}
	srv = newTestServer(t, Options{Now: clock.Now})
	at := func(d time.Duration) { clock.now = t0.Add(d) }
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// IT-1: 2h30m old at t0+1h, nobody on it: 3.5h of the 4h first-response goal used.
	srv.CreateIssue(NewIssue{Project: "IT", Team: "Service Desk L1"})
	at(0)
	// IT-2: two organizations (counts under Finance, the first by name).
	it2 := srv.CreateIssue(NewIssue{Project: "IT", Organizations: []string{"Sales", "Finance"}, Team: "Service Desk L1"})
	at(5 * time.Minute)
	// IT-3: created after the first poll, in no organization and no team.
	srv.CreateIssue(NewIssue{Project: "IT"})
	at(10 * time.Minute)
	check(srv.AddComment(it2, RoleAgent, true)) // answered before the change of organization...
	at(20 * time.Minute)
	check(srv.SetOrganizations(it2, "Engineering"))
	at(30 * time.Minute)
	check(srv.Reassign(it2, "Identity & Access", &DefaultAgent))
	at(40 * time.Minute)
	check(srv.Transition(it2, StatusResolved))
	at(50 * time.Minute)
	check(srv.Rate(it2, 5))
	at(time.Hour)
	return srv, t0, []time.Time{t0.Add(time.Minute), t0.Add(time.Hour)}
}

func TestSegmentTruthFollowsTheRules(t *testing.T) {
	srv, t0, polls := segmentScenario(t)
	horizon := t0.Add(-24 * time.Hour)
	l := func(v string) SegmentLabels { return SegmentLabels{"jira", "IT", v} }

	got := srv.SegmentTruth(SegmentTruthOptions{Horizon: horizon, FirstResponseSLA: SLATimeToFirstResponse, Polls: polls})
	// ...but the first poll after the answer came after the change, so
	// the answer counts under the new organization and team: what counts
	// is the group when counted. IT-2's creation was counted by the first
	// poll, under Finance and L1, and stays there.
	wantGroup := SegmentCounts{
		Created:               map[SegmentLabels]int{l(""): 2, l("Finance"): 1},
		Resolved:              map[SegmentLabels]int{l("Engineering"): 1},
		Reopened:              map[SegmentLabels]int{},
		FirstResponseSeconds:  map[SegmentLabels][]float64{l("Engineering"): {600}},
		ResolutionSeconds:     map[SegmentLabels][]float64{l("Engineering"): {2400}},
		Satisfaction:          map[SegmentLabels][]int{l("Engineering"): {5}},
		Open:                  map[SegmentLabels]int{l(""): 2},
		AwaitingFirstResponse: map[SegmentLabels]int{l(""): 2},
		OldestAwaitingCreated: map[SegmentLabels]time.Time{l(""): t0.Add(-150 * time.Minute)},
	}
	if !reflect.DeepEqual(got.CustomerGroup, wantGroup) {
		t.Errorf("by customer group:\n got %+v\nwant %+v", got.CustomerGroup, wantGroup)
	}
	wantTeam := SegmentCounts{
		Created:               map[SegmentLabels]int{l("Service Desk L1"): 2, l(""): 1},
		Resolved:              map[SegmentLabels]int{l("Identity & Access"): 1},
		Reopened:              map[SegmentLabels]int{},
		FirstResponseSeconds:  map[SegmentLabels][]float64{l("Identity & Access"): {600}},
		ResolutionSeconds:     map[SegmentLabels][]float64{l("Identity & Access"): {2400}},
		Satisfaction:          map[SegmentLabels][]int{l("Identity & Access"): {5}},
		Open:                  map[SegmentLabels]int{l("Service Desk L1"): 1, l(""): 1},
		AwaitingFirstResponse: map[SegmentLabels]int{l("Service Desk L1"): 1, l(""): 1},
		OldestAwaitingCreated: map[SegmentLabels]time.Time{l("Service Desk L1"): t0.Add(-150 * time.Minute), l(""): t0.Add(5 * time.Minute)},
	}
	if !reflect.DeepEqual(got.Team, wantTeam) {
		t.Errorf("by team:\n got %+v\nwant %+v", got.Team, wantTeam)
	}
	cross := CrossLabels{"jira", "IT", "Identity & Access", "Engineering"}
	if !reflect.DeepEqual(got.CrossFirstResponseSeconds, map[CrossLabels][]float64{cross: {600}}) ||
		!reflect.DeepEqual(got.CrossSatisfaction, map[CrossLabels][]int{cross: {5}}) {
		t.Errorf("cross: %+v %+v", got.CrossFirstResponseSeconds, got.CrossSatisfaction)
	}
	if want := map[string]int{"IT": 2}; !reflect.DeepEqual(got.Unassigned, want) {
		t.Errorf("unassigned %v, want %v", got.Unassigned, want)
	}
	// IT-1 used 3.5h of its 4h first-response goal: at risk at 0.75, not
	// at 0.9; 3.5h of 48h to resolution is not.
	for ratio, want := range map[float64]int{0: 1, 0.875: 1, 0.9: 0} {
		at := srv.SegmentTruth(SegmentTruthOptions{Horizon: horizon, Polls: polls, AtRiskRatio: ratio})
		if w := map[DeskSLA]int{{"IT", SLATimeToFirstResponse}: want, {"IT", SLATimeToResolution}: 0}; !reflect.DeepEqual(at.SLAAtRisk, w) {
			t.Errorf("ratio %v: at risk %v, want %v", ratio, at.SLAAtRisk, w)
		}
	}

	// Read once, now: everything counts under the values of now.
	once := srv.SegmentTruth(SegmentTruthOptions{Horizon: horizon, FirstResponseSLA: SLATimeToFirstResponse})
	if want := map[SegmentLabels]int{l(""): 2, l("Engineering"): 1}; !reflect.DeepEqual(once.CustomerGroup.Created, want) {
		t.Errorf("read once: created by group %v, want %v", once.CustomerGroup.Created, want)
	}
	// Polled only before the rating: it is not counted yet.
	early := srv.SegmentTruth(SegmentTruthOptions{Horizon: horizon, Polls: polls[:1]})
	if len(early.CustomerGroup.Satisfaction) != 0 || len(early.CustomerGroup.Resolved) != 0 {
		t.Errorf("events after the last poll counted: %+v", early.CustomerGroup)
	}
}

// TestSegmentTruthAgreesWithTruth checks on generated data that every view
// adds up to Truth's desk totals.
func TestSegmentTruthAgreesWithTruth(t *testing.T) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	srv := newTestServer(t, Options{Now: func() time.Time { return end }})
	srv.Add(Generate(5, 1500, GenerateOptions{End: end})...)
	horizon := end.Add(-30 * 24 * time.Hour)
	truth := srv.Truth(horizon, SLATimeToFirstResponse)
	seg := srv.SegmentTruth(SegmentTruthOptions{Horizon: horizon, FirstResponseSLA: SLATimeToFirstResponse})
	byDesk := func(m map[Labels]int) map[string]int {
		out := map[string]int{}
		for l, n := range m {
			out[l.Desk] += n
		}
		return out
	}
	segByDesk := func(m map[SegmentLabels]int) map[string]int {
		out := map[string]int{}
		for l, n := range m {
			out[l.Desk] += n
		}
		return out
	}
	open := map[string]int{}
	for l, n := range truth.Open {
		open[l.Desk] += n
	}
	for name, view := range map[string]SegmentCounts{"customer group": seg.CustomerGroup, "team": seg.Team} {
		for family, pair := range map[string][2]map[string]int{
			"created":  {byDesk(truth.Created), segByDesk(view.Created)},
			"resolved": {byDesk(truth.Resolved), segByDesk(view.Resolved)},
			"reopened": {byDesk(truth.Reopened), segByDesk(view.Reopened)},
			"awaiting": {byDesk(truth.AwaitingFirstResponse), segByDesk(view.AwaitingFirstResponse)},
			"open":     {open, segByDesk(view.Open)},
		} {
			if !reflect.DeepEqual(pair[0], pair[1]) {
				t.Errorf("%s %s: %v, desk totals %v", name, family, pair[1], pair[0])
			}
		}
	}
	groups, teams := map[string]bool{}, map[string]bool{}
	for l := range seg.CustomerGroup.Created {
		groups[l.Value] = true
	}
	for l := range seg.Team.Created {
		teams[l.Value] = true
	}
	for _, want := range []string{"", "Engineering", "Finance", "Contractors", "Acme Supplies"} {
		if !groups[want] {
			t.Errorf("no tickets of customer group %q: %v", want, groups)
		}
	}
	for _, want := range []string{"", "Service Desk L1", "Identity & Access", "Payroll", "Facilities"} {
		if !teams[want] {
			t.Errorf("no tickets of team %q: %v", want, teams)
		}
	}
	if seg.Unassigned["IT"] == 0 || seg.Unassigned["IT"] == open["IT"] {
		t.Errorf("unassigned on IT %d of %d open: want some but not all", seg.Unassigned["IT"], open["IT"])
	}
}

func TestSegmentFieldsShowInTheAPI(t *testing.T) {
	for _, dep := range []Deployment{DeploymentCloud, DeploymentDataCenter} {
		t.Run(string(dep), func(t *testing.T) {
			srv, t0, _ := segmentScenario(t)
			if dep != DeploymentCloud {
				dc := newTestServer(t, Options{Deployment: dep, Now: func() time.Time { return t0.Add(time.Hour) }})
				dc.Add(srv.Issues()...)
				srv = dc
			}
			f := srv.FieldIDs()
			var defs []struct {
				ID     string `json:"id"`
				Name   string `json:"name"`
				Schema struct {
					Type, Custom, Items string
				} `json:"schema"`
			}
			call(t, srv, "GET", "/rest/api/2/field", nil).decode(t, &defs)
			schemas := map[string]string{}
			organizationsNamed := 0
			for _, d := range defs {
				schemas[d.ID] = d.Schema.Type + " " + d.Schema.Custom + " " + d.Schema.Items
				if d.Name == "Organizations" {
					organizationsNamed++
				}
			}
			wantTeam := "team com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team "
			if dep != DeploymentCloud {
				wantTeam = "any com.atlassian.teams:rm-teams-custom-field-team "
			}
			if schemas[f.Organizations] != "array com.atlassian.servicedesk:sd-customer-organizations sd-customerorganization" ||
				schemas[f.Team] != wantTeam || !strings.Contains(schemas[f.AssignmentGroup], ":select") || schemas["assignee"] != "user  " {
				t.Errorf("field definitions: %v", schemas)
			}
			if organizationsNamed != 2 {
				t.Errorf("%d fields named Organizations, want the JSM one and a decoy", organizationsNamed)
			}

			var page searchPage
			path := "/rest/api/2/search?expand=changelog&jql=" + strings.ReplaceAll("project = IT ORDER BY id", " ", "+") + "&fields=" +
				strings.Join([]string{f.Organizations, f.Team, f.AssignmentGroup, "assignee"}, ",")
			if dep == DeploymentCloud {
				path = strings.Replace(path, "/search?", "/search/jql?", 1)
			}
			call(t, srv, "GET", path, nil).decode(t, &page)
			if len(page.Issues) != 3 {
				t.Fatalf("%d issues", len(page.Issues))
			}
			it1, it2, it3 := page.Issues[0].Fields, page.Issues[1].Fields, page.Issues[2].Fields
			var orgs []struct{ ID, Name string }
			if err := json.Unmarshal(it2[f.Organizations], &orgs); err != nil || len(orgs) != 1 || orgs[0].Name != "Engineering" || orgs[0].ID == "" {
				t.Errorf("IT-2 organizations %s (%v)", it2[f.Organizations], err)
			}
			if got := string(it3[f.Organizations]); got != "[]" {
				t.Errorf("no organization renders %s, want []", got)
			}
			var team struct {
				ID          any
				Name, Title string
			}
			if err := json.Unmarshal(it2[f.Team], &team); err != nil || team.Title != "Identity & Access" || (dep == DeploymentCloud) != (team.Name == "Identity & Access") {
				t.Errorf("IT-2 team %s (%v)", it2[f.Team], err)
			}
			if _, numeric := team.ID.(float64); numeric == (dep == DeploymentCloud) {
				t.Errorf("team id %v: want a UUID on Cloud and a number on Data Center", team.ID)
			}
			var group struct{ Value string }
			if err := json.Unmarshal(it1[f.AssignmentGroup], &group); err != nil || group.Value != "Service Desk L1" {
				t.Errorf("IT-1 assignment group %s", it1[f.AssignmentGroup])
			}
			if string(it3[f.Team]) != "null" || string(it3[f.AssignmentGroup]) != "null" || string(it1["assignee"]) != "null" {
				t.Errorf("unset values: team %s group %s assignee %s", it3[f.Team], it3[f.AssignmentGroup], it1["assignee"])
			}
			if !strings.Contains(string(it2["assignee"]), DefaultAgent.DisplayName) {
				t.Errorf("IT-2 assignee %s", it2["assignee"])
			}
			history := ""
			for _, h := range page.Issues[1].Changelog.Histories {
				history += string(h)
			}
			for _, want := range []string{`"field":"Organizations"`, `"fieldtype":"custom"`, `"toString":"Engineering"`, `"fromString":"Sales, Finance"`,
				`"field":"Team"`, `"field":"assignee"`} {
				if !strings.Contains(history, want) {
					t.Errorf("IT-2 changelog lacks %s: %s", want, history)
				}
			}
		})
	}
}
