// Package config loads and validates the exporter's YAML configuration:
// defaults, then a strict decode (unknown keys are errors), then validation.
// Every error is one line starting with "<file>:<line>: ".
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/jira"
	"gopkg.in/yaml.v3"
)

// Source types.
const (
	TypeDemo = "demo"
	TypeJira = "jira"
)

// Defaults for keys left out of the file.
const (
	DefaultStorePath       = "data/servicedesk.db"
	DefaultLabelValueLimit = 100
	DefaultLookback        = model.Duration(30 * 24 * time.Hour)
	DefaultDemoPoll        = model.Duration(30 * time.Second)
	DefaultJiraPoll        = model.Duration(2 * time.Minute)
)

// DefaultFirstResponseBuckets are SLA-shaped: minutes to a week.
func DefaultFirstResponseBuckets() []model.Duration {
	return durations(5*time.Minute, 15*time.Minute, 30*time.Minute, time.Hour, 2*time.Hour,
		4*time.Hour, 8*time.Hour, day, 2*day, 3*day, week)
}

// DefaultResolutionBuckets span an hour to four weeks.
func DefaultResolutionBuckets() []model.Duration {
	return durations(time.Hour, 4*time.Hour, 8*time.Hour, day, 2*day, 3*day, week, 2*week, 4*week)
}

const (
	day  = 24 * time.Hour
	week = 7 * day
)

func durations(ds ...time.Duration) []model.Duration {
	out := make([]model.Duration, len(ds))
	for i, d := range ds {
		out[i] = model.Duration(d)
	}
	return out
}

// Config is the whole configuration file.
type Config struct {
	Store   StoreConfig   `yaml:"store"`
	Metrics MetricsConfig `yaml:"metrics"`
	Sources []Source      `yaml:"sources"`
}

// StoreConfig says where the embedded store lives.
type StoreConfig struct {
	// Path is relative to the working directory, like Prometheus' --storage.tsdb.path.
	Path string `yaml:"path"`
}

// MetricsConfig shapes the exported metrics.
type MetricsConfig struct {
	// LabelValueLimit caps distinct values per label; further values fold into "other".
	LabelValueLimit      int              `yaml:"label_value_limit"`
	FirstResponseBuckets []model.Duration `yaml:"first_response_buckets"`
	ResolutionBuckets    []model.Duration `yaml:"resolution_buckets"`
}

// Source is one ticketing system to poll.
type Source struct {
	Name         string         `yaml:"name"`
	Type         string         `yaml:"type"`
	PollInterval model.Duration `yaml:"poll_interval"`
	// Lookback and Since are exclusive; after loading, exactly one is set.
	Lookback model.Duration `yaml:"lookback,omitempty"`
	Since    Date           `yaml:"since,omitempty"`

	Demo *demo.Config `yaml:"demo,omitempty"`
	Jira *jira.Config `yaml:"jira,omitempty"`
	// HTTPClient is prometheus/common's HTTPClientConfig under http_client;
	// relative file paths in it are already resolved against the config file's directory.
	HTTPClient promconfig.HTTPClientConfig `yaml:"http_client,omitempty"`
}

// Horizon is the earliest time whose events count: since if set, else now minus lookback.
// The store persists the horizon of the first start, so later config edits do not move it.
func (s Source) Horizon(now time.Time) time.Time {
	if !s.Since.IsZero() {
		return s.Since.Time
	}
	return now.Add(-time.Duration(s.Lookback))
}

// Date is a calendar date (2006-01-02) at midnight UTC.
type Date struct{ time.Time }

// MarshalYAML renders the date as YYYY-MM-DD, or nothing when unset.
func (d Date) MarshalYAML() (any, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.Format(time.DateOnly), nil
}

// Load reads and parses the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		// No line to point at yet; the file name still comes first.
		return nil, fmt.Errorf("%s: cannot read the config file: %w", path, err)
	}
	return Parse(data, path)
}

// Parse parses data as the config file filename. filename prefixes every error,
// and relative file paths under http_client resolve against its directory.
// Files named there must be readable; their content is not kept.
func Parse(data []byte, filename string) (*Config, error) {
	return newParser(filename).parse(data)
}

// String renders the config as YAML with every secret shown as <secret>.
func (c *Config) String() string {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Sprintf("# config cannot be rendered: %v\n", err)
	}
	return b.String()
}

// BucketSeconds returns the histogram upper bounds in seconds, the unit the
// exported histograms use.
func BucketSeconds(buckets []model.Duration) []float64 {
	out := make([]float64, len(buckets))
	for i, b := range buckets {
		out[i] = time.Duration(b).Seconds()
	}
	return out
}
