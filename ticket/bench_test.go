package ticket

import (
	"testing"
	"time"
)

// benchResolved is a typical resolved JSM ticket: an automation
// acknowledgement, an internal note, a public reply, a customer chasing,
// one reopen, two SLAs with completed cycles and a rating. The store derives
// its events and state once per delivery, so this is the per-ticket cost of
// every sync.
func benchResolved() Ticket {
	return Ticket{
		ID: "10042", Key: "IT-42", Desk: "IT", RequestType: "Get IT help", Priority: "High",
		Created: t0, Updated: at(30 * time.Hour), StatusCategory: CategoryDone,
		Transitions: []Transition{
			{At: at(40 * time.Minute), From: CategoryNew, To: CategoryIndeterminate},
			{At: at(3 * time.Hour), From: CategoryIndeterminate, To: CategoryDone},
			{At: at(20 * time.Hour), From: CategoryDone, To: CategoryIndeterminate},
			{At: at(26 * time.Hour), From: CategoryIndeterminate, To: CategoryDone},
		},
		Resolutions: []ResolutionChange{{At: at(3 * time.Hour), Set: true}, {At: at(20 * time.Hour)}, {At: at(26 * time.Hour), Set: true}},
		Comments: []Comment{
			{At: at(time.Minute), Author: AuthorAutomation, Public: true},
			{At: at(20 * time.Minute), Author: AuthorAgent},
			{At: at(35 * time.Minute), Author: AuthorAgent, Public: true},
			{At: at(19 * time.Hour), Author: AuthorReporter, Public: true},
		},
		SLAs: []SLA{
			{Name: "Time to first response", Completed: []SLACycle{{Start: t0, Stop: at(35 * time.Minute), Goal: time.Hour}}},
			{Name: "Time to resolution", Completed: []SLACycle{
				{Start: t0, Stop: at(3 * time.Hour), Goal: 8 * time.Hour},
				{Start: at(20 * time.Hour), Stop: at(26 * time.Hour), Goal: 8 * time.Hour},
			}},
		},
		Satisfaction:     &Rating{Value: 4, At: at(30 * time.Hour)},
		FirstResponseSLA: "Time to first response",
	}
}

// benchOpen is an open ticket still waiting for its first response, with
// running SLA cycles: what the gauges are built from.
func benchOpen() Ticket {
	return Ticket{
		ID: "10043", Key: "IT-43", Desk: "IT", RequestType: "Get IT help", Priority: "Medium",
		Created: t0, Updated: at(time.Minute), StatusCategory: CategoryNew,
		Comments: []Comment{{At: at(time.Minute), Author: AuthorAutomation, Public: true}},
		SLAs: []SLA{
			{Name: "Time to first response", Ongoing: &OngoingCycle{Start: t0, Goal: 4 * time.Hour, BreachAt: at(4 * time.Hour)}},
			{Name: "Time to resolution", Ongoing: &OngoingCycle{Start: t0, Goal: 24 * time.Hour, BreachAt: at(24 * time.Hour)}},
		},
		FirstResponseSLA: "Time to first response",
	}
}

func BenchmarkEventsResolved(b *testing.B) {
	tk := benchResolved()
	horizon := t0.Add(-time.Hour)
	for b.Loop() {
		if evs := Events(tk, horizon); len(evs) == 0 {
			b.Fatal("no events")
		}
	}
}

func BenchmarkCurrentStateOpen(b *testing.B) {
	tk := benchOpen()
	for b.Loop() {
		if st := CurrentState(tk); !st.AwaitingFirstResponse {
			b.Fatal("open ticket not awaiting")
		}
	}
}

// BenchmarkDeriveTicket is everything the store derives per delivered
// ticket: validation, events and current state, for a resolved and an open one.
func BenchmarkDeriveTicket(b *testing.B) {
	tickets := []Ticket{benchResolved(), benchOpen()}
	horizon := t0.Add(-time.Hour)
	for b.Loop() {
		for _, tk := range tickets {
			if err := Validate(tk); err != nil {
				b.Fatal(err)
			}
			_ = Events(tk, horizon)
			_ = CurrentState(tk)
		}
	}
}
