package config

import (
	"bytes"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/jira"
	"gopkg.in/yaml.v3"
)

// The raw* types mirror the public ones key for key, so the strict decoder
// rejects the same unknown keys, but keep each value as a yaml.Node: its line
// lets every later error point at the key at fault.
type rawConfig struct {
	Store   *rawStore   `yaml:"store"`
	Metrics *rawMetrics `yaml:"metrics"`
	Sources []rawSource `yaml:"sources"`
}

type rawStore struct {
	Path yaml.Node `yaml:"path"`
}

type rawMetrics struct {
	LabelValueLimit      yaml.Node `yaml:"label_value_limit"`
	FirstResponseBuckets yaml.Node `yaml:"first_response_buckets"`
	ResolutionBuckets    yaml.Node `yaml:"resolution_buckets"`
}

type rawSource struct {
	Name         yaml.Node          `yaml:"name"`
	Type         yaml.Node          `yaml:"type"`
	PollInterval yaml.Node          `yaml:"poll_interval"`
	Lookback     yaml.Node          `yaml:"lookback"`
	Since        yaml.Node          `yaml:"since"`
	Demo         *rawDemo           `yaml:"demo"`
	Jira         *jiraSection       `yaml:"jira"`
	HTTPClient   *httpClientSection `yaml:"http_client"`
}

type rawDemo struct {
	Seed          yaml.Node `yaml:"seed"`
	Desks         yaml.Node `yaml:"desks"`
	TicketsPerDay yaml.Node `yaml:"tickets_per_day"`
}

type jiraSection struct {
	cfg jira.Config
	err error
}

func (s *jiraSection) UnmarshalYAML(unmarshal func(any) error) error {
	return holdValidationError(unmarshal(&s.cfg), &s.err)
}

// parser turns one file into a Config; it carries what error messages need.
type parser struct {
	file    string
	dir     string
	root    *yaml.Node // the mapping at the top of the document, nil if empty
	secrets []string   // values that must never appear in a message
}

func newParser(filename string) *parser {
	return &parser{file: filename, dir: filepath.Dir(filename)}
}

func (p *parser) parse(data []byte) (*Config, error) {
	if err := p.parseTree(data); err != nil {
		return nil, err
	}
	var raw rawConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, p.decodeError(err)
	}
	return p.build(&raw)
}

// parseTree keeps the document's node tree for locating keys, and rejects
// syntax errors and extra documents.
func (p *parser) parseTree(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return p.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return p.syntaxError(err)
		}
		return p.errorf(extra.Line, "", "only one YAML document is allowed, found a second one")
	}
	p.secrets = collectSecrets(&doc)
	top := resolve(doc.Content[0])
	switch {
	case top.Kind == yaml.MappingNode:
		p.root = top
	case isSet(top):
		return p.errorf(top.Line, "", "the file must be a mapping with the keys store, metrics and sources, got %s", kindName(top))
	}
	return nil
}

func (p *parser) build(raw *rawConfig) (*Config, error) {
	cfg := &Config{
		Store: StoreConfig{Path: DefaultStorePath},
		Metrics: MetricsConfig{
			LabelValueLimit:      DefaultLabelValueLimit,
			FirstResponseBuckets: DefaultFirstResponseBuckets(),
			ResolutionBuckets:    DefaultResolutionBuckets(),
		},
	}
	if raw.Store != nil && isSet(&raw.Store.Path) {
		path, err := p.str(field{node: &raw.Store.Path, key: "store.path"})
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(path) == "" {
			return nil, p.errorf(raw.Store.Path.Line, "", "store.path must not be empty")
		}
		cfg.Store.Path = path
	}
	if raw.Metrics != nil {
		if err := p.metrics(raw.Metrics, &cfg.Metrics); err != nil {
			return nil, err
		}
	}
	sourceNodes := p.sourceNodes()
	if len(raw.Sources) == 0 {
		line := 1
		if key := mappingKey(p.root, "sources"); key != nil {
			line = key.Line
		}
		return nil, p.errorf(line, "", "no sources configured: add at least one under sources:")
	}
	firstUse := map[string]int{}
	for i := range raw.Sources {
		src, err := p.source(i, &raw.Sources[i], sourceNodes[i], firstUse)
		if err != nil {
			return nil, err
		}
		cfg.Sources = append(cfg.Sources, src)
	}
	return cfg, nil
}

func (p *parser) metrics(raw *rawMetrics, m *MetricsConfig) error {
	if isSet(&raw.LabelValueLimit) {
		limit, err := p.integer(field{node: &raw.LabelValueLimit, key: "metrics.label_value_limit"})
		if err != nil {
			return err
		}
		if limit < 1 || limit > math.MaxInt32 {
			return p.errorf(raw.LabelValueLimit.Line, "", "metrics.label_value_limit must be at least 1, got %d", limit)
		}
		m.LabelValueLimit = int(limit)
	}
	buckets := []struct {
		node *yaml.Node
		key  string
		out  *[]model.Duration
	}{
		{&raw.FirstResponseBuckets, "metrics.first_response_buckets", &m.FirstResponseBuckets},
		{&raw.ResolutionBuckets, "metrics.resolution_buckets", &m.ResolutionBuckets},
	}
	for _, b := range buckets {
		if !isSet(b.node) {
			continue
		}
		bounds, err := p.buckets(field{node: b.node, key: b.key})
		if err != nil {
			return err
		}
		*b.out = bounds
	}
	return nil
}

func (p *parser) buckets(f field) ([]model.Duration, error) {
	items, err := p.sequence(f)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, p.errorf(f.line(), f.scope, "%s must list at least one bucket", f.key)
	}
	bounds := make([]model.Duration, len(items))
	for i, item := range items {
		bound, err := p.positiveDuration(f.item(item, i))
		if err != nil {
			return nil, err
		}
		if i > 0 && bound <= bounds[i-1] {
			return nil, p.errorf(item.Line, f.scope, "%s must be strictly increasing: %s follows %s", f.key, bound, bounds[i-1])
		}
		bounds[i] = bound
	}
	return bounds, nil
}
