package fakejira

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestCachedRendersAreByteIdentical: with CacheRenders and Prerender,
// Cloud and Data Center search pages are the bytes an uncached site sends,
// for every field and the expanded changelog, until a change empties the
// cache and the next render shows the change.
func TestCachedRendersAreByteIdentical(t *testing.T) {
	for _, dep := range []Deployment{DeploymentCloud, DeploymentDataCenter} {
		t.Run(string(dep), func(t *testing.T) {
			plain := newTestServer(t, Options{Deployment: dep, Seed: 5})
			cached := newTestServer(t, Options{Deployment: dep, Seed: 5, CacheRenders: true})
			issues := Generate(5, 120, GenerateOptions{End: fixedNow})
			plain.Add(issues...)
			cached.Add(issues...)
			cached.Prerender("status", "resolution")
			f := plain.FieldIDs()
			fields := strings.Join([]string{"summary", "status", "created", "updated", "resolutiondate", "priority", "reporter", "comment", "project",
				f.Satisfaction, f.SatisfactionDate, f.RequestType, f.SLA[SLATimeToFirstResponse], f.SLA[SLATimeToResolution]}, ",")
			path := "/rest/api/2/search/jql"
			if dep != DeploymentCloud {
				path = "/rest/api/2/search"
			}
			get := func(srv *Server, query url.Values) []byte {
				t.Helper()
				req, err := http.NewRequest(http.MethodGet, srv.URL+path+"?"+query.Encode(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if dep == DeploymentCloud {
					req.SetBasicAuth(DefaultEmail, DefaultAPIToken)
				} else {
					req.Header.Set("Authorization", "Bearer "+DefaultPAT)
				}
				r := do(t, req)
				if r.status != http.StatusOK {
					t.Fatalf("%s: %d %s", query.Encode(), r.status, r.body)
				}
				// Links name the server's port, tokens a per-server
				// sequence: blank them.
				var page searchPage
				r.decode(t, &page)
				body := bytes.ReplaceAll(r.body, []byte(srv.URL), []byte("URL"))
				if page.NextPageToken != nil {
					body = bytes.ReplaceAll(body, []byte(*page.NextPageToken), []byte("TOKEN"))
				}
				return body
			}
			for _, q := range []url.Values{
				{"jql": {"project in (IT, HR, FAC) ORDER BY id ASC"}, "maxResults": {"100"}, "fields": {fields}},
				{"jql": {"project in (IT, HR, FAC) ORDER BY id ASC"}, "maxResults": {"50"}, "fields": {"*all"}, "expand": {"changelog"}},
				{"jql": {"project = IT ORDER BY id ASC"}, "maxResults": {"1000"}, "fields": {"id"}},
			} {
				if want, got := get(plain, q), get(cached, q); !bytes.Equal(got, want) {
					t.Fatalf("%s: cached page differs\n got %.300s\nwant %.300s", q.Encode(), got, want)
				}
			}
			if dep == DeploymentCloud {
				var ids []string
				for _, is := range plain.Issues() {
					ids = append(ids, strconv.FormatInt(is.ID, 10))
				}
				for _, body := range []map[string]any{
					{"issueIdsOrKeys": ids, "fieldIds": []string{"status", "resolution"}, "maxResults": 10000},
					{"issueIdsOrKeys": ids[:50], "fieldIds": []string{"status"}, "maxResults": 40},
				} {
					want := bytes.ReplaceAll(call(t, plain, http.MethodPost, "/rest/api/2/changelog/bulkfetch", body).body, []byte(plain.URL), []byte("URL"))
					got := bytes.ReplaceAll(call(t, cached, http.MethodPost, "/rest/api/2/changelog/bulkfetch", body).body, []byte(cached.URL), []byte("URL"))
					if !bytes.Equal(got, want) {
						t.Fatalf("cached bulkfetch differs\n got %.300s\nwant %.300s", got, want)
					}
				}
			}
			q := url.Values{"jql": {"project in (IT, HR, FAC) ORDER BY id ASC"}, "maxResults": {"10"}, "fields": {fields}}
			before := get(cached, q)
			key := cached.Issues()[3].Key
			for _, srv := range []*Server{plain, cached} {
				if err := srv.AddComment(key, RoleAgent, true); err != nil {
					t.Fatal(err)
				}
			}
			want, got := get(plain, q), get(cached, q)
			if bytes.Equal(got, before) {
				t.Fatalf("the comment added to %s does not show: the cache outlived the change", key)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("after a change the cached page differs\n got %.300s\nwant %.300s", got, want)
			}
		})
	}
}
