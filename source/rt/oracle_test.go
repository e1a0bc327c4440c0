package rt_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/rtserver"
)

// The oracle works out what the exporter must show from RT's own REST2
// data, read as root by its own plain code — none of the source's code,
// none of package ticket's — so that a mistake in either shows as a
// difference. It knows the rules from docs/metrics.md and docs/rt.md, the
// lifecycles from internal/rtserver, and the test's configuration from
// oracleConfig.

// oracleConfig is what the test configured, in the oracle's terms.
type oracleConfig struct {
	source  string
	queues  []string
	horizon time.Time
	// priority ranges, highest first: the first whose min the ticket's
	// priority reaches names it.
	priorities []struct {
		name string
		min  int
	}
	requestTypeField string
	satisfaction     string
	firstResponseSLA oracleSLA // stop at first response, around the clock
	resolutionSLA    oracleSLA // stop at resolution, in a business calendar, paused in some statuses
}

type oracleSLA struct {
	name        string
	goals       map[string]time.Duration // by priority name
	defaultGoal time.Duration
	pause       map[string]bool
	cal         *oracleCalendar // nil: around the clock
}

// oracleCalendar is working hours on working days in a zone, minus holidays.
type oracleCalendar struct {
	loc        *time.Location
	workdays   map[time.Weekday]bool
	start, end int             // hours of the local clock
	holidays   map[string]bool // YYYY-MM-DD
}

// working is the working time in [from, to): the sum, day by day, of the
// day's window intersected with the span. Independent of ticket.Calendar.
func (c *oracleCalendar) working(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	var total time.Duration
	d := from.In(c.loc)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.loc)
	for !day.After(to) {
		if c.workdays[day.Weekday()] && !c.holidays[day.Format(time.DateOnly)] {
			ws := time.Date(day.Year(), day.Month(), day.Day(), c.start, 0, 0, 0, c.loc)
			we := time.Date(day.Year(), day.Month(), day.Day(), c.end, 0, 0, 0, c.loc)
			lo, hi := laterOf(ws, from), earlierOf(we, to)
			if hi.After(lo) {
				total += hi.Sub(lo)
			}
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, c.loc)
	}
	return total
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlierOf(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// rtView is RT's data as root reads it.
type rtView struct {
	tickets map[int]*oTicket
	// departed are tickets that left the selection since the exporter
	// counted their events: those stay counted, the gauges drop them.
	departed    []*oTicket
	satisfID    string
	users       map[string]oUser
	readAt      time.Time
	inactive    map[string]map[string]bool // lifecycle → inactive statuses
	initialOrAc map[string]map[string]bool // lifecycle → initial and active statuses
	initial     map[string]map[string]bool
}

type oUser struct {
	privileged   bool
	organization string
}

type oTicket struct {
	id           int
	status       string
	queue        string
	lifecycle    string
	owner        string
	requestors   []string
	created      time.Time
	lastUpdated  time.Time
	priority     int
	customFields map[string]string
	txns         []oTxn
}

type oTxn struct {
	id       int
	typ      string
	field    string
	oldValue string
	newValue string
	at       time.Time
	creator  string
}

// readRT reads every ticket of the queues and every ticket transaction as
// root, and the users involved one by one.
func readRT(t *testing.T, srv *rtserver.Server, cfg oracleConfig) *rtView {
	t.Helper()
	v := &rtView{tickets: map[int]*oTicket{}, users: map[string]oUser{}, readAt: time.Now(),
		inactive: map[string]map[string]bool{}, initialOrAc: map[string]map[string]bool{}, initial: map[string]map[string]bool{}}
	for _, lc := range []rtserver.Lifecycle{
		{Name: "default", Initial: []string{"new"}, Active: []string{"open", "stalled"}, Inactive: []string{"resolved", "rejected", "deleted"}},
		rtserver.ScenarioLifecycle,
	} {
		v.inactive[lc.Name], v.initialOrAc[lc.Name], v.initial[lc.Name] = map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, s := range lc.Inactive {
			v.inactive[lc.Name][s] = true
		}
		for _, s := range append(slices.Clone(lc.Initial), lc.Active...) {
			v.initialOrAc[lc.Name][s] = true
		}
		for _, s := range lc.Initial {
			v.initial[lc.Name][s] = true
		}
	}
	v.satisfID = strconv.Itoa(srv.SatisfactionFieldID)

	var qs []string
	for _, q := range cfg.queues {
		qs = append(qs, "Queue = '"+q+"'")
	}
	path := "/tickets?query=" + url.QueryEscape(strings.Join(qs, " OR ")) +
		"&orderby=id&fields=Status,Queue,Owner,Requestor,Created,LastUpdated,Priority,CustomFields&fields%5BQueue%5D=Name,Lifecycle"
	for _, raw := range srv.All(t, srv.Root, path, 50) {
		var r struct {
			ID     string `json:"id"`
			Status string `json:"Status"`
			Queue  struct {
				Name      string `json:"Name"`
				Lifecycle string `json:"Lifecycle"`
			} `json:"Queue"`
			Owner struct {
				ID string `json:"id"`
			} `json:"Owner"`
			Requestor []struct {
				ID string `json:"id"`
			} `json:"Requestor"`
			Created      string `json:"Created"`
			LastUpdated  string `json:"LastUpdated"`
			Priority     string `json:"Priority"`
			CustomFields []struct {
				Name   string   `json:"name"`
				Values []string `json:"values"`
			} `json:"CustomFields"`
		}
		mustJSON(t, raw, &r)
		tk := &oTicket{id: atoi(t, r.ID), status: r.Status, queue: r.Queue.Name, lifecycle: r.Queue.Lifecycle,
			owner: r.Owner.ID, created: restTime(t, r.Created), lastUpdated: restTime(t, r.LastUpdated),
			priority: atoi(t, r.Priority), customFields: map[string]string{}}
		for _, req := range r.Requestor {
			tk.requestors = append(tk.requestors, req.ID)
		}
		for _, cf := range r.CustomFields {
			if len(cf.Values) > 0 {
				tk.customFields[cf.Name] = cf.Values[0]
			}
		}
		v.tickets[tk.id] = tk
	}
	txnPath := "/transactions?query=" + url.QueryEscape("ObjectType = 'RT::Ticket'") +
		"&orderby=id&fields=ObjectId,Type,Field,OldValue,NewValue,Created,Creator"
	for _, raw := range srv.All(t, srv.Root, txnPath, 200) {
		var r struct {
			ID       string `json:"id"`
			Resource string `json:"type"`
			Type     string `json:"Type"`
			ObjectID string `json:"ObjectId"`
			Field    string `json:"Field"`
			OldValue string `json:"OldValue"`
			NewValue string `json:"NewValue"`
			Created  string `json:"Created"`
			Creator  struct {
				ID string `json:"id"`
			} `json:"Creator"`
		}
		mustJSON(t, raw, &r)
		tk := v.tickets[atoi(t, r.ObjectID)]
		if tk == nil {
			continue
		}
		tk.txns = append(tk.txns, oTxn{id: atoi(t, r.ID), typ: r.Type, field: r.Field, oldValue: r.OldValue,
			newValue: r.NewValue, at: restTime(t, r.Created), creator: r.Creator.ID})
	}
	names := map[string]bool{}
	for _, tk := range v.tickets {
		sort.Slice(tk.txns, func(i, j int) bool { return tk.txns[i].id < tk.txns[j].id })
		for _, r := range tk.requestors {
			names[r] = true
		}
		for _, x := range tk.txns {
			if x.typ == "Correspond" || x.typ == "Comment" {
				names[x.creator] = true
			}
		}
	}
	for name := range names {
		var u struct {
			Privileged   int    `json:"Privileged"`
			Organization string `json:"Organization"`
		}
		srv.Call(t, srv.Root, http.MethodGet, "/user/"+url.PathEscape(name), nil, &u)
		v.users[name] = oUser{privileged: u.Privileged == 1, organization: u.Organization}
	}
	return v
}

func mustJSON(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, raw)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

func restTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("REST2 time %q: %v", s, err)
	}
	return tm
}

// labels of a ticket as the exporter names them, with its segments: the
// test configures customer_group from the requestors' Organization and
// team from the queue.
type oLabels struct{ desk, requestType, priority, group, team string }

func (v *rtView) labels(cfg oracleConfig, tk *oTicket) oLabels {
	l := oLabels{desk: tk.queue, requestType: tk.customFields[cfg.requestTypeField], group: "none", team: tk.queue}
	for _, p := range cfg.priorities {
		if tk.priority >= p.min {
			l.priority = p.name
			break
		}
	}
	if org := v.organization(tk); org != "" {
		l.group = org
	}
	return l
}

// organization is the Organization of the first requestor by name that has one.
func (v *rtView) organization(tk *oTicket) string {
	for _, r := range slices.Sorted(slices.Values(tk.requestors)) {
		if org := v.users[r].organization; org != "" {
			return org
		}
	}
	return ""
}

// segmentLabels are the label sets of the customer group and team families.
func (cfg oracleConfig) segmentLabels(l oLabels) (group, team, cross map[string]string) {
	return map[string]string{"source": cfg.source, "desk": l.desk, "customer_group": l.group},
		map[string]string{"source": cfg.source, "desk": l.desk, "team": l.team},
		map[string]string{"source": cfg.source, "desk": l.desk, "team": l.team, "customer_group": l.group}
}

func (v *rtView) done(tk *oTicket, status string) bool { return v.inactive[tk.lifecycle][status] }

// change is a status change that crosses the done line.
type change struct {
	at      time.Time
	resolve bool // else a reopen
}

func (v *rtView) doneChanges(tk *oTicket) []change {
	var out []change
	for _, x := range tk.txns {
		if x.typ != "Status" {
			continue
		}
		from, to := v.done(tk, x.oldValue), v.done(tk, x.newValue)
		switch {
		case to && !from:
			out = append(out, change{at: x.at, resolve: true})
		case from && !to:
			out = append(out, change{at: x.at})
		}
	}
	return out
}

// firstResponse is the first reply by a privileged user who is not a
// requestor of the ticket and not RT_System.
func (v *rtView) firstResponse(tk *oTicket) (time.Time, bool) {
	for _, x := range tk.txns {
		if x.typ == "Correspond" && x.creator != rtserver.SystemUserName && !slices.Contains(tk.requestors, x.creator) &&
			v.users[x.creator].privileged {
			return x.at, true
		}
	}
	return time.Time{}, false
}

// rating is the satisfaction field's last value, when a rating 1..5.
type rating struct {
	ticket int
	value  int
	at     time.Time
}

func (v *rtView) rating(tk *oTicket) (rating, bool) {
	var last *oTxn
	for i, x := range tk.txns {
		if x.typ == "CustomField" && x.field == v.satisfID {
			last = &tk.txns[i]
		}
	}
	if last == nil {
		return rating{}, false
	}
	n, err := strconv.Atoi(last.newValue)
	if err != nil || n < 1 || n > 5 {
		return rating{}, false
	}
	return rating{ticket: tk.id, value: n, at: last.at}, true
}

// inScope: what the exporter tracks, updated since the horizon or still
// in an initial or active status.
func (v *rtView) inScope(tk *oTicket, horizon time.Time) bool {
	return !tk.lastUpdated.Before(horizon) || v.initialOrAc[tk.lifecycle][tk.status]
}

// statusAt is the ticket's status timeline: the status from each instant on.
type statusSpan struct {
	from   time.Time
	status string
}

func (v *rtView) statusTimeline(tk *oTicket) []statusSpan {
	var spans []statusSpan
	for _, x := range tk.txns {
		if x.typ != "Status" {
			continue
		}
		if len(spans) == 0 {
			spans = append(spans, statusSpan{from: tk.created, status: x.oldValue})
		}
		spans = append(spans, statusSpan{from: x.at, status: x.newValue})
	}
	if len(spans) == 0 {
		spans = append(spans, statusSpan{from: tk.created, status: tk.status})
	}
	return spans
}

// elapsed is the SLA clock over [from, to): running time outside the
// policy's pause statuses, in its calendar.
func (s oracleSLA) elapsed(timeline []statusSpan, from, to time.Time) time.Duration {
	var total time.Duration
	for i, sp := range timeline {
		end := to
		if i+1 < len(timeline) {
			end = earlierOf(timeline[i+1].from, to)
		}
		start := laterOf(sp.from, from)
		if !end.After(start) || s.pause[sp.status] {
			continue
		}
		if s.cal == nil {
			total += end.Sub(start)
		} else {
			total += s.cal.working(start, end)
		}
	}
	return total
}

func (s oracleSLA) goal(priority string) time.Duration {
	if g, ok := s.goals[priority]; ok {
		return g
	}
	return s.defaultGoal
}

// expected is the exporter's /metrics as the oracle sees it: every series
// of the compared families, by its flat name (family, labels, le).
type expected map[string]map[string]float64

func (e expected) add(family, series string, v float64) {
	if e[family] == nil {
		e[family] = map[string]float64{}
	}
	e[family][series] += v
}

// seriesKey renders labels as name="value" pairs sorted by name.
func seriesKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// observe adds one observation to a histogram family: its series are
// _bucket (cumulative, with le), _sum and _count.
func (e expected) observe(family string, labels map[string]string, buckets []float64, v float64) {
	for _, le := range append(slices.Clone(buckets), math.Inf(1)) {
		n := 0.0
		if v <= le {
			n = 1
		}
		e.add(family, "_bucket"+seriesKey(withLE(labels, le)), n)
	}
	e.add(family, "_sum"+seriesKey(labels), v)
	e.add(family, "_count"+seriesKey(labels), 1)
}

func formatLE(le float64) string { return strconv.FormatFloat(le, 'g', -1, 64) }

func withLE(labels map[string]string, le float64) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out["le"] = formatLE(le)
	return out
}

// Buckets of the default configuration, in seconds (docs/configuration.md).
var (
	firstResponseBuckets = []float64{300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200, 604800}
	resolutionBuckets    = []float64{3600, 14400, 28800, 86400, 172800, 259200, 604800, 1209600, 2419200}
	ratingBuckets        = []float64{1, 2, 3, 4, 5}
)

// countedRatings is the oracle's ledger of ratings: a rating is counted
// once, when a poll sees it, and stays counted when it changes.
type countedRatings map[rating]oLabels

// see adds the ratings RT holds now.
func (c countedRatings) see(v *rtView, cfg oracleConfig) {
	for _, tk := range v.tickets {
		if !v.inScope(tk, cfg.horizon) {
			continue
		}
		if r, ok := v.rating(tk); ok && !r.at.Before(cfg.horizon) {
			if _, counted := c[r]; !counted {
				c[r] = v.labels(cfg, tk)
			}
		}
	}
}

// expect computes every compared family at now.
func (v *rtView) expect(cfg oracleConfig, ratings countedRatings, now time.Time) expected {
	e := expected{}
	h := cfg.horizon
	counts := func(at time.Time) bool { return !at.Before(h) }
	oldestOpen := map[string]time.Time{}
	oldestAwaiting := map[string]map[string]time.Time{} // family → series → created
	tracked := 0
	all := make([]*oTicket, 0, len(v.tickets)+len(v.departed))
	for _, tk := range v.tickets {
		all = append(all, tk)
	}
	current := len(all)
	all = append(all, v.departed...)
	for i, tk := range all {
		gone := i >= current
		if !v.inScope(tk, h) {
			continue
		}
		if !gone {
			tracked++
		}
		l := v.labels(cfg, tk)
		base := map[string]string{"source": cfg.source, "desk": l.desk, "request_type": l.requestType, "priority": l.priority}
		group, team, cross := cfg.segmentLabels(l)
		// count adds an event to its family and to the group and team ones.
		count := func(family string) {
			e.add("servicedesk_"+family, seriesKey(base), 1)
			e.add("servicedesk_customer_group_"+family, seriesKey(group), 1)
			e.add("servicedesk_team_"+family, seriesKey(team), 1)
		}
		if counts(tk.created) {
			count("tickets_created_total")
		}
		changes := v.doneChanges(tk)
		var firstResolve time.Time
		for _, c := range changes {
			if c.resolve && firstResolve.IsZero() {
				firstResolve = c.at
			}
			if !counts(c.at) {
				continue
			}
			if c.resolve {
				count("tickets_resolved_total")
				seconds := c.at.Sub(tk.created).Seconds()
				e.observe("servicedesk_resolution_seconds", base, resolutionBuckets, seconds)
				e.observe("servicedesk_customer_group_resolution_seconds", group, resolutionBuckets, seconds)
				e.observe("servicedesk_team_resolution_seconds", team, resolutionBuckets, seconds)
			} else {
				count("tickets_reopened_total")
			}
		}
		response, answered := v.firstResponse(tk)
		if answered && counts(response) {
			seconds := response.Sub(tk.created).Seconds()
			e.observe("servicedesk_first_response_seconds", base, firstResponseBuckets, seconds)
			e.observe("servicedesk_customer_group_first_response_seconds", group, firstResponseBuckets, seconds)
			e.observe("servicedesk_team_first_response_seconds", team, firstResponseBuckets, seconds)
			e.observe("servicedesk_team_customer_group_first_response_seconds", cross, firstResponseBuckets, seconds)
		}
		open := !gone && !v.done(tk, tk.status)
		timeline := v.statusTimeline(tk)
		// Time to first response: one cycle, created → first response or first resolution.
		frs := cfg.firstResponseSLA
		if goal := frs.goal(l.priority); goal > 0 {
			stop := response
			if !answered || (!firstResolve.IsZero() && firstResolve.Before(stop)) {
				stop = firstResolve
			}
			switch {
			case !stop.IsZero():
				if counts(stop) {
					e.slaCycle(base, frs.name, frs.elapsed(timeline, tk.created, stop) > goal)
				}
			case open:
				e.slaOpen(cfg.source, l.desk, frs.name, frs.elapsed(timeline, tk.created, now) > goal)
			}
		}
		// Time to resolution: created → resolution, and each reopen → the next.
		rs := cfg.resolutionSLA
		if goal := rs.goal(l.priority); goal > 0 {
			running, start := !v.done(tk, timeline[0].status), tk.created
			for _, c := range changes {
				switch {
				case running && c.resolve:
					if counts(c.at) {
						e.slaCycle(base, rs.name, rs.elapsed(timeline, start, c.at) > goal)
					}
					running = false
				case !running && !c.resolve:
					running, start = true, c.at
				}
			}
			if running && open {
				e.slaOpen(cfg.source, l.desk, rs.name, rs.elapsed(timeline, start, now) > goal)
			}
		}
		if !open {
			continue
		}
		cat := "indeterminate"
		if v.initial[tk.lifecycle][tk.status] {
			cat = "new"
		}
		e.add("servicedesk_open_tickets", seriesKey(map[string]string{"source": cfg.source, "desk": l.desk,
			"request_type": l.requestType, "priority": l.priority, "status_category": cat}), 1)
		e.add("servicedesk_customer_group_open_tickets", seriesKey(group), 1)
		e.add("servicedesk_team_open_tickets", seriesKey(team), 1)
		if tk.owner == "Nobody" {
			e.add("servicedesk_unassigned_open_tickets", seriesKey(map[string]string{"source": cfg.source, "desk": l.desk}), 1)
		}
		if o, ok := oldestOpen[l.desk]; !ok || tk.created.Before(o) {
			oldestOpen[l.desk] = tk.created
		}
		if !answered {
			e.add("servicedesk_tickets_awaiting_first_response", seriesKey(base), 1)
			e.add("servicedesk_customer_group_tickets_awaiting_first_response", seriesKey(group), 1)
			e.add("servicedesk_team_tickets_awaiting_first_response", seriesKey(team), 1)
			for _, a := range []struct {
				family string
				key    string
			}{{"servicedesk_oldest_awaiting_first_response_seconds", l.desk},
				{"servicedesk_customer_group_oldest_awaiting_first_response_seconds", seriesKey(group)},
				{"servicedesk_team_oldest_awaiting_first_response_seconds", seriesKey(team)}} {
				if oldestAwaiting[a.family] == nil {
					oldestAwaiting[a.family] = map[string]time.Time{}
				}
				if o, ok := oldestAwaiting[a.family][a.key]; !ok || tk.created.Before(o) {
					oldestAwaiting[a.family][a.key] = tk.created
				}
			}
		}
	}
	for r, l := range ratings {
		group, team, cross := cfg.segmentLabels(l)
		for family, labels := range map[string]map[string]string{
			"servicedesk_satisfaction_rating":                     {"source": cfg.source, "desk": l.desk, "request_type": l.requestType},
			"servicedesk_customer_group_satisfaction_rating":      group,
			"servicedesk_team_satisfaction_rating":                team,
			"servicedesk_team_customer_group_satisfaction_rating": cross,
		} {
			e.observe(family, labels, ratingBuckets, float64(r.value))
		}
	}
	for desk, created := range oldestOpen {
		e.add("servicedesk_oldest_open_ticket_age_seconds", seriesKey(map[string]string{"source": cfg.source, "desk": desk}), now.Sub(created).Seconds())
	}
	for family, oldest := range oldestAwaiting {
		for key, created := range oldest {
			if family == "servicedesk_oldest_awaiting_first_response_seconds" {
				key = seriesKey(map[string]string{"source": cfg.source, "desk": key})
			}
			e.add(family, key, now.Sub(created).Seconds())
		}
	}
	e.add("servicedesk_tickets_tracked", seriesKey(map[string]string{"source": cfg.source}), float64(tracked))
	return e
}

func (e expected) slaCycle(base map[string]string, sla string, breached bool) {
	for _, outcome := range []string{"met", "breached"} {
		l := map[string]string{"sla": sla, "outcome": outcome}
		for k, v := range base {
			l[k] = v
		}
		n := 0.0
		if (outcome == "breached") == breached {
			n = 1
		}
		e.add("servicedesk_sla_cycles_total", seriesKey(l), n)
	}
}

func (e expected) slaOpen(source, desk, sla string, breached bool) {
	n := 0.0
	if breached {
		n = 1
	}
	e.add("servicedesk_sla_breached_open_tickets", seriesKey(map[string]string{"source": source, "desk": desk, "sla": sla}), n)
}

// requestBudget is the fewest REST2 requests that read tickets in bulk:
// ticket pages of 100 (the last one short, so one more when the count is
// a multiple of 100), and per batch of 100 tickets the pages of the
// transactions the facts use, and one look-up per person who replied
// without being a requestor.
type requestBudget struct {
	tickets, transactions, users int
	rows                         int // history rows read, for the log
}

// historyRows are the transactions of a ticket the source reads: replies,
// comments, status changes and changes of the satisfaction field.
func (v *rtView) historyRows(tk *oTicket) int {
	n := 0
	for _, x := range tk.txns {
		switch {
		case x.typ == "Correspond", x.typ == "Comment", x.typ == "Status":
			n++
		case x.typ == "CustomField" && x.field == v.satisfID:
			n++
		}
	}
	return n
}

// incrementalPages is the ticket pages of an incremental poll after a
// poll at prev: every selected ticket updated since prev minus the
// overlap (5m, floored to RT's second) comes back, the unchanged ones too.
func (v *rtView) incrementalPages(prev time.Time) int {
	since := prev.Add(-5 * time.Minute).UTC().Truncate(time.Second)
	n := 0
	for _, tk := range v.tickets {
		if !tk.lastUpdated.Before(since) {
			n++
		}
	}
	return n/100 + 1
}

// fullSyncBudget is the minimum of an initial sync of the scope.
func (v *rtView) fullSyncBudget(cfg oracleConfig) requestBudget {
	var ids []int
	for id, tk := range v.tickets {
		if v.inScope(tk, cfg.horizon) {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	b := requestBudget{tickets: len(ids)/100 + 1}
	people := map[string]bool{}
	for start := 0; start < len(ids); start += 100 {
		rows := 0
		for _, id := range ids[start:min(start+100, len(ids))] {
			tk := v.tickets[id]
			rows += v.historyRows(tk)
			for _, x := range tk.txns {
				if (x.typ == "Correspond" || x.typ == "Comment") && x.creator != rtserver.SystemUserName && !slices.Contains(tk.requestors, x.creator) {
					people[x.creator] = true
				}
			}
		}
		b.transactions += rows/100 + 1
		b.rows += rows
	}
	b.users = len(people)
	return b
}
