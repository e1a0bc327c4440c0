package fakejira

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// GenerateOptions shape generated data. Zero values give three desks
// (IT, HR, FAC) and 90 days of tickets ending at 2026-01-15 12:00 UTC.
type GenerateOptions struct {
	Desks []string
	// Tickets are created uniformly in [Start, End); nothing happens after
	// End, so set End to the server's Now. Zero End is 2026-01-15 12:00 UTC;
	// zero Start is End minus 90 days.
	Start, End time.Time
	// FirstID is the first issue id (default 10000); ids rise with created.
	FirstID int64
}

// DefaultGenerateEnd is End when GenerateOptions leaves it zero.
var DefaultGenerateEnd = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

var requestTypesByDesk = map[string][]string{
	"IT":  {"Get IT help", "Request new software", "Report a system problem", "Request a new account"},
	"HR":  {"Ask an HR question", "Onboard a new employee", "Update personal details"},
	"FAC": {"Request a repair", "Book a meeting room", "Report a facilities issue"},
}

var genericRequestTypes = []string{"Ask a question", "Report a problem", "Request something"}

// firstResponseGoal and resolutionGoal are SLA goals by priority.
var firstResponseGoal = map[string]time.Duration{"Highest": 30 * time.Minute, "High": time.Hour, "Medium": 4 * time.Hour, "Low": 8 * time.Hour, "Lowest": 24 * time.Hour, "": 24 * time.Hour}
var resolutionGoal = map[string]time.Duration{"Highest": 4 * time.Hour, "High": 8 * time.Hour, "Medium": 24 * time.Hour, "Low": 72 * time.Hour, "Lowest": 120 * time.Hour, "": 120 * time.Hour}

// genAgents are the licensed users who answer; reporters are customers,
// except that a few tickets are raised by an agent for themself.
var genAgents = []User{
	DefaultAgent,
	{AccountID: "5b10ac8d82e05b22cc7d4ef6", DisplayName: "Bea Agent", Role: RoleAgent},
	{AccountID: "5b10ac8d82e05b22cc7d4ef7", DisplayName: "Cai Agent", Role: RoleAgent},
	{AccountID: "5b10ac8d82e05b22cc7d4ef8", DisplayName: "Dee Agent", Role: RoleAgent},
}

type generator struct {
	rng *rand.Rand
	// seg draws the teams: a stream of its own, so the rest of the data
	// is what it was before the fake had segments.
	seg     *rand.Rand
	end     time.Time
	childID int64
}

// Customer organizations and serving teams of generated tickets. Each
// customer belongs to organizations of their own (a few to two); each desk
// routes to its teams, and a few tickets are routed to none.
var (
	genOrganizations = []string{"Engineering", "Sales", "Operations", "Finance", "Contractors", "Acme Supplies"}
	orgWeights       = []float64{30, 20, 15, 12, 10, 5}
	teamsByDesk      = map[string][]string{
		"IT":  {"Service Desk L1", "Service Desk L1", "Identity & Access"},
		"HR":  {"HR Operations", "HR Operations", "Payroll"},
		"FAC": {"Facilities"},
	}
	genericTeams = []string{"Service Desk"}
)

// organizationsOf are a customer's organizations, a function of the
// account alone: the same person brings the same organizations to every
// request. Agents raising a ticket belong to none, and so does one
// customer in seventeen; one in ten belongs to two.
func organizationsOf(u User) []string {
	if u.Role != RoleCustomer {
		return nil
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(u.AccountID))
	x := h.Sum64()
	if x%17 == 0 {
		return nil
	}
	pickOrg := func(v uint64) string {
		var total float64
		for _, w := range orgWeights {
			total += w
		}
		f := float64(v%10000) / 10000 * total
		for i, w := range orgWeights {
			if f < w {
				return genOrganizations[i]
			}
			f -= w
		}
		return genOrganizations[len(genOrganizations)-1]
	}
	first := pickOrg(x >> 8)
	if x%10 == 3 {
		if second := pickOrg(x >> 32); second != first {
			return []string{first, second}
		}
	}
	return []string{first}
}

// Generate returns n realistic JSM tickets, the same for the same seed and
// options: automation acknowledgements, internal notes before replies,
// customers chasing, unanswered tickets, SLA breaches (met, breached,
// running, paused), resolutions, a few reopens and cancellations, CSAT
// skewed to 4-5 with some 1-2 and the odd changed rating, a few tickets
// without priority or request type, a few raised by an agent. Per ticket it
// keeps a handful of comments and histories, so 100k tickets fit easily.
func Generate(seed uint64, n int, opts GenerateOptions) []Issue {
	if len(opts.Desks) == 0 {
		opts.Desks = []string{"IT", "HR", "FAC"}
	}
	if opts.End.IsZero() {
		opts.End = DefaultGenerateEnd
	}
	if opts.Start.IsZero() {
		opts.Start = opts.End.Add(-90 * 24 * time.Hour)
	}
	if opts.FirstID == 0 {
		opts.FirstID = 10000
	}
	g := &generator{rng: rand.New(rand.NewPCG(seed, seed*0x2545f4914f6cdd1d+1)), seg: rand.New(rand.NewPCG(seed^0x5e6e5e6e, seed+7)),
		end: opts.End, childID: 1000}
	span := opts.End.Sub(opts.Start)
	created := make([]time.Time, n)
	for i := range created {
		created[i] = opts.Start.Add(time.Duration(g.rng.Int64N(int64(span)))).Truncate(time.Millisecond)
	}
	sort.Slice(created, func(i, j int) bool { return created[i].Before(created[j]) })

	nextNum := map[string]int{}
	issues := make([]Issue, n)
	for i := range issues {
		desk := opts.Desks[g.weighted(deskWeights(len(opts.Desks)))]
		nextNum[desk]++
		is := &issues[i]
		is.ID = opts.FirstID + int64(i)
		is.Project = desk
		is.Key = fmt.Sprintf("%s-%d", desk, nextNum[desk])
		g.fill(is, created[i])
	}
	return issues
}

// deskWeights favours the first desks, as real desks differ in volume.
func deskWeights(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(i+1)
	}
	return w
}

func (g *generator) weighted(weights []float64) int {
	var total float64
	for _, w := range weights {
		total += w
	}
	x := g.rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// delay draws a log-normal duration around median.
func (g *generator) delay(median time.Duration, sigma float64) time.Duration {
	return time.Duration(float64(median) * math.Exp(g.rng.NormFloat64()*sigma)).Truncate(time.Millisecond)
}

func (g *generator) nextID() int64 {
	g.childID++
	return g.childID
}

func (g *generator) agent() User { return genAgents[g.rng.IntN(len(genAgents))] }

// fill plays one ticket's life from created until it ends or End comes.
func (g *generator) fill(is *Issue, created time.Time) {
	types := requestTypesByDesk[is.Project]
	if types == nil {
		types = genericRequestTypes
	}
	is.RequestType = types[g.rng.IntN(len(types))]
	if g.chance(0.02) {
		is.RequestType = "" // raised by an agent in Jira, not through the portal
	}
	is.Priority = []string{"Highest", "High", "Medium", "Low", ""}[g.weighted([]float64{3, 15, 60, 17, 5})]
	is.Summary = is.RequestType + " (" + is.Key + ")"
	is.Reporter = User{AccountID: fmt.Sprintf("qm:%08x", g.rng.Uint32()%500), Role: RoleCustomer}
	is.Reporter.DisplayName = "Customer " + is.Reporter.AccountID[3:]
	if g.chance(0.05) {
		is.Reporter = g.agent() // an agent raising a ticket: their own comments are no response
	}
	is.Organizations = organizationsOf(is.Reporter)
	teams := teamsByDesk[is.Project]
	if teams == nil {
		teams = genericTeams
	}
	if g.seg.Float64() >= 0.08 {
		is.Team = teams[g.seg.IntN(len(teams))]
	}
	is.Created, is.Updated = created, created
	is.StatusID = StatusWaitingForSupport
	is.SLAs = []SLA{
		{Name: SLATimeToFirstResponse, Ongoing: &SLAOngoing{Start: created, Goal: firstResponseGoal[is.Priority], WithinCalendarHours: true}},
		{Name: SLATimeToResolution, Ongoing: &SLAOngoing{Start: created, Goal: resolutionGoal[is.Priority], WithinCalendarHours: true}},
	}

	t := created
	// at advances the clock; it reports false once the story passes End.
	at := func(d time.Duration) bool {
		next := t.Add(max(d, time.Second)).Truncate(time.Millisecond)
		if !next.Before(g.end) {
			return false
		}
		t = next
		is.Updated = t
		return true
	}
	move := func(statusID string, by User) {
		st, _ := StatusByID(statusID)
		before := len(is.Histories)
		transition(is, st, by, t, g.nextID())
		// The agent who starts work on an unassigned ticket takes it.
		if len(is.Histories) > before && st.Category == CategoryIndeterminate && is.Assignee == nil && by.Role == RoleAgent {
			h := &is.Histories[len(is.Histories)-1]
			h.Items = append(h.Items, assigneeItem(nil, &by))
			is.Assignee = cloneUser(&by)
		}
	}
	comment := func(by User, public bool) { addComment(is, by, public, t, g.nextID()) }

	if g.chance(0.5) && at(5*time.Second) {
		comment(DefaultAutomation, true) // "We have received your request"
	}
	if g.chance(0.05) {
		if at(g.delay(2*time.Hour, 1)) {
			move(StatusCanceled, is.Reporter) // withdrawn before anyone answered
		}
		return
	}
	if g.chance(0.08) {
		return // nobody has answered yet
	}
	goal := firstResponseGoal[is.Priority]
	responseIn := g.delay(goal*6/10, 1.1)
	agent := g.agent()
	if g.chance(0.3) && at(responseIn/3) {
		comment(agent, false) // internal note first
	}
	if g.chance(0.15) && at(responseIn/3) {
		comment(is.Reporter, true) // the customer chasing
	}
	if !at(responseIn / 3) {
		return
	}
	move(StatusInProgress, agent)
	comment(agent, true)
	if g.chance(0.4) {
		move(StatusWaitingForCustomer, agent)
		if !at(g.delay(3*time.Hour, 1)) {
			return
		}
		comment(is.Reporter, true)
		move(StatusInProgress, is.Reporter)
	}
	if g.chance(0.12) {
		return // still being worked on
	}
	if !at(g.delay(resolutionGoal[is.Priority]/2, 1)) {
		return
	}
	move(StatusResolved, agent)
	if g.chance(0.08) {
		// Reopened by the customer, answered and resolved again.
		if !at(g.delay(24*time.Hour, 1)) {
			return
		}
		move(StatusInProgress, is.Reporter)
		comment(is.Reporter, true)
		if !at(g.delay(4*time.Hour, 1)) {
			return
		}
		comment(agent, true)
		if !at(g.delay(8*time.Hour, 1)) {
			return
		}
		move(StatusResolved, agent)
	}
	if g.chance(0.45) && at(g.delay(6*time.Hour, 1.2)) {
		rating := []int{5, 4, 3, 2, 1}[g.weighted([]float64{50, 25, 10, 7, 8})]
		is.Ratings = append(is.Ratings, Rating{Value: rating, At: t})
		if g.chance(0.05) && at(g.delay(24*time.Hour, 1)) {
			is.Ratings = append(is.Ratings, Rating{Value: min(5, rating+1+g.rng.IntN(2)), At: t})
		}
	}
	if g.chance(0.3) && at(48*time.Hour) {
		move(StatusClosed, DefaultAutomation) // done to done: no event
	}
}
