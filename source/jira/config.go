package jira

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
)

// Jira deployment kinds accepted by jira.deployment.
const (
	DeploymentAuto       = "auto"
	DeploymentCloud      = "cloud"
	DeploymentDataCenter = "datacenter"
)

// First-response modes accepted by jira.first_response.
const (
	FirstResponseAuto    = "auto"
	FirstResponseSLA     = "sla"
	FirstResponseComment = "comment"
)

// Config configures a Jira Cloud or Data Center source (type: jira).
type Config struct {
	URL               string  `yaml:"url"`
	Deployment        string  `yaml:"deployment"` // auto | cloud | datacenter
	JQL               string  `yaml:"jql"`
	FirstResponse     string  `yaml:"first_response"` // auto | sla | comment
	FirstResponseSLA  string  `yaml:"first_response_sla"`
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// Concurrency is how many requests of an initial sync are in flight at
	// once (id ranges on Cloud, startAt pages on Data Center), all paced by
	// RequestsPerSecond and held by the same Retry-After gate.
	Concurrency int `yaml:"concurrency"`

	// Timeout bounds one HTTP request (each retry gets its own).
	Timeout model.Duration `yaml:"timeout"`
	// MaxRetries bounds retries of one request after 429, 5xx or a timeout.
	MaxRetries int `yaml:"max_retries"`
	// PageSize is the maxResults asked of a search; Jira may return fewer.
	PageSize int `yaml:"page_size"`
	// Overlap re-reads tickets updated shortly before the last poll, because
	// Cloud search is eventually consistent and JQL dates have minute precision.
	Overlap model.Duration `yaml:"overlap"`
	// ReconcileInterval is how often the complete id set in scope is listed so
	// tickets that left the JQL drop out of the gauges; 0 disables it.
	ReconcileInterval model.Duration `yaml:"reconcile_interval"`
	// MaxPages caps the search pages of one pass; reaching it is an error
	// rather than an endless loop on a misbehaving server.
	MaxPages int `yaml:"max_pages"`
	// MaxResultWindow is Data Center's search window
	// (jira.search.platform.max.result.window); past it the source re-queries
	// by id instead of paging with startAt.
	MaxResultWindow int `yaml:"max_result_window"`
	// AutomationAccountIDs lists accounts (Cloud accountId or DC user name)
	// whose comments are automation, not agent responses.
	AutomationAccountIDs []string `yaml:"automation_account_ids"`
}

// maxConcurrency bounds jira.concurrency: beyond a few streams a site's
// burst limit, not latency, sets the pace.
const maxConcurrency = 16

// DefaultConfig holds the values used for keys left out of a jira: block.
var DefaultConfig = Config{
	Deployment:        DeploymentAuto,
	FirstResponse:     FirstResponseAuto,
	FirstResponseSLA:  "Time to first response",
	RequestsPerSecond: 5,
	Concurrency:       4,
	Timeout:           model.Duration(30 * time.Second),
	MaxRetries:        5,
	PageSize:          100,
	Overlap:           model.Duration(5 * time.Minute),
	ReconcileInterval: model.Duration(time.Hour),
	MaxPages:          10000,
	MaxResultWindow:   10000,
}

// UnmarshalYAML applies defaults, decodes strictly (unknown keys are errors)
// and validates.
func (c *Config) UnmarshalYAML(node *yaml.Node) error {
	*c = DefaultConfig
	c.AutomationAccountIDs = nil
	type plain Config
	if err := decodeStrict(node, (*plain)(c)); err != nil {
		return err
	}
	return c.Validate()
}

// decodeStrict decodes node into out rejecting unknown keys, every
// problem on the line it has in the file.
func decodeStrict(node *yaml.Node, out any) error {
	return config.DecodeStrict(node, out)
}

// Validate reports the first invalid key as a lowercase one-liner naming it.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.URL) == "" {
		return errors.New("jira.url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The value is not echoed: a mistyped URL may carry credentials.
		return errors.New("jira.url must be an absolute http or https URL")
	}
	if u.User != nil {
		return errors.New("jira.url must not contain credentials; use http_client.basic_auth or authorization")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("jira.url must not have a query or fragment")
	}
	switch c.Deployment {
	case DeploymentAuto, DeploymentCloud, DeploymentDataCenter:
	default:
		return fmt.Errorf("jira.deployment must be one of auto, cloud, datacenter, got %q", c.Deployment)
	}
	if strings.TrimSpace(c.JQL) == "" {
		return errors.New("jira.jql is required")
	}
	if strings.Contains(strings.ToLower(c.JQL), "order by") {
		return errors.New("jira.jql must not contain ORDER BY; the exporter orders results itself")
	}
	switch c.FirstResponse {
	case FirstResponseAuto, FirstResponseSLA, FirstResponseComment:
	default:
		return fmt.Errorf("jira.first_response must be one of auto, sla, comment, got %q", c.FirstResponse)
	}
	if c.FirstResponse != FirstResponseComment && strings.TrimSpace(c.FirstResponseSLA) == "" {
		return fmt.Errorf("jira.first_response_sla is required when jira.first_response is %s", c.FirstResponse)
	}
	if c.RequestsPerSecond <= 0 || c.RequestsPerSecond > 1000 {
		return fmt.Errorf("jira.requests_per_second must be in (0, 1000], got %g", c.RequestsPerSecond)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		return fmt.Errorf("jira.concurrency must be in [1, %d], got %d", maxConcurrency, c.Concurrency)
	}
	if c.Timeout <= 0 {
		return errors.New("jira.timeout must be positive")
	}
	if c.MaxRetries < 0 || c.MaxRetries > 20 {
		return fmt.Errorf("jira.max_retries must be in [0, 20], got %d", c.MaxRetries)
	}
	if c.PageSize < 1 || c.PageSize > 1000 {
		return fmt.Errorf("jira.page_size must be in [1, 1000], got %d", c.PageSize)
	}
	if c.Overlap < 0 || time.Duration(c.Overlap) > 24*time.Hour {
		return fmt.Errorf("jira.overlap must be in [0s, 24h], got %s", c.Overlap)
	}
	if c.ReconcileInterval < 0 || (c.ReconcileInterval > 0 && time.Duration(c.ReconcileInterval) < time.Minute) {
		return fmt.Errorf("jira.reconcile_interval must be 0 (off) or at least 1m, got %s", c.ReconcileInterval)
	}
	if c.MaxPages < 1 {
		return fmt.Errorf("jira.max_pages must be at least 1, got %d", c.MaxPages)
	}
	if c.MaxResultWindow < 1 {
		return fmt.Errorf("jira.max_result_window must be at least 1, got %d", c.MaxResultWindow)
	}
	for i, id := range c.AutomationAccountIDs {
		if strings.TrimSpace(id) == "" {
			return fmt.Errorf("jira.automation_account_ids[%d] must not be empty", i)
		}
	}
	return nil
}
