package config

import (
	"fmt"
	"reflect"
	"strings"
)

func (p *parser) unknownKey(line int, key string, mappingPath []string) error {
	scope, rest := p.split(mappingPath)
	var where string
	switch {
	case scope == "" && rest == "":
		where = "at the top level"
	case scope == "":
		where = "in " + rest
	case rest == "":
		where = "in " + scope
	default:
		where = "in " + rest + " of " + scope
	}
	msg := fmt.Sprintf("unknown key %q %s", key, where)
	if guess := closest(key, knownKeys(mappingPath)); guess != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", guess)
	}
	return p.errorf(line, "", "%s", msg)
}

// knownKeys lists the keys valid in the mapping at path, read from the yaml tags of Config.
func knownKeys(path []string) []string {
	if t, ok := typeAt(path); ok {
		return tagNames(t)
	}
	return nil
}

// typeAt is the Go type that the value at path decodes into.
func typeAt(path []string) (reflect.Type, bool) {
	t := reflect.TypeFor[Config]()
	for _, elem := range path {
		t = deref(t)
		switch {
		case strings.HasPrefix(elem, "["):
			if t.Kind() != reflect.Slice {
				return nil, false
			}
			t = t.Elem()
		case t.Kind() == reflect.Struct:
			var ok bool
			if t, ok = fieldType(t, elem); !ok {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return deref(t), true
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") && deref(f.Type).Kind() == reflect.Struct {
			if inner, ok := fieldType(deref(f.Type), key); ok {
				return inner, true
			}
		}
		if name == key {
			return f.Type, true
		}
	}
	return nil, false
}

func tagNames(t reflect.Type) []string {
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case strings.Contains(opts, "inline"):
			names = append(names, tagNames(deref(f.Type))...)
		case name != "" && name != "-":
			names = append(names, name)
		}
	}
	return names
}

// closest returns the known key a typo most likely meant, or "".
func closest(key string, known []string) string {
	best, bestDistance := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDistance {
			best, bestDistance = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
