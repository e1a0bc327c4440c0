package backfill

import (
	"cmp"
	"slices"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// history is the store as the replay needs it, compact: 100k tickets with
// their entries take tens of megabytes instead of the hundreds a slice of
// store.Ticket would.
type history struct {
	sources []string
	tickets []trackedTicket
	// events are the ledger entries and the instants at which a ticket's
	// gauge state may change, in time order.
	events  []event
	entries int

	labels  []ticket.Labels
	labelID map[ticket.Labels]uint32
	strings []string // entry kinds and SLA names
	strID   map[string]uint32
}

type trackedTicket struct {
	id      string
	source  uint16
	gone    bool
	updated int64 // ms
	history ticket.History
	// points is the ticket's label timeline, oldest first: the labels of
	// each counted entry at its time, then the current labels at the last
	// update. Consecutive equal labels are merged.
	points []labelPoint
	// applied is the gauge state last given to the replay.
	applied appliedState
}

type labelPoint struct {
	at     int64
	labels uint32
}

type appliedState struct {
	open, awaiting bool
	category       ticket.Category
	labels         uint32
}

// event is either a ledger entry (kind > 0: strings[kind-1] is its kind) or
// an instant at which ticket's gauge state is worked out again (kind 0).
type event struct {
	at       int64 // ms
	value    float64
	ticket   uint32
	labels   uint32
	sla      uint32
	kind     uint32
	breached bool
}

func load(st Store, sources []string) (*history, error) {
	h := &history{sources: sortedSources(sources), labelID: map[ticket.Labels]uint32{}, strID: map[string]uint32{}}
	index := make(map[string]uint16, len(h.sources))
	for i, s := range h.sources {
		index[s] = uint16(i)
	}
	err := st.Scan(func(source string, t store.Ticket) error {
		si, ok := index[source]
		if !ok {
			return nil
		}
		h.add(si, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(h.events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	return h, nil
}

func (h *history) label(l ticket.Labels) uint32 {
	id, ok := h.labelID[l]
	if !ok {
		id = uint32(len(h.labels))
		h.labels = append(h.labels, l)
		h.labelID[l] = id
	}
	return id
}

func (h *history) str(s string) uint32 {
	id, ok := h.strID[s]
	if !ok {
		id = uint32(len(h.strings))
		h.strings = append(h.strings, s)
		h.strID[s] = id
	}
	return id
}

// canonicalCategory shares the package's constants instead of one string
// per decoded record.
func canonicalCategory(c ticket.Category) ticket.Category {
	for _, k := range []ticket.Category{ticket.CategoryNew, ticket.CategoryIndeterminate, ticket.CategoryDone} {
		if c == k {
			return k
		}
	}
	return c
}

func (h *history) add(source uint16, t store.Ticket) {
	ti := uint32(len(h.tickets))
	// Scan decodes every ticket afresh, so its slices are this ticket's own.
	tk := trackedTicket{id: t.ID, source: source, gone: t.Gone, updated: t.Updated.UnixMilli(), history: t.History}
	for i := range tk.history.Categories {
		tk.history.Categories[i].Category = canonicalCategory(tk.history.Categories[i].Category)
	}
	points := make([]labelPoint, 0, len(t.Ledger)+1)
	for _, e := range t.Ledger {
		li := h.label(e.Labels)
		h.events = append(h.events, event{at: e.At.UnixMilli(), value: e.Value, ticket: ti, labels: li,
			sla: h.str(e.SLA), kind: h.str(string(e.Kind)) + 1, breached: e.Breached})
		points = append(points, labelPoint{at: e.At.UnixMilli(), labels: li})
	}
	h.entries += len(t.Ledger)
	// The current labels hold from the last update on, also over an entry
	// stamped at the same instant.
	points = append(points, labelPoint{at: tk.updated, labels: h.label(t.Labels)})
	slices.SortStableFunc(points, func(a, b labelPoint) int { return cmp.Compare(a.at, b.at) })
	for _, p := range points {
		if n := len(tk.points); n > 0 && tk.points[n-1].labels == p.labels {
			continue
		}
		tk.points = append(tk.points, p)
	}

	// The gauge state can only change at these instants.
	var at []int64
	if !t.History.Created.IsZero() {
		at = append(at, t.History.Created.UnixMilli())
	}
	for _, c := range t.History.Categories {
		at = append(at, c.At.UnixMilli())
	}
	if !t.History.FirstResponse.IsZero() {
		at = append(at, t.History.FirstResponse.UnixMilli())
	}
	for _, p := range tk.points {
		at = append(at, p.at)
	}
	if t.Gone {
		at = append(at, tk.updated+1)
	}
	slices.Sort(at)
	for _, a := range slices.Compact(at) {
		h.events = append(h.events, event{at: a, ticket: ti})
	}
	h.tickets = append(h.tickets, tk)
}

// labelsAt returns the ticket's labels at t: those of its latest point at or
// before t, or of its first point before any.
func (tk *trackedTicket) labelsAt(t int64) uint32 {
	i, _ := slices.BinarySearchFunc(tk.points, t+1, func(p labelPoint, t int64) int { return cmp.Compare(p.at, t) })
	if i == 0 {
		return tk.points[0].labels
	}
	return tk.points[i-1].labels
}

// stateAt works out the ticket's gauge state at t (ms).
func (tk *trackedTicket) stateAt(t int64) appliedState {
	at := time.UnixMilli(t).UTC()
	if tk.history.Created.After(at) || tk.gone && t > tk.updated {
		return appliedState{}
	}
	cat, ok := tk.history.CategoryAt(at)
	if !ok || cat == ticket.CategoryDone {
		return appliedState{}
	}
	return appliedState{
		open:     true,
		category: cat,
		awaiting: tk.history.FirstResponse.IsZero() || tk.history.FirstResponse.After(at),
		labels:   tk.labelsAt(t),
	}
}

// apply gives the replay the event at i.
func (h *history) apply(r *aggregate.Replay, i int) error {
	e := &h.events[i]
	tk := &h.tickets[e.ticket]
	source := h.sources[tk.source]
	if e.kind > 0 {
		r.Count(source, store.Entry{Kind: ticket.EventKind(h.strings[e.kind-1]), At: time.UnixMilli(e.at).UTC(),
			Labels: h.labels[e.labels], Value: e.value, SLA: h.strings[e.sla], Breached: e.breached})
		return nil
	}
	st := tk.stateAt(e.at)
	if st == tk.applied {
		return nil
	}
	tk.applied = st
	return r.SetTicket(source, tk.id, h.labels[st.labels], ticket.State{
		Open: st.open, Category: st.category, Created: tk.history.Created, AwaitingFirstResponse: st.awaiting,
	})
}
