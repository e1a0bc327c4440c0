package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/aggregate"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// benchTicket is ticket i of a generated desk: three desks, a few request
// types and priorities, two SLAs; four in five are resolved and answered
// (with a satisfaction rating on every third), the rest open and waiting.
// Ids rise with i, as the Jira source delivers them within a pass.
func benchTicket(i int) ticket.Ticket {
	desks := []string{"IT", "HR", "FAC"}
	types := []string{"Get IT help", "Request new software", "Report a system problem", "Ask an HR question"}
	priorities := []string{"Highest", "High", "Medium", "Low", "Lowest"}
	created := t0.Add(-time.Duration(i) * time.Minute)
	t := ticket.Ticket{
		ID: strconv.Itoa(100000 + i), Key: fmt.Sprintf("IT-%d", i+1),
		Desk: desks[i%len(desks)], RequestType: types[i%len(types)], Priority: priorities[i%len(priorities)],
		Created: created, Updated: created.Add(3 * time.Hour), StatusCategory: ticket.CategoryNew,
	}
	if i%5 == 4 {
		t.SLAs = []ticket.SLA{
			{Name: "Time to first response", Ongoing: &ticket.OngoingCycle{Start: created, BreachAt: created.Add(4 * time.Hour)}},
			{Name: "Time to resolution", Ongoing: &ticket.OngoingCycle{Start: created, BreachAt: created.Add(48 * time.Hour)}},
		}
		return t
	}
	resolved := created.Add(2 * time.Hour)
	t.StatusCategory = ticket.CategoryDone
	t.Transitions = []ticket.Transition{
		{At: created.Add(30 * time.Minute), From: ticket.CategoryNew, To: ticket.CategoryIndeterminate},
		{At: resolved, From: ticket.CategoryIndeterminate, To: ticket.CategoryDone},
	}
	t.Resolutions = []ticket.ResolutionChange{{At: resolved, Set: true}}
	t.Comments = []ticket.Comment{
		{At: created.Add(time.Minute), Author: ticket.AuthorAutomation, Public: true},
		{At: created.Add(25 * time.Minute), Author: ticket.AuthorAgent, Public: true},
	}
	t.SLAs = []ticket.SLA{
		{Name: "Time to first response", Completed: []ticket.SLACycle{{Start: created, Stop: created.Add(25 * time.Minute), Goal: 4 * time.Hour}}},
		{Name: "Time to resolution", Completed: []ticket.SLACycle{{Start: created, Stop: resolved, Goal: 48 * time.Hour}}},
	}
	if i%3 == 0 {
		t.Satisfaction = &ticket.Rating{Value: 1 + i%5, At: resolved.Add(time.Hour)}
	}
	return t
}

// benchHorizon is early enough for every generated ticket to count.
var benchHorizon = horizon.Add(-365 * 24 * time.Hour)

func benchBatch(from, n int) ticket.Batch {
	b := ticket.Batch{Tickets: make([]ticket.Ticket, n), Cursor: []byte(`{"v":1}`)}
	for i := range n {
		b.Tickets[i] = benchTicket(from + i)
	}
	return b
}

// benchStore opens a store under b's temp dir holding n tickets, applied in
// batches of 1000 as an initial sync commits them.
func benchStore(b *testing.B, n int) (*Recorder, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "sd.db")
	s, err := OpenRecorder(path, opts, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if _, err := s.store.Horizon("jira", benchHorizon); err != nil {
		b.Fatal(err)
	}
	for from := 0; from < n; from += 1000 {
		if _, err := s.Commit(ctx, "jira", benchHorizon, nil, benchBatch(from, min(1000, n-from))); err != nil {
			b.Fatal(err)
		}
	}
	s.Publish()
	return s, path
}

// BenchmarkApplyNewBatch commits one initial-sync batch of 1000 new tickets
// (the Cloud batch size) into a growing store.
func BenchmarkApplyNewBatch(b *testing.B) {
	s, _ := benchStore(b, 0)
	from := 0
	for b.Loop() {
		if _, err := s.Commit(ctx, "jira", benchHorizon, nil, benchBatch(from, 1000)); err != nil {
			b.Fatal(err)
		}
		from += 1000
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(from), "ns/ticket")
}

// BenchmarkApplyRedelivered re-commits 1000 unchanged tickets, as the
// incremental overlap re-reads them: nothing is counted or written.
func BenchmarkApplyRedelivered(b *testing.B) {
	s, _ := benchStore(b, 10000)
	batch := benchBatch(5000, 1000)
	for b.Loop() {
		if _, err := s.Commit(ctx, "jira", benchHorizon, nil, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdlePollCommit is the store's share of an idle poll on a 100k
// store: an empty batch with the new cursor, the snapshot, the sync mark.
func BenchmarkIdlePollCommit(b *testing.B) {
	s, _ := benchStore(b, 100000)
	for b.Loop() {
		if _, err := s.Commit(ctx, "jira", benchHorizon, nil, ticket.Batch{Cursor: []byte(`{"v":1,"phase":"incremental"}`)}); err != nil {
			b.Fatal(err)
		}
		s.Publish()
		if err := s.store.MarkSynced("jira", t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSnapshotRebuild100k rebuilds the snapshot of a 100k-ticket
// store, as Publish does after a poll that changed something: one pass over
// the open tickets.
func BenchmarkSnapshotRebuild100k(b *testing.B) {
	s, _ := benchStore(b, 100000)
	for b.Loop() {
		s.mu.Lock()
		s.publishLocked()
		s.mu.Unlock()
	}
}

// BenchmarkOpen100k is a restart: open a 100k-ticket store and rebuild the
// aggregates and open-ticket index from every record. It also reports the
// file size per ticket.
func BenchmarkOpen100k(b *testing.B) {
	s, path := benchStore(b, 100000)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := OpenRecorder(path, opts, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(info.Size())/100000, "file-bytes/ticket")
}

// TestPublishOnlyRebuildsAfterChanges guards the shortcut that keeps idle
// polls cheap: a batch that changes nothing keeps the published snapshot,
// and anything that changes what it shows replaces it.
func TestPublishOnlyRebuildsAfterChanges(t *testing.T) {
	s, _ := newStore(t)
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{openTicketFacts("1", "IT", t0)}})
	before := s.Snapshot()
	apply(t, s, ticket.Batch{Cursor: []byte("idle")})
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{openTicketFacts("1", "IT", t0)}})
	if s.Snapshot() != before {
		t.Error("a batch that changed nothing rebuilt the snapshot")
	}
	apply(t, s, ticket.Batch{Tickets: []ticket.Ticket{resolvedTicket("1", "IT")}})
	after := s.Snapshot()
	if after == before || after.Open[aggregate.OpenLabels{TicketLabels: labels("IT"), StatusCategory: string(ticket.CategoryNew)}] != 0 {
		t.Errorf("resolving the only open ticket left the snapshot at %v open", after.Open)
	}
	s.SetActiveSources([]string{"other"})
	if s.Snapshot() == after || len(s.Snapshot().Tickets) != 0 {
		t.Error("deactivating the source did not rebuild the snapshot")
	}
}
