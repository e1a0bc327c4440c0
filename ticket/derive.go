package ticket

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// EventKind names a countable event.
type EventKind string

// Event kinds, one per counter or histogram family.
const (
	EventCreated       EventKind = "created"
	EventResolved      EventKind = "resolved"
	EventReopened      EventKind = "reopened"
	EventFirstResponse EventKind = "first_response"
	EventSatisfaction  EventKind = "satisfaction"
	EventSLACycle      EventKind = "sla_cycle"
)

// Event is one thing that happened to a ticket and is counted exactly once.
type Event struct {
	Kind EventKind
	// ID identifies the event within its ticket and stays the same every
	// time the same facts are delivered again; the store's ledger keys on it.
	ID string
	At time.Time
	// Seconds is the duration observed by resolved (created → resolution)
	// and first_response (created → response) events.
	Seconds float64
	// Rating is the satisfaction rating of a satisfaction event.
	Rating int
	// SLA and Breached describe a completed SLA cycle.
	SLA      string
	Breached bool
}

// Validate rejects facts the derivation rules cannot use; the poller skips
// such a ticket and counts it rather than failing the whole batch.
func Validate(t Ticket) error {
	switch {
	case t.ID == "":
		return errors.New("ticket has no id")
	case t.Created.IsZero():
		return fmt.Errorf("ticket %s has no creation time", t.Key)
	case !t.StatusCategory.Valid():
		return fmt.Errorf("ticket %s has unknown status category %q", t.Key, t.StatusCategory)
	case t.Satisfaction != nil && (t.Satisfaction.Value < 1 || t.Satisfaction.Value > 5):
		return fmt.Errorf("ticket %s has satisfaction rating %d outside 1..5", t.Key, t.Satisfaction.Value)
	}
	for _, tr := range t.Transitions {
		if !tr.From.Valid() || !tr.To.Valid() {
			return fmt.Errorf("ticket %s has a transition with unknown category %q -> %q", t.Key, tr.From, tr.To)
		}
	}
	return nil
}

// Events derives every countable event of t whose time is at or after the
// horizon. It is deterministic: the same facts give the same event IDs, which
// is what makes re-delivery harmless.
func Events(t Ticket, horizon time.Time) []Event {
	// Room for every event the facts can give, so the list is allocated
	// once: a created, each transition, a fallback resolution, a first
	// response, a rating and every completed SLA cycle.
	most := 4 + len(t.Transitions)
	for _, sla := range t.SLAs {
		most += len(sla.Completed)
	}
	out := eventList{events: make([]Event, 0, most), bases: make([]string, 0, min(most, maxListedBases))}
	counts := func(at time.Time) bool { return !at.IsZero() && !at.Before(horizon) }

	if counts(t.Created) {
		out.add(Event{Kind: EventCreated, At: t.Created})
	}

	if len(t.Transitions) > 0 {
		for _, tr := range sortedTransitions(t.Transitions) {
			switch {
			case tr.To == CategoryDone && tr.From != CategoryDone && counts(tr.At):
				out.add(Event{Kind: EventResolved, At: tr.At, Seconds: since(t.Created, tr.At)})
			case tr.From == CategoryDone && tr.To != CategoryDone && counts(tr.At):
				out.add(Event{Kind: EventReopened, At: tr.At})
			}
		}
	} else if t.StatusCategory == CategoryDone && counts(t.ResolvedAt) {
		// A source without a status timeline still knows the ticket is done
		// and when; without this such tickets would never count as resolved.
		out.add(Event{Kind: EventResolved, At: t.ResolvedAt, Seconds: since(t.Created, t.ResolvedAt)})
	}

	if at, ok := FirstResponse(t); ok && counts(at) {
		out.add(Event{Kind: EventFirstResponse, At: at, Seconds: since(t.Created, at)})
	}

	if r := t.Satisfaction; r != nil && r.Value >= 1 && r.Value <= 5 {
		at := r.At
		if at.IsZero() {
			at = t.Updated // only decides the horizon; the ID stays free of it
		}
		if counts(at) {
			out.addWithID(Event{Kind: EventSatisfaction, At: at, Rating: r.Value},
				"satisfaction/"+strconv.Itoa(r.Value)+"/"+stamp(r.At))
		}
	}

	for _, sla := range t.SLAs {
		for _, c := range sla.Completed {
			if counts(c.Stop) {
				out.addWithID(Event{Kind: EventSLACycle, At: c.Stop, SLA: sla.Name, Breached: c.Breached},
					"sla/"+sla.Name+"/"+stamp(c.Start))
			}
		}
	}
	return out.events
}

// FirstResponse returns when the customer first got an answer, by the rule
// the source selected: a stated time, the named SLA's first completed cycle,
// or the first public comment by an agent (never the reporter's own comment,
// never an internal note, never automation). A ticket that does not carry
// the named SLA at all — or only an SLA value with no cycle, as JSM reports
// for an issue outside a service project — falls back to its comments, so
// a missing SLA never hides a real reply.
func FirstResponse(t Ticket) (time.Time, bool) {
	if !t.FirstResponseAt.IsZero() {
		return t.FirstResponseAt, true
	}
	if t.FirstResponseSLA != "" {
		for _, sla := range t.SLAs {
			if sla.Name != t.FirstResponseSLA || (len(sla.Completed) == 0 && sla.Ongoing == nil) {
				continue
			}
			if len(sla.Completed) == 0 {
				return time.Time{}, false // running: not answered yet
			}
			first := sla.Completed[0]
			for _, c := range sla.Completed[1:] {
				if c.Stop.Before(first.Stop) {
					first = c
				}
			}
			return first.Stop, true
		}
	}
	var first time.Time
	for _, c := range t.Comments {
		if c.Author == AuthorAgent && c.Public && (first.IsZero() || c.At.Before(first)) {
			first = c.At
		}
	}
	return first, !first.IsZero()
}

// State is what the gauges need to know about a ticket now.
type State struct {
	Open                  bool
	Category              Category
	Created               time.Time
	AwaitingFirstResponse bool
	Assigned              bool
	// SLAs lists the running cycles of an open ticket.
	SLAs []SLAState
}

// SLAState is the running cycle of one SLA.
type SLAState struct {
	Name     string
	Breached bool
	// BreachAt is when a running, not yet breached cycle will breach; zero
	// when unknown or paused.
	BreachAt time.Time
	// Goal is the cycle's goal, zero when the source does not say.
	Goal   time.Duration
	Paused bool
}

// BreachedAt reports whether the cycle counts as breached at now.
func (s SLAState) BreachedAt(now time.Time) bool {
	return s.Breached || (!s.BreachAt.IsZero() && !now.Before(s.BreachAt))
}

// CurrentState derives the gauge-relevant state of t.
func CurrentState(t Ticket) State {
	st := State{
		Open:     t.StatusCategory != CategoryDone,
		Category: t.StatusCategory,
		Created:  t.Created,
		Assigned: t.Assigned,
	}
	if !st.Open {
		return st
	}
	_, answered := FirstResponse(t)
	st.AwaitingFirstResponse = !answered
	for _, sla := range t.SLAs {
		if sla.Ongoing == nil {
			continue
		}
		s := SLAState{Name: sla.Name, Breached: sla.Ongoing.Breached, Goal: sla.Ongoing.Goal, Paused: sla.Ongoing.Paused}
		if !sla.Ongoing.Paused && !sla.Ongoing.Breached {
			s.BreachAt = sla.Ongoing.BreachAt
		}
		st.SLAs = append(st.SLAs, s)
	}
	return st
}

func sortedTransitions(in []Transition) []Transition {
	if sort.SliceIsSorted(in, func(i, j int) bool { return in[i].At.Before(in[j].At) }) {
		return in
	}
	out := append([]Transition(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func since(from, to time.Time) float64 {
	if d := to.Sub(from); d > 0 {
		return d.Seconds()
	}
	return 0
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// eventList gives events IDs that are unique within a ticket: the kind and
// time (millisecond precision, what every source reliably reports), with a
// suffix only when two events of a kind share a millisecond.
type eventList struct {
	events []Event
	bases  []string       // each event's ID before its suffix, searched while short
	seen   map[string]int // the bases counted, once there are many
}

// maxListedBases is how many events' bases are searched one by one before
// they are counted in a map: a ticket has a handful of events, and a map
// per ticket was most of deriving its events' allocations.
const maxListedBases = 32

func (l *eventList) add(e Event) {
	id := string(e.Kind)
	if e.Kind != EventCreated && e.Kind != EventFirstResponse {
		id += "/" + stamp(e.At)
	}
	l.addWithID(e, id)
}

func (l *eventList) addWithID(e Event, id string) {
	var n int
	switch {
	case l.seen != nil:
		n = l.seen[id]
		l.seen[id] = n + 1
	case len(l.bases) < maxListedBases:
		for _, b := range l.bases {
			if b == id {
				n++
			}
		}
		l.bases = append(l.bases, id)
	default:
		l.seen = make(map[string]int, 2*maxListedBases)
		for _, b := range l.bases {
			l.seen[b]++
		}
		n = l.seen[id]
		l.seen[id] = n + 1
		l.bases = nil
	}
	if n > 0 {
		id += "#" + strconv.Itoa(n)
	}
	e.ID = id
	l.events = append(l.events, e)
}
