package fakejira

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fixedNow is the clock of the server tests.
var fixedNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	srv := New(opts)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// call sends a request with the default basic credentials.
func call(t *testing.T, srv *Server, method, path string, body any) response {
	t.Helper()
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(DefaultEmail, DefaultAPIToken)
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

type searchPage struct {
	Issues []struct {
		ID        string                     `json:"id"`
		Key       string                     `json:"key"`
		Fields    map[string]json.RawMessage `json:"fields"`
		Changelog *struct {
			StartAt    int               `json:"startAt"`
			MaxResults int               `json:"maxResults"`
			Total      int               `json:"total"`
			Histories  []json.RawMessage `json:"histories"`
		} `json:"changelog"`
	} `json:"issues"`
	NextPageToken *string `json:"nextPageToken"`
	IsLast        bool    `json:"isLast"`
	Total         *int    `json:"total"`
	StartAt       *int    `json:"startAt"`
	MaxResults    *int    `json:"maxResults"`
}

func TestCloudSearchPagesWithTokens(t *testing.T) {
	srv := newTestServer(t, Options{})
	srv.Add(Generate(7, 730, GenerateOptions{End: fixedNow})...)
	tests := []struct {
		name       string
		fields     []string
		maxResults int
		wantPages  int
	}{
		{"default fields are id only, big pages", nil, 5000, 1},
		{"id-only page size honoured", []string{"id"}, 300, 3},
		{"real fields cap pages at 100", []string{"summary", "status", "updated"}, 1000, 8},
		{"default page size 50", []string{"key", "created"}, 0, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			token, pages := "", 0
			for {
				body := map[string]any{"jql": "project in (IT, HR, FAC) ORDER BY updated ASC, id ASC"}
				if tt.fields != nil {
					body["fields"] = tt.fields
				}
				if tt.maxResults > 0 {
					body["maxResults"] = tt.maxResults
				}
				if token != "" {
					body["nextPageToken"] = token
				}
				resp := call(t, srv, "POST", "/rest/api/2/search/jql", body)
				if resp.status != http.StatusOK {
					t.Fatalf("status %d: %s", resp.status, resp.body)
				}
				var page searchPage
				resp.decode(t, &page)
				pages++
				if page.Total != nil || page.StartAt != nil || page.MaxResults != nil {
					t.Fatalf("search/jql must not send total/startAt/maxResults: %s", resp.body[:200])
				}
				for _, is := range page.Issues {
					if seen[is.ID] {
						t.Fatalf("issue %s delivered twice", is.ID)
					}
					seen[is.ID] = true
					if tt.fields == nil && (is.Key != "" || is.Fields != nil) {
						t.Fatalf("default fields must be id only, got key %q fields %v", is.Key, is.Fields)
					}
					for _, f := range tt.fields {
						if _, ok := is.Fields[f]; !ok && f != "key" && f != "id" {
							t.Fatalf("field %s missing", f)
						}
					}
				}
				if page.NextPageToken == nil {
					if !page.IsLast {
						t.Fatal("last page without isLast")
					}
					break
				}
				if page.IsLast {
					t.Fatal("isLast with a next page token")
				}
				token = *page.NextPageToken
			}
			if len(seen) != 730 || pages != tt.wantPages {
				t.Errorf("got %d issues in %d pages, want 730 in %d", len(seen), pages, tt.wantPages)
			}
		})
	}
	if got := srv.Count("search_jql"); got != 1+3+8+15 {
		t.Errorf("search_jql count %d, want %d", got, 27)
	}
}

func TestCloudSearchGETAndErrors(t *testing.T) {
	srv := newTestServer(t, Options{})
	srv.Add(Generate(1, 30, GenerateOptions{End: fixedNow})...)
	q := url.Values{"jql": {"project = IT ORDER BY id"}, "fields": {"summary,status", "created"}, "expand": {"changelog"}, "maxResults": {"2"}}
	resp := call(t, srv, "GET", "/rest/api/2/search/jql?"+q.Encode(), nil)
	var page searchPage
	resp.decode(t, &page)
	if len(page.Issues) != 2 || page.NextPageToken == nil {
		t.Fatalf("want 2 issues and a token, got %s", resp.body)
	}
	for _, is := range page.Issues {
		for _, f := range []string{"summary", "status", "created"} {
			if is.Fields[f] == nil {
				t.Errorf("%s: field %s missing", is.Key, f)
			}
		}
		if is.Changelog == nil || is.Changelog.MaxResults != 20 {
			t.Errorf("%s: inline changelog missing or not capped at 20", is.Key)
		}
	}

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		want   string
	}{
		{"old v2 search is gone", "GET", "/rest/api/2/search?jql=project%3DIT", nil, http.StatusGone, removedSearchMessage},
		{"old v3 search is gone", "POST", "/rest/api/3/search", map[string]any{"jql": "project = IT"}, http.StatusGone, "CHANGE-2046"},
		{"unbounded query", "POST", "/rest/api/2/search/jql", map[string]any{"jql": "ORDER BY key DESC"}, http.StatusBadRequest, "Unbounded JQL"},
		{"bad jql", "POST", "/rest/api/2/search/jql", map[string]any{"jql": "project = IT AND"}, http.StatusBadRequest, "Error in the JQL Query"},
		{"foreign token", "POST", "/rest/api/2/search/jql", map[string]any{"jql": "project = HR", "nextPageToken": *page.NextPageToken}, http.StatusBadRequest, "next page token"},
		{"count", "POST", "/rest/api/2/search/approximate-count", map[string]any{"jql": "project = IT"}, http.StatusOK, `"count":`},
		{"unknown endpoint", "GET", "/rest/api/2/nothing", nil, http.StatusNotFound, "null for uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := call(t, srv, tt.method, tt.path, tt.body)
			if resp.status != tt.status || !strings.Contains(string(resp.body), tt.want) {
				t.Errorf("got %d %s, want %d containing %q", resp.status, resp.body, tt.status, tt.want)
			}
			if resp.status >= 400 && resp.status != http.StatusNotFound {
				var e struct {
					ErrorMessages []string          `json:"errorMessages"`
					Errors        map[string]string `json:"errors"`
				}
				resp.decode(t, &e)
				if len(e.ErrorMessages) != 1 || e.Errors == nil {
					t.Errorf("not a Jira error body: %s", resp.body)
				}
			}
		})
	}
}
