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
