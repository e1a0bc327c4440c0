package collector

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
)

// realisticSnapshot is one source with 3 desks × 10 request types × 5
// priorities, 2 SLAs and 3 status categories per label set: larger than a
// real store would publish (open tickets are never in "done"), on purpose.
func realisticSnapshot() *aggregate.Snapshot {
	s := &aggregate.Snapshot{
		Tickets:        map[aggregate.TicketLabels]*aggregate.TicketSeries{},
		SLACycles:      map[aggregate.SLALabels]*aggregate.SLACounts{},
		Satisfaction:   map[aggregate.SatisfactionLabels]*aggregate.Histogram{},
		Open:           map[aggregate.OpenLabels]float64{},
		Awaiting:       map[aggregate.TicketLabels]float64{},
		OldestOpen:     map[aggregate.DeskLabels]time.Time{},
		OldestAwaiting: map[aggregate.DeskLabels]time.Time{},
		SLABreached:    map[aggregate.DeskSLALabels]*aggregate.BreachState{},
		Tracked:        map[string]int{"jira": 25000},
	}
	durationBuckets := map[float64]uint64{300: 1, 900: 2, 1800: 3, 3600: 4, 14400: 5, 28800: 6, 86400: 7, 259200: 8, 604800: 9}
	ratingBuckets := map[float64]uint64{1: 1, 2: 2, 3: 3, 4: 5, 5: 9}
	slas := []string{"Time to first response", "Time to resolution"}
	for _, desk := range []string{"IT", "HR", "FAC"} {
		dl := aggregate.DeskLabels{Source: "jira", Desk: desk}
		s.OldestOpen[dl] = scrapeTime.Add(-72 * time.Hour)
		s.OldestAwaiting[dl] = scrapeTime.Add(-3 * time.Hour)
		for _, sla := range slas {
			s.SLABreached[aggregate.DeskSLALabels{Source: "jira", Desk: desk, SLA: sla}] = &aggregate.BreachState{
				Breached: 3,
				Pending:  []time.Time{scrapeTime.Add(-time.Minute), scrapeTime.Add(time.Hour)},
			}
		}
		for rt := range 10 {
			requestType := fmt.Sprintf("Request type %d", rt)
			s.Satisfaction[aggregate.SatisfactionLabels{Source: "jira", Desk: desk, RequestType: requestType}] = &aggregate.Histogram{Count: 9, Sum: 36, Buckets: ratingBuckets}
			for _, priority := range []string{"Highest", "High", "Medium", "Low", "Lowest"} {
				tl := aggregate.TicketLabels{Source: "jira", Desk: desk, RequestType: requestType, Priority: priority}
				s.Tickets[tl] = &aggregate.TicketSeries{
					Created: 100, Resolved: 90, Reopened: 4,
					FirstResponse: aggregate.Histogram{Count: 9, Sum: 40000, Buckets: durationBuckets},
					Resolution:    aggregate.Histogram{Count: 9, Sum: 900000, Buckets: durationBuckets},
				}
				s.Awaiting[tl] = 2
				for _, category := range []string{"new", "indeterminate", "done"} {
					s.Open[aggregate.OpenLabels{TicketLabels: tl, StatusCategory: category}] = 3
				}
				for _, sla := range slas {
					s.SLACycles[aggregate.SLALabels{TicketLabels: tl, SLA: sla}] = &aggregate.SLACounts{Met: 80, Breached: 10}
				}
			}
		}
	}
	return s
}

func BenchmarkCollect(b *testing.B) {
	c := New(staticSnapshot(realisticSnapshot()), WithClock(pinnedClock))
	ch := make(chan prometheus.Metric, 4096)
	done := make(chan int)
	go func() {
		n := 0
		for range ch {
			n++
		}
		done <- n
	}()

	b.ReportAllocs()
	for b.Loop() {
		c.Collect(ch)
	}
	close(ch)
	b.ReportMetric(float64(<-done)/float64(b.N), "metrics/op")
}
