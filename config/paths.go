package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// split turns a document path into the source it belongs to (if any) and
// the dotted key inside it.
func (p *parser) split(path []string) (scope, rest string) {
	if len(path) >= 2 && path[0] == "sources" {
		if i, ok := indexOf(path[1]); ok {
			return p.sourceLabel(i), joinPath(path[2:])
		}
	}
	return "", joinPath(path)
}

// where names the mapping at path for an unknown-key message.
func (p *parser) where(mappingPath []string) string {
	scope, rest := p.split(mappingPath)
	switch {
	case scope == "" && rest == "":
		return "at the top level"
	case scope == "":
		return "in " + rest
	case rest == "":
		return "in " + scope
	default:
		return "in " + rest + " of " + scope
	}
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

// splitPath is the inverse of joinPath: "desks[2].name" → desks, [2], name.
func splitPath(key string) []string {
	var path []string
	for _, part := range strings.Split(key, ".") {
		for part != "" {
			i := strings.IndexByte(part[1:], '[') + 1
			if i == 0 {
				path = append(path, part)
				break
			}
			path = append(path, part[:i])
			part = part[i:]
		}
	}
	return path
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

// findNode walks n depth-first in document order, through aliases (each
// once), and returns the path to the first value for which match holds
// (key is nil for list items) and the mapping or list holding it. n itself
// is not matched.
func findNode(n *yaml.Node, base []string, match func(path []string, key, value *yaml.Node) bool) (path []string, value, parent *yaml.Node, ok bool) {
	return find(n, base, match, map[*yaml.Node]bool{})
}

func find(n *yaml.Node, base []string, match func(path []string, key, value *yaml.Node) bool, aliases map[*yaml.Node]bool) ([]string, *yaml.Node, *yaml.Node, bool) {
	if n == nil {
		return nil, nil, nil, false
	}
	if n.Kind == yaml.AliasNode {
		if aliases[n] {
			return nil, nil, nil, false
		}
		aliases[n] = true
		return find(n.Alias, base, match, aliases)
	}
	step := func(key, value *yaml.Node, elem string) ([]string, *yaml.Node, *yaml.Node, bool) {
		path := append(append([]string{}, base...), elem)
		if match(path, key, value) {
			return path, value, n, true
		}
		return find(value, path, match, aliases)
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if path, value, parent, ok := step(n.Content[i], n.Content[i+1], n.Content[i].Value); ok {
				return path, value, parent, true
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if path, value, parent, ok := step(nil, item, index(i)); ok {
				return path, value, parent, true
			}
		}
	}
	return nil, nil, nil, false
}

// walk visits every key/value pair and list item under n, not following
// aliases, until visit returns true.
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

// contains says whether node is n or lies under it (aliases not followed).
func contains(n, node *yaml.Node) bool {
	if n == nil || node == nil {
		return false
	}
	if n == node {
		return true
	}
	return walk(n, func(key, value *yaml.Node) bool { return key == node || value == node })
}
