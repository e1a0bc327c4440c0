// Package collector exposes the aggregates' ticket snapshot as Prometheus metrics.
//
// The collector does no I/O: pollers keep the store and the aggregates up to
// date in the background, and the pipeline publishes an immutable snapshot
// after commits.
// A scrape only reads the latest snapshot and turns it into const metrics, so
// concurrent scrapes never interfere and label sets that disappear from the
// snapshot disappear from the exposition.
package collector

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
)

const namespace = "servicedesk"

// refreshed ends every HELP text: the values come from a background poll, not
// from the scrape, so they can be up to one poll interval old. Counters and
// histograms also say they are persisted: the store keeps them across
// restarts, so they never decrease.
const refreshed = " Refreshed in the background every poll_interval."

var (
	ticketLabels       = []string{"source", "desk", "request_type", "priority"}
	slaCycleLabels     = []string{"source", "desk", "request_type", "priority", "sla", "outcome"}
	satisfactionLabels = []string{"source", "desk", "request_type"}
	openLabels         = []string{"source", "desk", "request_type", "priority", "status_category"}
	deskLabels         = []string{"source", "desk"}
	deskSLALabels      = []string{"source", "desk", "sla"}
	sourceLabels       = []string{"source"}
)

// SLA cycle outcomes, the values of the outcome label.
const (
	outcomeMet      = "met"
	outcomeBreached = "breached"
)

func newDesc(name, help string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// Collector is a prometheus.Collector over the latest snapshot.
type Collector struct {
	snapshot func() *aggregate.Snapshot
	now      func() time.Time

	created, resolved, reopened      *prometheus.Desc
	slaCycles                        *prometheus.Desc
	firstResponse, resolution        *prometheus.Desc
	satisfaction                     *prometheus.Desc
	open, awaiting                   *prometheus.Desc
	oldestOpenAge, oldestAwaitingAge *prometheus.Desc
	slaBreachedOpen                  *prometheus.Desc
	tracked                          *prometheus.Desc
	segments                         segmentCollector

	// cache holds the metrics that depend on the snapshot alone. Snapshots
	// change at most once a second while scrapes may come in bursts from
	// many Prometheus servers: building once per snapshot keeps a scrape's
	// cost (and garbage) independent of how many run at the same time.
	mu    sync.Mutex
	cache snapshotMetrics
}

type snapshotMetrics struct {
	snap    *aggregate.Snapshot
	metrics []prometheus.Metric
}

var _ prometheus.Collector = (*Collector)(nil)

// Option configures a Collector.
type Option func(*Collector)

// WithClock sets the clock used for ages and pending SLA breaches; tests pin it.
func WithClock(now func() time.Time) Option {
	return func(c *Collector) { c.now = now }
}

// New returns a Collector that reads the snapshot returned by snapshot on
// every scrape. snapshot must be cheap and safe for concurrent use (typically
// an atomic pointer load); it may return nil before the first commit.
func New(snapshot func() *aggregate.Snapshot, opts ...Option) *Collector {
	c := &Collector{
		snapshot: snapshot,
		now:      time.Now,

		created: newDesc("tickets_created_total",
			"Tickets created at or after the tracking horizon, persisted across restarts."+refreshed, ticketLabels),
		resolved: newDesc("tickets_resolved_total",
			"Transitions of tickets into a done status category, persisted across restarts."+refreshed, ticketLabels),
		reopened: newDesc("tickets_reopened_total",
			"Transitions of tickets from a done status category back to an open one, persisted across restarts."+refreshed, ticketLabels),
		slaCycles: newDesc("sla_cycles_total",
			"Completed SLA cycles by outcome (met or breached), persisted across restarts."+refreshed, slaCycleLabels),
		firstResponse: newDesc("first_response_seconds",
			"Time from ticket creation to the first response to the requester, observed once per ticket and persisted across restarts."+refreshed, ticketLabels),
		resolution: newDesc("resolution_seconds",
			"Wall-clock time from ticket creation to each resolution, persisted across restarts."+refreshed, ticketLabels),
		satisfaction: newDesc("satisfaction_rating",
			"Satisfaction ratings from 1 to 5, one observation per rating given and persisted across restarts."+refreshed, satisfactionLabels),
		open: newDesc("open_tickets",
			"Tickets in scope that are open now."+refreshed, openLabels),
		awaiting: newDesc("tickets_awaiting_first_response",
			"Open tickets that have no first response yet."+refreshed, ticketLabels),
		oldestOpenAge: newDesc("oldest_open_ticket_age_seconds",
			"Age of the oldest open ticket on the desk."+refreshed, deskLabels),
		oldestAwaitingAge: newDesc("oldest_awaiting_first_response_seconds",
			"Age of the oldest open ticket on the desk that has no first response yet."+refreshed, deskLabels),
		slaBreachedOpen: newDesc("sla_breached_open_tickets",
			"Open tickets whose ongoing cycle of the SLA is breached."+refreshed, deskSLALabels),
		tracked: newDesc("tickets_tracked",
			"Tickets in the source's scope, open or not."+refreshed, sourceLabels),
		segments: newSegmentCollector(),
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Describe sends the descriptors of every family the collector can emit.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.created, c.resolved, c.reopened, c.slaCycles,
		c.firstResponse, c.resolution, c.satisfaction,
		c.open, c.awaiting, c.oldestOpenAge, c.oldestAwaitingAge,
		c.slaBreachedOpen, c.tracked,
	} {
		ch <- d
	}
	c.segments.describe(ch)
}

// Collect emits the latest snapshot as const metrics. Before the pipeline has
// published a snapshot it emits nothing.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	if s == nil {
		return
	}
	for _, m := range c.snapshotMetrics(s) {
		ch <- m
	}
	// Ages and breaches that come due move with the clock, so they are
	// computed per scrape; there are only a few per desk.
	now := c.now()
	for l, created := range s.OldestOpen {
		ch <- prometheus.MustNewConstMetric(c.oldestOpenAge, prometheus.GaugeValue, ageSeconds(now, created), l.Source, l.Desk)
	}
	for l, created := range s.OldestAwaiting {
		ch <- prometheus.MustNewConstMetric(c.oldestAwaitingAge, prometheus.GaugeValue, ageSeconds(now, created), l.Source, l.Desk)
	}
	for l, b := range s.SLABreached {
		ch <- prometheus.MustNewConstMetric(c.slaBreachedOpen, prometheus.GaugeValue, float64(b.BreachedAt(now)), l.Source, l.Desk, l.SLA)
	}
	c.segments.collectAt(ch, s, now)
}

// snapshotMetrics returns the metrics that depend on s alone, built once per
// snapshot; concurrent scrapes of a new snapshot wait for one build.
func (c *Collector) snapshotMetrics(s *aggregate.Snapshot) []prometheus.Metric {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache.snap == s {
		return c.cache.metrics
	}
	out := make([]prometheus.Metric, 0, 5*len(s.Tickets)+2*len(s.SLACycles)+len(s.Satisfaction)+len(s.Open)+len(s.Awaiting)+len(s.Tracked))
	for l, t := range s.Tickets {
		out = append(out,
			prometheus.MustNewConstMetric(c.created, prometheus.CounterValue, t.Created, l.Source, l.Desk, l.RequestType, l.Priority),
			prometheus.MustNewConstMetric(c.resolved, prometheus.CounterValue, t.Resolved, l.Source, l.Desk, l.RequestType, l.Priority),
			prometheus.MustNewConstMetric(c.reopened, prometheus.CounterValue, t.Reopened, l.Source, l.Desk, l.RequestType, l.Priority),
			prometheus.MustNewConstHistogram(c.firstResponse, t.FirstResponse.Count, t.FirstResponse.Sum, t.FirstResponse.Buckets, l.Source, l.Desk, l.RequestType, l.Priority),
			prometheus.MustNewConstHistogram(c.resolution, t.Resolution.Count, t.Resolution.Sum, t.Resolution.Buckets, l.Source, l.Desk, l.RequestType, l.Priority),
		)
	}
	for l, n := range s.SLACycles {
		out = append(out,
			prometheus.MustNewConstMetric(c.slaCycles, prometheus.CounterValue, n.Met, l.Source, l.Desk, l.RequestType, l.Priority, l.SLA, outcomeMet),
			prometheus.MustNewConstMetric(c.slaCycles, prometheus.CounterValue, n.Breached, l.Source, l.Desk, l.RequestType, l.Priority, l.SLA, outcomeBreached),
		)
	}
	for l, h := range s.Satisfaction {
		out = append(out, prometheus.MustNewConstHistogram(c.satisfaction, h.Count, h.Sum, h.Buckets, l.Source, l.Desk, l.RequestType))
	}
	for l, v := range s.Open {
		out = append(out, prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, v, l.Source, l.Desk, l.RequestType, l.Priority, l.StatusCategory))
	}
	for l, v := range s.Awaiting {
		out = append(out, prometheus.MustNewConstMetric(c.awaiting, prometheus.GaugeValue, v, l.Source, l.Desk, l.RequestType, l.Priority))
	}
	for source, n := range s.Tracked {
		out = append(out, prometheus.MustNewConstMetric(c.tracked, prometheus.GaugeValue, float64(n), source))
	}
	out = c.segments.snapshotMetrics(out, s)
	c.cache = snapshotMetrics{snap: s, metrics: out}
	return out
}

// ageSeconds is the time elapsed since created, clamped at zero because a
// source's clock may run slightly ahead of ours.
func ageSeconds(now, created time.Time) float64 {
	return max(now.Sub(created).Seconds(), 0)
}
