package backfill

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// history is the store as the replay needs it, compact: times in
// milliseconds, labels, kinds and categories interned. 100k tickets with
// half a million entries take about 50 MB instead of the hundreds a slice of
// store.Ticket would.
type history struct {
	sources []string
	tickets []trackedTicket
	// entries are the ledger entries and transitions the instants at which
	// a ticket's gauge state may change, each in time order.
	entries     []entryEvent
	transitions []transition

	labels     []ticket.Labels
	labelID    map[ticket.Labels]uint32
	kinds      []ticket.EventKind
	slas       []string
	slaID      map[string]uint16
	categories []ticket.Category
}

type trackedTicket struct {
	id            string
	created       int64 // ms
	firstResponse int64 // ms; 0: none
	updated       int64 // ms
	// cats is the status category timeline, oldest first.
	cats []categoryPoint
	// points is the label timeline, oldest first: the labels of each
	// counted entry at its time, then the current labels at the last
	// update. Consecutive equal labels are merged.
	points  []labelPoint
	applied appliedState // the gauge state last given to the replay
	source  uint16
	gone    bool
}

type categoryPoint struct {
	at  int64
	cat uint8 // index into history.categories
}

type labelPoint struct {
	at     int64
	labels uint32
}

type appliedState struct {
	labels         uint32
	category       uint8
	open, awaiting bool
}

// entryEvent is 32 bytes: half a million of them are most of a history.
type entryEvent struct {
	at       int64 // ms
	value    float64
	ticket   uint32
	labels   uint32
	sla      uint16 // index into history.slas
	kind     uint8  // index into history.kinds
	breached bool
}

type transition struct {
	at     int64
	ticket uint32
}

func load(st Store, sources []string) (*history, error) {
	h := &history{sources: sortedSources(sources), labelID: map[ticket.Labels]uint32{}, slaID: map[string]uint16{},
		categories: []ticket.Category{ticket.CategoryNew, ticket.CategoryIndeterminate, ticket.CategoryDone}}
	index := make(map[string]uint16, len(h.sources))
	for i, s := range h.sources {
		index[s] = uint16(i)
	}
	err := st.Scan(func(source string, t store.Ticket) error {
		if si, ok := index[source]; ok {
			return h.add(si, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(h.entries, func(a, b entryEvent) int { return cmp.Compare(a.at, b.at) })
	slices.SortFunc(h.transitions, func(a, b transition) int { return cmp.Compare(a.at, b.at) })
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

func (h *history) sla(name string) (uint16, error) {
	id, ok := h.slaID[name]
	if !ok {
		if len(h.slas) > math.MaxUint16 {
			return 0, fmt.Errorf("more than %d SLA names", math.MaxUint16+1)
		}
		id = uint16(len(h.slas))
		h.slas = append(h.slas, name)
		h.slaID[name] = id
	}
	return id, nil
}

func (h *history) kind(k ticket.EventKind) (uint8, error) {
	if i := slices.Index(h.kinds, k); i >= 0 {
		return uint8(i), nil
	}
	if len(h.kinds) > math.MaxUint8 {
		return 0, fmt.Errorf("more than %d kinds of event", math.MaxUint8+1)
	}
	h.kinds = append(h.kinds, k)
	return uint8(len(h.kinds) - 1), nil
}

func (h *history) category(c ticket.Category) uint8 {
	if i := slices.Index(h.categories, c); i >= 0 {
		return uint8(i)
	}
	h.categories = append(h.categories, c)
	return uint8(len(h.categories) - 1)
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (h *history) add(source uint16, t store.Ticket) error {
	ti := uint32(len(h.tickets))
	tk := trackedTicket{id: t.ID, source: source, gone: t.Gone, created: ms(t.History.Created),
		firstResponse: ms(t.History.FirstResponse), updated: ms(t.Updated)}
	tk.cats = make([]categoryPoint, len(t.History.Categories))
	for i, c := range t.History.Categories {
		tk.cats[i] = categoryPoint{at: ms(c.At), cat: h.category(c.Category)}
	}
	points := make([]labelPoint, 0, len(t.Ledger)+1)
	for _, e := range t.Ledger {
		li := h.label(e.Labels)
		sla, err := h.sla(e.SLA)
		if err != nil {
			return err
		}
		kind, err := h.kind(e.Kind)
		if err != nil {
			return err
		}
		h.entries = append(h.entries, entryEvent{at: ms(e.At), value: e.Value, ticket: ti, labels: li,
			sla: sla, kind: kind, breached: e.Breached})
		points = append(points, labelPoint{at: ms(e.At), labels: li})
	}
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
	tk.points = slices.Clip(tk.points)

	// The gauge state can only change at these instants.
	at := make([]int64, 0, 2+len(tk.cats)+len(tk.points))
	if tk.created != 0 {
		at = append(at, tk.created)
	}
	for _, c := range tk.cats {
		at = append(at, c.at)
	}
	if tk.firstResponse != 0 {
		at = append(at, tk.firstResponse)
	}
	for _, p := range tk.points {
		at = append(at, p.at)
	}
	if t.Gone {
		at = append(at, tk.updated+1)
	}
	slices.Sort(at)
	for _, a := range slices.Compact(at) {
		h.transitions = append(h.transitions, transition{at: a, ticket: ti})
	}
	h.tickets = append(h.tickets, tk)
	return nil
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

// stateAt works out the ticket's gauge state at t (ms): its category then
// by the rule of ticket.History.CategoryAt.
func (tk *trackedTicket) stateAt(h *history, t int64) appliedState {
	if len(tk.cats) == 0 || t < tk.created || tk.gone && t > tk.updated {
		return appliedState{}
	}
	i, _ := slices.BinarySearchFunc(tk.cats, t+1, func(c categoryPoint, t int64) int { return cmp.Compare(c.at, t) })
	cat := tk.cats[max(i-1, 0)].cat
	if h.categories[cat] == ticket.CategoryDone {
		return appliedState{}
	}
	return appliedState{
		open:     true,
		category: cat,
		awaiting: tk.firstResponse == 0 || tk.firstResponse > t,
		labels:   tk.labelsAt(t),
	}
}

// replayUntil gives the replay every entry and transition at or before at,
// in time order, from the cursors on.
func (h *history) replayUntil(r *aggregate.Replay, at int64, nextEntry, nextTransition *int) error {
	for {
		e, t := *nextEntry < len(h.entries) && h.entries[*nextEntry].at <= at,
			*nextTransition < len(h.transitions) && h.transitions[*nextTransition].at <= at
		switch {
		case e && (!t || h.entries[*nextEntry].at <= h.transitions[*nextTransition].at):
			h.count(r, &h.entries[*nextEntry])
			*nextEntry++
		case t:
			if err := h.setState(r, h.transitions[*nextTransition]); err != nil {
				return err
			}
			*nextTransition++
		default:
			return nil
		}
	}
}

func (h *history) count(r *aggregate.Replay, e *entryEvent) {
	tk := &h.tickets[e.ticket]
	r.Count(h.sources[tk.source], store.Entry{Kind: h.kinds[e.kind], At: time.UnixMilli(e.at).UTC(),
		Labels: h.labels[e.labels], Value: e.value, SLA: h.slas[e.sla], Breached: e.breached})
}

func (h *history) setState(r *aggregate.Replay, tr transition) error {
	tk := &h.tickets[tr.ticket]
	st := tk.stateAt(h, tr.at)
	if st == tk.applied {
		return nil
	}
	tk.applied = st
	return r.SetTicket(h.sources[tk.source], tk.id, h.labels[st.labels], ticket.State{
		Open: st.open, Category: h.categories[st.category], Created: time.UnixMilli(tk.created).UTC(), AwaitingFirstResponse: st.awaiting,
	})
}
