package config

import (
	"fmt"
	"regexp"
	"slices"
	"sort"

	"gopkg.in/yaml.v3"
)

// labelValueShape keeps source names usable as label values, file names and URL parts.
var labelValueShape = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// rawSource mirrors a source key for key. Each value stays a yaml.Node,
// whose line lets later errors point at the key at fault; Other collects
// the remaining keys, which are type sections (only the registry knows
// their names) or mistakes.
type rawSource struct {
	Name         yaml.Node            `yaml:"name"`
	Type         yaml.Node            `yaml:"type"`
	PollInterval yaml.Node            `yaml:"poll_interval"`
	Lookback     yaml.Node            `yaml:"lookback"`
	Since        yaml.Node            `yaml:"since"`
	Segments     yaml.Node            `yaml:"segments"`
	SLAs         yaml.Node            `yaml:"slas"`
	HTTPClient   *httpClientSection   `yaml:"http_client"`
	Other        map[string]yaml.Node `yaml:",inline"`
}

// sources checks every source, also past broken ones.
func (p *parser) sources(raw []*rawSourceEntry) []Source {
	nodes := p.sourceNodes()
	firstUse := map[string]int{}
	var out []Source
	for i, entry := range raw {
		if i >= len(nodes) {
			break
		}
		if entry != nil && entry.err != nil && !p.decodeErrors(entry.err) {
			continue
		}
		node := nodes[i]
		switch {
		case p.failed[node]:
			continue // not a mapping, or one the decoder skipped: reported already
		case entry == nil || node.Kind != yaml.MappingNode:
			p.errorf(node.Line, "", "sources[%d] must be a mapping, got %s", i, kindName(node))
			continue
		}
		if src, ok := p.source(i, &entry.src, node, firstUse); ok {
			out = append(out, src)
		}
	}
	return out
}

// source checks one source and reports whether it is valid.
func (p *parser) source(i int, raw *rawSource, node *yaml.Node, firstUse map[string]int) (Source, bool) {
	before := len(p.errs)
	var src Source
	scope := p.sourceName(raw, i, firstUse, &src)
	// Unknown keys first: a misspelt name or type is one mistake, and is
	// then not reported missing as well.
	typeNode := resolve(&raw.Type)
	st, typeOK := p.types.SourceType(typeNode.Value)
	typeOK = typeOK && typeNode.Kind == yaml.ScalarNode
	p.sourceKeys(raw, node, scope, st, typeOK)
	if !isSet(&raw.Name) {
		p.required(node, node.Line, scope, "name", "name is required")
	}
	if p.sourceType(raw, node, scope) {
		src.Type = st.Name
		src.PollInterval = st.DefaultPollInterval
		p.httpClient(raw, node, scope, st, &src)
		p.settings(node, scope, st, &src)
	}
	if isSet(&raw.PollInterval) {
		if d, ok := p.positiveDuration(field{node: &raw.PollInterval, scope: scope, key: "poll_interval"}); ok {
			src.PollInterval = d
		}
	}
	p.horizon(raw, scope, &src)
	src.Segments = p.segments(field{node: &raw.Segments, scope: scope, key: "segments"})
	if typeOK && !st.Segments && isSet(&raw.Segments) {
		p.errorf(lineOf(mappingKey(node, "segments"), node), scope, "segments: does not apply to type %s; %s",
			st.Name, p.remedy(func(t SourceType) bool { return t.Segments }))
	}
	src.SLAs = p.slas(field{node: &raw.SLAs, scope: scope, key: "slas"})
	return src, len(p.errs) == before
}

// sourceName checks the name, if set, and returns the scope that names the
// source in messages: by its name once that is valid and first used, else
// by index.
func (p *parser) sourceName(raw *rawSource, i int, firstUse map[string]int, src *Source) string {
	scope := fmt.Sprintf("sources[%d]", i)
	if !isSet(&raw.Name) {
		return scope
	}
	name, ok := p.str(field{node: &raw.Name, scope: scope, key: "name"})
	switch {
	case !ok:
		return scope
	case name == "":
		p.errorf(raw.Name.Line, scope, "name must not be empty")
		return scope
	case !labelValueShape.MatchString(name):
		p.errorf(raw.Name.Line, scope, "name %q may only contain letters, digits, '_', '.' and '-'", name)
		return scope
	}
	if line, dup := firstUse[name]; dup {
		p.errorf(raw.Name.Line, scope, "duplicate source name %q (first used on line %d)", name, line)
		return scope
	}
	firstUse[name] = raw.Name.Line
	src.Name = name
	return fmt.Sprintf("source %q", name)
}

// sourceType checks the type key and says whether it names a known type.
func (p *parser) sourceType(raw *rawSource, node *yaml.Node, scope string) bool {
	names := p.types.SourceTypeNames()
	if !isSet(&raw.Type) {
		p.required(node, node.Line, scope, "type", "type is required (%s)", orList(names))
		return false
	}
	name, ok := p.str(field{node: &raw.Type, scope: scope, key: "type"})
	if !ok {
		return false
	}
	if _, ok := p.types.SourceType(name); !ok {
		p.errorf(raw.Type.Line, scope, "unknown type %q (want %s)", name, orList(names))
		return false
	}
	return true
}

// sourceKeys reports the keys beyond the common ones that do not belong:
// another type's section, or a key nobody knows.
func (p *parser) sourceKeys(raw *rawSource, node *yaml.Node, scope string, st SourceType, typeOK bool) {
	keys := make([]*yaml.Node, 0, len(raw.Other))
	for name := range raw.Other {
		if k := mappingKey(node, name); k != nil {
			keys = append(keys, k)
		}
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Line < keys[j].Line })
	known := keysOf(reflectRawSource).names
	if typeOK {
		known = append(slices.DeleteFunc(known, func(k string) bool { return k == "http_client" && !st.HTTPClient }), st.Name)
	}
	for _, k := range keys {
		if _, isType := p.types.SourceType(k.Value); isType {
			if typeOK && k.Value != st.Name {
				p.errorf(k.Line, scope, "%s: does not apply to type %s; remove it or set type: %s", k.Value, st.Name, k.Value)
			}
			continue
		}
		p.unknownKey(node, k, "in "+scope, known)
	}
}

// settings decodes the type's own section through the type.
func (p *parser) settings(node *yaml.Node, scope string, st SourceType, src *Source) {
	s := section{name: st.Name, key: mappingKey(node, st.Name), owner: node, scope: scope}
	if isSet(mappingValue(node, st.Name)) {
		s.value = mappingValue(node, st.Name)
	}
	if s.value == nil && p.guessed[node][st.Name] {
		return // the section is there under a misspelt key, reported already
	}
	settings, err := st.Decode(s.value)
	if err != nil {
		p.sectionErrors(err, s)
		return
	}
	src.Settings = settings
}

func (p *parser) horizon(raw *rawSource, scope string, src *Source) {
	switch {
	case isSet(&raw.Lookback) && isSet(&raw.Since):
		p.errorf(raw.Since.Line, scope, "set lookback or since, not both")
	case isSet(&raw.Since):
		src.Since, _ = p.date(field{node: &raw.Since, scope: scope, key: "since"})
	case isSet(&raw.Lookback):
		src.Lookback, _ = p.positiveDuration(field{node: &raw.Lookback, scope: scope, key: "lookback"})
	default:
		src.Lookback = DefaultLookback
	}
}
