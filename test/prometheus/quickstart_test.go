package prometheus

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
)

// TestQuickstartLoadsHistoryFirst checks by reading examples/ (no Docker
// engine runs here) that the quickstart runs load-history.sh — the script
// TestBackfillDashboardsAndRulesAgainstRealPrometheus runs for real — the
// way that test does: before Prometheus starts, on Prometheus' data
// volume, with the Prometheus release the server runs, against the target
// Prometheus scrapes, over a range the exporter's store and Prometheus'
// retention hold.
func TestQuickstartLoadsHistoryFirst(t *testing.T) {
	root := repoRoot(t)
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Entrypoint  []string          `yaml:"entrypoint"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			DependsOn   yaml.Node         `yaml:"depends_on"`
		} `yaml:"services"`
	}
	readYAML(t, filepath.Join(root, "examples", "docker-compose.yml"), &compose)
	loader, ok := compose.Services["history-loader"]
	if !ok {
		t.Fatal("no history-loader service")
	}
	prom := compose.Services["prometheus"]
	if loader.Image != prom.Image {
		t.Errorf("history-loader runs %s, Prometheus %s: promtool must write blocks the server reads", loader.Image, prom.Image)
	}
	mounts := func(volumes []string) map[string]string {
		out := map[string]string{}
		for _, v := range volumes {
			parts := strings.Split(v, ":")
			out[parts[1]] = parts[0]
		}
		return out
	}
	lm, pm := mounts(loader.Volumes), mounts(prom.Volumes)
	if strings.Join(loader.Entrypoint, " ") != "/bin/sh /history/load-history.sh" || lm["/history"] != "./history" {
		t.Errorf("history-loader does not run ./history/load-history.sh: entrypoint %v, mounts %v", loader.Entrypoint, lm)
	}
	if _, err := os.Stat(filepath.Join(root, "examples", "history", "load-history.sh")); err != nil {
		t.Error(err)
	}
	dataDir := "/prometheus"
	var retention time.Duration
	for _, arg := range prom.Command {
		if v, ok := strings.CutPrefix(arg, "--storage.tsdb.path="); ok {
			dataDir = v
		}
		if v, ok := strings.CutPrefix(arg, "--storage.tsdb.retention.time="); ok {
			d, err := model.ParseDuration(v)
			if err != nil {
				t.Fatal(err)
			}
			retention = time.Duration(d)
		}
	}
	if d := loader.Environment["DATA_DIR"]; d != "" && d != dataDir {
		t.Errorf("history-loader writes to %s, Prometheus reads %s", d, dataDir)
	}
	if lm[dataDir] == "" || lm[dataDir] != pm[dataDir] {
		t.Errorf("history-loader mounts %q at %s, Prometheus %q", lm[dataDir], dataDir, pm[dataDir])
	}
	for _, rules := range strings.Fields(loader.Environment["RULES"]) {
		dir, file := filepath.Split(rules)
		host := lm[strings.TrimSuffix(dir, "/")]
		if _, err := os.Stat(filepath.Join(root, "examples", host, file)); err != nil {
			t.Errorf("RULES names %s, which is not a mounted rule file: %v", rules, err)
		}
	}
	var after yaml.Node
	for i := 0; i+1 < len(prom.DependsOn.Content); i += 2 {
		if prom.DependsOn.Content[i].Value == "history-loader" {
			after = *prom.DependsOn.Content[i+1]
		}
	}
	var cond struct {
		Condition string `yaml:"condition"`
	}
	if err := after.Decode(&cond); err != nil || cond.Condition != "service_completed_successfully" {
		t.Errorf("Prometheus does not wait for the history-loader to complete (%+v, %v)", cond, err)
	}

	var scrape struct {
		Global struct {
			EvaluationInterval string `yaml:"evaluation_interval"`
		} `yaml:"global"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, filepath.Join(root, "examples", "prometheus.yml"), &scrape)
	if len(scrape.ScrapeConfigs) != 1 || len(scrape.ScrapeConfigs[0].StaticConfigs) != 1 {
		t.Fatal("examples/prometheus.yml: want one scrape job with one target")
	}
	job, target := scrape.ScrapeConfigs[0].JobName, scrape.ScrapeConfigs[0].StaticConfigs[0].Targets[0]
	if url := loader.Environment["EXPORTER_URL"]; url != "http://"+target {
		t.Errorf("history-loader fetches %s; Prometheus scrapes %s, whose instance label the history must carry", url, target)
	}
	if j := loader.Environment["JOB"]; j != "" && j != job || j == "" && job != scrapeJob {
		t.Errorf("history-loader labels the job %q, Prometheus scrapes job %q", j, job)
	}
	if e := loader.Environment["EVAL_INTERVAL"]; e != scrape.Global.EvaluationInterval {
		t.Errorf("rules backfilled every %s, evaluated every %s", e, scrape.Global.EvaluationInterval)
	}

	cfg, err := config.Load(filepath.Join(root, "config.yaml"), builtin.Registry())
	if err != nil {
		t.Fatal(err)
	}
	days, err := strconv.Atoi(loader.Environment["HISTORY_DAYS"])
	if err != nil {
		t.Fatalf("HISTORY_DAYS: %v", err)
	}
	span := time.Duration(days) * 24 * time.Hour
	if lookback := time.Duration(cfg.Sources[0].Lookback); span > lookback || span > retention {
		t.Errorf("%s of history, but the image's config tracks %s and Prometheus keeps %s", span, lookback, retention)
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
