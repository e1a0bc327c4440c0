package demo

import (
	"math"
	"math/rand/v2"
	"time"
)

// weighted is one choice with its relative weight.
type weighted[T any] struct {
	value  T
	weight float64
}

// pick draws one value in proportion to the weights.
func pick[T any](r *rand.Rand, choices []weighted[T]) T {
	total := 0.0
	for _, c := range choices {
		total += c.weight
	}
	x := r.Float64() * total
	for _, c := range choices {
		if x < c.weight {
			return c.value
		}
		x -= c.weight
	}
	return choices[len(choices)-1].value
}

// requestType is a request type with how long its work takes relative to
// the desk's usual pace (a password reset is quick, a desk move is not).
type requestType struct {
	name string
	pace float64
}

// deskProfile describes one desk of the simulation.
type deskProfile struct {
	// share is the desk's relative share of arrivals.
	share float64
	// pace scales response and work times (facilities is slower than IT).
	pace  float64
	types []weighted[requestType]
}

var knownDesks = map[string]deskProfile{
	"IT": {share: 3, pace: 1, types: []weighted[requestType]{
		{requestType{"Access request", 0.8}, 25},
		{requestType{"Hardware", 1.6}, 15},
		{requestType{"Software install", 1}, 20},
		{requestType{"Password reset", 0.3}, 22},
		{requestType{"Incident", 0.8}, 18},
	}},
	"HR": {share: 1.2, pace: 1.3, types: []weighted[requestType]{
		{requestType{"Payroll question", 1}, 35},
		{requestType{"Onboarding", 2.5}, 15},
		{requestType{"Leave request", 0.6}, 30},
		{requestType{"Policy question", 1}, 20},
	}},
	"FAC": {share: 1, pace: 1.5, types: []weighted[requestType]{
		{requestType{"Desk move", 2}, 25},
		{requestType{"Repair", 1.3}, 45},
		{requestType{"Room booking", 0.4}, 30},
	}},
}

// genericDesk is used for desks the simulation knows nothing about.
var genericDesk = deskProfile{share: 1, pace: 1, types: []weighted[requestType]{
	{requestType{"General request", 1}, 40},
	{requestType{"Question", 0.6}, 30},
	{requestType{"Problem report", 1.2}, 20},
	{requestType{"Change request", 1.8}, 10},
}}

func profileOf(desk string) deskProfile {
	if p, ok := knownDesks[desk]; ok {
		return p
	}
	return genericDesk
}

// Priorities and their shares; a few tickets come in without a priority.
var (
	priorities = []weighted[string]{
		{"Highest", 4}, {"High", 14}, {"Medium", 52}, {"Low", 25}, {"", 5},
	}
	// Incidents are more often urgent.
	incidentPriorities = []weighted[string]{
		{"Highest", 15}, {"High", 30}, {"Medium", 45}, {"Low", 8}, {"", 2},
	}
)

// priorityProfile holds the per-priority timings: medians of the
// lognormal response and work times, and the SLA goals.
type priorityProfile struct {
	responseMedian time.Duration
	workMedian     time.Duration
	responseGoal   time.Duration
	resolutionGoal time.Duration
}

var priorityProfiles = map[string]priorityProfile{
	"Highest": {12 * time.Minute, 2 * time.Hour, 30 * time.Minute, 8 * time.Hour},
	"High":    {45 * time.Minute, 8 * time.Hour, 2 * time.Hour, 24 * time.Hour},
	"Medium":  {150 * time.Minute, 36 * time.Hour, 8 * time.Hour, 5 * day},
	"Low":     {6 * time.Hour, 72 * time.Hour, 24 * time.Hour, 10 * day},
	"":        {4 * time.Hour, 48 * time.Hour, 8 * time.Hour, 5 * day},
}

// SLA names as JSM ships them.
const (
	slaFirstResponse = "Time to first response"
	slaResolution    = "Time to resolution"
)

// Status names per category, as a JSM service project has them.
const (
	statusOpen               = "Open"
	statusWaitingForSupport  = "Waiting for support"
	statusInProgress         = "In Progress"
	statusWaitingForCustomer = "Waiting for customer"
	statusResolved           = "Resolved"
	statusClosed             = "Closed"
)

// Satisfaction ratings 1..5: mostly happy, with a tail of unhappy ones;
// customers whose SLA was breached are less generous.
var (
	ratings         = []weighted[int]{{5, 56}, {4, 27}, {3, 8}, {2, 4}, {1, 5}}
	breachedRatings = []weighted[int]{{5, 35}, {4, 28}, {3, 15}, {2, 10}, {1, 12}}
)

const day = 24 * time.Hour

// hourWeights is the arrival rhythm over a UTC day.
var hourWeights = [24]float64{
	0.10, 0.08, 0.07, 0.07, 0.08, 0.15, 0.35, 0.80, 1.60, 2.00, 2.10, 1.90,
	1.40, 1.80, 2.00, 1.90, 1.60, 1.10, 0.70, 0.45, 0.30, 0.22, 0.16, 0.12,
}

// weekdayWeights is the arrival rhythm over a week, Sunday first.
var weekdayWeights = [7]float64{0.15, 1.10, 1.05, 1.00, 1.00, 0.85, 0.15}

// weeklyWeight is the sum of the rhythm over one week, which turns the
// per-slot weight into a share of the week's arrivals.
var weeklyWeight = func() float64 {
	hours := 0.0
	for _, w := range hourWeights {
		hours += w
	}
	days := 0.0
	for _, w := range weekdayWeights {
		days += w
	}
	return hours * days
}()

// arrivalMean is the expected number of tickets created in the hour that
// starts at start.
func arrivalMean(ticketsPerDay float64, start time.Time) float64 {
	w := hourWeights[start.Hour()] * weekdayWeights[start.Weekday()]
	return ticketsPerDay * 7 * w / weeklyWeight
}

// poisson draws from a Poisson distribution with the given mean: Knuth's
// method for small means, a rounded normal approximation for large ones.
func poisson(r *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*r.NormFloat64())))
	}
	limit := math.Exp(-mean)
	n, p := 0, r.Float64()
	for p > limit {
		n++
		p *= r.Float64()
	}
	return n
}

// lognormal draws a duration with the given median and spread (sigma of
// the underlying normal), clamped to [lo, hi] and rounded to milliseconds.
func lognormal(r *rand.Rand, median time.Duration, sigma float64, lo, hi time.Duration) time.Duration {
	d := time.Duration(float64(median) * math.Exp(sigma*r.NormFloat64()))
	return clampDuration(d, lo, hi)
}

// uniform draws a duration in [lo, hi), rounded to milliseconds.
func uniform(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return clampDuration(lo+time.Duration(r.Int64N(int64(hi-lo))), lo, hi)
}

func clampDuration(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi).Round(time.Millisecond)
}

// customerGroup is an internal customer segment: a department, or people
// from outside it (contractors, suppliers). Groups differ in how many
// tickets they raise, how long they wait (some are served by overloaded
// queues, some are deprioritised) and how they rate the service.
type customerGroup struct {
	name string
	// weight is the group's share of the reporters.
	weight float64
	// response scales the time to the first public reply.
	response float64
	// ratedShare is how often a resolved ticket of the group is rated.
	ratedShare float64
	// ratings and breachedRatings replace the desk-wide distributions.
	ratings, breachedRatings []weighted[int]
	// desks are the desks the group files with other than its usual
	// share; a missing desk has weight 1.
	desks map[string]float64
}

var customerGroups = []customerGroup{
	{name: "Engineering", weight: 30, response: 0.7, ratedShare: 0.45,
		ratings:         []weighted[int]{{5, 72}, {4, 23}, {3, 3}, {2, 1}, {1, 1}},
		breachedRatings: []weighted[int]{{5, 50}, {4, 32}, {3, 10}, {2, 5}, {1, 3}}},
	{name: "Sales", weight: 20, response: 1, ratedShare: 0.35, ratings: ratings, breachedRatings: breachedRatings},
	{name: "Operations", weight: 17, response: 1, ratedShare: 0.4, ratings: ratings, breachedRatings: breachedRatings},
	{name: "Finance", weight: 10, response: 2.2, ratedShare: 0.4,
		ratings:         []weighted[int]{{5, 45}, {4, 30}, {3, 12}, {2, 7}, {1, 6}},
		breachedRatings: []weighted[int]{{5, 25}, {4, 28}, {3, 20}, {2, 14}, {1, 13}}},
	{name: "HR", weight: 8, response: 1.2, ratedShare: 0.4, ratings: ratings, breachedRatings: breachedRatings},
	// Contractors are served last and say so.
	{name: "Contractors", weight: 9, response: 1.8, ratedShare: 0.5,
		ratings:         []weighted[int]{{5, 10}, {4, 18}, {3, 28}, {2, 22}, {1, 22}},
		breachedRatings: []weighted[int]{{5, 5}, {4, 10}, {3, 22}, {2, 30}, {1, 33}},
		desks:           map[string]float64{"HR": 0.3}},
	// Suppliers come for site access and deliveries, wait longest and
	// rarely rate.
	{name: "Suppliers", weight: 8, response: 2.6, ratedShare: 0.2,
		ratings:         []weighted[int]{{5, 20}, {4, 25}, {3, 25}, {2, 15}, {1, 15}},
		breachedRatings: []weighted[int]{{5, 10}, {4, 20}, {3, 25}, {2, 20}, {1, 25}},
		desks:           map[string]float64{"FAC": 3, "HR": 0.05}},
}

// groupOf is the customer group of reporter number user: a fixed property
// of the person, the same for every ticket they raise, drawn from a hash
// of the seed and the number so it takes nothing from the ticket's RNG.
func groupOf(seed uint64, user int) *customerGroup {
	x := seed ^ uint64(user)*0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	total := 0.0
	for _, g := range customerGroups {
		total += g.weight
	}
	f := float64(x>>11) / (1 << 53) * total
	for i := range customerGroups {
		if f < customerGroups[i].weight {
			return &customerGroups[i]
		}
		f -= customerGroups[i].weight
	}
	return &customerGroups[len(customerGroups)-1]
}

// affinity is how readily the group files with desk, 1 being its usual share.
func (g *customerGroup) affinity(desk string) float64 {
	if w, ok := g.desks[desk]; ok {
		return w
	}
	return 1
}

// team is a serving team: who works a ticket once it is routed, and how
// fast that team answers relative to the desk.
type team struct {
	name     string
	response float64
}

// The serving teams. Workplace serves both IT (hardware) and facilities
// (desk moves); the label is per desk, so both desks see it.
var (
	teamL1         = team{"Service Desk L1", 1}
	teamIAM        = team{"Identity & Access", 0.8}
	teamWorkplace  = team{"Workplace", 1.5}
	teamPayroll    = team{"Payroll", 1.6}
	teamHROps      = team{"HR Operations", 1.1}
	teamFacilities = team{"Facilities", 1.3}
)

// routing sends a request type to its team; escalate, when set, is where
// the first team hands a share of its tickets on when it picks them up.
type routing struct {
	first         []weighted[team]
	escalate      team
	escalateShare float64
}

var routes = map[string]routing{
	"Access request":   {first: []weighted[team]{{teamIAM, 1}}},
	"Password reset":   {first: []weighted[team]{{teamL1, 7}, {teamIAM, 3}}},
	"Hardware":         {first: []weighted[team]{{teamWorkplace, 1}}},
	"Software install": {first: []weighted[team]{{teamL1, 6}, {teamWorkplace, 4}}},
	"Incident":         {first: []weighted[team]{{teamL1, 1}}, escalate: teamIAM, escalateShare: 0.15},
	"Payroll question": {first: []weighted[team]{{teamPayroll, 1}}},
	"Onboarding":       {first: []weighted[team]{{teamHROps, 1}}, escalate: teamIAM, escalateShare: 0.25},
	"Leave request":    {first: []weighted[team]{{teamHROps, 1}}},
	"Policy question":  {first: []weighted[team]{{teamHROps, 1}}},
	"Desk move":        {first: []weighted[team]{{teamWorkplace, 1}}},
	"Repair":           {first: []weighted[team]{{teamFacilities, 1}}},
	"Room booking":     {first: []weighted[team]{{teamFacilities, 6}, {teamWorkplace, 4}}},
}

// genericRoute serves the request types of desks the simulation does not know.
var genericRoute = routing{first: []weighted[team]{{teamL1, 1}}}

func routeOf(requestType string) routing {
	if r, ok := routes[requestType]; ok {
		return r
	}
	return genericRoute
}
