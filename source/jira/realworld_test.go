package jira

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// realWorld reads a hand-made payload of a shape seen on real sites (see
// testdata/realworld/README.md).
func realWorld(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "realworld", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

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
