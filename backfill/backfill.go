// Package backfill writes the history the exporter would have served, had
// it been running since the tracking horizon, as OpenMetrics text with
// timestamps for promtool tsdb create-blocks-from openmetrics.
//
// It reads the store only: every counted ledger entry with its time and the
// labels it was counted under, and each ticket's history (creation, status
// category timeline, first response). The entries are replayed in time order
// through the live aggregation (aggregate.Replay) and every step's snapshot
// goes through the live collector, so the values at each step are what
// /metrics would have shown at that instant — same names, labels, buckets
// and "other" folding — and families other work adds to aggregate and
// collector come out of a backfill unchanged. The output is streamed: memory
// holds the store's tickets in a compact form and one rendering of the
// current series, never the file.
//
// Families whose past values the store cannot reconstruct are left out
// (Excluded says which and why). The open-ticket gauges are reconstructed
// from the history: a ticket counts as open at an instant when it existed
// and its status category then was not done; as awaiting a first response
// when it had none by then; under the labels of its latest counted event at
// or before the instant, and its current labels from its last update on. A
// ticket that has since left the scope counts as its history says until its
// last update the exporter saw, and not after it: when it left is not
// stored. A series that ends gets a last sample of 0: OpenMetrics cannot
// mark it stale as a scrape does, and its last value would linger for
// Prometheus' lookback otherwise.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/collector"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
)

// DefaultStep is the default spacing of samples. Prometheus looks back 5
// minutes for an instant's sample (--query.lookback-delta), so a longer step
// leaves gaps between samples.
const DefaultStep = 5 * time.Minute

// MaxSteps bounds one backfill: beyond it the file would be too large to
// import in one piece anyway.
const MaxSteps = 1_000_000

// Excluded lists the ticket families a backfill leaves out, with the reason
// the docs give. Counters and histograms come from the ledger and are always
// exact; a current-state gauge is only included when the store's history
// can say what it was at a past instant.
var Excluded = map[string]string{
	"servicedesk_sla_breached_open_tickets": "whether a running SLA cycle was breached at a past instant is not stored: " +
		"Jira Service Management reports the running cycles only as of each poll, and the store keeps the last one",
	"servicedesk_tickets_tracked": "which tickets were in the source's scope at a past instant is not stored " +
		"(the scope depends on the source's query and retention, and when a ticket left it is not recorded); " +
		"like the other exporter-health series it starts when the exporter does",
	"servicedesk_unassigned_open_tickets": "whether an open ticket was assigned at a past instant is not stored, only whether it is now",
	// Tickets change teams while open, between counted events (escalation,
	// reassignment), and when is not stored; desks, request types,
	// priorities and customer groups rarely change while a ticket is open.
	"servicedesk_team_open_tickets": "which team served an open ticket at a past instant is not stored: " +
		"tickets are reassigned between counted events, and only the team of each event and the current one are known",
	"servicedesk_team_tickets_awaiting_first_response":        "as servicedesk_team_open_tickets",
	"servicedesk_team_oldest_awaiting_first_response_seconds": "as servicedesk_team_open_tickets",
	"servicedesk_sla_at_risk_open_tickets": "how much of a running SLA cycle's goal was used at a past instant is not stored " +
		"(as for the breach gauge)",
}

// Store is what a backfill reads. *store.Store implements it, also when
// opened read-only.
type Store interface {
	LabelOrder() (map[string][]string, error)
	Scan(fn func(source string, t store.Ticket) error) error
	Horizons() map[string]time.Time
}

// Options select what a backfill writes.
type Options struct {
	// Sources to replay; the live exporter exports the configured ones.
	Sources []string
	// From and To bound the samples. A zero From is the earliest horizon
	// of Sources; To is required (the caller's now, usually).
	From, To time.Time
	// Step is the spacing of samples: they fall on every multiple of Step
	// since the Unix epoch within [From, To], and on To itself. Zero is
	// DefaultStep.
	Step time.Duration
	// Aggregate is the live configuration's aggregation (buckets, label
	// limit): the history shows what this configuration would have shown.
	Aggregate aggregate.Options
	// Labels are added to every series: the job and instance labels the
	// scrape adds to the live series, without which the imported series
	// would not continue the live ones.
	Labels map[string]string
}

// Stats describe a finished backfill.
type Stats struct {
	From, To     time.Time // the first and last sample
	Steps        int
	Samples      int64 // sample lines
	Bytes        int64
	Tickets      int // tickets read from the store
	Entries      int // ledger entries replayed
	MaxSeries    int // series exported at the busiest step
	LoadDuration time.Duration
}

// Plan resolves the options against the store: the sources' horizons decide
// a zero From. It fails on an empty or inverted range and on more than
// MaxSteps samples.
func Plan(st Store, opts Options) (Options, error) {
	if opts.Step == 0 {
		opts.Step = DefaultStep
	}
	if opts.Step < time.Millisecond {
		return opts, fmt.Errorf("step %s is shorter than a millisecond", opts.Step)
	}
	if len(opts.Sources) == 0 {
		return opts, errors.New("no source to backfill")
	}
	horizons := st.Horizons()
	fromHorizons := opts.From.IsZero()
	var missing []string
	for _, s := range opts.Sources {
		h, ok := horizons[s]
		if !ok {
			missing = append(missing, s)
			continue
		}
		if fromHorizons && (opts.From.IsZero() || h.Before(opts.From)) {
			opts.From = h
		}
	}
	if len(missing) > 0 {
		return opts, fmt.Errorf("the store has no data for source %v yet: start the exporter with it first", missing)
	}
	if opts.To.IsZero() {
		return opts, errors.New("no end time")
	}
	opts.From, opts.To = opts.From.UTC().Truncate(time.Millisecond), opts.To.UTC().Truncate(time.Millisecond)
	if opts.To.Before(opts.From) {
		return opts, fmt.Errorf("end %s is before start %s", opts.To.Format(time.RFC3339), opts.From.Format(time.RFC3339))
	}
	if n := len(steps(opts.From, opts.To, opts.Step)); n > MaxSteps {
		return opts, fmt.Errorf("%d samples per series from %s to %s every %s; at most %d: use a longer step or a shorter range",
			n, opts.From.Format(time.RFC3339), opts.To.Format(time.RFC3339), opts.Step, MaxSteps)
	}
	return opts, nil
}

// steps returns the sample instants in milliseconds: every multiple of step
// within [from, to], and to itself. Above MaxSteps it stops counting.
func steps(from, to time.Time, step time.Duration) []int64 {
	s := step.Milliseconds()
	lo, hi := from.UnixMilli(), to.UnixMilli()
	first := (lo + s - 1) / s * s
	if lo < 0 {
		first = lo / s * s
	}
	var out []int64
	for t := first; t <= hi && len(out) <= MaxSteps; t += s {
		out = append(out, t)
	}
	if len(out) == 0 || out[len(out)-1] != hi {
		out = append(out, hi)
	}
	return out
}

// History is what a backfill reads of a store, loaded: the ledger entries
// and ticket histories of the selected sources in a compact form (about
// half a kilobyte per ticket) and the label order. Once loaded, the store
// may be closed: the write that follows takes much longer than the load.
type History struct {
	h       *history
	order   map[string][]string
	opts    Options
	loaded  time.Duration
	written bool
}

// Load reads what a backfill of opts needs from st; opts must come from
// Plan.
func Load(st Store, opts Options) (*History, error) {
	began := time.Now()
	h, err := load(st, opts.Sources)
	if err != nil {
		return nil, err
	}
	// Read after the tickets: a commit in between can only append values,
	// so every value the tickets carry has its place.
	order, err := st.LabelOrder()
	if err != nil {
		return nil, err
	}
	return &History{h: h, order: order, opts: opts, loaded: time.Since(began)}, nil
}

// Write replays st and streams the history to w, ending with "# EOF". opts
// must come from Plan. A cancelled ctx stops it between steps, leaving the
// output without "# EOF", which promtool refuses.
func Write(ctx context.Context, w io.Writer, st Store, opts Options) (Stats, error) {
	hist, err := Load(st, opts)
	if err != nil {
		return Stats{From: opts.From, To: opts.To}, err
	}
	return hist.Write(ctx, w)
}

// Write streams the history to w, ending with "# EOF"; it can be called
// once. A cancelled ctx stops it between steps, leaving the output without
// "# EOF", which promtool refuses.
func (hist *History) Write(ctx context.Context, w io.Writer) (Stats, error) {
	opts, h := hist.opts, hist.h
	stats := Stats{From: opts.From, To: opts.To, Tickets: len(h.tickets), Entries: len(h.entries), LoadDuration: hist.loaded}
	if hist.written {
		return stats, errors.New("a loaded history can be written once")
	}
	hist.written = true
	exp, err := newExposition(opts.Labels)
	if err != nil {
		return stats, err
	}
	counting := &countingWriter{w: w}
	out := newAsyncWriter(counting, 1<<20, 4)
	closed := false
	defer func() {
		if !closed {
			_ = out.Close()
		}
	}()
	replay := aggregate.NewReplay(opts.Aggregate, hist.order)
	var (
		cur *aggregate.Snapshot
		now time.Time
	)
	col := collector.New(func() *aggregate.Snapshot { return cur }, collector.WithClock(func() time.Time { return now }))
	metrics := make(chan prometheus.Metric, 256)
	collect := func(s *aggregate.Snapshot, fn func(prometheus.Metric) error) error {
		cur = s
		go func() {
			col.Collect(metrics)
			metrics <- nil
		}()
		var firstErr error
		for m := range metrics {
			if m == nil {
				break
			}
			if firstErr == nil {
				firstErr = fn(m)
			}
		}
		return firstErr
	}

	var nextEntry, nextTransition int
	instants := steps(opts.From, opts.To, opts.Step)
	for _, at := range instants {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		if err := h.replayUntil(replay, at, &nextEntry, &nextTransition); err != nil {
			return stats, err
		}
		changed, removed := replay.Step()
		now = time.UnixMilli(at).UTC()
		if err := collect(removed, exp.remove); err != nil {
			return stats, err
		}
		if err := collect(changed, exp.update); err != nil {
			return stats, err
		}
		stats.Samples += int64(exp.write(out, at))
		if err := out.failed(); err != nil {
			return stats, err
		}
		stats.MaxSeries = max(stats.MaxSeries, exp.series)
		stats.Steps++
	}
	_, _ = out.Write([]byte("# EOF\n"))
	closed = true
	if err := out.Close(); err != nil {
		return stats, err
	}
	stats.Bytes = counting.n
	if len(instants) > 0 {
		stats.From, stats.To = time.UnixMilli(instants[0]).UTC(), time.UnixMilli(instants[len(instants)-1]).UTC()
	}
	return stats, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// sortedSources returns names sorted and without duplicates.
func sortedSources(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
