package exportertest

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/pipeline"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
)

// DemoPipeline is the binary's pipeline in process, built by the same
// pipeline.New, on a clock the test steps and polled only when asked. The
// demo desk is a pure function of (seed, config, time), so stepping the
// clock gives exactly the series the binary would have exposed at those
// instants.
type DemoPipeline struct {
	Now      time.Time
	Pipeline *pipeline.Pipeline
	Registry *prometheus.Registry
	source   string
}

// NewDemoPipeline builds cfg's pipeline with its store at storePath, for
// its first source (a demo desk). Every series gets extraLabels (the target
// labels a scrape would add); nil adds none. The pipeline is closed when
// the test ends.
func NewDemoPipeline(t testing.TB, cfg *config.Config, storePath string, start time.Time, extraLabels prometheus.Labels) *DemoPipeline {
	t.Helper()
	p := &DemoPipeline{Now: start, Registry: prometheus.NewRegistry(), source: cfg.Sources[0].Name}
	c := *cfg
	c.Store.Path = storePath
	c.Sources = cfg.Sources[:1]
	pl, err := pipeline.New(context.Background(), &c, pipeline.Options{
		Types:      builtin.Registry(),
		Registerer: prometheus.WrapRegistererWith(extraLabels, p.Registry),
		Now:        func() time.Time { return p.Now },
		Manual:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pl.Close() })
	p.Pipeline = pl
	return p
}

// PollAt moves the clock to at and runs one poll.
func (p *DemoPipeline) PollAt(at time.Time) error {
	p.Now = at
	return p.Pipeline.PollOnce(context.Background(), p.source)
}

// Close closes the pipeline and its store (a restart, for tests that reopen it).
func (p *DemoPipeline) Close() error { return p.Pipeline.Close() }
