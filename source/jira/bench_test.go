package jira

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// benchPage discovers a fake Jira Cloud site with generated tickets and
// returns the source, its site and the raw JSON of one full search page as
// the initial sync requests it (100 issues, every field the adapter reads).
func benchPage(b *testing.B) (*Source, *site, []byte) {
	b.Helper()
	now := fakejira.DefaultGenerateEnd
	srv := fakejira.New(fakejira.Options{Deployment: fakejira.DeploymentCloud, Now: func() time.Time { return now }})
	b.Cleanup(srv.Close)
	srv.Add(fakejira.Generate(1, 1000, fakejira.GenerateOptions{End: now})...)
	cfg := testConfig(srv.URL)
	cfg.JQL = "project in (IT, HR, FAC)"
	auth := promconfig.HTTPClientConfig{BasicAuth: &promconfig.BasicAuth{Username: fakejira.DefaultEmail, Password: promconfig.Secret(fakejira.DefaultAPIToken)}}
	src, err := New("bench", cfg, auth, source.Env{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	st, err := src.ensureSite(ctx)
	if err != nil {
		b.Fatal(err)
	}
	pg := src.newPager(st, jqlBuilder{user: cfg.JQL, loc: st.loc}.scope(now.Add(-120*24*time.Hour)), api.Query{}, st.searchFields(), 100)
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
// initial sync: the response body into raw issues (as the client hands it
// to searchJQLPage.DecodeBody), then every issue into ticket facts. It ran on one goroutine between page fetches and was most
// of the exporter's CPU in the 100k harness run (see BENCHMARKS.md).
func BenchmarkSearchPageDecode(b *testing.B) {
	src, st, raw := benchPage(b)
	tickets := siteTickets{src: src, st: st}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var page searchJQLPage
		if err := page.DecodeBody(raw); err != nil {
			b.Fatal(err)
		}
		for _, is := range page.Issues {
			if _, _, err := tickets.Decode(is); err != nil {
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
			if _, err := decodeIssue(st, is); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/issue")
}
