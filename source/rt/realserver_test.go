package rt_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/rtserver"
	"github.com/servicedesk-exporter/servicedesk_exporter/pipeline"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
)

const (
	testTickets = 120
	testSeed    = 11
	sourceName  = "helpdesk"
)

// TestMain removes the exporter binary the binary subtest builds.
func TestMain(m *testing.M) {
	code := m.Run()
	exportertest.RemoveBinary()
	os.Exit(code)
}

// desk is one real RT with a scenario, extended with what the scenario
// lacks (organizations, priorities, a request type field), and the
// exporter configuration the tests run against it.
type desk struct {
	srv    *rtserver.Server
	sc     *rtserver.Scenario
	dir    string
	oracle oracleConfig
}

// TestRTSourceOnRealServer runs the exporter's RT source against a real
// RT 5: one server and scenario shared by the subtests, in order (the
// later ones see the changes the earlier ones made).
func TestRTSourceOnRealServer(t *testing.T) {
	began := time.Now()
	srv := rtserver.Start(t, rtserver.Options{Lifecycles: []rtserver.Lifecycle{rtserver.ScenarioLifecycle}})
	sc := rtserver.BuildScenario(t, srv, rtserver.ScenarioOptions{Seed: testSeed, Tickets: testTickets})
	d := newDesk(t, srv, sc)
	built := time.Since(began)

	t.Run("pipeline matches the oracle through sync, changes and restart", d.testPipeline)
	t.Run("segments and labels are RT's", d.testFacts)
	t.Run("check", d.testCheck)
	t.Run("binary matches the oracle", d.testBinary)

	// A figure to watch, not a limit to fail on: a shared CI machine under
	// the race detector may take twice as long as an idle one.
	t.Logf("RT source proof took %v (RT and scenario %v)", time.Since(began).Round(time.Millisecond), built.Round(time.Millisecond))
}

// Organizations of the scenario's portal customers (some none), and of
// the agent who raises tickets for herself.
var organizations = []string{"Finance", "Engineering", "Sales", "", "Operations"}

func newDesk(t *testing.T, srv *rtserver.Server, sc *rtserver.Scenario) *desk {
	t.Helper()
	d := &desk{srv: srv, sc: sc, dir: t.TempDir()}
	for i, c := range sc.Customers {
		srv.Call(t, srv.Root, http.MethodPut, "/user/"+c.Name, map[string]any{"Organization": organizations[i%len(organizations)]}, nil)
	}
	srv.Call(t, srv.Root, http.MethodPut, "/user/"+sc.AgentRequestor.Name, map[string]any{"Organization": "IT"}, nil)

	// A request type field, set on some tickets, priorities and owners:
	// the scenario leaves every ticket unowned at priority 0 without one.
	srv.RunPerl(t, `
my $cf = RT::CustomField->new(RT->SystemUser);
my ($id, $msg) = $cf->Create(Name => 'Category', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket');
die "create Category: $msg" unless $id;
my ($ok, $err) = $cf->AddToObject(RT::Queue->new(RT->SystemUser));
die "apply Category: $err" unless $ok;
`)
	var updates []map[string]any
	for i, tk := range sc.Tickets {
		u := map[string]any{"id": tk.ID}
		switch {
		case i%5 == 0:
			u["Priority"] = 90
		case i%7 == 0:
			u["Priority"] = 60
		}
		if i%4 == 1 {
			u["Owner"] = sc.Agents[i%(len(sc.Agents)-1)].Name
		}
		switch i % 3 {
		case 0:
			u["CustomFields"] = map[string]string{"Category": "Hardware"}
		case 1:
			u["CustomFields"] = map[string]string{"Category": "Access"}
		}
		if len(u) > 1 {
			updates = append(updates, u)
		}
	}
	var answers [][]any
	srv.Call(t, srv.Root, http.MethodPut, "/tickets/bulk", updates, &answers)
	if len(answers) != len(updates) {
		t.Fatalf("bulk update of priorities and categories: %d answers for %d tickets", len(answers), len(updates))
	}

	horizon := time.Date(sc.Horizon.Year(), sc.Horizon.Month(), sc.Horizon.Day(), 0, 0, 0, 0, time.UTC)
	d.oracle = oracleConfig{
		source:           sourceName,
		horizon:          horizon,
		requestTypeField: "Category",
		satisfaction:     rtserver.SatisfactionField,
		firstResponseSLA: oracleSLA{name: "Time to first response", goals: map[string]time.Duration{"P1": time.Hour}, defaultGoal: 4 * time.Hour},
		resolutionSLA: oracleSLA{name: "Time to resolution", goals: map[string]time.Duration{"P1": 8 * time.Hour, "P2": 20 * time.Hour},
			defaultGoal: 30 * time.Hour, pause: map[string]bool{"stalled": true, "waiting": true},
			cal: &oracleCalendar{loc: mustZone(t, "Europe/Berlin"), start: 8, end: 18,
				workdays: map[time.Weekday]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true},
				holidays: holidaysIn(sc.Now.AddDate(0, 0, -60), sc.Now)}},
	}
	for _, q := range sc.Queues {
		d.oracle.queues = append(d.oracle.queues, q.Name)
	}
	for _, p := range []struct {
		name string
		min  int
	}{{"P1", 80}, {"P2", 50}, {"P3", 0}} {
		d.oracle.priorities = append(d.oracle.priorities, struct {
			name string
			min  int
		}{p.name, p.min})
	}
	if err := os.WriteFile(filepath.Join(d.dir, "token"), []byte(srv.API.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// holidaysIn picks two weekdays in the window as holidays, so the
// calendar's holidays matter to some cycles.
func holidaysIn(from, to time.Time) map[string]bool {
	out := map[string]bool{}
	for d := from.AddDate(0, 0, 10); d.Before(to) && len(out) < 2; d = d.AddDate(0, 0, 9) {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			out[d.Format(time.DateOnly)] = true
		}
	}
	return out
}

// configYAML is the exporter configuration of the tests, with its store
// in storeDir.
func (d *desk) configYAML(storeDir string, pollInterval time.Duration) string {
	var holidays []string
	for h := range d.oracle.resolutionSLA.cal.holidays {
		holidays = append(holidays, h)
	}
	slices.Sort(holidays)
	return fmt.Sprintf(`store:
  path: %s
sources:
  - name: %s
    type: rt
    poll_interval: %s
    since: %s
    segments:
      customer_group: { field: Requestor.Organization }
      team: { field: Queue }
    slas:
      - name: Time to first response
        stop: first_response
        goals: { P1: 1h }
        default_goal: 4h
      - name: Time to resolution
        stop: resolution
        goals: { P1: 8h, P2: 20h }
        default_goal: 30h
        pause_statuses: [stalled, waiting]
        calendar:
          time_zone: Europe/Berlin
          working_hours: "08:00-18:00"
          holidays: [%s]
    rt:
      url: %s
      queues: [%s]
      lifecycles:
        facilities: { initial: [reported], active: [assigned, waiting], inactive: [done, cancelled] }
      request_type_field: Category
      priority:
        - { name: P1, min: 80 }
        - { name: P2, min: 50 }
        - { name: P3, min: 0 }
    http_client:
      authorization:
        type: token
        credentials_file: %s
`, filepath.Join(storeDir, "servicedesk.db"), sourceName, seconds(pollInterval), d.oracle.horizon.Format(time.DateOnly),
		strings.Join(holidays, ", "), d.srv.URL, strings.Join(d.oracle.queues, ", "), filepath.Join(d.dir, "token"))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%ds", int(d.Seconds())) }

func (d *desk) loadConfig(t *testing.T, storeDir string, pollInterval time.Duration) (*config.Config, string) {
	t.Helper()
	path := filepath.Join(storeDir, "exporter.yml")
	if err := os.WriteFile(path, []byte(d.configYAML(storeDir, pollInterval)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, builtin.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// inProcess is the exporter's pipeline in this process, polled when asked.
type inProcess struct {
	pl    *pipeline.Pipeline
	reg   *prometheus.Registry
	clock *testClock
}

func (d *desk) startPipeline(t *testing.T, cfg *config.Config, clock *testClock) *inProcess {
	t.Helper()
	p := &inProcess{reg: prometheus.NewRegistry(), clock: clock}
	pl, err := pipeline.New(context.Background(), cfg, pipeline.Options{
		Types: builtin.Registry(), Registerer: p.reg, Now: clock.Now, Manual: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.pl = pl
	return p
}

// poll runs one poll at the wall clock's next second and returns how long
// it took.
func (p *inProcess) poll(t *testing.T) (time.Time, time.Duration) {
	t.Helper()
	now := p.clock.set()
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.pl.PollOnce(ctx, sourceName); err != nil {
		t.Fatalf("poll: %v", err)
	}
	return now, time.Since(began)
}

func (d *desk) testPipeline(t *testing.T) {
	cfg, _ := d.loadConfig(t, t.TempDir(), time.Minute)
	clock := &testClock{}
	p := d.startPipeline(t, cfg, clock)
	ratings := countedRatings{}

	// The full sync.
	now, took := p.poll(t)
	if h, ok := p.pl.Horizon(sourceName); !ok || !h.Equal(d.oracle.horizon) {
		t.Fatalf("horizon %s (%t), want %s", h, ok, d.oracle.horizon)
	}
	view := readRT(t, d.srv, d.oracle)
	ratings.see(view, d.oracle)
	got := gather(t, p.reg)
	want := view.expect(d.oracle, ratings, now)
	compare(t, "full sync", got, want, nil)
	t.Logf("oracle after the full sync: %s", want.summary())
	budget := view.fullSyncBudget(d.oracle)
	reqs := requests(got, sourceName)
	minimum := map[string]int{"customfields": 1, "tickets": budget.tickets + 2, "transactions": budget.transactions, "user": budget.users}
	if !mapsEqual(reqs, minimum) {
		t.Errorf("full sync sent %s, want the bulk minimum %s (tickets: %d pages and 2 for the time zone check)",
			formatRequests(reqs), formatRequests(minimum), budget.tickets)
	}
	scope := 0
	for _, tk := range view.tickets {
		if view.inScope(tk, d.oracle.horizon) {
			scope++
		}
	}
	t.Logf("full sync of %d tickets with %d history rows took %v with %s", scope, budget.rows, took.Round(time.Millisecond), formatRequests(reqs))

	// An idle poll is ticket pages only: one per 100 tickets updated within
	// the overlap (here the test's own setup), dropped as unchanged.
	prev := now
	now, _ = p.poll(t)
	idle := diffRequests(requests(gather(t, p.reg), sourceName), reqs)
	if want := map[string]int{"tickets": view.incrementalPages(prev)}; !mapsEqual(idle, want) {
		t.Errorf("idle poll sent %s, want %s", formatRequests(idle), formatRequests(want))
	}

	// Live changes: a reply, a resolution, a reopen by the customer's
	// mail, a first rating and a changed one.
	before := requests(gather(t, p.reg), sourceName)
	changed := d.liveChanges(t, view)
	prev = now
	now, _ = p.poll(t)
	view = readRT(t, d.srv, d.oracle)
	ratings.see(view, d.oracle)
	got = gather(t, p.reg)
	compare(t, "after live changes", got, view.expect(d.oracle, ratings, now), nil)
	rows := 0
	for _, id := range changed {
		rows += view.historyRows(view.tickets[id])
	}
	live := diffRequests(requests(got, sourceName), before)
	if want := map[string]int{"tickets": view.incrementalPages(prev), "transactions": rows/100 + 1}; !mapsEqual(live, want) {
		t.Errorf("poll after %d changed tickets sent %s, want %s", len(changed), formatRequests(live), formatRequests(want))
	}

	// A restart: the store and the cursor carry over, the caches do not.
	if err := p.pl.Close(); err != nil {
		t.Fatal(err)
	}
	p = d.startPipeline(t, cfg, clock)
	t.Cleanup(func() { _ = p.pl.Close() })
	prev = now
	now, _ = p.poll(t)
	got = gather(t, p.reg)
	compare(t, "after a restart", got, view.expect(d.oracle, ratings, now), nil)
	if restart, want := requests(got, sourceName), map[string]int{"customfields": 1, "tickets": 2 + view.incrementalPages(prev)}; !mapsEqual(restart, want) {
		t.Errorf("poll after a restart sent %s, want the discovery and the ticket pages, %s", formatRequests(restart), formatRequests(want))
	}

	// A change after the restart: the agent's privilege is looked up again,
	// once.
	before = requests(got, sourceName)
	id := d.replyAsNewAgent(t, view)
	prev = now
	now, _ = p.poll(t)
	view = readRT(t, d.srv, d.oracle)
	ratings.see(view, d.oracle)
	got = gather(t, p.reg)
	compare(t, "after a change since the restart", got, view.expect(d.oracle, ratings, now), nil)
	after := diffRequests(requests(got, sourceName), before)
	if want := map[string]int{"tickets": view.incrementalPages(prev), "transactions": view.historyRows(view.tickets[id])/100 + 1, "user": 1}; !mapsEqual(after, want) {
		t.Errorf("poll after a reply since the restart sent %s, want %s", formatRequests(after), formatRequests(want))
	}

	// Reconciliation, an hour on: an open ticket moved to a queue the
	// exporter does not read leaves the gauges; its events stay counted.
	before = requests(got, sourceName)
	moved := d.moveOutOfScope(t, view)
	clock.ahead = 61 * time.Minute
	prev = now
	now, _ = p.poll(t)
	previous := view
	view = readRT(t, d.srv, d.oracle)
	if _, still := view.tickets[moved]; still {
		t.Fatalf("ticket %d is still in the queues read", moved)
	}
	view.departed = []*oTicket{previous.tickets[moved]}
	got = gather(t, p.reg)
	compare(t, "after reconciliation", got, view.expect(d.oracle, ratings, now), nil)
	scoped := 0
	for _, tk := range view.tickets {
		if view.inScope(tk, d.oracle.horizon) {
			scoped++
		}
	}
	if rec, want := diffRequests(requests(got, sourceName), before), scoped/100+1+view.incrementalPages(prev); !mapsEqual(rec, map[string]int{"tickets": want}) {
		t.Errorf("reconciling poll sent %s, want tickets=%d (the ids in scope, then the incremental pages)", formatRequests(rec), want)
	}
}

// moveOutOfScope moves an open ticket to RT's General queue, which the
// exporter does not read, and returns it.
func (d *desk) moveOutOfScope(t *testing.T, view *rtView) int {
	t.Helper()
	var id int
	for _, tk := range view.tickets {
		if !view.done(tk, tk.status) && tk.lifecycle == "default" {
			id = max(id, tk.id)
		}
	}
	var msgs []string
	d.srv.Call(t, d.srv.Root, http.MethodPut, fmt.Sprintf("/ticket/%d", id), map[string]any{"Queue": "General"}, &msgs)
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Queue changed") {
		t.Fatalf("move ticket %d to General: %v", id, msgs)
	}
	return id
}

func mapsEqual(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// scenarioTicket finds the scenario's record of a ticket.
func (d *desk) scenarioTicket(id int) rtserver.ScenarioTicket {
	for _, tk := range d.sc.Tickets {
		if tk.ID == id {
			return tk
		}
	}
	return rtserver.ScenarioTicket{}
}

// liveChanges does what agents and customers do between two polls and
// returns the tickets it changed.
func (d *desk) liveChanges(t *testing.T, view *rtView) []int {
	t.Helper()
	pick := func(what string, ok func(tk *oTicket) bool, not ...int) int {
		var ids []int
		for id, tk := range view.tickets {
			if tk.lifecycle == "default" && !slices.Contains(not, id) && ok(tk) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			t.Fatalf("the scenario has no ticket that is %s", what)
		}
		slices.Sort(ids)
		return ids[len(ids)-1]
	}
	agent := d.sc.Agents[0]
	unanswered := pick("new and unanswered", func(tk *oTicket) bool {
		_, answered := view.firstResponse(tk)
		return tk.status == "new" && !answered
	})
	open := pick("open", func(tk *oTicket) bool { return tk.status == "open" }, unanswered)
	reopen := pick("resolved with a known requestor", func(tk *oTicket) bool {
		st := d.scenarioTicket(tk.id)
		return tk.status == "resolved" && st.RequestorEmail != "" && !strings.HasPrefix(st.Requestor, "erin")
	}, unanswered, open)
	rate := pick("resolved and unrated", func(tk *oTicket) bool {
		_, rated := view.rating(tk)
		return tk.status == "resolved" && !rated
	}, unanswered, open, reopen)
	rerate := pick("rated", func(tk *oTicket) bool {
		_, rated := view.rating(tk)
		return rated
	}, unanswered, open, reopen, rate)

	d.srv.Correspond(t, agent.Credentials(), rtserver.Message{Ticket: unanswered, Content: "Looking into it."})
	d.srv.SetStatus(t, agent.Credentials(), open, "resolved")
	st := d.scenarioTicket(reopen)
	d.srv.SendMail(t, rtserver.Mail{From: st.RequestorEmail, Queue: st.Queue, Subject: st.Subject, Ticket: reopen,
		Body: "It is broken again."})
	d.srv.SetCustomField(t, d.sc.Intake.Credentials(), rate, rtserver.SatisfactionField, "4")
	old, _ := view.rating(view.tickets[rerate])
	d.srv.SetCustomField(t, d.sc.Intake.Credentials(), rerate, rtserver.SatisfactionField, fmt.Sprint(old.value%5+1))
	return []int{unanswered, open, reopen, rate, rerate}
}

// replyAsNewAgent has an agent answer an unanswered ticket after the
// restart, which emptied the privilege cache.
func (d *desk) replyAsNewAgent(t *testing.T, view *rtView) int {
	t.Helper()
	var id int
	for _, tk := range view.tickets {
		if _, answered := view.firstResponse(tk); !answered && !view.done(tk, tk.status) && tk.lifecycle == "default" {
			id = max(id, tk.id)
		}
	}
	if id == 0 {
		t.Fatal("no unanswered open ticket left")
	}
	d.srv.Correspond(t, d.sc.Agents[1].Credentials(), rtserver.Message{Ticket: id, Content: "On it."})
	return id
}
