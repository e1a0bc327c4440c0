package dashboards

import (
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// histogramQuantile is the quantile of a ticket histogram over
// $__rate_interval, aggregated across the selected desks, request types and
// priorities (extra grouping labels are appended to "le").
func histogramQuantile(quantile, metric, by string) string {
	return `histogram_quantile(` + quantile + `, sum by (le` + by + `) (rate(` + metric + `_bucket{` + ticketMatchers + `}[$__rate_interval])))`
}

// ratingBucketMatcher selects the satisfaction bucket le=rating. Prometheus 2
// stores le as exposed ("2"); Prometheus 3 normalises it to a float ("2.0"),
// so the matcher accepts both.
func ratingBucketMatcher(rating int) string {
	return `le=~"` + strconv.Itoa(rating) + `(\\.0)?"`
}

// ratingCount is the number of ratings equal to rating in the selected range:
// the satisfaction histogram is cumulative (le="1".."5"), so a rating's count
// is its bucket minus the one below it.
func ratingCount(rating int) string {
	bucket := func(le int) string {
		return `sum(increase(servicedesk_satisfaction_rating_bucket{` + requestTypeMatchers + `, ` + ratingBucketMatcher(le) + `}[$__range]))`
	}
	if rating == 1 {
		return bucket(1)
	}
	return bucket(rating) + ` - ` + bucket(rating-1)
}

func ratingDistribution(description string) *bargauge.PanelBuilder {
	var targets []*prometheus.DataqueryBuilder
	for rating := 1; rating <= 5; rating++ {
		targets = append(targets, instantQuery(ratingCount(rating), strconv.Itoa(rating)+" ★"))
	}
	return barGauge("Satisfaction distribution", description, "short", targets...)
}

func overviewDashboard() *dashboard.DashboardBuilder {
	return newDashboard("servicedesk-overview", "Service desk / Overview",
		"How internal customers are served: volume, backlog, speed, quality and satisfaction per desk.",
		"now-7d", []string{"overview"}).
		Variables(ticketVariablesWithPriority()).
		WithRow(dashboard.NewRowBuilder("Right now")).
		WithPanel(statPanel("Open tickets",
			"Tickets not yet resolved, across the selected desks, request types and priorities.",
			"short", instantQuery(`sum(servicedesk_open_tickets{`+ticketMatchers+`})`, "open"))).
		WithPanel(statPanel("Awaiting first response",
			"Open tickets that no agent has answered yet.",
			"short", instantQuery(`sum(servicedesk_tickets_awaiting_first_response{`+ticketMatchers+`})`, "awaiting"))).
		WithPanel(statPanel("Breaching SLA now",
			"Open tickets whose SLA clock has already run out, summed over SLAs (a ticket breaching two SLAs counts twice). Request type and priority filters do not apply: the exporter reports this per desk and SLA.",
			"short", instantQuery(`sum(servicedesk_sla_breached_open_tickets{`+deskMatchers+`})`, "breaching"))).
		WithPanel(statPanel("Unassigned open tickets",
			"Open tickets nobody is assigned to, across the selected desks. Request type and priority filters do not apply.",
			"short", instantQuery(`sum(servicedesk_unassigned_open_tickets{`+deskMatchers+`})`, "unassigned"))).
		WithPanel(statPanel("Oldest unanswered ticket",
			"Age of the oldest open ticket still waiting for its first response, across the selected desks. Request type and priority filters do not apply.",
			"s", instantQuery(`max(servicedesk_oldest_awaiting_first_response_seconds{`+deskMatchers+`})`, "oldest unanswered"))).
		WithPanel(statPanel("SLA met ratio (selected range)",
			"Share of SLA cycles completed in the selected time range that met their goal, over all SLAs.",
			"percentunit", instantQuery(
				`sum(increase(servicedesk_sla_cycles_total{`+ticketMatchers+`, outcome="met"}[$__range])) / sum(increase(servicedesk_sla_cycles_total{`+ticketMatchers+`}[$__range]))`,
				"met"))).
		WithPanel(statPanel("Satisfaction average (selected range)",
			"Mean customer rating (1 = very unhappy, 5 = very happy) of the ratings given in the selected time range. Priority filter does not apply.",
			"short", instantQuery(
				`sum(increase(servicedesk_satisfaction_rating_sum{`+requestTypeMatchers+`}[$__range])) / sum(increase(servicedesk_satisfaction_rating_count{`+requestTypeMatchers+`}[$__range]))`,
				"average")).Decimals(2)).
		WithRow(dashboard.NewRowBuilder("Volume and backlog")).
		WithPanel(timeSeries("Tickets created vs resolved",
			"Tickets created and resolved, as a per-day rate. When created stays above resolved the backlog grows.",
			"short",
			query(`sum(rate(servicedesk_tickets_created_total{`+ticketMatchers+`}[$__rate_interval])) * `+secondsPerDay, "created per day"),
			query(`sum(rate(servicedesk_tickets_resolved_total{`+ticketMatchers+`}[$__rate_interval])) * `+secondsPerDay, "resolved per day"),
		).Interval(dayScaleInterval)).
		WithPanel(timeSeries("Open backlog by status category",
			"Open tickets by Jira status category: new (not started) and indeterminate (in progress).",
			"short",
			query(`sum by (status_category) (servicedesk_open_tickets{`+ticketMatchers+`})`, "{{status_category}}"),
		).Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))).
		WithRow(dashboard.NewRowBuilder("Speed")).
		WithPanel(timeSeries("First response time p50 / p90",
			"Time from creation to the first agent response, for tickets answered in each window (at least an hour). Half of the tickets were answered faster than p50, nine in ten faster than p90.",
			"s",
			query(histogramQuantile("0.5", "servicedesk_first_response_seconds", ""), "p50"),
			query(histogramQuantile("0.9", "servicedesk_first_response_seconds", ""), "p90"),
		).Interval(dayScaleInterval)).
		WithPanel(timeSeries("Resolution time p50 / p90",
			"Time from creation to resolution, for tickets resolved in each window (at least an hour).",
			"s",
			query(histogramQuantile("0.5", "servicedesk_resolution_seconds", ""), "p50"),
			query(histogramQuantile("0.9", "servicedesk_resolution_seconds", ""), "p90"),
		).Interval(dayScaleInterval)).
		WithRow(dashboard.NewRowBuilder("Quality")).
		WithPanel(timeSeries("Reopen ratio (trailing 7 days)",
			"Reopened tickets per resolved ticket over the trailing 7 days, per desk (recording rule shared with the ServiceDeskReopenRatioHigh alert). Request type and priority filters do not apply.",
			"percentunit",
			query(`desk:servicedesk_tickets_reopened_per_resolved:ratio_rate7d{`+deskMatchers+`}`, "{{desk}}"),
		)).
		WithPanel(timeSeries("SLA breach ratio (trailing day)",
			"Share of SLA cycles completed over the trailing day that breached, per desk and SLA (recording rule shared with the ServiceDeskSLABreachRatioHigh alert). Request type and priority filters do not apply.",
			"percentunit",
			query(`desk_sla:servicedesk_sla_cycles_breached_per_cycles:ratio_rate1d{`+deskMatchers+`}`, "{{desk}} · {{sla}}"),
		)).
		WithPanel(timeSeries("Satisfaction average (trailing 7 days)",
			"Mean rating over the trailing 7 days, per desk (recording rule shared with the ServiceDeskSatisfactionLow alert). Request type and priority filters do not apply.",
			"short",
			query(`desk:servicedesk_satisfaction_rating:avg_rate7d{`+deskMatchers+`}`, "{{desk}}"),
		).Min(1).Max(5)).
		WithPanel(ratingDistribution("How many ratings of each score were given in the selected time range. Priority filter does not apply."))
}
