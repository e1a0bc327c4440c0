package demo

import (
	"slices"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// groupStats are what the internal-customer dashboards show of a group.
type groupStats struct {
	tickets, rated, done int
	ratingSum            int
	responses            []time.Duration
}

func (g *groupStats) average() float64 { return float64(g.ratingSum) / float64(max(g.rated, 1)) }

func (g *groupStats) medianResponse() time.Duration {
	if len(g.responses) == 0 {
		return 0
	}
	ds := slices.Clone(g.responses)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func TestCustomerGroupsAndTeamsLookReal(t *testing.T) {
	s := newSource(t, defaultConfig, &clock{pinned})
	all := tickets(poll(t, s, nil))

	groups := map[string]*groupStats{}
	teamsByDesk := map[string]map[string]int{}
	reporterGroup := map[string]string{}
	var open, unassignedOpen, answeredUnassigned int
	for _, tk := range all {
		if tk.CustomerGroup == "" || tk.Team == "" {
			t.Fatalf("%s has customer group %q and team %q; the demo gives every ticket both", tk.Key, tk.CustomerGroup, tk.Team)
		}
		if g, ok := reporterGroup[tk.Reporter]; ok && g != tk.CustomerGroup {
			t.Fatalf("reporter %s is in %s and in %s", tk.Reporter, g, tk.CustomerGroup)
		}
		reporterGroup[tk.Reporter] = tk.CustomerGroup
		g := groups[tk.CustomerGroup]
		if g == nil {
			g = &groupStats{}
			groups[tk.CustomerGroup] = g
		}
		g.tickets++
		if teamsByDesk[tk.Desk] == nil {
			teamsByDesk[tk.Desk] = map[string]int{}
		}
		teamsByDesk[tk.Desk][tk.Team]++
		if reply := firstPublicReply(tk); !reply.IsZero() {
			g.responses = append(g.responses, reply.Sub(tk.Created))
		}
		if tk.StatusCategory == ticket.CategoryDone {
			g.done++
			if tk.Satisfaction != nil {
				g.rated++
				g.ratingSum += tk.Satisfaction.Value
			}
			continue
		}
		open++
		if !tk.Assigned {
			unassignedOpen++
			if tk.StatusCategory != ticket.CategoryNew {
				answeredUnassigned++
			}
		}
	}
	for name, g := range groups {
		t.Logf("%-12s %5d tickets, median first response %8v, %4d ratings averaging %.2f",
			name, g.tickets, g.medianResponse().Round(time.Minute), g.rated, g.average())
	}
	for _, want := range []string{"Engineering", "Sales", "Finance", "Operations", "HR", "Contractors", "Suppliers"} {
		if groups[want] == nil || groups[want].tickets < 50 {
			t.Fatalf("customer group %s has too few tickets to show: %+v", want, groups[want])
		}
	}
	eng, fin, con, sup := groups["Engineering"], groups["Finance"], groups["Contractors"], groups["Suppliers"]
	checks := []struct {
		name   string
		value  float64
		lo, hi float64
	}{
		{"Engineering tickets per Suppliers ticket", float64(eng.tickets) / float64(sup.tickets), 3, 12},
		{"Finance's median first response over Engineering's", float64(fin.medianResponse()) / float64(eng.medianResponse()), 2.2, 4.5},
		{"Engineering's average rating", eng.average(), 4.2, 4.8},
		{"Contractors' average rating", con.average(), 1.8, 2.9},
		{"Suppliers' rated share of done tickets", share(sup.rated, sup.done), 0.1, 0.3},
		{"Contractors' rated share of done tickets", share(con.rated, con.done), 0.4, 0.6},
		{"open tickets nobody took yet", share(unassignedOpen, open), 0.02, 0.5},
	}
	for _, c := range checks {
		if c.value < c.lo || c.value > c.hi {
			t.Errorf("%s = %.3f, want within [%v, %v]", c.name, c.value, c.lo, c.hi)
		}
	}
	if answeredUnassigned != 0 {
		t.Errorf("%d open tickets are worked on but assigned to nobody", answeredUnassigned)
	}
	wantTeams := map[string][]string{
		"IT":  {"Service Desk L1", "Identity & Access", "Workplace"},
		"HR":  {"Payroll", "HR Operations", "Identity & Access"},
		"FAC": {"Facilities", "Workplace"},
	}
	for desk, names := range wantTeams {
		for _, name := range names {
			if teamsByDesk[desk][name] < 10 {
				t.Errorf("desk %s: team %s serves %d tickets, want it to show (%v)", desk, name, teamsByDesk[desk][name], teamsByDesk[desk])
			}
		}
		if len(teamsByDesk[desk]) != len(names) {
			t.Errorf("desk %s is served by %v, want exactly %v", desk, teamsByDesk[desk], names)
		}
	}
}

// TestEscalationMovesTheTeamAtPickUp follows escalated tickets through
// time: routed to their first team at creation, to the specialists when
// picked up, and owned from then on.
func TestEscalationMovesTheTeamAtPickUp(t *testing.T) {
	s := newSource(t, defaultConfig, &clock{pinned})
	s.advance(pinned)
	escalated := 0
	for _, lcs := range s.slots {
		for _, lc := range lcs {
			if len(lc.teams) < 2 {
				continue
			}
			escalated++
			at := lc.teams[1].at
			before, after := lc.factsAt(at.Add(-time.Millisecond)), lc.factsAt(at)
			if before.Team != lc.teams[0].name || after.Team != lc.teams[1].name || before.Team == after.Team {
				t.Fatalf("%s: team %q before and %q at the escalation, want %q then %q", lc.key, before.Team, after.Team, lc.teams[0].name, lc.teams[1].name)
			}
			if before.Assigned || !after.Assigned {
				t.Fatalf("%s: assigned %v before and %v at pick-up", lc.key, before.Assigned, after.Assigned)
			}
			if !lc.changedIn(at.Add(-time.Millisecond), at) {
				t.Fatalf("%s: an incremental poll would not deliver the escalation", lc.key)
			}
		}
	}
	if escalated < 20 {
		t.Fatalf("only %d escalated tickets", escalated)
	}
}
