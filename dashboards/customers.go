package dashboards

import (
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// Matchers of the internal-customer families: {source, desk,
// customer_group}, {source, desk, team} and their cross.
const (
	groupMatchers = deskMatchers + `, customer_group=~"$customer_group"`
	teamMatchers  = deskMatchers + `, team=~"$team"`
	crossMatchers = deskMatchers + `, team=~"$team", customer_group=~"$customer_group"`
)

// ratingsForTrust is how many ratings in 7 days a group needs before the
// "least satisfied" table ranks it: an average of two ratings says little.
const ratingsForTrust = "5"

// customerVariables are desk, customer group and team, keyed on the
// created counters, which keep every value that ever had a ticket.
func customerVariables() []cog.Builder[dashboard.VariableModel] {
	return append(sourceVariables(),
		queryVariable("desk", "Desk", `label_values(servicedesk_tickets_created_total{`+sourceMatchers+`}, desk)`, ".*"),
		queryVariable("customer_group", "Customer group", `label_values(servicedesk_customer_group_tickets_created_total{`+deskMatchers+`}, customer_group)`, ".*"),
		queryVariable("team", "Team", `label_values(servicedesk_team_tickets_created_total{`+deskMatchers+`}, team)`, ".*"),
	)
}

// tableQuery is an instant query whose labels become table columns.
func tableQuery(expr string) *prometheus.DataqueryBuilder {
	return query(expr, "").Instant().Format(prometheus.PromQueryFormatTable)
}

func tablePanel(title, description, unit string, targets ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	panel := table.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasourceRef()).
		Unit(unit).
		Span(12).
		Height(8).
		// The SDK leaves the footer's reducer null, which Grafana's schema
		// refuses; no footer is shown.
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}))
	for i, target := range targets {
		panel.WithTarget(target.RefId(refID(i)))
	}
	return panel
}

// teamByGroup lays a {team, customer_group} result out as a matrix: a row
// per team, a column per customer group.
func teamByGroup(title, description, unit, expr string) *table.PanelBuilder {
	return tablePanel(title, description, unit, tableQuery(expr)).
		WithTransformation(dashboard.DataTransformerConfig{Id: "groupingToMatrix", Options: map[string]any{
			"columnField": "customer_group", "rowField": "team", "valueField": "Value", "emptyValue": "null",
		}})
}

// groupRatingShares is, per customer group, the share of the ratings given
// in the selected range that had each score, one row per group and a
// column per score. The histogram is cumulative, so each score is its
// bucket minus the one below it.
func groupRatingShares() string {
	bucket := func(le int) string {
		return `sum by (customer_group) (increase(servicedesk_customer_group_satisfaction_rating_bucket{` + groupMatchers + `, ` + ratingBucketMatcher(le) + `}[$__range]))`
	}
	total := `sum by (customer_group) (increase(servicedesk_customer_group_satisfaction_rating_count{` + groupMatchers + `}[$__range]))`
	terms := make([]string, 0, 5)
	for rating := 1; rating <= 5; rating++ {
		count := bucket(rating)
		if rating > 1 {
			count = `(` + bucket(rating) + ` - ` + bucket(rating-1) + `)`
		}
		terms = append(terms, `label_replace(`+count+` / `+total+`, "rating", "`+strconv.Itoa(rating)+` ★", "", "")`)
	}
	return strings.Join(terms, " or ")
}

// perGroup divides two counters' increases in the selected range per group.
func perGroup(numerator, denominator string) string {
	return `sum by (customer_group) (increase(` + numerator + `{` + groupMatchers + `}[$__range])) / sum by (customer_group) (increase(` + denominator + `{` + groupMatchers + `}[$__range]))`
}

func customersDashboard() *dashboard.DashboardBuilder {
	leastSatisfied := `bottomk(5, desk_customer_group:servicedesk_customer_group_satisfaction_rating:avg_rate7d{` + groupMatchers + `}` +
		` and desk_customer_group:servicedesk_customer_group_satisfaction_rating_count:rate7d{` + groupMatchers + `} * 604800 >= ` + ratingsForTrust + `)`
	return newDashboard("servicedesk-internal-customers", "Service desk / Internal customers",
		"Who is served how well, by whom: volume, speed, reopens and satisfaction per internal customer group (department, contractors, suppliers) and per serving team. "+
			"A ticket without a group or team shows as none; values beyond metrics.label_value_limit as other.",
		"now-7d", []string{"customers"}).
		Variables(customerVariables()).
		WithRow(dashboard.NewRowBuilder("Who asks")).
		WithPanel(barGauge("Tickets by customer group (selected range)",
			"Tickets created in the selected range, per customer group.",
			"short",
			instantQuery(`sort_desc(sum by (customer_group) (increase(servicedesk_customer_group_tickets_created_total{`+groupMatchers+`}[$__range])))`, "{{customer_group}}"),
		)).
		WithPanel(timeSeries("Tickets per day by customer group",
			"Tickets created, as a per-day rate, per customer group.",
			"short",
			query(`sum by (customer_group) (rate(servicedesk_customer_group_tickets_created_total{`+groupMatchers+`}[$__rate_interval])) * `+secondsPerDay, "{{customer_group}}"),
		).Interval(dayScaleInterval)).
		WithPanel(timeSeries("Open backlog by customer group",
			"Open tickets now, per customer group.",
			"short",
			query(`sum by (customer_group) (servicedesk_customer_group_open_tickets{`+groupMatchers+`})`, "{{customer_group}}"),
		).Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))).
		WithPanel(barGauge("Oldest unanswered ticket by customer group",
			"Age of each group's oldest open ticket that has no first response yet.",
			"s",
			instantQuery(`sort_desc(max by (customer_group) (servicedesk_customer_group_oldest_awaiting_first_response_seconds{`+groupMatchers+`}))`, "{{customer_group}}"),
		)).
		WithRow(dashboard.NewRowBuilder("How fast and how well")).
		WithPanel(barGauge("First response p90 by customer group (selected range)",
			"Nine in ten of each group's tickets first answered in the selected range got their answer within this time.",
			"s",
			instantQuery(`sort_desc(histogram_quantile(0.9, sum by (customer_group, le) (increase(servicedesk_customer_group_first_response_seconds_bucket{`+groupMatchers+`}[$__range]))))`, "{{customer_group}}"),
		)).
		WithPanel(timeSeries("First response p90 by customer group (trailing 7 days)",
			"First-response p90 over the trailing 7 days per group, from the recording rule the ServiceDeskCustomerGroupWaitsLonger alert compares with its desk's.",
			"s",
			query(`histogram_quantile(0.9, sum by (customer_group, le) (desk_customer_group:servicedesk_customer_group_first_response_seconds_bucket:rate7d{`+groupMatchers+`}))`, "{{customer_group}}"),
		)).
		WithPanel(barGauge("Reopen ratio by customer group (selected range)",
			"Reopened tickets per resolved ticket in the selected range, per group: how often the first fix did not hold.",
			"percentunit",
			instantQuery(`sort_desc(`+perGroup("servicedesk_customer_group_tickets_reopened_total", "servicedesk_customer_group_tickets_resolved_total")+`)`, "{{customer_group}}"),
		)).
		WithPanel(barGauge("Share of resolved tickets rated (selected range)",
			"Ratings given per ticket resolved in the selected range, per group: an average of few ratings from a group that seldom rates says little.",
			"percentunit",
			instantQuery(`sort_desc(`+perGroup("servicedesk_customer_group_satisfaction_rating_count", "servicedesk_customer_group_tickets_resolved_total")+`)`, "{{customer_group}}"),
		).Max(1)).
		WithRow(dashboard.NewRowBuilder("Satisfaction")).
		WithPanel(barGauge("Average rating by customer group (selected range)",
			"Mean rating (1 = very unhappy, 5 = very happy) of the ratings each group gave in the selected range.",
			"short",
			instantQuery(`sort(`+perGroup("servicedesk_customer_group_satisfaction_rating_sum", "servicedesk_customer_group_satisfaction_rating_count")+`)`, "{{customer_group}}"),
		).Min(1).Max(5).Decimals(2)).
		WithPanel(timeSeries("Average rating by customer group (trailing 7 days)",
			"Mean rating over the trailing 7 days per group, from the recording rules behind the ServiceDeskCustomerGroupDissatisfied alert.",
			"short",
			query(`sum by (customer_group) (desk_customer_group:servicedesk_customer_group_satisfaction_rating_sum:rate7d{`+groupMatchers+`}) / sum by (customer_group) (desk_customer_group:servicedesk_customer_group_satisfaction_rating_count:rate7d{`+groupMatchers+`})`, "{{customer_group}}"),
		).Min(1).Max(5)).
		WithPanel(tablePanel("Rating distribution by customer group (selected range)",
			"Share of each group's ratings in the selected range that gave each score: a row per group, a column per score.",
			"percentunit",
			tableQuery(groupRatingShares()),
		).WithTransformation(dashboard.DataTransformerConfig{Id: "groupingToMatrix", Options: map[string]any{
			"columnField": "rating", "rowField": "customer_group", "valueField": "Value", "emptyValue": "zero",
		}})).
		WithPanel(tablePanel("Least satisfied customer groups (trailing 7 days)",
			"The five groups with the lowest average rating over the trailing 7 days, per desk, among those that gave at least "+ratingsForTrust+" ratings in that time; the alert ServiceDeskCustomerGroupDissatisfied wants 10.",
			"short",
			tableQuery(leastSatisfied),
			tableQuery(`desk_customer_group:servicedesk_customer_group_satisfaction_rating_count:rate7d{`+groupMatchers+`} * 604800 and on (job, instance, source, desk, customer_group) `+leastSatisfied),
		).Decimals(2).
			WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]bool{"Time": true, "job": true, "instance": true},
				"renameByName":  map[string]string{"Value #A": "Average rating", "Value #B": "Ratings in 7 days"},
			}}).
			SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Average rating")})).
		WithRow(dashboard.NewRowBuilder("Teams")).
		WithPanel(teamByGroup("Average rating by team and customer group (selected range)",
			"Mean rating each serving team got from each customer group in the selected range: a row per team, a column per group, empty where the team served the group no rated ticket.",
			"short",
			`sum by (team, customer_group) (increase(servicedesk_team_customer_group_satisfaction_rating_sum{`+crossMatchers+`}[$__range])) / sum by (team, customer_group) (increase(servicedesk_team_customer_group_satisfaction_rating_count{`+crossMatchers+`}[$__range]))`,
		).Decimals(2)).
		WithPanel(teamByGroup("First response p90 by team and customer group (selected range)",
			"Nine in ten of the tickets each team first answered for each group in the selected range got their answer within this time.",
			"s",
			`histogram_quantile(0.9, sum by (team, customer_group, le) (increase(servicedesk_team_customer_group_first_response_seconds_bucket{`+crossMatchers+`}[$__range])))`,
		)).
		WithPanel(timeSeries("Average rating by team",
			"Mean rating per serving team for the ratings given in each window (at least an hour): which team is behind a change in satisfaction.",
			"short",
			query(`sum by (team) (rate(servicedesk_team_satisfaction_rating_sum{`+teamMatchers+`}[$__rate_interval])) / sum by (team) (rate(servicedesk_team_satisfaction_rating_count{`+teamMatchers+`}[$__rate_interval]))`, "{{team}}"),
		).Interval(dayScaleInterval).Min(1).Max(5)).
		WithPanel(timeSeries("Open tickets by team",
			"Open tickets now, per serving team; none means the ticket is routed to no team.",
			"short",
			query(`sum by (team) (servicedesk_team_open_tickets{`+teamMatchers+`})`, "{{team}}"),
		).Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)))
}
