package rt

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// The samples are what the real RT 5.0.3 answered, recorded by
// internal/rtserver (go test ./internal/rtserver -run TestRequestTracker
// -update rewrites them; REST2.md says what each shows). These tests
// decode every shape the source reads from them, the ugly ones included.
const samplesDir = "../../internal/rtserver/testdata/rest2"

type sample struct {
	Request string          `json:"request"`
	Status  int             `json:"status"`
	Body    json.RawMessage `json:"body"`
}

func loadSample(t testing.TB, name string) sample {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var s sample
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func sampleItems(t testing.TB, name string) []json.RawMessage {
	t.Helper()
	var c collection
	if err := json.Unmarshal(loadSample(t, name).Body, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c.Items
}

// scenarioConfig describes the recorded instance: its queues' lifecycles.
func scenarioConfig() Config {
	cfg := DefaultConfig()
	cfg.URL = "http://127.0.0.1:9"
	cfg.Query = "id > 0"
	cfg.Lifecycles = map[string]Lifecycle{"facilities": {
		Initial: []string{"reported"}, Active: []string{"assigned", "waiting"}, Inactive: []string{"done", "cancelled"}}}
	return cfg
}

func testSource(t testing.TB, cfg Config, segments config.Segments, opts ...api.ClientOption) *Source {
	t.Helper()
	s, err := New("rt", cfg, promconfig.HTTPClientConfig{}, segments, source.Env{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reversed re-encodes a JSON object with its keys in the opposite order:
// RT's key order is Perl's hash order, different on every answer, and the
// samples hold only one of them (sorted).
func reversed(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	var keys []string
	vals := map[string]json.RawMessage{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		vals[tok.(string)] = v
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i := len(keys) - 1; i >= 0; i-- {
		k, _ := json.Marshal(keys[i])
		b.Write(k)
		b.WriteByte(':')
		b.Write(vals[keys[i]])
		if i > 0 {
			b.WriteByte(',')
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func TestRTDecodeTicketPages(t *testing.T) {
	src := testSource(t, scenarioConfig(), config.Segments{})
	tickets := siteTickets{src: src, st: &site{}}
	seen := map[string]bool{}
	for _, name := range []string{"tickets-page-1", "tickets-page-2", "tickets-page-3-short"} {
		for _, raw := range sampleItems(t, name) {
			for _, shape := range []json.RawMessage{raw, reversed(t, raw)} {
				p, id, err := tickets.Decode(shape, nil)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				tk := p.t
				if id <= 0 || tk.ID == "" || !tk.StatusCategory.Valid() || tk.Created.IsZero() || tk.Updated.Before(tk.Created) {
					t.Errorf("%s: ticket %d decoded to %+v", name, id, tk)
				}
				if tk.Desk == "" || tk.RequestType != tk.Desk || tk.Priority != "" {
					t.Errorf("%s: ticket %d: desk %q request type %q priority %q (no Priority field asked: none)", name, id, tk.Desk, tk.RequestType, tk.Priority)
				}
				if (tk.StatusCategory == ticket.CategoryDone) != !tk.ResolvedAt.IsZero() {
					t.Errorf("%s: ticket %d %s has resolved at %v", name, id, tk.Status, tk.ResolvedAt)
				}
				seen[tk.Status] = true
			}
		}
	}
	// The statuses the recorded 48 tickets are in, of both lifecycles.
	for _, status := range []string{"new", "open", "resolved", "rejected", "assigned", "waiting", "done", "cancelled"} {
		if !seen[status] {
			t.Errorf("no ticket in status %s in the samples: the decode test covers less than it claims", status)
		}
	}

	p, _, err := tickets.Decode(sampleItems(t, "tickets-page-1")[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	want := ticket.Ticket{ID: "1", Key: "1", Desk: "Facilities", RequestType: "Facilities", Reporter: "customer08",
		Status: "waiting", StatusCategory: ticket.CategoryIndeterminate,
		Created: time.Date(2026, 10, 18, 22, 9, 20, 0, time.UTC), Updated: time.Date(2026, 10, 19, 8, 35, 39, 0, time.UTC)}
	if !equalTicket(p.t, want) || !p.requestors["customer08"] {
		t.Errorf("ticket 1 decoded to %+v (requestors %v), want %+v", p.t, p.requestors, want)
	}
}

func equalTicket(a, b ticket.Ticket) bool {
	return a.ID == b.ID && a.Key == b.Key && a.Desk == b.Desk && a.RequestType == b.RequestType && a.Priority == b.Priority &&
		a.Reporter == b.Reporter && a.CustomerGroup == b.CustomerGroup && a.Team == b.Team && a.Assigned == b.Assigned &&
		a.Status == b.Status && a.StatusCategory == b.StatusCategory && a.Created.Equal(b.Created) && a.Updated.Equal(b.Updated) &&
		a.ResolvedAt.Equal(b.ResolvedAt)
}

// A ticket record (/ticket/{id}) differs from a page's item: the id is a
// number, the queue has no fields, a NULL date has no key. The source
// reads pages only, but the decoding must not depend on the form.
func TestRTDecodeTicketRecords(t *testing.T) {
	for _, name := range []string{"ticket-reopened", "ticket-unanswered-followed-up", "ticket-custom-lifecycle", "write-ticket-after-reopen"} {
		var rt restTicket
		if err := json.Unmarshal(loadSample(t, name).Body, &rt); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rt.ID <= 0 || rt.Created.IsZero() || rt.Status == "" || !rt.Priority.Set || rt.Owner.Name != nobody {
			t.Errorf("%s decoded to %+v", name, rt)
		}
		_, err := testSource(t, scenarioConfig(), config.Segments{}).decodeTicket(rt)
		if err == nil || !strings.Contains(err.Error(), "SeeQueue") {
			t.Errorf("%s: a queue without its lifecycle gave %v, want a hint at SeeQueue", name, err)
		}
	}
	var unanswered restTicket
	if err := json.Unmarshal(loadSample(t, "ticket-unanswered-followed-up").Body, &unanswered); err != nil {
		t.Fatal(err)
	}
	if !unanswered.Resolved.IsZero() {
		t.Errorf("1970-01-01 or a missing key is unset, got %v", unanswered.Resolved)
	}
}

func TestRTDecodeTicketLabelsAndSegments(t *testing.T) {
	cfg := scenarioConfig()
	cfg.RequestTypeField = "Category"
	cfg.Priority = []PriorityRange{{Name: "P3", Min: 0}, {Name: "P1", Min: 80}, {Name: "P2", Min: 50}}
	page := []byte(`{"id": "7", "type": "ticket", "Status": "open",
		"Queue": {"id": "3", "type": "queue", "Name": "IT", "Lifecycle": "default"},
		"Owner": {"id": "alice", "type": "user"},
		"Requestor": [{"id": "zoe", "type": "user", "Organization": ""}, {"id": "bob", "type": "user", "Organization": "Sales"},
		              {"id": "carl", "type": "user", "Organization": "Finance"}],
		"Created": "2026-10-01T10:00:00Z", "LastUpdated": "2026-10-02T10:00:00Z", "Resolved": "1970-01-01T00:00:00Z",
		"Priority": "65",
		"CustomFields": [{"id": "3", "name": "Category", "values": ["", "Hardware"]}, {"id": "9", "name": "Team", "values": ["Workplace"]}]}`)
	tests := []struct {
		name                  string
		segments              config.Segments
		wantGroup, wantTeam   string
		wantOrganizationField bool
	}{
		{"none", config.Segments{}, "", "", false},
		{"organization and queue", config.Segments{CustomerGroup: &config.SegmentField{Field: SegmentRequestorOrganization},
			Team: &config.SegmentField{Field: SegmentQueue}}, "Sales", "IT", true},
		{"spelt otherwise", config.Segments{CustomerGroup: &config.SegmentField{Field: " requestor.organization"},
			Team: &config.SegmentField{Field: "QUEUE"}}, "Sales", "IT", true},
		{"custom fields", config.Segments{CustomerGroup: &config.SegmentField{Field: "Category"},
			Team: &config.SegmentField{Field: "team"}}, "Hardware", "Workplace", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := testSource(t, cfg, tt.segments)
			p, _, err := siteTickets{src: src, st: &site{}}.Decode(page, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := ticket.Ticket{ID: "7", Key: "7", Desk: "IT", RequestType: "Hardware", Priority: "P2", Reporter: "bob",
				CustomerGroup: tt.wantGroup, Team: tt.wantTeam, Assigned: true, Status: "open", StatusCategory: ticket.CategoryIndeterminate,
				Created: time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC), Updated: time.Date(2026, 10, 2, 10, 0, 0, 0, time.UTC)}
			if !equalTicket(p.t, want) {
				t.Errorf("got  %+v\nwant %+v", p.t, want)
			}
			fields := src.ticketFields()
			if got := fields.Get("fields[Requestor]") == "Organization"; got != tt.wantOrganizationField {
				t.Errorf("fields[Requestor] = %q", fields.Get("fields[Requestor]"))
			}
			if got := strings.Contains(fields.Get("fields"), "CustomFields"); got != true {
				t.Errorf("fields %q lack CustomFields although request_type_field is set", fields.Get("fields"))
			}
		})
	}
}

func TestRTDecodeTicketProblemsNameTheTicket(t *testing.T) {
	src := testSource(t, scenarioConfig(), config.Segments{})
	tests := []struct {
		name, item, want string
		id               int64
	}{
		{"unknown lifecycle", `{"id": "5", "Status": "new", "Queue": {"Name": "Legal", "Lifecycle": "legal"}, "Created": "2026-10-01T10:00:00Z"}`,
			`ticket 5: queue "Legal" uses lifecycle "legal", which rt.lifecycles does not describe`, 5},
		{"unknown status", `{"id": "6", "Status": "triage", "Queue": {"Name": "IT", "Lifecycle": "default"}, "Created": "2026-10-01T10:00:00Z"}`,
			`ticket 6: status "triage" is not in lifecycle "default": add it to rt.lifecycles.default`, 6},
		{"no creation time", `{"id": "8", "Status": "new", "Queue": {"Name": "IT", "Lifecycle": "default"}, "Created": "1970-01-01T00:00:00Z"}`,
			`ticket 8: no creation time`, 8},
		{"unreadable date", `{"id": 9, "Status": "new", "Queue": {"Name": "IT", "Lifecycle": "default"}, "Created": "yesterday"}`,
			`ticket 9: `, 9},
		{"unreadable priority", `{"id": "10", "Status": "new", "Queue": {"Name": "IT", "Lifecycle": "default"}, "Created": "2026-10-01T10:00:00Z", "Priority": "high"}`,
			`ticket 10: `, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, id, err := siteTickets{src: src, st: &site{}}.Decode([]byte(tt.item), nil)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || id != tt.id {
				t.Errorf("Decode = id %d, %v; want id %d and an error starting %q", id, err, tt.id, tt.want)
			}
		})
	}
}

// Transactions carry "type" (the resource) and "Type" (what happened):
// each must land in its own field whatever the key order.
func TestRTDecodeTransactionsInEitherKeyOrder(t *testing.T) {
	names := []string{"transactions-since-horizon-page-1", "transactions-since-horizon-page-2", "transactions-without-emailrecord",
		"transactions-keyset-id", "transactions-or-objectid", "transactions-customfield-by-field-id", "transactions-by-rt-system",
		"ticket-reopened-history", "ticket-reopened-history-as-superuser", "ticket-unanswered-followed-up-history",
		"write-history-after-correspond-and-resolve", "transactions-since-horizon-empty-page"}
	known := []string{"Create", "Correspond", "Comment", "Status", "CustomField", "EmailRecord"}
	for _, name := range names {
		items := sampleItems(t, name)
		for _, raw := range items {
			var a, b restTxn
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := json.Unmarshal(reversed(t, raw), &b); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if a != b || a.Resource != "transaction" || !slices.Contains(known, a.Type) || a.ID <= 0 || a.Created.IsZero() || a.Creator.Name == "" {
				t.Errorf("%s: %s decoded to %+v, reversed to %+v", name, raw, a, b)
			}
		}
	}
	var page collection
	if err := json.Unmarshal(loadSample(t, "transactions-since-horizon-page-1").Body, &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != nil || page.PerPage != 20 || page.Count != 20 {
		t.Errorf("a non-superuser's page: total %v, per_page %d, count %d; want null, 20, 20", page.Total, page.PerPage, page.Count)
	}
}

// historyOf decodes a recorded history into a ticket's facts.
func historyOf(t *testing.T, name string, p *pending, privileged map[string]bool) {
	t.Helper()
	var txns []restTxn
	for _, raw := range sampleItems(t, name) {
		var x restTxn
		if err := json.Unmarshal(raw, &x); err != nil {
			t.Fatal(err)
		}
		txns = append(txns, x)
	}
	src := testSource(t, scenarioConfig(), config.Segments{})
	src.applyHistory(p, txns, &site{satisfactionIDs: []int64{2}}, privileged)
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRTHistoryOfTicketReopenedByMail(t *testing.T) {
	p := &pending{id: 4, lifecycle: DefaultLifecycle.categories(), requestors: map[string]bool{"customer06": true},
		t: ticket.Ticket{ID: "4", Created: at("2026-10-22T02:09:08Z"), Updated: at("2026-10-28T05:10:41Z"), Status: "resolved", StatusCategory: ticket.CategoryDone}}
	// The exporter's answer is a non-superuser's: no EmailRecord rows.
	historyOf(t, "ticket-reopened-history", p, map[string]bool{"dmitri": true})
	new, ind, done := ticket.CategoryNew, ticket.CategoryIndeterminate, ticket.CategoryDone
	wantTransitions := []ticket.Transition{
		{At: at("2026-10-22T03:02:57Z"), From: new, To: ind, FromStatus: "new", ToStatus: "open"},
		{At: at("2026-10-22T16:22:05Z"), From: ind, To: done, FromStatus: "open", ToStatus: "resolved"},
		// RT_System's reopen after the requestor's mail.
		{At: at("2026-10-26T03:48:03Z"), From: done, To: ind, FromStatus: "resolved", ToStatus: "open"},
		{At: at("2026-10-27T07:55:49Z"), From: ind, To: done, FromStatus: "open", ToStatus: "resolved"},
	}
	if !slices.Equal(p.t.Transitions, wantTransitions) {
		t.Errorf("transitions\n%+v\nwant\n%+v", p.t.Transitions, wantTransitions)
	}
	agent := func(s string) ticket.Comment {
		return ticket.Comment{At: at(s), Author: ticket.AuthorAgent, Public: true}
	}
	wantComments := []ticket.Comment{agent("2026-10-22T03:02:57Z"), agent("2026-10-22T16:22:05Z"),
		{At: at("2026-10-26T03:48:03Z"), Author: ticket.AuthorReporter, Public: true},
		agent("2026-10-27T06:27:23Z"), agent("2026-10-27T07:55:49Z")}
	if !slices.Equal(p.t.Comments, wantComments) {
		t.Errorf("comments\n%+v\nwant\n%+v", p.t.Comments, wantComments)
	}
	if r := p.t.Satisfaction; r == nil || r.Value != 5 || !r.At.Equal(at("2026-10-28T05:10:41Z")) {
		t.Errorf("satisfaction %+v, want 5 at the CustomField change", r)
	}
	kinds := map[ticket.EventKind]int{}
	for _, e := range ticket.Events(p.t, p.t.Created) {
		kinds[e.Kind]++
	}
	if want := map[ticket.EventKind]int{ticket.EventCreated: 1, ticket.EventResolved: 2, ticket.EventReopened: 1,
		ticket.EventFirstResponse: 1, ticket.EventSatisfaction: 1}; !mapsEqualKinds(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
}

func mapsEqualKinds(a, b map[ticket.EventKind]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Ticket 2 was never answered: an agent's internal comment, then the
// requestor's follow-up, which RT answered by opening the ticket itself.
func TestRTHistoryOfUnansweredTicket(t *testing.T) {
	p := &pending{id: 2, lifecycle: DefaultLifecycle.categories(), requestors: map[string]bool{"customer01": true},
		t: ticket.Ticket{ID: "2", Created: at("2026-10-20T06:47:55Z"), Status: "open", StatusCategory: ticket.CategoryIndeterminate}}
	historyOf(t, "ticket-unanswered-followed-up-history", p, map[string]bool{"chandra": true})
	want := []ticket.Comment{
		{At: at("2026-10-21T07:24:14Z"), Author: ticket.AuthorAgent, Public: false},
		{At: at("2026-10-22T01:21:23Z"), Author: ticket.AuthorReporter, Public: true},
	}
	if !slices.Equal(p.t.Comments, want) {
		t.Errorf("comments %+v, want %+v (the EmailRecord is no comment)", p.t.Comments, want)
	}
	if _, ok := ticket.FirstResponse(p.t); ok || !ticket.CurrentState(p.t).AwaitingFirstResponse {
		t.Error("an internal note and the requestor's own reply answered the ticket")
	}
	if len(p.t.Transitions) != 1 || p.t.Transitions[0].ToStatus != "open" {
		t.Errorf("transitions %+v", p.t.Transitions)
	}
}

func TestRTRatingsFromCustomFieldChanges(t *testing.T) {
	var txns []restTxn
	for _, raw := range sampleItems(t, "transactions-customfield-by-field-id") {
		var x restTxn
		if err := json.Unmarshal(raw, &x); err != nil {
			t.Fatal(err)
		}
		txns = append(txns, x)
	}
	reg := prometheus.NewRegistry()
	src, err := New("rt", scenarioConfig(), promconfig.HTTPClientConfig{}, config.Segments{}, source.Env{API: api.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	byTicket := map[int64][]restTxn{}
	for _, x := range txns {
		byTicket[int64(x.ObjectID)] = append(byTicket[int64(x.ObjectID)], x)
	}
	p := &pending{id: 3, lifecycle: DefaultLifecycle.categories(), requestors: map[string]bool{}}
	src.applyHistory(p, byTicket[3], &site{satisfactionIDs: []int64{2}}, nil)
	// Ticket 3 was rated 1, then 5: the current rating is the 5, at its own
	// time, so it is a new rating and the 1 stays counted.
	if r := p.t.Satisfaction; r == nil || r.Value != 5 || !r.At.Equal(at("2026-10-25T05:55:23Z")) {
		t.Errorf("rating %+v, want 5 at 2026-10-25T05:55:23Z", r)
	}

	tests := []struct {
		value string
		want  *ticket.Rating
	}{
		{"4", &ticket.Rating{Value: 4, At: at("2026-10-26T00:00:00Z")}},
		{"", nil},   // cleared
		{"7", nil},  // not a rating
		{"ok", nil}, // not a number
	}
	for _, tt := range tests {
		p := &pending{id: 9, lifecycle: DefaultLifecycle.categories(), requestors: map[string]bool{}}
		src.applyHistory(p, []restTxn{
			{ID: 1, Type: "CustomField", Field: "2", NewValue: "3", Created: restTime{at("2026-10-25T00:00:00Z")}},
			{ID: 2, Type: "CustomField", Field: "5", NewValue: "1", Created: restTime{at("2026-10-25T12:00:00Z")}}, // another field
			{ID: 3, Type: "CustomField", Field: "2", OldValue: "3", NewValue: tt.value, Created: restTime{at("2026-10-26T00:00:00Z")}},
		}, &site{satisfactionIDs: []int64{2}}, nil)
		if got := p.t.Satisfaction; (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("last value %q: rating %+v, want %+v", tt.value, got, tt.want)
		}
	}
	// A status no lifecycle has is left out of the timeline; both are counted.
	p = &pending{id: 9, lifecycle: DefaultLifecycle.categories(), requestors: map[string]bool{}}
	src.applyHistory(p, []restTxn{
		{ID: 1, Type: "Status", OldValue: "new", NewValue: "triage", Created: restTime{at("2026-10-25T00:00:00Z")}},
		{ID: 2, Type: "Status", OldValue: "new", NewValue: "open", Created: restTime{at("2026-10-25T01:00:00Z")}},
	}, &site{}, nil)
	if len(p.t.Transitions) != 1 || p.t.Transitions[0].ToStatus != "open" {
		t.Errorf("transitions %+v, want only new → open", p.t.Transitions)
	}
	for reason, want := range map[string]float64{reasonRatingInvalid: 2, reasonStatusUnmapped: 1} {
		if got := skippedValues(t, reg, reason); got != want {
			t.Errorf("servicedesk_api_values_skipped_total{reason=%q} = %g, want %g", reason, got, want)
		}
	}
}

// skippedValues reads servicedesk_api_values_skipped_total of one reason.
func skippedValues(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if f.GetName() == "servicedesk_api_values_skipped_total" && labels["source"] == "rt" && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestRTAuthorsOfReplies(t *testing.T) {
	cfg := scenarioConfig()
	cfg.AutomationUsers = []string{"monitoring"}
	src := testSource(t, cfg, config.Segments{})
	p := &pending{id: 1, lifecycle: DefaultLifecycle.categories(), requestors: map[string]bool{"erin": true, "carl": true}}
	privileged := map[string]bool{"alice": true, "erin": true}
	tests := []struct {
		name string
		want ticket.Author
	}{
		{"alice", ticket.AuthorAgent},          // privileged, not a requestor
		{"erin", ticket.AuthorReporter},        // privileged, but a requestor of this ticket
		{"carl", ticket.AuthorReporter},        // the requestor
		{"dora", ticket.AuthorReporter},        // unprivileged, not a requestor: a Cc, the customer's side
		{"RT_System", ticket.AuthorAutomation}, // RT itself
		{"monitoring", ticket.AuthorAutomation},
	}
	for _, tt := range tests {
		if got := src.author(p, tt.name, privileged); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	batch := map[int64]*pending{1: p}
	history := map[int64][]restTxn{1: {
		{Type: "Correspond", Creator: userRef{Name: "alice"}}, {Type: "Comment", Creator: userRef{Name: "dora"}},
		{Type: "Correspond", Creator: userRef{Name: "erin"}}, {Type: "Correspond", Creator: userRef{Name: "RT_System"}},
		{Type: "Status", Creator: userRef{Name: "bob"}}, {Type: "Correspond", Creator: userRef{Name: "monitoring"}},
		{Type: "Correspond", Creator: userRef{Name: "alice"}},
	}}
	if got := src.toClassify(batch, history); !slices.Equal(got, []string{"alice", "dora"}) {
		t.Errorf("looked up %v, want only the non-requestors who wrote: [alice dora]", got)
	}
}

func TestRTDecodeUsers(t *testing.T) {
	tests := []struct {
		name       string
		privileged bool
	}{
		{"user-agent-as-nonsuperuser", true},
		{"user-customer-as-nonsuperuser", false},
		{"user-mail-customer-as-nonsuperuser", false},
		{"user-rt-system-as-nonsuperuser", false},
		{"user-self", true},
		{"user-agent", true},
	}
	for _, tt := range tests {
		var u restUser
		if err := json.Unmarshal(loadSample(t, tt.name).Body, &u); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := u.Privileged.Set && u.Privileged.Value == 1; got != tt.privileged || u.Name == "" {
			t.Errorf("%s: %+v, want privileged %t", tt.name, u, tt.privileged)
		}
	}
}

func TestRTDecodeDiscoveryAnswers(t *testing.T) {
	var empty collection
	if err := json.Unmarshal(loadSample(t, "customfields").Body, &empty); err != nil || len(empty.Items) != 0 {
		t.Errorf(`"pages": 0.0 of an empty result: %v, %d items`, err, len(empty.Items))
	}
	items := sampleItems(t, "customfields-query-lookuptype")
	var cf restCustomField
	if err := json.Unmarshal(items[0], &cf); err != nil || cf.ID != 2 || cf.Name != "Satisfaction" {
		t.Errorf("custom field %+v, %v", cf, err)
	}
	for name, want := range map[string]string{"queue-default-lifecycle": "default", "queue-custom-lifecycle": "facilities"} {
		var q restQueue
		if err := json.Unmarshal(loadSample(t, name).Body, &q); err != nil || q.Lifecycle != want || q.Name == "" {
			t.Errorf("%s: %+v, %v", name, q, err)
		}
	}
	var info restRT
	if err := json.Unmarshal(loadSample(t, "rt").Body, &info); err != nil || !strings.HasPrefix(info.Version, "5.0.3") || len(info.Plugins) != 0 {
		t.Errorf("rt: %+v, %v (no Plugins for a non-superuser)", info, err)
	}
	for _, name := range []string{"error-400-ticketsql", "error-400-ticketsql-syntax", "error-400-transactionsql", "error-401-bad-token",
		"error-401-bad-password", "error-401-no-credentials", "error-404-user", "error-404-ticket", "group-agents-members", "tickets-query-in"} {
		s := loadSample(t, name)
		if msgs := api.MessageOnly(s.Body); len(msgs) != 1 || s.Status < 400 {
			t.Errorf("%s: %d %v", name, s.Status, msgs)
		}
	}
}

// replay answers each request with the next recorded sample, and keeps
// the queries it was asked.
type replay struct {
	samples []sample
	queries []url.Values
}

func (r *replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	n := len(r.queries)
	r.queries = append(r.queries, req.URL.Query())
	if n >= len(r.samples) {
		http.Error(w, `{"message": "no more samples"}`, http.StatusTeapot)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.samples[n].Status)
	_, _ = w.Write(r.samples[n].Body)
}

// The ticket pager goes on by keyset after a full page and stops at the
// short one; the first page's total is the walk's.
func TestRTTicketPagerKeysetAndShortPage(t *testing.T) {
	r := &replay{samples: []sample{loadSample(t, "tickets-page-1"), loadSample(t, "tickets-page-3-short")}}
	srv := httptest.NewServer(r)
	defer srv.Close()
	cfg := scenarioConfig()
	cfg.URL = srv.URL
	src := testSource(t, cfg, config.Segments{})
	pager := siteTickets{src: src, st: &site{}, sql: newTicketSQL(cfg, time.UTC)}.Pages(api.Query{Horizon: at("2026-10-01T00:00:00Z")})
	first, err := pager.Next(context.Background())
	if err != nil || first.Last || len(first.Items) != 17 || first.Matched != 48 {
		t.Fatalf("first page: last %t, %d items, matched %d, %v", first.Last, len(first.Items), first.Matched, err)
	}
	second, err := pager.Next(context.Background())
	if err != nil || !second.Last || len(second.Items) != 14 || second.Matched != 48 {
		t.Fatalf("second page: last %t, %d items, matched %d, %v", second.Last, len(second.Items), second.Matched, err)
	}
	want := "(id > 0) AND (LastUpdated >= '2026-10-01 00:00:00' OR Status = '__Active__')"
	if q := r.queries[0]; q.Get("query") != want || q.Get("orderby") != "id" || q.Get("per_page") != "100" || q.Get("page") != "" {
		t.Errorf("first query %v", q)
	}
	if q := r.queries[1].Get("query"); q != want+" AND id > 17" {
		t.Errorf("second query %q, want the keyset after ticket 17", q)
	}
}
