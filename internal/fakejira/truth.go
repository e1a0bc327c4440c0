package fakejira

import (
	"time"
)

// Labels identify a ticket series: source, desk (project key), request type
// name (empty when the ticket has none) and priority name (empty when none).
type Labels struct {
	Source      string
	Desk        string
	RequestType string
	Priority    string
}

// SLALabels add the SLA name.
type SLALabels struct {
	Labels
	SLA string
}

// OpenLabels add the status category.
type OpenLabels struct {
	Labels
	StatusCategory Category
}

// SatisfactionLabels drop the priority, as the satisfaction metric does.
type SatisfactionLabels struct {
	Source      string
	Desk        string
	RequestType string
}

// DeskSLA identifies a per-desk SLA gauge.
type DeskSLA struct {
	Desk string
	SLA  string
}

// SLAOutcome counts completed cycles.
type SLAOutcome struct {
	Met      int
	Breached int
}

// Truth is what the exporter's metrics must say about the fake's data,
// computed straight from the data model. Events count when their time is at
// or after Horizon; gauges describe every issue as of Now.
type Truth struct {
	Horizon time.Time
	Now     time.Time

	Created  map[Labels]int
	Resolved map[Labels]int
	Reopened map[Labels]int

	// Observations in seconds, in issue id order.
	FirstResponseSeconds map[Labels][]float64
	ResolutionSeconds    map[Labels][]float64

	SLACycles map[SLALabels]SLAOutcome

	// Satisfaction holds each issue's current rating when it was given at or
	// after Horizon; SatisfactionHistory every rating given at or after
	// Horizon (a changed rating adds one). An exporter that saw every
	// change must match the history; one that only ever saw the final
	// state must match Satisfaction.
	Satisfaction        map[SatisfactionLabels][]int
	SatisfactionHistory map[SatisfactionLabels][]int

	Open                  map[OpenLabels]int
	AwaitingFirstResponse map[Labels]int
	OldestOpenCreated     map[string]time.Time // by desk
	OldestAwaitingCreated map[string]time.Time // by desk
	BreachedOpen          map[DeskSLA]int
}

// Truth computes the expected metrics from the data model. The rules:
//
//   - created: one per issue with Created >= horizon.
//   - status timeline: the issue starts in the category of the first status
//     history item's From status (its current status when it has none);
//     every status item whose from and to categories differ is a change of
//     category, at the history's time. Changes within a category count for
//     nothing.
//   - resolved: one per change into done at >= horizon; resolution seconds
//     = that time - Created (wall clock), one observation per resolution.
//   - reopened: one per change from done to another category at >= horizon.
//   - first response, comment mode (firstResponseSLA empty): the earliest
//     comment that is public, written by RoleAgent, and not by the reporter
//     (automation, customers, internal notes and an agent-reporter's own
//     comments do not count). SLA mode: the Stop of the first completed
//     cycle of the SLA so named; an issue without that SLA, or whose SLA
//     has no cycle at all (neither completed nor running), or whose field
//     holds an error object (SLAErrors), falls back to the comment rule; an
//     issue with a running but no completed cycle has no first response
//     yet. Observed once per issue, only when the response time is >=
//     horizon; seconds = response - Created.
//   - SLA cycles: every completed cycle with Stop >= horizon, per SLA name,
//     breached or met by its Breached flag.
//   - satisfaction: see the Truth fields; a rating counts when its At >=
//     horizon.
//   - gauges (all issues, however old): open = current category not done,
//     by category; awaiting first response = open and no first response at
//     any time; oldest open / oldest awaiting = the smallest Created per
//     desk; breached now = open issues whose SLA has an ongoing cycle that
//     is breached at Now (elapsed > goal; paused clocks stay frozen).
//
// Truth covers every issue on the server; TruthJQL only those a JQL query
// matches (the exporter's scope).
func (s *Server) Truth(horizon time.Time, firstResponseSLA string) Truth {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.truthOf(s.issues, horizon, firstResponseSLA)
}

// TruthJQL is Truth restricted to the issues jql matches, read live (no
// IndexLag). It fails on JQL the fake rejects.
func (s *Server) TruthJQL(jql string, horizon time.Time, firstResponseSLA string) (Truth, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := parseJQL(jql, s.jqlEnv())
	if err != nil {
		return Truth{}, err
	}
	var issues []*Issue
	for _, is := range s.issues {
		if q.where == nil || q.where(is) {
			issues = append(issues, is)
		}
	}
	return s.truthOf(issues, horizon, firstResponseSLA), nil
}

// truthOf applies the rules to issues. Called with s.mu held.
func (s *Server) truthOf(issues []*Issue, horizon time.Time, firstResponseSLA string) Truth {
	now := s.opts.Now()
	t := Truth{
		Horizon: horizon, Now: now,
		Created: map[Labels]int{}, Resolved: map[Labels]int{}, Reopened: map[Labels]int{},
		FirstResponseSeconds: map[Labels][]float64{}, ResolutionSeconds: map[Labels][]float64{},
		SLACycles:    map[SLALabels]SLAOutcome{},
		Satisfaction: map[SatisfactionLabels][]int{}, SatisfactionHistory: map[SatisfactionLabels][]int{},
		Open: map[OpenLabels]int{}, AwaitingFirstResponse: map[Labels]int{},
		OldestOpenCreated: map[string]time.Time{}, OldestAwaitingCreated: map[string]time.Time{},
		BreachedOpen: map[DeskSLA]int{},
	}
	for _, is := range issues {
		labels := Labels{Source: s.opts.Source, Desk: is.Project, RequestType: is.RequestType, Priority: is.Priority}
		atOrAfter := func(at time.Time) bool { return !at.Before(horizon) }

		if atOrAfter(is.Created) {
			t.Created[labels]++
		}
		for _, change := range categoryChanges(is) {
			if !atOrAfter(change.at) {
				continue
			}
			switch {
			case change.to == CategoryDone:
				t.Resolved[labels]++
				t.ResolutionSeconds[labels] = append(t.ResolutionSeconds[labels], change.at.Sub(is.Created).Seconds())
			case change.from == CategoryDone:
				t.Reopened[labels]++
			}
		}

		responseAt, responded := firstResponse(is, firstResponseSLA)
		if responded && atOrAfter(responseAt) {
			t.FirstResponseSeconds[labels] = append(t.FirstResponseSeconds[labels], responseAt.Sub(is.Created).Seconds())
		}

		for _, sla := range is.SLAs {
			key := SLALabels{Labels: labels, SLA: sla.Name}
			for _, c := range sla.Completed {
				if !atOrAfter(c.Stop) {
					continue
				}
				out := t.SLACycles[key]
				if c.Breached {
					out.Breached++
				} else {
					out.Met++
				}
				t.SLACycles[key] = out
			}
		}

		satLabels := SatisfactionLabels{Source: labels.Source, Desk: labels.Desk, RequestType: labels.RequestType}
		for _, r := range is.Ratings {
			if atOrAfter(r.At) {
				t.SatisfactionHistory[satLabels] = append(t.SatisfactionHistory[satLabels], r.Value)
			}
		}
		if r := is.currentRating(); r != nil && atOrAfter(r.At) {
			t.Satisfaction[satLabels] = append(t.Satisfaction[satLabels], r.Value)
		}

		category := categoryOf(is.StatusID)
		if category == CategoryDone {
			continue
		}
		t.Open[OpenLabels{Labels: labels, StatusCategory: category}]++
		keepOldest(t.OldestOpenCreated, is.Project, is.Created)
		if !responded {
			t.AwaitingFirstResponse[labels]++
			keepOldest(t.OldestAwaitingCreated, is.Project, is.Created)
		}
		for _, sla := range is.SLAs {
			if sla.Ongoing != nil && sla.Ongoing.Breached(now) {
				t.BreachedOpen[DeskSLA{Desk: is.Project, SLA: sla.Name}]++
			}
		}
	}
	return t
}

func keepOldest(m map[string]time.Time, desk string, created time.Time) {
	if cur, ok := m[desk]; !ok || created.Before(cur) {
		m[desk] = created
	}
}

type categoryChange struct {
	at       time.Time
	from, to Category
}

// categoryChanges is the issue's timeline of status-category changes.
func categoryChanges(is *Issue) []categoryChange {
	var out []categoryChange
	for _, h := range is.Histories {
		for _, it := range h.Items {
			if it.Field != "status" {
				continue
			}
			from, to := categoryOf(it.From), categoryOf(it.To)
			if from != to {
				out = append(out, categoryChange{at: h.At, from: from, to: to})
			}
		}
	}
	return out
}

// firstResponse applies the first-response rule documented on Truth.
func firstResponse(is *Issue, slaName string) (time.Time, bool) {
	if slaName != "" {
		if sla := is.sla(slaName); sla != nil && (len(sla.Completed) > 0 || sla.Ongoing != nil) {
			if len(sla.Completed) == 0 {
				return time.Time{}, false
			}
			return sla.Completed[0].Stop, true
		}
	}
	var first time.Time
	found := false
	for _, c := range is.Comments {
		if !c.Public || c.Author.Role != RoleAgent || c.Author.AccountID == is.Reporter.AccountID {
			continue
		}
		if !found || c.Created.Before(first) {
			first, found = c.Created, true
		}
	}
	return first, found
}

// Sum adds up a counter map, for quick totals in tests.
func Sum[K comparable](m map[K]int) int {
	total := 0
	for _, v := range m {
		total += v
	}
	return total
}
