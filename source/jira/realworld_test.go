package jira

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// TestSLAFieldsThatAreNoSLA: an SLA field holding JSM's error object (an
// issue outside a service project) or an SLA without any cycle is no SLA
// of the ticket. It must neither switch the ticket to the SLA's first
// response, which never comes, nor be counted as an SLA; the first public
// agent comment answers the ticket, once, and the values are counted as
// skipped.
func TestSLAFieldsThatAreNoSLA(t *testing.T) {
	mux := discoveryMux("Cloud", "Europe/Berlin", []map[string]any{
		jsmField("customfield_10030", "Time to first response", customSLA),
		jsmField("customfield_10031", "Time to resolution", customSLA),
		jsmField("customfield_10010", "Customer Request Type", customRequestType),
	})
	page := realWorld(t, "search_jql_sla_values.json")
	mux.HandleFunc("GET /rest/api/2/search/jql", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, page) })
	mux.HandleFunc("POST /rest/api/2/search/approximate-count", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"count":3}`) })
	mux.HandleFunc("POST /rest/api/2/changelog/bulkfetch", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"issueChangeLogs":[]}`) })
	env := newTestEnv(t, mux, nil)
	store := newLedgerStore(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err := env.src.Poll(context.Background(), store.horizon, nil, store.emit); err != nil {
		t.Fatal(err)
	}

	at := func(s string) time.Time {
		v, err := parseJiraTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		key           string
		wantSLAs      []string
		wantFRSLA     string
		firstResponse time.Time
	}{
		// Both SLA fields hold the error object: comments decide.
		{"DEV-88", nil, "", at("2026-03-02T10:02:17.480+0100")},
		// The first-response SLA has no cycle at all, the other is null.
		{"ITSD-7", nil, "", at("2026-03-02T13:20:41.515+0100")},
		// A real SLA keeps deciding: its completed cycle's stop.
		{"ITSD-8", []string{"Time to first response", "Time to resolution"}, "Time to first response", at("2026-03-02T14:30:00.000+0100")},
	}
	byKey := map[string]ticket.Ticket{}
	for _, tk := range store.tickets {
		byKey[tk.Key] = tk
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			tk, ok := byKey[tt.key]
			if !ok {
				t.Fatalf("%s not delivered (skipped %d)", tt.key, store.skipped)
			}
			var names []string
			for _, s := range tk.SLAs {
				names = append(names, s.Name)
			}
			if mustJSON(t, names) != mustJSON(t, tt.wantSLAs) || tk.FirstResponseSLA != tt.wantFRSLA {
				t.Errorf("SLAs %v, first response SLA %q; want %v, %q", names, tk.FirstResponseSLA, tt.wantSLAs, tt.wantFRSLA)
			}
			responses := 0
			for _, e := range store.events {
				if e.event.Kind == ticket.EventFirstResponse && e.labels.Desk == tk.Desk && e.event.At.Equal(tt.firstResponse) {
					responses++
				}
			}
			if got, ok := ticket.FirstResponse(tk); !ok || !got.Equal(tt.firstResponse) || responses != 1 {
				t.Errorf("first response %v (%v), counted %d times; want %v once", got, ok, responses, tt.firstResponse)
			}
			if ticket.CurrentState(tk).AwaitingFirstResponse {
				t.Error("still awaiting a first response")
			}
		})
	}
	for reason, want := range map[string]float64{reasonSLAError: 2, reasonSLAWithoutCycles: 1} {
		got := counterValue(t, env.reg, "servicedesk_api_values_skipped_total", map[string]string{"source": "test", "reason": reason})
		if got != want {
			t.Errorf("skipped values %s = %v, want %v", reason, got, want)
		}
	}
	if n := requestCount(t, env.reg, "test", "issue_comment", "200"); n != 0 {
		t.Errorf("%v comment requests: the embedded comments hold every answer", n)
	}
}

// TestSLAErrorObjectsAgainstFake: issues of a software project in the JQL
// carry JSM's error object in both SLA fields, and one service desk ticket
// an SLA without cycles. In SLA mode their first public agent comments are
// their first responses, counted once; the values are counted as skipped
// each time a changed ticket is read, not on idle polls; check warns.
func TestSLAErrorObjectsAgainstFake(t *testing.T) {
	site := newSite(t, fakejira.Options{Seed: 111, Now: func() time.Time { return fixedStart }}, 120,
		func(c *Config) { c.JQL = "project in (IT, HR, FAC, DEV)" })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	open := site.srv.CreateIssue(fakejira.NewIssue{Project: "DEV"})
	done := site.srv.CreateIssue(fakejira.NewIssue{Project: "DEV"})
	empty := site.srv.CreateIssue(fakejira.NewIssue{Project: "IT", RequestType: "Get IT help"})
	for _, key := range []string{open, done} {
		must(site.srv.SetSLAError(key, fakejira.SLATimeToFirstResponse))
		must(site.srv.SetSLAError(key, fakejira.SLATimeToResolution))
	}
	must(site.srv.SetSLA(empty, fakejira.SLA{Name: fakejira.SLATimeToFirstResponse}))
	site.clock.Advance(20 * time.Minute)
	for _, key := range []string{open, done, empty} {
		must(site.srv.AddComment(key, fakejira.RoleCustomer, true))
		must(site.srv.AddComment(key, fakejira.RoleAgent, false)) // an internal note is no answer
		site.clock.Advance(time.Minute)
		must(site.srv.AddComment(key, fakejira.RoleAgent, true))
	}
	site.clock.Advance(time.Hour)
	must(site.srv.Transition(done, fakejira.StatusResolved))

	store := newLedgerStore(fixedStart.Add(-30 * 24 * time.Hour))
	src := site.source(t, nil)
	pollOnce(t, src, store)
	truth := site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(truth))
	if got := truth.FirstResponseSeconds[fakejira.Labels{Source: fakejira.DefaultSource, Desk: "DEV"}]; len(got) != 2 {
		t.Fatalf("truth has %d DEV first responses, want 2", len(got))
	}
	skippedValues := func() (errors, empty float64) {
		return counterValue(t, site.reg, "servicedesk_api_values_skipped_total", map[string]string{"source": fakejira.DefaultSource, "reason": reasonSLAError}),
			counterValue(t, site.reg, "servicedesk_api_values_skipped_total", map[string]string{"source": fakejira.DefaultSource, "reason": reasonSLAWithoutCycles})
	}
	if e, n := skippedValues(); e != 4 || n != 1 {
		t.Errorf("skipped values: %v error objects, %v SLAs without cycles; want 4 and 1", e, n)
	}

	// Idle: nothing is read again, nothing counted again.
	site.clock.Advance(2 * time.Minute)
	pollOnce(t, src, store)
	if e, n := skippedValues(); e != 4 || n != 1 {
		t.Errorf("an idle poll counted skipped values again: %v, %v", e, n)
	}
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))

	site.cfg.JQL = "project = DEV"
	report, err := site.source(t, nil).checkTo(context.Background(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, w := range report.Warnings {
		warned = warned || strings.Contains(w, "error object instead of SLA values")
	}
	if report.TicketsWithSLAError != 1 || report.TicketsWithSLA != 0 || !warned {
		t.Errorf("check sampled %d tickets, %d with SLA values, %d with the error object; warnings %q",
			report.SampledTickets, report.TicketsWithSLA, report.TicketsWithSLAError, report.Warnings)
	}
}

// TestRetiredStatusIDs: old histories name status ids the site's list no
// longer has (workflows migrated, statuses deleted). They are placed by
// their names, then by the resolution changes of the ticket's histories;
// what no rule places is left out and counted, and a done ticket with a
// resolution date keeps its resolution. The status list is read again once,
// not on every batch naming the same retired ids.
func TestRetiredStatusIDs(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rest/api/2/serverInfo", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"deploymentType":"Cloud","version":"1001.0.0"}`)
	})
	mux.HandleFunc("GET /rest/api/2/myself", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"accountId":"bot","displayName":"Exporter Bot","timeZone":"Europe/Berlin"}`)
	})
	mux.HandleFunc("GET /rest/api/2/field", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `[]`) })
	statuses := realWorld(t, "status_list_after_migration.json")
	mux.HandleFunc("GET /rest/api/2/status", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, statuses) })
	page := realWorld(t, "search_jql_retired_statuses.json")
	mux.HandleFunc("GET /rest/api/2/search/jql", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, page) })
	mux.HandleFunc("POST /rest/api/2/search/approximate-count", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"count":2}`) })
	changelogs := realWorld(t, "changelog_bulkfetch_retired_statuses.json")
	mux.HandleFunc("POST /rest/api/2/changelog/bulkfetch", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, changelogs) })
	env := newTestEnv(t, mux, nil)

	at := func(s string) time.Time {
		v, err := parseJiraTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	newCat, open, done := ticket.CategoryNew, ticket.CategoryIndeterminate, ticket.CategoryDone
	want := map[string][]ticket.Transition{
		// Backlog (10013) → To Do is left out: nothing places Backlog. To Do
		// (10000) and Done (10020) are placed by the resolution set and
		// cleared with them, Resolved (5) by its name; Resolved → Closed
		// (the migration) stays within done, kept with its names for SLA
		// policies that pause by status.
		"ITSD-3": {
			{At: at("2024-05-07T10:00:00.000+0200"), From: open, To: done, FromStatus: "To Do", ToStatus: "Done"},
			{At: at("2024-05-08T11:00:00.000+0200"), From: done, To: open, FromStatus: "Done", ToStatus: "To Do"},
			{At: at("2024-05-09T12:00:00.000+0200"), From: open, To: done, FromStatus: "To Do", ToStatus: "Resolved"},
			{At: at("2025-01-20T03:00:00.000+0100"), From: done, To: done, FromStatus: "Resolved", ToStatus: "Closed"},
		},
		// In Progress → Finished (10021) and Finished → Closed are left out;
		// the resolution date says when the ticket was resolved (a change
		// the changelog does not name).
		"ITSD-4": {
			{At: at("2024-06-03T09:00:00.000+0200"), From: newCat, To: open, FromStatus: "Waiting for support", ToStatus: "In Progress"},
			{At: at("2024-06-04T15:30:00.000+0200"), From: open, To: done},
		},
	}
	for pass := range 2 {
		store := newLedgerStore(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		if err := env.src.Poll(context.Background(), store.horizon, nil, store.emit); err != nil {
			t.Fatal(err)
		}
		for _, tk := range store.tickets {
			if mustJSON(t, tk.Transitions) != mustJSON(t, want[tk.Key]) {
				t.Errorf("pass %d: %s transitions\n got %s\nwant %s", pass, tk.Key, mustJSON(t, tk.Transitions), mustJSON(t, want[tk.Key]))
			}
		}
		kinds := map[ticket.EventKind]int{}
		for _, e := range store.events {
			kinds[e.event.Kind]++
		}
		if kinds[ticket.EventResolved] != 3 || kinds[ticket.EventReopened] != 1 || len(store.tickets) != 2 {
			t.Errorf("pass %d: %d tickets, events %v; want 3 resolutions and 1 reopen", pass, len(store.tickets), kinds)
		}
		if got := counterValue(t, env.reg, "servicedesk_api_values_skipped_total",
			map[string]string{"source": "test", "reason": reasonStatusUnmapped}); got != float64(3*(pass+1)) {
			t.Errorf("pass %d: %v status changes counted as left out, want %d", pass, got, 3*(pass+1))
		}
	}
	if n := requestCount(t, env.reg, "test", "status", "200"); n != 2 {
		t.Errorf("status list read %v times, want 2 (discovery and one re-read for the unknown ids)", n)
	}
}

func TestChangeFactsPlacesUnlistedStatuses(t *testing.T) {
	byID := map[string]ticket.Category{"1": ticket.CategoryNew, "3": ticket.CategoryIndeterminate, "6": ticket.CategoryDone}
	byName := map[string]ticket.Category{"open": ticket.CategoryNew, "in progress": ticket.CategoryIndeterminate, "resolved": ticket.CategoryDone, "closed": ticket.CategoryDone}
	day := func(d int) string {
		return time.Date(2026, 1, d, 10, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000-0700")
	}
	status := func(from, fromName, to, toName string) string {
		return `{"fieldId":"status","from":"` + from + `","fromString":"` + fromName + `","to":"` + to + `","toString":"` + toName + `"}`
	}
	const set, cleared = `{"fieldId":"resolution","from":null,"to":"1","toString":"Done"}`, `{"fieldId":"resolution","from":"1","fromString":"Done","to":null,"toString":null}`
	history := func(id string, d int, items ...string) string {
		return `{"id":"` + id + `","created":"` + day(d) + `","items":[` + strings.Join(items, ",") + `]}`
	}
	tests := []struct {
		name      string
		histories []string
		want      string // transitions as from>to per change, space separated
		unmapped  int
		unlisted  []string
	}{
		{"listed ids", []string{history("1", 1, status("1", "x", "3", "y")), history("2", 2, status("3", "y", "6", "z"), set)},
			"new>indeterminate indeterminate>done", 0, nil},
		{"names, case and space aside", []string{history("1", 1, status("3", "In Progress", "50", " RESOLVED "), set)},
			"indeterminate>done", 0, nil},
		{"a name of two categories is no name", []string{history("1", 1, status("3", "In Progress", "51", "Review"))},
			"", 1, []string{"51"}},
		{"resolution set: entered done, left an open status", []string{history("1", 1, status("60", "Doing", "61", "Finished"), set)},
			"indeterminate>done", 0, []string{"60", "61"}},
		{"resolution cleared: left done, entered an open status", []string{history("1", 1, status("6", "Closed", "62", "To Do"), cleared)},
			"done>indeterminate", 0, []string{"62"}},
		{"what one history learned places another", []string{
			history("1", 1, status("1", "Open", "63", "Triage")),
			history("2", 2, status("63", "Triage", "6", "Closed"), set)},
			"new>indeterminate indeterminate>done", 0, []string{"63"}},
		{"an id on both sides of the resolution says nothing", []string{
			history("1", 1, status("3", "In Progress", "64", "Odd"), set),
			history("2", 2, status("6", "Closed", "64", "Odd"), cleared)},
			"", 2, []string{"64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hs []changelogHistory
			if err := json.Unmarshal([]byte("["+strings.Join(tt.histories, ",")+"]"), &hs); err != nil {
				t.Fatal(err)
			}
			c := changeFacts(hs, byID, byName)
			var got []string
			for _, tr := range c.transitions {
				got = append(got, string(tr.From)+">"+string(tr.To))
			}
			if strings.Join(got, " ") != tt.want || c.unmapped != tt.unmapped || mustJSON(t, c.unlisted) != mustJSON(t, tt.unlisted) {
				t.Errorf("transitions %q, unmapped %d, unlisted %v; want %q, %d, %v", strings.Join(got, " "), c.unmapped, c.unlisted, tt.want, tt.unmapped, tt.unlisted)
			}
		})
	}
}

func TestEndInDone(t *testing.T) {
	h := func(n int) time.Time { return time.Date(2026, 1, 1, n, 0, 0, 0, time.UTC) }
	tr := func(n int, from, to ticket.Category) ticket.Transition {
		return ticket.Transition{At: h(n), From: from, To: to}
	}
	newCat, open, done := ticket.CategoryNew, ticket.CategoryIndeterminate, ticket.CategoryDone
	tests := []struct {
		name     string
		category ticket.Category
		resolved time.Time
		in, want []ticket.Transition
	}{
		{"open ticket", open, time.Time{}, []ticket.Transition{tr(1, newCat, open)}, []ticket.Transition{tr(1, newCat, open)}},
		{"done without a resolution date", done, time.Time{}, []ticket.Transition{tr(1, newCat, open)}, []ticket.Transition{tr(1, newCat, open)}},
		{"no timeline: derivation uses the date", done, h(5), nil, nil},
		{"timeline ends in done", done, h(5), []ticket.Transition{tr(1, newCat, done)}, []ticket.Transition{tr(1, newCat, done)}},
		{"never entered done", done, h(5), []ticket.Transition{tr(1, newCat, open)}, []ticket.Transition{tr(1, newCat, open), tr(5, open, done)}},
		{"reopened, resolution lost", done, h(5), []ticket.Transition{tr(1, open, done), tr(2, done, open)},
			[]ticket.Transition{tr(1, open, done), tr(2, done, open), tr(5, open, done)}},
		{"resolution date before the last change", done, h(1), []ticket.Transition{tr(3, newCat, open)},
			[]ticket.Transition{tr(3, newCat, open), tr(3, open, done)}},
		// The search copy said done; the ticket was reopened before its
		// changelog was read. Adding an entry would count a phantom
		// resolution that stays counted after the next poll.
		{"changelog newer than the search copy", done, h(1), []ticket.Transition{tr(1, open, done), tr(2, done, open)},
			[]ticket.Transition{tr(1, open, done), tr(2, done, open)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ticket.Ticket{StatusCategory: tt.category, ResolvedAt: tt.resolved, Transitions: tt.in}
			endInDone(&tk)
			if mustJSON(t, tk.Transitions) != mustJSON(t, tt.want) {
				t.Errorf("got  %s\nwant %s", mustJSON(t, tk.Transitions), mustJSON(t, tt.want))
			}
		})
	}
}

func TestStatusNamesOfTwoCategoriesAreNoName(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rest/api/2/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[{"id":"1","name":"Review","statusCategory":{"key":"indeterminate"}},{"id":"2","name":"review ","statusCategory":{"key":"done"}},
			{"id":"3","name":"Review","statusCategory":{"key":"indeterminate"}},{"id":"4","name":"Done","statusCategory":{"key":"done"}},{"id":"5","name":"Done","statusCategory":{"key":"done"}}]`)
	})
	env := newTestEnv(t, mux, nil)
	st := &site{}
	if err := env.src.loadStatuses(context.Background(), env.src.api, st); err != nil {
		t.Fatal(err)
	}
	if want := map[string]ticket.Category{"done": ticket.CategoryDone}; mustJSON(t, st.statusNames) != mustJSON(t, want) {
		t.Errorf("status names %v, want %v", st.statusNames, want)
	}
}

// TestMigratedWorkflowAgainstFake: a site whose old histories name retired
// statuses matches the truth on Cloud (bulkfetch) and Data Center (embedded
// changelogs), and counts the status changes no rule could place.
func TestMigratedWorkflowAgainstFake(t *testing.T) {
	for _, deployment := range []fakejira.Deployment{fakejira.DeploymentCloud, fakejira.DeploymentDataCenter} {
		t.Run(string(deployment), func(t *testing.T) {
			site := newSite(t, fakejira.Options{Deployment: deployment, Seed: 121, Now: func() time.Time { return fixedStart }}, 80, nil)
			site.srv.Add(fakejira.MigratedIssues("IT", fixedStart.Add(-300*24*time.Hour))...)
			store := newLedgerStore(fixedStart.Add(-400 * 24 * time.Hour))
			pollOnce(t, site.source(t, nil), store)
			compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))
			got := counterValue(t, site.reg, "servicedesk_api_values_skipped_total",
				map[string]string{"source": fakejira.DefaultSource, "reason": reasonStatusUnmapped})
			if got != 3 {
				t.Errorf("%v status changes counted as left out, want 3 (Backlog → To Do, In Progress → Finished → Closed)", got)
			}
			if n := site.srv.Count("status"); n != 2 {
				t.Errorf("status list read %d times, want 2", n)
			}
		})
	}
}

// TestCommentVisibilityShapes: JSM marks an internal comment with the
// sd.public.comment property {"internal": true}; a comment without it is
// public. Where properties were asked for, "without it" comes as [], null
// or no key at all (Data Center sends each); a search copy without them
// cannot tell.
func TestCommentVisibilityShapes(t *testing.T) {
	const agent = `"author":{"name":"a.agent","key":"JIRAUSER10007"},"created":"2026-03-03T09:40:03.000+0100"`
	tests := []struct {
		name      string
		raw       string
		expanded  bool
		public    bool
		wantKnown bool
	}{
		{"search copy, no properties key", `{"id":"1",` + agent + `}`, false, true, false},
		{"search copy, properties null", `{"id":"1",` + agent + `,"properties":null}`, false, true, false},
		{"search copy, properties []", `{"id":"1",` + agent + `,"properties":[]}`, false, true, true},
		{"search copy, internal property", `{"id":"1",` + agent + `,"properties":[{"key":"sd.public.comment","value":{"internal":true}}]}`, false, false, true},
		{"expanded, no properties key", `{"id":"1",` + agent + `}`, true, true, true},
		{"expanded, properties null", `{"id":"1",` + agent + `,"properties":null}`, true, true, true},
		{"expanded, properties []", `{"id":"1",` + agent + `,"properties":[]}`, true, true, true},
		{"expanded, another property only", `{"id":"1",` + agent + `,"properties":[{"key":"x.y","value":{"a":1}}]}`, true, true, true},
		{"expanded, internal property", `{"id":"1",` + agent + `,"properties":[{"key":"sd.public.comment","value":{"internal":true}}]}`, true, false, true},
		{"expanded, internal as a string", `{"id":"1",` + agent + `,"properties":[{"key":"sd.public.comment","value":{"internal":"true"}}]}`, true, false, true},
		{"expanded, internal false", `{"id":"1",` + agent + `,"properties":[{"key":"sd.public.comment","value":{"internal":false}}]}`, true, true, true},
		{"cloud jsdPublic wins", `{"id":"1",` + agent + `,"jsdPublic":false}`, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c comment
			if err := json.Unmarshal([]byte(tt.raw), &c); err != nil {
				t.Fatal(err)
			}
			c.expanded = tt.expanded
			if public, known := commentPublic(c); public != tt.public || known != tt.wantKnown {
				t.Errorf("public %v known %v, want %v %v", public, known, tt.public, tt.wantKnown)
			}
		})
	}
}

// TestDataCenterCommentsWithoutProperties: Data Center search results say
// nothing of a comment's visibility, so the comments of a ticket with an
// agent comment are read once with expand=properties; there the public
// ones carry no properties at all. The JSM rule decides: the internal note
// is no answer, the next agent comment is.
func TestDataCenterCommentsWithoutProperties(t *testing.T) {
	mux := discoveryMux("DataCenter", "Europe/Berlin", nil)
	search := realWorld(t, "dc_search_comments_without_properties.json")
	mux.HandleFunc("GET /rest/api/2/search", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, search) })
	comments := realWorld(t, "dc_comment_page_expand_properties.json")
	var expands []string
	mux.HandleFunc("GET /rest/api/2/issue/21004/comment", func(w http.ResponseWriter, r *http.Request) {
		expands = append(expands, r.URL.Query().Get("expand"))
		writeJSON(w, 200, comments)
	})
	env := newTestEnv(t, mux, func(c *Config) { c.FirstResponse = FirstResponseComment })
	store := newLedgerStore(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err := env.src.Poll(context.Background(), store.horizon, nil, store.emit); err != nil {
		t.Fatal(err)
	}
	tk, ok := store.tickets["21004"]
	if !ok {
		t.Fatalf("ticket not delivered (skipped %d)", store.skipped)
	}
	answer, _ := parseJiraTime("2026-03-03T09:40:03.000+0100")
	if got, ok := ticket.FirstResponse(tk); !ok || !got.Equal(answer) {
		t.Errorf("first response %v (%v), want the public agent comment at %v", got, ok, answer)
	}
	if mustJSON(t, expands) != `["properties"]` {
		t.Errorf("comment requests with expand %q, want one with properties", expands)
	}
}
