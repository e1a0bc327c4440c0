package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

func healthDashboard() *dashboard.DashboardBuilder {
	return newDashboard("servicedesk-exporter-health", "Service desk / Exporter health",
		"Is the exporter polling its sources successfully, how fast, and how hard does it press the ticketing API.",
		"now-24h", []string{"exporter"}).
		Variables(sourceVariables()).
		Refresh("1m").
		WithRow(dashboard.NewRowBuilder("Polling")).
		WithPanel(timeSeries("Source up",
			"1 when the last poll of the source succeeded, 0 when it failed.",
			"bool",
			query(`servicedesk_up{`+sourceMatchers+`}`, "{{instance}} · {{source}}"),
		).Max(1)).
		WithPanel(timeSeries("Time since last successful poll",
			"Seconds since each source was last polled successfully. It should stay below a few poll intervals; the ServiceDeskPollStale alert fires past its threshold.",
			"s",
			query(`time() - servicedesk_last_successful_poll_timestamp_seconds{`+sourceMatchers+`}`, "{{instance}} · {{source}}"),
		)).
		WithPanel(timeSeries("Poll duration",
			"How long the most recent poll of each source took. A poll that approaches the poll interval means the source cannot keep up.",
			"s",
			query(`servicedesk_poll_duration_seconds{`+sourceMatchers+`}`, "{{instance}} · {{source}}"),
		)).
		WithPanel(timeSeries("Poll errors",
			"Failed polls per second, per source.",
			"ops",
			query(`sum by (instance, source) (rate(servicedesk_poll_errors_total{`+sourceMatchers+`}[$__rate_interval]))`, "{{instance}} · {{source}}"),
		)).
		WithRow(dashboard.NewRowBuilder("Ticketing API (Jira sources)")).
		WithPanel(timeSeries("API requests by code",
			"Requests the exporter sent to the Jira API per second, by endpoint and HTTP status code. Only Jira sources export this.",
			"reqps",
			query(`sum by (source, endpoint, code) (rate(servicedesk_api_requests_total{`+sourceMatchers+`}[$__rate_interval]))`, "{{source}} · {{endpoint}} · {{code}}"),
		)).
		WithPanel(timeSeries("API responses rate limited",
			"Jira API responses per second that told the exporter to back off (HTTP 429, or 503 with Retry-After). Sustained values mean polls fall behind; see the ServiceDeskAPIRateLimited alert. Only Jira sources export this.",
			"reqps",
			query(`sum by (source) (rate(servicedesk_api_rate_limited_total{`+sourceMatchers+`}[$__rate_interval]))`, "{{source}}"),
		)).
		WithRow(dashboard.NewRowBuilder("Tracked tickets")).
		WithPanel(timeSeries("Tickets tracked",
			"Tickets the exporter holds in its store per source.",
			"short",
			query(`servicedesk_tickets_tracked{`+sourceMatchers+`}`, "{{instance}} · {{source}}"),
		)).
		WithPanel(timeSeries("Initial sync progress",
			"Share of the configured history the first sync of each source has loaded; 100% once it is complete.",
			"percentunit",
			query(`servicedesk_initial_sync_progress_ratio{`+sourceMatchers+`}`, "{{instance}} · {{source}}"),
		).Max(1)).
		WithPanel(timeSeries("Tickets skipped",
			"Tickets per second the exporter could not map (for example malformed data) and left out of the metrics.",
			"ops",
			query(`sum by (instance, source) (rate(servicedesk_tickets_skipped_total{`+sourceMatchers+`}[$__rate_interval]))`, "{{instance}} · {{source}}"),
		)).
		WithRow(dashboard.NewRowBuilder("Process")).
		WithPanel(statPanel("Last config reload successful",
			"Whether the exporter accepted its configuration file at the last (re)load.",
			"bool",
			instantQuery(`servicedesk_config_last_reload_successful{`+instanceMatchers+`}`, "{{instance}}"))).
		WithPanel(statPanel("Last successful config reload",
			"When the configuration was last loaded successfully.",
			"dateTimeFromNow",
			instantQuery(`servicedesk_config_last_reload_success_timestamp_seconds{`+instanceMatchers+`} * 1000`, "{{instance}}"))).
		WithPanel(statPanel("Exporter instances",
			"Running exporter processes in the selection, from servicedesk_exporter_build_info; hover a value for its version.",
			"short",
			instantQuery(`count(servicedesk_exporter_build_info{`+instanceMatchers+`})`, "instances")))
}
