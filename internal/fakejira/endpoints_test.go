package fakejira

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDataCenterSearchPagesWithStartAtInsideTheWindow(t *testing.T) {
	srv := newTestServer(t, Options{Deployment: DeploymentDataCenter, SearchWindow: 250})
	srv.Add(Generate(3, 400, GenerateOptions{End: fixedNow})...)

	search := func(startAt, maxResults int) response {
		q := url.Values{"jql": {"project in (IT, HR, FAC) ORDER BY id ASC"}, "startAt": {fmt.Sprint(startAt)},
			"maxResults": {fmt.Sprint(maxResults)}, "fields": {"summary,status"}, "expand": {"changelog"}}
		return call(t, srv, "GET", "/rest/api/2/search?"+q.Encode(), nil)
	}
	var got []string
	for startAt := 0; startAt < 200; {
		resp := search(startAt, 1000)
		if resp.status != http.StatusOK {
			t.Fatalf("startAt %d: %d %s", startAt, resp.status, resp.body)
		}
		var page searchPage
		resp.decode(t, &page)
		if page.Total == nil || *page.Total != 400 || page.MaxResults == nil || *page.MaxResults != 100 {
			t.Fatalf("want total 400 and maxResults read back as 100, got %s", resp.body[:120])
		}
		for _, is := range page.Issues {
			got = append(got, is.ID)
			if is.Changelog == nil || is.Changelog.Total != len(is.Changelog.Histories)+is.Changelog.StartAt {
				t.Fatalf("%s: DC inline changelog must say where it starts", is.Key)
			}
		}
		startAt += len(page.Issues)
	}
	if len(got) != 200 || got[0] != "10000" || got[199] != "10199" {
		t.Fatalf("got %d issues from %s to %s", len(got), got[0], got[len(got)-1])
	}
	// 200+100 passes the 250 window: real Jira refuses, whatever is left.
	if resp := search(200, 100); resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), "Search limit exceeded") {
		t.Errorf("past the window: got %d %s", resp.status, resp.body)
	}
	if resp := search(200, 50); resp.status != http.StatusOK {
		t.Errorf("up to the window: got %d %s", resp.status, resp.body)
	}
	// maxResults=0 is how Data Center counts.
	var count searchPage
	call(t, srv, "GET", "/rest/api/2/search?jql=project%3DIT&maxResults=0&fields=id", nil).decode(t, &count)
	if count.Total == nil || *count.Total == 0 || len(count.Issues) != 0 {
		t.Errorf("count search: total %v with %d issues", count.Total, len(count.Issues))
	}
	// Cloud-only endpoints do not exist on Data Center.
	for _, path := range []string{"/rest/api/2/search/jql?jql=project%3DIT", "/rest/api/2/issue/IT-1/changelog"} {
		if resp := call(t, srv, "GET", path, nil); resp.status != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", path, resp.status)
		}
	}
	if resp := call(t, srv, "POST", "/rest/api/2/changelog/bulkfetch", map[string]any{"issueIdsOrKeys": []string{"IT-1"}}); resp.status != http.StatusNotFound {
		t.Errorf("bulkfetch on DC: got %d, want 404", resp.status)
	}
}

func TestDataCenterInlineChangelogIsTruncatedButIssueGetIsNot(t *testing.T) {
	srv := newTestServer(t, Options{Deployment: DeploymentDataCenter, InlineChangelogLimit: 3})
	key := srv.CreateIssue(NewIssue{Project: "IT"})
	for i := range 5 {
		to := StatusInProgress
		if i%2 == 1 {
			to = StatusWaitingForCustomer
		}
		if err := srv.Transition(key, to); err != nil {
			t.Fatal(err)
		}
	}
	var page searchPage
	call(t, srv, "POST", "/rest/api/2/search", map[string]any{"jql": "project = IT", "expand": []string{"changelog"}}).decode(t, &page)
	cl := page.Issues[0].Changelog
	if cl.Total != 5 || len(cl.Histories) != 3 || cl.StartAt != 2 {
		t.Errorf("inline changelog: total %d, %d histories from %d; want 5, 3 from 2", cl.Total, len(cl.Histories), cl.StartAt)
	}
	var dcHistory struct {
		Author map[string]any   `json:"author"`
		Items  []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(cl.Histories[0], &dcHistory); err != nil {
		t.Fatal(err)
	}
	if _, ok := dcHistory.Items[0]["fieldId"]; ok || dcHistory.Items[0]["field"] != "status" {
		t.Errorf("DC changelog item: %v", dcHistory.Items[0])
	}
	if key, _ := dcHistory.Author["key"].(string); !strings.HasPrefix(key, "JIRAUSER") || dcHistory.Author["name"] != DefaultAgent.AccountID || dcHistory.Author["accountType"] != nil {
		t.Errorf("DC user: %v", dcHistory.Author)
	}
	var issue struct {
		Changelog struct {
			Total     int               `json:"total"`
			Histories []json.RawMessage `json:"histories"`
		} `json:"changelog"`
	}
	call(t, srv, "GET", "/rest/api/2/issue/"+key+"?expand=changelog", nil).decode(t, &issue)
	if issue.Changelog.Total != 5 || len(issue.Changelog.Histories) != 5 {
		t.Errorf("issue changelog: %d of %d, want all 5", len(issue.Changelog.Histories), issue.Changelog.Total)
	}
}

func TestBulkfetchPagesHistoriesAndFiltersFields(t *testing.T) {
	srv := newTestServer(t, Options{})
	a := srv.CreateIssue(NewIssue{Project: "IT"})
	b := srv.CreateIssue(NewIssue{Project: "IT"})
	for _, step := range []struct{ key, status string }{
		{a, StatusInProgress}, {b, StatusInProgress}, {a, StatusResolved}, {a, StatusInProgress}, {b, StatusCanceled},
	} {
		if err := srv.Transition(step.key, step.status); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Mutate(a, func(is *Issue) {
		is.Histories = append(is.Histories, History{ID: 1, At: fixedNow, Author: DefaultAgent, Items: []HistoryItem{{Field: "summary", FromString: "x", ToString: "y"}}})
	}); err != nil {
		t.Fatal(err)
	}
	type bulkPage struct {
		IssueChangeLogs []struct {
			IssueID         string `json:"issueId"`
			ChangeHistories []struct {
				ID      string `json:"id"`
				Created string `json:"created"`
				Items   []struct {
					FieldID  string  `json:"fieldId"`
					To       *string `json:"to"`
					ToString *string `json:"toString"`
				} `json:"items"`
			} `json:"changeHistories"`
		} `json:"issueChangeLogs"`
		NextPageToken string `json:"nextPageToken"`
	}
	var pages []bulkPage
	body := map[string]any{"issueIdsOrKeys": []string{b, a, a}, "fieldIds": []string{"status", "resolution"}, "maxResults": 2}
	for {
		var page bulkPage
		resp := call(t, srv, "POST", "/rest/api/2/changelog/bulkfetch", body)
		if resp.status != http.StatusOK {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
		resp.decode(t, &page)
		pages = append(pages, page)
		if page.NextPageToken == "" {
			break
		}
		body["nextPageToken"] = page.NextPageToken
	}
	var flat []string
	for _, p := range pages {
		for _, l := range p.IssueChangeLogs {
			for _, h := range l.ChangeHistories {
				var fields []string
				for _, it := range h.Items {
					fields = append(fields, it.FieldID)
				}
				flat = append(flat, l.IssueID+":"+strings.Join(fields, "+"))
				if _, err := time.Parse("2006-01-02T15:04:05.000-0700", h.Created); err != nil {
					t.Errorf("created %q: %v", h.Created, err)
				}
			}
		}
	}
	ia, _ := srv.Issue(a)
	ib, _ := srv.Issue(b)
	want := []string{
		fmt.Sprintf("%d:status", ia.ID), fmt.Sprintf("%d:status+resolution", ia.ID), fmt.Sprintf("%d:status+resolution", ia.ID),
		fmt.Sprintf("%d:status", ib.ID), fmt.Sprintf("%d:status+resolution", ib.ID),
	}
	if !slices.Equal(flat, want) || len(pages) != 3 {
		t.Errorf("got %v in %d pages, want %v in 3", flat, len(pages), want)
	}
	// A reopen clears the resolution: to and toString are null.
	reopen := pages[1].IssueChangeLogs[0].ChangeHistories[0].Items[1]
	if reopen.To != nil || reopen.ToString != nil {
		t.Errorf("cleared resolution must be null, got %v %v", reopen.To, reopen.ToString)
	}

	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = fmt.Sprint(10000 + i)
	}
	for _, bad := range []map[string]any{{"issueIdsOrKeys": []string{}}, {"issueIdsOrKeys": tooMany}} {
		if resp := call(t, srv, "POST", "/rest/api/2/changelog/bulkfetch", bad); resp.status != http.StatusBadRequest {
			t.Errorf("got %d for %d ids, want 400", resp.status, len(bad["issueIdsOrKeys"].([]string)))
		}
	}
}

func TestCommentPagingOnTenThousandComments(t *testing.T) {
	srv := newTestServer(t, Options{})
	key := srv.CreateIssue(NewIssue{Project: "IT"})
	if err := srv.AddComment(key, RoleAgent, false); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddComments(key, 9999, RoleCustomer, true); err != nil {
		t.Fatal(err)
	}
	var page searchPage
	call(t, srv, "POST", "/rest/api/2/search/jql", map[string]any{"jql": "project = IT", "fields": []string{"comment"}}).decode(t, &page)
	var inline struct {
		Comments   []json.RawMessage `json:"comments"`
		MaxResults int               `json:"maxResults"`
		Total      int               `json:"total"`
	}
	if err := json.Unmarshal(page.Issues[0].Fields["comment"], &inline); err != nil {
		t.Fatal(err)
	}
	if len(inline.Comments) != 20 || inline.Total != 10000 || inline.MaxResults != 20 {
		t.Errorf("inline comments: %d of %d (max %d), want 20 of 10000", len(inline.Comments), inline.Total, inline.MaxResults)
	}

	type commentPage struct {
		StartAt    int `json:"startAt"`
		MaxResults int `json:"maxResults"`
		Total      int `json:"total"`
		Comments   []struct {
			JSDPublic  *bool `json:"jsdPublic"`
			Properties []struct {
				Key   string          `json:"key"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"comments"`
	}
	var cp commentPage
	call(t, srv, "GET", "/rest/api/2/issue/"+key+"/comment?startAt=0&maxResults=1000&orderBy=created&expand=properties", nil).decode(t, &cp)
	if cp.MaxResults != 100 || len(cp.Comments) != 100 || cp.Total != 10000 {
		t.Fatalf("comment page: %d comments, max %d, total %d", len(cp.Comments), cp.MaxResults, cp.Total)
	}
	first := cp.Comments[0]
	if first.JSDPublic == nil || *first.JSDPublic || len(first.Properties) != 1 || first.Properties[0].Key != "sd.public.comment" || string(first.Properties[0].Value) != `{"internal":true}` {
		t.Errorf("internal note not marked: %+v", first)
	}
	call(t, srv, "GET", "/rest/api/2/issue/"+key+"/comment?startAt=9950", nil).decode(t, &cp)
	if len(cp.Comments) != 50 {
		t.Errorf("last page: %d comments, want 50", len(cp.Comments))
	}

	var sd struct {
		Size       int  `json:"size"`
		IsLastPage bool `json:"isLastPage"`
		Values     []struct {
			Public bool `json:"public"`
		} `json:"values"`
	}
	call(t, srv, "GET", "/rest/servicedeskapi/request/"+key+"/comment?public=false&internal=true", nil).decode(t, &sd)
	if sd.Size != 1 || !sd.IsLastPage || sd.Values[0].Public {
		t.Errorf("servicedesk internal-only comments: %+v", sd)
	}
}

// TestCommentPropertiesShapes: a Data Center comment read with
// expand=properties carries sd.public.comment when internal, and otherwise
// the site's shape of "no properties": [], null or no key at all. Search
// results never carry properties.
func TestCommentPropertiesShapes(t *testing.T) {
	for _, tt := range []struct {
		shape NoProperties
		want  string // the public comment's properties as raw JSON; "" for no key
	}{
		{PropertiesEmptyList, "[]"},
		{PropertiesNull, "null"},
		{PropertiesAbsent, ""},
	} {
		t.Run(string(tt.shape), func(t *testing.T) {
			srv := newTestServer(t, Options{Deployment: DeploymentDataCenter, CommentProperties: tt.shape})
			key := srv.CreateIssue(NewIssue{Project: "IT"})
			for _, public := range []bool{false, true} {
				if err := srv.AddComment(key, RoleAgent, public); err != nil {
					t.Fatal(err)
				}
			}
			var page struct {
				Comments []map[string]json.RawMessage `json:"comments"`
			}
			call(t, srv, "GET", "/rest/api/2/issue/"+key+"/comment?expand=properties", nil).decode(t, &page)
			if got := string(page.Comments[0]["properties"]); got != `[{"key":"sd.public.comment","value":{"internal":true}}]` {
				t.Errorf("internal note's properties %s", got)
			}
			if got, ok := page.Comments[1]["properties"]; string(got) != tt.want || ok != (tt.want != "") {
				t.Errorf("public comment's properties %q (key present %v), want %q", got, ok, tt.want)
			}
			if _, ok := page.Comments[1]["jsdPublic"]; ok {
				t.Error("a Data Center comment carries jsdPublic")
			}
			var search searchPage
			call(t, srv, "GET", "/rest/api/2/search?jql=project+%3D+IT&fields=comment", nil).decode(t, &search)
			var inline struct {
				Comments []map[string]json.RawMessage `json:"comments"`
			}
			if err := json.Unmarshal(search.Issues[0].Fields["comment"], &inline); err != nil {
				t.Fatal(err)
			}
			for _, c := range inline.Comments {
				if _, ok := c["properties"]; ok {
					t.Errorf("a search result's comment carries properties: %s", c["properties"])
				}
			}
		})
	}
}

func TestFieldsAreRandomPerSiteWithDecoys(t *testing.T) {
	type field struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Schema struct {
			Custom string `json:"custom"`
		} `json:"schema"`
	}
	idsByCustom := func(seed uint64) map[string][]string {
		srv := newTestServer(t, Options{Seed: seed})
		var fields []field
		call(t, srv, "GET", "/rest/api/2/field", nil).decode(t, &fields)
		out := map[string][]string{}
		names := map[string]int{}
		for _, f := range fields {
			out[f.Schema.Custom] = append(out[f.Schema.Custom], f.ID)
			names[f.Name]++
		}
		for _, name := range []string{SLATimeToFirstResponse, "Satisfaction"} {
			if names[name] != 2 {
				t.Errorf("seed %d: want a decoy named %q, found %d fields", seed, name, names[name])
			}
		}
		if got := srv.FieldIDs(); !slices.Contains(out["com.atlassian.servicedesk:sd-request-feedback"], got.Satisfaction) {
			t.Errorf("FieldIDs().Satisfaction %s not served", got.Satisfaction)
		}
		return out
	}
	one, again, other := idsByCustom(1), idsByCustom(1), idsByCustom(2)
	sla := "com.atlassian.servicedesk:sd-sla-field"
	if len(one[sla]) != 2 || len(one["com.atlassian.servicedesk:vp-origin"]) != 1 || len(one["com.atlassian.servicedesk:sd-request-feedback-date"]) != 1 {
		t.Errorf("JSM fields missing: %v", one)
	}
	if !slices.Equal(one[sla], again[sla]) || slices.Equal(one[sla], other[sla]) {
		t.Errorf("SLA field ids must follow the seed: %v %v %v", one[sla], again[sla], other[sla])
	}
}

func TestTimestampsAndMyselfUseTheUserZone(t *testing.T) {
	srv := newTestServer(t, Options{TimeZone: "Asia/Kolkata"})
	key := srv.CreateIssue(NewIssue{Project: "IT"})
	var me struct {
		TimeZone  string `json:"timeZone"`
		AccountID string `json:"accountId"`
	}
	call(t, srv, "GET", "/rest/api/2/myself", nil).decode(t, &me)
	if me.TimeZone != "Asia/Kolkata" || me.AccountID == "" {
		t.Errorf("myself: %+v", me)
	}
	var page searchPage
	call(t, srv, "POST", "/rest/api/2/search/jql", map[string]any{"jql": `created >= "2026-01-15 17:30"`, "fields": []string{"created"}}).decode(t, &page)
	if len(page.Issues) != 1 {
		t.Fatalf("12:00Z is 17:30 in Kolkata: want %s, got %d issues", key, len(page.Issues))
	}
	if got := string(page.Issues[0].Fields["created"]); got != `"2026-01-15T17:30:00.000+0530"` {
		t.Errorf("created rendered %s", got)
	}
	call(t, srv, "POST", "/rest/api/2/search/jql", map[string]any{"jql": `created > "2026-01-15 17:30"`}).decode(t, &page)
	if len(page.Issues) != 0 {
		t.Errorf("created > its own minute matched")
	}
}

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		gateway   bool
		setAuth   func(*http.Request)
		status    int
		seraph    bool
		bodyMatch string
	}{
		{"cloud basic", Options{}, false, func(r *http.Request) { r.SetBasicAuth(DefaultEmail, DefaultAPIToken) }, 200, false, "accountId"},
		{"cloud wrong token", Options{}, false, func(r *http.Request) { r.SetBasicAuth(DefaultEmail, "nope") }, 401, true, "Client must be authenticated"},
		{"cloud no credentials", Options{}, false, func(*http.Request) {}, 401, true, "Client must be authenticated"},
		{"dc pat", Options{Deployment: DeploymentDataCenter}, false, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+DefaultPAT) }, 200, false, `"name"`},
		{"dc wrong pat", Options{Deployment: DeploymentDataCenter}, false, func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, 401, true, "errorMessages"},
		{"scoped token on site", Options{ScopedToken: "scoped"}, false, func(r *http.Request) { r.SetBasicAuth(DefaultEmail, "scoped") }, 401, false, "scope does not match"},
		{"scoped token via gateway", Options{ScopedToken: "scoped"}, true, func(r *http.Request) { r.SetBasicAuth(DefaultEmail, "scoped") }, 200, false, "accountId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.opts)
			base := srv.URL
			if tt.gateway {
				base = srv.GatewayURL()
			}
			req, err := http.NewRequest(http.MethodGet, base+"/rest/api/2/myself", nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.setAuth(req)
			resp := do(t, req)
			if resp.status != tt.status || !strings.Contains(string(resp.body), tt.bodyMatch) {
				t.Errorf("got %d %s, want %d containing %q", resp.status, resp.body, tt.status, tt.bodyMatch)
			}
			if got := resp.header.Get("X-Seraph-LoginReason") == "AUTHENTICATED_FAILED"; got != tt.seraph {
				t.Errorf("X-Seraph-LoginReason present %v, want %v", got, tt.seraph)
			}
		})
	}
}

func TestServerInfoIsAnonymousAndNamesTheDeployment(t *testing.T) {
	for _, d := range []Deployment{DeploymentCloud, DeploymentServer, DeploymentDataCenter} {
		srv := newTestServer(t, Options{Deployment: d})
		resp := do(t, must(http.NewRequest(http.MethodGet, srv.URL+"/rest/api/2/serverInfo", nil)))
		var info struct {
			DeploymentType string `json:"deploymentType"`
			Version        string `json:"version"`
		}
		resp.decode(t, &info)
		if info.DeploymentType != string(d) || info.Version == "" {
			t.Errorf("%s: got %+v", d, info)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSearchIsEventuallyConsistentWithIndexLag(t *testing.T) {
	clock := &testClock{now: fixedNow}
	srv := newTestServer(t, Options{Now: clock.Now, IndexLag: time.Minute})
	key := srv.CreateIssue(NewIssue{Project: "IT"})
	found := func(jql string) []string {
		t.Helper()
		var page searchPage
		call(t, srv, "POST", "/rest/api/2/search/jql", map[string]any{"jql": jql, "fields": []string{"updated"}}).decode(t, &page)
		var got []string
		for _, is := range page.Issues {
			got = append(got, is.Key+"@"+strings.Trim(string(is.Fields["updated"]), `"`))
		}
		return got
	}
	if got := found("project = IT"); len(got) != 0 {
		t.Errorf("a new issue is found before the index caught up: %v", got)
	}
	clock.now = fixedNow.Add(time.Minute)
	if got := found("project = IT"); !slices.Equal(got, []string{key + "@2026-01-15T07:00:00.000-0500"}) {
		t.Errorf("after the lag: %v", got)
	}
	clock.now = fixedNow.Add(2 * time.Minute)
	if err := srv.AddComment(key, RoleAgent, true); err != nil {
		t.Fatal(err)
	}
	clock.now = fixedNow.Add(2*time.Minute + 30*time.Second)
	if got := found(`updated >= "2026-01-15 07:02"`); len(got) != 0 {
		t.Errorf("the change is visible before the index caught up: %v", got)
	}
	if got := found("project = IT"); !slices.Equal(got, []string{key + "@2026-01-15T07:00:00.000-0500"}) {
		t.Errorf("search must show the old version while lagging: %v", got)
	}
	if is, _ := srv.Issue(key); len(is.Comments) != 1 {
		t.Error("the data itself changed at once")
	}
	clock.now = fixedNow.Add(3 * time.Minute)
	if got := found(`updated >= "2026-01-15 07:02"`); !slices.Equal(got, []string{key + "@2026-01-15T07:02:00.000-0500"}) {
		t.Errorf("after the lag: %v", got)
	}
}

func TestShortPagesAreNotTheEnd(t *testing.T) {
	srv := newTestServer(t, Options{ShortPages: true})
	srv.Add(Generate(5, 250, GenerateOptions{End: fixedNow})...)
	var sizes []int
	body := map[string]any{"jql": "project in (IT, HR, FAC)", "fields": []string{"summary"}, "maxResults": 100}
	for {
		var page searchPage
		call(t, srv, "POST", "/rest/api/2/search/jql", body).decode(t, &page)
		sizes = append(sizes, len(page.Issues))
		if page.NextPageToken == nil {
			break
		}
		body["nextPageToken"] = *page.NextPageToken
	}
	if !slices.Equal(sizes, []int{66, 66, 66, 52}) {
		t.Errorf("page sizes %v", sizes)
	}
}

func TestCloudChangelogEndpoints(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		path string
		body any
		want func(t *testing.T, resp response)
	}{
		{"issue changelog pages oldest first", Options{}, "/rest/api/2/issue/IT-1/changelog?startAt=2&maxResults=2", nil, func(t *testing.T, resp response) {
			var page struct {
				StartAt, MaxResults, Total int
				IsLast                     bool
				NextPage                   string
				Values                     []struct {
					Items []struct {
						ToString string `json:"toString"`
					} `json:"items"`
				} `json:"values"`
			}
			resp.decode(t, &page)
			if page.StartAt != 2 || page.MaxResults != 2 || page.Total != 5 || page.IsLast || !strings.Contains(page.NextPage, "startAt=4") ||
				len(page.Values) != 2 || page.Values[0].Items[0].ToString != "Resolved" {
				t.Errorf("page: %s", resp.body)
			}
		}},
		{"bulkfetch created as epoch seconds", Options{ChangelogCreatedAsEpoch: true}, "/rest/api/2/changelog/bulkfetch", map[string]any{"issueIdsOrKeys": []string{"IT-1"}}, func(t *testing.T, resp response) {
			var page struct {
				IssueChangeLogs []struct {
					ChangeHistories []struct {
						Created int64 `json:"created"`
					} `json:"changeHistories"`
				} `json:"issueChangeLogs"`
			}
			resp.decode(t, &page)
			if got := page.IssueChangeLogs[0].ChangeHistories[0].Created; got != fixedNow.Add(time.Hour).Unix() {
				t.Errorf("created %d", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &testClock{now: fixedNow}
			tt.opts.Now = clock.Now
			srv := newTestServer(t, tt.opts)
			key := srv.CreateIssue(NewIssue{Project: "IT"})
			for i, status := range []string{StatusWaitingForCustomer, StatusInProgress, StatusResolved, StatusInProgress, StatusResolved} {
				clock.now = fixedNow.Add(time.Duration(i+1) * time.Hour)
				if err := srv.Transition(key, status); err != nil {
					t.Fatal(err)
				}
			}
			method := "GET"
			if tt.body != nil {
				method = "POST"
			}
			resp := call(t, srv, method, tt.path, tt.body)
			if resp.status != http.StatusOK {
				t.Fatalf("%d %s", resp.status, resp.body)
			}
			tt.want(t, resp)
		})
	}
}
