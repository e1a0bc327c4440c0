package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/pipeline"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// toyConfig is the toy type's own section.
type toyConfig struct {
	Desk string `yaml:"desk"`
}

// toySource is a ticketing system of three tickets, created an hour before
// the clock: one answered after 30 minutes, one after 2 hours (when the
// clock has passed that), one never.
type toySource struct {
	desk string
	now  func() time.Time
}

func (s toySource) Poll(ctx context.Context, _ time.Time, _ []byte, emit func(context.Context, ticket.Batch) error) error {
	now := s.now()
	created := now.Add(-time.Hour)
	var tickets []ticket.Ticket
	for i, answer := range []time.Duration{30 * time.Minute, 2 * time.Hour, 0} {
		t := ticket.Ticket{
			ID: fmt.Sprint(i + 1), Key: fmt.Sprintf("TOY-%d", i+1), Desk: s.desk, RequestType: "Question", Priority: "P2",
			Created: created, Updated: created, Status: "open", StatusCategory: ticket.CategoryNew,
		}
		if answer > 0 && !created.Add(answer).After(now) {
			t.Comments = []ticket.Comment{{At: created.Add(answer), Author: ticket.AuthorAgent, Public: true}}
			t.Updated = created.Add(answer)
		}
		tickets = append(tickets, t)
	}
	return emit(ctx, ticket.Batch{Tickets: tickets, Cursor: []byte("done")})
}

func toyType() source.Type {
	return source.Type{
		Config: config.SourceType{
			Name:                "toy",
			DefaultPollInterval: model.Duration(time.Minute),
			Decode: func(section *yaml.Node) (any, error) {
				cfg := toyConfig{Desk: "TOY"}
				if section == nil {
					return cfg, nil
				}
				err := config.DecodeStrict(section, &cfg)
				return cfg, err
			},
		},
		New: func(sc config.Source, env source.Env) (source.Source, error) {
			return toySource{desk: sc.Settings.(toyConfig).Desk, now: env.Now}, nil
		},
	}
}

// A new source type registered through the registry alone gets metrics:
// no change to config, cmd or store code — and the exporter-side SLA
// policy of its config is measured by derivation like any source's.
func TestToySourceThroughTheRegistryAlone(t *testing.T) {
	types, err := source.NewRegistry(toyType())
	if err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf(`
store: { path: %s }
sources:
  - name: toy
    type: toy
    lookback: 1d
    toy: { desk: PLAY }
    slas:
      - name: Answer within an hour
        stop: first_response
        default_goal: 1h
`, filepath.Join(t.TempDir(), "sd.db"))
	cfg, err := config.Parse([]byte(file), "toy.yml", types)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	reg := prometheus.NewPedanticRegistry()
	p, err := pipeline.New(context.Background(), cfg, pipeline.Options{Types: types, Registerer: reg, Now: func() time.Time { return now }, Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.PollOnce(context.Background(), "toy"); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP servicedesk_tickets_created_total Tickets created at or after the tracking horizon, persisted across restarts. Refreshed in the background every poll_interval.
# TYPE servicedesk_tickets_created_total counter
servicedesk_tickets_created_total{desk="PLAY",priority="P2",request_type="Question",source="toy"} 3
# HELP servicedesk_sla_cycles_total Completed SLA cycles by outcome (met or breached), persisted across restarts. Refreshed in the background every poll_interval.
# TYPE servicedesk_sla_cycles_total counter
servicedesk_sla_cycles_total{desk="PLAY",outcome="breached",priority="P2",request_type="Question",sla="Answer within an hour",source="toy"} 0
servicedesk_sla_cycles_total{desk="PLAY",outcome="met",priority="P2",request_type="Question",sla="Answer within an hour",source="toy"} 1
# HELP servicedesk_sla_breached_open_tickets Open tickets whose ongoing cycle of the SLA is breached. Refreshed in the background every poll_interval.
# TYPE servicedesk_sla_breached_open_tickets gauge
servicedesk_sla_breached_open_tickets{desk="PLAY",sla="Answer within an hour",source="toy"} 2
# HELP servicedesk_up Whether the last poll of the source succeeded (1) or failed (0).
# TYPE servicedesk_up gauge
servicedesk_up{source="toy"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"servicedesk_tickets_created_total", "servicedesk_sla_cycles_total", "servicedesk_sla_breached_open_tickets", "servicedesk_up"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
}
