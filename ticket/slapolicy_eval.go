package ticket

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// WithPolicies returns t with the SLAs the policies measure on it, ready for
// Events and CurrentState; it never changes the caller's slices. A policy
// owns its name: an SLA of the same name that the source delivered is
// dropped, also on tickets the policy has no goal for, so one series never
// mixes two measurements. Naming a policy like the SLA that
// t.FirstResponseSLA points at therefore makes that policy the first-response
// measure. Applying the same policies again changes nothing.
func WithPolicies(t Ticket, policies []SLAPolicy) Ticket {
	if len(policies) == 0 {
		return t
	}
	measured := PolicySLAs(t, policies)
	slas := make([]SLA, 0, len(t.SLAs)+len(measured))
	for _, s := range t.SLAs {
		if !hasPolicy(policies, s.Name) {
			slas = append(slas, s)
		}
	}
	t.SLAs = append(slas, measured...)
	return t
}

func hasPolicy(policies []SLAPolicy, name string) bool {
	for _, p := range policies {
		if p.Name == name {
			return true
		}
	}
	return false
}

// PolicySLAs measures t against each policy that has a goal for its priority,
// in the policies' order, with the same shape a source such as Jira Service
// Management reports. Everything follows from the facts, so the same facts
// give the same cycles and the event ids built from their starts stay stable.
//
//   - Goal: Goals[t.Priority] (exact name) or else DefaultGoal; no cycle at
//     all when that is zero. It applies to every cycle, completed ones too,
//     so a ticket's goal follows its current priority; a cycle already
//     counted stays counted as it was.
//   - Stop first_response: one cycle from creation to the first response
//     (FirstResponse) or the first resolution if that comes first, as JSM's
//     "Time to first response" stops at "Comment: For Customers" or
//     "Resolution: Set". A reopen never restarts it.
//   - Stop resolution: a cycle from creation to the first resolution, and
//     another from each reopen to the next resolution (JSM's "Time to
//     resolution" started again by "Resolution: Cleared", as the demo desk
//     models it). A resolution is a transition into the done category, a
//     reopen one out of it, as for the resolved and reopened events; a
//     ticket created done starts its first cycle at its first reopen.
//     Without transitions a done ticket's cycle stops at ResolvedAt.
//   - Pauses: the clock stops while the ticket is in one of PauseStatuses
//     (case-insensitive). The status at creation is the first transition's
//     FromStatus (the current Status without transitions), after each
//     transition its ToStatus (the next one's FromStatus, or for the last one
//     the current Status, where that is empty); a status without a name
//     never pauses.
//   - Elapsed is working time in the policy's calendar outside pauses;
//     a cycle is breached when Elapsed > Goal, met when Elapsed == Goal.
//   - The ongoing cycle is measured as of the latest of t.Updated and every
//     instant of the facts it uses, never the wall clock, so re-deriving the
//     same facts gives the same figures. Its BreachAt is the instant from
//     which Elapsed exceeds Goal if the clock keeps running: the start of the
//     next working hours when the goal is used up exactly at the end of a
//     working day. It does not depend on the as-of instant, is zero while
//     paused (unless already breached: then it is when the breach happened)
//     and zero when the calendar never reaches the goal.
//   - A done ticket has no ongoing cycle: a cycle whose stop the facts
//     cannot place (done without a resolution time) is left out.
func PolicySLAs(t Ticket, policies []SLAPolicy) []SLA {
	if len(policies) == 0 || t.Created.IsZero() {
		return nil
	}
	f := newPolicyFacts(t)
	var out []SLA
	for i := range policies {
		p := &policies[i]
		goal := p.goalFor(t.Priority)
		if goal <= 0 || (p.Stop != StopFirstResponse && p.Stop != StopResolution) {
			continue
		}
		out = append(out, f.sla(p, goal))
	}
	return out
}

// Validate reports the first reason the policy cannot be used, phrased for
// whoever wrote its configuration.
func (p SLAPolicy) Validate() error {
	if p.Name == "" {
		return errors.New("SLA policy has no name")
	}
	wrap := func(format string, args ...any) error {
		return fmt.Errorf("SLA policy %q: "+format, append([]any{p.Name}, args...)...)
	}
	if p.Stop != StopFirstResponse && p.Stop != StopResolution {
		return wrap("stop %q is neither %q nor %q", p.Stop, StopFirstResponse, StopResolution)
	}
	if p.DefaultGoal < 0 {
		return wrap("default goal %s is negative", p.DefaultGoal)
	}
	positive := p.DefaultGoal > 0
	for _, prio := range slices.Sorted(maps.Keys(p.Goals)) {
		switch g := p.Goals[prio]; {
		case prio == "":
			return wrap("a goal names no priority (tickets without one get the default goal)")
		case g < 0:
			return wrap("goal %s for priority %q is negative", g, prio)
		case g > 0:
			positive = true
		}
	}
	if !positive {
		return wrap("no goal for any priority")
	}
	for _, s := range p.PauseStatuses {
		if strings.TrimSpace(s) == "" {
			return wrap("a pause status has no name")
		}
	}
	if err := p.Calendar.Validate(); err != nil {
		return wrap("%w", err)
	}
	return nil
}

// ValidatePolicies validates each policy and that no two share a name: a
// name is the SLA label and the event id's prefix.
func ValidatePolicies(policies []SLAPolicy) error {
	seen := make(map[string]bool, len(policies))
	for _, p := range policies {
		if err := p.Validate(); err != nil {
			return err
		}
		if seen[p.Name] {
			return fmt.Errorf("SLA policy %q is defined twice", p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

func (p *SLAPolicy) goalFor(priority string) time.Duration {
	if g, ok := p.Goals[priority]; ok {
		return g
	}
	return p.DefaultGoal
}

// policyFacts is what every policy reads from one ticket, worked out once.
type policyFacts struct {
	created, asOf time.Time
	done          bool
	// statuses[i] holds from its instant until the next one's.
	statuses []namedStatus
	// firstStop ends a first-response cycle; zero while none has happened.
	firstStop time.Time
	// resolutionCycles; a zero stop is a cycle still running.
	resolutionCycles []span
}

type namedStatus struct {
	at   time.Time
	name string
}

// span is [from, to); a zero to is open-ended.
type span struct{ from, to time.Time }

func newPolicyFacts(t Ticket) *policyFacts {
	f := &policyFacts{created: t.Created, asOf: laterTime(t.Updated, t.Created), done: t.StatusCategory == CategoryDone}
	// Facts before creation are taken as at creation: a clock cannot run
	// before its cycle starts.
	clamp := func(at time.Time) time.Time { return laterTime(at, t.Created) }
	seen := func(at time.Time) {
		f.asOf = laterTime(f.asOf, at)
	}

	trs := sortedTransitions(t.Transitions)
	initial := t.Status
	if len(trs) > 0 {
		initial = trs[0].FromStatus
	}
	f.statuses = append(make([]namedStatus, 0, len(trs)+1), namedStatus{t.Created, initial})
	for i, tr := range trs {
		name := tr.ToStatus
		switch {
		case name != "":
		case i+1 < len(trs):
			name = trs[i+1].FromStatus
		default:
			name = t.Status
		}
		f.statuses = append(f.statuses, namedStatus{clamp(tr.At), name})
		seen(tr.At)
	}

	var firstResolution time.Time
	if len(trs) > 0 {
		open, start := trs[0].From != CategoryDone, t.Created
		for _, tr := range trs {
			resolves := tr.To == CategoryDone && tr.From != CategoryDone
			reopens := tr.From == CategoryDone && tr.To != CategoryDone
			if resolves && firstResolution.IsZero() {
				firstResolution = clamp(tr.At)
			}
			switch {
			case open && resolves:
				f.resolutionCycles = append(f.resolutionCycles, span{start, clamp(tr.At)})
				open = false
			case !open && reopens:
				open, start = true, clamp(tr.At)
			}
		}
		if open {
			f.resolutionCycles = append(f.resolutionCycles, span{from: start})
		}
	} else if f.done {
		if !t.ResolvedAt.IsZero() {
			firstResolution = clamp(t.ResolvedAt)
			f.resolutionCycles = []span{{t.Created, firstResolution}}
			seen(t.ResolvedAt)
		}
	} else {
		f.resolutionCycles = []span{{from: t.Created}}
	}

	f.firstStop = firstResolution
	if at, ok := FirstResponse(t); ok {
		at = clamp(at)
		seen(at)
		if f.firstStop.IsZero() || at.Before(f.firstStop) {
			f.firstStop = at
		}
	}
	return f
}

// sla measures one policy with the goal for the ticket's priority.
func (f *policyFacts) sla(p *SLAPolicy, goal time.Duration) SLA {
	cycles := f.resolutionCycles
	if p.Stop == StopFirstResponse {
		cycles = []span{{f.created, f.firstStop}}
	}
	c := cycleClock{cal: p.Calendar.index(), pauses: f.pauses(p.PauseStatuses), goal: goal}
	sla := SLA{Name: p.Name}
	for _, cy := range cycles {
		if !cy.to.IsZero() {
			elapsed, _, _ := c.run(cy.from, cy.to, false)
			sla.Completed = append(sla.Completed, SLACycle{
				Start: cy.from, Stop: cy.to, Goal: goal, Elapsed: elapsed, Breached: elapsed > goal,
			})
			continue
		}
		if f.done {
			continue
		}
		elapsed, breachAt, paused := c.run(cy.from, f.asOf, true)
		on := &OngoingCycle{
			Start: cy.from, Goal: goal, Elapsed: elapsed, Remaining: goal - elapsed,
			Breached: elapsed > goal, Paused: paused, BreachAt: breachAt,
		}
		if on.Paused && !on.Breached {
			on.BreachAt = time.Time{}
		}
		sla.Ongoing = on
	}
	return sla
}

// pauses are the spans the ticket spent in one of the statuses, in order.
func (f *policyFacts) pauses(statuses []string) []span {
	if len(statuses) == 0 {
		return nil
	}
	var out []span
	for _, s := range f.statuses {
		paused := s.name != "" && containsFold(statuses, s.name)
		open := len(out) > 0 && out[len(out)-1].to.IsZero()
		switch {
		case paused && !open:
			out = append(out, span{from: s.at})
		case !paused && open:
			out[len(out)-1].to = s.at
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// cycleClock measures cycles of one policy on one ticket.
type cycleClock struct {
	cal    *calendarIndex
	pauses []span
	goal   time.Duration
}

// run measures [start, end) with the clock stopped during pauses. For a
// cycle still running (ongoing) it also finds the breach, the instant from
// which the running time exceeds the goal, taking the clock to run on past
// end unless paused there: so that instant does not depend on end.
func (c cycleClock) run(start, end time.Time, ongoing bool) (elapsed time.Duration, breachAt time.Time, paused bool) {
	budget := c.goal // running time left before the breach
	measure := func(a, b time.Time) {
		e := c.cal.elapsed(a, b)
		if ongoing && breachAt.IsZero() && e > budget {
			breachAt = c.cal.add(a, budget, true)
		}
		budget -= e
		elapsed = addSat(elapsed, e)
	}
	cursor := start
	// Pauses are in order and apart: skip those over before the cycle.
	first := sort.Search(len(c.pauses), func(i int) bool { return c.pauses[i].to.IsZero() || c.pauses[i].to.After(start) })
	for _, p := range c.pauses[first:] {
		if p.from.After(end) {
			break
		}
		if p.from.After(cursor) {
			measure(cursor, p.from)
		}
		if p.to.IsZero() || p.to.After(end) {
			return elapsed, breachAt, true // paused at end
		}
		cursor = p.to
	}
	// The clock runs from cursor on.
	if ongoing && breachAt.IsZero() && budget >= 0 {
		breachAt = c.cal.add(cursor, budget, true)
	}
	if cursor.Before(end) {
		elapsed = addSat(elapsed, c.cal.elapsed(cursor, end))
	}
	return elapsed, breachAt, false
}
