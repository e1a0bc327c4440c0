package jira

import "sync"

// A sync reads a thousand search pages of half a megabyte each, and reading
// each into a new buffer was a third of the exporter's allocations, most of
// what set its garbage collector going. A page's issues are decoded into
// tickets that keep nothing of the page's bytes (decoding copies every
// string; TestDecodedTicketsKeepNoPageBytes checks it), so once the sync
// has decoded a page (api.Page.Release) its buffer holds the next one.

var pageBuffers = sync.Pool{New: func() any { return new([]byte) }}

// takePageBuffer returns a buffer of capacity at least n, recycled if one
// is free.
func takePageBuffer(n int) []byte {
	bp := pageBuffers.Get().(*[]byte)
	if cap(*bp) < n {
		return make([]byte, 0, n)
	}
	return (*bp)[:0]
}

func givePageBuffer(b []byte) {
	if cap(b) == 0 {
		return
	}
	b = b[:0]
	pageBuffers.Put(&b)
}

// cloudPageBody is a Cloud search page read into a recycled buffer.
type cloudPageBody struct {
	searchJQLPage
	body []byte
}

func (p *cloudPageBody) Buffer(n int) []byte { return takePageBuffer(n) }

func (p *cloudPageBody) DecodeBody(body []byte) error {
	p.body = body
	return p.searchJQLPage.DecodeBody(body)
}

// release gives the buffer back; the page's issues must not be used after.
func (p *cloudPageBody) release() {
	givePageBuffer(p.body)
	p.body, p.Issues = nil, nil
}

// dcPageBody is a Data Center search page read into a recycled buffer.
type dcPageBody struct {
	searchPage
	body []byte
}

func (p *dcPageBody) Buffer(n int) []byte { return takePageBuffer(n) }

func (p *dcPageBody) DecodeBody(body []byte) error {
	p.body = body
	return p.searchPage.DecodeBody(body)
}

func (p *dcPageBody) release() {
	givePageBuffer(p.body)
	p.body, p.Issues = nil, nil
}
