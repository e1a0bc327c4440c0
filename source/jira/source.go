// Package jira is the Jira Service Management source: it reads tickets from
// Jira Cloud (search/jql, changelog bulkfetch) or Data Center (search with
// startAt) and hands them over as normalized ticket facts. It never derives
// metrics; package ticket does that for every source.
package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"

	// JQL dates must be written in the API user's zone; embedding the zone
	// database keeps that working in minimal container images.
	_ "time/tzdata"
)

// Source reads one Jira site.
type Source struct {
	name       string
	cfg        Config
	httpCfg    promconfig.HTTPClientConfig // for hints only; the client holds its own
	logger     *slog.Logger
	api        *api.Client
	metrics    *api.Metrics // values left out of tickets; requests count in api
	automation map[string]bool
	segments   config.Segments // the source's segments: section
	now        func() time.Time
	checkWait  time.Duration // Check's bound on the wait for the first answer

	site api.Discovered[site]
}

// Option configures a Source.
type Option func(*options)

type options struct {
	client   []api.ClientOption
	segments config.Segments
}

// WithSegments names the fields the customer group and the team are read
// from (the source's segments: section); without it the customer group
// comes from the Organizations field when the site has one.
func WithSegments(s config.Segments) Option {
	return func(o *options) { o.segments = s }
}

// WithHTTPClient replaces the client built from the http_client config.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.client = append(o.client, api.WithHTTPClient(c)) }
}

// New returns a source for one Jira site. It does no I/O; the site is
// discovered on the first Poll or Check. env.Now is the data clock (pass
// starts, the next incremental bound, reconciliation); request pacing and
// Retry-After penalties keep real time.
func New(name string, cfg Config, httpCfg promconfig.HTTPClientConfig, env source.Env, opts ...Option) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	metrics := env.API
	if metrics == nil {
		metrics = api.NewMetrics(nil)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	client, err := api.NewClient(api.ClientConfig{
		System:            "jira",
		Source:            name,
		URL:               cfg.URL,
		HTTP:              httpCfg,
		RequestsPerSecond: cfg.RequestsPerSecond,
		Timeout:           time.Duration(cfg.Timeout),
		MaxRetries:        cfg.MaxRetries,
		Messages:          errorMessages,
		Metrics:           metrics,
		Logger:            logger,
	}, o.client...)
	if err != nil {
		return nil, fmt.Errorf("jira source %s: %w", name, err)
	}
	s := &Source{
		name:       name,
		cfg:        cfg,
		httpCfg:    httpCfg,
		logger:     logger,
		api:        client,
		metrics:    metrics,
		automation: map[string]bool{},
		segments:   o.segments,
		now:        now,
		checkWait:  checkFirstWait,
	}
	for _, id := range cfg.AutomationAccountIDs {
		s.automation[strings.TrimSpace(id)] = true
	}
	return s, nil
}

// Name is the source's configured name.
func (s *Source) Name() string { return s.name }

// ensureSite discovers the site once; a failed discovery is retried on the
// next call.
func (s *Source) ensureSite(ctx context.Context) (*site, error) {
	return s.ensureSiteWith(ctx, s.api, 0)
}

// ensureSiteWith is ensureSite through c, with discover's firstWait.
func (s *Source) ensureSiteWith(ctx context.Context, c *api.Client, firstWait time.Duration) (*site, error) {
	return s.site.Get(func() (*site, error) {
		st, err := s.discover(ctx, c, firstWait)
		if err != nil {
			return nil, err
		}
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
			"statuses", len(st.categories), "first_response", mode,
			"customer_group", st.segments.customerGroup.describe(), "team", st.segments.team.describe())
		return st, nil
	})
}

// explain turns API errors into messages that say what to fix.
func (s *Source) explain(err error) error {
	var apiErr *api.Error
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

// errorMessages extracts Jira's error texts: errorMessages, then errors by
// field, then message.
func errorMessages(body []byte) []string {
	var parsed struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		Message       string            `json:"message"`
	}
	if json.Unmarshal(body, &parsed) != nil {
		return nil
	}
	out := slices.Clone(parsed.ErrorMessages)
	for _, k := range slices.Sorted(maps.Keys(parsed.Errors)) {
		out = append(out, k+": "+parsed.Errors[k])
	}
	return append(out, parsed.Message)
}
