package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// dcPager pages Data Center search with startAt, reading maxResults back,
// and re-queries past the last id before startAt reaches the result window.
//
// With parallel > 1 it fetches up to that many pages of a window at once:
// once the first page tells the total and the page size, every startAt up
// to the window is known. The window's last page is asked for first, since
// its last id is where the next window's query starts, so windows overlap
// too. Pages are still handed out one by one in id order. If a page says
// the result changed under the walk (another total, a short page before the
// end), it and the pages after it are dropped and the walk goes on after
// the last id handed out, as a sequential walk past a window does: the
// startAt positions of a changed result skip a ticket for every one that
// left it. (A change that leaves the total as it was goes unseen, as it
// does in a sequential startAt walk.)
// maxWalkRestarts bounds how often a walk starts over because the result
// changed; past it the walk goes on one page at a time.
const maxWalkRestarts = 20

type dcPager struct {
	src  *Source
	base string
	// afterID is where the walk starts, then the last id handed out.
	afterID, throughID int64
	fields             []string
	pageSize           int
	window             int
	changelog          bool
	parallel           int
	first              int // total reported by the first page, -1 before it
	restarts           int // times the result changed under the walk

	win *dcWindow // the window being handed out
	// ctx bounds the fetches in flight, which outlive a Next call.
	ctx     context.Context
	cancel  context.CancelFunc
	fetches sync.WaitGroup
}

// dcWindow is one query of the walk (ids above afterID) and the startAt
// pages fetched or in flight.
type dcWindow struct {
	afterID int64
	total   int // as the first page said
	size    int // the page size the site uses
	pages   int // startAt positions up to the window (or the total)
	slots   map[int]*dcSlot
	next    int // the page to hand out next
	// nextFirst is the next window's first page, asked for as soon as this
	// window's last page told where it starts (nextAfter).
	nextFirst *dcSlot
	nextAfter int64
}

type dcSlot struct {
	done chan struct{}
	page *dcPageBody
	err  error
}

func (s *dcSlot) ready() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (p *dcPager) Next(ctx context.Context) (api.Page, error) {
	if p.parallel <= 1 {
		return p.nextSequential(ctx)
	}
	for {
		if p.ctx == nil {
			// The fetches outlive this call; the sync passes the same
			// context to every Next and ends it with the walk.
			p.ctx, p.cancel = context.WithCancel(ctx)
		}
		if p.win == nil {
			w, err := p.openWindow(ctx, p.afterID)
			if err != nil {
				return api.Page{}, err
			}
			p.win = w
		}
		w := p.win
		p.schedule()
		slot := w.slots[w.next]
		select {
		case <-slot.done:
		case <-ctx.Done():
			return api.Page{}, ctx.Err()
		}
		if slot.err != nil {
			p.stop()
			return api.Page{}, slot.err
		}
		page := slot.page
		if page.Total != w.total || (w.next+1 < w.pages && len(page.Issues) < w.size) {
			// The result moved under the walk: this page's startAt may
			// have skipped a ticket. Drop it and what was fetched after
			// it, and go on after the last page handed out.
			p.dropFetches()
			p.win = nil
			p.src.logger.Debug("search result changed during the sync; continuing after the last id handed out", "after_id", p.afterID)
			if p.restarts++; p.restarts > maxWalkRestarts {
				// A result that never holds still: one page at a time.
				p.parallel = 1
				return p.nextSequential(ctx)
			}
			continue
		}
		delete(w.slots, w.next)
		w.next++
		out := api.Page{Items: page.Issues, Parsed: page.parsed, Matched: p.first, Release: page.release}
		if len(page.Issues) == 0 {
			out.Last = true
			p.stop()
			return out, nil
		}
		last, err := lastIssueID(page.Issues)
		if err != nil {
			p.stop()
			return api.Page{}, err
		}
		p.afterID = last // where a walk that has to start over goes on
		switch {
		case w.next < w.pages:
			return out, nil
		case w.total <= p.window:
			out.Last = true
			p.stop()
			return out, nil
		}
		// Past the window: the next one starts after this page.
		next, err := p.nextWindow(ctx, w, last)
		if err != nil {
			p.stop()
			return api.Page{}, err
		}
		p.win = next
		return out, nil
	}
}

// nextWindow is the window after w, which ended at id last: from its first
// page fetched early, or fetched now.
func (p *dcPager) nextWindow(ctx context.Context, w *dcWindow, last int64) (*dcWindow, error) {
	if s := w.nextFirst; s != nil && w.nextAfter == last {
		select {
		case <-s.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if s.err != nil {
			return nil, s.err
		}
		return p.newWindow(last, s.page), nil
	}
	return p.openWindow(ctx, last)
}

// openWindow fetches the first page of the query after afterID, which
// tells the total and page size of the window.
func (p *dcPager) openWindow(ctx context.Context, afterID int64) (*dcWindow, error) {
	page, err := p.fetch(ctx, afterID, 0, p.pageSize)
	if err != nil {
		return nil, err
	}
	if p.first < 0 {
		p.first = page.Total
	}
	return p.newWindow(afterID, page), nil
}

// newWindow plans a window from its first page.
func (p *dcPager) newWindow(afterID int64, first *dcPageBody) *dcWindow {
	size := p.pageSize
	if first.MaxResults > 0 && first.MaxResults < size {
		size = first.MaxResults // the site caps maxResults
	}
	if n := len(first.Issues); n > 0 && n < size && n < first.Total {
		size = n // a cap the answer does not read back
	}
	reach := min(first.Total, p.window)
	w := &dcWindow{afterID: afterID, total: first.Total, size: size, pages: max(1, (reach+size-1)/size), slots: map[int]*dcSlot{}}
	done := &dcSlot{done: make(chan struct{}), page: first}
	close(done.done)
	w.slots[0] = done
	return w
}

// schedule starts fetches until parallel are in flight: the last page of
// the window being handed out first (it starts the next window), then the
// next window's first page, then this window's pages in order. Pages
// fetched ahead of the walk are bounded too.
func (p *dcPager) schedule() {
	w := p.win
	inFlight, ahead := 0, 0
	for _, s := range w.slots {
		if !s.ready() {
			inFlight++
		}
		ahead++
	}
	if w.nextFirst != nil {
		if !w.nextFirst.ready() {
			inFlight++
		}
		ahead++
	}
	free := func() bool { return inFlight < p.parallel && ahead < 2*p.parallel }
	launch := func(afterID int64, startAt, size int) *dcSlot {
		slot := &dcSlot{done: make(chan struct{})}
		inFlight++
		ahead++
		ctx := p.ctx
		p.fetches.Go(func() {
			defer close(slot.done)
			slot.page, slot.err = p.fetch(ctx, afterID, startAt, size)
		})
		return slot
	}
	page := func(i int) {
		if _, ok := w.slots[i]; !ok && i < w.pages && i >= w.next && free() {
			startAt := i * w.size
			w.slots[i] = launch(w.afterID, startAt, min(w.size, p.window-startAt))
		}
	}
	if w.total > p.window {
		page(w.pages - 1)
		if last := w.slots[w.pages-1]; last != nil && w.nextFirst == nil && free() && last.ready() &&
			last.err == nil && len(last.page.Issues) > 0 && last.page.Total == w.total {
			if id, err := lastIssueID(last.page.Issues); err == nil {
				w.nextAfter, w.nextFirst = id, launch(id, 0, p.pageSize)
			}
		}
	}
	for i := w.next; i < w.pages && free(); i++ {
		page(i)
	}
}

// fetch asks for one page of the query after afterID.
func (p *dcPager) fetch(ctx context.Context, afterID int64, startAt, size int) (*dcPageBody, error) {
	q := url.Values{
		"jql":        {keyset(p.base, afterID, p.throughID)},
		"startAt":    {strconv.Itoa(startAt)},
		"maxResults": {strconv.Itoa(size)},
		"fields":     {strings.Join(p.fields, ",")},
	}
	if p.changelog {
		q.Set("expand", "changelog")
	}
	page := &dcPageBody{split: len(p.fields) > 1}
	if err := p.src.api.Do(ctx, api.Request{Endpoint: "search", Method: http.MethodGet, Path: "rest/api/2/search", Query: q}, page); err != nil {
		return nil, fmt.Errorf("search: %w", p.src.explain(err))
	}
	return page, nil
}

// dropFetches abandons the pages fetched or in flight.
func (p *dcPager) dropFetches() {
	if p.cancel != nil {
		p.cancel()
		p.fetches.Wait()
	}
	p.ctx, p.cancel = nil, nil
}

// stop ends the walk's fetches; the pager is done.
func (p *dcPager) stop() { p.dropFetches() }

// nextSequential is the walk one page at a time.
func (p *dcPager) nextSequential(ctx context.Context) (api.Page, error) {
	if p.win == nil {
		p.win = &dcWindow{afterID: p.afterID}
	}
	w := p.win
	startAt := w.next
	size := min(p.pageSize, p.window-startAt)
	page, err := p.fetch(ctx, w.afterID, startAt, size)
	if err != nil {
		return api.Page{}, err
	}
	if p.first < 0 {
		p.first = page.Total
	}
	// What the first page counted is what this walk matched: on a resumed
	// initial sync, what is left of it.
	out := api.Page{Items: page.Issues, Parsed: page.parsed, Matched: p.first, Release: page.release}
	if len(page.Issues) == 0 {
		out.Last = true
		return out, nil
	}
	w.next += len(page.Issues)
	if w.next >= page.Total {
		out.Last = true
		return out, nil
	}
	if w.next >= p.window {
		// Past the window startAt fails; continue after the last id
		// instead (results are in id order).
		last, err := lastIssueID(page.Issues)
		if err != nil {
			return api.Page{}, err
		}
		p.win = &dcWindow{afterID: last}
	}
	return out, nil
}

func lastIssueID(issues []json.RawMessage) (int64, error) {
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(issues[len(issues)-1], &head); err != nil {
		return 0, fmt.Errorf("read last issue id: %w", err)
	}
	id, err := strconv.ParseInt(head.ID, 10, 64)
	if err != nil {
		return 0, errors.New("last issue of a page has no numeric id")
	}
	return id, nil
}
