package store

import (
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// record is what the store keeps per ticket: the labels and current state the
// gauges need, and the ledger of every event already counted. Encoded as
// compact JSON so a store stays readable with standard tools.
type record struct {
	Updated     int64  `json:"u"`
	Desk        string `json:"d"`
	RequestType string `json:"r,omitempty"`
	Priority    string `json:"p,omitempty"`
	// Gone marks a ticket that left the source's scope: out of the gauges,
	// its counted events stay counted.
	Gone  bool      `json:"g,omitempty"`
	State *stateRec `json:"s,omitempty"` // nil when the ticket is done
	// Labels lists the (capped) label tuples ledger entries were counted
	// under; entries refer to them by index so a desk move never re-labels
	// history and rebuilding the aggregates is exact.
	Labels [][3]string `json:"cl,omitempty"`
	Ledger []entry     `json:"e,omitempty"`
}

type stateRec struct {
	Category string   `json:"c"`
	Created  int64    `json:"t"`
	Awaiting bool     `json:"a,omitempty"`
	SLAs     []slaRec `json:"s,omitempty"`
}

type slaRec struct {
	Name     string `json:"n"`
	Breached bool   `json:"b,omitempty"`
	BreachAt int64  `json:"t,omitempty"`
}

// entry is one counted event.
type entry struct {
	ID     string           `json:"i"`
	Kind   ticket.EventKind `json:"k"`
	Labels int              `json:"l,omitempty"`
	Value  float64          `json:"v,omitempty"` // seconds or rating
	SLA    string           `json:"n,omitempty"` // capped SLA name
	Breach bool             `json:"b,omitempty"`
}

func (r *record) labelIndex(tuple [3]string) int {
	for i, l := range r.Labels {
		if l == tuple {
			return i
		}
	}
	r.Labels = append(r.Labels, tuple)
	return len(r.Labels) - 1
}

// openTicket is the in-memory copy of an open ticket's gauge facts, with
// raw label values: capping is applied when a snapshot is built, so raising
// the limit later admits values without rewriting anything.
type openTicket struct {
	desk, requestType, priority string
	category                    string
	created                     time.Time
	awaiting                    bool
	slas                        []ticket.SLAState
}

func newStateRec(st ticket.State) *stateRec {
	if !st.Open {
		return nil
	}
	s := &stateRec{Category: string(st.Category), Created: st.Created.UnixMilli(), Awaiting: st.AwaitingFirstResponse}
	for _, sla := range st.SLAs {
		r := slaRec{Name: sla.Name, Breached: sla.Breached}
		if !sla.BreachAt.IsZero() {
			r.BreachAt = sla.BreachAt.UnixMilli()
		}
		s.SLAs = append(s.SLAs, r)
	}
	return s
}

func (r *record) openTicket() *openTicket {
	if r.Gone || r.State == nil {
		return nil
	}
	ot := &openTicket{
		desk: r.Desk, requestType: r.RequestType, priority: r.Priority,
		category: r.State.Category,
		created:  time.UnixMilli(r.State.Created).UTC(),
		awaiting: r.State.Awaiting,
	}
	for _, s := range r.State.SLAs {
		st := ticket.SLAState{Name: s.Name, Breached: s.Breached}
		if s.BreachAt != 0 {
			st.BreachAt = time.UnixMilli(s.BreachAt).UTC()
		}
		ot.slas = append(ot.slas, st)
	}
	return ot
}
