package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	. "github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/jira"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// types are the built-in source types, the ones the binary loads with.
var types = builtin.Registry()

// Each invalid fixture holds one mistake, and the whole report is
// compared verbatim: one line per problem. The fixtures whose report has
// several lines show that every problem is reported, in file order, and
// that one mistake is not reported twice.
func TestLoadInvalid(t *testing.T) {
	cases := []struct {
		file string
		want string
	}{
		{"invalid-bearer-token-file.yml", `testdata/invalid-bearer-token-file.yml:6: source "jira": http_client.bearer_token_file: cannot read "testdata/secrets/missing-token": no such file or directory`},
		{"invalid-bucket-duration.yml", `testdata/invalid-bucket-duration.yml:4: metrics.resolution_buckets[1]: invalid duration "1 day" (want a number and a unit: ms, s, m, h, d, w or y, e.g. 30s, 2h, 30d)`},
		{"invalid-buckets-empty.yml", `testdata/invalid-buckets-empty.yml:2: metrics.resolution_buckets must list at least one bucket`},
		{"invalid-buckets-order.yml", `testdata/invalid-buckets-order.yml:2: metrics.first_response_buckets must be strictly increasing: 30m follows 1h`},
		{"invalid-credentials-file.yml", `testdata/invalid-credentials-file.yml:8: source "jira": http_client.authorization.credentials_file: cannot read "testdata/secrets": is a directory`},
		{"invalid-demo-section-on-jira.yml", `testdata/invalid-demo-section-on-jira.yml:4: source "jira": demo: does not apply to type jira; remove it or set type: demo`},
		{"invalid-demo-several.yml", lines(
			`testdata/invalid-demo-several.yml:5: source "demo": demo.seed must be an integer, got "x"`,
			`testdata/invalid-demo-several.yml:6: source "demo": demo.desks[1] must not be empty`,
			`testdata/invalid-demo-several.yml:7: source "demo": demo.tickets_per_day must be a positive number, got -1`,
			`testdata/invalid-demo-several.yml:8: unknown key "colour" in demo of source "demo"`,
		)},
		{"invalid-desks-duplicate.yml", `testdata/invalid-desks-duplicate.yml:5: source "demo": demo.desks: duplicate desk "IT"`},
		{"invalid-desks-empty.yml", `testdata/invalid-desks-empty.yml:4: source "demo": demo.desks must list at least one desk`},
		{"invalid-duplicate-key.yml", `testdata/invalid-duplicate-key.yml:4: key "name" appears twice in the same mapping (first on line 2)`},
		{"invalid-duplicate-name.yml", `testdata/invalid-duplicate-name.yml:4: sources[1]: duplicate source name "demo" (first used on line 2)`},
		{"invalid-duration-unit.yml", `testdata/invalid-duration-unit.yml:4: source "demo": poll_interval: invalid duration "2x" (want a number and a unit: ms, s, m, h, d, w or y, e.g. 30s, 2h, 30d)`},
		{"invalid-empty-name.yml", `testdata/invalid-empty-name.yml:2: sources[0]: name must not be empty`},
		{"invalid-empty-sources.yml", `testdata/invalid-empty-sources.yml:3: no sources configured: add at least one under sources:`},
		{"invalid-segments-on-demo.yml", `testdata/invalid-segments-on-demo.yml:4: source "demo": segments: does not apply to type demo; remove it or set type: jira or rt`},
		{"invalid-http-client-on-demo.yml", `testdata/invalid-http-client-on-demo.yml:4: source "demo": http_client: does not apply to type demo; remove it or set type: jira or rt`},
		{"invalid-http-client-type.yml", `testdata/invalid-http-client-type.yml:7: source "jira": http_client.follow_redirects must be true or false, got "maybe"`},
		{"invalid-http-client-validate.yml", `testdata/invalid-http-client-validate.yml:5: source "jira": http_client: at most one of basic_auth password, password_file & password_ref must be configured`},
		{"invalid-jira-duplicate-key.yml", `testdata/invalid-jira-duplicate-key.yml:7: key "url" appears twice in the same mapping (first on line 5)`},
		{"invalid-jira-missing-url.yml", `testdata/invalid-jira-missing-url.yml:4: source "jira": jira.url is required`},
		{"invalid-jira-no-credentials.yml", `testdata/invalid-jira-no-credentials.yml:2: source "jira": jira needs credentials: set http_client.basic_auth (Cloud: email and API token) or http_client.authorization (Data Center: personal access token)`},
		{"invalid-jira-section-on-demo.yml", `testdata/invalid-jira-section-on-demo.yml:4: source "demo": jira: does not apply to type demo; remove it or set type: jira`},
		{"invalid-jira-section-typo.yml", `testdata/invalid-jira-section-typo.yml:4: unknown key "jria" in source "jira" (did you mean "jira"?)`},
		{"invalid-jira-timeout.yml", `testdata/invalid-jira-timeout.yml:7: source "jira": jira.timeout: unknown unit "x" in duration "30x"`},
		{"invalid-jira-type.yml", `testdata/invalid-jira-type.yml:7: source "jira": jira.page_size must be an integer, got "fifty"`},
		{"invalid-jira-unknown-key.yml", `testdata/invalid-jira-unknown-key.yml:7: unknown key "page_sise" in jira of source "jira" (did you mean "page_size"?)`},
		{"invalid-jira-without-section.yml", `testdata/invalid-jira-without-section.yml:2: source "jira": type jira needs a jira: section with url and jql (see docs/jira.md)`},
		{"invalid-label-value-limit-type.yml", `testdata/invalid-label-value-limit-type.yml:2: metrics.label_value_limit must be an integer, got "lots"`},
		{"invalid-label-value-limit.yml", `testdata/invalid-label-value-limit.yml:2: metrics.label_value_limit must be at least 1, got 0`},
		{"invalid-sla-at-risk-ratio.yml", `testdata/invalid-sla-at-risk-ratio.yml:2: metrics.sla_at_risk_ratio must be above 0 and below 1 (a share of the goal, e.g. 0.75), got 1`},
		{"invalid-sla-at-risk-ratio-type.yml", `testdata/invalid-sla-at-risk-ratio-type.yml:2: metrics.sla_at_risk_ratio must be a number between 0 and 1, got "75%"`},
		{"invalid-lookback-and-since.yml", `testdata/invalid-lookback-and-since.yml:5: source "demo": set lookback or since, not both`},
		{"invalid-merged-password-file.yml", `testdata/invalid-merged-password-file.yml:7: source "it": http_client.basic_auth.password_file: cannot read "testdata/secrets/missing-token": no such file or directory`},
		{"invalid-missing-name.yml", `testdata/invalid-missing-name.yml:2: sources[0]: name is required`},
		{"invalid-missing-type.yml", `testdata/invalid-missing-type.yml:2: source "demo": type is required (demo, jira or rt)`},
		{"invalid-multiple.yml", lines(
			`testdata/invalid-multiple.yml:3: store.path must not be empty`,
			`testdata/invalid-multiple.yml:5: metrics.label_value_limit must be at least 1, got 0`,
			`testdata/invalid-multiple.yml:6: metrics.resolution_buckets must be strictly increasing: 30m follows 1h`,
			`testdata/invalid-multiple.yml:10: source "first": poll_interval must be positive, got 0s`,
			`testdata/invalid-multiple.yml:11: source "first": demo.desks: duplicate desk "IT"`,
			`testdata/invalid-multiple.yml:11: source "first": demo.tickets_per_day must be at most 5000, got 6000`,
			`testdata/invalid-multiple.yml:13: source "second": unknown type "zendesk" (want demo, jira or rt)`,
			`testdata/invalid-multiple.yml:14: source "second": lookback: invalid duration "3 days" (want a number and a unit: ms, s, m, h, d, w or y, e.g. 30s, 2h, 30d)`,
			`testdata/invalid-multiple.yml:15: sources[2]: duplicate source name "first" (first used on line 8)`,
			`testdata/invalid-multiple.yml:15: sources[2]: jira needs credentials: set http_client.basic_auth (Cloud: email and API token) or http_client.authorization (Data Center: personal access token)`,
			`testdata/invalid-multiple.yml:17: sources[2]: jira.jql is required`,
			`testdata/invalid-multiple.yml:18: sources[3] must be a mapping, got a string`,
			`testdata/invalid-multiple.yml:20: unknown key "tpye" in source "fourth" (did you mean "type"?)`,
			`testdata/invalid-multiple.yml:21: unknown key "pol_interval" in source "fourth" (did you mean "poll_interval"?)`,
		)},
		{"invalid-name-shape.yml", `testdata/invalid-name-shape.yml:2: sources[0]: name "it desk" may only contain letters, digits, '_', '.' and '-'`},
		{"invalid-name-type.yml", `testdata/invalid-name-type.yml:2: sources[0]: name must be a string, got a list`},
		{"invalid-negative-lookback.yml", `testdata/invalid-negative-lookback.yml:4: source "demo": lookback must be positive, got -1d`},
		{"invalid-no-sources.yml", `testdata/invalid-no-sources.yml:1: no sources configured: add at least one under sources:`},
		{"invalid-password-file.yml", `testdata/invalid-password-file.yml:8: source "jira": http_client.basic_auth.password_file: cannot read "testdata/secrets/missing-token": no such file or directory`},
		{"invalid-secret-type.yml", `testdata/invalid-secret-type.yml:7: source "jira": http_client.authorization.credentials must be a string, got a list`},
		{"invalid-seed-type.yml", `testdata/invalid-seed-type.yml:5: source "demo": demo.seed must be an integer, got "1.5"`},
		{"invalid-segments-field.yml", `testdata/invalid-segments-field.yml:7: source "desk": segments.team.field must not be empty`},
		{"invalid-segments-missing-field.yml", lines(
			`testdata/invalid-segments-missing-field.yml:7: source "desk": segments.customer_group.field is required: the name of the source field to read`,
			`testdata/invalid-segments-missing-field.yml:8: unknown key "name" in segments.customer_group of source "desk"`,
		)},
		{"invalid-segments-unknown-key.yml", `testdata/invalid-segments-unknown-key.yml:7: unknown key "teams" in segments of source "desk" (did you mean "team"?)`},
		{"invalid-since-date.yml", `testdata/invalid-since-date.yml:4: source "demo": since must be a date like 2026-01-31, got "2026-13-01"`},
		{"invalid-sla-duplicate-name.yml", `testdata/invalid-sla-duplicate-name.yml:6: source "desk": slas[1]: duplicate SLA name "resolution" (first used on line 5)`},
		{"invalid-sla-goal.yml", `testdata/invalid-sla-goal.yml:9: source "desk": slas[0].goals["P2 - High"] must be positive, got 0s`},
		{"invalid-sla-holiday.yml", lines(
			`testdata/invalid-sla-holiday.yml:10: source "desk": slas[0].calendar.holidays[1] must be a date like 2026-01-31, got "2026-02-30"`,
			`testdata/invalid-sla-holiday.yml:10: source "desk": slas[0].calendar.holidays: duplicate date 2026-12-25`,
		)},
		{"invalid-sla-missing-name.yml", `testdata/invalid-sla-missing-name.yml:5: source "desk": slas[0].name is required`},
		{"invalid-sla-missing-stop.yml", `testdata/invalid-sla-missing-stop.yml:5: source "desk": slas[0].stop is required (first_response or resolution)`},
		{"invalid-sla-missing-time-zone.yml", `testdata/invalid-sla-missing-time-zone.yml:8: source "desk": slas[0].calendar.time_zone is required, e.g. Europe/Berlin or UTC`},
		{"invalid-sla-name-shape.yml", `testdata/invalid-sla-name-shape.yml:5: source "desk": slas[0].name " Time to resolution" must be at most 100 printable characters, without spaces at either end`},
		{"invalid-sla-no-goals.yml", `testdata/invalid-sla-no-goals.yml:7: source "desk": slas[0] needs goals (per priority), a default_goal or both`},
		{"invalid-sla-pause-duplicate.yml", `testdata/invalid-sla-pause-duplicate.yml:8: source "desk": slas[0].pause_statuses: duplicate status "waiting for customer"`},
		{"invalid-sla-stop.yml", `testdata/invalid-sla-stop.yml:6: source "desk": slas[0].stop must be first_response or resolution, got "resolved"`},
		{"invalid-sla-time-zone.yml", `testdata/invalid-sla-time-zone.yml:8: source "desk": slas[0].calendar.time_zone: unknown time zone "Mars/Olympus_Mons" (want an IANA name such as Europe/Berlin, or UTC)`},
		{"invalid-sla-unknown-key.yml", `testdata/invalid-sla-unknown-key.yml:6: unknown key "stops" in slas[0] of source "desk" (did you mean "stop"?)`},
		{"invalid-sla-working-days.yml", lines(
			`testdata/invalid-sla-working-days.yml:10: source "desk": slas[0].calendar.working_days[1]: unknown day "funday" (want mon, tue, wed, thu, fri, sat or sun)`,
			`testdata/invalid-sla-working-days.yml:10: source "desk": slas[0].calendar.working_days: duplicate day "mon"`,
		)},
		{"invalid-sla-working-hours-shape.yml", `testdata/invalid-sla-working-hours-shape.yml:10: source "desk": slas[0].calendar.working_hours must look like 09:00-17:00 (24-hour clock), got "9-5"`},
		{"invalid-sla-working-hours.yml", `testdata/invalid-sla-working-hours.yml:10: source "desk": slas[0].calendar.working_hours: the end 09:00 must be after the start 17:00`},
		{"invalid-slas-type.yml", `testdata/invalid-slas-type.yml:4: source "desk": slas must be a list, got a mapping`},
		{"invalid-source-not-mapping.yml", `testdata/invalid-source-not-mapping.yml:2: sources[0] must be a mapping, got a string`},
		{"invalid-sources-type.yml", `testdata/invalid-sources-type.yml:1: sources must be a list, got a string`},
		{"invalid-store-path-empty.yml", `testdata/invalid-store-path-empty.yml:2: store.path must not be empty`},
		{"invalid-store-type.yml", `testdata/invalid-store-type.yml:1: store must be a mapping, got a string`},
		{"invalid-syntax-dash.yml", `testdata/invalid-syntax-dash.yml:2: invalid YAML: mapping values are not allowed in this context (put a space after '-' to start a list item)`},
		{"invalid-syntax-missing-colon-key.yml", `testdata/invalid-syntax-missing-colon-key.yml:3: invalid YAML: could not find expected ':' (is the ':' after a key missing?)`},
		{"invalid-syntax-missing-colon.yml", `testdata/invalid-syntax-missing-colon.yml:2: invalid YAML: mapping values are not allowed in this context (is the ':' after a key missing?)`},
		{"invalid-syntax-tab.yml", `testdata/invalid-syntax-tab.yml:3: invalid YAML: found a tab character that violates indentation (indent with spaces, not tabs)`},
		{"invalid-syntax-unclosed-flow.yml", `testdata/invalid-syntax-unclosed-flow.yml:4: invalid YAML: did not find expected ',' or ']' (a [ or { is not closed)`},
		{"invalid-syntax-unclosed-quote.yml", `testdata/invalid-syntax-unclosed-quote.yml:2: invalid YAML: found unexpected end of stream (a quoted string is not closed)`},
		{"invalid-syntax.yml", `testdata/invalid-syntax.yml:4: invalid YAML: did not find expected '-' indicator (check the indentation of this line)`},
		{"invalid-tickets-per-day-cap.yml", `testdata/invalid-tickets-per-day-cap.yml:4: source "demo": demo.tickets_per_day must be at most 5000, got 5001`},
		{"invalid-tickets-per-day-type.yml", `testdata/invalid-tickets-per-day-type.yml:4: source "demo": demo.tickets_per_day must be a number, got "many"`},
		{"invalid-tickets-per-day-zero.yml", `testdata/invalid-tickets-per-day-zero.yml:4: source "demo": demo.tickets_per_day must be a positive number, got 0`},
		{"invalid-tls-ca-file.yml", `testdata/invalid-tls-ca-file.yml:8: source "jira": http_client.tls_config.ca_file: cannot read "testdata/secrets/missing-ca.pem": no such file or directory`},
		{"invalid-top-level-list.yml", `testdata/invalid-top-level-list.yml:1: the file must be a mapping with the keys store, metrics and sources, got a list`},
		{"invalid-two-documents.yml", `testdata/invalid-two-documents.yml:4: only one YAML document is allowed, found a second one`},
		{"invalid-type-typo.yml", `testdata/invalid-type-typo.yml:3: unknown key "tpye" in source "demo" (did you mean "type"?)`},
		{"invalid-unknown-key-demo.yml", `testdata/invalid-unknown-key-demo.yml:4: unknown key "desk" in demo of source "demo" (did you mean "desks"?)`},
		{"invalid-unknown-key-http-client.yml", `testdata/invalid-unknown-key-http-client.yml:8: unknown key "pasword_file" in http_client.basic_auth of source "jira" (did you mean "password_file"?)`},
		{"invalid-unknown-key-tls.yml", `testdata/invalid-unknown-key-tls.yml:8: unknown key "insecure_skip_verfy" in http_client.tls_config of source "jira" (did you mean "insecure_skip_verify"?)`},
		{"invalid-unknown-key.yml", `testdata/invalid-unknown-key.yml:7: unknown key "pol_interval" in source "demo" (did you mean "poll_interval"?)`},
		{"invalid-unknown-top-key.yml", `testdata/invalid-unknown-top-key.yml:3: unknown key "source" at the top level (did you mean "sources"?)`},
		{"invalid-unknown-type.yml", `testdata/invalid-unknown-type.yml:3: source "desk": unknown type "zendesk" (want demo, jira or rt)`},
		{"invalid-zero-poll-interval.yml", `testdata/invalid-zero-poll-interval.yml:4: source "demo": poll_interval must be positive, got 0s`},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.file] = true
		t.Run(c.file, func(t *testing.T) {
			cfg, err := Load(filepath.Join("testdata", c.file), types)
			if err == nil {
				t.Fatalf("Load succeeded, want error %q; got config:\n%s", c.want, cfg)
			}
			if err.Error() != c.want {
				t.Errorf("error mismatch\n got: %s\nwant: %s", err, c.want)
			}
		})
	}
	fixtures, err := filepath.Glob("testdata/invalid-*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		if !covered[filepath.Base(f)] {
			t.Errorf("fixture %s has no case in TestLoadInvalid", f)
		}
	}
}

// lines is the report of several problems.
func lines(problems ...string) string { return strings.Join(problems, "\n") }

func TestLoadDefaults(t *testing.T) {
	cases := []struct {
		file string
		want Config
	}{
		{"testdata/valid-minimal.yml", defaultDemoConfig()},
		// The shipped config only spells out the defaults.
		{"../config.yaml", defaultDemoConfig()},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			cfg, err := Load(c.file, types)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*cfg, c.want) {
				t.Errorf("got\n%s\nwant\n%s", cfg, &c.want)
			}
		})
	}
}

func defaultDemoConfig() Config {
	dc := demo.Config{Seed: 1, Desks: []string{"IT", "HR", "FAC"}, TicketsPerDay: 150}
	return Config{
		Store: StoreConfig{Path: "data/servicedesk.db"},
		Metrics: MetricsConfig{
			LabelValueLimit:      100,
			FirstResponseBuckets: parseDurations("5m", "15m", "30m", "1h", "2h", "4h", "8h", "1d", "2d", "3d", "1w"),
			ResolutionBuckets:    parseDurations("1h", "4h", "8h", "1d", "2d", "3d", "1w", "2w", "4w"),
			SLAAtRiskRatio:       0.75,
		},
		Sources: []Source{{
			Name: "demo", Type: "demo",
			PollInterval: parseDurations("30s")[0],
			Lookback:     parseDurations("30d")[0],
			Settings:     dc,
		}},
	}
}

func parseDurations(values ...string) []model.Duration {
	out := make([]model.Duration, len(values))
	for i, v := range values {
		d, err := model.ParseDuration(v)
		if err != nil {
			panic(err)
		}
		out[i] = d
	}
	return out
}

func TestLoadFull(t *testing.T) {
	cfg, err := Load("testdata/valid-full.yml", types)
	if err != nil {
		t.Fatal(err)
	}
	token := filepath.Join("testdata", "secrets", "jira-token")
	checks := []struct {
		name      string
		got, want any
	}{
		{"store.path", cfg.Store.Path, "/var/lib/servicedesk/store.db"},
		{"label_value_limit", cfg.Metrics.LabelValueLimit, 50},
		{"first_response_buckets", cfg.Metrics.FirstResponseBuckets, parseDurations("10m", "1h", "1d")},
		{"resolution_buckets", cfg.Metrics.ResolutionBuckets, parseDurations("1h", "1d", "1w")},
		{"sla_at_risk_ratio", cfg.Metrics.SLAAtRiskRatio, 0.8},
		{"source names", sourceNames(cfg), []string{"demo.small", "cloud", "cloud_hr", "datacenter"}},
		{"demo poll_interval", cfg.Sources[0].PollInterval, parseDurations("5s")[0]},
		{"demo since", cfg.Sources[0].Since.Time, time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)},
		{"demo lookback unset with since", cfg.Sources[0].Lookback, model.Duration(0)},
		{"demo section", cfg.Sources[0].Settings, demo.Config{Seed: -7, Desks: []string{"IT"}, TicketsPerDay: 2.5}},
		{"jira default poll_interval", cfg.Sources[1].PollInterval, parseDurations("2m")[0]},
		{"jira lookback", cfg.Sources[1].Lookback, parseDurations("2w")[0]},
		{"jira url", jiraSettings(t, cfg.Sources[1]).URL, "https://example.atlassian.net"},
		{"password_file relative to the config file", cfg.Sources[1].HTTPClient.BasicAuth.PasswordFile, token},
		{"tls min_version", cfg.Sources[1].HTTPClient.TLSConfig.MinVersion, promconfig.TLSVersions["TLS12"]},
		{"proxy_url", cfg.Sources[1].HTTPClient.ProxyURL.String(), "http://proxy.example.com:3128"},
		{"follow_redirects default", cfg.Sources[1].HTTPClient.FollowRedirects, true},
		{"anchor shares http_client", cfg.Sources[2].HTTPClient.BasicAuth.PasswordFile, token},
		{"explicit poll_interval", cfg.Sources[2].PollInterval, parseDurations("5m")[0]},
		{"default lookback", cfg.Sources[2].Lookback, parseDurations("30d")[0]},
		{"jira deployment", jiraSettings(t, cfg.Sources[3]).Deployment, jira.DeploymentDataCenter},
		{"credentials_file", cfg.Sources[3].HTTPClient.Authorization.CredentialsFile, token},
		{"segments", cfg.Sources[1].Segments, Segments{CustomerGroup: &SegmentField{Field: "Organizations"}, Team: &SegmentField{Field: "Team"}}},
		{"no segments", cfg.Sources[0].Segments, Segments{}},
		{"sla count", len(cfg.Sources[0].SLAs), 2},
		{"no slas", cfg.Sources[1].SLAs, []ticket.SLAPolicy(nil)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if t.Failed() {
		return
	}

	hours := func(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }
	weekdays := func(days ...time.Weekday) (w [7]bool) {
		for _, d := range days {
			w[d] = true
		}
		return w
	}
	wantSLAs := []struct {
		policy ticket.SLAPolicy
		zone   string
	}{
		{ticket.SLAPolicy{
			Name: "Time to first response", Stop: ticket.StopFirstResponse,
			Goals: map[string]time.Duration{"P1": hours(1), "P2 - High": hours(4)}, DefaultGoal: hours(8),
			PauseStatuses: []string{"Waiting for customer"},
			Calendar: &ticket.Calendar{
				WorkingDays: weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday),
				DayStart:    hours(9), DayEnd: hours(17),
				Holidays: []ticket.CivilDate{{Year: 2026, Month: time.December, Day: 25}},
			},
		}, "Europe/Berlin"},
		{ticket.SLAPolicy{
			Name: "Weekend resolution", Stop: ticket.StopResolution, DefaultGoal: hours(48),
			Calendar: &ticket.Calendar{WorkingDays: weekdays(time.Saturday, time.Sunday), DayStart: hours(8), DayEnd: hours(24)},
		}, "UTC"},
	}
	for i, want := range wantSLAs {
		got := cfg.Sources[0].SLAs[i]
		if got.Calendar == nil || got.Calendar.Location == nil || got.Calendar.Location.String() != want.zone {
			t.Errorf("slas[%d]: calendar %+v, want time zone %s", i, got.Calendar, want.zone)
			continue
		}
		gotCalendar := *got.Calendar
		gotCalendar.Location = nil
		got.Calendar = &gotCalendar
		if !reflect.DeepEqual(got, want.policy) {
			t.Errorf("slas[%d]:\n got %+v\nwant %+v", i, got, want.policy)
		}
	}
}

// YAML merge keys are honoured by the decoder, and the checks see the merged keys too.
func TestLoadMergeKeys(t *testing.T) {
	cfg, err := Load("testdata/valid-merge-keys.yml", types)
	if err != nil {
		t.Fatal(err)
	}
	hr := cfg.Sources[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"names", sourceNames(cfg), []string{"it", "hr"}},
		{"own jira section", jiraSettings(t, hr).JQL, "project = HR"},
		{"merged lookback", hr.Lookback, parseDurations("90d")[0]},
		{"merged http_client", hr.HTTPClient.BasicAuth.PasswordFile, filepath.Join("testdata", "secrets", "jira-token")},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func jiraSettings(t *testing.T, sc Source) jira.Config {
	t.Helper()
	c, ok := sc.Settings.(jira.Config)
	if !ok {
		t.Fatalf("source %s: settings are %T, want jira.Config", sc.Name, sc.Settings)
	}
	return c
}

func sourceNames(cfg *Config) []string {
	var names []string
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	return names
}

func TestHorizon(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)
	cases := []struct {
		name   string
		source Source
		want   time.Time
	}{
		{"lookback", Source{Lookback: parseDurations("30d")[0]}, time.Date(2026, 2, 8, 12, 30, 0, 0, time.UTC)},
		{"since wins", Source{Since: Date{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got := c.source.Horizon(now); !got.Equal(c.want) {
			t.Errorf("%s: Horizon = %s, want %s", c.name, got, c.want)
		}
	}
}

// Secrets must not leak through String() nor through any error message.
func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "hunter2-secret-value"
	jira := "sources:\n  - name: jira\n    type: jira\n    jira: { url: https://example.atlassian.net, jql: project = IT }\n    http_client:\n"
	cases := []struct {
		name    string
		yaml    string
		wantErr bool
	}{
		{"basic_auth password", jira + "      basic_auth: { username: bot, password: " + secret + " }\n", false},
		{"authorization credentials", jira + "      authorization: { credentials: " + secret + " }\n", false},
		{"legacy bearer_token", jira + "      bearer_token: " + secret + "\n", false},
		{"oauth2 client_secret", jira + "      oauth2: { client_id: id, client_secret: " + secret + ", token_url: https://auth.example.com/token }\n", false},
		{"password next to an unknown key", jira + "      basic_auth: { username: bot, password: " + secret + ", pasword: x }\n", true},
		{"password and password_file", jira + "      basic_auth: { username: bot, password: " + secret + ", password_file: secrets/jira-token }\n", true},
		{"password of the wrong type", jira + "      basic_auth: { username: bot, password: [" + secret + "] }\n", true},
		{"credentials in an unparsable proxy_url", jira + "      basic_auth: { username: bot, password_file: secrets/jira-token }\n      proxy_url: \"http://bot:" + secret + " x@proxy:3128\"\n", true},
		{"secret as a scalar where a mapping belongs", jira + "      basic_auth: " + secret + "\n", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.yaml), "testdata/inline.yml", types)
			if (err != nil) != c.wantErr {
				t.Fatalf("error = %v, want error: %v", err, c.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:7]) {
					t.Errorf("error leaks the secret: %s", err)
				}
				return
			}
			printed := cfg.String()
			if strings.Contains(printed, secret) {
				t.Errorf("String() leaks the secret:\n%s", printed)
			}
			if !strings.Contains(printed, "<secret>") {
				t.Errorf("String() shows no <secret> placeholder:\n%s", printed)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite the String() golden files in testdata/string")

// stringFixtures are loaded by TestString and TestStringRoundTrip; each
// has its rendering in testdata/string/<name>.golden.
var stringFixtures = []string{"testdata/valid-minimal.yml", "testdata/valid-full.yml", "testdata/valid-merge-keys.yml", "../config.yaml"}

// TestString compares String() with the rendering a reviewer approved.
// After a change, run go test ./config -run TestString -update and review
// the diff of testdata/string: every key the fixture sets must appear with
// its value, defaults spelt out, and every secret as <secret>.
func TestString(t *testing.T) {
	for _, file := range stringFixtures {
		t.Run(file, func(t *testing.T) {
			cfg, err := Load(file, types)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "string", strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(cfg.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.String(); got != string(want) {
				t.Errorf("String() differs from %s:\n%s\nIf intended, run go test ./config -run TestString -update and review git diff %s: "+
					"every key the fixture sets with its value, defaults spelt out, every secret as <secret>.", golden, got, golden)
			}
		})
	}
}

// String() output is itself a valid config that loads to the same thing.
func TestStringRoundTrip(t *testing.T) {
	for _, file := range stringFixtures {
		t.Run(file, func(t *testing.T) {
			first, err := Load(file, types)
			if err != nil {
				t.Fatal(err)
			}
			// Paths in the rendering are resolved already, relative to
			// the working directory: the reparsed file sits there.
			second, err := Parse([]byte(first.String()), "reparsed.yml", types)
			if err != nil {
				t.Fatalf("reparsing String(): %v\n%s", err, first)
			}
			if got, want := second.String(), first.String(); got != want {
				t.Errorf("the reparsed config renders differently:\n%s\n---\n%s", got, want)
			}
			// Settings are compared through their rendering above: a list
			// left out reads back as an empty one.
			for _, cfg := range []*Config{first, second} {
				for i := range cfg.Sources {
					cfg.Sources[i].Settings = nil
				}
			}
			if !reflect.DeepEqual(first, second) {
				t.Errorf("round trip changed the config:\n%#v\n---\n%#v", first, second)
			}
		})
	}
}

// Every problem is its own error, for callers that list them.
func TestErrorsUnwrap(t *testing.T) {
	_, err := Load("testdata/invalid-multiple.yml", types)
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %T is not *config.Errors", err)
	}
	list := errs.Unwrap()
	if got, want := len(list), strings.Count(err.Error(), "\n")+1; got != want {
		t.Fatalf("%d errors, %d lines", got, want)
	}
	for i, line := range strings.Split(err.Error(), "\n") {
		if list[i].Error() != line {
			t.Errorf("error %d is %q, line %d is %q", i, list[i], i, line)
		}
	}
}

// docs/configuration.md lists the source types the registry has, in its order.
func TestDocsListTheRegisteredTypes(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^type: (.+)$`).FindSubmatch(doc)
	if m == nil {
		t.Fatal(`docs/configuration.md has no "type: ..." line in <source>`)
	}
	if got, want := string(m[1]), strings.Join(types.SourceTypeNames(), " | "); got != want {
		t.Errorf("docs/configuration.md says type: %s, the registry has %s", got, want)
	}
}

func TestParseNeedsTypes(t *testing.T) {
	if _, err := Parse([]byte("sources: []\n"), "x.yml", nil); err == nil {
		t.Fatal("Parse without source types succeeded")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yml", types)
	want := "testdata/does-not-exist.yml: cannot read the config file: no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

var errorLine = regexp.MustCompile(`^[^\n]+:[1-9][0-9]*: [^\n]+$`)

// FuzzParse checks that no input panics, every reported problem keeps the
// one-line "<file>:<line>: " shape, and whatever loads prints to a config
// that loads again.
func FuzzParse(f *testing.F) {
	fixtures, err := filepath.Glob("testdata/*.yml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range slices.Concat(fixtures, []string{"../config.yaml"}) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	file, err := filepath.Abs("testdata/fuzz.yml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, file, types)
		if err != nil {
			for line := range strings.SplitSeq(err.Error(), "\n") {
				if !errorLine.MatchString(line) || !strings.HasPrefix(line, file+":") {
					t.Fatalf("error line not in <file>:<line>: shape: %q in\n%s", line, err)
				}
			}
			return
		}
		if _, err := Parse([]byte(cfg.String()), file, types); err != nil {
			t.Fatalf("String() of a loaded config does not load: %v\n%s", err, cfg)
		}
	})
}

// DecodeStrict on its own, as a source type outside the loader sees it:
// every problem, each with the line it has in the file.
func TestDecodeStrict(t *testing.T) {
	type inner struct {
		Limit int `yaml:"limit"`
	}
	type section struct {
		Name     string         `yaml:"name"`
		Every    model.Duration `yaml:"every"`
		Inner    inner          `yaml:"inner"`
		Items    []inner        `yaml:"items"`
		Untagged string
	}
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"valid, through an alias and a merge", "defaults: &d { every: 5m }\ns:\n  <<: *d\n  name: x\n  untagged: y\n  inner: { limit: 3 }\n", nil},
		{"unknown keys at every depth", "s:\n  name: x\n  names: y\n  inner:\n    limt: 3\n  items:\n    - { limit: 1, other: 2 }\n",
			[]string{"line 3: field names not found in type config_test.section", "line 5: field limt not found in type config_test.inner", "line 7: field other not found in type config_test.inner"}},
		{"a fraction is no integer", "s:\n  inner: { limit: 1.5 }\n", []string{"line 2: cannot unmarshal !!float `1.5` into int"}},
		{"wrong kinds", "s:\n  name: [x]\n  items: x\n", []string{"line 2: cannot unmarshal !!seq into string", "line 3: cannot unmarshal !!str `x` into []config_test.inner"}},
		{"a value that refuses itself", "s:\n  name: x\n  every: soon\n", []string{`line 3: every: not a valid duration string: "soon"`}},
		{"a duplicate key", "s:\n  name: x\n  name: y\n", []string{`line 3: mapping key "name" already defined at line 2`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(c.yaml), &doc); err != nil {
				t.Fatal(err)
			}
			var out section
			err := DecodeStrict(doc.Content[0].Content[len(doc.Content[0].Content)-1], &out)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
			if c.want == nil && (out.Name != "x" || out.Every != parseDurations("5m")[0] || out.Inner.Limit != 3 || out.Untagged != "y") {
				t.Errorf("decoded %+v", out)
			}
		})
	}
}
