package exportertest

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/servicedesk-exporter/servicedesk_exporter/collector"
	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/poller"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
)

// DemoPipeline is the binary's demo desk → store → collector path in
// process, on a clock the test steps. The demo desk is a pure function of
// (seed, config, time), so stepping the clock gives exactly the series the
// binary would have exposed at those instants.
type DemoPipeline struct {
	Now      time.Time
	Store    *store.Store
	Poller   *poller.Poller
	Registry *prometheus.Registry
}

// NewDemoPipeline opens the store at storePath with the options the binary
// uses and wires cfg's first source, which must be a demo desk, as the
// binary does. Every series gets extraLabels (the target labels a scrape
// would add); nil adds none. The store is closed when the test ends.
func NewDemoPipeline(t testing.TB, cfg *config.Config, storePath string, start time.Time, extraLabels prometheus.Labels) *DemoPipeline {
	t.Helper()
	p := &DemoPipeline{Now: start, Registry: prometheus.NewRegistry()}
	clock := func() time.Time { return p.Now }
	opts := store.OptionsFor(cfg.Metrics)
	opts.Now = clock
	st, err := store.Open(storePath, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	p.Store = st
	sc := cfg.Sources[0]
	src, err := builtin.Registry().Build(sc, source.Env{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.WrapRegistererWith(extraLabels, p.Registry)
	reg.MustRegister(collector.New(st.Snapshot, collector.WithClock(clock)))
	p.Poller = poller.New(sc.Name, src, st, time.Duration(sc.PollInterval), sc.Horizon(start),
		promslog.NewNopLogger(), poller.NewMetrics(reg), poller.WithClock(clock))
	return p
}

// PollAt moves the clock to at and runs one poll.
func (p *DemoPipeline) PollAt(at time.Time) error {
	p.Now = at
	return p.Poller.PollOnce(context.Background())
}
