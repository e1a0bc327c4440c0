package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
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

// httpClientSection and jiraSection decode through the same strict decoder
// (the v2-style unmarshal callback keeps KnownFields and real line numbers),
// but hold back a validation error instead of aborting the whole decode, so
// it can be reported with the source and line it belongs to.
type httpClientSection struct {
	cfg promconfig.HTTPClientConfig
	err error
}

func (s *httpClientSection) UnmarshalYAML(unmarshal func(any) error) error {
	return holdValidationError(unmarshal(&s.cfg), &s.err)
}

type jiraSection struct {
	cfg jira.Config
	err error
}

func (s *jiraSection) UnmarshalYAML(unmarshal func(any) error) error {
	return holdValidationError(unmarshal(&s.cfg), &s.err)
}

// holdValidationError passes type errors (which carry lines) on to the
// decoder and keeps any other error in held.
func holdValidationError(err error, held *error) error {
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		return err
	}
	*held = err
	return nil
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

var yamlLinePrefix = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

func (p *parser) syntaxError(err error) error {
	msg := err.Error()
	if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
		return p.errorf(atoi(m[1]), "", "invalid YAML: %s", p.redact(msg[len(m[0]):]))
	}
	return p.errorf(1, "", "invalid YAML: %s", p.redact(strings.TrimPrefix(msg, "yaml: ")))
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

// labelValueShape keeps source names usable as label values, file names and URL parts.
var labelValueShape = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func (p *parser) source(i int, raw *rawSource, node *yaml.Node, firstUse map[string]int) (Source, error) {
	scope := fmt.Sprintf("sources[%d]", i)
	var src Source
	if !isSet(&raw.Name) {
		return src, p.errorf(node.Line, scope, "name is required")
	}
	name, err := p.str(field{node: &raw.Name, scope: scope, key: "name"})
	if err != nil {
		return src, err
	}
	if name == "" {
		return src, p.errorf(raw.Name.Line, scope, "name must not be empty")
	}
	if !labelValueShape.MatchString(name) {
		return src, p.errorf(raw.Name.Line, scope, "name %q may only contain letters, digits, '_', '.' and '-'", name)
	}
	if line, dup := firstUse[name]; dup {
		return src, p.errorf(raw.Name.Line, scope, "duplicate source name %q (first used on line %d)", name, line)
	}
	firstUse[name] = raw.Name.Line
	src.Name = name
	scope = fmt.Sprintf("source %q", name)

	if !isSet(&raw.Type) {
		return src, p.errorf(node.Line, scope, "type is required (demo or jira)")
	}
	if src.Type, err = p.str(field{node: &raw.Type, scope: scope, key: "type"}); err != nil {
		return src, err
	}
	switch src.Type {
	case TypeDemo:
		err = p.demoSource(raw, node, scope, &src)
	case TypeJira:
		err = p.jiraSource(raw, node, scope, &src)
	default:
		err = p.errorf(raw.Type.Line, scope, "unknown type %q (want demo or jira)", src.Type)
	}
	if err != nil {
		return src, err
	}

	if isSet(&raw.PollInterval) {
		if src.PollInterval, err = p.positiveDuration(field{node: &raw.PollInterval, scope: scope, key: "poll_interval"}); err != nil {
			return src, err
		}
	}
	return src, p.horizon(raw, scope, &src)
}

func (p *parser) horizon(raw *rawSource, scope string, src *Source) error {
	switch {
	case isSet(&raw.Lookback) && isSet(&raw.Since):
		return p.errorf(raw.Since.Line, scope, "set lookback or since, not both")
	case isSet(&raw.Since):
		since, err := p.date(field{node: &raw.Since, scope: scope, key: "since"})
		src.Since = since
		return err
	case isSet(&raw.Lookback):
		lookback, err := p.positiveDuration(field{node: &raw.Lookback, scope: scope, key: "lookback"})
		src.Lookback = lookback
		return err
	default:
		src.Lookback = DefaultLookback
		return nil
	}
}

func (p *parser) demoSource(raw *rawSource, node *yaml.Node, scope string, src *Source) error {
	for section, present := range map[string]bool{"jira": raw.Jira != nil, "http_client": raw.HTTPClient != nil} {
		if present {
			return p.errorf(lineOf(mappingKey(node, section), node), scope, "%s: does not apply to type demo; remove it or set type: jira", section)
		}
	}
	src.PollInterval = DefaultDemoPoll
	dc := demo.DefaultConfig()
	src.Demo = &dc
	if raw.Demo == nil {
		return nil
	}
	if isSet(&raw.Demo.Seed) {
		seed, err := p.integer(field{node: &raw.Demo.Seed, scope: scope, key: "demo.seed"})
		if err != nil {
			return err
		}
		dc.Seed = seed
	}
	if isSet(&raw.Demo.Desks) {
		desks, err := p.desks(field{node: &raw.Demo.Desks, scope: scope, key: "demo.desks"})
		if err != nil {
			return err
		}
		dc.Desks = desks
	}
	if isSet(&raw.Demo.TicketsPerDay) {
		f := field{node: &raw.Demo.TicketsPerDay, scope: scope, key: "demo.tickets_per_day"}
		rate, err := p.float(f)
		if err != nil {
			return err
		}
		if !(rate > 0) || math.IsInf(rate, 1) {
			return p.errorf(f.line(), scope, "demo.tickets_per_day must be a positive number, got %g", rate)
		}
		dc.TicketsPerDay = rate
	}
	return nil
}

func (p *parser) desks(f field) ([]string, error) {
	items, err := p.sequence(f)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, p.errorf(f.line(), f.scope, "%s must list at least one desk", f.key)
	}
	desks := make([]string, len(items))
	seen := map[string]bool{}
	for i, item := range items {
		desk, err := p.str(f.item(item, i))
		if err != nil {
			return nil, err
		}
		switch {
		case strings.TrimSpace(desk) == "":
			return nil, p.errorf(item.Line, f.scope, "%s[%d] must not be empty", f.key, i)
		case seen[desk]:
			return nil, p.errorf(item.Line, f.scope, "%s: duplicate desk %q", f.key, desk)
		}
		seen[desk] = true
		desks[i] = desk
	}
	return desks, nil
}

func (p *parser) jiraSource(raw *rawSource, node *yaml.Node, scope string, src *Source) error {
	if raw.Demo != nil {
		return p.errorf(lineOf(mappingKey(node, "demo"), node), scope, "demo: does not apply to type jira; remove it or set type: demo")
	}
	src.PollInterval = DefaultJiraPoll
	jiraKey := mappingKey(node, "jira")
	if raw.Jira == nil {
		return p.errorf(lineOf(jiraKey, node), scope, "type jira needs a jira: section with url and jql (see docs/jira.md)")
	}
	if raw.Jira.err != nil {
		return p.sectionError(raw.Jira.err, mappingValue(node, "jira"), lineOf(jiraKey, node), scope, "jira")
	}
	src.Jira = &raw.Jira.cfg

	clientKey := mappingKey(node, "http_client")
	src.HTTPClient = promconfig.DefaultHTTPClientConfig
	if raw.HTTPClient != nil {
		clientNode := mappingValue(node, "http_client")
		if raw.HTTPClient.err != nil {
			return p.sectionError(raw.HTTPClient.err, clientNode, lineOf(clientKey, node), scope, "http_client")
		}
		src.HTTPClient = raw.HTTPClient.cfg
		src.HTTPClient.SetDirectory(p.dir)
		if err := p.checkFiles(clientNode, scope, "http_client"); err != nil {
			return err
		}
	}
	c := src.HTTPClient
	if c.BasicAuth == nil && c.Authorization == nil && c.OAuth2 == nil {
		return p.errorf(lineOf(clientKey, node), scope,
			"jira needs credentials: set http_client.basic_auth (Cloud: email and API token) or http_client.authorization (Data Center: personal access token)")
	}
	return nil
}

// checkFiles makes sure every *_file (and header files) under node is
// readable now, so a typo fails at load rather than at the first poll.
// Only the path is ever reported, never what the file holds.
func (p *parser) checkFiles(node *yaml.Node, scope, path string) error {
	node = resolve(node)
	if node == nil {
		return nil
	}
	switch node.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i].Value, resolve(node.Content[i+1])
			keyPath := path + "." + key
			switch {
			case strings.HasSuffix(key, "_file") && value.Kind == yaml.ScalarNode:
				if err := p.checkFile(value, scope, keyPath); err != nil {
					return err
				}
			case key == "files" && value.Kind == yaml.SequenceNode:
				for j, item := range value.Content {
					if err := p.checkFile(resolve(item), scope, fmt.Sprintf("%s[%d]", keyPath, j)); err != nil {
						return err
					}
				}
			default:
				if err := p.checkFiles(value, scope, keyPath); err != nil {
					return err
				}
			}
		}
	case yaml.SequenceNode:
		for j, item := range node.Content {
			if err := p.checkFiles(item, scope, fmt.Sprintf("%s[%d]", path, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) checkFile(value *yaml.Node, scope, keyPath string) error {
	if value.Value == "" {
		return nil
	}
	name := promconfig.JoinDir(p.dir, value.Value)
	f, err := os.Open(name)
	if err == nil {
		_, err = f.Read(make([]byte, 1))
		f.Close()
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return p.errorf(value.Line, scope, "%s: cannot read %q: %v", keyPath, name, err)
	}
	return nil
}

// date parses YYYY-MM-DD as midnight UTC.
func (p *parser) date(f field) (Date, error) {
	n := resolve(f.node)
	if n.Kind == yaml.ScalarNode {
		if t, err := time.Parse(time.DateOnly, n.Value); err == nil {
			return Date{t}, nil
		}
	}
	return Date{}, p.errorf(f.line(), f.scope, "%s must be a date like 2026-01-31, got %s", f.key, p.describe(f))
}
