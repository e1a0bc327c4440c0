// Package rt is the Request Tracker 5 source: it reads tickets through
// RT's REST2 API in bulk — ticket pages by TicketSQL, then the histories of
// a whole page of tickets in one transaction search — and hands them over
// as normalized ticket facts. It never derives metrics; package ticket does
// that for every source. internal/rtserver/REST2.md records what REST2
// answers, including the parts this package works around.
package rt

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// systemUser is the user RT records its own actions under (id 1).
const systemUser = "RT_System"

// nobody is the Owner of a ticket nobody owns.
const nobody = "Nobody"

// Segment fields that are not custom fields.
const (
	// SegmentQueue is the ticket's queue.
	SegmentQueue = "Queue"
	// SegmentRequestorOrganization is the Organization of the ticket's
	// requestors: the first by user name that has one.
	SegmentRequestorOrganization = "Requestor.Organization"
)

// Source reads one Request Tracker.
type Source struct {
	name       string
	cfg        Config
	httpCfg    promconfig.HTTPClientConfig // for hints and the check's user; the client holds its own
	logger     *slog.Logger
	api        *api.Client
	metrics    *api.Metrics
	now        func() time.Time
	lifecycles map[string]lifecycle
	priorities priorityNamer
	automation map[string]bool
	// customerGroup and team are the segment fields: "", SegmentQueue,
	// SegmentRequestorOrganization or a custom field name.
	customerGroup, team string
	loc                 *time.Location
	checkWait           time.Duration // Check's bound on the wait for the first answer

	users *userCache

	site api.Discovered[site]
}

// New returns a source for one RT. It does no I/O; what it needs to know
// of RT is discovered on the first Poll or Check. env.Now is the data
// clock (pass starts, the next incremental bound, reconciliation); opts
// change how the HTTP client is built (tests: api.WithHTTPClient).
func New(name string, cfg Config, httpCfg promconfig.HTTPClientConfig, segments config.Segments, env source.Env, opts ...api.ClientOption) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("rt.time_zone: %w", err)
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	client, err := api.NewClient(api.ClientConfig{
		System:            typeName,
		Source:            name,
		URL:               cfg.URL,
		HTTP:              httpCfg,
		RequestsPerSecond: cfg.RequestsPerSecond,
		Timeout:           time.Duration(cfg.Timeout),
		MaxRetries:        cfg.MaxRetries,
		Messages:          api.MessageOnly,
		Metrics:           env.API,
		Logger:            logger,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("rt source %s: %w", name, err)
	}
	metrics := env.API
	if metrics == nil {
		metrics = api.NewMetrics(nil)
	}
	s := &Source{
		name:       name,
		cfg:        cfg,
		httpCfg:    httpCfg,
		logger:     logger,
		api:        client,
		metrics:    metrics,
		now:        now,
		lifecycles: cfg.lifecycles(),
		priorities: newPriorityNamer(cfg.Priority),
		automation: map[string]bool{systemUser: true},
		loc:        loc,
		checkWait:  checkFirstWait,
		users:      newUserCache(maxCachedUsers),
	}
	for _, u := range cfg.AutomationUsers {
		s.automation[strings.TrimSpace(u)] = true
	}
	s.customerGroup, s.team = segmentField(segments.CustomerGroup), segmentField(segments.Team)
	return s, nil
}

// segmentField is a segment's field with the names that are not custom
// fields spelt one way.
func segmentField(f *config.SegmentField) string {
	if f == nil {
		return ""
	}
	name := strings.TrimSpace(f.Field)
	for _, special := range []string{SegmentQueue, SegmentRequestorOrganization} {
		if strings.EqualFold(name, special) {
			return special
		}
	}
	return name
}

// Name is the source's configured name.
func (s *Source) Name() string { return s.name }

// customFieldsWanted are the ticket custom fields whose current values the
// ticket pages must carry, by name.
func (s *Source) customFieldsWanted() []string {
	var out []string
	for _, f := range []string{strings.TrimSpace(s.cfg.RequestTypeField), s.customerGroup, s.team} {
		if f != "" && f != SegmentQueue && f != SegmentRequestorOrganization {
			out = append(out, f)
		}
	}
	return out
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
		hint = "authentication failed: check the http_client credentials (authorization type token with " +
			"credentials_file holding an RT auth token of the API user, or basic_auth with its RT password)"
	case http.StatusForbidden:
		hint = "permission denied: the API user must be privileged and hold SeeQueue, ShowTicket, " +
			"ShowTicketComments and SeeCustomField on the queues it reads (docs/rt.md)"
	case http.StatusNotFound:
		hint = "not found: check that rt.url is RT's web base URL ($WebBaseURL, including any path such as /rt); " +
			"REST2 is served under it at /REST/2.0/"
	case http.StatusBadRequest:
		switch apiErr.Endpoint {
		case endpointTickets:
			hint = "RT rejected the TicketSQL: check rt.query (or the names in rt.queues)"
		case endpointTransactions:
			hint = "RT rejected the transaction search the exporter wrote; please report it with this message"
		}
	case http.StatusTooManyRequests:
		hint = "still rate limited after retries: lower rt.requests_per_second"
	}
	if hint == "" {
		return err
	}
	return fmt.Errorf("%s: %w", hint, err)
}
