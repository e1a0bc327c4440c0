package fakejira

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const removedSearchMessage = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"

const unboundedJQLMessage = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."

func (s *Server) serveServerInfo(w http.ResponseWriter, _ *http.Request, _ []string) {
	info := map[string]any{
		"baseUrl":        s.URL,
		"version":        s.opts.Version,
		"versionNumbers": versionNumbers(s.opts.Version),
		"deploymentType": string(s.opts.Deployment),
		"buildNumber":    100300,
		"buildDate":      "2026-01-01T00:00:00.000+0000",
		"serverTitle":    "Jira",
	}
	if s.cloud() {
		info["serverTime"] = s.jiraTime(s.opts.Now())
		info["defaultLocale"] = map[string]any{"locale": "en_US"}
		info["displayUrl"] = s.URL
	} else {
		info["serverTime"] = s.jiraTime(s.opts.Now())
		info["scmInfo"] = "0123456789abcdef"
	}
	writeJSON(w, http.StatusOK, info)
}

func versionNumbers(v string) []int {
	var out []int
	for _, part := range strings.SplitN(strings.SplitN(v, "-", 2)[0], ".", 3) {
		n, _ := strconv.Atoi(part)
		out = append(out, n)
	}
	return out
}

func (s *Server) serveMyself(w http.ResponseWriter, _ *http.Request, _ []string) {
	bot := User{AccountID: "557058:exporter-bot", DisplayName: "Service desk exporter", Role: RoleAgent}
	if !s.cloud() {
		bot.AccountID = "exporter"
	}
	me := s.renderUser(bot)
	me.EmailAddress = s.opts.Email
	me.Locale = "en_US"
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) serveFields(w http.ResponseWriter, _ *http.Request, _ []string) {
	writeJSON(w, http.StatusOK, s.fieldDefinitions())
}

func (s *Server) serveStatuses(w http.ResponseWriter, _ *http.Request, _ []string) {
	out := make([]any, 0, len(Statuses))
	for _, st := range Statuses {
		out = append(out, s.renderStatus(st))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) serveStatusCategories(w http.ResponseWriter, _ *http.Request, _ []string) {
	out := make([]any, 0, len(statusCategories))
	for _, c := range statusCategories {
		out = append(out, s.renderCategory(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// searchParams are the search parameters from a GET query or a POST body.
type searchParams struct {
	jql             string
	nextPageToken   string
	startAt         int
	maxResults      string
	fields          []string
	expandChangelog bool
}

// stringOrList decodes expand, a string on Cloud and a list on Data Center.
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = strings.Split(one, ",")
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

func readSearchParams(r *http.Request) (searchParams, error) {
	var p searchParams
	var expand []string
	if r.Method == http.MethodPost {
		var body struct {
			JQL           string       `json:"jql"`
			NextPageToken string       `json:"nextPageToken"`
			StartAt       int          `json:"startAt"`
			MaxResults    json.Number  `json:"maxResults"`
			Fields        []string     `json:"fields"`
			Expand        stringOrList `json:"expand"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return p, errors.New("Unexpected character in the request body: " + err.Error())
		}
		p = searchParams{jql: body.JQL, nextPageToken: body.NextPageToken, startAt: max(0, body.StartAt), maxResults: body.MaxResults.String(), fields: body.Fields}
		expand = body.Expand
	} else {
		q := r.URL.Query()
		p = searchParams{jql: q.Get("jql"), nextPageToken: q.Get("nextPageToken"), maxResults: q.Get("maxResults"), fields: q["fields"]}
		p.startAt = atoiDefault(q.Get("startAt"), 0)
		expand = strings.Split(q.Get("expand"), ",")
	}
	for _, e := range expand {
		if strings.TrimSpace(e) == "changelog" {
			p.expandChangelog = true
		}
	}
	return p, nil
}

// jqlEnv describes the site to the JQL parser. Called with s.mu held.
func (s *Server) jqlEnv() jqlEnv {
	projects := make(map[string]string, 2*len(s.projects))
	for k, p := range s.projects {
		projects[k] = k
		projects[strconv.FormatInt(p.id, 10)] = k
	}
	return jqlEnv{loc: s.loc, projects: projects}
}

type cachedQuery struct {
	version uint64
	issues  []*Issue
}

// query runs a JQL query, caching the ordered result until the data
// changes, so paging through a large result costs one evaluation.
// Called with s.mu held.
func (s *Server) query(jql string) ([]*Issue, *jqlQuery, error) {
	q, err := parseJQL(jql, s.jqlEnv())
	if err != nil {
		return nil, nil, err
	}
	lagging := s.opts.IndexLag > 0
	if c, ok := s.queryCache[jql]; ok && c.version == s.version && !lagging {
		return c.issues, q, nil
	}
	if scope, after, through, ok := splitIDRange(jql); ok && !lagging {
		if issues, _, err := s.query(scope); err == nil {
			return idRange(issues, after, through), q, nil
		}
	}
	now := s.opts.Now()
	var matches []*Issue
	for _, is := range s.issues {
		if lagging && now.Before(is.indexedUntil) {
			if is = is.indexed; is == nil {
				continue
			}
		}
		if q.where == nil || q.where(is) {
			matches = append(matches, is)
		}
	}
	sortIssues(matches, q.order)
	if len(s.queryCache) >= 32 {
		clear(s.queryCache)
	}
	s.queryCache[jql] = cachedQuery{version: s.version, issues: matches}
	return matches, q, nil
}

// cursor is the state behind a Cloud nextPageToken: a snapshot of the
// ordered result and the position in it.
type cursor struct {
	jql    string
	issues []*Issue
	offset int
}

// maxCursors bounds the tokens kept. Tokens stay valid after use, since a
// client retrying a failed page sends the same token again.
const maxCursors = 64

func (s *Server) saveCursor(c *cursor) string {
	s.cursorSeq++
	token := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "page:%d:%d:%d", s.version, s.cursorSeq, c.offset))
	s.cursors[token] = c
	s.cursorOrder = append(s.cursorOrder, token)
	if len(s.cursorOrder) > maxCursors {
		delete(s.cursors, s.cursorOrder[0])
		s.cursorOrder = s.cursorOrder[1:]
	}
	return token
}

// writeNoRoute is Jira's answer for a path it does not serve, e.g.
// /issue/{key}/changelog on Data Center 9.x.
func writeNoRoute(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "null for uri: http://" + r.Host + r.URL.RequestURI(), "status-code": 404})
}

func writeJQLError(w http.ResponseWriter, err error) {
	var je *jqlError
	if errors.As(err, &je) {
		writeErrors(w, http.StatusBadRequest, je.msg)
		return
	}
	writeErrors(w, http.StatusBadRequest, err.Error())
}

// serveSearchJQL is Cloud's enhanced search: token paging, no total,
// fields default to id only.
func (s *Server) serveSearchJQL(w http.ResponseWriter, r *http.Request, _ []string) {
	if !s.cloud() {
		writeNoRoute(w, r)
		return
	}
	p, err := readSearchParams(r)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	sel := parseFieldSelection(p.fields, false)
	limit := 100
	if sel.idOnly() && !p.expandChangelog {
		limit = 5000
	}
	size := pageSize(p.maxResults, 50, limit)
	if s.opts.ShortPages {
		size = max(1, size*2/3)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var c *cursor
	if p.nextPageToken != "" {
		c = s.cursors[p.nextPageToken]
		if c == nil || c.jql != p.jql {
			writeErrors(w, http.StatusBadRequest, "The provided next page token is invalid or expired.")
			return
		}
	} else {
		issues, q, err := s.query(p.jql)
		if err != nil {
			writeJQLError(w, err)
			return
		}
		if q.where == nil {
			writeErrors(w, http.StatusBadRequest, unboundedJQLMessage)
			return
		}
		c = &cursor{jql: p.jql, issues: issues}
	}
	end := min(c.offset+size, len(c.issues))
	token := ""
	if end < len(c.issues) {
		token = s.saveCursor(&cursor{jql: c.jql, issues: c.issues, offset: end})
	}
	if !p.expandChangelog && s.writeCachedSearchPage(w, c.issues[c.offset:end], sel, end >= len(c.issues), token) {
		return
	}
	page := make([]any, 0, end-c.offset)
	for _, is := range c.issues[c.offset:end] {
		page = append(page, s.renderIssue(is, sel, p.expandChangelog))
	}
	resp := map[string]any{"issues": page, "isLast": end >= len(c.issues)}
	if token != "" {
		resp["nextPageToken"] = token
	}
	s.writeRendered(w, http.StatusOK, resp)
}

func (s *Server) serveApproximateCount(w http.ResponseWriter, r *http.Request, _ []string) {
	if !s.cloud() {
		writeNoRoute(w, r)
		return
	}
	var body struct {
		JQL string `json:"jql"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErrors(w, http.StatusBadRequest, "Unexpected character in the request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	issues, q, err := s.query(body.JQL)
	if err != nil {
		writeJQLError(w, err)
		return
	}
	if q.where == nil {
		writeErrors(w, http.StatusBadRequest, unboundedJQLMessage)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(issues)})
}

// serveSearch is the old search: gone on Cloud, startAt paging with a
// result window on Data Center.
func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request, _ []string) {
	if s.cloud() {
		writeErrors(w, http.StatusGone, removedSearchMessage)
		return
	}
	if strings.Contains(r.URL.Path, "/api/3/") {
		writeNoRoute(w, r)
		return
	}
	p, err := readSearchParams(r)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	sel := parseFieldSelection(p.fields, true)
	size := pageSize(p.maxResults, 50, 100)
	if p.maxResults == "0" {
		size = 0 // a count: total without issues
	}
	if p.startAt+size > s.opts.SearchWindow {
		writeErrors(w, http.StatusBadRequest, fmt.Sprintf("Search limit exceeded. The search request asked for %d results, which exceeded the search platform limit of %d. Refine the search or use a smaller page.", p.startAt+size, s.opts.SearchWindow))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	issues, _, err := s.query(p.jql)
	if err != nil {
		writeJQLError(w, err)
		return
	}
	start := min(p.startAt, len(issues))
	end := min(start+size, len(issues))
	page := make([]any, 0, end-start)
	for _, is := range issues[start:end] {
		page = append(page, s.renderIssue(is, sel, p.expandChangelog))
	}
	s.writeRendered(w, http.StatusOK, map[string]any{
		"expand": "schema,names", "startAt": p.startAt, "maxResults": size, "total": len(issues), "issues": page,
	})
}

// bulkfetchToken encodes the position in the flattened history list.
func bulkfetchToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("bulk:" + strconv.Itoa(offset)))
}

func parseBulkfetchToken(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "bulk:"))
	return n, err == nil && strings.HasPrefix(string(b), "bulk:")
}

func (s *Server) serveBulkfetch(w http.ResponseWriter, r *http.Request, _ []string) {
	if !s.cloud() {
		writeNoRoute(w, r)
		return
	}
	var body struct {
		IssueIDsOrKeys []string `json:"issueIdsOrKeys"`
		FieldIDs       []string `json:"fieldIds"`
		MaxResults     int      `json:"maxResults"`
		NextPageToken  string   `json:"nextPageToken"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErrors(w, http.StatusBadRequest, "Unexpected character in the request body.")
		return
	}
	switch {
	case len(body.IssueIDsOrKeys) == 0:
		writeErrors(w, http.StatusBadRequest, "issueIdsOrKeys must not be empty.")
		return
	case len(body.IssueIDsOrKeys) > 1000:
		writeErrors(w, http.StatusBadRequest, "issueIdsOrKeys must contain at most 1000 items.")
		return
	case len(body.FieldIDs) > 10:
		writeErrors(w, http.StatusBadRequest, "fieldIds must contain at most 10 items.")
		return
	case body.MaxResults > 10000:
		writeErrors(w, http.StatusBadRequest, "maxResults must be at most 10000.")
		return
	}
	size := body.MaxResults
	if size <= 0 {
		size = 1000
	}
	offset := 0
	if body.NextPageToken != "" {
		var ok bool
		if offset, ok = parseBulkfetchToken(body.NextPageToken); !ok {
			writeErrors(w, http.StatusBadRequest, "The provided next page token is invalid or expired.")
			return
		}
	}
	fieldIDs := map[string]bool{}
	for _, f := range body.FieldIDs {
		fieldIDs[f] = true
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var issues []*Issue
	seen := map[int64]bool{}
	for _, idOrKey := range body.IssueIDsOrKeys {
		if is := s.lookup(idOrKey); is != nil && !seen[is.ID] {
			seen[is.ID] = true
			issues = append(issues, is)
		}
	}
	sortIssues(issues, []orderKey{{field: "id"}})

	// Walk every matching history in (issue id, date) order; the page is
	// the slice [offset, offset+size) of that sequence.
	var out []any
	position, taken := 0, 0
	more := false
	for _, is := range issues {
		var histories []any
		for i := range is.Histories {
			h := &is.Histories[i]
			if !historyTouches(h, fieldIDs) {
				continue
			}
			if position >= offset {
				if taken == size {
					more = true
					break
				}
				histories = append(histories, s.historyValue(is, i, fieldIDs, s.opts.ChangelogCreatedAsEpoch))
				taken++
			}
			position++
		}
		if len(histories) > 0 {
			out = append(out, map[string]any{"issueId": strconv.FormatInt(is.ID, 10), "changeHistories": histories})
		}
		if more {
			break
		}
	}
	resp := map[string]any{"issueChangeLogs": append([]any{}, out...)}
	if more {
		resp["nextPageToken"] = bulkfetchToken(offset + taken)
	}
	s.writeRendered(w, http.StatusOK, resp)
}

// lookup finds an issue by id or key. Called with s.mu held.
func (s *Server) lookup(idOrKey string) *Issue {
	if id, err := strconv.ParseInt(idOrKey, 10, 64); err == nil {
		return s.byID[id]
	}
	return s.byKey[strings.ToUpper(idOrKey)]
}

func writeIssueNotFound(w http.ResponseWriter) {
	writeErrors(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
}

// serveIssue is GET issue. Its expand=changelog is how Data Center gets a
// whole changelog (Data Center has no paged changelog endpoint); Cloud
// keeps the most recent 100 there.
func (s *Server) serveIssue(w http.ResponseWriter, r *http.Request, args []string) {
	q := r.URL.Query()
	sel := parseFieldSelection(q["fields"], true)
	expandChangelog := false
	for _, e := range strings.Split(q.Get("expand"), ",") {
		expandChangelog = expandChangelog || e == "changelog"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(args[0])
	if is == nil {
		writeIssueNotFound(w)
		return
	}
	limit := len(is.Histories)
	if s.cloud() {
		limit = 100
	}
	writeJSON(w, http.StatusOK, s.renderIssueWithChangelog(is, sel, expandChangelog, limit))
}

// serveIssueChangelog is Cloud's paged per-issue changelog, oldest first.
func (s *Server) serveIssueChangelog(w http.ResponseWriter, r *http.Request, args []string) {
	if !s.cloud() {
		writeNoRoute(w, r)
		return
	}
	q := r.URL.Query()
	startAt := atoiDefault(q.Get("startAt"), 0)
	size := pageSize(q.Get("maxResults"), 100, 100)
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(args[0])
	if is == nil {
		writeIssueNotFound(w)
		return
	}
	total := len(is.Histories)
	start := min(startAt, total)
	end := min(start+size, total)
	values := make([]any, 0, end-start)
	for i := start; i < end; i++ {
		values = append(values, s.renderHistory(&is.Histories[i], false))
	}
	self := fmt.Sprintf("%s/rest/api/2/issue/%s/changelog", s.URL, is.Key)
	resp := map[string]any{
		"self": fmt.Sprintf("%s?startAt=%d&maxResults=%d", self, startAt, size), "maxResults": size, "startAt": startAt,
		"total": total, "isLast": end >= total, "values": values,
	}
	if end < total {
		resp["nextPage"] = fmt.Sprintf("%s?startAt=%d&maxResults=%d", self, end, size)
	}
	writeJSON(w, http.StatusOK, resp)
}

// serveComments is the platform comment page; expand=properties adds the
// sd.public.comment property that marks internal notes.
func (s *Server) serveComments(w http.ResponseWriter, r *http.Request, args []string) {
	q := r.URL.Query()
	startAt := atoiDefault(q.Get("startAt"), 0)
	size := pageSize(q.Get("maxResults"), 100, 100)
	withProperties := false
	for _, e := range strings.Split(q.Get("expand"), ",") {
		withProperties = withProperties || e == "properties"
	}
	newestFirst := false
	switch q.Get("orderBy") {
	case "", "created", "+created":
	case "-created":
		newestFirst = true
	default:
		writeErrors(w, http.StatusBadRequest, "Invalid orderBy value: "+q.Get("orderBy"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(args[0])
	if is == nil {
		writeIssueNotFound(w)
		return
	}
	total := len(is.Comments)
	start := min(startAt, total)
	end := min(start+size, total)
	comments := make([]any, 0, end-start)
	for i := start; i < end; i++ {
		idx := i
		if newestFirst {
			idx = total - 1 - i
		}
		comments = append(comments, s.renderComment(is, &is.Comments[idx], withProperties))
	}
	writeJSON(w, http.StatusOK, map[string]any{"startAt": startAt, "maxResults": size, "total": total, "comments": comments})
}

func writeSDError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errorMessage": msg, "i18nErrorMessage": map[string]any{"i18nKey": "sd.request.error", "parameters": []string{}}})
}

func (s *Server) serveFeedback(w http.ResponseWriter, _ *http.Request, args []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(args[0])
	if is == nil {
		writeSDError(w, http.StatusNotFound, "The request could not be found.")
		return
	}
	r := is.currentRating()
	if r == nil {
		writeSDError(w, http.StatusNotFound, "No feedback has been given for this request.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "csat", "rating": r.Value})
}

// sdPage renders the servicedeskapi paging envelope.
func (s *Server) sdPage(r *http.Request, start, limit, total int, values []any) map[string]any {
	links := map[string]any{"base": s.URL + "/rest/servicedeskapi", "context": ""}
	self := s.URL + r.URL.Path
	if start+len(values) < total {
		links["next"] = fmt.Sprintf("%s?start=%d&limit=%d", self, start+len(values), limit)
	}
	if start > 0 {
		links["prev"] = fmt.Sprintf("%s?start=%d&limit=%d", self, max(0, start-limit), limit)
	}
	return map[string]any{"_expands": []string{}, "size": len(values), "start": start, "limit": limit,
		"isLastPage": start+len(values) >= total, "_links": links, "values": values}
}

func boolParam(q url.Values, name string, def bool) bool {
	v, err := strconv.ParseBool(q.Get(name))
	if err != nil {
		return def
	}
	return v
}

func (s *Server) serveSDComments(w http.ResponseWriter, r *http.Request, args []string) {
	q := r.URL.Query()
	start := atoiDefault(q.Get("start"), 0)
	limit := pageSize(q.Get("limit"), 50, 100)
	public, internal := boolParam(q, "public", true), boolParam(q, "internal", true)
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(args[0])
	if is == nil {
		writeSDError(w, http.StatusNotFound, "The request could not be found.")
		return
	}
	var picked []*Comment
	for i := range is.Comments {
		c := &is.Comments[i]
		if (c.Public && public) || (!c.Public && internal) {
			picked = append(picked, c)
		}
	}
	from := min(start, len(picked))
	to := min(from+limit, len(picked))
	values := make([]any, 0, to-from)
	for _, c := range picked[from:to] {
		author := s.renderUser(c.Author)
		values = append(values, map[string]any{
			"_links": map[string]any{"self": fmt.Sprintf("%s/rest/servicedeskapi/request/%d/comment/%d", s.URL, is.ID, c.ID)},
			"id":     strconv.FormatInt(c.ID, 10), "body": c.Body, "public": c.Public,
			"author": author, "created": s.dateDTO(c.Created),
		})
	}
	writeJSON(w, http.StatusOK, s.sdPage(r, from, limit, len(picked), values))
}

func (s *Server) serveSDSLA(w http.ResponseWriter, r *http.Request, args []string) {
	q := r.URL.Query()
	start := atoiDefault(q.Get("start"), 0)
	limit := pageSize(q.Get("limit"), 50, 100)
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(args[0])
	if is == nil {
		writeSDError(w, http.StatusNotFound, "The request could not be found.")
		return
	}
	var values []any
	for _, name := range s.fields.slaOrder {
		if sla := is.sla(name); sla != nil {
			values = append(values, s.renderSLA(is, sla, s.fields.sla[name]))
		}
	}
	from := min(start, len(values))
	to := min(from+limit, len(values))
	writeJSON(w, http.StatusOK, s.sdPage(r, from, limit, len(values), append([]any{}, values[from:to]...)))
}
