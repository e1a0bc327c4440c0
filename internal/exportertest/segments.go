package exportertest

import (
	"fmt"
	"math"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// segmentSums pairs each per-customer-group, per-team and cross family with
// the desk-level family its series must add up to, per source and desk.
var segmentSums = []struct{ segment, desk string }{
	{"tickets_created_total", "tickets_created_total"},
	{"tickets_resolved_total", "tickets_resolved_total"},
	{"tickets_reopened_total", "tickets_reopened_total"},
	{"first_response_seconds", "first_response_seconds"},
	{"resolution_seconds", "resolution_seconds"},
	{"satisfaction_rating", "satisfaction_rating"},
	{"open_tickets", "open_tickets"},
	{"tickets_awaiting_first_response", "tickets_awaiting_first_response"},
}

// SegmentSumProblems checks, in gathered metric families, that the
// customer_group, team and team × customer_group series of each source and
// desk add up exactly to the desk's existing families (counts, bucket counts
// and gauges exactly; histogram sums to a millionth), and that every desk
// with tickets has them. It returns one line per mismatch, none when all
// agree, and an error line when there is nothing to compare.
func SegmentSumProblems(families []*dto.MetricFamily) []string {
	byName := map[string]*dto.MetricFamily{}
	for _, mf := range families {
		byName[strings.TrimPrefix(mf.GetName(), "servicedesk_")] = mf
	}
	var problems []string
	compared := 0
	for _, pair := range segmentSums {
		want := sumByDesk(byName[pair.desk])
		if len(want) == 0 {
			continue
		}
		prefixes := []string{"customer_group_", "team_"}
		if pair.desk == "first_response_seconds" || pair.desk == "satisfaction_rating" {
			prefixes = append(prefixes, "team_customer_group_")
		}
		for _, prefix := range prefixes {
			got := sumByDesk(byName[prefix+pair.segment])
			for _, desk := range sortedKeys(want) {
				compared++
				if p := want[desk].differs(got[desk]); p != "" {
					problems = append(problems, fmt.Sprintf("%s%s on %s: %s", prefix, pair.segment, desk, p))
				}
			}
			for desk := range got {
				if _, ok := want[desk]; !ok {
					problems = append(problems, fmt.Sprintf("%s%s has %s, which servicedesk_%s lacks", prefix, pair.segment, desk, pair.desk))
				}
			}
		}
	}
	if compared == 0 {
		problems = append(problems, "no desk-level ticket families to compare with")
	}
	return problems
}

// total is one family summed over a desk: value for counters and gauges,
// count, sum and cumulative buckets for histograms.
type total struct {
	value, sum float64
	count      uint64
	buckets    map[float64]uint64
}

func (w *total) differs(g *total) string {
	if g == nil {
		return "no series"
	}
	switch {
	case w.value != g.value:
		return fmt.Sprintf("value %v, desk total %v", g.value, w.value)
	case w.count != g.count:
		return fmt.Sprintf("count %d, desk total %d", g.count, w.count)
	case math.Abs(w.sum-g.sum) > 1e-6*math.Max(1, math.Abs(w.sum)):
		return fmt.Sprintf("sum %v, desk total %v", g.sum, w.sum)
	}
	for le, n := range w.buckets {
		if g.buckets[le] != n {
			return fmt.Sprintf("bucket le=%v: %d, desk total %d", le, g.buckets[le], n)
		}
	}
	return ""
}

func sumByDesk(mf *dto.MetricFamily) map[string]*total {
	out := map[string]*total{}
	if mf == nil {
		return out
	}
	for _, m := range mf.GetMetric() {
		var source, desk string
		for _, lp := range m.GetLabel() {
			switch lp.GetName() {
			case "source":
				source = lp.GetValue()
			case "desk":
				desk = lp.GetValue()
			}
		}
		key := "source=" + source + ",desk=" + desk
		t := out[key]
		if t == nil {
			t = &total{buckets: map[float64]uint64{}}
			out[key] = t
		}
		switch {
		case m.GetCounter() != nil:
			t.value += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			t.value += m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			h := m.GetHistogram()
			t.count += h.GetSampleCount()
			t.sum += h.GetSampleSum()
			for _, b := range h.GetBucket() {
				t.buckets[b.GetUpperBound()] += b.GetCumulativeCount()
			}
		}
	}
	return out
}

func sortedKeys(m map[string]*total) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
