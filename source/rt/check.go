package rt

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// A person waits on a check: it gives up sooner than a poll.
const (
	// checkFirstWait bounds the wait for RT's first answer.
	checkFirstWait = 10 * time.Second
	// checkMaxRetries caps the retries of each check request.
	checkMaxRetries = 2
	// checkMaxQueues caps the queue records the check reads, one request each.
	checkMaxQueues = 50
	// checkSampleTickets is how many tickets the check reads the history of
	// to see that every transaction the source needs is visible.
	checkSampleTickets = 20
)

// authTokenUser reads the user id from an RT auth token, "1-<user id>-<32
// hex digits>" (RT::AuthToken->ParseAuthString): a token does not say
// whose it is any other way, and REST2 has no "who am I".
var authTokenUser = regexp.MustCompile(`^1-([0-9]+)-[0-9a-fA-F]{32}$`)

// checkReport is what the check learned about RT.
type checkReport struct {
	URL       string // without credentials
	Version   string // "" while RT has not answered
	Superuser bool

	User       string // "" when the credentials do not say
	Privileged bool

	Queues   []queueInfo
	Matching int

	SatisfactionField string
	SatisfactionIDs   []int64
	Fields            map[string][]int64 // other custom fields read, by name
	TimeZone          string
	ZoneChecked       bool
	SampledTickets    int
	SampledRows       int

	Warnings []string
}

type queueInfo struct {
	Name, Lifecycle string
	Known           bool // its lifecycle is built in or configured
}

// Check connects to RT and writes to w what the exporter will see, under
// the caller's heading for the source (source.Checker). What it connects
// to is written before it waits; the error is actionable (it says which
// setting or right to fix) and w holds whatever was learned before it.
func (s *Source) Check(ctx context.Context, w io.Writer) error {
	_, err := s.checkTo(ctx, w)
	return err
}

func (s *Source) checkTo(ctx context.Context, w io.Writer) (*checkReport, error) {
	r := &checkReport{URL: api.RedactURL(s.cfg.URL), SatisfactionField: strings.TrimSpace(s.cfg.SatisfactionField), TimeZone: s.loc.String()}
	if _, err := fmt.Fprintf(w, "  url:             %s\n", r.URL); err != nil {
		return r, err
	}
	err := s.check(ctx, r)
	if r.Version == "" {
		return r, err
	}
	if werr := r.writeBody(w); werr != nil && err == nil {
		err = werr
	}
	return r, err
}

// check fills r; r holds whatever was learned before an error.
func (s *Source) check(ctx context.Context, r *checkReport) error {
	c := s.api.WithRetries(min(s.cfg.MaxRetries, checkMaxRetries), time.Duration(s.cfg.Timeout))
	var info restRT
	err := c.DoWithin(ctx, s.checkWait, api.Request{Endpoint: endpointRT, Method: http.MethodGet, Path: restPrefix + "rt"}, &info)
	if err != nil {
		return api.ExplainUnreachable(fmt.Errorf("read the RT version: %w", s.explain(err)), "rt.url", s.cfg.URL, s.httpCfg)
	}
	r.Version = info.Version
	if r.Version == "" {
		r.Version = "(not stated)"
	}
	r.Superuser = len(info.Plugins) > 0
	if err := s.checkUser(ctx, c, r); err != nil {
		return err
	}
	if err := s.checkQueues(ctx, c, r); err != nil {
		return err
	}
	st, err := s.ensureSite(ctx, c, 0)
	if err != nil {
		return err
	}
	r.SatisfactionIDs, r.ZoneChecked = st.satisfactionIDs, st.zoneChecked
	r.Fields = map[string][]int64{}
	for _, name := range s.customFieldsWanted() {
		r.Fields[name] = st.fieldIDs[name]
	}
	if r.SatisfactionField != "" && len(st.satisfactionIDs) == 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("no ticket custom field named %q is visible: no satisfaction ratings will be read "+
			"(check rt.satisfaction_field, and that the API user has SeeCustomField on it)", r.SatisfactionField))
	}
	if !st.zoneChecked {
		r.Warnings = append(r.Warnings, "the time zone could not be checked (no ticket to test it on): make sure rt.time_zone is the API user's time zone in RT")
	}
	sample, err := s.checkCount(ctx, c, r)
	if err != nil {
		return err
	}
	return s.checkHistory(ctx, c, st, sample, r)
}

// checkUser finds who the credentials belong to and whether that user is
// privileged: only a privileged user may look other users up, which the
// source needs to tell agents from customers.
func (s *Source) checkUser(ctx context.Context, c *api.Client, r *checkReport) error {
	who, ok := s.credentialsUser()
	if !ok {
		r.Warnings = append(r.Warnings, "the credentials do not say which RT user they belong to (not basic_auth, nor an RT auth token); "+
			"make sure that user is privileged")
		return nil
	}
	var u restUser
	if err := c.Do(ctx, api.Request{Endpoint: endpointUser, Method: http.MethodGet, Path: restPrefix + "user/" + url.PathEscape(who)}, &u); err != nil {
		return fmt.Errorf("read the API user: %w", s.explain(err))
	}
	r.User = u.Name
	if r.User == "" {
		r.User = who
	}
	r.Privileged = u.Privileged.Set && u.Privileged.Value == 1
	if !r.Privileged {
		return fmt.Errorf("the API user %s is not privileged: RT lets only privileged users look up other users, which the exporter "+
			"needs to tell agents from customers; make it privileged and give it the rights in docs/rt.md", r.User)
	}
	return nil
}

// credentialsUser is the RT user name (or numeric id) the http_client
// credentials authenticate as, when they say.
func (s *Source) credentialsUser() (string, bool) {
	if ba := s.httpCfg.BasicAuth; ba != nil {
		name := ba.Username
		if ba.UsernameFile != "" {
			b, err := os.ReadFile(ba.UsernameFile)
			if err != nil {
				return "", false
			}
			name = strings.TrimSpace(string(b))
		}
		return name, name != ""
	}
	a := s.httpCfg.Authorization
	if a == nil || !strings.EqualFold(a.Type, "token") {
		return "", false
	}
	token := string(a.Credentials)
	if a.CredentialsFile != "" {
		b, err := os.ReadFile(a.CredentialsFile)
		if err != nil {
			return "", false
		}
		token = string(b)
	}
	m := authTokenUser.FindStringSubmatch(strings.TrimSpace(token))
	if m == nil {
		return "", false
	}
	return m[1], true
}

// checkQueues lists the queues the API user sees with their lifecycles.
// With rt.queues each must be among them and have a known lifecycle.
func (s *Source) checkQueues(ctx context.Context, c *api.Client, r *checkReport) error {
	var coll collection
	if err := c.Do(ctx, api.Request{Endpoint: endpointQueues, Method: http.MethodGet, Path: restPrefix + "queues/all",
		Query: url.Values{"per_page": {strconv.Itoa(perPage)}}}, &coll); err != nil {
		return fmt.Errorf("list queues: %w", s.explain(err))
	}
	ids := itemIDs(coll.Items)
	if len(ids) > checkMaxQueues {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the API user sees %d queues; only the first %d by id were read", len(ids), checkMaxQueues))
		ids = ids[:checkMaxQueues]
	}
	for _, id := range ids {
		var q restQueue
		if err := c.Do(ctx, api.Request{Endpoint: endpointQueue, Method: http.MethodGet, Path: restPrefix + "queue/" + strconv.FormatInt(id, 10)}, &q); err != nil {
			return fmt.Errorf("read queue %d: %w", id, s.explain(err))
		}
		_, known := s.lifecycles[q.Lifecycle]
		r.Queues = append(r.Queues, queueInfo{Name: q.Name, Lifecycle: q.Lifecycle, Known: known})
	}
	if len(s.cfg.Queues) == 0 {
		for _, q := range r.Queues {
			if !q.Known {
				r.Warnings = append(r.Warnings, fmt.Sprintf("queue %s uses lifecycle %q, which rt.lifecycles does not describe: "+
					"tickets of it that rt.query selects are skipped", q.Name, q.Lifecycle))
			}
		}
		return nil
	}
	for _, want := range s.cfg.Queues {
		want = strings.TrimSpace(want)
		i := slices.IndexFunc(r.Queues, func(q queueInfo) bool { return strings.EqualFold(q.Name, want) })
		switch {
		case i < 0:
			return fmt.Errorf("rt.queues: queue %q is not among the queues the API user sees (a typo, a disabled queue, or no SeeQueue right)", want)
		case !r.Queues[i].Known:
			return fmt.Errorf("rt.queues: queue %q uses lifecycle %q; describe its statuses in rt.lifecycles.%s", want, r.Queues[i].Lifecycle, r.Queues[i].Lifecycle)
		}
	}
	return nil
}

// checkCount counts the selected tickets and returns the newest few ids.
func (s *Source) checkCount(ctx context.Context, c *api.Client, r *checkReport) ([]int64, error) {
	q := url.Values{"query": {newTicketSQL(s.cfg, s.loc).selection()}, "orderby": {"id"}, "order": {"DESC"},
		"per_page": {strconv.Itoa(checkSampleTickets)}}
	var coll collection
	if err := c.Do(ctx, api.Request{Endpoint: endpointTickets, Method: http.MethodGet, Path: restPrefix + "tickets", Query: q}, &coll); err != nil {
		return nil, fmt.Errorf("count tickets: %w", s.explain(err))
	}
	if coll.Total != nil {
		r.Matching = *coll.Total
	}
	return itemIDs(coll.Items), nil
}

// checkHistory reads the history of the sample as Complete does and makes
// sure no row is hidden: REST2 drops rows the user may not see after
// cutting a page, so a page is short although more follow, and the source,
// which ends at a short page, would miss replies and ratings.
func (s *Source) checkHistory(ctx context.Context, c *api.Client, st *site, ids []int64, r *checkReport) error {
	if len(ids) == 0 {
		return nil
	}
	r.SampledTickets = len(ids)
	base := transactionSQL(ids, st)
	var last int64
	for page := 0; page < 2; page++ {
		q := url.Values{"query": {afterID(base, last)}, "orderby": {"id"}, "order": {"ASC"}, "per_page": {strconv.Itoa(perPage)}, "fields": {"ObjectId"}}
		var coll collection
		if err := c.Do(ctx, api.Request{Endpoint: endpointTransactions, Method: http.MethodGet, Path: restPrefix + "transactions", Query: q}, &coll); err != nil {
			return fmt.Errorf("read ticket histories: %w", s.explain(err))
		}
		for _, raw := range coll.Items {
			last = max(last, itemID(raw))
		}
		if page == 1 && len(coll.Items) > 0 {
			return fmt.Errorf("RT hid some history rows from the API user (a short page was followed by more): grant it ShowTicketComments " +
				"and SeeCustomField on the satisfaction field in every queue it reads (docs/rt.md)")
		}
		r.SampledRows += len(coll.Items)
		if len(coll.Items) >= max(coll.PerPage, 1) {
			return nil // a full page proves nothing either way; the sample is large enough
		}
	}
	return nil
}

// writeBody prints what RT showed, for a person reading a terminal.
func (r *checkReport) writeBody(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "  version:         %s\n", r.Version)
	switch {
	case r.User == "":
		b.WriteString("  user:            (not known from the credentials)\n")
	case r.Superuser:
		fmt.Fprintf(&b, "  user:            %s (privileged, superuser: more than it needs)\n", r.User)
	case r.Privileged:
		fmt.Fprintf(&b, "  user:            %s (privileged)\n", r.User)
	default:
		fmt.Fprintf(&b, "  user:            %s (not privileged)\n", r.User)
	}
	if len(r.Queues) > 0 {
		names := make([]string, len(r.Queues))
		for i, q := range r.Queues {
			names[i] = fmt.Sprintf("%s (%s)", q.Name, q.Lifecycle)
		}
		fmt.Fprintf(&b, "  queues:          %s\n", strings.Join(names, ", "))
	}
	fmt.Fprintf(&b, "  tickets:         %d selected\n", r.Matching)
	switch {
	case r.SatisfactionField == "":
		b.WriteString("  satisfaction:    off\n")
	case len(r.SatisfactionIDs) == 0:
		fmt.Fprintf(&b, "  satisfaction:    custom field %q not found\n", r.SatisfactionField)
	default:
		fmt.Fprintf(&b, "  satisfaction:    custom field %q (id %s)\n", r.SatisfactionField, joinIDs(r.SatisfactionIDs))
	}
	for _, name := range slices.Sorted(maps.Keys(r.Fields)) {
		fmt.Fprintf(&b, "  custom field:    %q (id %s)\n", name, joinIDs(r.Fields[name]))
	}
	zone := "checked"
	if !r.ZoneChecked {
		zone = "not checked"
	}
	fmt.Fprintf(&b, "  time zone:       %s (%s)\n", r.TimeZone, zone)
	if r.SampledTickets > 0 {
		fmt.Fprintf(&b, "  history:         %d rows of the newest %d tickets, none hidden\n", r.SampledRows, r.SampledTickets)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "  warning:         %s\n", warn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}
