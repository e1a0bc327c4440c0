package rt_test

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// comparedFamilies are the ticket families the oracle computes: every
// counter, histogram and current-state gauge of docs/metrics.md.
var comparedFamilies = []string{
	"servicedesk_tickets_created_total",
	"servicedesk_tickets_resolved_total",
	"servicedesk_tickets_reopened_total",
	"servicedesk_first_response_seconds",
	"servicedesk_resolution_seconds",
	"servicedesk_satisfaction_rating",
	"servicedesk_sla_cycles_total",
	"servicedesk_open_tickets",
	"servicedesk_tickets_awaiting_first_response",
	"servicedesk_sla_breached_open_tickets",
	"servicedesk_oldest_open_ticket_age_seconds",
	"servicedesk_oldest_awaiting_first_response_seconds",
	"servicedesk_tickets_tracked",
	"servicedesk_unassigned_open_tickets",
	// By internal customer group and serving team (segments).
	"servicedesk_customer_group_tickets_created_total",
	"servicedesk_customer_group_tickets_resolved_total",
	"servicedesk_customer_group_tickets_reopened_total",
	"servicedesk_customer_group_first_response_seconds",
	"servicedesk_customer_group_resolution_seconds",
	"servicedesk_customer_group_satisfaction_rating",
	"servicedesk_customer_group_open_tickets",
	"servicedesk_customer_group_tickets_awaiting_first_response",
	"servicedesk_customer_group_oldest_awaiting_first_response_seconds",
	"servicedesk_team_tickets_created_total",
	"servicedesk_team_tickets_resolved_total",
	"servicedesk_team_tickets_reopened_total",
	"servicedesk_team_first_response_seconds",
	"servicedesk_team_resolution_seconds",
	"servicedesk_team_satisfaction_rating",
	"servicedesk_team_open_tickets",
	"servicedesk_team_tickets_awaiting_first_response",
	"servicedesk_team_oldest_awaiting_first_response_seconds",
	"servicedesk_team_customer_group_first_response_seconds",
	"servicedesk_team_customer_group_satisfaction_rating",
}

// clockFamilies move with the scrape's clock; a scrape of the binary
// cannot pin it.
var clockFamilies = map[string]bool{
	"servicedesk_sla_breached_open_tickets":                             true,
	"servicedesk_oldest_open_ticket_age_seconds":                        true,
	"servicedesk_oldest_awaiting_first_response_seconds":                true,
	"servicedesk_customer_group_oldest_awaiting_first_response_seconds": true,
	"servicedesk_team_oldest_awaiting_first_response_seconds":           true,
}

// flatten turns gathered families into the oracle's shape.
func flatten(families []*dto.MetricFamily) expected {
	out := expected{}
	for _, f := range families {
		name := f.GetName()
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out.add(name, seriesKey(labels), m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				out.add(name, seriesKey(labels), m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					// The text format lists the +Inf bucket, a gathered
					// histogram leaves it implicit: it is the count.
					if !math.IsInf(b.GetUpperBound(), 1) {
						out.add(name, "_bucket"+seriesKey(withLE(labels, b.GetUpperBound())), float64(b.GetCumulativeCount()))
					}
				}
				out.add(name, "_bucket"+seriesKey(withLE(labels, math.Inf(1))), float64(h.GetSampleCount()))
				out.add(name, "_sum"+seriesKey(labels), h.GetSampleSum())
				out.add(name, "_count"+seriesKey(labels), float64(h.GetSampleCount()))
			default:
				out.add(name, seriesKey(labels), m.GetUntyped().GetValue())
			}
		}
	}
	return out
}

func gather(t *testing.T, reg *prometheus.Registry) expected {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return flatten(families)
}

// scrape reads a /metrics page; an error until the server answers.
func scrape(url string) (expected, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	families := make([]*dto.MetricFamily, 0, len(parsed))
	for _, f := range parsed {
		families = append(families, f)
	}
	return flatten(families), nil
}

// compare reports, family by family, every series whose value differs;
// a series missing on one side counts as 0 (the exporter leaves out
// zero series the oracle may list, and the other way round).
func compare(t *testing.T, phase string, got, want expected, skip map[string]bool) {
	t.Helper()
	for _, family := range comparedFamilies {
		if skip[family] {
			continue
		}
		keys := map[string]bool{}
		for k := range got[family] {
			keys[k] = true
		}
		for k := range want[family] {
			keys[k] = true
		}
		var diffs []string
		for _, k := range slices.Sorted(mapKeys(keys)) {
			g, w := got[family][k], want[family][k]
			if math.Abs(g-w) > 1e-6*math.Max(1, math.Abs(w)) {
				diffs = append(diffs, fmt.Sprintf("%s%s = %g, oracle %g", family, k, g, w))
			}
		}
		if len(diffs) > 0 {
			if len(diffs) > 12 {
				diffs = append(diffs[:12], fmt.Sprintf("… and %d more", len(diffs)-12))
			}
			t.Errorf("%s: %s differs from the oracle:\n  %s", phase, family, strings.Join(diffs, "\n  "))
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// requests sums servicedesk_api_requests_total of the source by endpoint.
func requests(e expected, source string) map[string]int {
	out := map[string]int{}
	for series, v := range e["servicedesk_api_requests_total"] {
		if !strings.Contains(series, `source="`+source+`"`) {
			continue
		}
		i := strings.Index(series, `endpoint="`)
		ep := series[i+len(`endpoint="`):]
		ep = ep[:strings.IndexByte(ep, '"')]
		out[ep] += int(v)
	}
	return out
}

func diffRequests(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func formatRequests(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// testClock is the pipeline's data clock, set by the test before each poll.
type testClock struct {
	mu  sync.Mutex
	now time.Time
	// ahead moves the clock past the wall clock (to make reconciliation due).
	ahead time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// set moves the clock to the wall clock's second and returns it.
func (c *testClock) set() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Now().Truncate(time.Second).Add(time.Second + c.ahead)
	return c.now
}

// summary totals a few families, to show in the log that the comparison
// covered real numbers.
func (e expected) summary() string {
	total := func(family, prefix, contains string) int {
		n := 0.0
		for series, v := range e[family] {
			if strings.HasPrefix(series, prefix) && strings.Contains(series, contains) {
				n += v
			}
		}
		return int(n)
	}
	return fmt.Sprintf("created %d, resolved %d, reopened %d, first responses %d, ratings %d, SLA cycles met %d and breached %d, "+
		"open %d (%d awaiting a response, %d breaching an SLA), tracked %d",
		total("servicedesk_tickets_created_total", "{", ""), total("servicedesk_tickets_resolved_total", "{", ""),
		total("servicedesk_tickets_reopened_total", "{", ""), total("servicedesk_first_response_seconds", "_count", ""),
		total("servicedesk_satisfaction_rating", "_count", ""),
		total("servicedesk_sla_cycles_total", "{", `outcome="met"`), total("servicedesk_sla_cycles_total", "{", `outcome="breached"`),
		total("servicedesk_open_tickets", "{", ""), total("servicedesk_tickets_awaiting_first_response", "{", ""),
		total("servicedesk_sla_breached_open_tickets", "{", ""), total("servicedesk_tickets_tracked", "{", ""))
}
