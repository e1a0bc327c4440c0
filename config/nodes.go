package config

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Helpers over yaml.v3 node trees. A source type's section is copied out
// of the strict decode without being decoded, so its aliases may still
// loop: whatever follows aliases or merge keys here bounds itself.

// maxMergeDepth bounds how deep merge keys are followed.
const maxMergeDepth = 32

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

func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && (n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
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
	for _, p := range mappingPairs(n) {
		if p.key.Value == key {
			return p.key, p.value
		}
	}
	return nil, nil
}

type pair struct{ key, value *yaml.Node }

// mappingPairs lists the pairs of mapping n as the decoder sees them: its
// own keys in order, then the keys merged in through "<<" that n does not
// set itself (earlier merges win). Of duplicate keys the first counts.
func mappingPairs(n *yaml.Node) []pair {
	var out []pair
	collectPairs(n, map[string]bool{}, &out, 0)
	return out
}

func collectPairs(n *yaml.Node, seen map[string]bool, out *[]pair, depth int) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > maxMergeDepth {
		return
	}
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMergeKey(k) {
			if m := resolve(v); m != nil && m.Kind == yaml.SequenceNode {
				merged = append(merged, m.Content...)
			} else {
				merged = append(merged, m)
			}
			continue
		}
		if seen[k.Value] {
			continue
		}
		seen[k.Value] = true
		*out = append(*out, pair{k, v})
	}
	for _, m := range merged {
		collectPairs(m, seen, out, depth+1)
	}
}

// lineOf is the key's line, or the enclosing node's when the key is absent.
func lineOf(key, enclosing *yaml.Node) int {
	if key != nil {
		return key.Line
	}
	if enclosing != nil {
		return enclosing.Line
	}
	return 1
}

// locate follows path ("desks", "[2]", ...) from n and returns the line to
// report it on: a key's own line, or a list item's.
func locate(n *yaml.Node, path []string) (int, bool) {
	value := resolve(n)
	if value == nil {
		return 0, false
	}
	line := value.Line
	for _, elem := range path {
		if i, isIndex := indexOf(elem); isIndex {
			if value.Kind != yaml.SequenceNode || i >= len(value.Content) {
				return 0, false
			}
			value = resolve(value.Content[i])
			line = value.Line
			continue
		}
		k, v := mappingPair(value, elem)
		if k == nil {
			return 0, false
		}
		value, line = resolve(v), k.Line
	}
	return line, true
}

// duplicateKeys calls report for every key that appears a second time in
// one mapping under n, in document order, and returns the mappings holding
// such keys: the decoder leaves those out whole.
func duplicateKeys(n *yaml.Node, report func(dup, first *yaml.Node)) map[*yaml.Node]bool {
	failed := map[*yaml.Node]bool{}
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			type id struct {
				kind  yaml.Kind
				value string
			}
			first := map[id]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if a, dup := first[id{k.Kind, k.Value}]; dup {
					report(k, a)
					failed[n] = true
					continue
				}
				first[id{k.Kind, k.Value}] = k
			}
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(n)
	return failed
}

// indexOf reads a list step of a path, "[2]".
func indexOf(elem string) (int, bool) {
	if len(elem) < 3 || elem[0] != '[' || elem[len(elem)-1] != ']' {
		return 0, false
	}
	i, err := strconv.Atoi(elem[1 : len(elem)-1])
	return i, err == nil && i >= 0
}

func index(i int) string { return fmt.Sprintf("[%d]", i) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
