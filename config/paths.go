package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// split turns a path into the source it belongs to (if any) and the dotted key inside it.
func (p *parser) split(path []string) (scope, rest string) {
	if len(path) >= 2 && path[0] == "sources" && strings.HasPrefix(path[1], "[") {
		i := atoi(strings.Trim(path[1], "[]"))
		return p.sourceLabel(i), joinPath(path[2:])
	}
	return "", joinPath(path)
}

func joinPath(path []string) string {
	var b strings.Builder
	for _, elem := range path {
		if b.Len() > 0 && !strings.HasPrefix(elem, "[") {
			b.WriteByte('.')
		}
		b.WriteString(elem)
	}
	return b.String()
}

// sourceLabel names source i by its name when that name is usable and unique.
func (p *parser) sourceLabel(i int) string {
	nodes := p.sourceNodes()
	label := fmt.Sprintf("sources[%d]", i)
	if i >= len(nodes) {
		return label
	}
	name := sourceName(nodes[i])
	if name == "" || !labelValueShape.MatchString(name) {
		return label
	}
	for j, other := range nodes {
		if j != i && sourceName(other) == name {
			return label
		}
	}
	return fmt.Sprintf("source %q", name)
}

func sourceName(n *yaml.Node) string {
	if v := mappingValue(n, "name"); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func (p *parser) sourceNodes() []*yaml.Node {
	seq := mappingValue(p.root, "sources")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	nodes := make([]*yaml.Node, len(seq.Content))
	for i, n := range seq.Content {
		nodes[i] = resolve(n)
	}
	return nodes
}

// find walks n depth-first in document order and returns the path to the
// first value for which match holds (key is nil for list items).
func (p *parser) find(n *yaml.Node, base []string, match func(key, value *yaml.Node) bool) ([]string, *yaml.Node, bool) {
	if n == nil {
		return nil, nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			path := append(append([]string{}, base...), key.Value)
			if match(key, value) {
				return path, value, true
			}
			if found, node, ok := p.find(value, path, match); ok {
				return found, node, true
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			path := append(append([]string{}, base...), fmt.Sprintf("[%d]", i))
			if match(nil, item) {
				return path, item, true
			}
			if found, node, ok := p.find(item, path, match); ok {
				return found, node, true
			}
		}
	}
	return nil, nil, false
}

// walk visits every key/value pair and list item under n until visit returns true.
func walk(n *yaml.Node, visit func(key, value *yaml.Node) bool) bool {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if walk(c, visit) {
				return true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if visit(n.Content[i], n.Content[i+1]) || walk(n.Content[i+1], visit) {
				return true
			}
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if visit(nil, item) || walk(item, visit) {
				return true
			}
		}
	}
	return false
}
