package poller

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// scriptedSource emits the batches of its script and records the cursors it was given.
type scriptedSource struct {
	batches []ticket.Batch
	err     error
	cursors []string
}

func (s *scriptedSource) Poll(ctx context.Context, _ time.Time, cursor []byte, emit func(context.Context, ticket.Batch) error) error {
	s.cursors = append(s.cursors, string(cursor))
	for _, b := range s.batches {
		if err := emit(ctx, b); err != nil {
			return err
		}
	}
	return s.err
}

func tk(id string, cat ticket.Category) ticket.Ticket {
	return ticket.Ticket{ID: id, Key: "IT-" + id, Desk: "IT", Created: t0, Updated: t0, StatusCategory: cat}
}

// memSink keeps what a poller commits in memory, rejecting the tickets
// derivation would reject; the pipeline's real sink is tested there.
type memSink struct {
	tickets map[string]bool
	cursor  []byte
	synced  time.Time
}

func newMemSink() *memSink { return &memSink{tickets: map[string]bool{}} }

func (m *memSink) Horizon(proposed time.Time) (time.Time, error) { return proposed, nil }
func (m *memSink) Cursor() ([]byte, error)                       { return m.cursor, nil }
func (m *memSink) Publish()                                      {}
func (m *memSink) MarkSynced(t time.Time) error                  { m.synced = t; return nil }
func (m *memSink) LastSynced() (time.Time, error)                { return m.synced, nil }

func (m *memSink) Commit(ctx context.Context, _ time.Time, b ticket.Batch) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	var res Result
	for _, tk := range b.Tickets {
		if err := ticket.Validate(tk); err != nil {
			res.Skipped = append(res.Skipped, err)
			continue
		}
		m.tickets[tk.ID] = true
		res.Applied++
	}
	if b.Cursor != nil {
		m.cursor = b.Cursor
	}
	return res, nil
}

func setup(t *testing.T, src Source) (*Poller, *memSink, *prometheus.Registry) {
	t.Helper()
	st := newMemSink()
	reg := prometheus.NewRegistry()
	p := New("demo", src, st, time.Minute, t0.Add(-time.Hour), promslog.NewNopLogger(), NewMetrics(reg), WithClock(func() time.Time { return t0 }))
	return p, st, reg
}

func TestSuccessfulPollCommitsAndMarksReady(t *testing.T) {
	src := &scriptedSource{batches: []ticket.Batch{
		{Tickets: []ticket.Ticket{tk("1", ticket.CategoryNew)}, Cursor: []byte("page1"), Progress: &ticket.Progress{Done: 1, Total: 4}},
		{Tickets: []ticket.Ticket{tk("2", ticket.CategoryNew), tk("3", "bogus")}, Cursor: []byte("page2"), Skipped: 1},
	}}
	p, st, reg := setup(t, src)
	if p.Ready() {
		t.Fatal("ready before the first poll")
	}
	if err := p.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !p.Ready() {
		t.Fatal("not ready after a successful poll")
	}
	if err := p.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(src.cursors, ","); got != ",page2" {
		t.Fatalf("cursors handed to the source: %q", got)
	}
	if got := len(st.tickets); got != 2 {
		t.Fatalf("committed %d tickets, want 2 (one ticket skipped)", got)
	}
	want := `
# HELP servicedesk_tickets_skipped_total Tickets skipped because the source delivered facts the exporter cannot use.
# TYPE servicedesk_tickets_skipped_total counter
servicedesk_tickets_skipped_total{source="demo"} 4
# HELP servicedesk_up Whether the last poll of the source succeeded (1) or failed (0).
# TYPE servicedesk_up gauge
servicedesk_up{source="demo"} 1
# HELP servicedesk_initial_sync_progress_ratio Progress of the source's initial sync from 0 to 1; 1 once it completed.
# TYPE servicedesk_initial_sync_progress_ratio gauge
servicedesk_initial_sync_progress_ratio{source="demo"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "servicedesk_up", "servicedesk_tickets_skipped_total", "servicedesk_initial_sync_progress_ratio"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
}

func TestFailedPollKeepsCommittedBatches(t *testing.T) {
	src := &scriptedSource{
		batches: []ticket.Batch{{Tickets: []ticket.Ticket{tk("1", ticket.CategoryNew)}, Cursor: []byte("page1")}},
		err:     errors.New("jira answered 500"),
	}
	p, st, reg := setup(t, src)
	if err := p.PollOnce(context.Background()); err == nil {
		t.Fatal("want the source's error")
	}
	if n := p.metrics.Polls(); n != 1 {
		t.Fatalf("a failed poll counted as %d finished polls, want 1", n)
	}
	if p.Ready() {
		t.Fatal("ready after a failed poll")
	}
	if got := len(st.tickets); got != 1 {
		t.Fatalf("committed batch lost: %d tickets", got)
	}
	if c, _ := st.Cursor(); string(c) != "page1" {
		t.Fatalf("cursor %q, want the last committed page", c)
	}
	want := `
# HELP servicedesk_poll_errors_total Polls of the source that failed.
# TYPE servicedesk_poll_errors_total counter
servicedesk_poll_errors_total{source="demo"} 1
# HELP servicedesk_up Whether the last poll of the source succeeded (1) or failed (0).
# TYPE servicedesk_up gauge
servicedesk_up{source="demo"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "servicedesk_up", "servicedesk_poll_errors_total"); err != nil {
		t.Fatal(err)
	}
}

func TestCancellationIsNotAnError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := &scriptedSource{err: context.Canceled}
	p, _, reg := setup(t, src)
	_ = p.PollOnce(ctx)
	if got := testutil.ToFloat64(p.metrics.errors.WithLabelValues("demo")); got != 0 {
		t.Fatalf("errors %v after a cancelled poll", got)
	}
	_ = reg
}

func TestRunStopsWithContext(t *testing.T) {
	p, _, _ := setup(t, &scriptedSource{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	deadline := time.After(5 * time.Second)
	for !p.Ready() {
		select {
		case <-deadline:
			t.Fatal("first poll did not run")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestReadyAtOnceAfterRestartWithASyncedStore(t *testing.T) {
	st := newMemSink()
	p := New("demo", &scriptedSource{}, st, time.Minute, t0, promslog.NewNopLogger(), NewMetrics(prometheus.NewRegistry()), WithClock(func() time.Time { return t0 }))
	if p.Ready() {
		t.Fatal("ready before any poll ever completed")
	}
	if err := p.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}

	src := &scriptedSource{}
	reg := prometheus.NewRegistry()
	p = New("demo", src, st, time.Minute, t0, promslog.NewNopLogger(), NewMetrics(reg))
	if !p.Ready() || len(src.cursors) != 0 {
		t.Fatalf("after restart ready=%v polls=%d; want ready before polling", p.Ready(), len(src.cursors))
	}
	if got := testutil.ToFloat64(p.metrics.lastSuccess.WithLabelValues("demo")); got != float64(t0.Unix()) {
		t.Fatalf("last success restored as %v, want %v", got, t0.Unix())
	}
}
