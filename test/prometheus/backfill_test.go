package prometheus

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
)

// writeOpenMetrics appends every series the pipeline exposes now, stamped
// with the pipeline's clock. Every step repeats each family with its # HELP
// and # TYPE lines, which strict OpenMetrics forbids but promtool's parser
// accepts; grouping each family's samples across steps instead would mean
// holding the whole history (about 150 MB) in memory.
func writeOpenMetrics(p *exportertest.DemoPipeline, out *bufio.Writer) error {
	families, err := p.Registry.Gather()
	if err != nil {
		return err
	}
	timestampMs := p.Now.UnixMilli()
	for _, family := range families {
		for _, metric := range family.Metric {
			metric.TimestampMs = &timestampMs
		}
		if _, err := expfmt.MetricFamilyToOpenMetrics(out, family); err != nil {
			return err
		}
	}
	return nil
}

// backfill is the history written before Prometheus starts.
type backfill struct {
	start, end time.Time
	step       time.Duration
}

// writeHistory runs the demo pipeline from b.start to b.end every b.step,
// writing what each step exposes to an OpenMetrics file, and leaves the
// store at cfg.Store.Path where the last step left it: the binary started
// on it continues the same counters without a reset.
func writeHistory(t *testing.T, cfg *config.Config, b backfill, extraLabels prometheus.Labels, path string) {
	t.Helper()
	const maxSteps = 400
	if steps := int(b.end.Sub(b.start) / b.step); steps > maxSteps {
		t.Fatalf("backfill of %d steps; keep it at most %d", steps, maxSteps)
	}
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	out := bufio.NewWriterSize(file, 1<<20)
	pipeline := exportertest.NewDemoPipeline(t, cfg, cfg.Store.Path, b.start, extraLabels)
	defer func() {
		if err := pipeline.Close(); err != nil {
			t.Error(err)
		}
	}()
	for at := b.start; !at.After(b.end); at = at.Add(b.step) {
		if err := pipeline.PollAt(at); err != nil {
			t.Fatalf("demo poll at %s: %v", at, err)
		}
		if err := writeOpenMetrics(pipeline, out); err != nil {
			t.Fatalf("writing history at %s: %v", at, err)
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(out); err != nil {
		t.Fatal(err)
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
}

// createBlocks turns the OpenMetrics history into TSDB blocks in tsdbDir,
// where Prometheus will find them at start-up.
func createBlocks(t *testing.T, promtool, openMetricsPath, tsdbDir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	command := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", openMetricsPath, tsdbDir)
	if output, err := command.CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, output)
	}
}

// loadConfig reads the exporter config the test wrote, with the binary's defaults applied.
func loadConfig(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path, builtin.Registry())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Type != "demo" {
		t.Fatalf("%s: want exactly one demo source", path)
	}
	return cfg
}
