package config

import (
	"bytes"
	"errors"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// The raw* types mirror the file key for key, so the strict decoder
// rejects unknown keys, but keep each value as a yaml.Node: its line lets
// every later error point at the key at fault.
type rawConfig struct {
	Store   *rawStore         `yaml:"store"`
	Metrics *rawMetrics       `yaml:"metrics"`
	Sources []*rawSourceEntry `yaml:"sources"`
}

type rawStore struct {
	Path yaml.Node `yaml:"path"`
}

type rawMetrics struct {
	LabelValueLimit      yaml.Node `yaml:"label_value_limit"`
	FirstResponseBuckets yaml.Node `yaml:"first_response_buckets"`
	ResolutionBuckets    yaml.Node `yaml:"resolution_buckets"`
	SLAAtRiskRatio       yaml.Node `yaml:"sla_at_risk_ratio"`
}

var reflectRawSource = reflect.TypeFor[rawSource]()

// rawSourceEntry holds back what went wrong decoding one source, so that
// the entry stays in the list: yaml.v3 drops list items that fail, and
// every later entry would then be checked against the wrong node. The
// pointer keeps empty entries too.
type rawSourceEntry struct {
	src rawSource
	err error
}

func (e *rawSourceEntry) UnmarshalYAML(unmarshal func(any) error) error {
	e.err = unmarshal(&e.src)
	return nil
}

// parser turns one file into a Config, collecting every problem on the
// way; it carries what error messages need.
type parser struct {
	file     string
	dir      string
	types    SourceTypes
	root     *yaml.Node // the mapping at the top of the document, nil if empty
	secrets  []string   // values that must never appear in a message
	errs     []*lineError
	reported map[lineError]bool

	// failed holds nodes the strict decode could not decode (a mismatch,
	// or a mapping with a duplicate key): the checks that would read them
	// skip them. errNodes are the nodes of every problem the decode reported.
	failed   map[*yaml.Node]bool
	errNodes []*yaml.Node
	// guessed holds, per mapping, the keys an unknown key of it was taken
	// for: such a key is not reported missing as well.
	guessed      map[*yaml.Node]map[string]bool
	filesChecked map[*yaml.Node]bool
}

func newParser(filename string, types SourceTypes) *parser {
	return &parser{
		file: filename, dir: filepath.Dir(filename), types: types,
		reported: map[lineError]bool{}, failed: map[*yaml.Node]bool{}, guessed: map[*yaml.Node]map[string]bool{}, filesChecked: map[*yaml.Node]bool{},
	}
}

func (p *parser) parse(data []byte) (*Config, error) {
	if !p.parseTree(data) {
		return nil, p.result()
	}
	var raw rawConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		if !p.decodeErrors(err) {
			return nil, p.result()
		}
	}
	cfg := p.build(&raw)
	if err := p.result(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseTree keeps the document's node tree for locating keys, and rejects
// syntax errors and extra documents; it returns false if nothing more can
// be checked.
func (p *parser) parseTree(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return true
		}
		p.syntaxError(data, err)
		return false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			p.syntaxError(data, err)
		} else {
			p.errorf(extra.Line, "", "only one YAML document is allowed, found a second one")
		}
		return false
	}
	p.secrets = collectSecrets(&doc)
	top := resolve(doc.Content[0])
	switch {
	case top.Kind == yaml.MappingNode:
		p.root = top
	case isSet(top):
		p.errorf(top.Line, "", "the file must be a mapping with the keys store, metrics and sources, got %s", kindName(top))
		return false
	}
	p.failed = duplicateKeys(top, func(dup, first *yaml.Node) {
		p.errorf(dup.Line, "", "key %q appears twice in the same mapping (first on line %d)", dup.Value, first.Line)
	})
	return true
}

func (p *parser) build(raw *rawConfig) *Config {
	cfg := &Config{
		Store: StoreConfig{Path: DefaultStorePath},
		Metrics: MetricsConfig{
			LabelValueLimit:      DefaultLabelValueLimit,
			FirstResponseBuckets: DefaultFirstResponseBuckets(),
			ResolutionBuckets:    DefaultResolutionBuckets(),
			SLAAtRiskRatio:       DefaultSLAAtRiskRatio,
		},
	}
	if p.root == nil || p.failed[p.root] {
		if p.root == nil {
			p.errorf(1, "", "no sources configured: add at least one under sources:")
		}
		return cfg
	}
	if raw.Store != nil && isSet(&raw.Store.Path) && !p.failed[mappingValue(p.root, "store")] {
		f := field{node: &raw.Store.Path, key: "store.path"}
		if path, ok := p.str(f); ok {
			if strings.TrimSpace(path) == "" {
				p.errorf(f.line(), "", "store.path must not be empty")
			} else {
				cfg.Store.Path = path
			}
		}
	}
	if raw.Metrics != nil && !p.failed[mappingValue(p.root, "metrics")] {
		p.metrics(raw.Metrics, &cfg.Metrics)
	}
	switch sources := mappingValue(p.root, "sources"); {
	case p.failed[sources]:
	case len(raw.Sources) == 0:
		if !p.guessed[p.root]["sources"] {
			p.errorf(lineOf(mappingKey(p.root, "sources"), nil), "", "no sources configured: add at least one under sources:")
		}
	default:
		cfg.Sources = p.sources(raw.Sources)
	}
	return cfg
}

func (p *parser) metrics(raw *rawMetrics, m *MetricsConfig) {
	if isSet(&raw.LabelValueLimit) {
		f := field{node: &raw.LabelValueLimit, key: "metrics.label_value_limit"}
		if limit, ok := p.integer(f); ok {
			if limit < 1 || limit > math.MaxInt32 {
				p.errorf(f.line(), "", "metrics.label_value_limit must be at least 1, got %d", limit)
			} else {
				m.LabelValueLimit = int(limit)
			}
		}
	}
	if isSet(&raw.SLAAtRiskRatio) {
		if ratio, ok := p.ratio(field{node: &raw.SLAAtRiskRatio, key: "metrics.sla_at_risk_ratio"}); ok {
			m.SLAAtRiskRatio = ratio
		}
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
		if bounds, ok := p.buckets(field{node: b.node, key: b.key}); ok {
			*b.out = bounds
		}
	}
}

// ratio reads a share strictly between 0 and 1: at 0 every running cycle
// would be at risk, at 1 none ever (it is breached by then).
func (p *parser) ratio(f field) (float64, bool) {
	var v float64
	n := resolve(f.node)
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") || n.Decode(&v) != nil {
		p.errorf(f.line(), f.scope, "%s must be a number between 0 and 1, got %s", f.key, p.describe(f))
		return 0, false
	}
	if !(v > 0 && v < 1) {
		p.errorf(f.line(), f.scope, "%s must be above 0 and below 1 (a share of the goal, e.g. 0.75), got %s", f.key, n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) buckets(f field) ([]model.Duration, bool) {
	items, ok := p.sequence(f)
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		p.errorf(f.line(), f.scope, "%s must list at least one bucket", f.key)
		return nil, false
	}
	bounds := make([]model.Duration, 0, len(items))
	for i, item := range items {
		bound, ok := p.positiveDuration(f.item(item, i))
		if !ok {
			return nil, false
		}
		if i > 0 && bound <= bounds[i-1] {
			p.errorf(item.Line, f.scope, "%s must be strictly increasing: %s follows %s", f.key, bound, bounds[i-1])
			return nil, false
		}
		bounds = append(bounds, bound)
	}
	return bounds, true
}
