package ticket

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The statuses of the test desk and their categories.
var statusCategory = map[string]Category{
	"Open": CategoryNew, "In Progress": CategoryIndeterminate, "Waiting for customer": CategoryIndeterminate,
	"Resolved": CategoryDone, "Closed": CategoryDone,
}

type step struct {
	at time.Time
	to string
}

// walk moves tk from its current status through the steps, as a source
// would report the timeline, and leaves it in the last one.
func walk(tk *Ticket, steps ...step) {
	for _, s := range steps {
		tk.Transitions = append(tk.Transitions, Transition{
			At: s.at, From: statusCategory[tk.Status], To: statusCategory[s.to], FromStatus: tk.Status, ToStatus: s.to,
		})
		tk.Status, tk.StatusCategory = s.to, statusCategory[s.to]
		tk.Updated = laterTime(tk.Updated, s.at)
	}
}

func reply(tk *Ticket, at time.Time) {
	tk.Comments = append(tk.Comments, Comment{At: at, Author: AuthorAgent, Public: true})
	tk.Updated = laterTime(tk.Updated, at)
}

// describe renders SLAs one line per cycle, times in loc, so table rows stay
// readable: "name start→stop goal elapsed met|breached" for a completed
// cycle, "name start→ goal elapsed remaining running|paused [breached]
// breach-at" for the ongoing one.
func describe(slas []SLA, loc *time.Location) []string {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.In(loc).Format("Mon 01-02 15:04")
	}
	var out []string
	for _, s := range slas {
		for _, c := range s.Completed {
			state := "met"
			if c.Breached {
				state = "breached"
			}
			out = append(out, fmt.Sprintf("%s %s→%s goal %s elapsed %s %s", s.Name, ts(c.Start), ts(c.Stop), c.Goal, c.Elapsed, state))
		}
		if o := s.Ongoing; o != nil {
			state := "running"
			if o.Paused {
				state = "paused"
			}
			if o.Breached {
				state += " breached"
			}
			out = append(out, fmt.Sprintf("%s %s→ goal %s elapsed %s remaining %s %s breach %s",
				s.Name, ts(o.Start), o.Goal, o.Elapsed, o.Remaining, state, ts(o.BreachAt)))
		}
		if len(s.Completed) == 0 && s.Ongoing == nil {
			out = append(out, s.Name+" no cycle")
		}
	}
	return out
}

func TestPolicySLAs(t *testing.T) {
	berlin, sydney := zone(t, "Europe/Berlin"), zone(t, "Australia/Sydney")
	office := &Calendar{Location: berlin, WorkingDays: monToFri, DayStart: hm(9, 0), DayEnd: hm(17, 0),
		Holidays: []CivilDate{{2026, 4, 3}, {2026, 4, 6}}}
	response := SLAPolicy{Name: "Response", Goals: map[string]time.Duration{"High": time.Hour}, DefaultGoal: 4 * time.Hour, Stop: StopFirstResponse}
	resolution := SLAPolicy{Name: "Resolution", DefaultGoal: 8 * time.Hour, Stop: StopResolution, PauseStatuses: []string{"waiting FOR customer"}}
	officeResponse := SLAPolicy{Name: "Response", DefaultGoal: 4 * time.Hour, Stop: StopFirstResponse, Calendar: office}
	officeResolution := resolution
	officeResolution.Calendar = office
	// Monday 2 March 2026, 10:00 in Berlin, is t0.
	fri := func(h, m int) time.Time { return local(berlin, 2026, 3, 6, h, m) }
	mon := func(h, m int) time.Time { return local(berlin, 2026, 3, 9, h, m) }

	tests := []struct {
		name     string
		created  time.Time // t0 when zero
		priority string
		policies []SLAPolicy
		facts    func(tk *Ticket)
		loc      *time.Location // of the rendered times; Berlin when nil
		want     []string
	}{
		{
			name: "answered within the goal of its priority", priority: "High", policies: []SLAPolicy{response},
			facts: func(tk *Ticket) { reply(tk, at(30*time.Minute)) },
			want:  []string{"Response Mon 03-02 10:00→Mon 03-02 10:30 goal 1h0m0s elapsed 30m0s met"},
		},
		{
			name: "a priority without a goal of its own gets the default", priority: "Low", policies: []SLAPolicy{response},
			facts: func(tk *Ticket) { reply(tk, at(90*time.Minute)) },
			want:  []string{"Response Mon 03-02 10:00→Mon 03-02 11:30 goal 4h0m0s elapsed 1h30m0s met"},
		},
		{
			name: "a ticket without a priority gets the default", policies: []SLAPolicy{response},
			facts: func(tk *Ticket) { reply(tk, at(90*time.Minute)) },
			want:  []string{"Response Mon 03-02 10:00→Mon 03-02 11:30 goal 4h0m0s elapsed 1h30m0s met"},
		},
		{
			name: "a priority without a goal and no default: no SLA", priority: "Low",
			policies: []SLAPolicy{{Name: "Response", Goals: map[string]time.Duration{"High": time.Hour}, Stop: StopFirstResponse}},
			facts:    func(tk *Ticket) { reply(tk, at(90*time.Minute)) },
		},
		{
			name: "a zero goal exempts a priority from the default", priority: "Low",
			policies: []SLAPolicy{{Name: "Response", Goals: map[string]time.Duration{"Low": 0}, DefaultGoal: time.Hour, Stop: StopFirstResponse}},
			facts:    func(tk *Ticket) { reply(tk, at(90*time.Minute)) },
		},
		{
			name: "used up exactly at the goal is met", priority: "High", policies: []SLAPolicy{response},
			facts: func(tk *Ticket) { reply(tk, at(time.Hour)) },
			want:  []string{"Response Mon 03-02 10:00→Mon 03-02 11:00 goal 1h0m0s elapsed 1h0m0s met"},
		},
		{
			name: "a millisecond over the goal is breached", priority: "High", policies: []SLAPolicy{response},
			facts: func(tk *Ticket) { reply(tk, at(time.Hour+time.Millisecond)) },
			want:  []string{"Response Mon 03-02 10:00→Mon 03-02 11:00 goal 1h0m0s elapsed 1h0m0.001s breached"},
		},
		{
			name: "resolved before any response: the first-response cycle stops at the resolution", priority: "High",
			policies: []SLAPolicy{response},
			facts: func(tk *Ticket) {
				walk(tk, step{at(20 * time.Minute), "In Progress"}, step{at(50 * time.Minute), "Resolved"})
				reply(tk, at(2*time.Hour))
			},
			want: []string{"Response Mon 03-02 10:00→Mon 03-02 10:50 goal 1h0m0s elapsed 50m0s met"},
		},
		{
			name: "a reopen does not restart the first-response cycle", priority: "High", policies: []SLAPolicy{response},
			facts: func(tk *Ticket) {
				reply(tk, at(10*time.Minute))
				walk(tk, step{at(time.Hour), "Resolved"}, step{at(5 * time.Hour), "In Progress"})
			},
			want: []string{"Response Mon 03-02 10:00→Mon 03-02 10:10 goal 1h0m0s elapsed 10m0s met"},
		},
		{
			name: "unanswered: running as of the last update, breaching an hour after creation", priority: "High",
			policies: []SLAPolicy{response},
			facts:    func(tk *Ticket) { tk.Updated = at(20 * time.Minute) },
			want:     []string{"Response Mon 03-02 10:00→ goal 1h0m0s elapsed 20m0s remaining 40m0s running breach Mon 03-02 11:00"},
		},
		{
			name: "unanswered past the goal as of the last update: breached, and when", priority: "High",
			policies: []SLAPolicy{response},
			facts:    func(tk *Ticket) { tk.Updated = at(3 * time.Hour) },
			want:     []string{"Response Mon 03-02 10:00→ goal 1h0m0s elapsed 3h0m0s remaining -2h0m0s running breached breach Mon 03-02 11:00"},
		},
		{
			name: "every resolution ends a cycle, every reopen starts one", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				walk(tk, step{at(time.Hour), "In Progress"}, step{at(3 * time.Hour), "Resolved"},
					step{at(20 * time.Hour), "In Progress"}, step{at(30 * time.Hour), "Resolved"},
					step{at(40 * time.Hour), "Closed"}, step{at(50 * time.Hour), "In Progress"})
				tk.Updated = at(52 * time.Hour)
			},
			want: []string{
				"Resolution Mon 03-02 10:00→Mon 03-02 13:00 goal 8h0m0s elapsed 3h0m0s met",
				"Resolution Tue 03-03 06:00→Tue 03-03 16:00 goal 8h0m0s elapsed 10h0m0s breached",
				"Resolution Wed 03-04 12:00→ goal 8h0m0s elapsed 2h0m0s remaining 6h0m0s running breach Wed 03-04 20:00",
			},
		},
		{
			name: "a second resolution without a reopen in between ends no cycle", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				tk.Transitions = []Transition{
					{At: at(time.Hour), From: CategoryNew, To: CategoryDone, FromStatus: "Open", ToStatus: "Resolved"},
					{At: at(2 * time.Hour), From: CategoryIndeterminate, To: CategoryDone, FromStatus: "In Progress", ToStatus: "Resolved"},
				}
				tk.Status, tk.StatusCategory = "Resolved", CategoryDone
			},
			want: []string{"Resolution Mon 03-02 10:00→Mon 03-02 11:00 goal 8h0m0s elapsed 1h0m0s met"},
		},
		{
			name: "the clock stops while waiting for the customer, any case", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				walk(tk, step{at(time.Hour), "In Progress"}, step{at(2 * time.Hour), "Waiting for customer"},
					step{at(5 * time.Hour), "In Progress"}, step{at(6 * time.Hour), "Resolved"})
			},
			want: []string{"Resolution Mon 03-02 10:00→Mon 03-02 16:00 goal 8h0m0s elapsed 3h0m0s met"},
		},
		{
			name: "waiting now: paused, no breach instant", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				walk(tk, step{at(time.Hour), "In Progress"}, step{at(2 * time.Hour), "Waiting for customer"})
				tk.Updated = at(30 * time.Hour)
			},
			want: []string{"Resolution Mon 03-02 10:00→ goal 8h0m0s elapsed 2h0m0s remaining 6h0m0s paused breach never"},
		},
		{
			name: "running again after waiting: the breach moves by the pause", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				walk(tk, step{at(time.Hour), "In Progress"}, step{at(2 * time.Hour), "Waiting for customer"},
					step{at(5 * time.Hour), "In Progress"})
			},
			want: []string{"Resolution Mon 03-02 10:00→ goal 8h0m0s elapsed 2h0m0s remaining 6h0m0s running breach Mon 03-02 21:00"},
		},
		{
			name: "breached, then waiting: paused and breached, breach instant kept", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				walk(tk, step{at(time.Hour), "In Progress"}, step{at(10 * time.Hour), "Waiting for customer"})
			},
			want: []string{"Resolution Mon 03-02 10:00→ goal 8h0m0s elapsed 10h0m0s remaining -2h0m0s paused breached breach Mon 03-02 18:00"},
		},
		{
			name: "created waiting for the customer (the first transition's from status)", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				tk.Status = "Waiting for customer"
				walk(tk, step{at(4 * time.Hour), "In Progress"}, step{at(5 * time.Hour), "Resolved"})
			},
			want: []string{"Resolution Mon 03-02 10:00→Mon 03-02 15:00 goal 8h0m0s elapsed 1h0m0s met"},
		},
		{
			name: "no transitions: the current status decides", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				tk.Status, tk.StatusCategory, tk.Updated = "Waiting for customer", CategoryIndeterminate, at(time.Hour)
			},
			want: []string{"Resolution Mon 03-02 10:00→ goal 8h0m0s elapsed 0s remaining 8h0m0s paused breach never"},
		},
		{
			name: "no transitions, done: the cycle stops at the resolution time", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				tk.Status, tk.StatusCategory, tk.ResolvedAt, tk.Updated = "Resolved", CategoryDone, at(9*time.Hour), at(9*time.Hour)
			},
			want: []string{"Resolution Mon 03-02 10:00→Mon 03-02 19:00 goal 8h0m0s elapsed 9h0m0s breached"},
		},
		{
			name: "done without a resolution time: no cycle to report", policies: []SLAPolicy{resolution, response},
			facts: func(tk *Ticket) { tk.Status, tk.StatusCategory = "Resolved", CategoryDone },
			want:  []string{"Resolution no cycle", "Response no cycle"},
		},
		{
			name: "created done and reopened: the first resolution cycle starts at the reopen", policies: []SLAPolicy{resolution},
			facts: func(tk *Ticket) {
				tk.Status = "Resolved"
				walk(tk, step{at(time.Hour), "In Progress"}, step{at(2 * time.Hour), "Resolved"})
			},
			want: []string{"Resolution Mon 03-02 11:00→Mon 03-02 12:00 goal 8h0m0s elapsed 1h0m0s met"},
		},
		{
			name: "created on a Saturday: the clock starts on Monday morning", policies: []SLAPolicy{officeResponse},
			created: local(berlin, 2026, 3, 7, 12, 0),
			facts:   func(tk *Ticket) { tk.Updated = tk.Created.Add(5 * time.Minute) },
			want:    []string{"Response Sat 03-07 12:00→ goal 4h0m0s elapsed 0s remaining 4h0m0s running breach Mon 03-09 13:00"},
		},
		{
			name:     "used up at 17:00 Friday: met if resolved on the weekend, breaching from Monday 09:00",
			policies: []SLAPolicy{officeResponse}, created: fri(13, 0),
			facts: func(tk *Ticket) { tk.Updated = fri(16, 0) },
			want:  []string{"Response Fri 03-06 13:00→ goal 4h0m0s elapsed 3h0m0s remaining 1h0m0s running breach Mon 03-09 09:00"},
		},
		{
			name:     "resolved on the Saturday after a goal used up at 17:00 Friday: met",
			policies: []SLAPolicy{officeResponse}, created: fri(13, 0),
			facts: func(tk *Ticket) { walk(tk, step{local(berlin, 2026, 3, 7, 10, 0), "Resolved"}) },
			want:  []string{"Response Fri 03-06 13:00→Sat 03-07 10:00 goal 4h0m0s elapsed 4h0m0s met"},
		},
		{
			name: "the breach skips Good Friday, the weekend and Easter Monday", policies: []SLAPolicy{officeResponse},
			created: local(berlin, 2026, 4, 2, 15, 0),
			facts:   func(tk *Ticket) { tk.Updated = tk.Created.Add(time.Hour) },
			want:    []string{"Response Thu 04-02 15:00→ goal 4h0m0s elapsed 1h0m0s remaining 3h0m0s running breach Tue 04-07 11:00"},
		},
		{
			name: "waiting for the customer over a weekend in office hours", policies: []SLAPolicy{officeResolution},
			created: fri(16, 0),
			facts: func(tk *Ticket) {
				walk(tk, step{fri(16, 10), "In Progress"}, step{fri(16, 30), "Waiting for customer"},
					step{mon(10, 0), "In Progress"}, step{mon(11, 0), "Resolved"})
			},
			want: []string{"Resolution Fri 03-06 16:00→Mon 03-09 11:00 goal 8h0m0s elapsed 1h30m0s met"},
		},
		{
			name: "the same ticket without the pause", policies: []SLAPolicy{officeResponse, {Name: "Resolution", DefaultGoal: 8 * time.Hour, Stop: StopResolution, Calendar: office}},
			created: fri(16, 0),
			facts: func(tk *Ticket) {
				walk(tk, step{fri(16, 10), "In Progress"}, step{fri(16, 30), "Waiting for customer"},
					step{mon(10, 0), "In Progress"}, step{mon(11, 0), "Resolved"})
			},
			want: []string{
				"Response Fri 03-06 16:00→Mon 03-09 11:00 goal 4h0m0s elapsed 3h0m0s met",
				"Resolution Fri 03-06 16:00→Mon 03-09 11:00 goal 8h0m0s elapsed 3h0m0s met",
			},
		},
		{
			name: "Sydney's clocks go back at 03:00 Sunday: 08:00-20:00 is still 12 h, breach Monday 10:00",
			policies: []SLAPolicy{{Name: "Response", DefaultGoal: 15 * time.Hour, Stop: StopFirstResponse,
				Calendar: &Calendar{Location: sydney, WorkingDays: everyDay, DayStart: hm(8, 0), DayEnd: hm(20, 0)}}},
			created: local(sydney, 2026, 4, 4, 19, 0), loc: sydney,
			facts: func(tk *Ticket) { tk.Updated = tk.Created },
			want:  []string{"Response Sat 04-04 19:00→ goal 15h0m0s elapsed 0s remaining 15h0m0s running breach Mon 04-06 10:00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := base()
			tk.Status, tk.Priority = "Open", tt.priority
			if !tt.created.IsZero() {
				tk.Created, tk.Updated = tt.created, tt.created
			}
			tt.facts(&tk)
			loc := tt.loc
			if loc == nil {
				loc = berlin
			}
			got := describe(PolicySLAs(tk, tt.policies), loc)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PolicySLAs:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

// TestPolicySLAsDeterministic: the figures follow from the facts alone:
// the order transitions arrive in does not matter, a later poll (a later
// Updated) moves neither the starts (the event ids) nor the breach instant.
func TestPolicySLAsDeterministic(t *testing.T) {
	policies := []SLAPolicy{
		{Name: "Response", DefaultGoal: 4 * time.Hour, Stop: StopFirstResponse},
		{Name: "Resolution", DefaultGoal: 8 * time.Hour, Stop: StopResolution, PauseStatuses: []string{"Waiting for customer"}},
	}
	tk := base()
	tk.Status = "Open"
	walk(&tk, step{at(time.Hour), "In Progress"}, step{at(2 * time.Hour), "Resolved"},
		step{at(5 * time.Hour), "In Progress"}, step{at(6 * time.Hour), "Waiting for customer"}, step{at(7 * time.Hour), "In Progress"})
	first := PolicySLAs(tk, policies)
	if again := PolicySLAs(tk, policies); !reflect.DeepEqual(first, again) {
		t.Fatalf("same facts, different SLAs:\n%v\n%v", first, again)
	}

	shuffled := tk
	shuffled.Transitions = append([]Transition(nil), tk.Transitions...)
	for i, j := 0, len(shuffled.Transitions)-1; i < j; i, j = i+1, j-1 {
		shuffled.Transitions[i], shuffled.Transitions[j] = shuffled.Transitions[j], shuffled.Transitions[i]
	}
	if got := PolicySLAs(shuffled, policies); !reflect.DeepEqual(got, first) {
		t.Errorf("transitions out of order give other SLAs:\n%v\nwant %v", got, first)
	}

	later := tk
	later.Updated = at(9 * time.Hour)
	polled := PolicySLAs(later, policies)
	ids := func(slas []SLA) []string {
		tk := tk
		tk.SLAs = slas
		return summary(Events(tk, time.Time{}))
	}
	if a, b := ids(first), ids(polled); !reflect.DeepEqual(a, b) {
		t.Errorf("a later poll changes the events:\n%v\n%v", a, b)
	}
	if a, b := first[1].Ongoing.BreachAt, polled[1].Ongoing.BreachAt; !a.Equal(b) || a.IsZero() {
		t.Errorf("the breach instant moves with the poll: %s, then %s", a, b)
	}
	if a, b := first[1].Ongoing.Elapsed, polled[1].Ongoing.Elapsed; b-a != 2*time.Hour {
		t.Errorf("elapsed as of the later update grew by %s, want 2h", b-a)
	}
}

func TestWithPolicies(t *testing.T) {
	response := SLAPolicy{Name: "Time to first response", Goals: map[string]time.Duration{"High": time.Hour}, Stop: StopFirstResponse}
	internal := SLAPolicy{Name: "Internal response", DefaultGoal: 30 * time.Minute, Stop: StopFirstResponse}
	jsm := func() Ticket {
		tk := base()
		tk.Status, tk.Priority, tk.FirstResponseSLA = "Open", "High", "Time to first response"
		reply(&tk, at(45*time.Minute))
		tk.SLAs = make([]SLA, 0, 8) // spare capacity WithPolicies must not write into
		tk.SLAs = append(tk.SLAs,
			SLA{Name: "Time to first response", Completed: []SLACycle{{Start: t0, Stop: at(40 * time.Minute), Goal: 2 * time.Hour, Elapsed: 40 * time.Minute}}},
			SLA{Name: "Time to resolution", Ongoing: &OngoingCycle{Start: t0, Goal: 8 * time.Hour, BreachAt: at(8 * time.Hour)}})
		return tk
	}

	t.Run("no policies leave the ticket as it is", func(t *testing.T) {
		tk := jsm()
		if got := WithPolicies(tk, nil); !reflect.DeepEqual(got, tk) {
			t.Errorf("WithPolicies(t, nil) changed the ticket: %+v", got.SLAs)
		}
	})

	t.Run("policies are added after the source's SLAs, without touching the caller's", func(t *testing.T) {
		tk := jsm()
		got := WithPolicies(tk, []SLAPolicy{internal})
		names := []string{}
		for _, s := range got.SLAs {
			names = append(names, s.Name)
		}
		if want := []string{"Time to first response", "Time to resolution", "Internal response"}; !reflect.DeepEqual(names, want) {
			t.Errorf("SLAs %v, want %v", names, want)
		}
		if spare := tk.SLAs[:cap(tk.SLAs)][2]; spare.Name != "" {
			t.Errorf("WithPolicies wrote %q into the caller's slice", spare.Name)
		}
		evs := summary(Events(got, time.Time{}))
		if want := "sla/Internal response/" + stamp(t0) + " breached"; !strings.Contains(strings.Join(evs, ","), want) {
			t.Errorf("events %v, want one %q", evs, want)
		}
	})

	t.Run("a policy replaces the source's SLA of its name and becomes the first-response measure", func(t *testing.T) {
		tk := jsm()
		got := WithPolicies(tk, []SLAPolicy{response})
		want := []string{
			"Time to resolution Mon 03-02 10:00→ goal 8h0m0s elapsed 0s remaining 0s running breach Mon 03-02 18:00",
			// The source's TTFR stopped at 10:40; the policy measures from
			// the same facts, whose first response FirstResponseSLA puts there.
			"Time to first response Mon 03-02 10:00→Mon 03-02 10:40 goal 1h0m0s elapsed 40m0s met",
		}
		if d := describe(got.SLAs, zone(t, "Europe/Berlin")); !reflect.DeepEqual(d, want) {
			t.Errorf("SLAs:\n%s\nwant\n%s", strings.Join(d, "\n"), strings.Join(want, "\n"))
		}
		if fr, ok := FirstResponse(got); !ok || !fr.Equal(at(40*time.Minute)) {
			t.Errorf("first response %s %v, want 10:40", fr, ok)
		}
		if again := WithPolicies(got, []SLAPolicy{response}); !reflect.DeepEqual(again.SLAs, got.SLAs) {
			t.Errorf("applying the policies twice changes the SLAs:\n%v\n%v", again.SLAs, got.SLAs)
		}
	})

	t.Run("a policy without a goal for the ticket still owns its name", func(t *testing.T) {
		tk := jsm()
		tk.Priority = "Low"
		got := WithPolicies(tk, []SLAPolicy{response})
		if len(got.SLAs) != 1 || got.SLAs[0].Name != "Time to resolution" {
			t.Errorf("SLAs %v, want only the source's Time to resolution", got.SLAs)
		}
	})

	t.Run("the gauges see the policy's running cycle turn breached without a new poll", func(t *testing.T) {
		tk := base()
		tk.Status, tk.Updated = "Open", at(10*time.Minute)
		st := CurrentState(WithPolicies(tk, []SLAPolicy{internal}))
		if len(st.SLAs) != 1 || st.SLAs[0].Name != "Internal response" {
			t.Fatalf("state SLAs %+v", st.SLAs)
		}
		s := st.SLAs[0]
		if s.BreachedAt(at(29*time.Minute)) || !s.BreachedAt(at(30*time.Minute)) {
			t.Errorf("breach instant %s, want 30 minutes after creation", s.BreachAt)
		}
	})
}

func TestPolicyValidate(t *testing.T) {
	good := func() SLAPolicy {
		return SLAPolicy{Name: "Resolution", Goals: map[string]time.Duration{"High": 4 * time.Hour}, DefaultGoal: 8 * time.Hour,
			Stop: StopResolution, PauseStatuses: []string{"Waiting for customer"}}
	}
	tests := []struct {
		name   string
		mutate func(*SLAPolicy)
		want   string
	}{
		{name: "valid", mutate: func(*SLAPolicy) {}},
		{name: "only a default goal", mutate: func(p *SLAPolicy) { p.Goals = nil }},
		{name: "only priority goals", mutate: func(p *SLAPolicy) { p.DefaultGoal = 0 }},
		{name: "a priority exempted", mutate: func(p *SLAPolicy) { p.Goals["Low"] = 0 }},
		{name: "no name", mutate: func(p *SLAPolicy) { p.Name = "" }, want: "SLA policy has no name"},
		{name: "unknown stop", mutate: func(p *SLAPolicy) { p.Stop = "closed" }, want: `SLA policy "Resolution": stop "closed" is neither "first_response" nor "resolution"`},
		{name: "no stop", mutate: func(p *SLAPolicy) { p.Stop = "" }, want: `SLA policy "Resolution": stop "" is neither "first_response" nor "resolution"`},
		{name: "negative default", mutate: func(p *SLAPolicy) { p.DefaultGoal = -time.Hour }, want: `SLA policy "Resolution": default goal -1h0m0s is negative`},
		{name: "negative goal", mutate: func(p *SLAPolicy) { p.Goals["Low"] = -time.Minute }, want: `SLA policy "Resolution": goal -1m0s for priority "Low" is negative`},
		{name: "empty priority", mutate: func(p *SLAPolicy) { p.Goals[""] = time.Hour }, want: `SLA policy "Resolution": a goal names no priority (tickets without one get the default goal)`},
		{name: "no goal at all", mutate: func(p *SLAPolicy) { p.Goals, p.DefaultGoal = map[string]time.Duration{"Low": 0}, 0 }, want: `SLA policy "Resolution": no goal for any priority`},
		{name: "blank pause status", mutate: func(p *SLAPolicy) { p.PauseStatuses = append(p.PauseStatuses, " ") }, want: `SLA policy "Resolution": a pause status has no name`},
		{name: "bad calendar", mutate: func(p *SLAPolicy) { p.Calendar = &Calendar{Location: time.UTC, DayEnd: time.Hour} }, want: `SLA policy "Resolution": calendar has no working days`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good()
			tt.mutate(&p)
			wantError(t, p.Validate(), tt.want)
		})
	}

	twice := []SLAPolicy{good(), {Name: "Response", DefaultGoal: time.Hour, Stop: StopFirstResponse}, good()}
	if err := ValidatePolicies(twice); err == nil || err.Error() != `SLA policy "Resolution" is defined twice` {
		t.Errorf("ValidatePolicies(twice) = %v", err)
	}
	if err := ValidatePolicies(twice[:2]); err != nil {
		t.Errorf("ValidatePolicies = %v", err)
	}
	bad := good()
	bad.Stop = ""
	if err := ValidatePolicies([]SLAPolicy{good(), bad}); err == nil {
		t.Error("ValidatePolicies accepted a policy Validate rejects")
	}
}

// benchPolicyTicket has 50 status changes over three weeks: ten rounds of
// work, waiting for the customer, resolution and reopen.
func benchPolicyTicket() Ticket {
	tk := base()
	tk.Status, tk.Priority = "Open", "High"
	reply(&tk, at(50*time.Minute))
	round := []string{"In Progress", "Waiting for customer", "In Progress", "Resolved", "In Progress"}
	for i := range 50 {
		walk(&tk, step{at(time.Duration(i+1) * 7 * time.Hour), round[i%len(round)]})
	}
	return tk
}

// BenchmarkPolicySLAs is the per-ticket cost policies add to every
// derivation: a first-response and a resolution policy in office hours with
// holidays, and a round-the-clock resolution policy.
func BenchmarkPolicySLAs(b *testing.B) {
	berlin := zone(b, "Europe/Berlin")
	office := &Calendar{Location: berlin, WorkingDays: monToFri, DayStart: hm(9, 0), DayEnd: hm(17, 0),
		Holidays: []CivilDate{{2026, 1, 1}, {2026, 4, 3}, {2026, 4, 6}, {2026, 5, 1}, {2026, 5, 14}, {2026, 5, 25}, {2026, 12, 25}}}
	policies := []SLAPolicy{
		{Name: "Response", Goals: map[string]time.Duration{"High": time.Hour}, DefaultGoal: 4 * time.Hour, Stop: StopFirstResponse, Calendar: office},
		{Name: "Resolution", DefaultGoal: 16 * time.Hour, Stop: StopResolution, PauseStatuses: []string{"Waiting for customer"}, Calendar: office},
		{Name: "Resolution 24x7", DefaultGoal: 48 * time.Hour, Stop: StopResolution, PauseStatuses: []string{"Waiting for customer"}},
	}
	tk := benchPolicyTicket()
	if len(tk.Transitions) != 50 {
		b.Fatalf("%d transitions", len(tk.Transitions))
	}
	for b.Loop() {
		if slas := PolicySLAs(tk, policies); len(slas) != 3 || len(slas[1].Completed) != 10 {
			b.Fatalf("SLAs %v", slas)
		}
	}
}
