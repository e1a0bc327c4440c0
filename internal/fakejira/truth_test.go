package fakejira

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

// testClock is a settable clock for deterministic mutations.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

// scenario builds a small site by mutations only, so the expected truth can
// be worked out by hand. T0 is 2026-01-10 09:00 UTC.
func scenario(t *testing.T) (*Server, *testClock, time.Time) {
	t.Helper()
	t0 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0.Add(-30 * 24 * time.Hour)}
	srv := newTestServer(t, Options{Now: clock.Now})
	at := func(d time.Duration) { clock.now = t0.Add(d) }
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// IT-1: old, never answered, still open.
	srv.CreateIssue(NewIssue{Project: "IT"})

	at(0)
	it2 := srv.CreateIssue(NewIssue{Project: "IT", RequestType: "Get IT help", Priority: "Medium"})
	hr1 := srv.CreateIssue(NewIssue{Project: "HR", RequestType: "Ask an HR question", Priority: "High"})
	it3 := srv.CreateIssue(NewIssue{Project: "IT", Reporter: DefaultAgent})
	at(time.Minute)
	check(srv.AddComment(it2, RoleAutomation, true)) // not a response
	check(srv.AddCommentBy(it3, DefaultAgent, true)) // the reporter's own: not a response
	at(5 * time.Minute)
	check(srv.AddComment(it2, RoleAgent, false)) // internal note
	at(10 * time.Minute)
	check(srv.AddComment(it2, RoleCustomer, true)) // the customer chasing
	at(30 * time.Minute)
	check(srv.AddCommentBy(it3, genAgents[1], true)) // IT-3 answered after 30m
	at(time.Hour)
	check(srv.Transition(hr1, StatusCanceled)) // HR-1 withdrawn after 1h
	at(2 * time.Hour)
	check(srv.AddComment(it2, RoleAgent, true)) // IT-2 answered after 2h
	check(srv.Transition(it2, StatusInProgress))
	at(5 * time.Hour)
	check(srv.Transition(it2, StatusResolved))
	at(6 * time.Hour)
	check(srv.Transition(it2, StatusInProgress)) // reopened
	at(8 * time.Hour)
	check(srv.Transition(it2, StatusResolved))
	at(9 * time.Hour)
	check(srv.Rate(it2, 2))
	at(10 * time.Hour)
	check(srv.Rate(it2, 4)) // a changed rating
	at(11 * time.Hour)
	check(srv.Transition(hr1, StatusClosed)) // done to done: nothing
	at(12 * time.Hour)
	return srv, clock, t0
}

func TestTruthFollowsTheRules(t *testing.T) {
	srv, _, t0 := scenario(t)
	it := Labels{Source: "jira", Desk: "IT"}
	it2 := Labels{Source: "jira", Desk: "IT", RequestType: "Get IT help", Priority: "Medium"}
	hr1 := Labels{Source: "jira", Desk: "HR", RequestType: "Ask an HR question", Priority: "High"}
	old := t0.Add(-30 * 24 * time.Hour)

	for _, tt := range []struct {
		mode          string
		firstResponse map[Labels][]float64
	}{
		{"", map[Labels][]float64{it2: {7200}, it: {1800}}},
		{SLATimeToFirstResponse, map[Labels][]float64{it2: {7200}, it: {1800}, hr1: {3600}}},
	} {
		t.Run("first response mode "+tt.mode, func(t *testing.T) {
			got := srv.Truth(t0.Add(-time.Minute), tt.mode)
			want := Truth{
				Horizon: t0.Add(-time.Minute), Now: t0.Add(12 * time.Hour),
				Created:              map[Labels]int{it2: 1, hr1: 1, it: 1},
				Resolved:             map[Labels]int{it2: 2, hr1: 1},
				Reopened:             map[Labels]int{it2: 1},
				FirstResponseSeconds: tt.firstResponse,
				ResolutionSeconds:    map[Labels][]float64{it2: {18000, 28800}, hr1: {3600}},
				SLACycles: map[SLALabels]SLAOutcome{
					{it2, SLATimeToFirstResponse}: {Met: 1}, {it2, SLATimeToResolution}: {Met: 2},
					{hr1, SLATimeToFirstResponse}: {Met: 1}, {hr1, SLATimeToResolution}: {Met: 1},
					{it, SLATimeToFirstResponse}: {Met: 1},
				},
				Satisfaction:          map[SatisfactionLabels][]int{{"jira", "IT", "Get IT help"}: {4}},
				SatisfactionHistory:   map[SatisfactionLabels][]int{{"jira", "IT", "Get IT help"}: {2, 4}},
				Open:                  map[OpenLabels]int{{it, CategoryNew}: 2},
				AwaitingFirstResponse: map[Labels]int{it: 1},
				OldestOpenCreated:     map[string]time.Time{"IT": old},
				OldestAwaitingCreated: map[string]time.Time{"IT": old},
				BreachedOpen:          map[DeskSLA]int{{"IT", SLATimeToFirstResponse}: 1, {"IT", SLATimeToResolution}: 1},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("truth differs; got\n%+v", got)
			}
		})
	}
	// A horizon after everything keeps only the gauges.
	late := srv.Truth(t0.Add(13*time.Hour), "")
	if Sum(late.Created)+Sum(late.Resolved)+Sum(late.Reopened)+len(late.FirstResponseSeconds)+len(late.SLACycles)+len(late.SatisfactionHistory) != 0 {
		t.Errorf("events after the horizon counted: %+v", late)
	}
	if Sum(late.Open) != 2 || Sum(late.AwaitingFirstResponse) != 1 {
		t.Errorf("gauges must not depend on the horizon: %+v", late)
	}

	hrOnly, err := srv.TruthJQL("project = HR", t0.Add(-time.Minute), "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(hrOnly.Resolved, map[Labels]int{hr1: 1}) || Sum(hrOnly.Created) != 1 || len(hrOnly.Open) != 0 {
		t.Errorf("truth for HR only: %+v", hrOnly)
	}
	if _, err := srv.TruthJQL("project = NOPE", t0, ""); err == nil {
		t.Error("TruthJQL accepted JQL the server rejects")
	}
}

func TestMutationsShowInTheAPI(t *testing.T) {
	srv, clock, t0 := scenario(t)
	is, _ := srv.Issue("IT-2")
	if !is.Updated.Equal(t0.Add(10*time.Hour)) || is.Resolution != "Done" || is.ResolutionDate.IsZero() {
		t.Errorf("IT-2 after mutations: updated %v resolution %q at %v", is.Updated, is.Resolution, is.ResolutionDate)
	}
	// T0+10h (IT-2's last change) is 14:00 in New York.
	var page searchPage
	call(t, srv, "POST", "/rest/api/2/search/jql", map[string]any{"jql": `updated >= "2026-01-10 14:00" ORDER BY updated ASC`, "fields": []string{"updated"}}).decode(t, &page)
	var keys []string
	for _, is := range page.Issues {
		keys = append(keys, is.Key)
	}
	if !slices.Equal(keys, []string{"IT-2", "HR-1"}) {
		t.Errorf("updated since 14:00 New York: %v", keys)
	}

	clock.now = t0.Add(13 * time.Hour)
	if err := srv.Transition("IT-2", StatusResolved); err == nil {
		t.Error("a transition to the current status must fail")
	}
	if err := srv.SetSatisfactionRaw("IT-2", json.RawMessage(`{"rating":`)); err == nil {
		t.Error("broken JSON accepted as a field value")
	}
	if err := srv.SetSatisfactionRaw("IT-2", json.RawMessage(`"five stars"`)); err != nil {
		t.Fatal(err)
	}
	fields := srv.FieldIDs()
	call(t, srv, "POST", "/rest/api/2/search/jql", map[string]any{"jql": "project = IT ORDER BY id",
		"fields": []string{fields.Satisfaction, fields.SatisfactionDate, fields.SLA[SLATimeToFirstResponse], fields.RequestType}}).decode(t, &page)
	if got := string(page.Issues[1].Fields[fields.Satisfaction]); got != `"five stars"` {
		t.Errorf("raw satisfaction: %s", got)
	}
	if got := string(page.Issues[1].Fields[fields.SatisfactionDate]); got != `"2026-01-10T14:00:00.000-0500"` {
		t.Errorf("satisfaction date: %s", got)
	}
	var sla struct {
		Name            string `json:"name"`
		CompletedCycles []any  `json:"completedCycles"`
		OngoingCycle    struct {
			Breached      bool `json:"breached"`
			RemainingTime struct {
				Millis int64 `json:"millis"`
			} `json:"remainingTime"`
			BreachTime struct {
				EpochMillis int64 `json:"epochMillis"`
			} `json:"breachTime"`
		} `json:"ongoingCycle"`
	}
	if err := json.Unmarshal(page.Issues[0].Fields[fields.SLA[SLATimeToFirstResponse]], &sla); err != nil {
		t.Fatal(err)
	}
	old := t0.Add(-30 * 24 * time.Hour)
	if sla.Name != SLATimeToFirstResponse || len(sla.CompletedCycles) != 0 || !sla.OngoingCycle.Breached ||
		sla.OngoingCycle.RemainingTime.Millis >= 0 || sla.OngoingCycle.BreachTime.EpochMillis != old.Add(4*time.Hour).UnixMilli() {
		t.Errorf("IT-1 first-response SLA: %+v", sla)
	}
	var rt struct {
		RequestType struct {
			Name string `json:"name"`
		} `json:"requestType"`
		CurrentStatus struct {
			StatusCategory string `json:"statusCategory"`
		} `json:"currentStatus"`
	}
	if err := json.Unmarshal(page.Issues[1].Fields[fields.RequestType], &rt); err != nil {
		t.Fatal(err)
	}
	if rt.RequestType.Name != "Get IT help" || rt.CurrentStatus.StatusCategory != "DONE" {
		t.Errorf("request type: %+v", rt)
	}
	if got := string(page.Issues[0].Fields[fields.RequestType]); got != "null" {
		t.Errorf("no request type must be null, got %s", got)
	}

	var feedback struct {
		Rating int `json:"rating"`
	}
	call(t, srv, "GET", "/rest/servicedeskapi/request/IT-2/feedback", nil).decode(t, &feedback)
	if feedback.Rating != 4 {
		t.Errorf("feedback: %+v", feedback)
	}
	if resp := call(t, srv, "GET", "/rest/servicedeskapi/request/IT-1/feedback", nil); resp.status != 404 {
		t.Errorf("feedback of an unrated request: %d", resp.status)
	}
	if resp := call(t, srv, "GET", "/rest/servicedeskapi/request/IT-1/sla", nil); resp.status != 200 || srv.Count("sd_sla") != 1 {
		t.Errorf("sla endpoint: %d, counted %d", resp.status, srv.Count("sd_sla"))
	}
}

func TestGenerateIsDeterministicAndRealistic(t *testing.T) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	a := Generate(42, 3000, GenerateOptions{End: end})
	if !reflect.DeepEqual(a, Generate(42, 3000, GenerateOptions{End: end})) {
		t.Fatal("same seed, different data")
	}
	if reflect.DeepEqual(a[:50], Generate(43, 50, GenerateOptions{End: end})) {
		t.Fatal("different seeds, same data")
	}
	clock := &testClock{now: end}
	srv := newTestServer(t, Options{Now: clock.Now})
	srv.Add(a...)

	stats := map[string]int{}
	nextKey := map[string]int{}
	for i, is := range a {
		if i > 0 && (is.ID <= a[i-1].ID || is.Created.Before(a[i-1].Created)) {
			t.Fatalf("ids must rise with created at %s", is.Key)
		}
		nextKey[is.Project]++
		if want := is.Project + "-" + itoa(nextKey[is.Project]); is.Key != want {
			t.Fatalf("key %s, want %s", is.Key, want)
		}
		if is.Updated.After(end) {
			t.Fatalf("%s updated after End", is.Key)
		}
		for _, c := range is.Comments {
			if c.Created.After(end) || c.Created.Before(is.Created) {
				t.Fatalf("%s comment outside its life", is.Key)
			}
			if c.Author.Role == RoleAutomation {
				stats["automation comment"]++
			}
			if !c.Public {
				stats["internal note"]++
			}
		}
		if len(is.Ratings) > 1 {
			stats["changed rating"]++
		}
		for _, r := range is.Ratings {
			stats["rating "+itoa(r.Value)]++
		}
		if is.Reporter.Role == RoleAgent {
			stats["agent reporter"]++
		}
		if is.RequestType == "" {
			stats["no request type"]++
		}
		if is.Priority == "" {
			stats["no priority"]++
		}
		for _, sla := range is.SLAs {
			if sla.Ongoing != nil && sla.Ongoing.Paused {
				stats["paused"]++
			}
		}
		if is.StatusID == StatusClosed {
			stats["closed"]++
		}
	}
	truth := srv.Truth(end.Add(-30*24*time.Hour), "")
	stats["reopened"] = Sum(truth.Reopened)
	stats["awaiting"] = Sum(truth.AwaitingFirstResponse)
	stats["breached now"] = Sum(truth.BreachedOpen)
	for _, o := range truth.SLACycles {
		stats["cycle met"] += o.Met
		stats["cycle breached"] += o.Breached
	}
	for _, name := range []string{"automation comment", "internal note", "changed rating", "rating 1", "rating 2", "rating 4", "rating 5",
		"agent reporter", "no request type", "no priority", "paused", "closed", "reopened", "awaiting", "breached now", "cycle met", "cycle breached"} {
		if stats[name] == 0 {
			t.Errorf("no %s in 3000 generated tickets: %v", name, stats)
		}
	}
	if stats["rating 5"] <= stats["rating 1"] {
		t.Errorf("ratings must skew to 5: %v", stats)
	}
	if created := Sum(truth.Created); created < 800 || created > 1200 {
		t.Errorf("a third of 90 days must hold about 1000 tickets, got %d", created)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(truth.OldestOpenCreated)), []string{"FAC", "HR", "IT"}) {
		t.Errorf("oldest open per desk: %v", truth.OldestOpenCreated)
	}
}

func itoa(n int) string { return string(must(json.Marshal(n))) }

func TestSLAClocksFollowTheWorkflow(t *testing.T) {
	tests := []struct {
		name        string
		steps       []string // status ids, one per hour after creation
		wantElapsed time.Duration
		wantRunning bool
		wantCycles  int
	}{
		{"resolved straight away", []string{StatusInProgress, StatusResolved}, 2 * time.Hour, false, 1},
		{"paused while waiting for the customer", []string{StatusWaitingForCustomer, StatusInProgress, StatusInProgress, StatusResolved}, 3 * time.Hour, false, 1},
		{"resolved from waiting", []string{StatusWaitingForCustomer, StatusResolved}, time.Hour, false, 1},
		{"still waiting", []string{StatusInProgress, StatusWaitingForCustomer, StatusWaitingForCustomer}, 2 * time.Hour, true, 0},
		{"reopened starts a new cycle", []string{StatusResolved, StatusInProgress, StatusWaitingForCustomer}, time.Hour, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &testClock{now: fixedNow}
			srv := newTestServer(t, Options{Now: clock.Now})
			key := srv.CreateIssue(NewIssue{Project: "IT"})
			for i, status := range tt.steps {
				clock.now = fixedNow.Add(time.Duration(i+1) * time.Hour)
				if is, _ := srv.Issue(key); is.StatusID == status {
					continue // staying put for an hour
				}
				if err := srv.Transition(key, status); err != nil {
					t.Fatal(err)
				}
			}
			clock.now = clock.now.Add(time.Hour) // one more hour passes
			is, _ := srv.Issue(key)
			ttr := is.sla(SLATimeToResolution)
			if len(ttr.Completed) != tt.wantCycles || (ttr.Ongoing != nil) != tt.wantRunning {
				t.Fatalf("cycles %d, ongoing %v", len(ttr.Completed), ttr.Ongoing)
			}
			var elapsed time.Duration
			if tt.wantRunning {
				elapsed = ttr.Ongoing.Elapsed(clock.now)
			} else {
				elapsed = ttr.Completed[0].Elapsed
				if ttr.Completed[0].Start != fixedNow {
					t.Errorf("cycle start moved: %v", ttr.Completed[0].Start)
				}
			}
			if elapsed != tt.wantElapsed {
				t.Errorf("elapsed %v, want %v", elapsed, tt.wantElapsed)
			}
		})
	}
}

// TestSLAFieldsThatHoldNoSLA: an SLA field holding JSM's error object, or
// an SLA without any cycle, renders as such and is no SLA in the truth: the
// first public agent comment answers the issue also in SLA mode.
func TestSLAFieldsThatHoldNoSLA(t *testing.T) {
	t0 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0}
	srv := newTestServer(t, Options{Now: clock.Now})
	outside := srv.CreateIssue(NewIssue{Project: "DEV"})
	empty := srv.CreateIssue(NewIssue{Project: "IT"})
	if err := srv.SetSLAError(outside, "No such SLA"); err == nil {
		t.Error("SetSLAError accepted an SLA the site has no field for")
	}
	for _, err := range []error{
		srv.SetSLAError(outside, SLATimeToFirstResponse),
		srv.SetSLAError(outside, SLATimeToResolution),
		srv.SetSLA(empty, SLA{Name: SLATimeToFirstResponse}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	clock.now = t0.Add(20 * time.Minute)
	for _, key := range []string{outside, empty} {
		if err := srv.AddComment(key, RoleAgent, true); err != nil {
			t.Fatal(err)
		}
	}

	fields := srv.FieldIDs()
	var page searchPage
	call(t, srv, "POST", "/rest/api/2/search/jql", map[string]any{"jql": "project in (DEV, IT) ORDER BY id",
		"fields": []string{fields.SLA[SLATimeToFirstResponse], fields.SLA[SLATimeToResolution]}}).decode(t, &page)
	var errObj struct {
		ErrorMessage     string `json:"errorMessage"`
		I18nErrorMessage struct {
			I18nKey string `json:"i18nKey"`
		} `json:"i18nErrorMessage"`
	}
	for _, id := range []string{fields.SLA[SLATimeToFirstResponse], fields.SLA[SLATimeToResolution]} {
		if err := json.Unmarshal(page.Issues[0].Fields[id], &errObj); err != nil {
			t.Fatal(err)
		}
		if errObj.ErrorMessage == "" || errObj.I18nErrorMessage.I18nKey != "sd.jsm.agent.servicedesk.error.servicedesk.missing" {
			t.Errorf("%s of %s renders %s, want the error object", id, outside, page.Issues[0].Fields[id])
		}
	}
	var noCycles map[string]json.RawMessage
	if err := json.Unmarshal(page.Issues[1].Fields[fields.SLA[SLATimeToFirstResponse]], &noCycles); err != nil {
		t.Fatal(err)
	}
	if string(noCycles["completedCycles"]) != "[]" || noCycles["ongoingCycle"] != nil {
		t.Errorf("an SLA without cycles renders %s", page.Issues[1].Fields[fields.SLA[SLATimeToFirstResponse]])
	}

	truth := srv.Truth(t0, SLATimeToFirstResponse)
	for _, desk := range []string{"DEV", "IT"} {
		if got := truth.FirstResponseSeconds[Labels{Source: "jira", Desk: desk}]; !slices.Equal(got, []float64{1200}) {
			t.Errorf("%s first responses %v, want the comment after 1200 s", desk, got)
		}
	}
	if len(truth.SLACycles) != 0 || Sum(truth.AwaitingFirstResponse) != 0 {
		t.Errorf("SLA cycles %v, awaiting %v: neither value is an SLA", truth.SLACycles, truth.AwaitingFirstResponse)
	}
	// SetSLA undoes SetSLAError.
	if err := srv.SetSLA(outside, SLA{Name: SLATimeToResolution, Ongoing: &SLAOngoing{Start: t0, Goal: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	if is, _ := srv.Issue(outside); !slices.Equal(is.SLAErrors, []string{SLATimeToFirstResponse}) {
		t.Errorf("SLAErrors after SetSLA: %v", is.SLAErrors)
	}
}

// TestMigratedIssuesNameRetiredStatuses: the old histories name statuses
// the status list no longer serves, and the truth still knows what they
// were.
func TestMigratedIssuesNameRetiredStatuses(t *testing.T) {
	srv := newTestServer(t, Options{})
	start := fixedNow.Add(-300 * 24 * time.Hour)
	srv.Add(MigratedIssues("IT", start)...)

	var listed []struct {
		ID string `json:"id"`
	}
	call(t, srv, "GET", "/rest/api/2/status", nil).decode(t, &listed)
	for _, st := range listed {
		for _, retired := range RetiredStatuses {
			if st.ID == retired.ID {
				t.Errorf("the status list serves retired status %s", st.ID)
			}
		}
	}
	var bulk struct {
		IssueChangeLogs []struct {
			ChangeHistories []struct {
				Items []struct {
					FieldID    string `json:"fieldId"`
					From       string `json:"from"`
					FromString string `json:"fromString"`
				} `json:"items"`
			} `json:"changeHistories"`
		} `json:"issueChangeLogs"`
	}
	is, _ := srv.Issue("IT-1")
	call(t, srv, "POST", "/rest/api/2/changelog/bulkfetch", map[string]any{"issueIdsOrKeys": []string{strconv.FormatInt(is.ID, 10)}, "fieldIds": []string{"status"}}).decode(t, &bulk)
	if first := bulk.IssueChangeLogs[0].ChangeHistories[0].Items[0]; first.From != RetiredBacklog || first.FromString != "Backlog" {
		t.Errorf("first history item %+v, want from the retired Backlog", first)
	}

	truth := srv.Truth(start, "")
	l := Labels{Source: "jira", Desk: "IT"}
	if truth.Resolved[l] != 5 || truth.Reopened[l] != 2 || len(truth.Open) != 0 {
		t.Errorf("resolved %d, reopened %d, open %v; want 5, 2 and none", truth.Resolved[l], truth.Reopened[l], truth.Open)
	}
	wantSeconds := []float64{(26 * time.Hour).Seconds(), (76 * time.Hour).Seconds(), (30 * time.Hour).Seconds(), (2 * time.Hour).Seconds(), (77 * time.Hour).Seconds()}
	got := slices.Sorted(slices.Values(truth.ResolutionSeconds[l]))
	if !slices.Equal(got, slices.Sorted(slices.Values(wantSeconds))) {
		t.Errorf("resolution seconds %v, want %v", got, wantSeconds)
	}
}
