package demo

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// maxLifetime bounds every lifecycle: no event happens later than this after
// creation. It follows from the caps on the drawn durations below (the
// longest path is about 47 days) and tells the poller how far back a ticket
// can still change.
const maxLifetime = 50 * day

// Shares of the rarer paths through a lifecycle.
const (
	neglectedShare    = 0.008 // left unanswered for weeks
	silentShare       = 0.03  // resolved without any public reply (duplicates, spam)
	nudgeShare        = 0.3   // reporter asks for news while waiting long
	internalNoteShare = 0.55  // an agent note before the first public reply
	waitingShare      = 0.35  // first round of waiting for the customer
	secondWaitShare   = 0.2   // a second round
	resolveNoteShare  = 0.6   // a public comment with the resolution
	reopenShare       = 0.045 // reopened after resolution
	reratedShare      = 0.07  // ratings changed later
)

// closeAfter is when a resolved ticket is closed for good.
const closeAfter = 3 * day

// statusChange is the ticket entering a status.
type statusChange struct {
	at       time.Time
	name     string
	category ticket.Category
}

// span is a half-open interval [from, to).
type span struct{ from, to time.Time }

// cycle is one SLA cycle over the whole lifecycle.
type cycle struct {
	start, stop time.Time
	goal        time.Duration
	pauses      []span
	// breachAt is when the elapsed time reaches the goal; zero when the
	// cycle stops before that.
	breachAt time.Time
}

// slaTrack is one SLA with all the cycles it will ever have.
type slaTrack struct {
	name   string
	cycles []cycle
}

// teamChange is the ticket being routed to a team.
type teamChange struct {
	at   time.Time
	name string
}

// lifecycle is a ticket's whole life, generated at once.
type lifecycle struct {
	id, key, desk, requestType, priority, reporter string
	// group is the reporter's customer group; teams the teams the ticket
	// is routed to, the first at creation; assigned when an agent took it
	// (zero: never).
	group    string
	teams    []teamChange
	assigned time.Time

	created     time.Time
	statuses    []statusChange // the first one is at creation
	comments    []ticket.Comment
	resolutions []ticket.ResolutionChange
	ratings     []ticket.Rating
	slas        []slaTrack

	// changes holds every instant at which the facts change, sorted: the
	// events above plus SLA breaches. lastChange is its last element.
	changes    []time.Time
	lastChange time.Time
	// settled is the final resolution, after which the ticket stays done.
	settled time.Time
}

// builder collects events while a lifecycle is generated.
type builder struct {
	r  *rand.Rand
	lc *lifecycle
}

func (b *builder) status(at time.Time, name string, category ticket.Category) {
	b.lc.statuses = append(b.lc.statuses, statusChange{at, name, category})
}

func (b *builder) comment(at time.Time, author ticket.Author, public bool) {
	b.lc.comments = append(b.lc.comments, ticket.Comment{At: at, Author: author, Public: public})
}

// resolve sets the resolution; mayNote allows a public agent comment with it.
func (b *builder) resolve(at time.Time, mayNote bool) {
	b.status(at, statusResolved, ticket.CategoryDone)
	b.lc.resolutions = append(b.lc.resolutions, ticket.ResolutionChange{At: at, Set: true})
	if mayNote && b.r.Float64() < resolveNoteShare {
		b.comment(at, ticket.AuthorAgent, true)
	}
}

func (b *builder) chance(p float64) bool { return b.r.Float64() < p }

// seedTicketRNG seeds pcg for one ticket's lifecycle: a stream of its own,
// separate from the slot RNGs (which use the seed itself).
func seedTicketRNG(pcg *rand.PCG, seed uint64, id int64) {
	pcg.Seed(seed^0x9e3779b97f4a7c15, uint64(id))
}

// newLifecycle generates the life of ticket id, created at created on desk,
// drawing from r, which must be seeded for this ticket; seed places the
// reporters in their customer groups.
func newLifecycle(r *rand.Rand, seed uint64, id int64, keyNumber int64, desk string, created time.Time) *lifecycle {
	desk0 := profileOf(desk)
	rt := pick(r, desk0.types)
	prio := pick(r, priorities)
	if rt.name == "Incident" {
		prio = pick(r, incidentPriorities)
	}
	profile := priorityProfiles[prio]
	pace := desk0.pace * rt.pace
	// Skewed towards low numbers: some colleagues file far more tickets.
	user := 1 + r.IntN(1+r.IntN(600))
	group := groupOf(seed, user)
	// A group that seldom files with this desk (suppliers with HR) hands
	// the ticket to another reporter most of the time.
	for range 3 {
		if a := group.affinity(desk); a >= 1 || r.Float64() < a {
			break
		}
		user = 1 + r.IntN(1+r.IntN(600))
		group = groupOf(seed, user)
	}
	route := routeOf(rt.name)
	firstTeam := pick(r, route.first)
	escalated := route.escalateShare > 0 && r.Float64() < route.escalateShare
	// The team that answers sets the pace of the reply.
	answering := firstTeam
	if escalated {
		answering = route.escalate
	}

	lc := &lifecycle{
		id:          strconv.FormatInt(id, 10),
		key:         desk + "-" + strconv.FormatInt(keyNumber, 10),
		desk:        desk,
		requestType: rt.name,
		priority:    prio,
		reporter:    "demo-user-" + strconv.Itoa(user),
		group:       group.name,
		teams:       []teamChange{{created, firstTeam.name}},
		created:     created,
		statuses:    make([]statusChange, 0, 8),
		comments:    make([]ticket.Comment, 0, 8),
	}
	b := &builder{r: r, lc: lc}
	b.status(created, statusOpen, ticket.CategoryNew)
	// The "we received your request" auto-reply: public, but no response.
	b.comment(created.Add(uniform(r, time.Second, 20*time.Second)), ticket.AuthorAutomation, true)

	neglected := b.chance(neglectedShare)
	silent := !neglected && b.chance(silentShare)
	var respond time.Duration
	if neglected {
		respond = uniform(r, 8*day, 30*day)
	} else {
		respond = lognormal(r, scale(profile.responseMedian, desk0.pace*group.response*answering.response), 0.9, time.Minute, 3*day)
	}

	pickUp := created.Add(scale(respond, 0.4+0.55*r.Float64()))
	b.status(pickUp, statusInProgress, ticket.CategoryIndeterminate)
	// Whoever picks the ticket up owns it; an escalation hands it on to
	// the specialists at that moment.
	lc.assigned = pickUp
	if escalated {
		lc.teams = append(lc.teams, teamChange{pickUp, route.escalate.name})
	}
	var t time.Time
	var firstResponse time.Time
	if silent {
		t = pickUp.Add(uniform(r, time.Minute, 30*time.Minute))
		b.comment(t, ticket.AuthorAgent, false)
	} else {
		if respond > 2*time.Hour && b.chance(nudgeShare) {
			b.comment(created.Add(scale(respond, 0.2+0.6*r.Float64())), ticket.AuthorReporter, true)
		}
		reply := created.Add(respond)
		if b.chance(internalNoteShare) {
			b.comment(pickUp.Add(scale(reply.Sub(pickUp), 0.1+0.8*r.Float64())), ticket.AuthorAgent, false)
		}
		b.comment(reply, ticket.AuthorAgent, true)
		firstResponse = reply
		t = reply
		if !neglected {
			for round, share := range []float64{waitingShare, secondWaitShare} {
				if !b.chance(share) {
					break
				}
				t = t.Add(time.Second)
				b.status(t, statusWaitingForCustomer, ticket.CategoryIndeterminate)
				t = t.Add(lognormal(r, 4*time.Hour, 1, 5*time.Minute, 4*day))
				b.comment(t, ticket.AuthorReporter, true)
				b.status(t, statusWaitingForSupport, ticket.CategoryNew)
				t = t.Add(lognormal(r, scale(profile.responseMedian, desk0.pace), 0.9, time.Minute, 2*day))
				b.status(t, statusInProgress, ticket.CategoryIndeterminate)
				if round > 0 || b.chance(0.3) {
					b.comment(t.Add(time.Minute), ticket.AuthorAgent, false)
					t = t.Add(time.Minute)
				}
				t = t.Add(uniform(r, time.Minute, time.Hour))
				b.comment(t, ticket.AuthorAgent, true)
			}
		}
		t = t.Add(lognormal(r, scale(profile.workMedian, pace), 1, 5*time.Minute, 10*day))
	}
	// A silently resolved ticket (a duplicate, spam) gets no reply at all.
	b.resolve(t, !silent)
	firstResolved := t
	if firstResponse.IsZero() || firstResolved.Before(firstResponse) {
		firstResponse = firstResolved
	}

	var reopened time.Time
	if !neglected && b.chance(reopenShare) {
		reopened = t.Add(lognormal(r, day, 0.8, 10*time.Minute, 4*day))
		b.comment(reopened, ticket.AuthorReporter, true)
		b.status(reopened, statusInProgress, ticket.CategoryIndeterminate)
		lc.resolutions = append(lc.resolutions, ticket.ResolutionChange{At: reopened, Set: false})
		t = reopened.Add(lognormal(r, 2*time.Hour, 1, 5*time.Minute, day))
		b.comment(t, ticket.AuthorAgent, true)
		t = t.Add(lognormal(r, scale(profile.workMedian, pace/2), 1, 5*time.Minute, 10*day))
		b.resolve(t, true)
	}
	lc.settled = t
	b.status(t.Add(closeAfter), statusClosed, ticket.CategoryDone)

	// SLAs first: the rating depends on whether they were kept.
	ttr := []cycle{{start: created, stop: firstResolved, goal: profile.resolutionGoal}}
	if !reopened.IsZero() {
		ttr = append(ttr, cycle{start: reopened, stop: lc.settled, goal: profile.resolutionGoal})
	}
	lc.slas = []slaTrack{
		{name: slaFirstResponse, cycles: []cycle{{start: created, stop: firstResponse, goal: profile.responseGoal}}},
		{name: slaResolution, cycles: ttr},
	}
	waiting := lc.waitingSpans()
	breached := false
	for i := range lc.slas {
		for j := range lc.slas[i].cycles {
			c := &lc.slas[i].cycles[j]
			if lc.slas[i].name == slaResolution {
				c.pauses = clip(waiting, c.start, c.stop)
			}
			c.breachAt = c.breachTime()
			breached = breached || !c.breachAt.IsZero()
		}
	}

	if b.chance(group.ratedShare) {
		dist := group.ratings
		if breached {
			dist = group.breachedRatings
		}
		at := lc.settled.Add(lognormal(r, 3*time.Hour, 1.2, time.Minute, 2*day))
		value := pick(r, dist)
		lc.ratings = append(lc.ratings, ticket.Rating{Value: value, At: at})
		if b.chance(reratedShare) {
			changed := 1 + (value+r.IntN(4))%5 // any other value
			lc.ratings = append(lc.ratings, ticket.Rating{Value: changed, At: at.Add(uniform(r, time.Hour, 5*day))})
		}
	}

	lc.finish()
	return lc
}

// scale multiplies a duration by a factor.
func scale(d time.Duration, f float64) time.Duration {
	return time.Duration(float64(d) * f).Round(time.Millisecond)
}

// waitingSpans are the intervals spent waiting for the customer.
func (lc *lifecycle) waitingSpans() []span {
	var spans []span
	for i, s := range lc.statuses {
		if s.name == statusWaitingForCustomer && i+1 < len(lc.statuses) {
			spans = append(spans, span{s.at, lc.statuses[i+1].at})
		}
	}
	return spans
}

// clip returns the parts of spans inside [from, to).
func clip(spans []span, from, to time.Time) []span {
	var out []span
	for _, s := range spans {
		s.from = laterOf(s.from, from)
		if to.Before(s.to) {
			s.to = to
		}
		if s.from.Before(s.to) {
			out = append(out, s)
		}
	}
	return out
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// elapsed is the cycle's running time from its start until t, pauses excluded.
func (c *cycle) elapsed(t time.Time) time.Duration {
	if t.After(c.stop) {
		t = c.stop
	}
	d := t.Sub(c.start)
	for _, p := range clip(c.pauses, c.start, t) {
		d -= p.to.Sub(p.from)
	}
	return d
}

// pausedAt reports whether the cycle's clock is stopped at t.
func (c *cycle) pausedAt(t time.Time) bool {
	for _, p := range c.pauses {
		if !t.Before(p.from) && t.Before(p.to) {
			return true
		}
	}
	return false
}

// breachTime is when the running time reaches the goal, zero if the cycle
// stops first.
func (c *cycle) breachTime() time.Time {
	running := c.start
	left := c.goal
	for _, p := range c.pauses {
		if gap := p.from.Sub(running); gap >= left {
			break
		} else {
			left -= gap
			running = p.to
		}
	}
	at := running.Add(left)
	if at.After(c.stop) {
		return time.Time{}
	}
	return at
}

// finish sorts the events and derives the change instants.
func (lc *lifecycle) finish() {
	slices.SortStableFunc(lc.statuses, func(a, b statusChange) int { return a.at.Compare(b.at) })
	slices.SortStableFunc(lc.comments, func(a, b ticket.Comment) int { return a.At.Compare(b.At) })
	changes := make([]time.Time, 0, len(lc.statuses)+len(lc.comments)+len(lc.resolutions)+len(lc.ratings)+len(lc.teams)+4)
	for _, s := range lc.statuses {
		changes = append(changes, s.at)
	}
	for _, c := range lc.comments {
		changes = append(changes, c.At)
	}
	for _, r := range lc.resolutions {
		changes = append(changes, r.At)
	}
	for _, r := range lc.ratings {
		changes = append(changes, r.At)
	}
	for _, c := range lc.teams[1:] {
		changes = append(changes, c.at)
	}
	if !lc.assigned.IsZero() {
		changes = append(changes, lc.assigned)
	}
	for _, s := range lc.slas {
		for _, c := range s.cycles {
			if !c.breachAt.IsZero() {
				changes = append(changes, c.breachAt)
			}
		}
	}
	slices.SortFunc(changes, time.Time.Compare)
	lc.changes = slices.CompactFunc(changes, time.Time.Equal)
	lc.lastChange = lc.changes[len(lc.changes)-1]
}

// changedIn reports whether the facts change in (after, until].
func (lc *lifecycle) changedIn(after, until time.Time) bool {
	if !lc.lastChange.After(after) {
		return false // the common case: a ticket that has settled down
	}
	i, _ := slices.BinarySearchFunc(lc.changes, after, func(c, t time.Time) int {
		if c.After(t) {
			return 1
		}
		return -1
	})
	return i < len(lc.changes) && !lc.changes[i].After(until)
}

// lastChangeUntil is the latest change at or before t.
func (lc *lifecycle) lastChangeUntil(t time.Time) time.Time {
	last := lc.created
	for _, c := range lc.changes {
		if c.After(t) {
			break
		}
		last = c
	}
	return last
}

// teamAt is the team the ticket is routed to at t.
func (lc *lifecycle) teamAt(t time.Time) string {
	current := lc.teams[0].name
	for _, c := range lc.teams[1:] {
		if c.at.After(t) {
			break
		}
		current = c.name
	}
	return current
}

func (lc *lifecycle) statusAt(t time.Time) statusChange {
	current := lc.statuses[0]
	for _, s := range lc.statuses[1:] {
		if s.at.After(t) {
			break
		}
		current = s
	}
	return current
}

// factsAt is what a read of the ticket at t returns.
func (lc *lifecycle) factsAt(t time.Time) ticket.Ticket {
	tk := ticket.Ticket{
		ID:          lc.id,
		Key:         lc.key,
		Desk:        lc.desk,
		RequestType: lc.requestType,
		Priority:    lc.priority,
		Reporter:    lc.reporter,
		// The group belongs to the reporter and never changes; the team
		// and the assignment are as of t.
		CustomerGroup: lc.group,
		Team:          lc.teamAt(t),
		Assigned:      !lc.assigned.IsZero() && !lc.assigned.After(t),
		Created:       lc.created,
		Updated:       lc.created,
		Comments:      make([]ticket.Comment, 0, len(lc.comments)),
		SLAs:          make([]ticket.SLA, 0, len(lc.slas)),
	}
	touch := func(at time.Time) {
		if at.After(tk.Updated) {
			tk.Updated = at
		}
	}

	previous := lc.statuses[0]
	tk.Status, tk.StatusCategory = previous.name, previous.category
	for _, s := range lc.statuses[1:] {
		if s.at.After(t) {
			break
		}
		if s.name != previous.name || s.category != previous.category {
			tk.Transitions = append(tk.Transitions, ticket.Transition{At: s.at, From: previous.category, To: s.category,
				FromStatus: previous.name, ToStatus: s.name})
		}
		tk.Status, tk.StatusCategory = s.name, s.category
		previous = s
		touch(s.at)
	}
	for _, c := range lc.comments {
		if c.At.After(t) {
			break
		}
		tk.Comments = append(tk.Comments, c)
		touch(c.At)
	}
	for _, r := range lc.resolutions {
		if r.At.After(t) {
			break
		}
		tk.Resolutions = append(tk.Resolutions, r)
		tk.ResolvedAt = time.Time{}
		if r.Set {
			tk.ResolvedAt = r.At
		}
		touch(r.At)
	}
	for _, r := range lc.ratings {
		if r.At.After(t) {
			break
		}
		rating := r
		tk.Satisfaction = &rating
		touch(r.At)
	}
	for _, s := range lc.slas {
		tk.SLAs = append(tk.SLAs, s.at(t))
	}
	return tk
}

// at is the SLA as Jira reports it at t.
func (s slaTrack) at(t time.Time) ticket.SLA {
	sla := ticket.SLA{Name: s.name}
	for _, c := range s.cycles {
		if c.start.After(t) {
			break
		}
		elapsed := c.elapsed(t)
		if !c.stop.After(t) {
			sla.Completed = append(sla.Completed, ticket.SLACycle{
				Start:    c.start,
				Stop:     c.stop,
				Goal:     c.goal,
				Elapsed:  elapsed,
				Breached: elapsed >= c.goal,
			})
			continue
		}
		ongoing := &ticket.OngoingCycle{
			Start:     c.start,
			Goal:      c.goal,
			Elapsed:   elapsed,
			Remaining: c.goal - elapsed,
			Breached:  elapsed >= c.goal,
			Paused:    c.pausedAt(t),
		}
		switch {
		case ongoing.Breached:
			ongoing.BreachAt = c.breachAt
		case !ongoing.Paused:
			// start + goal + time paused so far: while the clock runs this
			// is the same instant at every t.
			ongoing.BreachAt = c.start.Add(c.goal + t.Sub(c.start) - elapsed)
		}
		sla.Ongoing = ongoing
	}
	return sla
}
