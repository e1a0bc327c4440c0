// Package config loads and validates the exporter's YAML configuration:
// defaults, then a strict decode (unknown keys are errors), then validation.
package config

import (
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// Config is the whole configuration file.
type Config struct {
	Store   StoreConfig   `yaml:"store"`
	Metrics MetricsConfig `yaml:"metrics"`
	Sources []Source      `yaml:"sources"`
}

// StoreConfig says where the embedded store lives.
type StoreConfig struct {
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
	Lookback     model.Duration `yaml:"lookback"`
	Since        Date           `yaml:"since"`

	Demo *DemoConfig `yaml:"demo,omitempty"`
	Jira *JiraConfig `yaml:"jira,omitempty"`
	// HTTPClient is prometheus/common's HTTPClientConfig, inline under http_client.
	HTTPClient promconfig.HTTPClientConfig `yaml:"http_client,omitempty"`
}

// DemoConfig configures the built-in simulated desk.
type DemoConfig struct {
	Seed          int64    `yaml:"seed"`
	Desks         []string `yaml:"desks"`
	TicketsPerDay float64  `yaml:"tickets_per_day"`
}

// Date is a calendar date (2006-01-02) in UTC.
type Date struct{ time.Time }
