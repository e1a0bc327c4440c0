package rtserver

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/rest2 from the live RT")

const (
	testTickets = 48
	testSeed    = 7
	// testBudget bounds the whole proof on two busy cores; it is
	// typically a third of this.
	testBudget = 150 * time.Second
)

// TestRequestTracker starts a real RT, builds a small scenario and checks
// what the RT source will rely on, in order: the scenario, backdating,
// REST2's answers against testdata/rest2, then live changes (last, since
// they change the scenario's tickets).
func TestRequestTracker(t *testing.T) {
	began := time.Now()
	srv := Start(t, Options{Lifecycles: []Lifecycle{ScenarioLifecycle}})
	started := time.Since(began)
	sc := BuildScenario(t, srv, ScenarioOptions{Seed: testSeed, Tickets: testTickets})
	built := time.Since(began) - started
	facts := readFacts(t, srv, sc)

	t.Run("scenario has every case", func(t *testing.T) { testScenarioCases(t, sc, facts) })
	t.Run("backdating round-trips through REST2", func(t *testing.T) { testBackdating(t, srv, sc, facts) })
	rec := &samples{srv: srv, names: map[string]bool{}}
	t.Run("REST2 answers match testdata/rest2", func(t *testing.T) { testReadSamples(t, rec, sc, facts) })
	t.Run("reopen by mail", func(t *testing.T) { testReopenByMail(t, srv, sc, facts) })
	t.Run("non-superuser transactions", func(t *testing.T) { testNonSuperuserTransactions(t, srv, facts) })
	t.Run("live changes", func(t *testing.T) { testLiveChanges(t, srv, sc, facts) })
	t.Run("REST2 write answers match testdata/rest2", func(t *testing.T) { testWriteSamples(t, rec, sc) })
	rec.prune(t)

	took := time.Since(began)
	t.Logf("RT proof took %v: start %v, scenario %v, checks %v", took.Round(time.Millisecond),
		started.Round(time.Millisecond), built.Round(time.Millisecond), (took - started - built).Round(time.Millisecond))
	if took > testBudget {
		t.Errorf("took %v, over the %v budget", took, testBudget)
	}
}

// restID is an id as REST2 writes it: a string in collection items
// ("id": "4"), a number in a record (/ticket/4 says "id": 4).
type restID int

func (id *restID) UnmarshalJSON(b []byte) error {
	n, err := strconv.Atoi(strings.Trim(string(b), `"`))
	*id = restID(n)
	return err
}

// restTicket is a ticket as REST2 lists it with the fields the tests ask for.
type restTicket struct {
	ID          restID `json:"id"`
	Status      string `json:"Status"`
	Created     string `json:"Created"`
	Started     string `json:"Started"`
	Told        string `json:"Told"`
	Resolved    string `json:"Resolved"`
	LastUpdated string `json:"LastUpdated"`
	Queue       struct {
		Name      string `json:"Name"`
		Lifecycle string `json:"Lifecycle"`
	} `json:"Queue"`
	Requestor []struct {
		ID string `json:"id"`
	} `json:"Requestor"`
}

// restTxn is a ticket transaction as /transactions lists it. Items carry
// both "type" (the resource: "transaction") and "Type" (the transaction's
// type); encoding/json matches keys case-insensitively, and RT's key order
// varies, so both need a field for each to land in its own.
type restTxn struct {
	ID       string `json:"id"`
	Resource string `json:"type"`
	ObjectID string `json:"ObjectId"`
	Type     string `json:"Type"`
	Field    string `json:"Field"`
	OldValue string `json:"OldValue"`
	NewValue string `json:"NewValue"`
	Created  string `json:"Created"`
	Creator  struct {
		ID string `json:"id"`
	} `json:"Creator"`
}

// rtFacts is the scenario as RT reports it, read once through REST2 as
// root (who sees everything, EmailRecords included).
type rtFacts struct {
	tickets map[int]restTicket
	txns    []restTxn           // in id order
	byID    map[int][]restTxn   // ticket id -> its transactions
	privs   map[string]bool     // user name -> Privileged, from /user/{name}
	queues  map[string]Queue    // by name
	sample  map[string]int      // named tickets and transactions for the samples
	cases   map[string][]int    // scenario case -> ticket ids
	agents  map[string]bool     // names of the scenario's agents
	ratings map[int]string      // ticket -> last Satisfaction value set
	horizon string              // the scenario horizon as TicketSQL wants it
	first   map[int]*restTxn    // ticket -> its first agent response (privileged, not a requestor)
	resolve map[int][]time.Time // ticket -> times it entered an inactive status
}

const ticketFields = "fields=Status,Queue,Requestor,Created,Started,Told,Resolved,LastUpdated&fields%5BQueue%5D=Name,Lifecycle"

func readFacts(t *testing.T, srv *Server, sc *Scenario) *rtFacts {
	t.Helper()
	f := &rtFacts{
		tickets: map[int]restTicket{}, byID: map[int][]restTxn{}, privs: map[string]bool{},
		queues: map[string]Queue{}, sample: map[string]int{}, cases: map[string][]int{},
		agents: map[string]bool{}, ratings: map[int]string{}, first: map[int]*restTxn{}, resolve: map[int][]time.Time{},
		horizon: sc.Horizon.UTC().Format(sqlTime),
	}
	began := time.Now()
	for _, raw := range srv.All(t, srv.Root, "/tickets?query="+url.QueryEscape("id > 0")+"&orderby=id&"+ticketFields, 20) {
		var tk restTicket
		mustUnmarshal(t, raw, &tk)
		f.tickets[int(tk.ID)] = tk
	}
	ticketsRead := time.Since(began)
	began = time.Now()
	query := url.QueryEscape("ObjectType = 'RT::Ticket'")
	for _, raw := range srv.All(t, srv.Root, "/transactions?query="+query+
		"&orderby=id&fields=ObjectId,Type,Field,OldValue,NewValue,Created,Creator", 50) {
		var x restTxn
		mustUnmarshal(t, raw, &x)
		f.txns = append(f.txns, x)
		f.byID[atoi(t, x.ObjectID)] = append(f.byID[atoi(t, x.ObjectID)], x)
	}
	t.Logf("read %d tickets (100 a page, with requestors and queue lifecycles) in %v, %d transactions in %v",
		len(f.tickets), ticketsRead.Round(time.Millisecond), len(f.txns), time.Since(began).Round(time.Millisecond))
	for _, q := range sc.Queues {
		f.queues[q.Name] = q
	}
	for _, a := range sc.Agents {
		f.agents[a.Name] = true
	}
	privileged := func(name string) bool {
		if p, ok := f.privs[name]; ok {
			return p
		}
		var u struct {
			Privileged int `json:"Privileged"`
		}
		srv.Call(t, srv.API, http.MethodGet, "/user/"+url.PathEscape(name), nil, &u)
		f.privs[name] = u.Privileged == 1
		return f.privs[name]
	}
	inactive := map[string]bool{"resolved": true, "rejected": true, "deleted": true, "done": true, "cancelled": true}
	for id, txns := range f.byID {
		requestors := map[string]bool{}
		for _, r := range f.tickets[id].Requestor {
			requestors[r.ID] = true
		}
		for i := range txns {
			x := &txns[i]
			switch {
			case x.Type == "Correspond" && f.first[id] == nil && x.Creator.ID != SystemUserName &&
				!requestors[x.Creator.ID] && privileged(x.Creator.ID):
				f.first[id] = x
			case x.Type == "Status" && inactive[x.NewValue]:
				f.resolve[id] = append(f.resolve[id], parseRESTTime(t, x.Created))
			case x.Type == "CustomField":
				f.ratings[id] = x.NewValue
			}
		}
	}
	return f
}

func mustUnmarshal(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, raw)
	}
}

func parseRESTTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("REST2 time %q: %v", s, err)
	}
	return tm
}

// restTime renders a backdated time as REST2 does: UTC, seconds, Z, and
// 1970-01-01T00:00:00Z for unset.
func restTime(tm time.Time) string {
	if tm.IsZero() {
		return "1970-01-01T00:00:00Z"
	}
	return tm.UTC().Format(time.RFC3339)
}

func testScenarioCases(t *testing.T, sc *Scenario, f *rtFacts) {
	if len(f.tickets) != testTickets {
		t.Fatalf("REST2 lists %d tickets, want %d", len(f.tickets), testTickets)
	}
	count := func(name string, pred func(id int, tk restTicket, plan ScenarioTicket) bool) {
		for _, plan := range sc.Tickets {
			if pred(plan.ID, f.tickets[plan.ID], plan) {
				f.cases[name] = append(f.cases[name], plan.ID)
			}
		}
		t.Logf("%-34s %d", name, len(f.cases[name]))
	}
	horizon := sc.Horizon
	count("created before the horizon", func(_ int, tk restTicket, _ ScenarioTicket) bool {
		return parseRESTTime(t, tk.Created).Before(horizon)
	})
	count("before the horizon, resolved after", func(id int, tk restTicket, _ ScenarioTicket) bool {
		rs := f.resolve[id]
		return parseRESTTime(t, tk.Created).Before(horizon) && len(rs) > 0 && rs[len(rs)-1].After(horizon)
	})
	count("unanswered", func(id int, _ restTicket, _ ScenarioTicket) bool { return f.first[id] == nil })
	count("unanswered with internal comments", func(id int, _ restTicket, _ ScenarioTicket) bool {
		return f.first[id] == nil && slices.ContainsFunc(f.byID[id], func(x restTxn) bool { return x.Type == "Comment" })
	})
	count("answered, still active", func(id int, tk restTicket, _ ScenarioTicket) bool {
		return f.first[id] != nil && len(f.resolve[id]) == 0
	})
	count("resolved", func(id int, _ restTicket, _ ScenarioTicket) bool { return len(f.resolve[id]) > 0 })
	count("rated", func(id int, _ restTicket, _ ScenarioTicket) bool { return f.ratings[id] != "" })
	count("reopened by mail", func(id int, _ restTicket, plan ScenarioTicket) bool {
		i := reopenIndex(f.byID[id])
		return i >= 0 && slices.ContainsFunc(plan.Events, func(e Event) bool {
			return e.Kind == EventMailReply && restTime(e.At.Truncate(time.Second)) == f.byID[id][i-1].Created
		})
	})
	count("created by mail", func(_ int, _ restTicket, plan ScenarioTicket) bool { return plan.ViaMail })
	count("raised by an agent for herself", func(_ int, tk restTicket, _ ScenarioTicket) bool {
		return len(tk.Requestor) == 1 && tk.Requestor[0].ID == sc.AgentRequestor.Name
	})
	count("with RT_System transactions", func(id int, _ restTicket, _ ScenarioTicket) bool {
		return slices.ContainsFunc(f.byID[id], func(x restTxn) bool { return x.Creator.ID == SystemUserName })
	})
	count("with an autoreply (EmailRecord)", func(id int, _ restTicket, _ ScenarioTicket) bool {
		return slices.ContainsFunc(f.byID[id], func(x restTxn) bool { return x.Type == "EmailRecord" })
	})
	count("in the custom lifecycle", func(_ int, tk restTicket, _ ScenarioTicket) bool {
		return tk.Queue.Lifecycle == ScenarioLifecycle.Name
	})
	for _, name := range []string{
		"created before the horizon", "before the horizon, resolved after", "unanswered",
		"unanswered with internal comments", "answered, still active", "resolved", "rated",
		"reopened by mail", "created by mail", "raised by an agent for herself",
		"with RT_System transactions", "with an autoreply (EmailRecord)", "in the custom lifecycle",
	} {
		if len(f.cases[name]) == 0 {
			t.Errorf("seed %d makes no ticket %s", testSeed, name)
		}
	}
}

// reopenIndex is the index of a Status change out of an inactive status
// right after a requestor's Correspond, or -1.
func reopenIndex(txns []restTxn) int {
	inactive := map[string]bool{"resolved": true, "rejected": true, "done": true, "cancelled": true}
	for i := 1; i < len(txns); i++ {
		if txns[i].Type == "Status" && inactive[txns[i].OldValue] && txns[i-1].Type == "Correspond" {
			return i
		}
	}
	return -1
}

func testBackdating(t *testing.T, srv *Server, sc *Scenario, f *rtFacts) {
	for _, plan := range sc.Tickets {
		want, ok := sc.Backdated.Tickets[plan.ID]
		if !ok {
			t.Fatalf("ticket %d was not backdated", plan.ID)
		}
		got := f.tickets[plan.ID]
		if want.Created != plan.Events[0].At.Truncate(time.Second) {
			t.Errorf("ticket %d: backdated Created %v, planned %v", plan.ID, want.Created, plan.Events[0].At)
		}
		for _, c := range []struct {
			column, got string
			want        time.Time
		}{
			{"Created", got.Created, want.Created}, {"Started", got.Started, want.Started},
			{"Told", got.Told, want.Told}, {"Resolved", got.Resolved, want.Resolved},
			{"LastUpdated", got.LastUpdated, want.LastUpdated},
		} {
			if c.got != restTime(c.want) {
				t.Errorf("ticket %d %s: REST2 %s, backdated %s", plan.ID, c.column, c.got, restTime(c.want))
			}
		}
		// Each planned event's time is on a transaction of that ticket.
		times := map[string]bool{}
		for _, x := range f.byID[plan.ID] {
			times[x.Created] = true
		}
		for _, ev := range plan.Events {
			if !times[restTime(ev.At.Truncate(time.Second))] {
				t.Errorf("ticket %d: no transaction at its %s event's time %v", plan.ID, ev.Kind, ev.At)
			}
		}
	}
	if len(f.txns) != len(sc.Backdated.Transactions) {
		t.Errorf("REST2 lists %d ticket transactions, backdating wrote %d", len(f.txns), len(sc.Backdated.Transactions))
	}
	var last time.Time
	for _, x := range f.txns {
		id := atoi(t, x.ID)
		want, ok := sc.Backdated.Transactions[id]
		if !ok {
			t.Errorf("transaction %d was not backdated", id)
			continue
		}
		created := parseRESTTime(t, x.Created)
		if !created.Equal(want) {
			t.Errorf("transaction %d: REST2 Created %v, backdated %v", id, created, want)
		}
		if created.Before(last) {
			t.Errorf("transaction %d at %v comes after one at %v: ids must ascend with time", id, created, last)
		}
		last = created
	}
	// The horizon splits tickets by their backdated Created in TicketSQL too.
	var page Page
	srv.Call(t, srv.API, http.MethodGet, "/tickets?per_page=1&query="+url.QueryEscape("Created < '"+f.horizon+"'"), nil, &page)
	if page.Total == nil || *page.Total != len(f.cases["created before the horizon"]) {
		t.Errorf("TicketSQL Created < horizon: total %v, want %d", page.Total, len(f.cases["created before the horizon"]))
	}
}

func testReopenByMail(t *testing.T, srv *Server, sc *Scenario, f *rtFacts) {
	ids := f.cases["reopened by mail"]
	if len(ids) == 0 {
		t.Skip("no ticket reopened by mail")
	}
	for _, id := range ids {
		var plan ScenarioTicket
		for _, p := range sc.Tickets {
			if p.ID == id {
				plan = p
			}
		}
		txns := f.byID[id]
		i := reopenIndex(txns)
		reply, reopen := txns[i-1], txns[i]
		if reply.Creator.ID != plan.Requestor {
			t.Errorf("ticket %d: reply before the reopen by %s, want the requestor %s", id, reply.Creator.ID, plan.Requestor)
		}
		// RT's "On Correspond Open Inactive Tickets" scrip records the
		// reopen itself, in the same second as the reply.
		if reopen.Creator.ID != SystemUserName || reopen.Created != reply.Created || reopen.Field != "Status" {
			t.Errorf("ticket %d: reopen %+v after reply %+v; want Status by RT_System at the reply's time", id, reopen, reply)
		}
		if atoi(t, reopen.ID) != atoi(t, reply.ID)+1 {
			t.Errorf("ticket %d: reopen transaction %s does not follow the reply %s", id, reopen.ID, reply.ID)
		}
	}
}

func testNonSuperuserTransactions(t *testing.T, srv *Server, f *rtFacts) {
	query := "ObjectType = 'RT::Ticket'"
	page := func(as Credentials, q string, n int) Page {
		var p Page
		srv.Call(t, as, http.MethodGet, fmt.Sprintf("/transactions?query=%s&orderby=id&per_page=20&page=%d", url.QueryEscape(q), n), nil, &p)
		return p
	}
	if root := page(srv.Root, query, 1); root.Total == nil || root.Pages == nil || root.NextPage == nil {
		t.Errorf("superuser's /transactions lacks total/pages/next_page: %+v", root)
	}
	emailRecords := 0
	for _, x := range f.txns {
		if x.Type == "EmailRecord" {
			emailRecords++
		}
	}
	// RT checks each transaction's visibility after the page is cut:
	// EmailRecords need ShowOutgoingEmail, which agents lack, so the
	// agent's pages come back short although more follow. Only an empty
	// page ends the listing.
	seen, shortThenMore := 0, false
	for n := 1; n <= 50; n++ {
		p := page(srv.API, query, n)
		if p.Total != nil || p.Pages != nil || p.NextPage != nil {
			t.Errorf("non-superuser's page %d has total/pages/next_page: %v %v %v", n, p.Total, p.Pages, p.NextPage)
		}
		if p.Count == 0 {
			break
		}
		if n > 1 && seen < (n-1)*20 {
			shortThenMore = true
		}
		seen += p.Count
	}
	if want := len(f.txns) - emailRecords; seen != want {
		t.Errorf("non-superuser paged to an empty page and saw %d transactions, want all %d but the EmailRecords", seen, want)
	}
	if !shortThenMore {
		t.Errorf("no short page followed by more: the EmailRecord trap is gone, update REST2.md")
	}
	if full := page(srv.API, query+" AND Type != 'EmailRecord'", 1); full.Count != 20 {
		t.Errorf("non-superuser's page without EmailRecords has %d of 20", full.Count)
	}
}

func testLiveChanges(t *testing.T, srv *Server, sc *Scenario, f *rtFacts) {
	// Backdated tickets: any change now moves LastUpdated out of the past.
	var resolved, active int
	for _, id := range f.cases["resolved"] {
		if f.tickets[id].Status == "resolved" && resolved == 0 {
			resolved = id
		}
	}
	activeStatus := map[string]bool{"open": true, "stalled": true, "assigned": true, "waiting": true}
	for _, id := range f.cases["answered, still active"] {
		if activeStatus[f.tickets[id].Status] && active == 0 {
			active = id
		}
	}
	if resolved == 0 || active == 0 {
		t.Fatalf("no resolved (%d) or active (%d) ticket to change", resolved, active)
	}
	agent := sc.Agents[0]
	read := func(id int) restTicket {
		var tk restTicket
		srv.Call(t, srv.API, http.MethodGet, "/ticket/"+strconv.Itoa(id), nil, &tk)
		return tk
	}
	before := read(resolved)
	now := time.Now().UTC().Add(-2 * time.Second)
	moved := func(tk restTicket) bool { return !parseRESTTime(t, tk.LastUpdated).Before(now) }

	srv.Comment(t, agent.Credentials(), Message{Ticket: resolved, Content: "internal note"})
	afterComment := read(resolved)
	if !moved(afterComment) || afterComment.Told != before.Told || afterComment.Status != "resolved" {
		t.Errorf("comment: LastUpdated %s Told %s Status %s; want LastUpdated now, Told and Status unchanged (%s, %s)",
			afterComment.LastUpdated, afterComment.Told, afterComment.Status, before.Told, before.Status)
	}

	srv.SetCustomField(t, sc.Intake.Credentials(), resolved, SatisfactionField, "1")
	if tk := read(resolved); !moved(tk) {
		t.Errorf("custom field change left LastUpdated at %s", tk.LastUpdated)
	}

	// An agent's reply to a resolved ticket reopens it too (the scrip
	// fires on any Correspond), and Resolved keeps the old time.
	srv.Correspond(t, agent.Credentials(), Message{Ticket: resolved, Content: "one more thing"})
	reopened := read(resolved)
	var last Page
	srv.Call(t, srv.Root, http.MethodGet, fmt.Sprintf("/transactions?per_page=2&orderby=id&order=DESC&fields=Type,OldValue,NewValue,Creator&query=%s",
		url.QueryEscape(fmt.Sprintf("ObjectType = 'RT::Ticket' AND ObjectId = %d", resolved))), nil, &last)
	var status, reply restTxn
	if len(last.Items) == 2 {
		mustUnmarshal(t, last.Items[0], &status)
		mustUnmarshal(t, last.Items[1], &reply)
	}
	if reply.Type != "Correspond" || reply.Creator.ID != agent.Name || status.Type != "Status" ||
		status.OldValue != "resolved" || status.Creator.ID != SystemUserName {
		t.Errorf("agent reply to a resolved ticket: last transactions %+v then %+v; want the agent's Correspond, then Status resolved→ by RT_System", reply, status)
	}
	if reopened.Status != "open" || !moved(reopened) || parseRESTTime(t, reopened.Told).Before(now) || reopened.Resolved != before.Resolved {
		t.Errorf("agent reply to a resolved ticket: Status %s LastUpdated %s Told %s Resolved %s; want open, now, now, %s",
			reopened.Status, reopened.LastUpdated, reopened.Told, reopened.Resolved, before.Resolved)
	}

	// A requestor's reply to an active ticket (open, stalled...) changes
	// no status and no Told.
	stalled := read(active)
	requestor := sc.Tickets[slices.IndexFunc(sc.Tickets, func(p ScenarioTicket) bool { return p.ID == active })].Requestor
	var creds Credentials
	for _, c := range sc.Customers {
		if c.Name == requestor {
			creds = c.Credentials()
		}
	}
	if creds.User == "" {
		t.Logf("active ticket %d has no portal requestor; replying by mail", active)
		srv.SendMail(t, Mail{From: requestor, Queue: stalled.Queue.Name, Subject: "still waiting", Ticket: active, Body: "any news?"})
	} else {
		srv.Correspond(t, creds, Message{Ticket: active, Content: "any news?"})
	}
	if tk := read(active); tk.Status != stalled.Status || tk.Told != stalled.Told || !moved(tk) {
		t.Errorf("requestor reply to an active ticket: Status %s Told %s LastUpdated %s; want %s, %s, now",
			tk.Status, tk.Told, tk.LastUpdated, stalled.Status, stalled.Told)
	}
}

func TestPlanIsDeterministicBySeed(t *testing.T) {
	plan := func(seed uint64) []ScenarioTicket {
		sc := &Scenario{
			Queues:         []Queue{{Name: "IT"}, {Name: "HR"}},
			Agents:         []User{{Name: "a1"}, {Name: "a2"}, {Name: "erin"}},
			AgentRequestor: User{Name: "erin"},
			Customers:      []User{{Name: "c1", EmailAddress: "c1@example.com"}, {Name: "c2", EmailAddress: "c2@example.com"}},
			Intake:         User{Name: "intake"},
		}
		sc.AgentRequestor = sc.Agents[2]
		statuses := map[string]statusSet{
			"IT": {"open", "stalled", "resolved", "rejected"}, "HR": {"open", "stalled", "resolved", "rejected"},
		}
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		opts := ScenarioOptions{Tickets: 100, Span: 30 * 24 * time.Hour}
		return planTickets(sc, statuses, newScenarioRand(seed), opts, now.Add(-opts.Span), now)
	}
	a, b, c := plan(1), plan(1), plan(2)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("the same seed planned different tickets")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("different seeds planned the same tickets")
	}
	for i := 1; i < len(a); i++ {
		if a[i].Events[0].At.Before(a[i-1].Events[0].At) {
			t.Fatalf("ticket %d is created before ticket %d: ids would not ascend with Created", i, i-1)
		}
	}
	for _, tk := range a {
		for j := 1; j < len(tk.Events); j++ {
			if tk.Events[j].At.Before(tk.Events[j-1].At) {
				t.Fatalf("%s: event %d before event %d", tk.Subject, j, j-1)
			}
		}
	}
}

func TestPerlString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `'plain'`},
		{"it's", `'it\'s'`},
		{`back\slash`, `'back\\slash'`},
		{"", `''`},
	} {
		if got := perlString(tc.in); got != tc.want {
			t.Errorf("perlString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestCheckUpdate(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    TicketUpdate
		msgs []string
		ok   bool
	}{
		{"status", TicketUpdate{Status: "resolved"}, []string{"Ticket 1: Status changed from 'open' to 'resolved'"}, true},
		{"invalid status", TicketUpdate{Status: "bogus"}, []string{"Ticket 1: Status 'bogus' isn't a valid status for this ticket."}, false},
		{"other status", TicketUpdate{Status: "resolved"}, []string{"Ticket 1: Status changed from 'open' to 'stalled'"}, false},
		{"custom field added", TicketUpdate{CustomFields: map[string]string{"Satisfaction": "4"}}, []string{"Satisfaction 4 added"}, true},
		{"custom field changed", TicketUpdate{CustomFields: map[string]string{"Satisfaction": "5"}}, []string{"Satisfaction 4 changed to 5"}, true},
		{"custom field refused", TicketUpdate{CustomFields: map[string]string{"Satisfaction": "9"}}, []string{"Invalid value for custom field"}, false},
		{"no answer", TicketUpdate{CustomFields: map[string]string{"Satisfaction": "5"}}, nil, false},
	} {
		if err := checkUpdate(tc.u, tc.msgs); (err == nil) != tc.ok {
			t.Errorf("%s: checkUpdate = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestRenderLifecycle(t *testing.T) {
	got := renderLifecycle(Lifecycle{Name: "x", Initial: []string{"a"}, Active: []string{"b"}, Inactive: []string{"c"}})
	for _, want := range []string{
		"'x' => {", "initial => ['a']", "active => ['b']", "inactive => ['c']",
		"defaults => { on_create => 'a' }", "'' => ['a', 'b', 'c']", "'a' => ['b', 'c']", "'c' => ['a', 'b']",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lifecycle lacks %q:\n%s", want, got)
		}
	}
}
