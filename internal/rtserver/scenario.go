package rtserver

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// ScenarioLifecycle is the custom lifecycle BuildScenario gives its last
// queue when the server was started with it in Options.Lifecycles.
var ScenarioLifecycle = Lifecycle{
	Name:     "facilities",
	Initial:  []string{"reported"},
	Active:   []string{"assigned", "waiting"},
	Inactive: []string{"done", "cancelled"},
}

// ScenarioOptions size a scenario. Zero values take the defaults.
type ScenarioOptions struct {
	Seed uint64
	// Tickets to create (default 200; about 0.2 s each on 2 busy cores).
	Tickets int
	// Queues (default 3, at most len(scenarioQueues)).
	Queues int
	// Now is the scenario's present (default time.Now()); no event is
	// later than a minute before it.
	Now time.Time
	// Span is how far back the first ticket is created (default 45 days).
	Span time.Duration
	// Horizon is the exporter's lookback the scenario is built around
	// (default 30 days): tickets are created on both sides of it.
	Horizon time.Duration
}

// EventKind is what a scenario event did.
type EventKind string

// The events a scenario ticket goes through.
const (
	EventCreate        EventKind = "create"         // through a web form (REST2, service account) or by mail
	EventReply         EventKind = "reply"          // agent's Correspond, optionally changing status
	EventComment       EventKind = "comment"        // agent's internal Comment
	EventCustomerReply EventKind = "customer-reply" // requestor's Correspond through REST2 (portal)
	EventMailReply     EventKind = "mail-reply"     // requestor's Correspond through rt-mailgate-5
	EventStatus        EventKind = "status"         // agent changes status only
	EventRating        EventKind = "rating"         // survey sets Satisfaction
)

// Event is one planned action of a scenario ticket.
type Event struct {
	Kind EventKind
	At   time.Time
	// By is the acting user's name (a mail's sender address for mail).
	By string
	// Status is the status the event sets explicitly ("" for none; RT may
	// still change it by itself, e.g. reopening on a requestor's reply).
	Status string
	// Rating is the Satisfaction value a rating sets.
	Rating string
}

// ScenarioTicket is a created ticket and what was done to it.
type ScenarioTicket struct {
	ID             int
	Queue          string
	Subject        string
	Requestor      string // user name (the address, for customers RT created from their mail)
	RequestorEmail string
	ViaMail        bool // created by customer mail
	Events         []Event

	creds []Credentials // per event
}

// Scenario is what BuildScenario made.
type Scenario struct {
	Now, Horizon time.Time
	Queues       []Queue
	// Agents are privileged members of Agents; AgentRequestor, one of
	// them, also raises tickets for herself.
	Agents         []User
	AgentRequestor User
	// Customers are unprivileged users with passwords (portal users);
	// mail-only customers are created by RT on their first mail.
	Customers []User
	// Intake is the service account web forms and surveys use.
	Intake  User
	Tickets []ScenarioTicket
	// Backdated holds the times Timeline.Apply wrote.
	Backdated Backdated
	// Requests counts the REST2 requests and mails that made the tickets.
	Requests, Mails int
	Timings         struct{ Setup, Create, Events, Backdate time.Duration }
}

// planTickets plans the tickets, in creation order: a pure function of
// the scenario's users and queues, the options and the random source.
func planTickets(sc *Scenario, statuses map[string]statusSet, rng *rand.Rand, opts ScenarioOptions, first, latest time.Time) []ScenarioTicket {
	plan := scenarioPlanner{sc: sc, rng: rng, statuses: statuses, latest: latest}
	step := opts.Span / time.Duration(opts.Tickets)
	tickets := make([]ScenarioTicket, 0, opts.Tickets)
	for i := range opts.Tickets {
		created := first.Add(time.Duration(i)*step + time.Duration(rng.Int64N(int64(step))))
		tickets = append(tickets, plan.ticket(i, created))
	}
	return tickets
}

var scenarioQueues = []string{"IT", "HR", "Facilities", "Finance", "Security", "Legal"}

var agentNames = []string{"alice", "bob", "chandra", "dmitri"}

const (
	agentRequestorName = "erin"
	intakeName         = "intake"
	portalCustomers    = 12
)

// statusSet names a queue's statuses in the scenario's terms.
type statusSet struct{ open, stalled, resolved, rejected string }

// BuildScenario creates a realistic desk, deterministic by seed: queues
// (the first with RT's autoreply, so its tickets get RT_System
// EmailRecord transactions; the last in ScenarioLifecycle when the server
// has it), agents, portal customers, and tickets on both sides of the
// horizon: unanswered ones (some with only internal comments or a
// customer's follow-up, which RT answers by opening the ticket as
// RT_System), answered and stalled ones, resolved and rejected ones,
// ratings, reopens by mail and through the portal, and tickets an agent
// raised for herself. Everything is created through REST2 (bulk where the
// API allows) and rt-mailgate-5, then moved into the past by a Timeline.
func BuildScenario(t testing.TB, srv *Server, opts ScenarioOptions) *Scenario {
	t.Helper()
	if opts.Tickets <= 0 {
		opts.Tickets = 200
	}
	if opts.Queues <= 0 {
		opts.Queues = 3
	}
	opts.Queues = min(opts.Queues, len(scenarioQueues))
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Span <= 0 {
		opts.Span = 45 * 24 * time.Hour
	}
	if opts.Horizon <= 0 {
		opts.Horizon = 30 * 24 * time.Hour
	}
	began := time.Now()
	now := opts.Now.UTC().Truncate(time.Second)
	sc := &Scenario{Now: now, Horizon: now.Add(-opts.Horizon)}
	rng := newScenarioRand(opts.Seed)
	first := now.Add(-opts.Span)
	tl := srv.NewTimeline(t, first.Add(-24*time.Hour))

	statuses := map[string]statusSet{}
	hasLifecycle := slices.ContainsFunc(srv.lifecycles, func(lc Lifecycle) bool { return lc.Name == ScenarioLifecycle.Name })
	for i, name := range scenarioQueues[:opts.Queues] {
		spec := QueueSpec{Name: name}
		set := statusSet{open: "open", stalled: "stalled", resolved: "resolved", rejected: "rejected"}
		if i == opts.Queues-1 && i > 0 && hasLifecycle {
			spec.Lifecycle = ScenarioLifecycle.Name
			set = statusSet{open: "assigned", stalled: "waiting", resolved: "done", rejected: "cancelled"}
		}
		sc.Queues = append(sc.Queues, srv.CreateQueue(t, spec))
		statuses[name] = set
	}
	srv.EnableAutoreply(t, sc.Queues[0])
	for _, name := range agentNames {
		sc.Agents = append(sc.Agents, srv.CreateUser(t, UserSpec{
			Name: name, EmailAddress: name + "@" + Rtname, RealName: titleCase(name) + " Agent", Agent: true,
		}))
	}
	sc.AgentRequestor = srv.CreateUser(t, UserSpec{
		Name: agentRequestorName, EmailAddress: agentRequestorName + "@" + Rtname, RealName: "Erin Agent", Agent: true,
	})
	sc.Agents = append(sc.Agents, sc.AgentRequestor)
	sc.Intake = srv.CreateUser(t, UserSpec{
		Name: intakeName, EmailAddress: intakeName + "@" + Rtname, RealName: "Web forms and surveys", Groups: []string{"Integrations"},
	})
	for i := 1; i <= portalCustomers; i++ {
		name := fmt.Sprintf("customer%02d", i)
		sc.Customers = append(sc.Customers, srv.CreateUser(t, UserSpec{
			Name: name, EmailAddress: name + "@example.com", RealName: fmt.Sprintf("Customer %02d", i),
		}))
	}

	sc.Timings.Setup = time.Since(began)
	sc.Tickets = planTickets(sc, statuses, rng, opts, first, now.Add(-time.Minute))

	r := scenarioRunner{srv: srv, sc: sc, tl: tl}
	mark := time.Now()
	r.createAll(t)
	sc.Timings.Create = time.Since(mark)
	mark = time.Now()
	for k := 1; r.step(t, k); k++ { // every ticket's k-th event, until none has one
	}
	sc.Timings.Events = time.Since(mark)
	mark = time.Now()
	sc.Backdated = tl.Apply(t)
	sc.Timings.Backdate = time.Since(mark)
	t.Logf("scenario: %d tickets in %d queues, %d transactions, %d REST2 requests and %d mails; setup %v, create %v, events %v, backdate %v",
		len(sc.Tickets), len(sc.Queues), len(sc.Backdated.Transactions), sc.Requests, sc.Mails,
		sc.Timings.Setup.Round(time.Millisecond), sc.Timings.Create.Round(time.Millisecond),
		sc.Timings.Events.Round(time.Millisecond), sc.Timings.Backdate.Round(time.Millisecond))
	return sc
}

func newScenarioRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x5eed))
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

type scenarioPlanner struct {
	sc       *Scenario
	rng      *rand.Rand
	statuses map[string]statusSet
	latest   time.Time
}

// between returns a duration uniformly in [lo, hi).
func (p *scenarioPlanner) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(p.rng.Int64N(int64(hi-lo)))
}

// responseDelay is how long an agent takes: mostly minutes to hours,
// sometimes days.
func (p *scenarioPlanner) responseDelay() time.Duration {
	switch r := p.rng.Float64(); {
	case r < 0.4:
		return p.between(3*time.Minute, time.Hour)
	case r < 0.75:
		return p.between(time.Hour, 8*time.Hour)
	case r < 0.95:
		return p.between(8*time.Hour, 48*time.Hour)
	default:
		return p.between(2*24*time.Hour, 5*24*time.Hour)
	}
}

func (p *scenarioPlanner) rating() string {
	switch r := p.rng.Float64(); {
	case r < 0.4:
		return "5"
	case r < 0.7:
		return "4"
	case r < 0.85:
		return "3"
	case r < 0.93:
		return "2"
	default:
		return "1"
	}
}

// ticket plans one ticket: who raised it, how, and what happens to it.
// Events that would fall after p.latest are dropped, so recent tickets
// are naturally still in progress.
func (p *scenarioPlanner) ticket(i int, created time.Time) ScenarioTicket {
	sc := p.sc
	queue := sc.Queues[p.rng.IntN(len(sc.Queues))].Name
	st := p.statuses[queue]
	agent := sc.Agents[p.rng.IntN(len(sc.Agents)-1)] // the agent-requestor answers none
	other := sc.Agents[(slices.Index(sc.Agents, agent)+1)%(len(sc.Agents)-1)]
	tk := ScenarioTicket{Queue: queue}

	var customer *User
	kind := p.rng.Float64()
	mailOnly := false
	switch {
	case kind > 0.97: // an agent raises a ticket for herself
		customer = &sc.AgentRequestor
	case p.rng.Float64() < 0.04: // a customer RT does not know yet writes in
		mailOnly = true
	default:
		customer = &sc.Customers[p.rng.IntN(len(sc.Customers))]
	}
	requestorAddr := ""
	if customer != nil {
		tk.Requestor, requestorAddr = customer.Name, customer.EmailAddress
	} else {
		requestorAddr = fmt.Sprintf("mailer%03d@example.net", i)
		tk.Requestor = requestorAddr
	}
	tk.RequestorEmail = requestorAddr
	tk.Subject = fmt.Sprintf("%s request %03d", queue, i)

	at := created
	add := func(kind EventKind, by Credentials, name string, status, rating string) bool {
		if at.After(p.latest) {
			return false
		}
		tk.Events = append(tk.Events, Event{Kind: kind, At: at, By: name, Status: status, Rating: rating})
		tk.creds = append(tk.creds, by)
		return true
	}
	// Creation: by mail (mail-only customers, some others), through the
	// web form's service account, or by the agent herself.
	switch {
	case mailOnly || customer != &sc.AgentRequestor && p.rng.Float64() < 0.03:
		tk.ViaMail = true
		add(EventCreate, Credentials{}, requestorAddr, "", "")
	case customer == &sc.AgentRequestor:
		add(EventCreate, sc.AgentRequestor.Credentials(), sc.AgentRequestor.Name, "", "")
	default:
		add(EventCreate, sc.Intake.Credentials(), sc.Intake.Name, "", "")
	}
	// A customer's own follow-up: through the portal when they have a
	// password, by mail otherwise.
	customerReply := func(after time.Duration) bool {
		at = at.Add(after)
		if customer != nil {
			return add(EventCustomerReply, customer.Credentials(), customer.Name, "", "")
		}
		return add(EventMailReply, Credentials{}, requestorAddr, "", "")
	}
	reply := func(by User, after time.Duration, status string) bool {
		at = at.Add(after)
		return add(EventReply, by.Credentials(), by.Name, status, "")
	}
	comment := func(by User, after time.Duration) bool {
		at = at.Add(after)
		return add(EventComment, by.Credentials(), by.Name, "", "")
	}
	lastRating := ""
	rate := func(after time.Duration) bool {
		at = at.Add(after)
		rating := p.rating()
		if rating == lastRating {
			return true // the same answer again changes nothing in RT
		}
		lastRating = rating
		return add(EventRating, sc.Intake.Credentials(), sc.Intake.Name, "", rating)
	}
	resolve := func(by User, after time.Duration) bool {
		if p.rng.Float64() < 0.6 {
			return reply(by, after, st.resolved) // reply and resolve
		}
		at = at.Add(after)
		return add(EventStatus, by.Credentials(), by.Name, st.resolved, "")
	}

	switch r := p.rng.Float64(); {
	case customer == &sc.AgentRequestor:
		// Her own follow-up is a requestor's, not a response; a colleague answers.
		_ = customerReply(p.between(10*time.Minute, 3*time.Hour)) &&
			reply(other, p.responseDelay(), "") &&
			resolve(other, p.between(time.Hour, 2*24*time.Hour))
	case r < 0.12: // unanswered
		if p.rng.Float64() < 0.5 {
			comment(agent, p.responseDelay())
		}
		if p.rng.Float64() < 0.3 {
			customerReply(p.between(time.Hour, 2*24*time.Hour))
		}
	case r < 0.30: // answered, in progress
		_ = (p.rng.Float64() >= 0.4 || comment(other, p.between(2*time.Minute, 2*time.Hour))) &&
			reply(agent, p.responseDelay(), "") &&
			(p.rng.Float64() >= 0.4 || customerReply(p.between(10*time.Minute, 24*time.Hour))) &&
			(p.rng.Float64() >= 0.3 || reply(agent, p.between(10*time.Minute, 4*time.Hour), st.stalled))
	case r < 0.35: // rejected, mostly without an answer
		if p.rng.Float64() < 0.3 {
			reply(agent, p.responseDelay(), "")
		}
		at = at.Add(p.between(5*time.Minute, 6*time.Hour))
		add(EventStatus, agent.Credentials(), agent.Name, st.rejected, "")
	case r < 0.91: // resolved
		_ = (p.rng.Float64() >= 0.3 || comment(agent, p.between(2*time.Minute, 3*time.Hour))) &&
			reply(agent, p.responseDelay(), "") &&
			(p.rng.Float64() >= 0.35 || customerReply(p.between(10*time.Minute, 24*time.Hour)) &&
				reply(agent, p.between(10*time.Minute, 8*time.Hour), "")) &&
			resolve(agent, p.between(30*time.Minute, 3*24*time.Hour)) &&
			(p.rng.Float64() >= 0.65 || rate(p.between(time.Hour, 2*24*time.Hour)))
	default: // resolved, reopened by the requestor, resolved again
		reopen := func(after time.Duration) bool {
			at = at.Add(after)
			if customer == nil || p.rng.Float64() < 0.6 {
				return add(EventMailReply, Credentials{}, requestorAddr, "", "")
			}
			return add(EventCustomerReply, customer.Credentials(), customer.Name, "", "")
		}
		_ = reply(agent, p.responseDelay(), "") &&
			resolve(agent, p.between(30*time.Minute, 2*24*time.Hour)) &&
			(p.rng.Float64() >= 0.3 || rate(p.between(time.Hour, 24*time.Hour))) &&
			reopen(p.between(time.Hour, 4*24*time.Hour)) &&
			reply(agent, p.responseDelay(), "") &&
			resolve(agent, p.between(30*time.Minute, 2*24*time.Hour)) &&
			(p.rng.Float64() >= 0.5 || rate(p.between(time.Hour, 2*24*time.Hour)))
	}
	return tk
}

type scenarioRunner struct {
	srv *Server
	sc  *Scenario
	tl  *Timeline
}

// createAll creates the tickets in the order of their planned creation,
// so that ticket ids ascend with Created as in a real RT: runs of tickets
// by the same creator go through the bulk endpoint, mail one by one.
func (r *scenarioRunner) createAll(t testing.TB) {
	t.Helper()
	r.tl.Step(t)
	var run []int // indexes into sc.Tickets
	flush := func() {
		if len(run) == 0 {
			return
		}
		specs := make([]TicketSpec, len(run))
		for j, i := range run {
			tk := &r.sc.Tickets[i]
			specs[j] = TicketSpec{
				Queue: tk.Queue, Subject: tk.Subject, Requestors: []string{tk.Requestor},
				Content: fmt.Sprintf("%s\n\nSubmitted by %s.", tk.Subject, tk.Requestor),
			}
		}
		ids := r.srv.CreateTickets(t, r.sc.Tickets[run[0]].creds[0], specs)
		r.sc.Requests += (len(run) + bulkChunk - 1) / bulkChunk
		for j, i := range run {
			r.sc.Tickets[i].ID = ids[j]
			r.tl.At(t, ids[j], r.sc.Tickets[i].Events[0].At)
		}
		run = run[:0]
	}
	for i := range r.sc.Tickets {
		tk := &r.sc.Tickets[i]
		if tk.ViaMail {
			flush()
			tk.ID = r.srv.SendMail(t, Mail{
				From: tk.RequestorEmail, Queue: tk.Queue, Subject: tk.Subject,
				Body: tk.Subject + "\n\nSent by mail.",
			})
			r.sc.Mails++
			r.tl.At(t, tk.ID, tk.Events[0].At)
			continue
		}
		if len(run) > 0 && r.sc.Tickets[run[0]].creds[0] != tk.creds[0] {
			flush()
		}
		run = append(run, i)
	}
	flush()
}

// step runs every ticket's k-th event, batched by kind and user; it
// reports whether any ticket had one.
func (r *scenarioRunner) step(t testing.TB, k int) bool {
	t.Helper()
	type batchKey struct {
		kind  EventKind
		creds Credentials
	}
	batches := map[batchKey][]int{}
	var keys []batchKey
	for i, tk := range r.sc.Tickets {
		if k >= len(tk.Events) {
			continue
		}
		key := batchKey{tk.Events[k].Kind, tk.creds[k]}
		if _, ok := batches[key]; !ok {
			keys = append(keys, key)
		}
		batches[key] = append(batches[key], i)
	}
	if len(keys) == 0 {
		return false
	}
	r.tl.Step(t)
	for _, key := range keys {
		idx := batches[key]
		switch key.kind {
		case EventReply, EventCustomerReply, EventComment:
			msgs := make([]Message, len(idx))
			for j, i := range idx {
				tk := r.sc.Tickets[i]
				ev := tk.Events[k]
				msgs[j] = Message{Ticket: tk.ID, Status: ev.Status,
					Content: fmt.Sprintf("%s from %s on %s.", ev.Kind, ev.By, tk.Subject)}
			}
			if key.kind == EventComment {
				r.srv.CommentBulk(t, key.creds, msgs)
			} else {
				r.srv.CorrespondBulk(t, key.creds, msgs)
			}
			r.sc.Requests += (len(msgs) + bulkChunk - 1) / bulkChunk
		case EventStatus, EventRating:
			updates := make([]TicketUpdate, len(idx))
			for j, i := range idx {
				tk := r.sc.Tickets[i]
				ev := tk.Events[k]
				updates[j] = TicketUpdate{Ticket: tk.ID, Status: ev.Status}
				if ev.Rating != "" {
					updates[j].CustomFields = map[string]string{SatisfactionField: ev.Rating}
				}
			}
			r.srv.UpdateTickets(t, key.creds, updates)
			r.sc.Requests += (len(updates) + bulkChunk - 1) / bulkChunk
		case EventMailReply:
			for _, i := range idx {
				tk := r.sc.Tickets[i]
				r.srv.SendMail(t, Mail{From: tk.RequestorEmail, Queue: tk.Queue, Subject: tk.Subject, Ticket: tk.ID,
					Body: "Reply by mail on " + tk.Subject + "."})
				r.sc.Mails++
			}
		default:
			t.Fatalf("scenario: event %s after creation", key.kind)
		}
		for _, i := range idx {
			r.tl.At(t, r.sc.Tickets[i].ID, r.sc.Tickets[i].Events[k].At)
		}
	}
	return true
}
