package config

import (
	"fmt"
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
	key   string // dotted path inside the scope, e.g. "demo.desks[2]"
}

func (f field) line() int { return f.node.Line }

func (f field) item(node *yaml.Node, i int) field {
	return field{node: node, scope: f.scope, key: fmt.Sprintf("%s[%d]", f.key, i)}
}

func (p *parser) str(f field) (string, error) {
	n := resolve(f.node)
	if n.Kind != yaml.ScalarNode {
		return "", p.errorf(f.line(), f.scope, "%s must be a string, got %s", f.key, p.describe(f))
	}
	return n.Value, nil
}

func (p *parser) integer(f field) (int64, error) {
	var v int64
	n := resolve(f.node)
	// The tag check matters: yaml.v3 would truncate 1.5 into an int64.
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		return 0, p.errorf(f.line(), f.scope, "%s must be an integer, got %s", f.key, p.describe(f))
	}
	return v, nil
}

func (p *parser) float(f field) (float64, error) {
	var v float64
	n := resolve(f.node)
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		return 0, p.errorf(f.line(), f.scope, "%s must be a number, got %s", f.key, p.describe(f))
	}
	return v, nil
}

func (p *parser) sequence(f field) ([]*yaml.Node, error) {
	n := resolve(f.node)
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(f.line(), f.scope, "%s must be a list, got %s", f.key, p.describe(f))
	}
	return n.Content, nil
}

func (p *parser) positiveDuration(f field) (model.Duration, error) {
	n := resolve(f.node)
	if n.Kind != yaml.ScalarNode {
		return 0, p.errorf(f.line(), f.scope, "%s must be a duration like 30s, 2h or 30d, got %s", f.key, p.describe(f))
	}
	d, err := model.ParseDuration(n.Value)
	if err != nil {
		if _, negative := model.ParseDuration(strings.TrimPrefix(n.Value, "-")); negative == nil {
			return 0, p.errorf(f.line(), f.scope, "%s must be positive, got %s", f.key, n.Value)
		}
		return 0, p.errorf(f.line(), f.scope, "%s: invalid duration %q (want a number and a unit: ms, s, m, h, d, w or y, e.g. 30s, 2h, 30d)", f.key, n.Value)
	}
	if d <= 0 {
		return 0, p.errorf(f.line(), f.scope, "%s must be positive, got %s", f.key, n.Value)
	}
	return d, nil
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
