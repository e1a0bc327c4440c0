package jira

import "sync"

// A sync reads a thousand search pages of half a megabyte each, and reading
// each into a new buffer was a third of the exporter's allocations, most of
// what set its garbage collector going. A page's issues are decoded into
// tickets that keep nothing of the page's bytes (decoding copies every
// string; TestDecodedTicketsKeepNoPageBytes checks it), so once the sync
// has decoded a page (api.Page.Release) its buffer holds the next one.
// Changelog bulkfetch answers, a megabyte per thousand tickets, are
// recycled the same way, in a pool of their own size.

// bufferPool recycles response buffers of about one size.
type bufferPool struct{ pool sync.Pool }

var (
	pageBuffers      = &bufferPool{}
	changelogBuffers = &bufferPool{}
)

// take returns a buffer of capacity at least n, recycled if one is free. A
// new one has room for a somewhat larger answer: answers differ by a few
// percent, and a buffer of one's exact size missed on the next.
func (p *bufferPool) take(n int) []byte {
	if bp, ok := p.pool.Get().(*[]byte); ok && cap(*bp) >= n {
		return (*bp)[:0]
	}
	return make([]byte, 0, n+n/4)
}

func (p *bufferPool) give(b []byte) {
	if cap(b) == 0 {
		return
	}
	b = b[:0]
	p.pool.Put(&b)
}

// cloudPageBody is a Cloud search page read into a recycled buffer. With
// split set (pages of issues to decode, not of ids), its issues are also
// cut into their fields as the page is validated (splitIssues).
type cloudPageBody struct {
	searchJQLPage
	split  bool
	parsed []any
	body   []byte
}

func (p *cloudPageBody) Buffer(n int) []byte { return pageBuffers.take(n) }

func (p *cloudPageBody) DecodeBody(body []byte) error {
	p.body, p.parsed = body, nil
	if !p.split {
		return p.searchJQLPage.DecodeBody(body)
	}
	return p.decodeBody(body, &p.parsed)
}

// release gives the buffer back; the page's issues must not be used after.
func (p *cloudPageBody) release() {
	pageBuffers.give(p.body)
	p.body, p.Issues, p.parsed = nil, nil, nil
}

// dcPageBody is a Data Center search page read into a recycled buffer,
// split as cloudPageBody.
type dcPageBody struct {
	searchPage
	split  bool
	parsed []any
	body   []byte
}

func (p *dcPageBody) Buffer(n int) []byte { return pageBuffers.take(n) }

func (p *dcPageBody) DecodeBody(body []byte) error {
	p.body, p.parsed = body, nil
	if !p.split {
		return p.searchPage.DecodeBody(body)
	}
	return p.decodeBody(body, &p.parsed)
}

func (p *dcPageBody) release() {
	pageBuffers.give(p.body)
	p.body, p.Issues, p.parsed = nil, nil, nil
}

// changelogBody is a bulkfetch answer read into a recycled buffer; its
// histories keep none of the buffer's bytes.
type changelogBody struct {
	bulkChangelogResponse
	body []byte
}

func (p *changelogBody) Buffer(n int) []byte { return changelogBuffers.take(n) }

func (p *changelogBody) DecodeBody(body []byte) error {
	p.body = body
	return p.bulkChangelogResponse.DecodeBody(body)
}

// release gives the buffer back; the answer's histories stay usable.
func (p *changelogBody) release() {
	changelogBuffers.give(p.body)
	p.body = nil
}
