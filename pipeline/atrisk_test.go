package pipeline

import (
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// TestReconfigureAppliesAtRiskRatio checks that a reload changing only
// metrics.sla_at_risk_ratio takes effect: the ratio is applied when the
// snapshot is built, so an unchanged one would keep the old risk times.
func TestReconfigureAppliesAtRiskRatio(t *testing.T) {
	s, _ := newStore(t)
	tk := openTicketFacts("1", "IT", t0)
	tk.SLAs[0].Ongoing.Goal = 8 * time.Hour
	tk.SLAs[0].Ongoing.BreachAt = t0.Add(8 * time.Hour)
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{tk}})
	key := aggregate.DeskSLALabels{Source: "demo", Desk: "IT", SLA: "Time to first response"}
	atRisk := func() int { return s.Snapshot().SLAAtRisk[key].AtRiskAt(t0.Add(5 * time.Hour)) }
	if got := atRisk(); got != 0 {
		t.Fatalf("at risk after 5h of 8h with the default ratio: %d, want 0", got)
	}
	half := opts
	half.SLAAtRiskRatio = 0.5
	if err := s.Reconfigure(half); err != nil {
		t.Fatal(err)
	}
	if got := atRisk(); got != 1 {
		t.Fatalf("at risk after 5h of 8h with ratio 0.5: %d, want 1", got)
	}
}
