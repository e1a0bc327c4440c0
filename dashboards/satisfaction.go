package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

func satisfactionDashboard() *dashboard.DashboardBuilder {
	return newDashboard("servicedesk-satisfaction", "Service desk / Satisfaction",
		"Customer satisfaction ratings (1 to 5) per desk and request type. Ratings carry no priority.",
		"now-30d", []string{"satisfaction"}).
		Variables(ticketVariables()).
		WithPanel(statPanel("Average rating (selected range)",
			"Mean of the ratings given in the selected time range (1 = very unhappy, 5 = very happy).",
			"short", instantQuery(
				`sum(increase(servicedesk_satisfaction_rating_sum{`+requestTypeMatchers+`}[$__range])) / sum(increase(servicedesk_satisfaction_rating_count{`+requestTypeMatchers+`}[$__range]))`,
				"average")).Decimals(2)).
		WithPanel(statPanel("Ratings received (selected range)",
			"How many ratings customers gave in the selected time range; averages of a few ratings swing widely.",
			"short", instantQuery(
				`sum(increase(servicedesk_satisfaction_rating_count{`+requestTypeMatchers+`}[$__range]))`, "ratings"))).
		WithPanel(statPanel("Low ratings (selected range)",
			"Ratings of 1 or 2 given in the selected time range.",
			"short", instantQuery(
				`sum(increase(servicedesk_satisfaction_rating_bucket{`+requestTypeMatchers+`, `+ratingBucketMatcher(2)+`}[$__range]))`, "low ratings"))).
		WithPanel(timeSeries("Average rating by desk (trailing 7 days)",
			"Mean rating over the trailing 7 days, per desk (recording rule shared with the ServiceDeskSatisfactionLow alert). Request type filter does not apply.",
			"short",
			query(`desk:servicedesk_satisfaction_rating:avg_rate7d{`+deskMatchers+`}`, "{{desk}}"),
		).Min(1).Max(5)).
		WithPanel(ratingDistribution("How many ratings of each score were given in the selected time range.")).
		WithPanel(timeSeries("Ratings per day",
			"Ratings received, as a per-day rate.",
			"short",
			query(`sum(rate(servicedesk_satisfaction_rating_count{`+requestTypeMatchers+`}[$__rate_interval])) * `+secondsPerDay, "ratings per day"),
		).Interval(dayScaleInterval)).
		WithPanel(timeSeries("Low ratings (1–2) over time",
			"Ratings of 1 or 2, as a per-day rate: each is an unhappy internal customer worth a follow-up.",
			"short",
			query(`sum(rate(servicedesk_satisfaction_rating_bucket{`+requestTypeMatchers+`, `+ratingBucketMatcher(2)+`}[$__rate_interval])) * `+secondsPerDay, "low ratings per day"),
		).Interval(dayScaleInterval)).
		WithPanel(timeSeries("Average rating by request type",
			"Mean rating per request type for the ratings given in each window (at least an hour).",
			"short",
			query(`sum by (request_type) (rate(servicedesk_satisfaction_rating_sum{`+requestTypeMatchers+`}[$__rate_interval])) / sum by (request_type) (rate(servicedesk_satisfaction_rating_count{`+requestTypeMatchers+`}[$__rate_interval]))`, "{{request_type}}"),
		).Interval(dayScaleInterval).Min(1).Max(5))
}
