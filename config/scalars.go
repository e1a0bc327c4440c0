package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// field is one value being decoded, with what a message needs to name it.
type field struct {
	node  *yaml.Node
	scope string // `source "demo"`, `sources[1]`, or "" at the top level
	key   string // dotted path inside the scope, e.g. "slas[0].goals"
}

func (f field) line() int { return f.node.Line }

func (f field) item(node *yaml.Node, i int) field {
	return field{node: node, scope: f.scope, key: f.key + index(i)}
}

func (f field) child(node *yaml.Node, key string) field {
	return field{node: node, scope: f.scope, key: f.key + "." + key}
}

// The decoders below record a problem and return false when the value does
// not have the wanted shape.

func (p *parser) str(f field) (string, bool) {
	n := resolve(f.node)
	if n.Kind != yaml.ScalarNode {
		p.errorf(f.line(), f.scope, "%s must be a string, got %s", f.key, p.describe(f))
		return "", false
	}
	return n.Value, true
}

// nonEmpty is str for values that must hold more than spaces.
func (p *parser) nonEmpty(f field) (string, bool) {
	s, ok := p.str(f)
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(f.line(), f.scope, "%s must not be empty", f.key)
		return "", false
	}
	return s, ok
}

func (p *parser) integer(f field) (int64, bool) {
	var v int64
	n := resolve(f.node)
	// The tag check matters: yaml.v3 would truncate 1.5 into an int64.
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		p.errorf(f.line(), f.scope, "%s must be an integer, got %s", f.key, p.describe(f))
		return 0, false
	}
	return v, true
}

func (p *parser) sequence(f field) ([]*yaml.Node, bool) {
	n := resolve(f.node)
	if n.Kind != yaml.SequenceNode {
		p.errorf(f.line(), f.scope, "%s must be a list, got %s", f.key, p.describe(f))
		return nil, false
	}
	return n.Content, true
}

func (p *parser) positiveDuration(f field) (model.Duration, bool) {
	n := resolve(f.node)
	if n.Kind != yaml.ScalarNode {
		p.errorf(f.line(), f.scope, "%s must be a duration like 30s, 2h or 30d, got %s", f.key, p.describe(f))
		return 0, false
	}
	d, err := model.ParseDuration(n.Value)
	switch {
	case err != nil:
		if _, negative := model.ParseDuration(strings.TrimPrefix(n.Value, "-")); negative == nil {
			p.errorf(f.line(), f.scope, "%s must be positive, got %s", f.key, n.Value)
		} else {
			p.errorf(f.line(), f.scope, "%s: invalid duration %q (want a number and a unit: ms, s, m, h, d, w or y, e.g. 30s, 2h, 30d)", f.key, n.Value)
		}
		return 0, false
	case d <= 0:
		p.errorf(f.line(), f.scope, "%s must be positive, got %s", f.key, n.Value)
		return 0, false
	}
	return d, true
}

// date parses YYYY-MM-DD as midnight UTC.
func (p *parser) date(f field) (Date, bool) {
	n := resolve(f.node)
	if n.Kind == yaml.ScalarNode {
		if t, err := time.Parse(time.DateOnly, n.Value); err == nil {
			return Date{t}, true
		}
	}
	p.errorf(f.line(), f.scope, "%s must be a date like 2026-01-31, got %s", f.key, p.describe(f))
	return Date{}, false
}

// describe names what was found, quoting scalars of our own keys; none of them holds a secret.
func (p *parser) describe(f field) string {
	n := resolve(f.node)
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		return strconv.Quote(n.Value)
	}
	return kindName(n)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "true or false"
	case "!!timestamp":
		return "a date"
	}
	return "a string"
}

// mapping checks that f holds a mapping with only the known keys and
// returns it; unknown keys are reported with the likeliest meant one.
func (p *parser) mapping(f field, known ...string) (*yaml.Node, bool) {
	n, ok := p.anyMapping(f)
	if !ok {
		return nil, false
	}
	where := "in " + f.key
	if f.scope != "" {
		where += " of " + f.scope
	}
	for _, pr := range mappingPairs(n) {
		if !slices.Contains(known, pr.key.Value) {
			p.unknownKey(n, pr.key, where, known)
		}
	}
	return n, true
}

// anyMapping checks that f holds a mapping, whatever its keys.
func (p *parser) anyMapping(f field) (*yaml.Node, bool) {
	n := resolve(f.node)
	if n.Kind != yaml.MappingNode {
		p.errorf(f.line(), f.scope, "%s must be a mapping, got %s", f.key, p.describe(f))
		return nil, false
	}
	return n, true
}

// required reports on line that key is missing from mapping, unless an
// unknown key of the mapping was already taken for it (a typo is one
// mistake, not two).
func (p *parser) required(mapping *yaml.Node, line int, scope, key, format string, args ...any) {
	if p.guessed[mapping][key] {
		return
	}
	p.errorf(line, scope, "%s", fmt.Sprintf(format, args...))
}
