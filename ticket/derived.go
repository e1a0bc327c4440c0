package ticket

import (
	"sort"
	"time"
)

// Labels are the facts a ticket's series are cut by, as the source reports
// them; folding rare values into "other" happens later, in aggregation.
type Labels struct {
	Desk, RequestType, Priority string
	CustomerGroup, Team         string
}

// Derived is one ticket after derivation: what the store persists and the
// aggregates count. Sources never build one; Derive does.
type Derived struct {
	ID      string
	Key     string // for logs only
	Updated time.Time
	Labels  Labels
	// Events are every countable event at or after the horizon; the store
	// counts those whose ID its ledger does not hold yet.
	Events []Event
	State  State
	// History is what point-in-time reconstruction (backfill) needs beyond
	// the events: when the ticket was in which category, and when it was
	// first answered.
	History History
}

// History is a ticket's category timeline and first response.
type History struct {
	Created time.Time
	// Categories lists the category from creation on, one entry per change
	// of category, oldest first; the first entry is at Created.
	Categories []CategoryAt
	// FirstResponse is zero while the ticket has none.
	FirstResponse time.Time
}

// CategoryAt is the category a ticket entered at a time.
type CategoryAt struct {
	At       time.Time
	Category Category
}

// CategoryAt returns the ticket's category at t, and false before it existed.
func (h History) CategoryAt(t time.Time) (Category, bool) {
	if len(h.Categories) == 0 || t.Before(h.Created) {
		return "", false
	}
	i := sort.Search(len(h.Categories), func(i int) bool { return h.Categories[i].At.After(t) })
	if i == 0 {
		return h.Categories[0].Category, true
	}
	return h.Categories[i-1].Category, true
}

// Derive measures the exporter-side SLA policies on t, validates it and
// derives its events since horizon, its current state and its history. It
// is the one place the pipeline turns facts into what is counted.
func Derive(t Ticket, horizon time.Time, policies []SLAPolicy) (Derived, error) {
	if len(policies) > 0 {
		t = WithPolicies(t, policies)
	}
	if err := Validate(t); err != nil {
		return Derived{}, err
	}
	d := Derived{
		ID: t.ID, Key: t.Key, Updated: t.Updated,
		Labels: Labels{Desk: t.Desk, RequestType: t.RequestType, Priority: t.Priority, CustomerGroup: t.CustomerGroup, Team: t.Team},
		Events: Events(t, horizon),
		State:  CurrentState(t),
	}
	d.History = history(t)
	return d, nil
}

func history(t Ticket) History {
	h := History{Created: t.Created}
	if at, ok := FirstResponse(t); ok {
		h.FirstResponse = at
	}
	trs := sortedTransitions(t.Transitions)
	if len(trs) == 0 {
		// Without a timeline only the current category is known, and for a
		// done ticket when it was resolved (the rule Events uses too).
		if t.StatusCategory == CategoryDone && !t.ResolvedAt.IsZero() {
			h.Categories = []CategoryAt{{At: t.Created, Category: CategoryNew}, {At: maxTime(t.Created, t.ResolvedAt), Category: CategoryDone}}
		} else {
			h.Categories = []CategoryAt{{At: t.Created, Category: t.StatusCategory}}
		}
		return h
	}
	h.Categories = append(h.Categories, CategoryAt{At: t.Created, Category: trs[0].From})
	for _, tr := range trs {
		last := h.Categories[len(h.Categories)-1]
		if tr.To == last.Category {
			continue
		}
		// A transition stamped before creation (clock skew) moves to it.
		h.Categories = append(h.Categories, CategoryAt{At: maxTime(last.At, tr.At), Category: tr.To})
	}
	return h
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
