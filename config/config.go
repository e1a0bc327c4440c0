// Package config loads and validates the exporter's YAML configuration:
// defaults, then a strict decode (unknown keys are errors), then validation.
// Every problem in a file is reported, each as one line starting with
// "<file>:<line>: ". Source types are not known here: the caller passes
// them in (SourceTypes), and each decodes its own section.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Defaults for keys left out of the file.
const (
	DefaultStorePath       = "data/servicedesk.db"
	DefaultLabelValueLimit = 100
	DefaultLookback        = model.Duration(30 * 24 * time.Hour)
	// DefaultSLAAtRiskRatio is the share of an SLA goal used from which a
	// running cycle counts as at risk.
	DefaultSLAAtRiskRatio = 0.75
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
	// SLAAtRiskRatio is the share of its goal a running SLA cycle has used
	// when servicedesk_sla_at_risk_open_tickets counts it; above 0, below 1.
	SLAAtRiskRatio float64 `yaml:"sla_at_risk_ratio"`
}

// Source is one ticketing system to poll.
type Source struct {
	Name string
	// Type names the source type; Settings holds what its Decode made of
	// the source's section under the type's name (jira: for type jira).
	Type         string
	PollInterval model.Duration
	// Lookback and Since are exclusive; after loading, exactly one is set.
	Lookback model.Duration
	Since    Date
	Segments Segments
	// SLAs are policies the exporter measures itself, in the file's order.
	SLAs     []ticket.SLAPolicy
	Settings any
	// HTTPClient is prometheus/common's HTTPClientConfig under http_client,
	// set for types that use it; relative file paths in it are already
	// resolved against the config file's directory.
	HTTPClient promconfig.HTTPClientConfig
}

// MarshalYAML renders the source as the file spells it, its settings
// under the type's key.
func (s Source) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, value any) error {
		var v yaml.Node
		if err := v.Encode(value); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &v)
		return nil
	}
	fields := []struct {
		key   string
		value any
		show  bool
	}{
		{"name", s.Name, true},
		{"type", s.Type, true},
		{"poll_interval", s.PollInterval, true},
		{"lookback", s.Lookback, s.Lookback != 0},
		{"since", s.Since, !s.Since.IsZero()},
		{"segments", s.Segments, !s.Segments.IsZero()},
		{"slas", slasYAML(s.SLAs), len(s.SLAs) > 0},
		{s.Type, s.Settings, s.Type != "" && s.Settings != nil},
		{"http_client", s.HTTPClient, !reflect.ValueOf(s.HTTPClient).IsZero()},
	}
	for _, f := range fields {
		if !f.show {
			continue
		}
		if err := add(f.key, f.value); err != nil {
			return nil, err
		}
	}
	return n, nil
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

// Load reads and parses the config file at path; types are the source
// types it may use. Its error lists every problem found (see Errors).
func Load(path string, types SourceTypes) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		// No line to point at yet; the file name still comes first.
		return nil, fmt.Errorf("%s: cannot read the config file: %w", path, err)
	}
	return Parse(data, path, types)
}

// Parse parses data as the config file filename. filename prefixes every
// error, and relative file paths under http_client resolve against its
// directory. Files named there must be readable; their content is not
// kept. Every problem found is reported, in file order, as an *Errors; a
// YAML syntax error ends parsing.
func Parse(data []byte, filename string, types SourceTypes) (*Config, error) {
	if types == nil {
		return nil, errors.New("config.Parse: no source types given")
	}
	return newParser(filename, types).parse(data)
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
