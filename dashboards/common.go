// Package dashboards builds the exporter's Grafana dashboards with
// grafana-foundation-sdk. The generated JSON under dashboards/json is
// committed; `go run ./dashboards/gen` rewrites it and the package test fails
// when the committed files drift from what the builders produce.
package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Label matchers shared by the panel queries. Each metric family carries a
// different subset of the ticket labels, so a query uses the widest matcher
// its metric supports; using a label the metric lacks would still match
// (an absent label equals ""), but it would silently ignore the filter.
const (
	// sourceMatchers fits the exporter self-metrics ({source}).
	sourceMatchers = `job=~"$job", instance=~"$instance", source=~"$source"`
	// deskMatchers fits {source,desk,...} metrics and the desk-level recording rules.
	deskMatchers = sourceMatchers + `, desk=~"$desk"`
	// requestTypeMatchers fits servicedesk_satisfaction_rating, which has no priority.
	requestTypeMatchers = deskMatchers + `, request_type=~"$request_type"`
	// ticketMatchers fits every metric labelled {source,desk,request_type,priority}.
	ticketMatchers = requestTypeMatchers + `, priority=~"$priority"`
	// instanceMatchers fits the process-wide metrics that carry no source.
	instanceMatchers = `job=~"$job", instance=~"$instance"`
)

// secondsPerDay turns per-second rates into the per-day figures a low-volume
// desk is discussed in.
const secondsPerDay = "86400"

// dayScaleInterval is the smallest query step for time series on ticket
// metrics: a desk sees a handful of tickets an hour, so windows shorter than
// an hour would show mostly zeroes and spikes. Grafana derives
// $__rate_interval from it.
const dayScaleInterval = "1h"

// datasourceRef points panels and variables at the dashboard's datasource
// variable, so one JSON works against any Prometheus.
func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("$datasource")}
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus")
}

// queryVariable is a multi-select label_values variable. allValue is the
// regex used when "All" is selected: job and instance use ".+" (the
// dashboard-linter convention); ticket labels use ".*" because priority and
// request_type may be empty strings that ".+" would exclude.
func queryVariable(name, label, query, allValue string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Datasource(datasourceRef()).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(allValue).
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
		})
}

// sourceVariables are the variables every dashboard has: datasource, job,
// instance and source, keyed on servicedesk_up, which every source exports
// from its first poll.
func sourceVariables() []cog.Builder[dashboard.VariableModel] {
	return []cog.Builder[dashboard.VariableModel]{
		datasourceVariable(),
		queryVariable("job", "Job", `label_values(servicedesk_up, job)`, ".+"),
		queryVariable("instance", "Instance", `label_values(servicedesk_up{job=~"$job"}, instance)`, ".+"),
		queryVariable("source", "Source", `label_values(servicedesk_up{job=~"$job", instance=~"$instance"}, source)`, ".*"),
	}
}

// ticketVariables adds desk and request type, keyed on the created counter
// because it keeps every desk that ever had a ticket (a gauge such as open
// tickets would drop quiet desks from the list).
func ticketVariables() []cog.Builder[dashboard.VariableModel] {
	return append(sourceVariables(),
		queryVariable("desk", "Desk", `label_values(servicedesk_tickets_created_total{`+sourceMatchers+`}, desk)`, ".*"),
		queryVariable("request_type", "Request type", `label_values(servicedesk_tickets_created_total{`+deskMatchers+`}, request_type)`, ".*"),
	)
}

// ticketVariablesWithPriority adds priority for dashboards whose metrics carry it.
func ticketVariablesWithPriority() []cog.Builder[dashboard.VariableModel] {
	return append(ticketVariables(),
		queryVariable("priority", "Priority", `label_values(servicedesk_tickets_created_total{`+requestTypeMatchers+`}, priority)`, ".*"),
	)
}

// newDashboard sets what all the dashboards share. They are read-only
// (dashboard-linter's uneditable rule): changes belong in the Go builders,
// not in Grafana, or the next generation would overwrite them.
func newDashboard(uid, title, description, from string, tags []string) *dashboard.DashboardBuilder {
	// The v1 builder is deprecated in favour of dashboardv2, but only the v1
	// JSON model is read by dashboard-linter and file-provisioned by Grafana
	// before 12; .golangci.yml waives SA1019 for this folder.
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags(append([]string{"servicedesk"}, tags...)).
		Readonly().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Timezone(common.TimeZoneBrowser).
		Time(from, "now").
		Refresh("5m").
		Link(dashboard.NewDashboardLinkBuilder("Service desk dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"servicedesk"}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true))
}

func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		LegendFormat(legend)
}

// instantQuery is for stat and bar gauge panels that show one value per
// series for the whole selected range.
func instantQuery(expr, legend string) *prometheus.DataqueryBuilder {
	return query(expr, legend).Instant().Format(prometheus.PromQueryFormatTimeSeries)
}

func timeSeries(title, description, unit string, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	panel := timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasourceRef()).
		Unit(unit).
		Min(0).
		FillOpacity(10).
		Span(12).
		Height(8).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true))
	for i, target := range targets {
		panel.WithTarget(target.RefId(refID(i)))
	}
	return panel
}

// refID names a panel's i-th query the way Grafana does (A, B, C, ...).
func refID(i int) string {
	return string(rune('A' + i))
}

func statPanel(title, description, unit string, target *prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasourceRef()).
		Unit(unit).
		Span(4).
		Height(4).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		WithTarget(target.RefId(refID(0)))
}

func barGauge(title, description, unit string, targets ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	panel := bargauge.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasourceRef()).
		Unit(unit).
		Min(0).
		Span(12).
		Height(8).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	for i, target := range targets {
		panel.WithTarget(target.RefId(refID(i)))
	}
	return panel
}
