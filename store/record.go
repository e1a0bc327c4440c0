package store

import (
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Ticket is a stored ticket as aggregation reads it.
type Ticket struct {
	ID      string
	Updated time.Time
	// Labels are the ticket's labels now; each ledger entry keeps those it
	// was counted under.
	Labels ticket.Labels
	// Gone marks a ticket that left the source's scope: out of the gauges,
	// its counted events stay counted.
	Gone    bool
	State   ticket.State
	History ticket.History
	// Ledger holds every counted entry when read by Scan, and only the
	// entries a commit counted in that commit's Result.
	Ledger []Entry
}

// Entry is one counted event.
type Entry struct {
	ID   string
	Kind ticket.EventKind
	At   time.Time
	// Labels are the ticket's labels when the event was counted; a later
	// desk move or change of customer group never re-labels it.
	Labels ticket.Labels
	// Value is the observed seconds of resolved and first_response events
	// and the rating of a satisfaction event.
	Value    float64
	SLA      string
	Breached bool
}

// record is the stored form of a Ticket: compact JSON, so a store stays
// readable with standard tools. Label tuples are listed once per ticket and
// referred to by index.
type record struct {
	Updated int64      `json:"u"`
	Tuples  [][]string `json:"cl"`
	Current int        `json:"l,omitempty"` // index of the current labels in Tuples
	Gone    bool       `json:"g,omitempty"`
	State   *stateRec  `json:"s,omitempty"` // nil when the ticket is done
	History historyRec `json:"h"`
	Ledger  []entry    `json:"e,omitempty"`
}

type stateRec struct {
	Category string   `json:"c"`
	Awaiting bool     `json:"a,omitempty"`
	Assigned bool     `json:"o,omitempty"`
	SLAs     []slaRec `json:"s,omitempty"`
}

type slaRec struct {
	Name     string `json:"n"`
	Breached bool   `json:"b,omitempty"`
	BreachAt int64  `json:"t,omitempty"`
	Goal     int64  `json:"g,omitempty"` // ms
	Paused   bool   `json:"p,omitempty"`
}

type historyRec struct {
	Created       int64    `json:"t"`
	Categories    []catRec `json:"c,omitempty"`
	FirstResponse int64    `json:"f,omitempty"`
}

type catRec struct {
	At       int64  `json:"t"`
	Category string `json:"c"`
}

type entry struct {
	ID     string           `json:"i"`
	Kind   ticket.EventKind `json:"k"`
	At     int64            `json:"t"`
	Labels int              `json:"l,omitempty"`
	Value  float64          `json:"v,omitempty"`
	SLA    string           `json:"n,omitempty"`
	Breach bool             `json:"b,omitempty"`
}

// tuple encodes labels positionally, trailing empty values left out.
func tuple(l ticket.Labels) []string {
	t := []string{l.Desk, l.RequestType, l.Priority, l.CustomerGroup, l.Team}
	for len(t) > 1 && t[len(t)-1] == "" {
		t = t[:len(t)-1]
	}
	return t
}

func labelsOf(t []string) ticket.Labels {
	at := func(i int) string {
		if i < len(t) {
			return t[i]
		}
		return ""
	}
	return ticket.Labels{Desk: at(0), RequestType: at(1), Priority: at(2), CustomerGroup: at(3), Team: at(4)}
}

func (r *record) tupleIndex(l ticket.Labels) int {
	want := tuple(l)
outer:
	for i, t := range r.Tuples {
		if len(t) != len(want) {
			continue
		}
		for j := range t {
			if t[j] != want[j] {
				continue outer
			}
		}
		return i
	}
	r.Tuples = append(r.Tuples, want)
	return len(r.Tuples) - 1
}

func (r *record) labels(i int) (ticket.Labels, bool) {
	if i < 0 || i >= len(r.Tuples) {
		return ticket.Labels{}, false
	}
	return labelsOf(r.Tuples[i]), true
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// setDerived stores what derivation says about the ticket now.
func (r *record) setDerived(d ticket.Derived) {
	r.Updated = ms(d.Updated)
	r.Current = r.tupleIndex(d.Labels)
	r.Gone = false
	r.State = nil
	if d.State.Open {
		st := &stateRec{Category: string(d.State.Category), Awaiting: d.State.AwaitingFirstResponse, Assigned: d.State.Assigned}
		for _, sla := range d.State.SLAs {
			st.SLAs = append(st.SLAs, slaRec{Name: sla.Name, Breached: sla.Breached, BreachAt: ms(sla.BreachAt),
				Goal: sla.Goal.Milliseconds(), Paused: sla.Paused})
		}
		r.State = st
	}
	h := historyRec{Created: ms(d.History.Created), FirstResponse: ms(d.History.FirstResponse)}
	if len(d.History.Categories) > 0 {
		h.Categories = make([]catRec, 0, len(d.History.Categories))
	}
	for _, c := range d.History.Categories {
		h.Categories = append(h.Categories, catRec{At: ms(c.At), Category: string(c.Category)})
	}
	r.History = h
}

// view decodes r into a Ticket, with the ledger entries selected by keep
// (nil: all).
func (r *record) view(id string, entries []entry) (Ticket, bool) {
	cur, ok := r.labels(r.Current)
	if !ok {
		return Ticket{}, false
	}
	t := Ticket{ID: id, Updated: fromMs(r.Updated), Labels: cur, Gone: r.Gone}
	t.History = ticket.History{Created: fromMs(r.History.Created), FirstResponse: fromMs(r.History.FirstResponse)}
	if len(r.History.Categories) > 0 {
		t.History.Categories = make([]ticket.CategoryAt, 0, len(r.History.Categories))
	}
	for _, c := range r.History.Categories {
		t.History.Categories = append(t.History.Categories, ticket.CategoryAt{At: fromMs(c.At), Category: ticket.Category(c.Category)})
	}
	t.State = ticket.State{Category: ticket.CategoryDone, Created: t.History.Created}
	if r.State != nil {
		t.State = ticket.State{Open: true, Category: ticket.Category(r.State.Category), Created: t.History.Created,
			AwaitingFirstResponse: r.State.Awaiting, Assigned: r.State.Assigned}
		if len(r.State.SLAs) > 0 {
			t.State.SLAs = make([]ticket.SLAState, 0, len(r.State.SLAs))
		}
		for _, s := range r.State.SLAs {
			t.State.SLAs = append(t.State.SLAs, ticket.SLAState{Name: s.Name, Breached: s.Breached, BreachAt: fromMs(s.BreachAt),
				Goal: time.Duration(s.Goal) * time.Millisecond, Paused: s.Paused})
		}
	}
	if len(entries) > 0 {
		t.Ledger = make([]Entry, 0, len(entries))
	}
	for _, e := range entries {
		l, ok := r.labels(e.Labels)
		if !ok {
			return Ticket{}, false
		}
		t.Ledger = append(t.Ledger, Entry{ID: e.ID, Kind: e.Kind, At: fromMs(e.At), Labels: l, Value: e.Value, SLA: e.SLA, Breached: e.Breach})
	}
	return t, true
}
