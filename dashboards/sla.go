package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// metRatioBy is the share of SLA cycles completed in the selected range that
// met their goal, split by one label.
func metRatioBy(label string) string {
	return `sum by (` + label + `) (increase(servicedesk_sla_cycles_total{` + ticketMatchers + `, outcome="met"}[$__range])) / sum by (` + label + `) (increase(servicedesk_sla_cycles_total{` + ticketMatchers + `}[$__range]))`
}

// shareWithinBuckets is, for each histogram bucket boundary, the share of the
// tickets observed in the selected range that finished within it. The +Inf
// bucket is dropped because it is always 100%.
func shareWithinBuckets(metric string) string {
	return `sum by (le) (increase(` + metric + `_bucket{` + ticketMatchers + `, le!="+Inf"}[$__range])) / ignoring (le) group_left () sum(increase(` + metric + `_count{` + ticketMatchers + `}[$__range]))`
}

func slaDashboard() *dashboard.DashboardBuilder {
	return newDashboard("servicedesk-sla", "Service desk / SLA and first response",
		"SLA outcomes and first-response speed per desk, request type and priority.",
		"now-7d", []string{"sla"}).
		Variables(ticketVariablesWithPriority()).
		WithRow(dashboard.NewRowBuilder("SLA outcomes")).
		WithPanel(timeSeries("SLA cycles met vs breached",
			"SLA cycles completed per day, split into met and breached, over all SLAs.",
			"short",
			query(`sum by (outcome) (rate(servicedesk_sla_cycles_total{`+ticketMatchers+`}[$__rate_interval])) * `+secondsPerDay, "{{outcome}} per day"),
		).Interval(dayScaleInterval).Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))).
		WithPanel(timeSeries("SLA breach ratio by desk and SLA (trailing day)",
			"Share of SLA cycles completed over the trailing day that breached (recording rule shared with the ServiceDeskSLABreachRatioHigh alert). Request type and priority filters do not apply.",
			"percentunit",
			query(`desk_sla:servicedesk_sla_cycles_breached_per_cycles:ratio_rate1d{`+deskMatchers+`}`, "{{desk}} · {{sla}}"),
		)).
		WithPanel(barGauge("SLA met ratio by request type (selected range)",
			"Share of SLA cycles completed in the selected range that met their goal, per request type, over all SLAs.",
			"percentunit",
			instantQuery(metRatioBy("request_type"), "{{request_type}}"),
		).Max(1)).
		WithPanel(barGauge("SLA met ratio by priority (selected range)",
			"Share of SLA cycles completed in the selected range that met their goal, per priority, over all SLAs. An empty name means tickets without a priority.",
			"percentunit",
			instantQuery(metRatioBy("priority"), "{{priority}}"),
		).Max(1)).
		WithPanel(timeSeries("Open tickets breaching SLA now",
			"Open tickets whose SLA clock has already run out, per desk and SLA. Request type and priority filters do not apply.",
			"short",
			query(`sum by (desk, sla) (servicedesk_sla_breached_open_tickets{`+deskMatchers+`})`, "{{desk}} · {{sla}}"),
		)).
		WithPanel(timeSeries("Open tickets at risk of breaching SLA",
			"Open tickets whose running SLA clock has used at least metrics.sla_at_risk_ratio (default 75%) of its goal and not yet all of it, per desk and SLA: the ones to pick up next. Paused clocks are not at risk. Request type and priority filters do not apply.",
			"short",
			query(`sum by (desk, sla) (servicedesk_sla_at_risk_open_tickets{`+deskMatchers+`})`, "{{desk}} · {{sla}}"),
		)).
		WithPanel(timeSeries("Tickets awaiting first response by priority",
			"Open tickets nobody has answered yet, per priority.",
			"short",
			query(`sum by (priority) (servicedesk_tickets_awaiting_first_response{`+ticketMatchers+`})`, "{{priority}}"),
		)).
		WithRow(dashboard.NewRowBuilder("First response")).
		WithPanel(timeSeries("First response p90 by desk (trailing 1 day and 7 days)",
			"Nine in ten tickets answered in the trailing window got their first response within this time (recording rules shared with the ServiceDeskFirstResponseSlow alert). Request type and priority filters do not apply.",
			"s",
			query(`desk:servicedesk_first_response_seconds:p90_rate1d{`+deskMatchers+`}`, "{{desk}} · 1d"),
			query(`desk:servicedesk_first_response_seconds:p90_rate7d{`+deskMatchers+`}`, "{{desk}} · 7d"),
		)).
		WithPanel(timeSeries("First response p90 by priority",
			"First response p90 per priority for tickets answered in each window (at least an hour).",
			"s",
			query(histogramQuantile("0.9", "servicedesk_first_response_seconds", ", priority"), "{{priority}}"),
		).Interval(dayScaleInterval)).
		WithPanel(barGauge("Share answered within each target (selected range)",
			"Of the tickets first answered in the selected range, the share answered within each bucket boundary (seconds) of the first-response histogram.",
			"percentunit",
			instantQuery(shareWithinBuckets("servicedesk_first_response_seconds"), "within {{le}} s"),
		).Max(1)).
		WithPanel(barGauge("Share resolved within each target (selected range)",
			"Of the tickets resolved in the selected range, the share resolved within each bucket boundary (seconds) of the resolution histogram.",
			"percentunit",
			instantQuery(shareWithinBuckets("servicedesk_resolution_seconds"), "within {{le}} s"),
		).Max(1))
}
