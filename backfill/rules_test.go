package backfill_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/backfill"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

var update = flag.Bool("update", false, "rewrite testdata/*.om from the current output")

// memStore is a store as a backfill reads it.
type memStore struct {
	order    map[string][]string
	horizons map[string]time.Time
	tickets  map[string][]store.Ticket
}

func (m *memStore) LabelOrder() (map[string][]string, error) { return m.order, nil }
func (m *memStore) Horizons() map[string]time.Time           { return m.horizons }
func (m *memStore) Scan(fn func(string, store.Ticket) error) error {
	for _, source := range []string{"jira", "other"} {
		for _, t := range m.tickets[source] {
			if err := fn(source, t); err != nil {
				return err
			}
		}
	}
	return nil
}

var (
	t0      = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
	horizon = t0.Add(-24 * time.Hour)
	high    = ticket.Labels{Desk: `Facilities "East" \ 2`, RequestType: "Repair", Priority: "High"}
	low     = ticket.Labels{Desk: `Facilities "East" \ 2`, RequestType: "Repair", Priority: "Low"}
	urgent  = ticket.Labels{Desk: "IT", RequestType: "Access", Priority: "Urgent"}
)

func categories(pairs ...any) []ticket.CategoryAt {
	var out []ticket.CategoryAt
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, ticket.CategoryAt{At: pairs[i].(time.Time), Category: pairs[i+1].(ticket.Category)})
	}
	return out
}

// rulesStore holds one ticket per rule the docs state:
//
//   - answered: created, answered after 30m, in progress after 1h, resolved
//     after 3h at a lower priority: awaiting until the answer, open under
//     the labels of its latest counted event (High) until it is resolved.
//   - moved: its priority changed after creation without an event: High
//     until its last update, Urgent's desk from then on.
//   - left: open, then it left the scope (gone): counted until its last
//     update, not after.
//   - old: created before the horizon and answered then, still open: no
//     created event, not awaiting, the oldest open ticket of its desk.
//   - other: a source not selected.
func rulesStore() *memStore {
	return &memStore{
		order: map[string][]string{
			"desk": {high.Desk, "IT"}, "request_type": {"Repair", "Access"}, "priority": {"High", "Low", "Urgent"},
		},
		horizons: map[string]time.Time{"jira": horizon, "other": horizon.Add(-time.Hour)},
		tickets: map[string][]store.Ticket{
			"jira": {
				{
					ID: "answered", Updated: t0.Add(3 * time.Hour), Labels: low,
					History: ticket.History{Created: t0, FirstResponse: t0.Add(30 * time.Minute),
						Categories: categories(t0, ticket.CategoryNew, t0.Add(time.Hour), ticket.CategoryIndeterminate, t0.Add(3*time.Hour), ticket.CategoryDone)},
					Ledger: []store.Entry{
						{ID: "created", Kind: ticket.EventCreated, At: t0, Labels: high},
						{ID: "first_response", Kind: ticket.EventFirstResponse, At: t0.Add(30 * time.Minute), Labels: high, Value: 1800},
						{ID: "resolved/1", Kind: ticket.EventResolved, At: t0.Add(3 * time.Hour), Labels: low, Value: 10800},
						{ID: "satisfaction/4/1", Kind: ticket.EventSatisfaction, At: t0.Add(3 * time.Hour), Labels: low, Value: 4},
						{ID: "sla/resolve/1", Kind: ticket.EventSLACycle, At: t0.Add(3 * time.Hour), Labels: low, SLA: "Time to resolution", Breached: true},
					},
				},
				{
					ID: "moved", Updated: t0.Add(2 * time.Hour), Labels: urgent,
					History: ticket.History{Created: t0.Add(10 * time.Minute), Categories: categories(t0.Add(10*time.Minute), ticket.CategoryNew)},
					Ledger:  []store.Entry{{ID: "created", Kind: ticket.EventCreated, At: t0.Add(10 * time.Minute), Labels: high}},
				},
				{
					ID: "left", Updated: t0.Add(time.Hour), Labels: high, Gone: true,
					History: ticket.History{Created: t0.Add(-2 * time.Hour), Categories: categories(t0.Add(-2*time.Hour), ticket.CategoryNew)},
					Ledger:  []store.Entry{{ID: "created", Kind: ticket.EventCreated, At: t0.Add(-2 * time.Hour), Labels: high}},
				},
				{
					ID: "old", Updated: t0.Add(-30 * time.Hour), Labels: urgent,
					History: ticket.History{Created: t0.Add(-40 * time.Hour), FirstResponse: t0.Add(-39 * time.Hour),
						Categories: categories(t0.Add(-40*time.Hour), ticket.CategoryIndeterminate)},
				},
			},
			"other": {{ID: "x", Updated: t0, Labels: urgent, History: ticket.History{Created: t0, Categories: categories(t0, ticket.CategoryNew)},
				Ledger: []store.Entry{{ID: "created", Kind: ticket.EventCreated, At: t0, Labels: urgent}}}},
		},
	}
}

var rulesAggregate = aggregate.Options{LabelValueLimit: 10, FirstResponseBuckets: []float64{900, 3600}, ResolutionBuckets: []float64{3600, 1.2096e+06}}

func writeRules(t *testing.T, opts backfill.Options) string {
	t.Helper()
	st := rulesStore()
	opts, err := backfill.Plan(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := backfill.Write(context.Background(), &out, st, opts); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestGaugeRules(t *testing.T) {
	text := writeRules(t, backfill.Options{Sources: []string{"jira"}, From: t0.Add(-time.Hour), To: t0.Add(4 * time.Hour),
		Step: 15 * time.Minute, Aggregate: rulesAggregate})
	at := map[int64]exposed{}
	for _, s := range parseSamples(t, text, true) {
		if at[s.ms] == nil {
			at[s.ms] = exposed{}
		}
		at[s.ms][s.series] = s.value
	}
	desk := `desk="Facilities \"East\" \\ 2"`
	open := func(labels, category string) string {
		return `servicedesk_open_tickets{` + labels + `,source="jira",status_category="` + category + `"}`
	}
	highOpen := strings.Replace(open(desk+`,priority="High",request_type="Repair"`, "new"), "new", "%s", 1)
	for _, tc := range []struct {
		name   string
		at     time.Time
		series string
		want   float64 // -1: absent
	}{
		{"the ticket that left is open before it left", t0.Add(-time.Hour), strings.Replace(highOpen, "%s", "new", 1), 1},
		{"the ticket that left is the oldest before it left", t0.Add(-time.Hour), `servicedesk_oldest_open_ticket_age_seconds{` + desk + `,source="jira"}`, 3600},
		{"a new ticket and the one that left", t0.Add(15 * time.Minute), strings.Replace(highOpen, "%s", "new", 1), 3},
		{"awaiting until answered", t0.Add(15 * time.Minute), `servicedesk_tickets_awaiting_first_response{` + desk + `,priority="High",request_type="Repair",source="jira"}`, 3},
		{"answered", t0.Add(45 * time.Minute), `servicedesk_tickets_awaiting_first_response{` + desk + `,priority="High",request_type="Repair",source="jira"}`, 2},
		{"in progress under the labels of its latest event", t0.Add(90 * time.Minute), strings.Replace(highOpen, "%s", "indeterminate", 1), 1},
		{"the one that left is gone after its last update", t0.Add(75 * time.Minute), strings.Replace(highOpen, "%s", "new", 1), 1},
		{"moved ticket under its current labels from its last update", t0.Add(2 * time.Hour), open(`desk="IT",priority="Urgent",request_type="Access"`, "new"), 1},
		{"resolved: a last 0 where the series ends", t0.Add(3 * time.Hour), strings.Replace(highOpen, "%s", "indeterminate", 1), 0},
		{"and absent after", t0.Add(3*time.Hour + 15*time.Minute), strings.Replace(highOpen, "%s", "indeterminate", 1), -1},
		{"old ticket is open and answered", t0, `servicedesk_tickets_awaiting_first_response{desk="IT",priority="Urgent",request_type="Access",source="jira"}`, 0},
		{"oldest open ticket's age", t0, `servicedesk_oldest_open_ticket_age_seconds{desk="IT",source="jira"}`, 40 * 3600},
		{"oldest awaiting on the other desk", t0.Add(time.Hour), `servicedesk_oldest_awaiting_first_response_seconds{` + desk + `,source="jira"}`, 3 * 3600},
		{"counters count from the horizon", t0.Add(-time.Hour), `servicedesk_tickets_created_total{` + desk + `,priority="High",request_type="Repair",source="jira"}`, 1},
		{"the ticket that left stays counted", t0.Add(4 * time.Hour), `servicedesk_tickets_created_total{` + desk + `,priority="High",request_type="Repair",source="jira"}`, 3},
		{"events at the step's instant count", t0.Add(3 * time.Hour), `servicedesk_tickets_resolved_total{` + desk + `,priority="Low",request_type="Repair",source="jira"}`, 1},
		{"bounds written as /metrics writes them", t0.Add(3 * time.Hour), `servicedesk_resolution_seconds_bucket{` + desk + `,le="1.2096e+06",priority="Low",request_type="Repair",source="jira"}`, 1},
		{"not selected source", t0.Add(4 * time.Hour), `servicedesk_tickets_created_total{desk="IT",priority="Urgent",request_type="Access",source="other"}`, -1},
	} {
		got, ok := at[tc.at.UnixMilli()][tc.series]
		switch {
		case tc.want < 0 && ok:
			t.Errorf("%s: at %s %s = %v, want absent", tc.name, tc.at.Format(time.TimeOnly), tc.series, got)
		case tc.want >= 0 && !ok:
			t.Errorf("%s: at %s %s absent, want %v", tc.name, tc.at.Format(time.TimeOnly), tc.series, tc.want)
		case tc.want >= 0 && got != tc.want:
			t.Errorf("%s: at %s %s = %v, want %v", tc.name, tc.at.Format(time.TimeOnly), tc.series, got, tc.want)
		}
	}
}

// TestGolden pins the file format: # HELP and # TYPE before each family at
// every step, labels sorted with the added job and instance, escaping,
// bounds, timestamps in seconds, # EOF. A change shows as a diff of
// testdata/rules.om in review; regenerate it with go test ./backfill -run
// Golden -update.
func TestGolden(t *testing.T) {
	text := writeRules(t, backfill.Options{Sources: []string{"jira"}, From: t0.Add(170 * time.Minute), To: t0.Add(3*time.Hour + 1500*time.Millisecond),
		Step: 5 * time.Minute, Aggregate: rulesAggregate, Labels: map[string]string{"job": "servicedesk", "instance": "sd:9811"}})
	path := filepath.Join("testdata", "rules.om")
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if text != string(want) {
		t.Errorf("output differs from %s (run with -update if intended):\n%s", path, text)
	}
}

// TestGoldenImports hands the golden file to promtool, which is what users
// run on it.
func TestGoldenImports(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not on PATH and CI is set")
		}
		t.Skip("promtool not on PATH")
	}
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", filepath.Join("testdata", "rules.om"), t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
}

func TestPlan(t *testing.T) {
	st := rulesStore()
	for _, tc := range []struct {
		name    string
		opts    backfill.Options
		from    time.Time
		wantErr string
	}{
		{name: "from the earliest horizon", opts: backfill.Options{Sources: []string{"jira", "other"}, To: t0}, from: horizon.Add(-time.Hour)},
		{name: "one source's horizon", opts: backfill.Options{Sources: []string{"jira"}, To: t0}, from: horizon},
		{name: "given start", opts: backfill.Options{Sources: []string{"jira"}, From: t0.Add(-time.Minute), To: t0}, from: t0.Add(-time.Minute)},
		{name: "unknown source", opts: backfill.Options{Sources: []string{"rt"}, To: t0}, wantErr: "no data for source [rt]"},
		{name: "no source", opts: backfill.Options{To: t0}, wantErr: "no source"},
		{name: "inverted", opts: backfill.Options{Sources: []string{"jira"}, From: t0, To: t0.Add(-time.Second)}, wantErr: "is before start"},
		{name: "too many steps", opts: backfill.Options{Sources: []string{"jira"}, To: t0, Step: time.Millisecond}, wantErr: "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := backfill.Plan(st, tc.opts)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case !got.From.Equal(tc.from) || got.Step != backfill.DefaultStep:
				t.Errorf("from %s step %s, want %s %s", got.From, got.Step, tc.from, backfill.DefaultStep)
			}
		})
	}
}

func TestSamplesFallOnTheStepGridAndTheEnd(t *testing.T) {
	text := writeRules(t, backfill.Options{Sources: []string{"jira"}, From: t0.Add(-7 * time.Minute), To: t0.Add(11*time.Minute + 250*time.Millisecond),
		Step: 5 * time.Minute, Aggregate: rulesAggregate})
	seen := map[int64]bool{}
	for _, s := range parseSamples(t, text, true) {
		seen[s.ms] = true
	}
	var want []int64
	for _, d := range []time.Duration{-5 * time.Minute, 0, 5 * time.Minute, 10 * time.Minute, 11*time.Minute + 250*time.Millisecond} {
		want = append(want, t0.Add(d).UnixMilli())
	}
	if len(seen) != len(want) {
		t.Errorf("%d distinct timestamps, want %d", len(seen), len(want))
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no sample at %s", time.UnixMilli(w).UTC().Format(time.RFC3339Nano))
		}
	}
}

func TestLabelsMustNotCollide(t *testing.T) {
	st := rulesStore()
	opts, err := backfill.Plan(st, backfill.Options{Sources: []string{"jira"}, To: t0, Labels: map[string]string{"desk": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backfill.Write(context.Background(), &bytes.Buffer{}, st, opts); err == nil || !strings.Contains(err.Error(), "own labels") {
		t.Errorf("err %v, want a collision with the series' own labels", err)
	}
	if _, err := backfill.Write(context.Background(), &bytes.Buffer{}, st, backfill.Options{Sources: []string{"jira"}, To: t0, From: t0, Step: time.Minute,
		Labels: map[string]string{"bad-name": "x"}}); err == nil {
		t.Error("an invalid label name was accepted")
	}
}
