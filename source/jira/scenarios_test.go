package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

var fixedStart = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func TestReconciliationDropsTicketsThatLeftScope(t *testing.T) {
	site := newSite(t, fakejira.Options{Seed: 61, Now: func() time.Time { return fixedStart }}, 300, nil)
	store := newLedgerStore(fixedStart.Add(-30 * 24 * time.Hour))
	pollOnce(t, site.source(t, nil), store)
	createdBefore := len(store.events)

	// The operator narrows the JQL; an hour later reconciliation runs.
	site.cfg.JQL = "project in (IT, HR)"
	site.clock.Advance(61 * time.Minute)
	site.srv.ResetCounts()
	pollOnce(t, site.source(t, nil), store)

	idOnly := 0
	for _, r := range site.srv.Requests() {
		if r.Endpoint == "search_jql" && strings.Contains(r.Query, "fields=id&") {
			idOnly++
		}
	}
	if idOnly != 1 {
		t.Errorf("%d id-only searches, want 1 reconciliation page", idOnly)
	}
	for _, tk := range store.tickets {
		if tk.Desk == "FAC" {
			t.Fatalf("ticket %s left the scope but is still tracked", tk.Key)
		}
	}
	if len(store.events) < createdBefore {
		t.Errorf("counted events went from %d to %d", createdBefore, len(store.events))
	}
	want := truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse))
	got := store.observed(site.clock.Now())
	for k := range want.Open {
		if k.Desk == "FAC" {
			delete(want.Open, k)
		}
	}
	for k, v := range want.Open {
		if got.Open[k] != v {
			t.Errorf("open[%+v] = %d, truth %d", k, got.Open[k], v)
		}
	}

	// The next poll is not due for reconciliation again.
	site.srv.ResetCounts()
	site.clock.Advance(2 * time.Minute)
	pollOnce(t, site.source(t, nil), store)
	if n := site.srv.Count("search_jql"); n != 1 {
		t.Errorf("poll after reconciliation sent %d searches, want 1", n)
	}
}

func TestMalformedTicketSkippedAndUnreadableRatingFetched(t *testing.T) {
	site := newSite(t, fakejira.Options{Seed: 71, Now: func() time.Time { return fixedStart }}, 0,
		func(c *Config) { c.JQL = "project in (IT, HR)" })
	rated := site.srv.CreateIssue(fakejira.NewIssue{Project: "IT", RequestType: "Get IT help", Priority: "High"})
	broken := site.srv.CreateIssue(fakejira.NewIssue{Project: "IT", RequestType: "Get IT help", Priority: "High"})
	healthy := site.srv.CreateIssue(fakejira.NewIssue{Project: "HR", RequestType: "Ask an HR question"})
	site.clock.Advance(time.Hour)
	for _, err := range []error{
		site.srv.Transition(rated, fakejira.StatusResolved),
		site.srv.Rate(rated, 3),
		site.srv.SetSatisfactionRaw(rated, json.RawMessage(`"three stars"`)),
		site.srv.SetSatisfactionRaw(broken, json.RawMessage(`{"stars":[3]}`)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	store := newLedgerStore(fixedStart.Add(-time.Hour))
	pollOnce(t, site.source(t, &logs), store)

	keys := map[string]ticket.Ticket{}
	for _, tk := range store.tickets {
		keys[tk.Key] = tk
	}
	if _, ok := keys[broken]; ok {
		t.Errorf("malformed ticket %s was delivered", broken)
	}
	if _, ok := keys[healthy]; !ok {
		t.Errorf("healthy ticket %s on the same page was lost", healthy)
	}
	if r := keys[rated].Satisfaction; r == nil || r.Value != 3 || r.At.IsZero() {
		t.Errorf("rating of %s = %+v, want 3 from the feedback endpoint", rated, r)
	}
	if n := site.srv.Count("sd_feedback"); n != 1 {
		t.Errorf("%d feedback requests, want 1 (only the unreadable rating)", n)
	}
	if store.skipped != 1 {
		t.Errorf("%d tickets reported skipped, want 1", store.skipped)
	}
	if !strings.Contains(logs.String(), broken) {
		t.Errorf("skip not logged with the ticket key:\n%s", logs.String())
	}
}

func TestCommentsFetchedOnlyWhileNoFirstResponse(t *testing.T) {
	tests := []struct {
		name         string
		deployment   fakejira.Deployment
		before       int // customer comments before the agent's answer
		after        int // customer comments after it
		wantRequests int
		props        fakejira.NoProperties // Data Center: how expanded comments without properties look
	}{
		{"cloud: answer within the embedded 20", fakejira.DeploymentCloud, 3, 30, 0, ""},
		{"cloud: answer after 25 customer comments", fakejira.DeploymentCloud, 25, 0, 1, ""},
		{"cloud: answer after 130 customer comments", fakejira.DeploymentCloud, 130, 5, 2, ""},
		{"cloud: no answer in 45 comments", fakejira.DeploymentCloud, 45, 0, 1, ""},
		{"data center: agent comment visibility read once", fakejira.DeploymentDataCenter, 2, 0, 1, fakejira.PropertiesEmptyList},
		{"data center: properties absent", fakejira.DeploymentDataCenter, 2, 0, 1, fakejira.PropertiesAbsent},
		{"data center: properties null", fakejira.DeploymentDataCenter, 2, 0, 1, fakejira.PropertiesNull},
		// The answer is on the first page of the re-read: later pages
		// cannot change the first response.
		{"data center: properties absent, 130 comments after the answer", fakejira.DeploymentDataCenter, 2, 130, 1, fakejira.PropertiesAbsent},
		{"data center: customers only", fakejira.DeploymentDataCenter, 5, 0, 0, fakejira.PropertiesAbsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newSite(t, fakejira.Options{Deployment: tt.deployment, Seed: 81, CommentProperties: tt.props, Now: func() time.Time { return fixedStart }}, 0,
				func(c *Config) { c.FirstResponse, c.JQL = FirstResponseComment, "project = IT" })
			key := site.srv.CreateIssue(fakejira.NewIssue{Project: "IT", RequestType: "Get IT help", SLAGoals: map[string]time.Duration{}})
			site.clock.Advance(time.Minute)
			if err := site.srv.AddComments(key, tt.before, fakejira.RoleCustomer, true); err != nil {
				t.Fatal(err)
			}
			site.clock.Advance(time.Minute)
			if tt.name != "cloud: no answer in 45 comments" && !strings.Contains(tt.name, "customers only") {
				// An internal note first: it must not count.
				if err := site.srv.AddComment(key, fakejira.RoleAgent, false); err != nil {
					t.Fatal(err)
				}
				site.clock.Advance(time.Minute)
				if err := site.srv.AddComment(key, fakejira.RoleAgent, true); err != nil {
					t.Fatal(err)
				}
			}
			site.clock.Advance(time.Minute)
			if err := site.srv.AddComments(key, tt.after, fakejira.RoleCustomer, true); err != nil {
				t.Fatal(err)
			}
			store := newLedgerStore(fixedStart.Add(-time.Hour))
			pollOnce(t, site.source(t, nil), store)
			if n := site.srv.Count("comment"); n != tt.wantRequests {
				t.Errorf("%d comment requests, want %d", n, tt.wantRequests)
			}
			compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, "")))
		})
	}
}

func TestCheckAgainstFake(t *testing.T) {
	site := newSite(t, fakejira.Options{Seed: 91, ScopedToken: "scoped-token-value", Now: func() time.Time { return fixedStart }}, 120, nil)

	var out bytes.Buffer
	report, err := site.source(t, nil).checkTo(context.Background(), &out)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	text := out.String()
	for _, want := range []string{"deployment:      cloud", "America/New_York", "jql matches:     about", "sla ", "satisfaction ",
		"request_type ", `first response:  sla "Time to first response"`} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if report.SampledTickets == 0 || report.TicketsWithSLA == 0 || report.TicketsWithRating == 0 {
		t.Errorf("sample saw nothing: %+v", report)
	}

	// A scoped token against the site URL: the error says where to go.
	site.httpCfg = promconfig.HTTPClientConfig{BasicAuth: &promconfig.BasicAuth{Username: fakejira.DefaultEmail, Password: "scoped-token-value"}}
	err = site.source(t, nil).Check(context.Background(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "https://api.atlassian.com/ex/jira/<cloudId>") {
		t.Fatalf("scoped token on the site URL: error %v", err)
	}
	if strings.Contains(err.Error(), "scoped-token-value") {
		t.Fatalf("error leaks the token: %v", err)
	}
	site.cfg.URL = site.srv.GatewayURL()
	if err := site.source(t, nil).Check(context.Background(), io.Discard); err != nil {
		t.Fatalf("scoped token through the gateway: %v", err)
	}
}

func TestSecretsStayOutOfLogsAndErrors(t *testing.T) {
	const secret = "hunter2-secret-token"
	site := newSite(t, fakejira.Options{Seed: 95, Now: func() time.Time { return fixedStart }}, 30, nil)
	site.httpCfg = promconfig.HTTPClientConfig{BasicAuth: &promconfig.BasicAuth{Username: fakejira.DefaultEmail, Password: secret}}
	var logs bytes.Buffer
	store := newLedgerStore(fixedStart.Add(-time.Hour))
	err := site.source(t, &logs).Poll(context.Background(), store.horizon, nil, store.emit)
	if api.StatusCode(err) != 401 {
		t.Fatalf("error = %v, want a 401", err)
	}
	metrics, _ := testutil.CollectAndFormat(site.reg, expfmt.TypeTextPlain, "servicedesk_api_requests_total")
	for what, text := range map[string]string{"error": err.Error(), "logs": logs.String(), "metrics": string(metrics)} {
		if strings.Contains(text, secret) {
			t.Errorf("%s contain the secret: %s", what, text)
		}
	}
}

func TestDataCenterLongChangelogReadWhole(t *testing.T) {
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentDataCenter, Seed: 97, Now: func() time.Time { return fixedStart }}, 0,
		func(c *Config) { c.JQL = "project = IT" })
	busy := site.srv.CreateIssue(fakejira.NewIssue{Project: "IT", RequestType: "Get IT help"})
	quiet := site.srv.CreateIssue(fakejira.NewIssue{Project: "IT", RequestType: "Get IT help"})
	for range 70 { // 140 histories: more than the 100 search embeds
		site.clock.Advance(time.Minute)
		for _, status := range []string{fakejira.StatusResolved, fakejira.StatusInProgress} {
			if err := site.srv.Transition(busy, status); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := site.srv.Transition(quiet, fakejira.StatusResolved); err != nil {
		t.Fatal(err)
	}
	store := newLedgerStore(fixedStart.Add(-time.Hour))
	pollOnce(t, site.source(t, nil), store)
	if n := site.srv.Count("issue"); n != 1 {
		t.Errorf("%d issue requests, want 1 (only the ticket whose changelog overflowed)", n)
	}
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))
}

func TestCheckDataCenter(t *testing.T) {
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentDataCenter, Seed: 99, TimeZone: "Europe/Berlin",
		Now: func() time.Time { return fixedStart }}, 80, func(c *Config) { c.FirstResponse = FirstResponseComment })
	report, err := site.source(t, nil).checkTo(context.Background(), io.Discard)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if report.Deployment != DeploymentDataCenter || report.TimeZone != "Europe/Berlin" || report.MatchingApproximately ||
		report.MatchingTickets != site.srv.Len() || report.FirstResponseMode != "comment" || len(report.Fields) < 4 {
		t.Errorf("report %+v", report)
	}
	if n := site.srv.Count("approximate_count"); n != 0 {
		t.Errorf("Data Center check used approximate-count %d times", n)
	}
}
