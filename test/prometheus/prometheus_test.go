// Package prometheus proves the backfill, the dashboards and the rules
// against a real Prometheus (Debian's 2.42). The exporter binary runs on the
// demo desk and on a fake Jira (in this process) with 10 days of tickets;
// once it has synced, examples/history/load-history.sh — the script the
// docker-compose quickstart runs before Prometheus first starts — fetches
// the history from the exporter's /-/backfill, turns it into blocks with
// promtool and backfills the recording rules. Prometheus then starts on
// those blocks, scraping the same exporter every second with the rules
// loaded, and the test checks:
//
//   - at several past instants, what Prometheus returns for resolutions,
//     first-response quantiles and satisfaction averages over the day before
//     equals what the sources' tickets say (the fake's ground truth, and the
//     demo's tickets got by polling the demo source directly);
//     increase(servicedesk_tickets_resolved_total[1d]) equals the change of
//     the counter, so the history has no resets;
//   - where the history ends and the live scrape begins, every backfilled
//     series has the value the live one has (the exporter polls hourly, so
//     its values stay those of its sync): no reset, no double count;
//   - every dashboard panel query returns a number over a day that ends
//     before the exporter first started — except panels of the exporter's
//     own health and of the families the backfill cannot reconstruct, which
//     must return numbers live; every variable's label_values lookup
//     answers; every rule group evaluates without error.
//
// Ratios and quantiles are NaN over a window without finished tickets, so
// the history is what makes their panels provable at all. Panel queries
// run as Grafana runs them for a time-series panel (a range query,
// variables substituted as for "All").
package prometheus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/backfill"
	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
)

const (
	// overallBudget bounds the waiting once Prometheus is started.
	overallBudget = 75 * time.Second
	pollEvery     = 500 * time.Millisecond

	scrapeJob = "servicedesk"

	// The history reaches historySpan back from the exporter's start, a
	// sample every historyStep (the backfill's default).
	historyStep = 5 * time.Minute
	historySpan = 30 * time.Hour

	// Panel queries over the history run as Grafana would on a dashboard
	// showing the day before the exporter started: $__range is its span,
	// $__interval the range query's step, $__rate_interval Grafana's
	// max($__interval + scrape interval, 4 × scrape interval) with the
	// history's scrape interval historyStep.
	querySpan    = 24 * time.Hour
	queryStep    = historyStep
	rateInterval = 4 * historyStep

	// The fake Jira's tickets.
	jiraTickets = 1500
	jiraDays    = 10
)

// firstResponseBuckets are the test config's first_response_buckets in
// seconds: few, to keep the history small.
var firstResponseBuckets = []float64{900, 3600, 14400, 86400}

// liveOnly are the exporter's own health families: they describe the
// exporter, so they start when it does and the backfill has none. Panels
// reading them, or a family the backfill leaves out (backfill.Excluded),
// are checked over live data instead of the history.
var liveOnly = map[string]bool{
	"servicedesk_up": true, "servicedesk_last_successful_poll_timestamp_seconds": true,
	"servicedesk_poll_duration_seconds": true, "servicedesk_poll_errors_total": true,
	"servicedesk_initial_sync_progress_ratio": true, "servicedesk_tickets_skipped_total": true,
	"servicedesk_api_requests_total": true, "servicedesk_api_rate_limited_total": true,
	"servicedesk_config_last_reload_successful": true, "servicedesk_config_last_reload_success_timestamp_seconds": true,
	"servicedesk_exporter_build_info": true,
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	return root
}

// requireTool finds a binary of the Debian prometheus package; under CI its
// absence is a failure, elsewhere a skip.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not on PATH and CI is set; install the Debian prometheus package (scripts/test.sh does)", name)
		}
		t.Skipf("%s is not on PATH; install the Debian prometheus package to run this proof", name)
	}
	return path
}

func TestBackfillDashboardsAndRulesAgainstRealPrometheus(t *testing.T) {
	prometheusBinary := requireTool(t, "prometheus")
	requireTool(t, "promtool") // load-history.sh runs it
	root := repoRoot(t)
	workDir := t.TempDir()

	end := time.Now()
	srv := fakejira.New(fakejira.Options{Deployment: fakejira.DeploymentCloud, Seed: 3})
	defer srv.Close()
	srv.Add(fakejira.Generate(3, jiraTickets, fakejira.GenerateOptions{End: end, Start: end.Add(-jiraDays * 24 * time.Hour)})...)
	// One 429 on the first search, so the rate-limit panel has a series.
	srv.FailNext(1, fakejira.Fault{Kind: fakejira.FaultStatus, Status: http.StatusTooManyRequests, Endpoint: "search_jql"})

	exporterBinary := exportertest.Binary(t)
	exporterAddress := exportertest.FreeAddr(t)
	prometheusAddress := exportertest.FreeAddr(t)
	exporterConfig := writeExporterConfig(t, workDir, srv.URL)
	cfg, err := config.Load(exporterConfig, builtin.Registry())
	if err != nil {
		t.Fatal(err)
	}

	exporterStarted := time.Now()
	startExporter(t, exporterBinary, workDir, exporterConfig, exporterAddress)
	tsdbDir := filepath.Join(workDir, "tsdb")
	ruleFiles := ruleFilePaths(t, root)
	hist := loadHistory(t, root, exporterAddress, tsdbDir, exporterStarted.Add(-historySpan), recordingRuleFiles(t, ruleFiles))
	prom := startPrometheus(t, prometheusBinary, workDir, tsdbDir, prometheusAddress, exporterAddress, ruleFiles)
	_ = prom

	api := &prometheusAPI{base: "http://" + prometheusAddress}
	deadline := time.Now().Add(overallBudget)
	waitFor(t, deadline, "Prometheus to be ready", func() error { return api.ready() })
	// up exists only for live scrapes, so this waits for the live exporter.
	waitFor(t, deadline, "several scrapes of the exporter", func() error {
		return api.expectData(`count_over_time(up{job="` + scrapeJob + `"}[1m]) >= 4 and up{job="` + scrapeJob + `"} == 1`)
	})

	t.Run("the history equals the sources' tickets", func(t *testing.T) {
		demoSynced, err := api.scalarAt(`servicedesk_last_successful_poll_timestamp_seconds{source="demo"}`, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		demoFacts := demoTickets(t, cfg.Sources[0].Settings.(demo.Config), exporterStarted.Add(-time.Duration(cfg.Sources[0].Lookback)).Add(time.Hour),
			time.UnixMilli(int64(demoSynced*1000)))
		for _, back := range []time.Duration{5 * time.Hour, 3 * time.Hour, 15 * time.Minute} {
			at := exporterStarted.Add(-back).Truncate(historyStep)
			w := window{from: at.Add(-24 * time.Hour), to: at}
			for source, want := range map[string]expected{"demo": demoExpected(demoFacts, w), "jira": jiraExpected(srv, w)} {
				checkWindow(t, api, source, w, want)
			}
		}
	})
	t.Run("the live series continue the history", func(t *testing.T) {
		checkJoin(t, api, hist)
	})

	rules := readRuleFiles(t, ruleFiles)
	t.Run("rules evaluate without error", func(t *testing.T) {
		waitFor(t, deadline, "every rule group to evaluate healthily", func() error {
			return api.rulesHealthy(rules.groups)
		})
	})
	t.Run("recording rules return numbers, live and before the exporter started", func(t *testing.T) {
		before := exporterStarted.Add(-time.Minute)
		for _, record := range rules.records {
			waitFor(t, deadline, "a number from recording rule "+record, func() error {
				return api.expectNumberNow(record)
			})
			if err := api.expectNumberAt(fmt.Sprintf("last_over_time(%s[1h])", record), before); err != nil {
				t.Errorf("recording rule %s has no backfilled value before the exporter started: %v", record, err)
			}
		}
	})

	history := rangeSpec{end: exporterStarted.Add(-time.Minute).Truncate(queryStep), span: querySpan, step: queryStep, rate: rateInterval}
	dashboardFiles, err := filepath.Glob(filepath.Join(root, "dashboards", "json", "*.json"))
	if err != nil || len(dashboardFiles) == 0 {
		t.Fatalf("no committed dashboards under dashboards/json (err %v)", err)
	}
	var fromHistory, fromLive int
	for _, path := range dashboardFiles {
		board := readDashboard(t, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			for _, variable := range board.Templating.List {
				if variable.Type != "query" {
					continue
				}
				t.Run("variable "+variable.Name, func(t *testing.T) {
					checkVariable(t, api, deadline, board, variable)
				})
			}
			for _, panel := range board.allPanels() {
				for _, target := range panel.Targets {
					live := liveReason(target.Expr)
					passed := t.Run(panel.Title+" "+target.RefID, func(t *testing.T) {
						if live != "" {
							t.Logf("checked live: %s", live)
							now := time.Now()
							checkPanelQuery(t, api, deadline, board, rangeSpec{end: now, span: 10 * time.Minute, step: 15 * time.Second, rate: rateInterval}, target.Expr)
							return
						}
						checkPanelQuery(t, api, deadline, board, history, target.Expr)
					})
					switch {
					case passed && live != "":
						fromLive++
					case passed:
						fromHistory++
					}
				}
			}
		})
	}
	t.Logf("%d panel queries returned numbers for the day before the exporter started, %d (exporter health, excluded families) live; %d recording rules",
		fromHistory, fromLive, len(rules.records))
}

// checkWindow compares what Prometheus says about the day w.to closes for
// source with what its tickets say. Differences of sums (rather than sums
// of increase()) keep the comparison exact for series born within the
// window, which increase() extrapolates.
func checkWindow(t *testing.T, api *prometheusAPI, source string, w window, want expected) {
	t.Helper()
	if want.resolved == 0 || len(want.firstResponse) == 0 || len(want.ratings) == 0 {
		t.Fatalf("%s, day to %s: too few tickets to prove anything (%d resolved, %d first responses, %d ratings)",
			source, w.to.Format(time.RFC3339), want.resolved, len(want.firstResponse), len(want.ratings))
	}
	sel := `{source="` + source + `"}`
	dayChange := func(name string) string {
		return fmt.Sprintf("(sum(%s%s) - sum(%s%s offset 1d))", name, sel, name, sel)
	}
	check := func(what, promql string, want float64) {
		got, err := api.scalarAt(promql, w.to)
		if err != nil {
			t.Errorf("%s at %s: %s: %v", source, w.to.Format(time.RFC3339), what, err)
			return
		}
		if !sameNumber(got, want) {
			t.Errorf("%s at %s: %s = %v, the tickets say %v\n  %s", source, w.to.Format(time.RFC3339), what, got, want, promql)
		}
	}
	check("resolutions in the day before", dayChange("servicedesk_tickets_resolved_total"), float64(want.resolved))
	for _, q := range []float64{0.5, 0.9} {
		bucketsChange := fmt.Sprintf("sum by (le) (servicedesk_first_response_seconds_bucket%s) - sum by (le) (servicedesk_first_response_seconds_bucket%s offset 1d)", sel, sel)
		check(fmt.Sprintf("first-response p%.0f of the day before", q*100), fmt.Sprintf("histogram_quantile(%v, %s)", q, bucketsChange),
			quantile(q, firstResponseBuckets, want.firstResponse))
	}
	check("average rating of the day before",
		dayChange("servicedesk_satisfaction_rating_sum")+" / "+dayChange("servicedesk_satisfaction_rating_count"), mean(want.ratings))

	// The dashboards' increase() over the history: for every series that
	// already existed a day before, exactly the counter's change.
	resolved := "servicedesk_tickets_resolved_total" + sel
	increases, err := api.vectorAt(fmt.Sprintf("increase(%s[1d]) and %s offset 1d", resolved, resolved), w.to)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := api.vectorAt(fmt.Sprintf("%s - %s offset 1d", resolved, resolved), w.to)
	if err != nil {
		t.Fatal(err)
	}
	if len(increases) == 0 || len(increases) != len(changes) {
		t.Errorf("%s at %s: increase() over %d series, the counters' change over %d", source, w.to.Format(time.RFC3339), len(increases), len(changes))
	}
	for k, v := range increases {
		if !sameNumber(v, changes[k]) {
			t.Errorf("%s at %s: increase(servicedesk_tickets_resolved_total%s[1d]) = %v, the counter changed by %v", source, w.to.Format(time.RFC3339), k, v, changes[k])
		}
	}
}

// checkJoin compares every backfilled family's last sample (at the end of
// the history) with the live scrape now: the exporter has not polled since
// its sync, so they must be equal, series for series. The ages of the
// oldest tickets move with the clock and are left out.
func checkJoin(t *testing.T, api *prometheusAPI, h history) {
	t.Helper()
	names, err := api.vectorAt(`count by (__name__) ({__name__=~"servicedesk_.+", job="`+scrapeJob+`"})`, h.to)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for key := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(key, `{__name__="`), `"}`)
		if strings.Contains(name, "oldest") {
			continue
		}
		at := fmt.Sprintf("%s @ %d", name, h.to.Unix())
		for _, promql := range []string{
			fmt.Sprintf("%s != %s", name, at),     // live values that differ from the history's last
			fmt.Sprintf("%s unless %s", name, at), // live series the history lacks
			// History-only series are those that ended at its last step,
			// with the last sample of 0 the backfill gives them.
			fmt.Sprintf("(%s unless %s) != 0", at, name),
		} {
			v, err := api.vectorAt(promql, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(v) > 0 {
				t.Errorf("%s: %d series where the history's last value (at %s) and the live one differ or exist on one side only, e.g. %v",
					promql, len(v), h.to.Format(time.RFC3339), firstKey(v))
			}
		}
		if strings.HasSuffix(name, "_total") || strings.HasSuffix(name, "_count") || strings.HasSuffix(name, "_bucket") {
			// Across the whole history and the live scrape since.
			resets := fmt.Sprintf(`sum(resets(%s{job="%s"}[%s]))`, name, scrapeJob, model.Duration(historySpan+time.Hour))
			if n, err := api.scalarAt(resets, time.Now()); err != nil || n != 0 {
				t.Errorf("%s = %v (%v), want 0: a counter went down", resets, n, err)
			}
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d backfilled families found at the end of the history (%v)", checked, names)
	}
}

func firstKey(v map[string]float64) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys[0]
}

// metricName matches the families and recording rules a panel query reads.
var metricName = regexp.MustCompile(`\b(servicedesk_[a-z0-9_]+|[a-z_]+:[a-z0-9_]+:[a-z0-9_]+)\b`)

// liveReason says why a panel query can only have live data, or "".
func liveReason(expr string) string {
	for _, m := range metricName.FindAllString(expr, -1) {
		base := m
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if liveOnly[m] || liveOnly[base] {
			return m + " is the exporter's own health"
		}
		if reason, ok := backfill.Excluded[m]; ok {
			return m + " is not backfilled: " + reason
		}
	}
	return ""
}

// rangeSpec is a range query as a Grafana panel makes it.
type rangeSpec struct {
	end              time.Time
	span, step, rate time.Duration
}

func checkPanelQuery(t *testing.T, api *prometheusAPI, deadline time.Time, board dashboardJSON, r rangeSpec, expr string) {
	query, err := board.substituteRange(expr, r)
	if err != nil {
		t.Fatal(err)
	}
	// An error (bad syntax, unknown function) will not go away by waiting.
	if _, err := api.queryRange(query, r); err != nil {
		t.Fatalf("query %s failed: %v", query, err)
	}
	waitFor(t, deadline, "a number from "+query, func() error {
		result, err := api.queryRange(query, r)
		if err != nil {
			return err
		}
		return result.wantNumber()
	})
}

// labelValuesCall is the Grafana label_values(selector, label) template query.
var labelValuesCall = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

func checkVariable(t *testing.T, api *prometheusAPI, deadline time.Time, board dashboardJSON, variable variableJSON) {
	match := labelValuesCall.FindStringSubmatch(variable.Query)
	if match == nil {
		t.Fatalf("variable %s: query %q is not label_values(selector, label)", variable.Name, variable.Query)
	}
	selector, err := board.substituteRange(match[1], rangeSpec{span: querySpan, step: queryStep, rate: rateInterval})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, deadline, "values of "+match[2]+" for "+selector, func() error {
		values, err := api.labelValues(match[2], selector)
		if err != nil {
			return err
		}
		if len(values) == 0 {
			return fmt.Errorf("no values")
		}
		return nil
	})
}

// waitFor retries check until it succeeds or the deadline passes.
func waitFor(t *testing.T, deadline time.Time, what string, check func() error) {
	t.Helper()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s: %v", what, err)
		}
		time.Sleep(pollEvery)
	}
}

// writeExporterConfig writes the exporter's configuration: the demo desk
// and the fake Jira, polled hourly, so that after its sync the exporter
// serves the same values for the whole test; a label limit and few buckets
// that keep the history small (and fold values into "other").
func writeExporterConfig(t *testing.T, workDir, jiraURL string) string {
	t.Helper()
	configPath := filepath.Join(workDir, "exporter.yml")
	config := fmt.Sprintf(`store:
  path: %s
metrics:
  label_value_limit: 2
  first_response_buckets: [15m, 1h, 4h, 1d]
  resolution_buckets: [4h, 1d, 1w]
sources:
  - name: demo
    type: demo
    poll_interval: 1h
    lookback: 30d
    demo: { seed: 1, desks: [IT, HR, FAC], tickets_per_day: 150 }
  - name: jira
    type: jira
    poll_interval: 1h
    lookback: %dd
    jira: { url: %s, jql: "project in (IT, HR, FAC)", requests_per_second: 200 }
    http_client:
      basic_auth: { username: %s, password: %s }
`, filepath.Join(workDir, "servicedesk.db"), jiraDays+5, jiraURL, fakejira.DefaultEmail, fakejira.DefaultAPIToken)
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return configPath
}

func startExporter(t *testing.T, binary, workDir, configPath, address string) {
	t.Helper()
	startProcess(t, "exporter", workDir, binary,
		"--config.file="+configPath,
		"--web.listen-address="+address)
}

func startPrometheus(t *testing.T, binary, workDir, tsdbDir, address, exporterAddress string, ruleFiles []string) *exec.Cmd {
	t.Helper()
	quoted := make([]string, len(ruleFiles))
	for i, f := range ruleFiles {
		quoted[i] = fmt.Sprintf("%q", f)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%s]
scrape_configs:
  - job_name: %s
    scrape_timeout: 1s
    static_configs:
      - targets: [%q]
`, strings.Join(quoted, ", "), scrapeJob, exporterAddress)
	configPath := filepath.Join(workDir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return startProcess(t, "prometheus", workDir, binary,
		"--config.file="+configPath,
		"--storage.tsdb.path="+tsdbDir,
		"--storage.tsdb.retention.time=60d",
		"--web.listen-address="+address)
}

// startProcess runs a long-lived child whose output goes to a log file in
// workDir. Cleanup stops exactly that PID: SIGTERM, then SIGKILL if it has
// not exited within a few seconds. On failure the log's tail is printed.
func startProcess(t *testing.T, name, workDir, binary string, args ...string) *exec.Cmd {
	t.Helper()
	logPath := filepath.Join(workDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = workDir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		if t.Failed() {
			t.Logf("%s log (pid %d), last lines:\n%s", name, cmd.Process.Pid, tail(logPath, 30))
		}
	})
	return cmd
}

func tail(path string, lines int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// recordingRuleFiles are the rule files with recording rules (the alerts'
// file has none; promtool would skip its alerts anyway).
func recordingRuleFiles(t *testing.T, ruleFiles []string) []string {
	t.Helper()
	var out []string
	for _, f := range ruleFiles {
		if len(readRuleFiles(t, []string{f}).records) > 0 {
			out = append(out, f)
		}
	}
	return out
}

func ruleFilePaths(t *testing.T, root string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "rules", "*.yml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no rule files under rules/ (err %v)", err)
	}
	return paths
}

// ruleSet is what the rule files declare.
type ruleSet struct {
	groups  map[string]int // group name → number of rules
	records []string       // recording rules' metric names
}

func readRuleFiles(t *testing.T, ruleFiles []string) ruleSet {
	t.Helper()
	rules := ruleSet{groups: map[string]int{}}
	for _, path := range ruleFiles {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var file struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []struct {
					Record string `yaml:"record"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(raw, &file); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, g := range file.Groups {
			rules.groups[g.Name] = len(g.Rules)
			for _, r := range g.Rules {
				if r.Record != "" {
					rules.records = append(rules.records, r.Record)
				}
			}
		}
	}
	return rules
}

// Dashboard JSON, only the parts the proof needs.
type (
	targetJSON struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	}
	panelJSON struct {
		Title   string       `json:"title"`
		Targets []targetJSON `json:"targets"`
		Panels  []panelJSON  `json:"panels"` // panels inside a collapsed row
	}
	variableJSON struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Query    string `json:"query"`
		AllValue string `json:"allValue"`
	}
	dashboardJSON struct {
		Title      string      `json:"title"`
		Panels     []panelJSON `json:"panels"`
		Templating struct {
			List []variableJSON `json:"list"`
		} `json:"templating"`
	}
)

func readDashboard(t *testing.T, path string) dashboardJSON {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var board dashboardJSON
	if err := json.Unmarshal(raw, &board); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return board
}

func (d dashboardJSON) allPanels() []panelJSON {
	var panels []panelJSON
	for _, p := range d.Panels {
		panels = append(panels, p)
		panels = append(panels, p.Panels...)
	}
	return panels
}

// grafanaVariable matches $name and ${name}.
var grafanaVariable = regexp.MustCompile(`\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?`)

// substitute is substituteRange for a dashboard showing the last querySpan.
func (d dashboardJSON) substitute(expr string) (string, error) {
	return d.substituteRange(expr, lastSpan())
}

func lastSpan() rangeSpec {
	return rangeSpec{end: time.Now(), span: querySpan, step: queryStep, rate: rateInterval}
}

// expectNumberInRange wants a number anywhere in the last querySpan.
func (a *prometheusAPI) expectNumberInRange(promql string) error {
	result, err := a.queryRange(promql, lastSpan())
	if err != nil {
		return err
	}
	return result.wantNumber()
}

// substituteRange replaces the dashboard's variables the way Grafana does when
// "All" is selected (each variable's allValue regex), and the built-in range
// variables as Grafana would for the range query r. A variable the
// dashboard does not define is an error: Grafana would send it verbatim and
// the panel would break.
func (d dashboardJSON) substituteRange(expr string, r rangeSpec) (string, error) {
	values := map[string]string{
		"__rate_interval": model.Duration(r.rate).String(),
		"__interval":      model.Duration(r.step).String(),
		"__range":         model.Duration(r.span).String(),
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			values[v.Name] = v.AllValue
		}
	}
	var unknown []string
	result := grafanaVariable.ReplaceAllStringFunc(expr, func(reference string) string {
		name := grafanaVariable.FindStringSubmatch(reference)[1]
		value, ok := values[name]
		if !ok {
			unknown = append(unknown, reference)
			return reference
		}
		return value
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("dashboard %q: %s uses undefined variables %v", d.Title, expr, unknown)
	}
	return result, nil
}

type prometheusAPI struct{ base string }

var httpClient = &http.Client{Timeout: 10 * time.Second}

func (a *prometheusAPI) get(path string, params url.Values, into any) error {
	response, err := httpClient.Get(a.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return err
	}
	var envelope struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("%s: HTTP %d, undecodable body %q", path, response.StatusCode, bytes.TrimSpace(body))
	}
	if envelope.Status != "success" {
		return fmt.Errorf("%s: %s", path, envelope.Error)
	}
	return json.Unmarshal(envelope.Data, into)
}

func (a *prometheusAPI) ready() error {
	response, err := httpClient.Get(a.base + "/-/ready")
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("/-/ready: HTTP %d", response.StatusCode)
	}
	return nil
}

// queryResult summarises a query's result.
type queryResult struct {
	series int
	// numbers counts the returned values that are not NaN, over every
	// series and, for a range query, every step.
	numbers int
}

// query runs an instant query at the current time.
func (a *prometheusAPI) query(promql string) (queryResult, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := a.get("/api/v1/query", url.Values{"query": {promql}}, &data); err != nil {
		return queryResult{}, err
	}
	if data.ResultType != "vector" {
		return queryResult{}, fmt.Errorf("result type %q, want vector", data.ResultType)
	}
	var series []struct {
		Value [2]any `json:"value"` // [timestamp, "value"]
	}
	if err := json.Unmarshal(data.Result, &series); err != nil {
		return queryResult{}, err
	}
	result := queryResult{series: len(series)}
	for _, s := range series {
		if s.Value[1] != "NaN" {
			result.numbers++
		}
	}
	return result, nil
}

// queryRange runs the range query r, the way a Grafana time-series panel
// asks.
func (a *prometheusAPI) queryRange(promql string, r rangeSpec) (queryResult, error) {
	params := url.Values{
		"query": {promql},
		"start": {strconv.FormatInt(r.end.Add(-r.span).Unix(), 10)},
		"end":   {strconv.FormatInt(r.end.Unix(), 10)},
		"step":  {strconv.FormatFloat(r.step.Seconds(), 'f', -1, 64)},
	}
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := a.get("/api/v1/query_range", params, &data); err != nil {
		return queryResult{}, err
	}
	if data.ResultType != "matrix" {
		return queryResult{}, fmt.Errorf("result type %q, want matrix", data.ResultType)
	}
	var series []struct {
		Values [][2]any `json:"values"` // [[timestamp, "value"], ...]
	}
	if err := json.Unmarshal(data.Result, &series); err != nil {
		return queryResult{}, err
	}
	result := queryResult{series: len(series)}
	for _, s := range series {
		for _, v := range s.Values {
			if v[1] != "NaN" {
				result.numbers++
			}
		}
	}
	return result, nil
}

func (a *prometheusAPI) expectData(promql string) error {
	result, err := a.query(promql)
	if err != nil {
		return err
	}
	if result.series == 0 {
		return fmt.Errorf("empty result")
	}
	return nil
}

// expectNumberNow wants at least one non-NaN value from an instant query.
func (a *prometheusAPI) expectNumberNow(promql string) error {
	result, err := a.query(promql)
	if err != nil {
		return err
	}
	return result.wantNumber()
}

// vectorAt runs an instant query at at and returns its series by their
// labels.
func (a *prometheusAPI) vectorAt(promql string, at time.Time) (map[string]float64, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	params := url.Values{"query": {promql}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	if err := a.get("/api/v1/query", params, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %q, want vector", data.ResultType)
	}
	out := make(map[string]float64, len(data.Result))
	for _, s := range data.Result {
		names := make([]string, 0, len(s.Metric))
		for k := range s.Metric {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			parts = append(parts, fmt.Sprintf("%s=%q", k, s.Metric[k]))
		}
		text, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("value %v: %w", s.Value[1], err)
		}
		out["{"+strings.Join(parts, ",")+"}"] = v
	}
	return out, nil
}

// scalarAt runs an instant query at at that must return one series.
func (a *prometheusAPI) scalarAt(promql string, at time.Time) (float64, error) {
	v, err := a.vectorAt(promql, at)
	if err != nil {
		return math.NaN(), err
	}
	if len(v) != 1 {
		return math.NaN(), fmt.Errorf("%d series, want 1", len(v))
	}
	for _, x := range v {
		return x, nil
	}
	return math.NaN(), nil
}

// expectNumberAt wants a value that is not NaN from an instant query at at.
func (a *prometheusAPI) expectNumberAt(promql string, at time.Time) error {
	v, err := a.vectorAt(promql, at)
	if err != nil {
		return err
	}
	for _, x := range v {
		if !math.IsNaN(x) {
			return nil
		}
	}
	return fmt.Errorf("no number in %d series", len(v))
}

func (r queryResult) wantNumber() error {
	switch {
	case r.series == 0:
		return fmt.Errorf("empty result")
	case r.numbers == 0:
		return fmt.Errorf("only NaN in %d series", r.series)
	}
	return nil
}

func (a *prometheusAPI) labelValues(label, selector string) ([]string, error) {
	var values []string
	err := a.get("/api/v1/label/"+label+"/values", url.Values{"match[]": {selector}}, &values)
	return values, err
}

// rulesHealthy checks that Prometheus loaded exactly the expected groups and
// rule counts, and that every rule has been evaluated with health "ok".
func (a *prometheusAPI) rulesHealthy(want map[string]int) error {
	var data struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := a.get("/api/v1/rules", url.Values{}, &data); err != nil {
		return err
	}
	got := map[string]int{}
	for _, g := range data.Groups {
		got[g.Name] = len(g.Rules)
		for _, r := range g.Rules {
			if r.Health != "ok" || r.LastError != "" {
				return fmt.Errorf("group %s rule %s: health %q, lastError %q", g.Name, r.Name, r.Health, r.LastError)
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("loaded rule groups %v, want %v", got, want)
	}
	return nil
}
