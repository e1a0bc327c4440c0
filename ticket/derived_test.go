package ticket

import (
	"testing"
	"time"
)

func TestDeriveHistory(t *testing.T) {
	tests := []struct {
		name string
		t    Ticket
		// want is the category at each probe (offset from t0); "" means
		// the ticket did not exist yet.
		probes []time.Duration
		want   []Category
		fr     time.Duration // first response offset; -1 none
	}{
		{
			name: "resolved and reopened",
			t: Ticket{ID: "1", Created: t0, StatusCategory: CategoryIndeterminate, Transitions: []Transition{
				{At: at(time.Hour), From: CategoryNew, To: CategoryIndeterminate},
				{At: at(90 * time.Minute), From: CategoryIndeterminate, To: CategoryIndeterminate, FromStatus: "In Progress", ToStatus: "Waiting"},
				{At: at(2 * time.Hour), From: CategoryIndeterminate, To: CategoryDone},
				{At: at(3 * time.Hour), From: CategoryDone, To: CategoryIndeterminate},
			}, Comments: []Comment{{At: at(10 * time.Minute), Author: AuthorAgent, Public: true}}},
			probes: []time.Duration{-time.Minute, 0, 59 * time.Minute, time.Hour, 2 * time.Hour, 150 * time.Minute, 5 * time.Hour},
			want:   []Category{"", CategoryNew, CategoryNew, CategoryIndeterminate, CategoryDone, CategoryDone, CategoryIndeterminate},
			fr:     10 * time.Minute,
		},
		{
			name:   "done without a timeline uses the resolution time",
			t:      Ticket{ID: "2", Created: t0, StatusCategory: CategoryDone, ResolvedAt: at(4 * time.Hour)},
			probes: []time.Duration{0, 3 * time.Hour, 4 * time.Hour},
			want:   []Category{CategoryNew, CategoryNew, CategoryDone},
			fr:     -1,
		},
		{
			name:   "open without a timeline",
			t:      Ticket{ID: "3", Created: t0, StatusCategory: CategoryIndeterminate},
			probes: []time.Duration{0, 100 * time.Hour},
			want:   []Category{CategoryIndeterminate, CategoryIndeterminate},
			fr:     -1,
		},
		{
			name: "a transition stamped before creation moves to it",
			t: Ticket{ID: "4", Created: t0, StatusCategory: CategoryDone, Transitions: []Transition{
				{At: at(-time.Minute), From: CategoryNew, To: CategoryDone},
			}},
			probes: []time.Duration{0, time.Hour},
			want:   []Category{CategoryDone, CategoryDone},
			fr:     -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Derive(tt.t, t0.Add(-time.Hour), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range tt.probes {
				got, ok := d.History.CategoryAt(at(p))
				if !ok {
					got = ""
				}
				if got != tt.want[i] {
					t.Errorf("category at t0%+v = %q, want %q", p, got, tt.want[i])
				}
			}
			switch {
			case tt.fr < 0 && !d.History.FirstResponse.IsZero():
				t.Errorf("first response %v, want none", d.History.FirstResponse)
			case tt.fr >= 0 && !d.History.FirstResponse.Equal(at(tt.fr)):
				t.Errorf("first response %v, want %v", d.History.FirstResponse, at(tt.fr))
			}
		})
	}
}

func TestDeriveRejectsInvalidFacts(t *testing.T) {
	if _, err := Derive(Ticket{ID: "1", Created: t0, StatusCategory: "bogus"}, t0, nil); err == nil {
		t.Fatal("unknown category accepted")
	}
	d, err := Derive(Ticket{ID: "1", Key: "IT-1", Desk: "IT", CustomerGroup: "Finance", Team: "L1", Created: t0, StatusCategory: CategoryNew}, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Labels != (Labels{Desk: "IT", CustomerGroup: "Finance", Team: "L1"}) || len(d.Events) != 1 || !d.State.Open {
		t.Fatalf("derived %+v", d)
	}
}
