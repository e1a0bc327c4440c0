package ticket

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func base() Ticket {
	return Ticket{ID: "1", Key: "IT-1", Desk: "IT", Created: t0, Updated: t0, StatusCategory: CategoryNew}
}

// summary reduces events to comparable strings so table rows stay readable.
func summary(evs []Event) []string {
	var out []string
	for _, e := range evs {
		s := e.ID
		switch e.Kind {
		case EventResolved, EventFirstResponse:
			s += " " + time.Duration(e.Seconds*float64(time.Second)).String()
		case EventSatisfaction:
			s += " rating=" + string(rune('0'+e.Rating))
		case EventSLACycle:
			if e.Breached {
				s += " breached"
			} else {
				s += " met"
			}
		}
		out = append(out, s)
	}
	return out
}

func ms(d time.Duration) string { return stamp(at(d)) }

func TestEvents(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Ticket)
		horizon time.Time
		want    []string
	}{
		{
			name:    "created at the horizon counts",
			horizon: t0,
			want:    []string{"created"},
		},
		{
			name:    "created before the horizon does not count",
			horizon: at(time.Second),
		},
		{
			name: "resolve, reopen, resolve again counts two resolutions and one reopen",
			mutate: func(tk *Ticket) {
				tk.StatusCategory = CategoryDone
				tk.Transitions = []Transition{
					{At: at(time.Hour), From: CategoryNew, To: CategoryIndeterminate},
					{At: at(2 * time.Hour), From: CategoryIndeterminate, To: CategoryDone},
					{At: at(3 * time.Hour), From: CategoryDone, To: CategoryIndeterminate},
					{At: at(5 * time.Hour), From: CategoryIndeterminate, To: CategoryDone},
				}
			},
			want: []string{"created", "resolved/" + ms(2*time.Hour) + " 2h0m0s", "reopened/" + ms(3*time.Hour), "resolved/" + ms(5*time.Hour) + " 5h0m0s"},
		},
		{
			name: "done to done (Resolved to Closed) is neither a resolution nor a reopen",
			mutate: func(tk *Ticket) {
				tk.StatusCategory = CategoryDone
				tk.Transitions = []Transition{
					{At: at(time.Hour), From: CategoryNew, To: CategoryDone},
					{At: at(2 * time.Hour), From: CategoryDone, To: CategoryDone},
				}
			},
			want: []string{"created", "resolved/" + ms(time.Hour) + " 1h0m0s"},
		},
		{
			name: "unordered timeline is ordered before deriving",
			mutate: func(tk *Ticket) {
				tk.Transitions = []Transition{
					{At: at(3 * time.Hour), From: CategoryDone, To: CategoryNew},
					{At: at(time.Hour), From: CategoryNew, To: CategoryDone},
				}
			},
			want: []string{"created", "resolved/" + ms(time.Hour) + " 1h0m0s", "reopened/" + ms(3*time.Hour)},
		},
		{
			name:    "events before the horizon are not counted, later ones are",
			horizon: at(90 * time.Minute),
			mutate: func(tk *Ticket) {
				tk.Transitions = []Transition{
					{At: at(time.Hour), From: CategoryNew, To: CategoryDone},
					{At: at(2 * time.Hour), From: CategoryDone, To: CategoryNew},
					{At: at(4 * time.Hour), From: CategoryNew, To: CategoryDone},
				}
			},
			want: []string{"reopened/" + ms(2*time.Hour), "resolved/" + ms(4*time.Hour) + " 4h0m0s"},
		},
		{
			name: "done without a timeline falls back to the resolution date",
			mutate: func(tk *Ticket) {
				tk.StatusCategory = CategoryDone
				tk.ResolvedAt = at(30 * time.Minute)
			},
			want: []string{"created", "resolved/" + ms(30*time.Minute) + " 30m0s"},
		},
		{
			name: "first response ignores internal notes, the reporter and automation",
			mutate: func(tk *Ticket) {
				tk.Comments = []Comment{
					{At: at(time.Minute), Author: AuthorAutomation, Public: true},
					{At: at(2 * time.Minute), Author: AuthorReporter, Public: true},
					{At: at(3 * time.Minute), Author: AuthorAgent, Public: false},
					{At: at(45 * time.Minute), Author: AuthorAgent, Public: true},
					{At: at(50 * time.Minute), Author: AuthorAgent, Public: true},
				}
			},
			want: []string{"created", "first_response 45m0s"},
		},
		{
			name: "no public agent comment means no first response",
			mutate: func(tk *Ticket) {
				tk.Comments = []Comment{{At: at(3 * time.Minute), Author: AuthorAgent, Public: false}}
			},
			want: []string{"created"},
		},
		{
			name: "SLA mode takes the first completed cycle and ignores comments",
			mutate: func(tk *Ticket) {
				tk.FirstResponseSLA = "Time to first response"
				tk.Comments = []Comment{{At: at(5 * time.Minute), Author: AuthorAgent, Public: true}}
				tk.SLAs = []SLA{{Name: "Time to first response", Completed: []SLACycle{
					{Start: t0, Stop: at(20 * time.Minute), Goal: time.Hour, Elapsed: 20 * time.Minute},
				}}}
			},
			want: []string{"created", "first_response 20m0s", "sla/Time to first response/" + ms(0) + " met"},
		},
		{
			name: "SLA mode without a completed cycle has no first response yet",
			mutate: func(tk *Ticket) {
				tk.FirstResponseSLA = "Time to first response"
				tk.Comments = []Comment{{At: at(5 * time.Minute), Author: AuthorAgent, Public: true}}
				tk.SLAs = []SLA{{Name: "Time to first response", Ongoing: &OngoingCycle{Start: t0}}}
			},
			want: []string{"created"},
		},
		{
			name: "SLA mode on a ticket without that SLA falls back to comments",
			mutate: func(tk *Ticket) {
				tk.FirstResponseSLA = "Time to first response"
				tk.Comments = []Comment{{At: at(5 * time.Minute), Author: AuthorAgent, Public: true}}
				tk.SLAs = []SLA{{Name: "Time to resolution", Ongoing: &OngoingCycle{Start: t0}}}
			},
			want: []string{"created", "first_response 5m0s"},
		},
		{
			name: "SLA mode with an SLA value that has no cycle falls back to comments",
			mutate: func(tk *Ticket) {
				tk.FirstResponseSLA = "Time to first response"
				tk.Comments = []Comment{{At: at(6 * time.Minute), Author: AuthorAgent, Public: true}}
				tk.SLAs = []SLA{{Name: "Time to first response"}}
			},
			want: []string{"created", "first_response 6m0s"},
		},
		{
			name: "a stated first response wins",
			mutate: func(tk *Ticket) {
				tk.FirstResponseAt = at(7 * time.Minute)
				tk.Comments = []Comment{{At: at(5 * time.Minute), Author: AuthorAgent, Public: true}}
			},
			want: []string{"created", "first_response 7m0s"},
		},
		{
			name: "SLA cycles count met and breached, each once",
			mutate: func(tk *Ticket) {
				tk.SLAs = []SLA{{Name: "Time to resolution", Completed: []SLACycle{
					{Start: t0, Stop: at(time.Hour), Breached: false},
					{Start: at(2 * time.Hour), Stop: at(30 * time.Hour), Breached: true},
				}, Ongoing: &OngoingCycle{Start: at(31 * time.Hour)}}}
			},
			want: []string{"created", "sla/Time to resolution/" + ms(0) + " met", "sla/Time to resolution/" + ms(2*time.Hour) + " breached"},
		},
		{
			name: "a rating is one observation keyed by value and time",
			mutate: func(tk *Ticket) {
				tk.Satisfaction = &Rating{Value: 4, At: at(time.Hour)}
			},
			want: []string{"created", "satisfaction/4/" + ms(time.Hour) + " rating=4"},
		},
		{
			name:    "a rating before the horizon does not count",
			horizon: at(2 * time.Hour),
			mutate: func(tk *Ticket) {
				tk.Satisfaction = &Rating{Value: 4, At: at(time.Hour)}
			},
		},
		{
			name: "two events in the same millisecond get distinct IDs",
			mutate: func(tk *Ticket) {
				tk.Transitions = []Transition{
					{At: at(time.Hour), From: CategoryNew, To: CategoryDone},
					{At: at(time.Hour), From: CategoryDone, To: CategoryNew},
					{At: at(time.Hour), From: CategoryNew, To: CategoryDone},
				}
			},
			want: []string{"created", "resolved/" + ms(time.Hour) + " 1h0m0s", "reopened/" + ms(time.Hour), "resolved/" + ms(time.Hour) + "#1 1h0m0s"},
		},
		{
			name: "more same-millisecond events than are searched one by one are numbered on",
			mutate: func(tk *Ticket) {
				tk.Transitions = nil
				for range maxListedBases + 8 {
					tk.Transitions = append(tk.Transitions,
						Transition{At: at(time.Hour), From: CategoryNew, To: CategoryDone},
						Transition{At: at(time.Hour), From: CategoryDone, To: CategoryNew})
				}
			},
			want: func() []string {
				out := []string{"created"}
				for i := range maxListedBases + 8 {
					suffix := ""
					if i > 0 {
						suffix = "#" + strconv.Itoa(i)
					}
					out = append(out, "resolved/"+ms(time.Hour)+suffix+" 1h0m0s", "reopened/"+ms(time.Hour)+suffix)
				}
				return out
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := base()
			if tt.mutate != nil {
				tt.mutate(&tk)
			}
			horizon := tt.horizon
			if horizon.IsZero() {
				horizon = t0.Add(-24 * time.Hour)
			}
			got := summary(Events(tk, horizon))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestEventsAreStableAcrossRedelivery(t *testing.T) {
	tk := base()
	tk.Transitions = []Transition{{At: at(time.Hour), From: CategoryNew, To: CategoryDone}}
	tk.Comments = []Comment{{At: at(time.Minute), Author: AuthorAgent, Public: true}}
	first := Events(tk, t0)
	// A later delivery has more history appended; earlier IDs must not move.
	tk.Transitions = append(tk.Transitions, Transition{At: at(2 * time.Hour), From: CategoryDone, To: CategoryNew})
	tk.Comments = append(tk.Comments, Comment{At: at(3 * time.Hour), Author: AuthorAgent, Public: true})
	tk.Updated = at(3 * time.Hour)
	second := Events(tk, t0)
	ids := map[string]bool{}
	for _, e := range second {
		ids[e.ID] = true
	}
	for _, e := range first {
		if !ids[e.ID] {
			t.Errorf("event %q vanished after re-delivery with more history", e.ID)
		}
	}
	if len(second) != len(first)+1 {
		t.Errorf("want exactly one new event (the reopen), got %d -> %d", len(first), len(second))
	}
}

func TestChangedRatingIsANewObservation(t *testing.T) {
	tk := base()
	tk.Satisfaction = &Rating{Value: 2, At: at(time.Hour)}
	before := Events(tk, t0)
	tk.Satisfaction = &Rating{Value: 5, At: at(2 * time.Hour)}
	after := Events(tk, t0)
	if before[len(before)-1].ID == after[len(after)-1].ID {
		t.Fatal("a changed rating reused the previous rating's ID")
	}
}

func TestCurrentState(t *testing.T) {
	breachAt := at(4 * time.Hour)
	tests := []struct {
		name   string
		mutate func(*Ticket)
		want   State
	}{
		{
			name: "open and unanswered",
			want: State{Open: true, Category: CategoryNew, Created: t0, AwaitingFirstResponse: true},
		},
		{
			name: "answered",
			mutate: func(tk *Ticket) {
				tk.StatusCategory = CategoryIndeterminate
				tk.Comments = []Comment{{At: at(time.Minute), Author: AuthorAgent, Public: true}}
			},
			want: State{Open: true, Category: CategoryIndeterminate, Created: t0},
		},
		{
			name: "done tickets are not open and carry no SLA state",
			mutate: func(tk *Ticket) {
				tk.StatusCategory = CategoryDone
				tk.SLAs = []SLA{{Name: "x", Ongoing: &OngoingCycle{Breached: true}}}
			},
			want: State{Category: CategoryDone, Created: t0},
		},
		{
			name: "running, breached and paused cycles",
			mutate: func(tk *Ticket) {
				tk.SLAs = []SLA{
					{Name: "running", Ongoing: &OngoingCycle{BreachAt: breachAt}},
					{Name: "breached", Ongoing: &OngoingCycle{Breached: true, BreachAt: at(time.Hour)}},
					{Name: "paused", Ongoing: &OngoingCycle{Paused: true, BreachAt: breachAt}},
					{Name: "completed only", Completed: []SLACycle{{Start: t0, Stop: at(time.Hour)}}},
				}
			},
			want: State{Open: true, Category: CategoryNew, Created: t0, AwaitingFirstResponse: true, SLAs: []SLAState{
				{Name: "running", BreachAt: breachAt},
				{Name: "breached", Breached: true},
				{Name: "paused", Paused: true},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := base()
			if tt.mutate != nil {
				tt.mutate(&tk)
			}
			if got := CurrentState(tk); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("state:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSLAStateBreachedAt(t *testing.T) {
	s := SLAState{Name: "x", BreachAt: at(time.Hour)}
	if s.BreachedAt(at(59 * time.Minute)) {
		t.Error("breached before its breach time")
	}
	if !s.BreachedAt(at(time.Hour)) {
		t.Error("not breached at its breach time")
	}
	if (SLAState{Name: "paused"}).BreachedAt(at(100 * time.Hour)) {
		t.Error("a cycle without a breach time never breaches by itself")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Ticket)
		wantErr string
	}{
		{name: "valid"},
		{name: "no id", mutate: func(tk *Ticket) { tk.ID = "" }, wantErr: "ticket has no id"},
		{name: "no created", mutate: func(tk *Ticket) { tk.Created = time.Time{} }, wantErr: "ticket IT-1 has no creation time"},
		{name: "bad category", mutate: func(tk *Ticket) { tk.StatusCategory = "undefined" }, wantErr: `ticket IT-1 has unknown status category "undefined"`},
		{name: "bad rating", mutate: func(tk *Ticket) { tk.Satisfaction = &Rating{Value: 9} }, wantErr: "ticket IT-1 has satisfaction rating 9 outside 1..5"},
		{name: "bad transition", mutate: func(tk *Ticket) { tk.Transitions = []Transition{{From: "x", To: CategoryDone}} }, wantErr: `ticket IT-1 has a transition with unknown category "x" -> "done"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := base()
			if tt.mutate != nil {
				tt.mutate(&tk)
			}
			err := Validate(tk)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}
