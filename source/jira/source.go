// Package jira is the Jira Service Management source: it reads tickets from
// Jira Cloud (search/jql, changelog bulkfetch) or Data Center (search with
// startAt) and hands them over as normalized ticket facts. It never derives
// metrics; package ticket does that for every source.
package jira

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gojira "github.com/andygrunwald/go-jira"
	promconfig "github.com/prometheus/common/config"
	"golang.org/x/time/rate"

	// JQL dates must be written in the API user's zone; embedding the zone
	// database keeps that working in minimal container images.
	_ "time/tzdata"
)

// Source reads one Jira site.
type Source struct {
	name       string
	cfg        Config
	logger     *slog.Logger
	api        *apiClient
	automation map[string]bool
	now        func() time.Time

	mu   sync.Mutex
	site *site // discovered on first use, then kept for the process
}

// Option configures a Source.
type Option func(*Source)

// WithClock replaces time.Now for the data side: pass start times (and so
// the next incremental bound) and reconciliation. Request pacing and
// Retry-After penalties keep real time.
func WithClock(now func() time.Time) Option {
	return func(s *Source) { s.now = now }
}

// WithHTTPClient replaces the client built from the http_client config.
func WithHTTPClient(c *http.Client) Option {
	return func(s *Source) {
		jc, err := gojira.NewClient(c, s.cfg.URL)
		if err == nil {
			s.api.jc = jc
		}
	}
}

// withTimers replaces the clock and sleep of backoff and the penalty gate
// (tests: a sleep that advances the clock makes waits instant and visible).
func withTimers(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Source) { s.api.now, s.api.sleep = now, sleep }
}

// withJitter replaces the backoff jitter source (tests).
func withJitter(j func() float64) Option {
	return func(s *Source) { s.api.jitter = j }
}

// New returns a source for one Jira site. It does no I/O; the site is
// discovered on the first Poll or Check.
func New(name string, cfg Config, httpCfg promconfig.HTTPClientConfig, logger *slog.Logger, m *Metrics, opts ...Option) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	httpClient, err := promconfig.NewClientFromConfig(httpCfg, "servicedesk_exporter")
	if err != nil {
		return nil, fmt.Errorf("jira source %s: http client: %w", name, err)
	}
	jc, err := gojira.NewClient(httpClient, cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("jira source %s: %w", name, err)
	}
	burst := max(1, int(cfg.RequestsPerSecond))
	s := &Source{
		name:       name,
		cfg:        cfg,
		logger:     logger,
		automation: map[string]bool{},
		now:        time.Now,
		api: &apiClient{
			jc:         jc,
			source:     name,
			metrics:    m,
			limiter:    rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), burst),
			gate:       &penaltyGate{},
			timeout:    time.Duration(cfg.Timeout),
			maxRetries: cfg.MaxRetries,
			logger:     logger,
			now:        time.Now,
			sleep:      sleepContext,
			jitter:     randJitter,
		},
	}
	for _, id := range cfg.AutomationAccountIDs {
		s.automation[strings.TrimSpace(id)] = true
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Name is the source's configured name.
func (s *Source) Name() string { return s.name }

// ensureSite discovers the site once; a failed discovery is retried on the
// next call.
func (s *Source) ensureSite(ctx context.Context) (*site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.site != nil {
		return s.site, nil
	}
	st, err := s.discover(ctx)
	if err != nil {
		return nil, err
	}
	s.site = st
	fields := make([]string, 0, len(st.fields()))
	for _, f := range st.fields() {
		fields = append(fields, fmt.Sprintf("%s=%s(%s)", f.Kind, f.ID, f.Name))
	}
	mode := "comment"
	if st.firstResponseSLA != "" {
		mode = "sla:" + st.firstResponseSLA
	}
	s.logger.Info("jira site discovered", "deployment", st.deployment, "version", st.version,
		"user_time_zone", st.loc.String(), "jsm_fields", strings.Join(fields, " "),
		"statuses", len(st.categories), "first_response", mode)
	return st, nil
}

// explain turns API errors into messages that say what to fix.
func (s *Source) explain(err error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	var hint string
	switch apiErr.StatusCode {
	case http.StatusUnauthorized:
		hint = "authentication failed: check the http_client credentials (Cloud: basic_auth username is the account email and password_file holds the API token; Data Center: authorization credentials_file holds a personal access token)"
		u, perr := url.Parse(s.cfg.URL)
		onSite := perr == nil && strings.HasSuffix(strings.ToLower(u.Hostname()), ".atlassian.net")
		scopeMismatch := strings.Contains(strings.ToLower(strings.Join(apiErr.Messages, " ")), "scope does not match")
		if onSite || scopeMismatch {
			tenantInfo := "https://<site>.atlassian.net/_edge/tenant_info"
			if onSite {
				tenantInfo = u.Scheme + "://" + u.Host + "/_edge/tenant_info"
			}
			hint += "; a scoped API token or a service account's token is refused by the site URL: set jira.url to https://api.atlassian.com/ex/jira/<cloudId> (cloudId from " +
				tenantInfo + ")"
		}
	case http.StatusForbidden:
		hint = "permission denied: the API user needs Browse Projects on the projects in jira.jql, and must be a service desk agent to read SLA and Satisfaction values"
	case http.StatusNotFound:
		hint = "not found: check that jira.url is the site's base URL (https://<site>.atlassian.net, https://api.atlassian.com/ex/jira/<cloudId>, or the Data Center base URL including any context path) and that jira.deployment matches the site"
	case http.StatusGone:
		hint = "this API was removed: Jira Cloud no longer serves /rest/api/2/search; set jira.deployment to cloud or auto so the exporter uses /rest/api/2/search/jql"
	case http.StatusBadRequest:
		if apiErr.Endpoint == "search_jql" || apiErr.Endpoint == "search" || apiErr.Endpoint == "approximate_count" {
			hint = "jira rejected the query: check jira.jql"
		}
	case http.StatusTooManyRequests:
		hint = "still rate limited after retries: lower jira.requests_per_second"
	}
	if hint == "" {
		return err
	}
	return fmt.Errorf("%s: %w", hint, err)
}
