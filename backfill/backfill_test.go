package backfill_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/backfill"
	"github.com/servicedesk-exporter/servicedesk_exporter/collector"
	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/pipeline"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
)

// exposed is what one instant shows: series (name and labels, as the text
// format writes them) to values.
type exposed map[string]float64

// liveTicketFamilies renders the ticket families of reg the way /metrics
// does (the text format) and parses them back: the reference every
// backfilled step is compared with. Families the collector does not export
// (the poller's and API client's self-metrics) are left out, and so are the
// families a backfill excludes; the test checks separately that the
// backfill does not write those.
func liveTicketFamilies(t *testing.T, reg prometheus.Gatherer, ticketFamilies map[string]bool) exposed {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	for _, mf := range mfs {
		if !ticketFamilies[mf.GetName()] {
			continue
		}
		if _, excluded := backfill.Excluded[mf.GetName()]; excluded {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			t.Fatal(err)
		}
	}
	out := exposed{}
	for _, s := range parseSamples(t, text.String(), false) {
		out[s.series] = s.value
	}
	return out
}

// ticketFamilyNames are the families the collector exports for snap.
func ticketFamilyNames(t *testing.T, snap *aggregate.Snapshot) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.New(func() *aggregate.Snapshot { return snap }))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	return names
}

type sample struct {
	series string
	value  float64
	ms     int64
}

// parseSamples reads text-format or OpenMetrics sample lines (with a
// timestamp in seconds when stamped), skipping comments. Label pairs are
// sorted so that the series key does not depend on the writer's order.
func parseSamples(t *testing.T, text string, stamped bool) []sample {
	t.Helper()
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var name, rest string
		var labels []string
		if i := strings.IndexByte(line, '{'); i >= 0 {
			name = line[:i]
			j := strings.LastIndexByte(line, '}')
			labels = splitLabels(t, line[i+1:j])
			rest = strings.TrimSpace(line[j+1:])
		} else {
			name, rest, _ = strings.Cut(line, " ")
		}
		sort.Strings(labels)
		fields := strings.Fields(rest)
		want := 1
		if stamped {
			want = 2
		}
		if len(fields) != want {
			t.Fatalf("sample line %q: %d fields after the series, want %d", line, len(fields), want)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			t.Fatalf("sample line %q: %v", line, err)
		}
		s := sample{series: name + "{" + strings.Join(labels, ",") + "}", value: v}
		if stamped {
			sec, err := strconv.ParseFloat(fields[1], 64)
			if err != nil {
				t.Fatalf("sample line %q: %v", line, err)
			}
			s.ms = int64(sec*1000 + 0.5)
		}
		out = append(out, s)
	}
	return out
}

// splitLabels splits a="x",b="y" at the commas outside quotes.
func splitLabels(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// backfilled runs a backfill of the store at path and returns each step's
// series by timestamp (ms).
func backfilled(t *testing.T, path string, opts backfill.Options) (map[int64]exposed, backfill.Stats) {
	t.Helper()
	st, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	opts, err = backfill.Plan(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	stats, err := backfill.Write(context.Background(), &out, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.HasSuffix(text, "\n# EOF\n") {
		t.Fatalf("output does not end with # EOF: ...%q", text[max(0, len(text)-80):])
	}
	steps := map[int64]exposed{}
	for _, s := range parseSamples(t, text, true) {
		if steps[s.ms] == nil {
			steps[s.ms] = exposed{}
		}
		if _, dup := steps[s.ms][s.series]; dup {
			t.Fatalf("%s written twice at %d", s.series, s.ms)
		}
		steps[s.ms][s.series] = s.value
	}
	for name := range backfill.Excluded {
		if strings.Contains(text, "\n"+name) {
			t.Errorf("the backfill writes %s, which it must leave out", name)
		}
	}
	return steps, stats
}

// compareStep reports every series whose backfilled value differs from the
// live one, and series only one of them has — except the last sample of 0 a
// backfill writes for a series at the step it disappears (it has no way to
// mark it stale): allowed when the series was live one step before.
func compareStep(t *testing.T, at time.Time, live, got, livePrev exposed) {
	t.Helper()
	var diffs []string
	for k, v := range live {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("missing %s (live %v)", k, v))
		case g != v:
			diffs = append(diffs, fmt.Sprintf("%s = %v, live %v", k, g, v))
		}
	}
	for k, g := range got {
		if _, ok := live[k]; ok {
			continue
		}
		if _, wasLive := livePrev[k]; g != 0 || !wasLive {
			diffs = append(diffs, fmt.Sprintf("extra %s = %v", k, g))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Errorf("at %s, %d series differ from the stepped pipeline's /metrics:\n  %s", at.Format(time.RFC3339),
			len(diffs), strings.Join(diffs[:min(len(diffs), 20)], "\n  "))
	}
}

// compareSteps compares every instant.
func compareSteps(t *testing.T, instants []time.Time, live, got map[int64]exposed) {
	t.Helper()
	var ended int
	for i, at := range instants {
		var livePrev exposed
		if i > 0 {
			livePrev = live[instants[i-1].UnixMilli()]
		}
		compareStep(t, at, live[at.UnixMilli()], got[at.UnixMilli()], livePrev)
		ended += len(got[at.UnixMilli()]) - len(live[at.UnixMilli()])
	}
	t.Logf("%d series ended with a last 0 sample", ended)
}

// TestDemoBackfillEqualsSteppedPipeline is the backfill's reference proof on
// the demo desk: the real pipeline, polled on a stepped clock, shows at each
// step what /metrics would have shown then; the backfill of the store it
// leaves behind must show exactly the same at each of those instants,
// family by family. A small label limit folds a desk and request types into
// "other"; tickets leave the demo's 45-day window along the way.
func TestDemoBackfillEqualsSteppedPipeline(t *testing.T) {
	cfg, err := config.Parse([]byte(`
metrics: { label_value_limit: 3 }
sources:
  - name: demo
    type: demo
    lookback: 4d
    demo: { seed: 3, desks: [IT, HR, FAC, LEGAL], tickets_per_day: 800 }
`), "test.yml", builtin.Registry())
	if err != nil {
		t.Fatal(err)
	}
	const step = 5 * time.Minute
	start := time.Date(2026, 3, 27, 22, 0, 0, 0, time.UTC) // across a DST change nowhere matters: UTC
	path := filepath.Join(t.TempDir(), "demo.db")
	p := exportertest.NewDemoPipeline(t, cfg, path, start, nil)
	var families map[string]bool
	live := map[int64]exposed{}
	var instants []time.Time
	for at := start; !at.After(start.Add(6 * time.Hour)); at = at.Add(step) {
		if err := p.PollAt(at); err != nil {
			t.Fatal(err)
		}
		if families == nil {
			families = ticketFamilyNames(t, p.Pipeline.Snapshot())
		}
		live[at.UnixMilli()] = liveTicketFamilies(t, p.Registry, families)
		instants = append(instants, at)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	got, stats := backfilled(t, path, backfill.Options{
		Sources: []string{"demo"}, From: start, To: instants[len(instants)-1], Step: step,
		Aggregate: pipeline.AggregateOptions(cfg.Metrics),
	})
	t.Logf("backfilled %d steps, %d samples, %d bytes, %d tickets, %d entries", stats.Steps, stats.Samples, stats.Bytes, stats.Tickets, stats.Entries)
	if stats.Steps != len(instants) {
		t.Fatalf("%d steps, want %d", stats.Steps, len(instants))
	}
	requireRichHistory(t, live)
	compareSteps(t, instants, live, got)
}

// requireRichHistory fails when the reference is too thin to prove much:
// it must fold into "other", show open tickets and ages, and change.
func requireRichHistory(t *testing.T, live map[int64]exposed) {
	t.Helper()
	var other, open, age bool
	var first, last exposed
	var firstAt, lastAt int64
	for at, e := range live {
		if first == nil || at < firstAt {
			first, firstAt = e, at
		}
		if last == nil || at > lastAt {
			last, lastAt = e, at
		}
		for k := range e {
			other = other || strings.Contains(k, `="other"`)
			open = open || strings.HasPrefix(k, "servicedesk_open_tickets{")
			age = age || strings.HasPrefix(k, "servicedesk_oldest_open_ticket_age_seconds{")
		}
	}
	sum := func(e exposed) float64 {
		n := 0.0
		for k, v := range e {
			if strings.HasPrefix(k, "servicedesk_tickets_created_total{") {
				n += v
			}
		}
		return n
	}
	if !other || !open || !age || sum(first) == 0 || sum(last) <= sum(first) {
		t.Fatalf("reference too thin: other %v, open %v, ages %v, created %v → %v", other, open, age, sum(first), sum(last))
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// TestFakeJiraBackfillEqualsSteppedPipeline is the same proof on the Jira
// source against the fake Jira: a full sync, then steps in which tickets are
// created, answered (publicly and internally), resolved, rated, re-rated and
// reopened, each followed by a poll.
func TestFakeJiraBackfillEqualsSteppedPipeline(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	c := &clock{t: start}
	srv := fakejira.New(fakejira.Options{Deployment: fakejira.DeploymentCloud, Now: c.Now, Seed: 5})
	defer srv.Close()
	srv.Add(fakejira.Generate(11, 600, fakejira.GenerateOptions{End: start, Start: start.Add(-20 * 24 * time.Hour)})...)
	cfg, err := config.Parse(fmt.Appendf(nil, `
metrics: { label_value_limit: 4 }
sources:
  - name: jira
    type: jira
    lookback: 10d
    jira: { url: %s, jql: "project in (IT, HR, FAC)", requests_per_second: 1000 }
    http_client:
      basic_auth: { username: %s, password: %s }
`, srv.URL, fakejira.DefaultEmail, fakejira.DefaultAPIToken), "test.yml", builtin.Registry())
	if err != nil {
		t.Fatal(err)
	}
	run := *cfg
	path := filepath.Join(t.TempDir(), "jira.db")
	run.Store.Path = path
	reg := prometheus.NewRegistry()
	p, err := pipeline.New(context.Background(), &run, pipeline.Options{Types: builtin.Registry(), Registerer: reg, Now: c.Now, Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	const step = 5 * time.Minute
	var families map[string]bool
	live := map[int64]exposed{}
	var instants []time.Time
	mutations := jiraMutations(t, srv)
	for i := range 40 {
		at := start.Add(time.Duration(i) * step)
		if i > 0 {
			// Changes happen between polls, stamped with the fake's clock.
			c.Set(at.Add(-step / 2))
			mutations(i)
		}
		c.Set(at)
		if i%4 == 2 {
			// Stamped exactly at the step: a step shows what happened up
			// to and including its instant.
			srv.CreateIssue(fakejira.NewIssue{Project: "HR", RequestType: "Ask an HR question", Priority: "Medium"})
		}
		if err := p.PollOnce(context.Background(), "jira"); err != nil {
			t.Fatal(err)
		}
		if families == nil {
			families = ticketFamilyNames(t, p.Snapshot())
		}
		live[at.UnixMilli()] = liveTicketFamilies(t, reg, families)
		instants = append(instants, at)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	got, stats := backfilled(t, path, backfill.Options{
		Sources: []string{"jira"}, From: start, To: instants[len(instants)-1], Step: step,
		Aggregate: pipeline.AggregateOptions(cfg.Metrics),
	})
	t.Logf("backfilled %d steps, %d samples, %d tickets, %d entries", stats.Steps, stats.Samples, stats.Tickets, stats.Entries)
	requireRichHistory(t, live)
	compareSteps(t, instants, live, got)
}

// jiraMutations returns what happens at step i: a new ticket every other
// step, the oldest waiting ones answered, resolved, rated and some
// reopened.
func jiraMutations(t *testing.T, srv *fakejira.Server) func(i int) {
	var created []string
	return func(i int) {
		t.Helper()
		if i%2 == 1 {
			created = append(created, srv.CreateIssue(fakejira.NewIssue{Project: []string{"IT", "HR", "FAC"}[i%3],
				RequestType: "Ask a question", Priority: []string{"High", "Low"}[i%2]}))
		}
		n := len(created)
		switch {
		case i%5 == 0 && n > 0:
			must(t, srv.AddComment(created[n-1], fakejira.RoleAgent, false)) // internal: still waiting
		case i%5 == 1 && n > 1:
			must(t, srv.AddComment(created[n-2], fakejira.RoleAgent, true))
		case i%5 == 2 && n > 2:
			must(t, srv.Transition(created[n-3], fakejira.StatusResolved))
			must(t, srv.Rate(created[n-3], 1+i%5))
		case i%5 == 3 && n > 3:
			must(t, srv.Rate(created[n-4], 5)) // a changed rating counts again
		case i%5 == 4 && n > 4:
			must(t, srv.Transition(created[n-5], fakejira.StatusInProgress)) // reopened
		}
		// Older tickets move too, so label sets beyond the new ones change.
		for _, is := range srv.Issues() {
			if is.Resolution == "" && len(is.Comments) == 0 && int(is.ID)%7 == i%7 {
				must(t, srv.AddComment(is.Key, fakejira.RoleAgent, true))
				break
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
