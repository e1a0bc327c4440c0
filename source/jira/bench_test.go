package jira

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// benchPage discovers a fake Jira Cloud site with generated tickets and
// returns the source, its site and the raw JSON of one full search page as
// the initial sync requests it (100 issues, every field the adapter reads).
func benchPage(b *testing.B) (*Source, *site, []byte) {
	b.Helper()
	_, src, st := discoveredFake(b, fakejira.DeploymentCloud, 1, 1000)
	now, ctx := fakejira.DefaultGenerateEnd, context.Background()
	pg := src.newPager(st, jqlBuilder{user: src.cfg.JQL, loc: st.loc}.scope(now.Add(-120*24*time.Hour)), api.Query{}, st.searchFields(), 100)
	page, err := pg.Next(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if len(page.Items) != 100 {
		b.Fatalf("first page has %d issues, want 100", len(page.Items))
	}
	raw, err := json.Marshal(searchJQLPage{Issues: page.Items, NextPageToken: "next"})
	if err != nil {
		b.Fatal(err)
	}
	return src, st, raw
}

// BenchmarkSearchPageDecode is the adapter's CPU per search page of an
// initial sync: the response body into issues split into their fields (as
// the client hands it to cloudPageBody.DecodeBody), then every issue into
// ticket facts. It is most of the exporter's CPU in the harness run (see
// BENCHMARKS.md).
func BenchmarkSearchPageDecode(b *testing.B) {
	src, st, raw := benchPage(b)
	tickets := siteTickets{src: src, st: st}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		page := cloudPageBody{split: true}
		if err := page.DecodeBody(raw); err != nil {
			b.Fatal(err)
		}
		for i, is := range page.Issues {
			if _, _, err := tickets.Decode(is, page.parsed[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/issue")
}

// BenchmarkDecodeIssue is decodeIssue alone on the page's issues; the
// difference to BenchmarkSearchPageDecode is the page body decode plus
// whatever the sync's Decode adds around decodeIssue (an id pre-read of
// every issue, when this benchmark was written).
func BenchmarkDecodeIssue(b *testing.B) {
	_, st, raw := benchPage(b)
	var page searchJQLPage
	if err := json.Unmarshal(raw, &page); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, is := range page.Issues {
			if _, err := decodeIssue(st, is, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/issue")
}

// BenchmarkBulkChangelogDecode is the adapter's CPU per changelog bulkfetch
// answer of an initial sync: the status and resolution histories of a
// thousand tickets, as the fake serves them.
func BenchmarkBulkChangelogDecode(b *testing.B) {
	srv, src, st := discoveredFake(b, fakejira.DeploymentCloud, 1, 1000)
	now, ctx := fakejira.DefaultGenerateEnd, context.Background()
	pg := src.newPager(st, jqlBuilder{user: src.cfg.JQL, loc: st.loc}.scope(now.Add(-120*24*time.Hour)), api.Query{}, []string{"id"}, 1000)
	page, err := pg.Next(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for _, raw := range page.Items {
		var is struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &is); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, is.ID)
	}
	req, err := json.Marshal(bulkChangelogRequest{IssueIDsOrKeys: ids, FieldIDs: []string{"status", "resolution"}, MaxResults: bulkChangelogResults})
	if err != nil {
		b.Fatal(err)
	}
	raw := fetchRaw(b, srv.URL+"/rest/api/2/changelog/bulkfetch", string(req))
	var want bulkChangelogResponse
	if err := json.Unmarshal(raw, &want); err != nil || len(want.IssueChangeLogs) < len(ids)/2 {
		b.Fatalf("bulkfetch answer with %d of %d tickets: %v", len(want.IssueChangeLogs), len(ids), err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var resp bulkChangelogResponse
		if err := resp.DecodeBody(raw); err != nil {
			b.Fatal(err)
		}
		if len(resp.IssueChangeLogs) != len(want.IssueChangeLogs) {
			b.Fatalf("%d changelogs, json.Unmarshal reads %d", len(resp.IssueChangeLogs), len(want.IssueChangeLogs))
		}
	}
}
