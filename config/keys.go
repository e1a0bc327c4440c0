package config

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// unknownKey reports key of mapping as unknown "in <where>", with the known
// key it most likely meant; the guess is remembered, so a required key left
// out by the same typo is not reported again.
func (p *parser) unknownKey(mapping, key *yaml.Node, where string, known []string) {
	msg := fmt.Sprintf("unknown key %q %s", key.Value, where)
	if guess := closest(key.Value, known); guess != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", guess)
		if p.guessed[mapping] == nil {
			p.guessed[mapping] = map[string]bool{}
		}
		p.guessed[mapping][guess] = true
	}
	p.errorf(key.Line, "", "%s", msg)
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

// Which keys a Go type accepts, read the way yaml.v3 reads struct tags.

// structKeys are the keys a struct decodes: name → field type, in field order.
type structKeys struct {
	names []string
	types map[string]reflect.Type
	// anyKey is set by an ",inline" map, which takes every other key.
	anyKey bool
}

func keysOf(t reflect.Type) structKeys {
	k := structKeys{types: map[string]reflect.Type{}}
	k.add(t)
	return k
}

func (k *structKeys) add(t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" && !strings.Contains(string(f.Tag), ":") {
			tag = string(f.Tag)
		}
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			switch ft := deref(f.Type); ft.Kind() {
			case reflect.Map:
				k.anyKey = true
			case reflect.Struct:
				k.add(ft)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		k.names = append(k.names, name)
		k.types[name] = f.Type
	}
}

// typeAt is the Go type that the value at path under a root of type t
// decodes into; yaml tags name the keys, "[i]" steps into lists and maps.
// substitute maps a type to the one it decodes as (wrappers of foreign types).
func typeAt(t reflect.Type, path []string, substitute map[reflect.Type]reflect.Type) (reflect.Type, bool) {
	for _, elem := range path {
		t = deref(t)
		if s, ok := substitute[t]; ok {
			t = s
		}
		switch {
		case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
			if _, isIndex := indexOf(elem); !isIndex {
				return nil, false
			}
			t = t.Elem()
		case t.Kind() == reflect.Map:
			t = t.Elem()
		case t.Kind() == reflect.Struct:
			ft, ok := keysOf(t).types[elem]
			if !ok {
				return nil, false
			}
			t = ft
		default:
			return nil, false
		}
	}
	t = deref(t)
	if s, ok := substitute[t]; ok {
		t = s
	}
	return t, true
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var (
	nodeType                = reflect.TypeFor[yaml.Node]()
	unmarshalerType         = reflect.TypeFor[yaml.Unmarshaler]()
	obsoleteUnmarshalerType = reflect.TypeFor[interface {
		UnmarshalYAML(unmarshal func(any) error) error
	}]()
)

// decodesItself says whether values of t bring their own decoding, which
// then also decides which keys they accept.
func decodesItself(t reflect.Type) bool {
	for _, c := range []reflect.Type{t, reflect.PointerTo(t)} {
		if c.Implements(unmarshalerType) || c.Implements(obsoleteUnmarshalerType) {
			return true
		}
	}
	return false
}
