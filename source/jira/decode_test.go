package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

func TestJiraConfigUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{
			name: "defaults",
			yaml: "url: https://acme.atlassian.net\njql: project = ITSD\n",
			check: func(t *testing.T, c Config) {
				if c.Deployment != "auto" || c.FirstResponse != "auto" || c.FirstResponseSLA != "Time to first response" ||
					c.RequestsPerSecond != 5 || c.PageSize != 100 || time.Duration(c.Overlap) != 5*time.Minute ||
					time.Duration(c.ReconcileInterval) != time.Hour || c.MaxResultWindow != 10000 || c.Concurrency != 4 {
					t.Errorf("defaults not applied: %+v", c)
				}
			},
		},
		{
			name: "overrides",
			yaml: "url: https://jira.example.com/jira\njql: project in (A, B)\ndeployment: datacenter\nfirst_response: comment\npage_size: 50\noverlap: 10m\nautomation_account_ids: [bot1]\n",
			check: func(t *testing.T, c Config) {
				if c.Deployment != "datacenter" || c.PageSize != 50 || time.Duration(c.Overlap) != 10*time.Minute || len(c.AutomationAccountIDs) != 1 {
					t.Errorf("overrides lost: %+v", c)
				}
			},
		},
		{name: "missing url", yaml: "jql: project = A\n", wantErr: "jira.url is required"},
		{name: "missing jql", yaml: "url: https://a.example\n", wantErr: "jira.jql is required"},
		{name: "bad deployment", yaml: "url: https://a.example\njql: x = 1\ndeployment: x\n", wantErr: `jira.deployment must be one of auto, cloud, datacenter, got "x"`},
		{name: "bad first response", yaml: "url: https://a.example\njql: x = 1\nfirst_response: maybe\n", wantErr: `jira.first_response must be one of auto, sla, comment, got "maybe"`},
		{name: "unknown key", yaml: "url: https://a.example\njql: x = 1\nsurprise: 1\n", wantErr: "field surprise not found"},
		{name: "credentials in url", yaml: "url: https://bot:s3cret@a.example\njql: x = 1\n", wantErr: "jira.url must not contain credentials"},
		{name: "relative url", yaml: "url: a.example\njql: x = 1\n", wantErr: "jira.url must be an absolute http or https URL"},
		{name: "order by in jql", yaml: "url: https://a.example\njql: project = A ORDER BY key\n", wantErr: "jira.jql must not contain ORDER BY"},
		{name: "zero rate", yaml: "url: https://a.example\njql: x = 1\nrequests_per_second: 0\n", wantErr: "jira.requests_per_second must be in (0, 1000]"},
		{name: "no concurrency", yaml: "url: https://a.example\njql: x = 1\nconcurrency: 0\n", wantErr: "jira.concurrency must be in [1, 16], got 0"},
		{name: "too much concurrency", yaml: "url: https://a.example\njql: x = 1\nconcurrency: 64\n", wantErr: "jira.concurrency must be in [1, 16], got 64"},
		{name: "page size", yaml: "url: https://a.example\njql: x = 1\npage_size: 5000\n", wantErr: "jira.page_size must be in [1, 1000], got 5000"},
		{name: "reconcile too often", yaml: "url: https://a.example\njql: x = 1\nreconcile_interval: 10s\n", wantErr: "jira.reconcile_interval must be 0 (off) or at least 1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			err := yaml.Unmarshal([]byte(tt.yaml), &c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestJQLLowerBoundNewYork(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"winter, seconds dropped", time.Date(2026, 1, 15, 17, 30, 59, 0, time.UTC), "2026-01-15 12:30"},
		{"summer", time.Date(2026, 7, 1, 4, 5, 0, 0, time.UTC), "2026-07-01 00:05"},
		{"day boundary in the user's zone", time.Date(2026, 7, 2, 2, 0, 0, 0, time.UTC), "2026-07-01 22:00"},
		// 2026-11-01 01:30 happens twice in New York. 05:30Z is the first
		// (EDT); its literal also reads as 06:30Z, so the bound steps back.
		{"first of the repeated hour", time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), "2026-11-01 00:30"},
		// 06:30Z is the second 01:30 (EST): both readings are at or before it.
		{"second of the repeated hour", time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), "2026-11-01 01:30"},
		{"after the change", time.Date(2026, 11, 1, 7, 45, 0, 0, time.UTC), "2026-11-01 02:45"},
		// 2026-03-08 02:00-03:00 does not exist; 07:15Z is 03:15 EDT.
		{"after the spring gap", time.Date(2026, 3, 8, 7, 15, 0, 0, time.UTC), "2026-03-08 03:15"},
		{"before the spring gap", time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC), "2026-03-08 01:59"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := jqlLowerBound(tt.at, ny)
			if got != tt.want {
				t.Fatalf("jqlLowerBound(%s) = %q, want %q", tt.at, got, tt.want)
			}
			latest, ok := latestReading(got, ny)
			if !ok || latest.After(tt.at) {
				t.Fatalf("literal %q can be read as %s, after %s", got, latest, tt.at)
			}
		})
	}
}

func TestJQLQueriesWrapUserJQL(t *testing.T) {
	b := jqlBuilder{user: "project = A OR project = B", loc: time.UTC}
	h := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got, want := keyset(b.scope(h), 42, 0), `(project = A OR project = B) AND (updated >= "2026-01-02 03:04" OR statusCategory != Done) AND id > 42 ORDER BY id ASC`; got != want {
		t.Errorf("scope = %s\nwant   %s", got, want)
	}
	if got, want := keyset(b.updatedSince(h), 0, 0), `(project = A OR project = B) AND updated >= "2026-01-02 03:04" ORDER BY id ASC`; got != want {
		t.Errorf("updatedSince = %s\nwant   %s", got, want)
	}
	if got, want := keyset(b.scope(h), 42, 1042), `(project = A OR project = B) AND (updated >= "2026-01-02 03:04" OR statusCategory != Done) AND id > 42 AND id <= 1042 ORDER BY id ASC`; got != want {
		t.Errorf("range = %s\nwant   %s", got, want)
	}
}

func TestDecodeRating(t *testing.T) {
	tests := []struct {
		raw     string
		want    int
		present bool
		wantErr bool
	}{
		{raw: `null`},
		{raw: ``},
		{raw: `4`, want: 4, present: true},
		{raw: `"5"`, want: 5, present: true},
		{raw: `{"rating": 3}`, want: 3, present: true},
		{raw: `{"self": "x", "rating": "2"}`, want: 2, present: true},
		{raw: `{"type":"csat","rating":4,"comment":{"body":"Great work!"}}`, want: 4, present: true},
		{raw: `{"value": 1}`, want: 1, present: true},
		{raw: `{"rating": null}`},
		{raw: `0`, wantErr: true},
		{raw: `6`, wantErr: true},
		{raw: `4.5`, wantErr: true},
		{raw: `"great"`, wantErr: true},
		{raw: `{"comment": "no rating"}`, wantErr: true},
		{raw: `[4]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, present, err := decodeRating(json.RawMessage(tt.raw))
			if (err != nil) != tt.wantErr || got != tt.want || present != tt.present {
				t.Fatalf("decodeRating(%s) = %d, %v, %v; want %d, %v, err %v", tt.raw, got, present, err, tt.want, tt.present, tt.wantErr)
			}
		})
	}
}

func TestDecodeRatingFromSpecFeedback(t *testing.T) {
	var fb feedback
	if err := json.Unmarshal(specSample(t, "jsm_request_feedback_200.json"), &fb); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := decodeRating(fb.Rating); err != nil || !ok || v != 4 {
		t.Fatalf("rating = %d %v %v, want 4", v, ok, err)
	}
}

func TestConvertSLA(t *testing.T) {
	var page struct {
		Values []json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(specSample(t, "jsm_request_sla_200.json"), &page); err != nil {
		t.Fatal(err)
	}
	ms := func(v int64) time.Time { return time.UnixMilli(v).UTC() }
	tests := []struct {
		name string
		raw  string
		want ticket.SLA
	}{
		{
			name: "spec sample: two completed cycles, one breached, ongoing",
			raw:  string(page.Values[0]),
			want: ticket.SLA{Name: "Time to first response", Completed: []ticket.SLACycle{
				{Start: ms(1444362323000), Stop: ms(1444362743000), Goal: 4 * time.Hour, Elapsed: 7 * time.Minute},
				{Start: ms(1444449143000), Stop: ms(1444468523000), Goal: 4 * time.Hour, Elapsed: 19380 * time.Second, Breached: true},
			}, Ongoing: &ticket.OngoingCycle{Start: ms(1444479323000), Goal: 4 * time.Hour, Elapsed: 5640 * time.Second, Remaining: 8760 * time.Second}},
		},
		{
			name: "ongoing overdue: negative remaining is breached, breachTime kept",
			raw: `{"name":"TTR","completedCycles":[],"ongoingCycle":{"startTime":{"epochMillis":1000},"breachTime":{"iso8601":"2026-07-06T18:02:13+0900"},
				"breached":false,"paused":false,"goalDuration":{"millis":3600000},"elapsedTime":{"millis":3700000},"remainingTime":{"millis":-100000}}}`,
			want: ticket.SLA{Name: "Time to first response", Ongoing: &ticket.OngoingCycle{Start: ms(1000), Goal: time.Hour,
				Elapsed: 3700 * time.Second, Remaining: -100 * time.Second, BreachAt: time.Date(2026, 7, 6, 9, 2, 13, 0, time.UTC), Breached: true}},
		},
		{
			name: "paused ongoing, dates only as jira strings",
			raw: `{"completedCycles":[{"startTime":{"jira":"2026-01-01T10:00:00.000+0100"},"stopTime":{"jira":"2026-01-01T11:00:00.000+0100"},
				"breached":false,"goalDuration":{"millis":7200000},"elapsedTime":{"millis":3600000},"remainingTime":{"millis":3600000}}],
				"ongoingCycle":{"startTime":{"epochMillis":5000},"breached":false,"paused":true,"goalDuration":{"millis":1},"elapsedTime":{"millis":0},"remainingTime":{"millis":1}}}`,
			want: ticket.SLA{Name: "Time to first response", Completed: []ticket.SLACycle{
				{Start: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), Stop: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), Goal: 2 * time.Hour, Elapsed: time.Hour},
			}, Ongoing: &ticket.OngoingCycle{Start: ms(5000), Goal: time.Millisecond, Remaining: time.Millisecond, Paused: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v slaValue
			if err := json.Unmarshal([]byte(tt.raw), &v); err != nil {
				t.Fatal(err)
			}
			got, err := convertSLA("Time to first response", v)
			if err != nil {
				t.Fatal(err)
			}
			if mustJSON(t, got) != mustJSON(t, tt.want) {
				t.Fatalf("got  %s\nwant %s", mustJSON(t, got), mustJSON(t, tt.want))
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestChangeFacts(t *testing.T) {
	categories := map[string]ticket.Category{"1": ticket.CategoryNew, "3": ticket.CategoryIndeterminate, "4": ticket.CategoryIndeterminate, "5": ticket.CategoryDone}
	raw := `[
	 {"id":"13","created":"2026-01-03T10:00:00.000+0000","items":[{"fieldId":"status","from":"5","to":"3"},{"field":"resolution","fieldId":"resolution","from":"1","fromString":"Done","to":null,"toString":null}]},
	 {"id":"11","created":1767261600,"items":[{"fieldId":"status","from":"1","to":"3"},{"fieldId":"status","from":"3","to":"4"}]},
	 {"id":"12","created":"2026-01-02T10:00:00.000+0000","items":[{"fieldId":"status","from":"4","to":"5"},{"fieldId":"resolution","from":null,"to":"1","toString":"Done"},{"fieldId":"summary","from":"a","to":"b"}]},
	 {"id":"12","created":"2026-01-02T10:00:00.000+0000","items":[{"fieldId":"status","from":"4","to":"5"}]},
	 {"id":"14","created":"2026-01-04T10:00:00.000+0000","items":[{"fieldId":"status","from":"3","to":"99"}]}
	]`
	var hs []changelogHistory
	if err := json.Unmarshal([]byte(raw), &hs); err != nil {
		t.Fatal(err)
	}
	c := changeFacts(hs, categories, nil)
	trs, res := c.transitions, c.resolutions
	day := func(d int) time.Time { return time.Date(2026, 1, d, 10, 0, 0, 0, time.UTC) }
	wantTrs := []ticket.Transition{
		{At: day(1), From: ticket.CategoryNew, To: ticket.CategoryIndeterminate},
		// Within a category: kept for SLA policies that pause by status name.
		{At: day(1), From: ticket.CategoryIndeterminate, To: ticket.CategoryIndeterminate},
		{At: day(2), From: ticket.CategoryIndeterminate, To: ticket.CategoryDone},
		{At: day(3), From: ticket.CategoryDone, To: ticket.CategoryIndeterminate},
	}
	wantRes := []ticket.ResolutionChange{{At: day(2), Set: true}, {At: day(3), Set: false}}
	if mustJSON(t, trs) != mustJSON(t, wantTrs) {
		t.Errorf("transitions = %s\nwant %s", mustJSON(t, trs), mustJSON(t, wantTrs))
	}
	if mustJSON(t, res) != mustJSON(t, wantRes) {
		t.Errorf("resolutions = %s\nwant %s", mustJSON(t, res), mustJSON(t, wantRes))
	}
	if len(c.unlisted) != 1 || c.unlisted[0] != "99" || c.unmapped != 1 {
		t.Errorf("unlisted = %v, unmapped %d; want [99], 1", c.unlisted, c.unmapped)
	}
}

func TestBulkfetchSpecSamplesDecode(t *testing.T) {
	var resp bulkChangelogResponse
	if err := json.Unmarshal(specSample(t, "changelog_bulkfetch_200.json"), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.IssueChangeLogs) != 1 || resp.NextPageToken != "UxAQBFRF" {
		t.Fatalf("decoded %+v", resp)
	}
	h := resp.IssueChangeLogs[0].ChangeHistories[0]
	if !h.Created.Equal(time.Unix(1492070429, 0)) {
		t.Errorf("epoch-seconds created decoded as %s", h.Created.Time)
	}
	var page struct {
		Values []changelogHistory `json:"values"`
	}
	if err := json.Unmarshal(specSample(t, "issue_changelog_page_200.json"), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Values) != 2 || !page.Values[0].Created.Equal(time.Date(1970, 1, 18, 6, 27, 50, 429e6, time.UTC)) {
		t.Errorf("changelog page decoded as %+v", page)
	}
}

func TestCommentRoles(t *testing.T) {
	yes, no := true, false
	automation := map[string]bool{"robot-1": true}
	tests := []struct {
		name       string
		c          comment
		wantAuthor ticket.Author
		wantPublic bool
	}{
		{"reporter by account id", comment{Author: &user{AccountID: "cust"}, JSDPublic: &yes}, ticket.AuthorReporter, true},
		{"agent public", comment{Author: &user{AccountID: "agent", AccountType: "atlassian"}, JSDPublic: &yes}, ticket.AuthorAgent, true},
		{"agent internal", comment{Author: &user{AccountID: "agent", AccountType: "atlassian"}, JSDPublic: &no}, ticket.AuthorAgent, false},
		{"app account", comment{Author: &user{AccountID: "app1", AccountType: "app"}}, ticket.AuthorAutomation, true},
		{"configured automation", comment{Author: &user{AccountID: "robot-1", AccountType: "atlassian"}}, ticket.AuthorAutomation, true},
		{"other customer", comment{Author: &user{AccountID: "c2", AccountType: "customer"}}, ticket.AuthorReporter, true},
		{"dc reporter by key", comment{Author: &user{Name: "jdoe", Key: "JIRAUSER1"}}, ticket.AuthorReporter, true},
		{"dc internal property", comment{Author: &user{Name: "agent", Key: "JIRAUSER2"},
			Properties: []commentProperty{{Key: "sd.public.comment", Value: json.RawMessage(`{"internal":true}`)}}}, ticket.AuthorAgent, false},
		{"dc public property", comment{Author: &user{Name: "agent", Key: "JIRAUSER2"},
			Properties: []commentProperty{{Key: "sd.public.comment", Value: json.RawMessage(`{"internal":false}`)}}}, ticket.AuthorAgent, true},
		{"dc expanded without property is public", comment{Author: &user{Name: "agent", Key: "JIRAUSER2"}, Properties: []commentProperty{}}, ticket.AuthorAgent, true},
		{"dc search copy: visibility unknown", comment{Author: &user{Name: "agent", Key: "JIRAUSER2"}}, ticket.AuthorAgent, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reporter := "cust"
			if tt.c.Author.Key != "" {
				reporter = "JIRAUSER1"
			}
			if got := authorRole(tt.c, reporter, automation); got != tt.wantAuthor {
				t.Errorf("author = %s, want %s", got, tt.wantAuthor)
			}
			public, known := commentPublic(tt.c)
			if public != tt.wantPublic {
				t.Errorf("public = %v, want %v", public, tt.wantPublic)
			}
			wantKnown := tt.c.JSDPublic != nil || tt.c.Properties != nil
			if known != wantKnown {
				t.Errorf("known = %v, want %v", known, wantKnown)
			}
		})
	}
}

func TestDecodeIssueRejectsMalformedCustomField(t *testing.T) {
	st := &site{deployment: DeploymentCloud, categories: map[string]ticket.Category{"1": ticket.CategoryNew},
		slaFields: []Field{{Kind: "sla", ID: "customfield_1", Name: "TTFR"}}, requestType: "customfield_2"}
	base := `"created":"2026-01-01T10:00:00.000+0000","updated":"2026-01-01T11:00:00.000+0000","status":{"id":"1","name":"Open"}`
	tests := []struct {
		name    string
		fields  string
		wantErr string
	}{
		{"valid", base, ""},
		{"sla is a string", base + `,"customfield_1":"oops"`, "field customfield_1"},
		{"sla cycles not a list", base + `,"customfield_1":{"completedCycles":7}`, "field customfield_1"},
		{"request type is a number", base + `,"customfield_2":12`, "field customfield_2"},
		{"created missing", `"updated":"2026-01-01T11:00:00.000+0000","status":{"id":"1"}`, "no created time"},
		{"unknown status", `"created":"2026-01-01T10:00:00.000+0000","updated":"2026-01-01T11:00:00.000+0000","status":{"id":"77"}`, "no known category"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeIssue(st, json.RawMessage(`{"id":"10001","key":"ITSD-1","fields":{`+tt.fields+`}}`), nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseJiraLayout holds the hand parser of Jira's time layout to
// time.Parse: whatever it accepts, time.Parse reads as the same instant,
// and it accepts every time written exactly in the layout (time.Parse is
// laxer: one-digit hours, a comma before the milliseconds).
func FuzzParseJiraLayout(f *testing.F) {
	for _, s := range []string{
		"2026-01-01T10:00:00.000+0000", "2026-03-03T09:40:03.123+0100", "2024-02-29T23:59:59.999-1130",
		"2023-02-29T10:00:00.000+0000", "2026-04-31T10:00:00.000+0000", "2026-12-31T24:00:00.000+0000",
		"2026-01-01T10:60:00.000+0000", "2026-01-01T10:00:60.000+0000", "2026-00-01T10:00:00.000+0000",
		"2026-01-00T10:00:00.000+0000", "2026-01-01T10:00:00.000+2400", "2026-01-01T10:00:00.000+0060",
		"2026-01-01T10:00:00.000Z", "2026-01-01T10:00:00+0000", "2026-01-01 10:00:00.000+0000",
		"0000-01-01T00:00:00.000-2359", "2026-01-01T10:00:00.0a0+0000", "+026-01-01T10:00:00.000+0000",
	} {
		f.Add(s)
	}
	const layout = "2006-01-02T15:04:05.000-0700"
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseJiraLayout(s)
		want, err := time.Parse(layout, s)
		if ok {
			if err != nil || !got.Equal(want) || got != want.UTC() {
				t.Fatalf("parseJiraLayout(%q) = %v, time.Parse: %v, %v", s, got, want, err)
			}
			if b, _ := parseJiraLayout([]byte(s)); b != got {
				t.Fatalf("parseJiraLayout(%q) differs between string and []byte", s)
			}
			return
		}
		if err == nil && want.Format(layout) == s {
			t.Fatalf("parseJiraLayout(%q) refused a time time.Parse reads as %v", s, want)
		}
	})
}

// FuzzSLADate holds slaDate, which reads a DateDTO into its instant while
// decoding it, to what decoding the DTO's members and choosing among them
// afterwards gives: epochMillis first, then the jira string, then iso8601.
func FuzzSLADate(f *testing.F) {
	for _, s := range []string{
		`{"iso8601":"2015-10-09T11:45:23+0800","jira":"2015-10-09T11:45:23.000+0800","friendly":"Today 11:45 AM","epochMillis":1444362323000}`,
		`{"jira":"2026-01-01T10:00:00.000+0100"}`, `{"iso8601":"2026-07-06T18:02:13+0900"}`, `{"jira":"","iso8601":"2026-07-06T18:02:13Z"}`,
		`{"JIRA":"2026-01-01T10:00:00.000+0100","jira":null}`, `{"epochMillis":null,"jira":"2026-01-01T10:00:00.000\u002b0100"}`,
		`{"epochMillis":1.5}`, `{"epochMillis":"1"}`, `{"jira":5}`, `{"jira":"yesterday"}`, `null`, `{}`, `[]`, `"2026-01-01"`, `{"jira":`,
		`{"EpochMillis":-1,"epochmillis":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var members struct {
			EpochMillis *int64 `json:"epochMillis"`
			ISO8601     string `json:"iso8601"`
			Jira        string `json:"jira"`
		}
		wantErr := json.Unmarshal(doc, &members)
		var want time.Time
		var wantTimeErr error
		if members.EpochMillis != nil {
			want = time.UnixMilli(*members.EpochMillis).UTC()
		} else if s := members.Jira + members.ISO8601; s != "" {
			if members.Jira != "" {
				s = members.Jira
			}
			want, wantTimeErr = parseJiraTime(s)
		}
		var d slaDate
		if err := json.Unmarshal(doc, &d); (err != nil) != (wantErr != nil) {
			t.Fatalf("slaDate from %q: error %v, decoding its members: %v", doc, err, wantErr)
		} else if err != nil {
			return
		}
		got, gotTimeErr := d.time()
		if (gotTimeErr != nil) != (wantTimeErr != nil) || got != want {
			t.Fatalf("slaDate from %q = %v, %v; want %v, %v", doc, got, gotTimeErr, want, wantTimeErr)
		}
	})
}

// FuzzDecodeRating holds decodeRating, which reads a valid value where it
// lies, to the same rules over json.Unmarshal.
func FuzzDecodeRating(f *testing.F) {
	for _, s := range []string{`4`, `4.0`, `4.5`, `" 3 "`, `"x"`, `null`, `{"rating":5}`, `{"value":"2"}`, `{"rating":null,"value":3}`,
		`{"rating":1,"rating":6}`, `{"r\u0061ting":2}`, `{"Rating":2}`, `{}`, `[]`, `true`, `1e400`, `-1`, `{"rating":{"value":4}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		got, gotOK, gotErr := decodeRating(doc)
		if !json.Valid(doc) {
			return
		}
		want, wantOK, wantErr := decodeRatingByLibrary(doc)
		if got != want || gotOK != wantOK || (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("decodeRating(%s) = %d, %v, %v; through json.Unmarshal %d, %v, %v", doc, got, gotOK, gotErr, want, wantOK, wantErr)
		}
	})
}

func decodeRatingByLibrary(raw json.RawMessage) (int, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	var n float64
	switch raw[0] {
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return 0, false, err
		}
		for _, key := range []string{"rating", "value"} {
			if inner, ok := obj[key]; ok {
				return decodeRatingByLibrary(inner)
			}
		}
		return 0, false, errors.New("no rating")
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, err
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, false, err
		}
		n = v
	default:
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, false, err
		}
	}
	if n != math.Trunc(n) || n < 1 || n > 5 {
		return 0, false, errors.New("not a rating")
	}
	return int(n), true, nil
}
