package config

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// Helpers over yaml.v3 node trees.

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isSet is false for keys left out and for keys with no value ("lookback:").
func isSet(n *yaml.Node) bool {
	n = resolve(n)
	return n != nil && n.Kind != 0 && !(n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func mappingKey(n *yaml.Node, key string) *yaml.Node {
	k, _ := mappingPair(n, key)
	return k
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	_, v := mappingPair(n, key)
	return resolve(v)
}

// mappingPair finds key in mapping n, also through "<<" merge keys, as the decoder does.
func mappingPair(n *yaml.Node, key string) (k, v *yaml.Node) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case key:
			return n.Content[i], n.Content[i+1]
		case "<<":
			if m := resolve(n.Content[i+1]); m.Kind == yaml.SequenceNode {
				merged = append(merged, m.Content...)
			} else {
				merged = append(merged, m)
			}
		}
	}
	for _, m := range merged {
		if k, v := mappingPair(m, key); k != nil {
			return k, v
		}
	}
	return nil, nil
}

// lineOf is the key's line, or the enclosing node's when the key is absent.
func lineOf(key, enclosing *yaml.Node) int {
	if key != nil {
		return key.Line
	}
	return enclosing.Line
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
