package aggregate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

var (
	t0      = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	horizon = t0.Add(-30 * 24 * time.Hour)
	opts    = Options{LabelValueLimit: 100, FirstResponseBuckets: []float64{300, 3600, 86400}, ResolutionBuckets: []float64{3600, 86400}}
)

// facts is a ticket created at created on desk for group and team, answered
// after answer (none when zero), resolved after resolve (open when zero) and
// rated when rating > 0.
type facts struct {
	id, desk, group, team string
	created               time.Time
	answer, resolve       time.Duration
	reopen                bool
	rating                int
	assigned              bool
}

func (f facts) ticket() ticket.Ticket {
	t := ticket.Ticket{
		ID: f.id, Key: f.desk + "-" + f.id, Desk: f.desk, RequestType: "Access", Priority: "High",
		CustomerGroup: f.group, Team: f.team, Assigned: f.assigned,
		Created: f.created, Updated: f.created, StatusCategory: ticket.CategoryNew,
		SLAs: []ticket.SLA{{Name: "Time to resolution", Ongoing: &ticket.OngoingCycle{
			Start: f.created, Goal: 8 * time.Hour, BreachAt: f.created.Add(8 * time.Hour)}}},
	}
	if f.answer > 0 {
		t.Comments = []ticket.Comment{{At: f.created.Add(f.answer), Author: ticket.AuthorAgent, Public: true}}
		t.StatusCategory = ticket.CategoryIndeterminate
		t.Transitions = []ticket.Transition{{At: f.created.Add(f.answer), From: ticket.CategoryNew, To: ticket.CategoryIndeterminate}}
	}
	if f.resolve > 0 {
		at := f.created.Add(f.resolve)
		t.Transitions = append(t.Transitions, ticket.Transition{At: at, From: t.StatusCategory, To: ticket.CategoryDone})
		t.StatusCategory, t.SLAs = ticket.CategoryDone, nil
		if f.reopen {
			t.Transitions = append(t.Transitions, ticket.Transition{At: at.Add(time.Hour), From: ticket.CategoryDone, To: ticket.CategoryIndeterminate})
			t.StatusCategory = ticket.CategoryIndeterminate
		}
		if f.rating > 0 {
			t.Satisfaction = &ticket.Rating{Value: f.rating, At: at.Add(30 * time.Minute)}
		}
	}
	return t
}

// pipeline is derivation, the store and the aggregates, as the recorder
// wires them, on a store in a temporary directory.
type pipeline struct {
	t     *testing.T
	store *store.Store
	agg   *Aggregates
}

func newPipeline(t *testing.T, o Options) *pipeline {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "sd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Horizon("demo", horizon); err != nil {
		t.Fatal(err)
	}
	return &pipeline{t: t, store: st, agg: New(o)}
}

func (p *pipeline) deliver(tickets ...ticket.Ticket) {
	p.t.Helper()
	var c store.Commit
	for _, tk := range tickets {
		d, err := ticket.Derive(tk, horizon, nil)
		if err != nil {
			p.t.Fatal(err)
		}
		c.Tickets = append(c.Tickets, d)
		c.Labels = AppendLabelValues(c.Labels, map[store.LabelValue]bool{}, d)
	}
	res, err := p.store.Commit(context.Background(), "demo", c)
	if err != nil {
		p.t.Fatal(err)
	}
	p.agg.Apply("demo", res)
}

// reloaded is what a restart would build from the same store.
func (p *pipeline) reloaded(o Options) *Snapshot {
	p.t.Helper()
	a := New(o)
	if err := a.Load(o, p.store); err != nil {
		p.t.Fatal(err)
	}
	return a.Build()
}

// randomDesk returns n tickets over three desks with every combination of
// group, team, no group and no team, open and done, answered or not.
func randomDesk(seed uint64, n int) []ticket.Ticket {
	r := rand.New(rand.NewPCG(seed, 1))
	groups := []string{"Engineering", "Finance", "Contractors", ""}
	teams := []string{"Service Desk L1", "Payroll", ""}
	out := make([]ticket.Ticket, n)
	for i := range out {
		f := facts{
			id: fmt.Sprint(i + 1), desk: []string{"IT", "HR", "FAC"}[r.IntN(3)],
			group: groups[r.IntN(len(groups))], team: teams[r.IntN(len(teams))],
			created:  t0.Add(-time.Duration(r.IntN(20*24)) * time.Hour),
			assigned: r.IntN(3) > 0,
		}
		if r.IntN(5) > 0 {
			f.answer = time.Duration(1+r.IntN(300)) * time.Minute
		}
		if f.answer > 0 && r.IntN(3) > 0 {
			f.resolve = f.answer + time.Duration(1+r.IntN(48))*time.Hour
			f.reopen = r.IntN(10) == 0
			f.rating = r.IntN(6)
		}
		out[i] = f.ticket()
	}
	return out
}

// deskTotals adds up the existing families per desk; perSegment adds up a
// segment family the same way. They must agree to the last observation.
type deskTotals struct {
	created, resolved, reopened float64
	firstResponse, resolution   Histogram
	satisfaction                Histogram
	open, awaiting              float64
}

func addHist(into *Histogram, h Histogram) {
	into.Count += h.Count
	into.Sum += h.Sum
	if into.Buckets == nil {
		into.Buckets = map[float64]uint64{}
	}
	for b, n := range h.Buckets {
		into.Buckets[b] += n
	}
}

func totalsByDesk(s *Snapshot) map[string]*deskTotals {
	out := map[string]*deskTotals{}
	at := func(desk string) *deskTotals {
		if out[desk] == nil {
			out[desk] = &deskTotals{}
		}
		return out[desk]
	}
	for l, ser := range s.Tickets {
		d := at(l.Desk)
		d.created += ser.Created
		d.resolved += ser.Resolved
		d.reopened += ser.Reopened
		addHist(&d.firstResponse, ser.FirstResponse)
		addHist(&d.resolution, ser.Resolution)
	}
	for l, h := range s.Satisfaction {
		addHist(&at(l.Desk).satisfaction, *h)
	}
	for l, n := range s.Open {
		at(l.Desk).open += n
	}
	for l, n := range s.Awaiting {
		at(l.Desk).awaiting += n
	}
	return out
}

func segmentTotals[K comparable](series map[K]*SegmentSeries, open, awaiting map[K]float64, desk func(K) string) map[string]*deskTotals {
	out := map[string]*deskTotals{}
	at := func(d string) *deskTotals {
		if out[d] == nil {
			out[d] = &deskTotals{}
		}
		return out[d]
	}
	for l, ser := range series {
		d := at(desk(l))
		d.created += ser.Created
		d.resolved += ser.Resolved
		d.reopened += ser.Reopened
		addHist(&d.firstResponse, ser.FirstResponse)
		addHist(&d.resolution, ser.Resolution)
		addHist(&d.satisfaction, ser.Satisfaction)
	}
	for l, n := range open {
		at(desk(l)).open += n
	}
	for l, n := range awaiting {
		at(desk(l)).awaiting += n
	}
	return out
}

func TestSegmentSumsEqualDeskTotals(t *testing.T) {
	p := newPipeline(t, opts)
	all := randomDesk(7, 600)
	for start := 0; start < len(all); start += 100 {
		p.deliver(all[start : start+100]...)
	}
	snap := p.agg.Build()
	want := totalsByDesk(snap)
	if len(want) != 3 || want["IT"].created == 0 || want["IT"].satisfaction.Count == 0 || want["IT"].open == 0 {
		t.Fatalf("test data too thin: %+v", want)
	}
	views := map[string]map[string]*deskTotals{
		"customer_group": segmentTotals(snap.CustomerGroups, snap.CustomerGroupOpen, snap.CustomerGroupAwaiting,
			func(l CustomerGroupLabels) string { return l.Desk }),
		"team": segmentTotals(snap.Teams, snap.TeamOpen, snap.TeamAwaiting, func(l TeamLabels) string { return l.Desk }),
	}
	for name, got := range views {
		if !reflect.DeepEqual(got, want) {
			for desk := range want {
				t.Errorf("%s sums on desk %s:\n got %+v\nwant %+v", name, desk, *got[desk], *want[desk])
			}
		}
	}
	// The cross family sums to the team family (and so to the desk).
	cross := map[TeamLabels]*Histogram{}
	for l, c := range snap.TeamCustomerGroups {
		k := TeamLabels{Source: l.Source, Desk: l.Desk, Team: l.Team}
		if cross[k] == nil {
			cross[k] = &Histogram{}
		}
		addHist(cross[k], c.FirstResponse)
	}
	for l, ser := range snap.Teams {
		if got := cross[l]; ser.FirstResponse.Count > 0 && (got == nil || got.Count != ser.FirstResponse.Count || got.Sum != ser.FirstResponse.Sum) {
			t.Errorf("team %v: cross first responses %+v, team %+v", l, got, ser.FirstResponse)
		}
	}
	if snap.CustomerGroups[CustomerGroupLabels{Source: "demo", Desk: "IT", CustomerGroup: NoneLabelValue}] == nil ||
		snap.Teams[TeamLabels{Source: "demo", Desk: "IT", Team: NoneLabelValue}] == nil {
		t.Error("tickets without a group or team are not counted under none")
	}
	// Unassigned: every open ticket without an owner, per desk.
	wantUnassigned := map[DeskLabels]float64{}
	for _, tk := range all {
		if tk.StatusCategory != ticket.CategoryDone {
			k := DeskLabels{Source: "demo", Desk: tk.Desk}
			wantUnassigned[k] += 0
			if !tk.Assigned {
				wantUnassigned[k]++
			}
		}
	}
	if !reflect.DeepEqual(snap.Unassigned, wantUnassigned) {
		t.Errorf("unassigned %v, want %v", snap.Unassigned, wantUnassigned)
	}
	// A restart rebuilds exactly the same from the ledger.
	if got := p.reloaded(opts); !reflect.DeepEqual(got, snap) {
		t.Error("snapshot rebuilt from the store differs from the live one")
	}
}

func TestGroupChangeAfterCountingMovesNothing(t *testing.T) {
	p := newPipeline(t, opts)
	f := facts{id: "1", desk: "IT", group: "Finance", team: "Service Desk L1", created: t0, answer: 20 * time.Minute}
	p.deliver(f.ticket())

	// The organization and the team change; then the ticket is resolved
	// and rated. Only the new events count under the new values.
	f.group, f.team, f.resolve, f.rating = "Engineering", "Identity & Access", 3*time.Hour, 2
	p.deliver(f.ticket())
	// Delivered again unchanged: nothing more counts.
	p.deliver(f.ticket())

	finance := CustomerGroupLabels{Source: "demo", Desk: "IT", CustomerGroup: "Finance"}
	engineering := CustomerGroupLabels{Source: "demo", Desk: "IT", CustomerGroup: "Engineering"}
	l1 := TeamLabels{Source: "demo", Desk: "IT", Team: "Service Desk L1"}
	iam := TeamLabels{Source: "demo", Desk: "IT", Team: "Identity & Access"}
	for _, snap := range []*Snapshot{p.agg.Build(), p.reloaded(opts)} {
		for _, c := range []struct {
			name                   string
			got                    *SegmentSeries
			created, resolved      float64
			responses, ratingCount uint64
		}{
			{"Finance", snap.CustomerGroups[finance], 1, 0, 1, 0},
			{"Engineering", snap.CustomerGroups[engineering], 0, 1, 0, 1},
			{"Service Desk L1", snap.Teams[l1], 1, 0, 1, 0},
			{"Identity & Access", snap.Teams[iam], 0, 1, 0, 1},
		} {
			if c.got == nil {
				t.Fatalf("%s: no series", c.name)
			}
			if c.got.Created != c.created || c.got.Resolved != c.resolved || c.got.FirstResponse.Count != c.responses || c.got.Satisfaction.Count != c.ratingCount {
				t.Errorf("%s: created %v resolved %v responses %d ratings %d; want %v %v %d %d", c.name,
					c.got.Created, c.got.Resolved, c.got.FirstResponse.Count, c.got.Satisfaction.Count,
					c.created, c.resolved, c.responses, c.ratingCount)
			}
		}
		if cr := snap.TeamCustomerGroups[TeamCustomerGroupLabels{Source: "demo", Desk: "IT", Team: "Service Desk L1", CustomerGroup: "Finance"}]; cr == nil || cr.FirstResponse.Count != 1 {
			t.Errorf("cross first response under the old pair: %+v", cr)
		}
	}

	// Reopened under the new group: the gauges follow the ticket's labels of now.
	f.reopen = true
	p.deliver(f.ticket())
	snap := p.agg.Build()
	if snap.CustomerGroupOpen[engineering] != 1 || snap.CustomerGroupOpen[finance] != 0 || snap.TeamOpen[iam] != 1 {
		t.Errorf("open by group %v, by team %v: want the ticket under its current group and team", snap.CustomerGroupOpen, snap.TeamOpen)
	}
	if snap.CustomerGroups[engineering].Reopened != 1 || snap.CustomerGroups[finance].Reopened != 0 {
		t.Errorf("reopen counted under %v / %v", snap.CustomerGroups[engineering].Reopened, snap.CustomerGroups[finance].Reopened)
	}
}

func TestSegmentValuesFoldIntoOther(t *testing.T) {
	limited := opts
	limited.LabelValueLimit = 2
	p := newPipeline(t, limited)
	for i, g := range []string{"Engineering", "Sales", "Finance", "", "HR"} {
		team := []string{"L1", "Payroll", "Facilities", "Workplace", ""}[i]
		p.deliver(facts{id: fmt.Sprint(i + 1), desk: "IT", group: g, team: team, created: t0.Add(time.Duration(i) * time.Minute)}.ticket())
	}
	groups := func(s *Snapshot) map[string]float64 {
		out := map[string]float64{}
		for l, ser := range s.CustomerGroups {
			out[l.CustomerGroup] = ser.Created
		}
		return out
	}
	teams := func(s *Snapshot) map[string]float64 {
		out := map[string]float64{}
		for l, ser := range s.Teams {
			out[l.Team] = ser.Created
		}
		return out
	}
	snap := p.agg.Build()
	// The first two values seen keep their names, later ones fold; "none"
	// is no value and never folds.
	if want := map[string]float64{"Engineering": 1, "Sales": 1, OtherLabelValue: 2, NoneLabelValue: 1}; !reflect.DeepEqual(groups(snap), want) {
		t.Errorf("groups %v, want %v", groups(snap), want)
	}
	if want := map[string]float64{"L1": 1, "Payroll": 1, OtherLabelValue: 2, NoneLabelValue: 1}; !reflect.DeepEqual(teams(snap), want) {
		t.Errorf("teams %v, want %v", teams(snap), want)
	}
	if want := map[CustomerGroupLabels]float64{
		{"demo", "IT", "Engineering"}: 1, {"demo", "IT", "Sales"}: 1, {"demo", "IT", OtherLabelValue}: 2, {"demo", "IT", NoneLabelValue}: 1,
	}; !reflect.DeepEqual(snap.CustomerGroupOpen, want) {
		t.Errorf("open by group %v, want %v", snap.CustomerGroupOpen, want)
	}
	// A raised limit applies to all of history at once.
	raised := p.reloaded(opts)
	if want := map[string]float64{"Engineering": 1, "Sales": 1, "Finance": 1, "HR": 1, NoneLabelValue: 1}; !reflect.DeepEqual(groups(raised), want) {
		t.Errorf("groups after raising the limit %v, want %v", groups(raised), want)
	}
}

func TestSLAAtRisk(t *testing.T) {
	goal := 8 * time.Hour
	breach := t0.Add(goal)
	open := func(id string, sla ticket.SLAState) *openTicket {
		return &openTicket{labels: ticket.Labels{Desk: "IT"}, state: ticket.State{Open: true, Category: ticket.CategoryNew, Created: t0, SLAs: []ticket.SLAState{sla}}}
	}
	running := ticket.SLAState{Name: "Time to resolution", BreachAt: breach, Goal: goal}
	paused := ticket.SLAState{Name: "Time to resolution", Goal: goal, Paused: true}
	breached := ticket.SLAState{Name: "Time to resolution", Goal: goal, Breached: true}
	noGoal := ticket.SLAState{Name: "Time to resolution", BreachAt: breach}
	for _, tc := range []struct {
		name  string
		ratio float64
		sla   ticket.SLAState
		at    map[time.Duration]int // offset from creation → at risk
	}{
		{"running, default ratio", 0, running, map[time.Duration]int{
			6*time.Hour - time.Millisecond: 0, 6 * time.Hour: 1, goal - time.Millisecond: 1, goal: 0}},
		{"running, ratio 0.5", 0.5, running, map[time.Duration]int{
			4*time.Hour - time.Millisecond: 0, 4 * time.Hour: 1, goal: 0}},
		{"paused", 0, paused, map[time.Duration]int{7 * time.Hour: 0}},
		{"breached", 0, breached, map[time.Duration]int{7 * time.Hour: 0}},
		{"goal unknown", 0, noGoal, map[time.Duration]int{7 * time.Hour: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			o.SLAAtRiskRatio = tc.ratio
			a := New(o)
			a.ranks.add(store.LabelValue{Name: labelDesk, Value: "IT"})
			a.ranks.add(store.LabelValue{Name: labelSLA, Value: "Time to resolution"})
			a.open["demo"] = map[string]*openTicket{"1": open("1", tc.sla)}
			snap := a.Build()
			rs := snap.SLAAtRisk[DeskSLALabels{Source: "demo", Desk: "IT", SLA: "Time to resolution"}]
			if rs == nil {
				t.Fatal("no at-risk series for a desk with a running SLA")
			}
			for offset, want := range tc.at {
				if got := rs.AtRiskAt(t0.Add(offset)); got != want {
					t.Errorf("at risk at +%v = %d, want %d", offset, got, want)
				}
			}
		})
	}
}

func TestAtRiskCountsManyCycles(t *testing.T) {
	// Cycles whose risk windows overlap in every way: the count at any
	// instant is those whose window holds it.
	rs := &RiskState{}
	type window struct{ from, to time.Duration }
	windows := []window{{1, 5}, {2, 3}, {3, 8}, {4, 4}, {6, 9}}
	for _, w := range windows {
		rs.From = append(rs.From, t0.Add(w.from*time.Hour))
		rs.Breach = append(rs.Breach, t0.Add(w.to*time.Hour))
	}
	sortRisk(&Snapshot{SLAAtRisk: map[DeskSLALabels]*RiskState{{}: rs}})
	for h := time.Duration(0); h <= 10; h++ {
		want := 0
		for _, w := range windows {
			if w.from <= h && h < w.to {
				want++
			}
		}
		if got := rs.AtRiskAt(t0.Add(h * time.Hour)); got != want {
			t.Errorf("at %dh: %d at risk, want %d", h, got, want)
		}
	}
}
