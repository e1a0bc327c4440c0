// Package prometheus proves the dashboards and rules against a real
// Prometheus: it gives the Debian Prometheus hours of the demo desk's
// history, runs the exporter on the demo desk with Prometheus scraping it
// every second and the rules loaded, then runs every dashboard query
// (variables substituted as Grafana would for "All") and every variable's
// label_values lookup through the HTTP API, and checks that every rule group
// evaluates without error.
//
// Every panel query must return at least one real number, not only NaN:
// ratios and quantiles are NaN when no ticket finished within their window,
// so seconds of live scrapes cannot prove them. The history is exact rather
// than invented: the demo desk is a pure function of (seed, config, time),
// so the test runs the exporter's own demo → store → collector pipeline
// in-process on a clock stepped through the past hours, writes what each
// step exposes as OpenMetrics with the job and instance labels the live
// scrape adds, and turns it into TSDB blocks with promtool before
// Prometheus starts. The binary then opens the store that pipeline left
// behind, so its counters continue the history without a reset.
//
// Panel queries run as range queries over that history up to now, as a
// Grafana time-series panel does; a panel passes when at least one point is
// a number. Recording rules are checked at their latest evaluation: they run
// only live, but their [1d] and [7d] selectors read the backfilled samples.
package prometheus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
)

const (
	// overallBudget bounds the waiting once the processes are started.
	overallBudget = 75 * time.Second
	pollEvery     = 500 * time.Millisecond

	scrapeJob = "servicedesk"

	// The backfilled history: historySteps samples historyStep apart,
	// ending historyGap before Prometheus starts so that the blocks end
	// before the first live sample (Prometheus rejects samples older than
	// its newest block). Twelve hours, because a quantile or ratio over no
	// finished tickets is NaN and the demo desk can go six night hours
	// without a first response; over four weeks of it, every twelve-hour
	// stretch had at least four first responses, ratings and resolutions.
	historyStep  = 2 * time.Minute
	historySteps = 360
	historyGap   = time.Minute

	// Panel queries run as Grafana would on a dashboard showing the whole
	// history: $__range is its span and $__interval the range query's step.
	// $__rate_interval is Grafana's max($__interval + scrape interval,
	// 4 × scrape interval) with the history's scrape interval historyStep:
	// every rate window holds at least four samples, where a 1m window over
	// 2m samples would hold at most one and rate() would return nothing.
	querySpan    = historySteps * historyStep
	queryStep    = historyStep
	rateInterval = 4 * historyStep
)

// jiraOnlyPanels are panels whose metrics only a Jira source exports
// (servicedesk_api_requests_total, servicedesk_api_rate_limited_total). The
// demo source never exports them, so these queries must parse and execute
// without error but may return nothing.
var jiraOnlyPanels = map[string]string{
	"API requests by code":       "servicedesk_api_requests_total is exported by Jira sources only",
	"API responses rate limited": "servicedesk_api_rate_limited_total is exported by Jira sources only",
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

func TestDashboardsAndRulesAgainstRealPrometheus(t *testing.T) {
	prometheusBinary := requireTool(t, "prometheus")
	promtoolBinary := requireTool(t, "promtool")
	root := repoRoot(t)
	workDir := t.TempDir()

	exporterBinary := exportertest.Binary(t)
	exporterAddress := exportertest.FreeAddr(t)
	prometheusAddress := exportertest.FreeAddr(t)
	exporterConfig := writeExporterConfig(t, workDir)

	historyEnd := time.Now().Add(-historyGap)
	history := backfill{start: historyEnd.Add(-historySteps * historyStep), end: historyEnd, step: historyStep}
	historyPath := filepath.Join(workDir, "history.om")
	began := time.Now()
	writeHistory(t, loadConfig(t, exporterConfig), history,
		map[string]string{"job": scrapeJob, "instance": exporterAddress}, historyPath)
	tsdbDir := filepath.Join(workDir, "tsdb")
	createBlocks(t, promtoolBinary, historyPath, tsdbDir)
	t.Logf("backfilled %s of demo desk history every %s in %s",
		history.end.Sub(history.start), history.step, time.Since(began).Round(time.Millisecond))

	startExporter(t, exporterBinary, workDir, exporterConfig, exporterAddress)
	ruleFiles := ruleFilePaths(t, root)
	startPrometheus(t, prometheusBinary, workDir, tsdbDir, prometheusAddress, exporterAddress, ruleFiles)

	api := &prometheusAPI{base: "http://" + prometheusAddress}
	deadline := time.Now().Add(overallBudget)

	waitFor(t, deadline, "Prometheus to be ready", func() error { return api.ready() })
	// up exists only for live scrapes, so this waits for the live exporter,
	// not the history: rates at the end of the range need its samples.
	waitFor(t, deadline, "several scrapes of the exporter", func() error {
		return api.expectData(`count_over_time(up{job="` + scrapeJob + `"}[1m]) >= 4 and up{job="` + scrapeJob + `"} == 1`)
	})

	rules := readRuleFiles(t, ruleFiles)
	t.Run("rules evaluate without error", func(t *testing.T) {
		waitFor(t, deadline, "every rule group to evaluate healthily", func() error {
			return api.rulesHealthy(rules.groups)
		})
	})
	t.Run("live counters continue the history", func(t *testing.T) {
		// A reset would mean the binary did not pick up the store the
		// history left behind (or counts differently), and every rate
		// across the seam would be wrong.
		resets := `sum(resets(servicedesk_tickets_created_total{job="` + scrapeJob + `"}[` + model.Duration(querySpan).String() + `])) == 0`
		waitFor(t, deadline, "no counter reset between history and live scrapes", func() error {
			return api.expectData(resets)
		})
	})
	t.Run("recording rules return numbers", func(t *testing.T) {
		for _, record := range rules.records {
			waitFor(t, deadline, "a number from recording rule "+record, func() error {
				return api.expectNumberNow(record)
			})
		}
	})

	dashboardFiles, err := filepath.Glob(filepath.Join(root, "dashboards", "json", "*.json"))
	if err != nil || len(dashboardFiles) == 0 {
		t.Fatalf("no committed dashboards under dashboards/json (err %v)", err)
	}
	seenJiraOnly := map[string]bool{}
	var withNumbers, executedOnly int
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
				_, jiraOnly := jiraOnlyPanels[panel.Title]
				seenJiraOnly[panel.Title] = seenJiraOnly[panel.Title] || jiraOnly
				for _, target := range panel.Targets {
					passed := t.Run(panel.Title+" "+target.RefID, func(t *testing.T) {
						checkPanelQuery(t, api, deadline, board, panel.Title, target.Expr)
					})
					switch {
					case passed && jiraOnly:
						executedOnly++
					case passed:
						withNumbers++
					}
				}
			}
		})
	}
	for title := range jiraOnlyPanels {
		if !seenJiraOnly[title] {
			t.Errorf("jiraOnlyPanels lists %q, which no dashboard has; update the list", title)
		}
	}
	t.Logf("%d panel queries returned numbers, %d Jira-only queries executed, %d recording rules returned numbers",
		withNumbers, executedOnly, len(rules.records))
}

func checkPanelQuery(t *testing.T, api *prometheusAPI, deadline time.Time, board dashboardJSON, panelTitle, expr string) {
	query, err := board.substitute(expr)
	if err != nil {
		t.Fatal(err)
	}
	// An error (bad syntax, unknown function) will not go away by waiting.
	if _, err := api.query(query); err != nil {
		t.Fatalf("query %s failed: %v", query, err)
	}
	if reason, jiraOnly := jiraOnlyPanels[panelTitle]; jiraOnly {
		t.Logf("not requiring data: %s", reason)
		return
	}
	waitFor(t, deadline, "a number from "+query, func() error { return api.expectNumberInRange(query) })
}

// labelValuesCall is the Grafana label_values(selector, label) template query.
var labelValuesCall = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

func checkVariable(t *testing.T, api *prometheusAPI, deadline time.Time, board dashboardJSON, variable variableJSON) {
	match := labelValuesCall.FindStringSubmatch(variable.Query)
	if match == nil {
		t.Fatalf("variable %s: query %q is not label_values(selector, label)", variable.Name, variable.Query)
	}
	selector, err := board.substitute(match[1])
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

// writeExporterConfig writes the demo desk configuration that both the
// in-process history and the binary use: same source name, seed, desks and
// rate, same store.
func writeExporterConfig(t *testing.T, workDir string) string {
	t.Helper()
	configPath := filepath.Join(workDir, "exporter.yml")
	config := fmt.Sprintf(`store:
  path: %s
sources:
  - name: demo
    type: demo
    poll_interval: 1s
    lookback: 30d
    demo: { seed: 1, desks: [IT, HR, FAC], tickets_per_day: 150 }
`, filepath.Join(workDir, "servicedesk.db"))
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

func startPrometheus(t *testing.T, binary, workDir, tsdbDir, address, exporterAddress string, ruleFiles []string) {
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
	startProcess(t, "prometheus", workDir, binary,
		"--config.file="+configPath,
		"--storage.tsdb.path="+tsdbDir,
		"--web.listen-address="+address)
}

// startProcess runs a long-lived child whose output goes to a log file in
// workDir. Cleanup stops exactly that PID: SIGTERM, then SIGKILL if it has
// not exited within a few seconds. On failure the log's tail is printed.
func startProcess(t *testing.T, name, workDir, binary string, args ...string) {
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
}

func tail(path string, lines int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
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

// substitute replaces the dashboard's variables the way Grafana does when
// "All" is selected (each variable's allValue regex), and the built-in range
// variables as Grafana would for a range query over the history (see
// querySpan). A variable the dashboard does not define is an error: Grafana
// would send it verbatim and the panel would break.
func (d dashboardJSON) substitute(expr string) (string, error) {
	values := map[string]string{
		"__rate_interval": model.Duration(rateInterval).String(),
		"__interval":      model.Duration(queryStep).String(),
		"__range":         model.Duration(querySpan).String(),
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

// queryRange runs a range query over the last querySpan every queryStep,
// ending now, the way a Grafana time-series panel showing the history asks.
func (a *prometheusAPI) queryRange(promql string) (queryResult, error) {
	end := time.Now()
	params := url.Values{
		"query": {promql},
		"start": {strconv.FormatInt(end.Add(-querySpan).Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(queryStep.Seconds(), 'f', -1, 64)},
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

// expectNumberInRange wants at least one non-NaN value anywhere in the
// range query over the history.
func (a *prometheusAPI) expectNumberInRange(promql string) error {
	result, err := a.queryRange(promql)
	if err != nil {
		return err
	}
	return result.wantNumber()
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
