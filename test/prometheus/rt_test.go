package prometheus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/rtserver"
)

// rtWithoutData are panels an RT desk leaves empty, with the reason: the
// query must still parse and execute.
var rtWithoutData = map[string]string{
	"API responses rate limited": "RT answers no 429 and no Retry-After, so servicedesk_api_rate_limited_total is never counted",
}

const (
	rtTickets = 30
	rtSource  = "helpdesk"
	// rtBudget bounds the waiting once the exporter and Prometheus run.
	rtBudget = 90 * time.Second
)

// TestRTDashboardsAndRules runs the exporter on a real RT 5
// with Prometheus scraping it every second and the rules loaded, makes
// agents and customers work while it scrapes — new tickets, replies,
// resolutions, ratings, a reopen by mail — and then requires every
// dashboard panel query to execute, every one that applies to RT to
// return a number, every variable to have values, every rule group to
// evaluate without error and every recording rule to return a number:
// the dashboards and alerts serve an RT desk unchanged.
//
// There is no backfill: ratios and quantiles need tickets that finished
// inside their window, and the live work provides them.
func TestRTDashboardsAndRules(t *testing.T) {
	prometheusBinary := requireTool(t, "prometheus")
	root := repoRoot(t)
	began := time.Now()
	srv := rtserver.Start(t, rtserver.Options{Lifecycles: []rtserver.Lifecycle{rtserver.ScenarioLifecycle}})
	sc := rtserver.BuildScenario(t, srv, rtserver.ScenarioOptions{Seed: 5, Tickets: rtTickets})

	workDir := t.TempDir()
	exporterBinary := exportertest.Binary(t)
	exporterAddress := exportertest.FreeAddr(t)
	prometheusAddress := exportertest.FreeAddr(t)
	configPath := writeRTExporterConfig(t, workDir, srv, sc)
	startExporter(t, exporterBinary, workDir, configPath, exporterAddress)
	ruleFiles := ruleFilePaths(t, root)
	startPrometheus(t, prometheusBinary, workDir, filepath.Join(workDir, "tsdb"), prometheusAddress, exporterAddress, ruleFiles)

	api := &prometheusAPI{base: "http://" + prometheusAddress}
	deadline := time.Now().Add(rtBudget)
	waitFor(t, deadline, "Prometheus to be ready", func() error { return api.ready() })
	waitFor(t, deadline, "scrapes of the exporter after its initial sync", func() error {
		return api.expectData(`count_over_time(servicedesk_initial_sync_progress_ratio{job="` + scrapeJob + `", source="` + rtSource + `"}[1m]) >= 3 and servicedesk_initial_sync_progress_ratio == 1`)
	})
	// Rounds of work a few scrapes apart, so every window holds changes;
	// after the first, enough ratings per group for the "least satisfied"
	// table, which wants five (a series first seen with the first round's
	// ratings already in it counts only what came later).
	for round := range 3 {
		workOnRT(t, srv, sc, round)
		time.Sleep(3 * time.Second)
	}
	waitFor(t, deadline, "the work's resolutions in Prometheus", func() error {
		return api.expectNumberNow(`increase(servicedesk_tickets_resolved_total{job="` + scrapeJob + `"}[5m]) > 0`)
	})

	rules := readRuleFiles(t, ruleFiles)
	t.Run("rules evaluate without error", func(t *testing.T) {
		waitFor(t, deadline, "every rule group to evaluate healthily", func() error { return api.rulesHealthy(rules.groups) })
	})
	t.Run("recording rules return numbers", func(t *testing.T) {
		for _, record := range rules.records {
			waitFor(t, deadline, "a number from recording rule "+record, func() error { return api.expectNumberNow(record) })
		}
	})
	dashboardFiles, err := filepath.Glob(filepath.Join(root, "dashboards", "json", "*.json"))
	if err != nil || len(dashboardFiles) == 0 {
		t.Fatalf("no committed dashboards under dashboards/json (err %v)", err)
	}
	seen := map[string]bool{}
	var withNumbers, executedOnly int
	for _, path := range dashboardFiles {
		board := readDashboard(t, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			for _, variable := range board.Templating.List {
				if variable.Type == "query" {
					t.Run("variable "+variable.Name, func(t *testing.T) { checkVariable(t, api, deadline, board, variable) })
				}
			}
			for _, panel := range board.allPanels() {
				reason, noData := rtWithoutData[panel.Title]
				seen[panel.Title] = seen[panel.Title] || noData
				for _, target := range panel.Targets {
					passed := t.Run(panel.Title+" "+target.RefID, func(t *testing.T) {
						query, err := board.substitute(target.Expr)
						if err != nil {
							t.Fatal(err)
						}
						if _, err := api.query(query); err != nil {
							t.Fatalf("query %s failed: %v", query, err)
						}
						if noData {
							t.Logf("not requiring data: %s", reason)
							return
						}
						waitFor(t, deadline, "a number from "+query, func() error { return api.expectNumberInRange(query) })
					})
					switch {
					case passed && noData:
						executedOnly++
					case passed:
						withNumbers++
					}
				}
			}
		})
	}
	for title := range rtWithoutData {
		if !seen[title] {
			t.Errorf("rtWithoutData lists %q, which no dashboard has; update the list", title)
		}
	}
	t.Logf("RT desk: %d panel queries returned numbers, %d executed without data, %d recording rules returned numbers; took %v",
		withNumbers, executedOnly, len(rules.records), time.Since(began).Round(time.Millisecond))
}

// writeRTExporterConfig points the exporter at the RT with an SLA policy
// of each kind, polled every second.
func writeRTExporterConfig(t *testing.T, workDir string, srv *rtserver.Server, sc *rtserver.Scenario) string {
	t.Helper()
	tokenPath := filepath.Join(workDir, "rt-token")
	if err := os.WriteFile(tokenPath, []byte(srv.API.Token), 0o600); err != nil {
		t.Fatal(err)
	}
	queues := make([]string, len(sc.Queues))
	for i, q := range sc.Queues {
		queues[i] = q.Name
	}
	config := fmt.Sprintf(`store:
  path: %s
sources:
  - name: %s
    type: rt
    poll_interval: 1s
    lookback: 30d
    segments:
      customer_group: { field: Requestor.Organization }
      team: { field: Queue }
    slas:
      - { name: Time to first response, stop: first_response, default_goal: 4h }
      - { name: Time to resolution, stop: resolution, default_goal: 2d, pause_statuses: [stalled, waiting] }
    rt:
      url: %s
      queues: [%s]
      lifecycles:
        facilities: { initial: [reported], active: [assigned, waiting], inactive: [done, cancelled] }
    http_client:
      authorization: { type: token, credentials_file: %s }
`, filepath.Join(workDir, "servicedesk.db"), rtSource, srv.URL, strings.Join(queues, ", "), tokenPath)
	path := filepath.Join(workDir, "exporter.yml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// workOnRT is one round of a desk's work: five new tickets by the web
// form, four answered, resolved and rated, one left unanswered, and a
// resolved one reopened by its requestor's mail.
func workOnRT(t *testing.T, srv *rtserver.Server, sc *rtserver.Scenario, round int) {
	t.Helper()
	queue := sc.Queues[0].Name
	customer := sc.Customers[round%len(sc.Customers)]
	specs := make([]rtserver.TicketSpec, 5)
	for i := range specs {
		specs[i] = rtserver.TicketSpec{Queue: queue, Subject: fmt.Sprintf("live %d.%d", round, i),
			Requestors: []string{customer.Name}, Content: "Please help."}
	}
	ids := srv.CreateTickets(t, sc.Intake.Credentials(), specs)
	agent := sc.Agents[round%(len(sc.Agents)-1)]
	replies := make([]rtserver.Message, 4)
	for i := range replies {
		replies[i] = rtserver.Message{Ticket: ids[i], Content: "Done.", Status: "resolved"}
	}
	srv.CorrespondBulk(t, agent.Credentials(), replies)
	ratings := make([]rtserver.TicketUpdate, 4)
	for i := range ratings {
		ratings[i] = rtserver.TicketUpdate{Ticket: ids[i], CustomFields: map[string]string{rtserver.SatisfactionField: fmt.Sprint(2 + i)}}
	}
	srv.UpdateTickets(t, sc.Intake.Credentials(), ratings)
	srv.SendMail(t, rtserver.Mail{From: customer.EmailAddress, Queue: queue, Subject: specs[0].Subject, Ticket: ids[0],
		Body: "Still broken."})
}
