package fakejira

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkCloudSearchPage measures one 100-issue page with the fields an
// adapter asks for, on a 100k-issue site: the fake's share of a perf run.
func BenchmarkCloudSearchPage(b *testing.B) {
	srv := New(Options{Now: func() time.Time { return fixedNow }})
	defer srv.Close()
	srv.Add(Generate(1, 100000, GenerateOptions{End: fixedNow})...)
	f := srv.FieldIDs()
	body := map[string]any{
		"jql":        `project in (IT, HR, FAC) AND (updated >= "2025-10-01 00:00" OR statusCategory != Done) ORDER BY id ASC`,
		"maxResults": 100,
		"fields": []string{"summary", "status", "created", "updated", "resolutiondate", "priority", "reporter", "comment",
			f.Satisfaction, f.SatisfactionDate, f.RequestType, f.SLA[SLATimeToFirstResponse], f.SLA[SLATimeToResolution]},
	}
	token := ""
	for b.Loop() {
		if token != "" {
			body["nextPageToken"] = token
		} else {
			delete(body, "nextPageToken")
		}
		payload, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/rest/api/2/search/jql", bytes.NewReader(payload))
		req.SetBasicAuth(DefaultEmail, DefaultAPIToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var page struct {
			NextPageToken string `json:"nextPageToken"`
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(raw, &page); err != nil {
			b.Fatal(err)
		}
		token = page.NextPageToken
	}
}
