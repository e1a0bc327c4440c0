package config_test

import (
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

	. "github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/jira"
)

// types are the built-in source types, the ones the binary loads with.
var types = builtin.Registry()

// Each invalid fixture holds exactly one mistake; its error is compared verbatim.
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
		{"invalid-desks-duplicate.yml", `testdata/invalid-desks-duplicate.yml:5: source "demo": demo.desks: duplicate desk "IT"`},
		{"invalid-desks-empty.yml", `testdata/invalid-desks-empty.yml:4: source "demo": demo.desks must list at least one desk`},
		{"invalid-duplicate-key.yml", `testdata/invalid-duplicate-key.yml:4: key "name" appears twice in the same mapping (first on line 2)`},
		{"invalid-duplicate-name.yml", `testdata/invalid-duplicate-name.yml:4: sources[1]: duplicate source name "demo" (first used on line 2)`},
		{"invalid-duration-unit.yml", `testdata/invalid-duration-unit.yml:4: source "demo": poll_interval: invalid duration "2x" (want a number and a unit: ms, s, m, h, d, w or y, e.g. 30s, 2h, 30d)`},
		{"invalid-empty-name.yml", `testdata/invalid-empty-name.yml:2: sources[0]: name must not be empty`},
		{"invalid-empty-sources.yml", `testdata/invalid-empty-sources.yml:3: no sources configured: add at least one under sources:`},
		{"invalid-http-client-on-demo.yml", `testdata/invalid-http-client-on-demo.yml:4: source "demo": http_client: does not apply to type demo; remove it or set type: jira`},
		{"invalid-http-client-type.yml", `testdata/invalid-http-client-type.yml:7: source "jira": http_client.follow_redirects must be true or false, got "maybe"`},
		{"invalid-http-client-validate.yml", `testdata/invalid-http-client-validate.yml:5: source "jira": http_client: at most one of basic_auth password, password_file & password_ref must be configured`},
		{"invalid-jira-missing-url.yml", `testdata/invalid-jira-missing-url.yml:4: source "jira": jira.url is required`},
		{"invalid-jira-no-credentials.yml", `testdata/invalid-jira-no-credentials.yml:2: source "jira": jira needs credentials: set http_client.basic_auth (Cloud: email and API token) or http_client.authorization (Data Center: personal access token)`},
		{"invalid-jira-section-on-demo.yml", `testdata/invalid-jira-section-on-demo.yml:4: source "demo": jira: does not apply to type demo; remove it or set type: jira`},
		{"invalid-jira-type.yml", `testdata/invalid-jira-type.yml:7: source "jira": jira.page_size must be an integer, got "fifty"`},
		{"invalid-jira-unknown-key.yml", `testdata/invalid-jira-unknown-key.yml:7: unknown key "page_sise" in jira of source "jira" (did you mean "page_size"?)`},
		{"invalid-jira-without-section.yml", `testdata/invalid-jira-without-section.yml:2: source "jira": type jira needs a jira: section with url and jql (see docs/jira.md)`},
		{"invalid-label-value-limit-type.yml", `testdata/invalid-label-value-limit-type.yml:2: metrics.label_value_limit must be an integer, got "lots"`},
		{"invalid-label-value-limit.yml", `testdata/invalid-label-value-limit.yml:2: metrics.label_value_limit must be at least 1, got 0`},
		{"invalid-lookback-and-since.yml", `testdata/invalid-lookback-and-since.yml:5: source "demo": set lookback or since, not both`},
		{"invalid-merged-password-file.yml", `testdata/invalid-merged-password-file.yml:7: source "it": http_client.basic_auth.password_file: cannot read "testdata/secrets/missing-token": no such file or directory`},
		{"invalid-missing-name.yml", `testdata/invalid-missing-name.yml:2: sources[0]: name is required`},
		{"invalid-missing-type.yml", `testdata/invalid-missing-type.yml:2: source "demo": type is required (demo or jira)`},
		{"invalid-name-shape.yml", `testdata/invalid-name-shape.yml:2: sources[0]: name "it desk" may only contain letters, digits, '_', '.' and '-'`},
		{"invalid-name-type.yml", `testdata/invalid-name-type.yml:2: sources[0]: name must be a string, got a list`},
		{"invalid-negative-lookback.yml", `testdata/invalid-negative-lookback.yml:4: source "demo": lookback must be positive, got -1d`},
		{"invalid-no-sources.yml", `testdata/invalid-no-sources.yml:1: no sources configured: add at least one under sources:`},
		{"invalid-password-file.yml", `testdata/invalid-password-file.yml:8: source "jira": http_client.basic_auth.password_file: cannot read "testdata/secrets/missing-token": no such file or directory`},
		{"invalid-secret-type.yml", `testdata/invalid-secret-type.yml:7: source "jira": http_client.authorization.credentials must be a string, got a list`},
		{"invalid-seed-type.yml", `testdata/invalid-seed-type.yml:5: source "demo": demo.seed must be an integer, got "1.5"`},
		{"invalid-since-date.yml", `testdata/invalid-since-date.yml:4: source "demo": since must be a date like 2026-01-31, got "2026-13-01"`},
		{"invalid-source-not-mapping.yml", `testdata/invalid-source-not-mapping.yml:2: sources[0] must be a mapping, got a string`},
		{"invalid-sources-type.yml", `testdata/invalid-sources-type.yml:1: sources must be a list, got a string`},
		{"invalid-store-path-empty.yml", `testdata/invalid-store-path-empty.yml:2: store.path must not be empty`},
		{"invalid-store-type.yml", `testdata/invalid-store-type.yml:1: store must be a mapping, got a string`},
		{"invalid-syntax.yml", `testdata/invalid-syntax.yml:4: invalid YAML: did not find expected '-' indicator (check the indentation of this line)`},
		{"invalid-tickets-per-day-type.yml", `testdata/invalid-tickets-per-day-type.yml:4: source "demo": demo.tickets_per_day must be a number, got "many"`},
		{"invalid-tickets-per-day-zero.yml", `testdata/invalid-tickets-per-day-zero.yml:4: source "demo": demo.tickets_per_day must be a positive number, got 0`},
		{"invalid-tls-ca-file.yml", `testdata/invalid-tls-ca-file.yml:8: source "jira": http_client.tls_config.ca_file: cannot read "testdata/secrets/missing-ca.pem": no such file or directory`},
		{"invalid-top-level-list.yml", `testdata/invalid-top-level-list.yml:1: the file must be a mapping with the keys store, metrics and sources, got a list`},
		{"invalid-two-documents.yml", `testdata/invalid-two-documents.yml:4: only one YAML document is allowed, found a second one`},
		{"invalid-unknown-key-demo.yml", `testdata/invalid-unknown-key-demo.yml:4: unknown key "desk" in demo of source "demo" (did you mean "desks"?)`},
		{"invalid-unknown-key-http-client.yml", `testdata/invalid-unknown-key-http-client.yml:8: unknown key "pasword_file" in http_client.basic_auth of source "jira" (did you mean "password_file"?)`},
		{"invalid-unknown-key-tls.yml", `testdata/invalid-unknown-key-tls.yml:8: unknown key "insecure_skip_verfy" in http_client.tls_config of source "jira" (did you mean "insecure_skip_verify"?)`},
		{"invalid-unknown-key.yml", `testdata/invalid-unknown-key.yml:7: unknown key "pol_interval" in source "demo" (did you mean "poll_interval"?)`},
		{"invalid-unknown-top-key.yml", `testdata/invalid-unknown-top-key.yml:3: unknown key "source" at the top level (did you mean "sources"?)`},
		{"invalid-unknown-type.yml", `testdata/invalid-unknown-type.yml:3: source "desk": unknown type "zendesk" (want demo or jira)`},
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
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
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

// String() output is itself a valid config that loads to the same thing.
func TestStringRoundTrip(t *testing.T) {
	for _, file := range []string{"testdata/valid-minimal.yml", "testdata/valid-full.yml", "testdata/valid-merge-keys.yml", "../config.yaml"} {
		t.Run(file, func(t *testing.T) {
			abs, err := filepath.Abs(file)
			if err != nil {
				t.Fatal(err)
			}
			first, err := Load(abs, types)
			if err != nil {
				t.Fatal(err)
			}
			second, err := Parse([]byte(first.String()), abs, types)
			if err != nil {
				t.Fatalf("reparsing String(): %v\n%s", err, first)
			}
			if first.String() != second.String() {
				t.Errorf("round trip changed the config:\n%s\n---\n%s", first, second)
			}
		})
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
