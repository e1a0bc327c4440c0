package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// A concurrent initial sync (Sync.Concurrency > 1) splits the scope into id
// ranges and pages several at once, because one request at a time can
// never beat pages × latency: 1000 pages of a 100,000-ticket desk at 1–3 s
// each is most of an hour. An id-only walk of the scope (ascending, in the
// largest pages the API allows) cuts the ids into ranges of RangeTickets
// each; it runs beside the ranges it has already cut. Every range is paged
// by its own query (Query.AfterID, Query.ThroughID) and decoded on a worker,
// completed (Tickets.Complete: one bulk request) on another goroutine while
// its worker pages the next range, and committed as one batch as soon as it
// is complete — in whatever order ranges finish. Every request still goes
// through the source's one client, so its pacing and Retry-After gate hold
// for all of them.
//
// Ranges partition the ids above the cursor's AfterID: the last one is
// open above, so tickets created during the sync are in it. The cursor
// committed with each range records it in DoneRanges (AfterID moves up over
// the ranges done without a gap), so a crash resumes with a new walk of the
// ids above AfterID that skips the done ranges: none is fetched again.

// IDRange is the ids in (After, Through]; Through math.MaxInt64 means no
// upper bound.
type IDRange struct {
	After   int64 `json:"after"`
	Through int64 `json:"through"`
}

// unbounded is the Through of the last range.
const unbounded = math.MaxInt64

// defaultRangeTickets is the range size when BatchTickets is not set.
const defaultRangeTickets = 1000

func (s *Sync[T]) rangeTickets() int {
	switch {
	case s.RangeTickets > 0:
		return s.RangeTickets
	case s.BatchTickets > 0:
		return s.BatchTickets
	}
	return defaultRangeTickets
}

// rangedInitial says whether the initial sync in cur runs in ranges: it is
// already doing so, or concurrency is on and the scope is more than one
// range.
func (s *Sync[T]) rangedInitial(cur Cursor) bool {
	if cur.Ranged {
		return true
	}
	if s.Concurrency <= 1 || cur.Pages > 0 || cur.AfterID > 0 {
		return false // a sequential sync in progress stays sequential
	}
	// Only a scope counted as larger than one range is worth the walk of
	// its ids (an unknown count, 0, stays sequential).
	return cur.Total > s.rangeTickets()
}

// plannedRange is a range to page, or one the walk found empty (done
// without a request).
type plannedRange struct {
	IDRange
	empty bool
}

// rangeBatch is a range's tickets on their way from worker to committer.
type rangeBatch[T Item] struct {
	rng     IDRange
	items   []T
	fetched int // tickets the pages held, decodable or not
	skipped int
	err     error
}

// runRanges is the initial sync in concurrent ranges, from cur (which is
// active and initial).
func (s *Sync[T]) runRanges(ctx context.Context, horizon time.Time, cur Cursor, emit func(context.Context, ticket.Batch) error) error {
	cur.Ranged = true
	nextSince := s.nextSince(cur.PassStart)
	progress := newProgressLog(s, cur)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var pages atomic.Int64
	pages.Store(int64(cur.Pages))
	countPage := func() error {
		if pages.Add(1) > int64(s.MaxPages) {
			return fmt.Errorf("search needed more than %d pages in one pass (%s); narrow %s or raise the cap", s.MaxPages, s.MaxPagesKey, s.QueryKey)
		}
		return nil
	}

	cut := make(chan plannedRange)
	planned := queue(ctx, cut)
	// A worker hands its range over and pages the next one at once; a
	// completer goes on to the next bulk request while the committer is
	// busy: commits are one at a time, and a stream waiting on them would
	// idle.
	decoded := make(chan rangeBatch[T], s.Concurrency)
	done := make(chan rangeBatch[T], s.Concurrency)
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		cancel()
	}

	var walkers, workers, completers sync.WaitGroup
	walkers.Go(func() {
		defer close(cut)
		if err := s.planRanges(ctx, horizon, cur, countPage, cut); err != nil {
			fail(err)
		}
	})
	for range s.Concurrency {
		workers.Go(func() {
			for r := range planned {
				b := rangeBatch[T]{rng: r.IDRange}
				if !r.empty {
					b = s.pageRange(ctx, horizon, r.IDRange, countPage)
				}
				select {
				case decoded <- b:
				case <-ctx.Done():
					return
				}
			}
		})
		completers.Go(func() {
			for b := range decoded {
				if b.err == nil && len(b.items) > 0 {
					if err := s.Tickets.Complete(ctx, b.items); err != nil {
						b.err = err
					}
				}
				select {
				case done <- b:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		workers.Wait()
		close(decoded)
		completers.Wait()
		close(done)
	}()
	defer func() {
		cancel()
		for range done { // drain, so that every goroutine can end
		}
		walkers.Wait()
	}()

	for b := range done {
		if b.err != nil {
			fail(b.err)
			break
		}
		cur.Pages = int(pages.Load())
		cur.Done += b.fetched
		tickets := facts(&cur, b.items, nextSince)
		cur.markDone(b.rng)
		finished := cur.AfterID == unbounded
		out := ticket.Batch{Tickets: tickets, Skipped: b.skipped, Progress: &ticket.Progress{Done: cur.Done}}
		if cur.Total > 0 {
			out.Progress.Total = max(cur.Total, cur.Done)
		}
		if finished {
			cur = finishPass(cur, nextSince)
			out.Progress = &ticket.Progress{Done: cur.Done, Total: cur.Done}
		}
		out.Cursor = cur.encode()
		if err := emit(ctx, out); err != nil {
			fail(err)
			break
		}
		progress.log(cur, finished)
		if finished {
			return nil
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Every range was committed but they do not cover the ids: the walk
	// ended early without an error, which the walk never does.
	return errors.New("initial sync ended with ranges left uncommitted")
}

// queue passes what arrives on in to the returned channel in order, holding
// any number meanwhile, so the id walk never waits for a worker: it runs
// ahead (ranges are a few bytes each) rather than keep a page token while
// the workers page for minutes. The returned channel closes after in does,
// or when ctx ends.
func queue[V any](ctx context.Context, in <-chan V) <-chan V {
	out := make(chan V)
	go func() {
		defer close(out)
		var held []V
		for in != nil || len(held) > 0 {
			var send chan<- V
			var next V
			if len(held) > 0 {
				send, next = out, held[0]
			}
			select {
			case v, ok := <-in:
				if !ok {
					in = nil
					continue
				}
				held = append(held, v)
			case send <- next:
				clear(held[:1])
				held = held[1:]
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// pageRange pages one range and decodes it on the calling worker.
func (s *Sync[T]) pageRange(ctx context.Context, horizon time.Time, r IDRange, countPage func() error) rangeBatch[T] {
	b := rangeBatch[T]{rng: r}
	q := Query{Horizon: horizon, AfterID: r.After}
	if r.Through != unbounded {
		q.ThroughID = r.Through
	}
	pg := newPrefetcher(ctx, s.Tickets.Pages(q))
	defer pg.stop()
	for {
		page, err := pg.next(ctx)
		if err == nil {
			err = countPage()
		}
		if err != nil {
			b.err = err
			return b
		}
		b.fetched += len(page.Items)
		for i, raw := range page.Items {
			item, id, err := s.Tickets.Decode(raw, page.parsed(i))
			if err != nil {
				s.logger().Warn("skipping a ticket the exporter cannot decode", "id", id, "err", err)
				b.skipped++
				continue
			}
			b.items = append(b.items, item)
		}
		page.release()
		if page.Last {
			return b
		}
	}
}

// planRanges walks the ids above cur.AfterID in ascending order and sends
// ranges of rangeTickets ids that together cover every id above AfterID
// except cur.DoneRanges. A range is held back until the next id shows it
// is not the last one, so the last range is open above without an extra,
// empty one after it.
func (s *Sync[T]) planRanges(ctx context.Context, horizon time.Time, cur Cursor, countPage func() error, out chan<- plannedRange) error {
	send := func(r plannedRange) error {
		select {
		case out <- r:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	islands := cur.DoneRanges
	pos := cur.AfterID // ids up to pos are planned or done
	count := 0         // ids in (pos, ...] of the range being cut
	var held *plannedRange
	flush := func(through int64) error {
		r := plannedRange{IDRange: IDRange{After: pos, Through: through}, empty: count == 0}
		pos, count = through, 0
		if held != nil {
			if err := send(*held); err != nil {
				return err
			}
		}
		held = &r
		return nil
	}
	// skipIslands closes the range being cut at every done range that
	// starts below id, and moves past them.
	skipIslands := func(id int64) error {
		for len(islands) > 0 && id > islands[0].After {
			if pos < islands[0].After {
				if err := flush(islands[0].After); err != nil {
					return err
				}
			}
			pos = max(pos, islands[0].Through)
			islands = islands[1:]
		}
		return nil
	}
	pg := s.Tickets.Pages(Query{Horizon: horizon, IDsOnly: true, AfterID: cur.AfterID})
	for {
		page, err := pg.Next(ctx)
		if err == nil {
			err = countPage()
		}
		if err != nil {
			return fmt.Errorf("list ids: %w", err)
		}
		for _, raw := range page.Items {
			text, ok := s.Tickets.ScopeID(raw)
			if !ok {
				continue
			}
			id, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return fmt.Errorf("ticket id %q is not a number; a concurrent initial sync needs numeric ids", text)
			}
			if err := skipIslands(id); err != nil {
				return err
			}
			if id <= pos {
				continue // inside a done range, or repeated
			}
			count++
			if count == s.rangeTickets() {
				if err := flush(id); err != nil {
					return err
				}
			}
		}
		page.release()
		if page.Last {
			break
		}
	}
	if err := skipIslands(unbounded); err != nil {
		return err
	}
	// The last range takes what is left above, tickets created meanwhile
	// included, so it is always asked for.
	switch {
	case pos == unbounded:
		// The open range was done before a restart.
	case count == 0 && held != nil && held.Through == pos:
		held.Through = unbounded
	default:
		if err := flush(unbounded); err != nil {
			return err
		}
	}
	if held == nil {
		return nil
	}
	if held.Through == unbounded {
		held.empty = false
	}
	return send(*held)
}

// markDone records r as committed: AfterID covers every id up to the first
// gap, DoneRanges the committed ranges above it, merged where they touch.
func (c *Cursor) markDone(r IDRange) {
	ranges := append(c.DoneRanges, r)
	slices.SortFunc(ranges, func(a, b IDRange) int {
		switch {
		case a.After < b.After:
			return -1
		case a.After > b.After:
			return 1
		}
		return 0
	})
	merged := ranges[:0]
	for _, r := range ranges {
		if n := len(merged); n > 0 && r.After <= merged[n-1].Through {
			merged[n-1].Through = max(merged[n-1].Through, r.Through)
			continue
		}
		merged = append(merged, r)
	}
	for len(merged) > 0 && merged[0].After <= c.AfterID {
		c.AfterID = max(c.AfterID, merged[0].Through)
		merged = merged[1:]
	}
	c.DoneRanges = slices.Clone(merged)
	if len(c.DoneRanges) == 0 {
		c.DoneRanges = nil
	}
}
