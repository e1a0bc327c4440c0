package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
)

var (
	customerGroupLabels     = []string{"source", "desk", "customer_group"}
	teamLabels              = []string{"source", "desk", "team"}
	teamCustomerGroupLabels = []string{"source", "desk", "team", "customer_group"}
)

// segmentDescs are the families of one segment (customer group or team):
// the desk-level families again, cut by that one label instead of request
// type and priority, so that they sum to the desk totals.
type segmentDescs struct {
	created, resolved, reopened             *prometheus.Desc
	firstResponse, resolution, satisfaction *prometheus.Desc
	open, awaiting, oldestAwaitingAge       *prometheus.Desc
}

// newSegmentDescs names the families prefix_<family>. For the HELP texts,
// counted says whose value a counted event carries and now whose value a
// gauge reads.
func newSegmentDescs(prefix, counted, now string, labels []string) segmentDescs {
	return segmentDescs{
		created: newDesc(prefix+"_tickets_created_total",
			"Tickets created at or after the tracking horizon, by "+counted+", persisted across restarts."+refreshed, labels),
		resolved: newDesc(prefix+"_tickets_resolved_total",
			"Transitions of tickets into a done status category, by "+counted+", persisted across restarts."+refreshed, labels),
		reopened: newDesc(prefix+"_tickets_reopened_total",
			"Transitions of tickets from a done status category back to an open one, by "+counted+", persisted across restarts."+refreshed, labels),
		firstResponse: newDesc(prefix+"_first_response_seconds",
			"Time from ticket creation to the first response to the requester, by "+counted+", observed once per ticket and persisted across restarts."+refreshed, labels),
		resolution: newDesc(prefix+"_resolution_seconds",
			"Wall-clock time from ticket creation to each resolution, by "+counted+", persisted across restarts."+refreshed, labels),
		satisfaction: newDesc(prefix+"_satisfaction_rating",
			"Satisfaction ratings from 1 to 5, by "+counted+", one observation per rating given and persisted across restarts."+refreshed, labels),
		open: newDesc(prefix+"_open_tickets",
			"Tickets in scope that are open now, by "+now+"."+refreshed, labels),
		awaiting: newDesc(prefix+"_tickets_awaiting_first_response",
			"Open tickets that have no first response yet, by "+now+"."+refreshed, labels),
		oldestAwaitingAge: newDesc(prefix+"_oldest_awaiting_first_response_seconds",
			"Age of the oldest open ticket without a first response, by "+now+"."+refreshed, labels),
	}
}

func (d segmentDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.created, d.resolved, d.reopened, d.firstResponse, d.resolution, d.satisfaction,
		d.open, d.awaiting, d.oldestAwaitingAge}
}

// segmentCollector holds the families added for internal customers: per
// customer group, per team, their cross, and two desk-level gauges.
type segmentCollector struct {
	group, team                    segmentDescs
	crossFirstResponse, crossRated *prometheus.Desc
	unassigned, slaAtRisk          *prometheus.Desc
}

func newSegmentCollector() segmentCollector {
	return segmentCollector{
		group: newSegmentDescs("customer_group",
			"the internal customer group the ticket had when counted (none: without one)",
			"the ticket's internal customer group (none: without one)", customerGroupLabels),
		team: newSegmentDescs("team",
			"the team serving the ticket when counted (none: without one)",
			"the team serving the ticket (none: without one)", teamLabels),
		crossFirstResponse: newDesc("team_customer_group_first_response_seconds",
			"Time from ticket creation to the first response to the requester, by the serving team and customer group the ticket had when counted, observed once per ticket and persisted across restarts."+refreshed,
			teamCustomerGroupLabels),
		crossRated: newDesc("team_customer_group_satisfaction_rating",
			"Satisfaction ratings from 1 to 5, by the serving team and customer group the ticket had when counted, one observation per rating given and persisted across restarts."+refreshed,
			teamCustomerGroupLabels),
		unassigned: newDesc("unassigned_open_tickets",
			"Open tickets nobody is assigned to."+refreshed, deskLabels),
		slaAtRisk: newDesc("sla_at_risk_open_tickets",
			"Open tickets whose running, unpaused cycle of the SLA has used at least metrics.sla_at_risk_ratio of its goal and has not breached yet."+refreshed,
			deskSLALabels),
	}
}

func (c segmentCollector) describe(ch chan<- *prometheus.Desc) {
	for _, d := range append(append(c.group.all(), c.team.all()...), c.crossFirstResponse, c.crossRated, c.unassigned, c.slaAtRisk) {
		ch <- d
	}
}

func segmentMetrics(d segmentDescs, s *aggregate.SegmentSeries, labels ...string) []prometheus.Metric {
	return []prometheus.Metric{
		prometheus.MustNewConstMetric(d.created, prometheus.CounterValue, s.Created, labels...),
		prometheus.MustNewConstMetric(d.resolved, prometheus.CounterValue, s.Resolved, labels...),
		prometheus.MustNewConstMetric(d.reopened, prometheus.CounterValue, s.Reopened, labels...),
		prometheus.MustNewConstHistogram(d.firstResponse, s.FirstResponse.Count, s.FirstResponse.Sum, s.FirstResponse.Buckets, labels...),
		prometheus.MustNewConstHistogram(d.resolution, s.Resolution.Count, s.Resolution.Sum, s.Resolution.Buckets, labels...),
		prometheus.MustNewConstHistogram(d.satisfaction, s.Satisfaction.Count, s.Satisfaction.Sum, s.Satisfaction.Buckets, labels...),
	}
}

// snapshotMetrics appends the segment metrics that depend on s alone.
func (c segmentCollector) snapshotMetrics(out []prometheus.Metric, s *aggregate.Snapshot) []prometheus.Metric {
	for l, ser := range s.CustomerGroups {
		out = append(out, segmentMetrics(c.group, ser, l.Source, l.Desk, l.CustomerGroup)...)
	}
	for l, ser := range s.Teams {
		out = append(out, segmentMetrics(c.team, ser, l.Source, l.Desk, l.Team)...)
	}
	for l, ser := range s.TeamCustomerGroups {
		out = append(out,
			prometheus.MustNewConstHistogram(c.crossFirstResponse, ser.FirstResponse.Count, ser.FirstResponse.Sum, ser.FirstResponse.Buckets, l.Source, l.Desk, l.Team, l.CustomerGroup),
			prometheus.MustNewConstHistogram(c.crossRated, ser.Satisfaction.Count, ser.Satisfaction.Sum, ser.Satisfaction.Buckets, l.Source, l.Desk, l.Team, l.CustomerGroup))
	}
	for l, v := range s.CustomerGroupOpen {
		out = append(out, prometheus.MustNewConstMetric(c.group.open, prometheus.GaugeValue, v, l.Source, l.Desk, l.CustomerGroup))
	}
	for l, v := range s.CustomerGroupAwaiting {
		out = append(out, prometheus.MustNewConstMetric(c.group.awaiting, prometheus.GaugeValue, v, l.Source, l.Desk, l.CustomerGroup))
	}
	for l, v := range s.TeamOpen {
		out = append(out, prometheus.MustNewConstMetric(c.team.open, prometheus.GaugeValue, v, l.Source, l.Desk, l.Team))
	}
	for l, v := range s.TeamAwaiting {
		out = append(out, prometheus.MustNewConstMetric(c.team.awaiting, prometheus.GaugeValue, v, l.Source, l.Desk, l.Team))
	}
	for l, v := range s.Unassigned {
		out = append(out, prometheus.MustNewConstMetric(c.unassigned, prometheus.GaugeValue, v, l.Source, l.Desk))
	}
	return out
}

// collectAt sends the segment metrics that move with the clock.
func (c segmentCollector) collectAt(ch chan<- prometheus.Metric, s *aggregate.Snapshot, now time.Time) {
	for l, created := range s.CustomerGroupOldestAwaiting {
		ch <- prometheus.MustNewConstMetric(c.group.oldestAwaitingAge, prometheus.GaugeValue, ageSeconds(now, created), l.Source, l.Desk, l.CustomerGroup)
	}
	for l, created := range s.TeamOldestAwaiting {
		ch <- prometheus.MustNewConstMetric(c.team.oldestAwaitingAge, prometheus.GaugeValue, ageSeconds(now, created), l.Source, l.Desk, l.Team)
	}
	for l, r := range s.SLAAtRisk {
		ch <- prometheus.MustNewConstMetric(c.slaAtRisk, prometheus.GaugeValue, float64(r.AtRiskAt(now)), l.Source, l.Desk, l.SLA)
	}
}
