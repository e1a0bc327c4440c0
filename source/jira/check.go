package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// checkSampleSize is how many resolved tickets the check reads to see
// whether SLA and Satisfaction values are visible to the API user.
const checkSampleSize = 20

// A person waits on a check: it gives up sooner than a poll.
const (
	// checkFirstWait bounds the wait for the site's first answer.
	checkFirstWait = 10 * time.Second
	// checkMaxRetries caps the retries of each check request.
	checkMaxRetries = 2
)

// checkReport is what the check learned about the site.
type checkReport struct {
	URL        string // without credentials
	Deployment string // cloud or datacenter; "" while the site has not answered
	Version    string
	User       string // display name
	TimeZone   string

	// MatchingTickets is how many tickets jira.jql matches; approximate on
	// Cloud (search/approximate-count), exact on Data Center.
	MatchingTickets       int
	MatchingApproximately bool

	Fields []Field

	SampledTickets         int
	TicketsWithSLA         int // usable SLA values
	TicketsWithSLAError    int // JSM's error object in an SLA field
	TicketsWithRating      int
	FirstResponseMode      string // "sla" or "comment"
	FirstResponseSLA       string
	FirstResponseSLAExists bool

	// Segments are the customer group and team fields read (Kind says
	// which); TicketsWithSegment counts the sampled tickets with a value.
	Segments           []Field
	TicketsWithSegment map[string]int

	Warnings []string
}

// Check connects to the site and writes to w what the exporter will see,
// under the caller's heading for the source (source.Checker). What it
// connects to is written before it waits; the error is actionable (it says
// which setting to fix) and w holds whatever was learned before it.
func (s *Source) Check(ctx context.Context, w io.Writer) error {
	_, err := s.checkTo(ctx, w)
	return err
}

// checkTo is Check, also returning what it learned.
func (s *Source) checkTo(ctx context.Context, w io.Writer) (*checkReport, error) {
	r := &checkReport{URL: api.RedactURL(s.cfg.URL)}
	if err := r.writeHead(w); err != nil {
		return r, err
	}
	err := s.check(ctx, r)
	if r.Deployment == "" {
		// The site did not answer: say what was asked of it instead.
		if _, werr := fmt.Fprintf(w, "  deployment:      %s (configured)\n", s.cfg.Deployment); werr != nil && err == nil {
			err = werr
		}
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
	st, err := s.ensureSiteWith(ctx, c, s.checkWait)
	if err != nil {
		return api.ExplainUnreachable(err, "jira.url", s.cfg.URL, s.httpCfg)
	}
	r.Deployment, r.Version = st.deployment, st.version
	r.User, r.TimeZone = st.user.DisplayName, st.loc.String()
	r.Fields = st.fields()
	r.Segments = st.segments.fields()
	r.FirstResponseSLA = strings.TrimSpace(s.cfg.FirstResponseSLA)
	r.FirstResponseMode = "comment"
	if st.firstResponseSLA != "" {
		r.FirstResponseMode, r.FirstResponseSLA = "sla", st.firstResponseSLA
	}
	for _, f := range st.slaFields {
		if strings.EqualFold(strings.TrimSpace(f.Name), r.FirstResponseSLA) {
			r.FirstResponseSLAExists = true
		}
	}
	if len(st.slaFields) == 0 {
		r.Warnings = append(r.Warnings, "no SLA fields found: is this Jira Service Management, and may the API user see its fields?")
	}
	if st.satisfaction == "" {
		r.Warnings = append(r.Warnings, "no Satisfaction field found: satisfaction ratings will not be exported")
	}
	if r.FirstResponseMode == "sla" && !r.FirstResponseSLAExists {
		r.Warnings = append(r.Warnings, fmt.Sprintf("first_response is sla but no SLA field is named %q", r.FirstResponseSLA))
	}

	if err := s.checkCount(ctx, c, st, r); err != nil {
		return err
	}
	if err := s.checkSample(ctx, c, st, r); err != nil {
		return err
	}
	if r.SampledTickets > 0 && len(st.slaFields) > 0 && r.TicketsWithSLA == 0 {
		r.Warnings = append(r.Warnings, "none of the sampled tickets shows an SLA value: the API user may not be an agent of these service desks")
	}
	if r.TicketsWithSLAError > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d of the sampled tickets hold an error object instead of SLA values (not in a service project?); their first response comes from comments", r.TicketsWithSLAError))
	}
	if r.SampledTickets > 0 && st.satisfaction != "" && r.TicketsWithRating == 0 {
		r.Warnings = append(r.Warnings, "none of the sampled resolved tickets shows a Satisfaction rating: none given yet, or hidden from the API user")
	}
	for _, f := range r.Segments {
		if r.SampledTickets > 0 && r.TicketsWithSegment[f.Kind] == 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("none of the sampled tickets has a value in %q (%s): every ticket counts under %s=\"none\"", f.Name, f.ID, f.Kind))
		}
	}
	return nil
}

func (s *Source) checkCount(ctx context.Context, c *api.Client, st *site, r *checkReport) error {
	jql := "(" + strings.TrimSpace(s.cfg.JQL) + ")"
	if st.cloud() {
		n, err := approximateCount(ctx, c, jql)
		if err != nil {
			return fmt.Errorf("count tickets: %w", s.explain(err))
		}
		r.MatchingTickets, r.MatchingApproximately = n, true
		return nil
	}
	q := url.Values{"jql": {jql}, "maxResults": {"0"}, "fields": {"id"}}
	var page searchPage
	if err := c.Do(ctx, api.Request{Endpoint: "search", Method: http.MethodGet, Path: "rest/api/2/search", Query: q}, &page); err != nil {
		return fmt.Errorf("count tickets: %w", s.explain(err))
	}
	r.MatchingTickets = page.Total
	return nil
}

// checkSample reads a few resolved tickets (ratings only exist on those)
// and counts which carry SLA and Satisfaction values.
func (s *Source) checkSample(ctx context.Context, c *api.Client, st *site, r *checkReport) error {
	fields := []string{"id"}
	for _, f := range st.slaFields {
		fields = append(fields, f.ID)
	}
	if st.satisfaction != "" {
		fields = append(fields, st.satisfaction)
	}
	segments := st.segments.fields()
	for _, f := range segments {
		fields = append(fields, f.ID)
	}
	r.TicketsWithSegment = map[string]int{}
	jql := "(" + strings.TrimSpace(s.cfg.JQL) + ") AND statusCategory = Done ORDER BY id ASC"
	q := url.Values{"jql": {jql}, "maxResults": {strconv.Itoa(checkSampleSize)}, "fields": {strings.Join(fields, ",")}}
	var issues []json.RawMessage
	if st.cloud() {
		var page searchJQLPage
		if err := c.Do(ctx, api.Request{Endpoint: "search_jql", Method: http.MethodGet, Path: "rest/api/2/search/jql", Query: q}, &page); err != nil {
			return fmt.Errorf("sample tickets: %w", s.explain(err))
		}
		issues = page.Issues
	} else {
		var page searchPage
		if err := c.Do(ctx, api.Request{Endpoint: "search", Method: http.MethodGet, Path: "rest/api/2/search", Query: q}, &page); err != nil {
			return fmt.Errorf("sample tickets: %w", s.explain(err))
		}
		issues = page.Issues
	}
	for _, raw := range issues {
		var is rawIssue
		if json.Unmarshal(raw, &is) != nil {
			continue
		}
		r.SampledTickets++
		withSLA, withError := false, false
		for _, f := range st.slaFields {
			var v *slaValue
			if !present(is.Fields[f.ID]) || json.Unmarshal(is.Fields[f.ID], &v) != nil {
				continue
			}
			switch v.use() {
			case slaUsable:
				withSLA = true
			case slaError:
				withError = true
			}
		}
		if withSLA {
			r.TicketsWithSLA++
		}
		if withError {
			r.TicketsWithSLAError++
		}
		if st.satisfaction != "" && present(is.Fields[st.satisfaction]) {
			r.TicketsWithRating++
		}
		for _, f := range segments {
			if v, err := segmentValue(is.Fields[f.ID]); err == nil && v != "" {
				r.TicketsWithSegment[f.Kind]++
			}
		}
	}
	return nil
}

func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null"
}

// writeHead prints what the check connects to, before it waits on it.
func (r *checkReport) writeHead(w io.Writer) error {
	_, err := fmt.Fprintf(w, "  url:             %s\n", r.URL)
	return err
}

// writeBody prints what the site showed, for a person reading a terminal.
func (r *checkReport) writeBody(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "  deployment:      %s %s\n", r.Deployment, r.Version)
	fmt.Fprintf(&b, "  user:            %s (time zone %s)\n", r.User, r.TimeZone)
	approx := ""
	if r.MatchingApproximately {
		approx = "about "
	}
	fmt.Fprintf(&b, "  jql matches:     %s%d tickets\n", approx, r.MatchingTickets)
	if len(r.Fields) == 0 {
		b.WriteString("  jsm fields:      none found\n")
	}
	for i, f := range r.Fields {
		label := "                  "
		if i == 0 {
			label = "  jsm fields:     "
		}
		name := ""
		if f.Name != "" {
			name = " " + strconv.Quote(f.Name)
		}
		fmt.Fprintf(&b, "%s %s %s%s\n", label, f.Kind, f.ID, name)
	}
	fmt.Fprintf(&b, "  sampled:         %d resolved tickets, %d with SLA values, %d with a satisfaction rating\n",
		r.SampledTickets, r.TicketsWithSLA, r.TicketsWithRating)
	for _, kind := range []string{kindCustomerGroup, kindTeam} {
		label := fmt.Sprintf("  %-17s", strings.ReplaceAll(kind, "_", " ")+":")
		found := false
		for _, f := range r.Segments {
			if f.Kind == kind {
				fmt.Fprintf(&b, "%s%s %q, %d of the sampled tickets have one\n", label, f.ID, f.Name, r.TicketsWithSegment[kind])
				found = true
			}
		}
		if !found {
			fmt.Fprintf(&b, "%snone read (segments.%s.field names one)\n", label, kind)
		}
	}
	if r.FirstResponseMode == "sla" {
		fmt.Fprintf(&b, "  first response:  sla %q\n", r.FirstResponseSLA)
	} else {
		b.WriteString("  first response:  first public agent comment\n")
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "  warning:         %s\n", warn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
