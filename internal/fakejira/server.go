package fakejira

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Deployment is what /rest/api/2/serverInfo reports as deploymentType.
type Deployment string

// Deployment types.
const (
	DeploymentCloud      Deployment = "Cloud"
	DeploymentServer     Deployment = "Server"
	DeploymentDataCenter Deployment = "DataCenter"
)

// Default credentials and settings, used when Options leaves them empty.
const (
	DefaultEmail    = "exporter@example.com"
	DefaultAPIToken = "api-token"
	DefaultPAT      = "dc-personal-access-token"
	DefaultTimeZone = "America/New_York"
	DefaultSource   = "jira"
)

// Options configure a fake Jira. The zero value is a Cloud site with the
// default credentials, the API user in America/New_York and real time.
type Options struct {
	Deployment Deployment // default DeploymentCloud
	Version    string     // serverInfo version; a plausible default per deployment

	// TimeZone of the API user (/myself), used to read JQL dates and to
	// render timestamps, like real Jira. Default America/New_York.
	TimeZone string

	// Seed makes the custom field ids (random per site, like real Jira)
	// reproducible; different seeds give different ids.
	Seed uint64

	// Basic auth: Cloud email + API token, or Data Center user + password.
	Email    string
	APIToken string
	// PAT is accepted as "Authorization: Bearer" (Data Center personal
	// access token, or a Cloud OAuth access token).
	PAT string
	// ScopedToken, if set, is an API token with scopes: Basic auth with it
	// works only below /ex/jira/{CloudID}/ (the api.atlassian.com gateway
	// shape) and answers 401 "scope does not match" on the site URL.
	ScopedToken string
	CloudID     string // default "11111111-2222-3333-4444-555555555555"

	// Now is the fake's clock for data (mutations, SLA clocks, Truth).
	// Request timing and Retry-After penalties use real time.
	Now func() time.Time

	// SearchWindow is Data Center's max result window (default 10000):
	// startAt+maxResults beyond it is a 400.
	SearchWindow int
	// InlineChangelogLimit caps expand=changelog in search (default 20 on
	// Cloud, 100 on Data Center); InlineCommentLimit caps the comment field
	// in search results (default 20).
	InlineChangelogLimit int
	InlineCommentLimit   int

	// CommentProperties is how a comment read with expand=properties
	// renders when it has no property (a public comment): as [] (the
	// default), or, as Data Center sites send it, without the key or as
	// null. Internal notes always carry sd.public.comment.
	CommentProperties NoProperties

	// ChangelogCreatedAsEpoch renders bulkfetch "created" as epoch seconds,
	// as the spec example does, instead of the schema's date-time string.
	ChangelogCreatedAsEpoch bool

	// ShortPages makes Cloud search return a third fewer issues than it
	// could on every page that is not the last, as Jira may "where a large
	// number of fields are requested": pages are never to be assumed full.
	ShortPages bool

	// IndexLag makes search eventually consistent, as Jira Cloud's is: for
	// IndexLag (of Now) after a change, searches match and render the issue
	// as it was before it (a new issue is not found at all). Other endpoints
	// are current at once. Zero means searches see every change at once.
	// With a lag the query cache is off, so keep such sites small.
	IndexLag time.Duration

	// SLANames are the sd-sla-field custom fields the site has. Default
	// "Time to first response" and "Time to resolution".
	SLANames []string

	// Source is the value of the source label in Truth. Default "jira".
	Source string

	// CacheRenders renders each field of an issue once per data version
	// and assembles search pages from those bytes (see Prerender): for the
	// performance harness, since SLA clocks of open tickets freeze at the
	// first render.
	CacheRenders bool
}

// NoProperties is the shape of an expanded comment without properties.
type NoProperties string

// The shapes of Options.CommentProperties.
const (
	PropertiesEmptyList NoProperties = ""       // "properties": []
	PropertiesAbsent    NoProperties = "absent" // no properties key
	PropertiesNull      NoProperties = "null"   // "properties": null
)

// Server is a running fake Jira on 127.0.0.1. All methods are safe for
// concurrent use.
type Server struct {
	// URL is the site base URL, e.g. http://127.0.0.1:41234.
	URL string

	opts Options
	loc  *time.Location
	http *httptest.Server

	mu           sync.Mutex // guards the data below
	issues       []*Issue   // ascending id
	byKey        map[string]*Issue
	byID         map[int64]*Issue
	projects     map[string]*project
	requestTypes map[string]string // "PROJ/name" -> request type id
	orgIDs       map[string]int    // organization name -> id, in order of first use
	fields       customFields
	nextIssueID  int64
	nextChildID  int64 // comments and histories
	version      uint64
	queryCache   map[string]cachedQuery
	cursors      map[string]*cursor
	cursorOrder  []string
	cursorSeq    int
	renders      renderCache

	acct accounting
}

type project struct {
	key     string
	id      int64
	deskID  int
	nextNum int64
}

// New starts a fake Jira with no issues. Close it when done.
func New(opts Options) *Server {
	if opts.Deployment == "" {
		opts.Deployment = DeploymentCloud
	}
	if opts.Version == "" {
		opts.Version = "1001.0.0-SNAPSHOT"
		if opts.Deployment != DeploymentCloud {
			opts.Version = "10.3.12"
		}
	}
	if opts.TimeZone == "" {
		opts.TimeZone = DefaultTimeZone
	}
	if opts.Email == "" {
		opts.Email = DefaultEmail
	}
	if opts.APIToken == "" {
		opts.APIToken = DefaultAPIToken
	}
	if opts.PAT == "" {
		opts.PAT = DefaultPAT
	}
	if opts.CloudID == "" {
		opts.CloudID = "11111111-2222-3333-4444-555555555555"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SearchWindow == 0 {
		opts.SearchWindow = 10000
	}
	if opts.InlineChangelogLimit == 0 {
		opts.InlineChangelogLimit = 20
		if opts.Deployment != DeploymentCloud {
			opts.InlineChangelogLimit = 100
		}
	}
	if opts.InlineCommentLimit == 0 {
		opts.InlineCommentLimit = 20
	}
	if len(opts.SLANames) == 0 {
		opts.SLANames = []string{SLATimeToFirstResponse, SLATimeToResolution}
	}
	if opts.Source == "" {
		opts.Source = DefaultSource
	}
	loc, err := time.LoadLocation(opts.TimeZone)
	if err != nil {
		panic(fmt.Sprintf("fakejira: time zone %q: %v", opts.TimeZone, err))
	}
	s := &Server{
		opts:         opts,
		loc:          loc,
		byKey:        map[string]*Issue{},
		byID:         map[int64]*Issue{},
		projects:     map[string]*project{},
		requestTypes: map[string]string{},
		orgIDs:       map[string]int{},
		nextIssueID:  10000,
		nextChildID:  100000,
		queryCache:   map[string]cachedQuery{},
		cursors:      map[string]*cursor{},
	}
	s.fields = newCustomFields(opts.Seed, opts.SLANames)
	s.acct.counts = map[string]int{}
	s.acct.dataCenter = opts.Deployment != DeploymentCloud
	s.http = httptest.NewServer(s)
	s.URL = s.http.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.http.Close() }

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.opts }

// Location is the API user's time zone.
func (s *Server) Location() *time.Location { return s.loc }

// GatewayURL is the URL under which the scoped token is accepted, shaped
// like https://api.atlassian.com/ex/jira/{cloudId}.
func (s *Server) GatewayURL() string { return s.URL + "/ex/jira/" + s.opts.CloudID }

// route is one endpoint: a name for counting, a method, a path pattern.
type route struct {
	name    string
	method  string
	pattern *regexp.Regexp
	handle  func(s *Server, w http.ResponseWriter, r *http.Request, args []string)
	anon    bool // answered without credentials (serverInfo)
}

var routes = []route{
	{name: "serverInfo", method: "GET", pattern: regexp.MustCompile(`^/rest/api/(?:2|latest)/serverInfo$`), handle: (*Server).serveServerInfo, anon: true},
	{name: "myself", method: "GET", pattern: regexp.MustCompile(`^/rest/api/(?:2|latest)/myself$`), handle: (*Server).serveMyself},
	{name: "field", method: "GET", pattern: regexp.MustCompile(`^/rest/api/(?:2|latest)/field$`), handle: (*Server).serveFields},
	{name: "status", method: "GET", pattern: regexp.MustCompile(`^/rest/api/(?:2|latest)/status$`), handle: (*Server).serveStatuses},
	{name: "statuscategory", method: "GET", pattern: regexp.MustCompile(`^/rest/api/(?:2|latest)/statuscategory$`), handle: (*Server).serveStatusCategories},
	{name: "search_jql", method: "GET POST", pattern: regexp.MustCompile(`^/rest/api/(?:2|latest)/search/jql$`), handle: (*Server).serveSearchJQL},
	{name: "approximate_count", method: "POST", pattern: regexp.MustCompile(`^/rest/api/(?:2|3|latest)/search/approximate-count$`), handle: (*Server).serveApproximateCount},
	{name: "search", method: "GET POST", pattern: regexp.MustCompile(`^/rest/api/(?:2|3|latest)/search$`), handle: (*Server).serveSearch},
	{name: "changelog_bulkfetch", method: "POST", pattern: regexp.MustCompile(`^/rest/api/(?:2|3|latest)/changelog/bulkfetch$`), handle: (*Server).serveBulkfetch},
	{name: "issue_changelog", method: "GET", pattern: regexp.MustCompile(`^/rest/api/(?:2|latest)/issue/([^/]+)/changelog$`), handle: (*Server).serveIssueChangelog},
	{name: "issue", method: "GET", pattern: regexp.MustCompile(`^/rest/api/(?:2|latest)/issue/([^/]+)$`), handle: (*Server).serveIssue},
	{name: "comment", method: "GET", pattern: regexp.MustCompile(`^/rest/api/(?:2|latest)/issue/([^/]+)/comment$`), handle: (*Server).serveComments},
	{name: "sd_feedback", method: "GET", pattern: regexp.MustCompile(`^/rest/servicedeskapi/request/([^/]+)/feedback$`), handle: (*Server).serveFeedback},
	{name: "sd_comment", method: "GET", pattern: regexp.MustCompile(`^/rest/servicedeskapi/request/([^/]+)/comment$`), handle: (*Server).serveSDComments},
	{name: "sd_sla", method: "GET", pattern: regexp.MustCompile(`^/rest/servicedeskapi/request/([^/]+)/sla$`), handle: (*Server).serveSDSLA},
}

// EndpointUnknown is the Count name of requests to paths the fake does not
// serve.
const EndpointUnknown = "unknown"

// ServeHTTP dispatches like Jira: authentication, then the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	viaGateway := false
	if prefix := "/ex/jira/" + s.opts.CloudID; strings.HasPrefix(path, prefix+"/") {
		path = strings.TrimPrefix(path, prefix)
		viaGateway = true
	}
	var matched *route
	var args []string
	for i := range routes {
		if m := routes[i].pattern.FindStringSubmatch(path); m != nil {
			matched, args = &routes[i], m[1:]
			break
		}
	}
	name := EndpointUnknown
	if matched != nil {
		name = matched.name
	}
	rec := &statusRecorder{ResponseWriter: w}
	proceed, truncate := s.acct.admit(name, r, rec)
	defer s.acct.finish(rec)
	if !proceed {
		return
	}
	var out http.ResponseWriter = rec
	if truncate {
		tw := &truncatingWriter{ResponseWriter: rec}
		defer tw.flush()
		out = tw
	}
	s.dispatch(out, r, matched, args, viaGateway)
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, matched *route, args []string, viaGateway bool) {
	if !s.authorized(w, r, viaGateway, matched != nil && matched.anon) {
		return
	}
	if matched == nil {
		writeNoRoute(w, r)
		return
	}
	if !slices.Contains(strings.Fields(matched.method), r.Method) {
		w.Header().Set("Allow", strings.ReplaceAll(matched.method, " ", ", "))
		writeErrors(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	matched.handle(s, w, r, args)
}

// authorized checks credentials; on failure it has answered 401.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, viaGateway, anonymousOK bool) bool {
	auth := r.Header.Get("Authorization")
	if auth == "" && anonymousOK {
		return true
	}
	if user, pass, ok := r.BasicAuth(); ok {
		if user == s.opts.Email && pass == s.opts.APIToken && !viaGateway {
			return true
		}
		if s.opts.ScopedToken != "" && user == s.opts.Email && pass == s.opts.ScopedToken {
			if viaGateway {
				return true
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":401,"message":"Unauthorized; scope does not match"}`))
			return false
		}
	} else if token, ok := strings.CutPrefix(auth, "Bearer "); ok && token == s.opts.PAT {
		return true
	}
	w.Header().Set("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")
	w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
	if s.opts.Deployment == DeploymentCloud {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("Client must be authenticated to access this resource."))
		return false
	}
	w.Header().Set("X-AUSERNAME", "anonymous")
	writeErrors(w, http.StatusUnauthorized, "You are not authenticated. Authentication required to perform this operation.")
	return false
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	index  int // position in the request log
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	// Jira does not HTML-escape: links keep their literal "&".
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only bad test data (e.g. an Issue.SatisfactionRaw that is not
		// JSON) gets here; say so instead of sending a broken document.
		buf.Reset()
		_ = enc.Encode(map[string]any{"errorMessages": []string{"fakejira: encoding response: " + err.Error()}, "errors": map[string]string{}})
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// writeErrors answers with Jira's error collection body.
func writeErrors(w http.ResponseWriter, status int, messages ...string) {
	writeJSON(w, status, map[string]any{"errorMessages": messages, "errors": map[string]string{}})
}

// jiraTime is Jira's REST timestamp format, in the API user's zone.
func (s *Server) jiraTime(t time.Time) string {
	return t.In(s.loc).Format("2006-01-02T15:04:05.000-0700")
}

func (s *Server) jiraTimeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.jiraTime(t)
}

// customFields holds the site's random custom field ids.
type customFields struct {
	sla              map[string]string // SLA name -> customfield_N
	slaOrder         []string
	satisfaction     string
	satisfactionDate string
	requestType      string
	participants     string
	decoyFirstResp   string // a text field named like the SLA
	decoySatisfied   string // a number field named "Satisfaction"
	decoyRequestType string // a select field named "Request Type"

	organizations      string // JSM Organizations
	team               string // the Team field (Cloud atlassian-team, Data Center Advanced Roadmaps)
	assignmentGroup    string // a single select "Assignment group" holding the team too
	decoyOrganizations string // a text field also named "Organizations"
}

func newCustomFields(seed uint64, slaNames []string) customFields {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	used := map[int]bool{}
	next := func() string {
		for {
			n := 10000 + rng.IntN(90000)
			if !used[n] {
				used[n] = true
				return "customfield_" + strconv.Itoa(n)
			}
		}
	}
	f := customFields{sla: map[string]string{}}
	for _, name := range slaNames {
		f.sla[name] = next()
		f.slaOrder = append(f.slaOrder, name)
	}
	f.satisfaction = next()
	f.satisfactionDate = next()
	f.requestType = next()
	f.participants = next()
	f.decoyFirstResp = next()
	f.decoySatisfied = next()
	f.decoyRequestType = next()
	// Drawn after the others, so the ids of the fields above stay what
	// they were before the fake had segments.
	f.organizations = next()
	f.team = next()
	f.assignmentGroup = next()
	f.decoyOrganizations = next()
	return f
}

// FieldIDs are the ids of the JSM custom fields on this site, for tests
// that check what the adapter discovered.
type FieldIDs struct {
	SLA              map[string]string // by SLA name
	Satisfaction     string
	SatisfactionDate string
	RequestType      string
	Organizations    string
	Team             string
	AssignmentGroup  string
}

// FieldIDs returns the site's real JSM custom field ids (not the decoys).
func (s *Server) FieldIDs() FieldIDs {
	sla := map[string]string{}
	for k, v := range s.fields.sla {
		sla[k] = v
	}
	return FieldIDs{SLA: sla, Satisfaction: s.fields.satisfaction, SatisfactionDate: s.fields.satisfactionDate, RequestType: s.fields.requestType,
		Organizations: s.fields.organizations, Team: s.fields.team, AssignmentGroup: s.fields.assignmentGroup}
}

func customIDNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "customfield_"))
	return n
}

// pageSize clamps a requested page size to [1, limit], def when absent.
func pageSize(raw string, def, limit int) int {
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		n = def
	}
	return min(n, limit)
}

func atoiDefault(raw string, def int) int {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return def
	}
	return n
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
