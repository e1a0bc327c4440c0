package backfill

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// exposition keeps the current rendering of every exported series, so a
// step re-renders only the series that changed and writes the rest from the
// previous rendering with the step's timestamp.
type exposition struct {
	extra    []labelPair // added to every series, sorted by name
	families map[*prometheus.Desc]*family
	sorted   []*family // exported families by name
	series   int
	ending   []ending // series written for the last time at this step
	metric   dto.Metric
	labels   []labelPair
	buf      []byte // the series key being looked up
	lbuf     []byte // the series' label pairs, rendered
}

type labelPair struct{ name, value string }

type ending struct {
	f *family
	s *series
}

type family struct {
	name     string // the samples' name, as /metrics writes it
	typ      dto.MetricType
	header   []byte
	excluded bool
	byKey    map[string]*series
	order    []*series
	unsorted bool
}

type series struct {
	key   string
	lines [][]byte // rendered samples without the timestamp
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func newExposition(labels map[string]string) (*exposition, error) {
	e := &exposition{families: map[*prometheus.Desc]*family{}}
	for name, value := range labels {
		if !labelName.MatchString(name) || strings.HasPrefix(name, "__") {
			return nil, fmt.Errorf("label name %q is not a valid Prometheus label name", name)
		}
		e.extra = append(e.extra, labelPair{name, value})
	}
	sort.Slice(e.extra, func(i, j int) bool { return e.extra[i].name < e.extra[j].name })
	return e, nil
}

// single exposes one metric, to learn its family's name, help and type the
// way a registry reports them.
type single struct{ m prometheus.Metric }

func (s single) Describe(chan<- *prometheus.Desc)    {}
func (s single) Collect(ch chan<- prometheus.Metric) { ch <- s.m }

func (e *exposition) familyOf(m prometheus.Metric) (*family, error) {
	d := m.Desc()
	if f, ok := e.families[d]; ok {
		return f, nil
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(single{m}); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	if len(mfs) != 1 {
		return nil, fmt.Errorf("metric %s gathered as %d families", d, len(mfs))
	}
	mf := mfs[0]
	f := &family{name: mf.GetName(), typ: mf.GetType(), byKey: map[string]*series{}}
	switch f.typ {
	case dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_UNTYPED, dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY:
	default:
		return nil, fmt.Errorf("family %s has type %s, which OpenMetrics text cannot carry", f.name, f.typ)
	}
	_, f.excluded = Excluded[f.name]
	f.header = openMetricsHeader(mf)
	e.families[d] = f
	if !f.excluded {
		i := sort.Search(len(e.sorted), func(i int) bool { return e.sorted[i].name >= f.name })
		e.sorted = slices.Insert(e.sorted, i, f)
	}
	return f, nil
}

// openMetricsHeader is the family's # HELP and # TYPE lines. OpenMetrics
// names a counter family without the _total its samples carry; a counter
// whose samples lack it is declared unknown, so that the samples keep the
// name /metrics gives them.
func openMetricsHeader(mf *dto.MetricFamily) []byte {
	name, typ := mf.GetName(), strings.ToLower(mf.GetType().String())
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		if base, ok := strings.CutSuffix(name, "_total"); ok {
			name = base
		} else {
			typ = "unknown"
		}
	case dto.MetricType_UNTYPED:
		typ = "unknown"
	}
	var b []byte
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, mf.GetHelp())
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

// find reads m into e.metric and e.labels and returns its family and its
// series, nil when it has none yet; a nil family is an excluded one.
func (e *exposition) find(m prometheus.Metric) (*family, *series, error) {
	f, err := e.familyOf(m)
	if err != nil || f.excluded {
		return nil, nil, err
	}
	e.metric.Reset()
	if err := m.Write(&e.metric); err != nil {
		return nil, nil, err
	}
	if err := e.labelsOf(&e.metric); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.name, err)
	}
	e.key()
	return f, f.byKey[string(e.buf)], nil // no allocation for the lookup
}

// update renders m, a series that is new or changed.
func (e *exposition) update(m prometheus.Metric) error {
	f, s, err := e.find(m)
	if f == nil {
		return err
	}
	if s == nil {
		s = &series{key: string(e.buf)}
		f.byKey[s.key] = s
		f.order = append(f.order, s)
		f.unsorted = true
		e.series++
	}
	s.lines = e.render(f, &e.metric, s.lines[:0])
	return nil
}

// remove ends m's series. It is written once more, with the value 0, and
// then dropped: Prometheus marks a series that leaves a scrape stale at
// once, but OpenMetrics has no staleness marker, and without a last sample
// the series' previous value would be seen for the 5-minute lookback —
// counted twice in a sum with the series that took its tickets over. A 0 is
// what the series adds to any sum once it has gone.
func (e *exposition) remove(m prometheus.Metric) error {
	f, s, err := e.find(m)
	if f == nil || s == nil {
		return err
	}
	zero(&e.metric)
	s.lines = e.render(f, &e.metric, s.lines[:0])
	e.ending = append(e.ending, ending{f, s})
	return nil
}

// zero sets every value of m to 0.
func zero(m *dto.Metric) {
	switch {
	case m.Counter != nil:
		m.Counter.Value = new(float64)
	case m.Gauge != nil:
		m.Gauge.Value = new(float64)
	case m.Untyped != nil:
		m.Untyped.Value = new(float64)
	case m.Histogram != nil:
		m.Histogram.SampleCount, m.Histogram.SampleSum = new(uint64), new(float64)
		for _, b := range m.Histogram.Bucket {
			b.CumulativeCount = new(uint64)
		}
	case m.Summary != nil:
		m.Summary.SampleCount, m.Summary.SampleSum = new(uint64), new(float64)
		for _, q := range m.Summary.Quantile {
			q.Value = new(float64)
		}
	}
}

// drop forgets the series that ended at the step just written.
func (e *exposition) drop() {
	for _, x := range e.ending {
		delete(x.f.byKey, x.s.key)
		x.f.order = slices.DeleteFunc(x.f.order, func(s *series) bool { return s == x.s })
		e.series--
	}
	e.ending = e.ending[:0]
}

// labelsOf merges the metric's labels with the extra ones into e.labels.
func (e *exposition) labelsOf(m *dto.Metric) error {
	e.labels = e.labels[:0]
	for _, lp := range m.GetLabel() {
		e.labels = append(e.labels, labelPair{lp.GetName(), lp.GetValue()})
	}
	for _, x := range e.extra {
		for _, l := range e.labels {
			if l.name == x.name {
				return fmt.Errorf("label %q is one of the series' own labels; it cannot be added", x.name)
			}
		}
		e.labels = append(e.labels, x)
	}
	slices.SortFunc(e.labels, func(a, b labelPair) int { return strings.Compare(a.name, b.name) })
	return nil
}

// key writes the identity of the series with e.labels into e.buf.
func (e *exposition) key() {
	e.buf = e.buf[:0]
	for _, l := range e.labels {
		e.buf = append(e.buf, l.name...)
		e.buf = append(e.buf, 0xff)
		e.buf = append(e.buf, l.value...)
		e.buf = append(e.buf, 0xff)
	}
}

// render writes m's samples into dst's buffers. Histogram and summary
// bounds are written as the text format /metrics uses writes them
// (le="300", le="1.2096e+06"), not OpenMetrics' canonical "300.0": Prometheus
// 2 keeps the label value as written, and only equal values make the
// imported buckets the same series as the scraped ones.
func (e *exposition) render(f *family, m *dto.Metric, dst [][]byte) [][]byte {
	// The label pairs are written once per series, not once per bucket.
	e.lbuf = e.lbuf[:0]
	for i, l := range e.labels {
		if i > 0 {
			e.lbuf = append(e.lbuf, ',')
		}
		e.lbuf = append(e.lbuf, l.name...)
		e.lbuf = append(e.lbuf, `="`...)
		e.lbuf = appendEscaped(e.lbuf, l.value)
		e.lbuf = append(e.lbuf, '"')
	}
	line := func(suffix, bound string, boundValue float64, v float64) {
		var b []byte
		if len(dst) < cap(dst) {
			b = dst[:len(dst)+1][len(dst)][:0]
		}
		b = append(b, f.name...)
		b = append(b, suffix...)
		if len(e.lbuf) > 0 || bound != "" {
			b = append(b, '{')
			b = append(b, e.lbuf...)
			if bound != "" {
				if len(e.lbuf) > 0 {
					b = append(b, ',')
				}
				b = append(b, bound...)
				b = append(b, `="`...)
				b = appendFloat(b, boundValue)
				b = append(b, '"')
			}
			b = append(b, '}')
		}
		b = append(b, ' ')
		b = appendFloat(b, v)
		dst = append(dst, b)
	}
	switch f.typ {
	case dto.MetricType_COUNTER:
		line("", "", 0, m.GetCounter().GetValue())
	case dto.MetricType_GAUGE:
		line("", "", 0, m.GetGauge().GetValue())
	case dto.MetricType_UNTYPED:
		line("", "", 0, m.GetUntyped().GetValue())
	case dto.MetricType_HISTOGRAM:
		h := m.GetHistogram()
		inf := false
		for _, b := range h.GetBucket() {
			inf = inf || math.IsInf(b.GetUpperBound(), +1)
			line("_bucket", "le", b.GetUpperBound(), float64(b.GetCumulativeCount()))
		}
		if !inf {
			line("_bucket", "le", math.Inf(+1), float64(h.GetSampleCount()))
		}
		line("_sum", "", 0, h.GetSampleSum())
		line("_count", "", 0, float64(h.GetSampleCount()))
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		for _, q := range s.GetQuantile() {
			line("", "quantile", q.GetQuantile(), q.GetValue())
		}
		line("_sum", "", 0, s.GetSampleSum())
		line("_count", "", 0, float64(s.GetSampleCount()))
	}
	return dst
}

// appendEscaped escapes a label value or help text as OpenMetrics wants.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat writes v as the text format does.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendTimestamp writes " <seconds>[.<millis>]\n", OpenMetrics' timestamp
// in seconds.
func appendTimestamp(b []byte, ms int64) []byte {
	b = append(b, ' ')
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	b = strconv.AppendInt(b, sec, 10)
	if frac != 0 {
		b = append(b, '.')
		if frac < 100 {
			b = append(b, '0')
		}
		if frac < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, frac, 10)
	}
	return append(b, '\n')
}

// write writes every exported series with the timestamp at (ms) and
// returns the number of samples.
func (e *exposition) write(w *asyncWriter, at int64) int {
	ts := appendTimestamp(nil, at)
	n := 0
	for _, f := range e.sorted {
		if len(f.order) == 0 {
			continue
		}
		if f.unsorted {
			sort.Slice(f.order, func(i, j int) bool { return f.order[i].key < f.order[j].key })
			f.unsorted = false
		}
		_, _ = w.Write(f.header)
		for _, s := range f.order {
			for _, l := range s.lines {
				_, _ = w.Write(l)
				_, _ = w.Write(ts)
				n++
			}
		}
	}
	e.drop()
	return n
}
