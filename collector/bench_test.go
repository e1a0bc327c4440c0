package collector

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/store"
)

// realisticSnapshot is one source with 3 desks × 10 request types × 5
// priorities, 2 SLAs and 3 status categories per label set: larger than a
// real store would publish (open tickets are never in "done"), on purpose.
func realisticSnapshot() *store.Snapshot {
	s := &store.Snapshot{
		Tickets:        map[store.TicketLabels]*store.TicketSeries{},
		SLACycles:      map[store.SLALabels]*store.SLACounts{},
		Satisfaction:   map[store.SatisfactionLabels]*store.Histogram{},
		Open:           map[store.OpenLabels]float64{},
		Awaiting:       map[store.TicketLabels]float64{},
		OldestOpen:     map[store.DeskLabels]time.Time{},
		OldestAwaiting: map[store.DeskLabels]time.Time{},
		SLABreached:    map[store.DeskSLALabels]*store.BreachState{},
		Tracked:        map[string]int{"jira": 25000},
	}
	durationBuckets := map[float64]uint64{300: 1, 900: 2, 1800: 3, 3600: 4, 14400: 5, 28800: 6, 86400: 7, 259200: 8, 604800: 9}
	ratingBuckets := map[float64]uint64{1: 1, 2: 2, 3: 3, 4: 5, 5: 9}
	slas := []string{"Time to first response", "Time to resolution"}
	for _, desk := range []string{"IT", "HR", "FAC"} {
		dl := store.DeskLabels{Source: "jira", Desk: desk}
		s.OldestOpen[dl] = scrapeTime.Add(-72 * time.Hour)
		s.OldestAwaiting[dl] = scrapeTime.Add(-3 * time.Hour)
		for _, sla := range slas {
			s.SLABreached[store.DeskSLALabels{Source: "jira", Desk: desk, SLA: sla}] = &store.BreachState{
				Breached: 3,
				Pending:  []time.Time{scrapeTime.Add(-time.Minute), scrapeTime.Add(time.Hour)},
			}
		}
		for rt := range 10 {
			requestType := fmt.Sprintf("Request type %d", rt)
			s.Satisfaction[store.SatisfactionLabels{Source: "jira", Desk: desk, RequestType: requestType}] = &store.Histogram{Count: 9, Sum: 36, Buckets: ratingBuckets}
			for _, priority := range []string{"Highest", "High", "Medium", "Low", "Lowest"} {
				tl := store.TicketLabels{Source: "jira", Desk: desk, RequestType: requestType, Priority: priority}
				s.Tickets[tl] = &store.TicketSeries{
					Created: 100, Resolved: 90, Reopened: 4,
					FirstResponse: store.Histogram{Count: 9, Sum: 40000, Buckets: durationBuckets},
					Resolution:    store.Histogram{Count: 9, Sum: 900000, Buckets: durationBuckets},
				}
				s.Awaiting[tl] = 2
				for _, category := range []string{"new", "indeterminate", "done"} {
					s.Open[store.OpenLabels{TicketLabels: tl, StatusCategory: category}] = 3
				}
				for _, sla := range slas {
					s.SLACycles[store.SLALabels{TicketLabels: tl, SLA: sla}] = &store.SLACounts{Met: 80, Breached: 10}
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
