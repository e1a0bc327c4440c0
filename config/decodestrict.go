package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecodeStrict decodes a source type's section into out the way the
// loader decodes the rest of the file: a key that names no field of out is
// an error, and every problem keeps the line it has in the file. It
// reports every problem it finds, joined; the loader turns each into a
// "<file>:<line>: " message with did-you-mean for unknown keys.
//
// yaml.v3's Node.Decode has no strict mode, so the keys are checked
// against out's yaml tags first. out must not decode itself: from an
// UnmarshalYAML method, decode into a plain alias type (type plain Config).
func DecodeStrict(section *yaml.Node, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("config.DecodeStrict needs a non-nil pointer, got %T", out)
	}
	n := resolve(section)
	if n == nil {
		return nil
	}
	t := v.Type().Elem()
	var issues []error
	c := keyChecker{seen: map[checkedNode]bool{}, issues: &issues}
	c.check(n, t, nil)
	if err := n.Decode(out); err != nil {
		issues = append(issues, decodeIssues(n, t, err)...)
	}
	sort.SliceStable(issues, func(i, j int) bool { return issueLine(issues[i]) < issueLine(issues[j]) })
	return errors.Join(issues...)
}

// KeyError is a problem a source type found with one key of its section,
// for its Decode to return (alone or joined with others); the loader
// reports it on that key's line.
type KeyError struct {
	// Key is the path of the key inside the section ("desks", "desks[2]"),
	// "" for the section itself.
	Key string
	// Msg is the whole message. It names the key as the file's reader
	// knows it, the section first: `demo.desks: duplicate desk "IT"`.
	Msg string
}

func (e *KeyError) Error() string { return e.Msg }

// The problems DecodeStrict finds. Their Error keeps yaml.v3's wording for
// callers outside the loader; the loader reads their fields instead.
type (
	unknownKeyError struct {
		mapping, key *yaml.Node
		path         []string // of the mapping, inside the section
		known        []string
		typ          reflect.Type
	}
	mismatchError struct {
		node   *yaml.Node
		path   []string // of the value, inside the section
		want   string   // "an integer"
		scalar bool
		msg    string
	}
	// fieldError is a value that decodes itself and refused its input.
	fieldError struct {
		key  *yaml.Node
		path []string
		err  error
	}
	duplicateKeyError struct {
		line, first int
		key         string
	}
	lineIssue struct {
		line int
		msg  string
	}
)

func (e *unknownKeyError) Error() string {
	return fmt.Sprintf("line %d: field %s not found in type %s", e.key.Line, e.key.Value, e.typ)
}
func (e *mismatchError) Error() string { return e.msg }
func (e *fieldError) Error() string {
	return fmt.Sprintf("line %d: %s: %v", e.key.Line, joinPath(e.path), e.err)
}
func (e *duplicateKeyError) Error() string {
	return fmt.Sprintf("line %d: mapping key %q already defined at line %d", e.line, e.key, e.first)
}
func (e *lineIssue) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func issueLine(err error) int {
	var (
		uk *unknownKeyError
		mm *mismatchError
		fe *fieldError
		dk *duplicateKeyError
		li *lineIssue
	)
	switch {
	case errors.As(err, &uk):
		return uk.key.Line
	case errors.As(err, &mm):
		return mm.node.Line
	case errors.As(err, &fe):
		return fe.key.Line
	case errors.As(err, &dk):
		return dk.line
	case errors.As(err, &li):
		return li.line
	}
	return 0
}

// keyChecker finds keys that name no field, the check yaml.v3's strict
// mode makes. Each (node, type) is visited once, so aliases cost nothing twice.
type keyChecker struct {
	seen   map[checkedNode]bool
	issues *[]error
}

type checkedNode struct {
	n *yaml.Node
	t reflect.Type
}

func (c keyChecker) check(n *yaml.Node, t reflect.Type, path []string) {
	n = resolve(n)
	if n == nil {
		return
	}
	t = deref(t)
	if t == nodeType || decodesItself(t) || c.seen[checkedNode{n, t}] {
		return
	}
	c.seen[checkedNode{n, t}] = true
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // a mismatch, which the decode reports
		}
		keys := keysOf(t)
		for _, pr := range mappingPairs(n) {
			if ft, ok := keys.types[pr.key.Value]; ok {
				c.check(pr.value, ft, append(slices.Clone(path), pr.key.Value))
			} else if !keys.anyKey {
				*c.issues = append(*c.issues, &unknownKeyError{mapping: n, key: pr.key, path: path, known: keys.names, typ: t})
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				c.check(item, t.Elem(), append(slices.Clone(path), index(i)))
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for _, pr := range mappingPairs(n) {
				c.check(pr.value, t.Elem(), append(slices.Clone(path), pr.key.Value))
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// yaml.v3 truncates 1.5 into an integer; a strict decode refuses it.
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			*c.issues = append(*c.issues, &mismatchError{node: n, path: path, want: "an integer", scalar: true,
				msg: fmt.Sprintf("line %d: cannot unmarshal !!float `%s` into %s", n.Line, n.Value, t)})
		}
	}
}

// decodeIssues turns the error of decoding section into type t into problems with lines.
func decodeIssues(section *yaml.Node, t reflect.Type, err error) []error {
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		issues := make([]error, len(typeErr.Errors))
		for i, msg := range typeErr.Errors {
			issues[i] = typeIssue(section, t, msg)
		}
		return issues
	}
	// A value that decodes itself refused its input, which stopped the
	// whole decode with no line. Decoding key by key finds which one, and
	// whatever else fails.
	if issues := decodeByKey(section, t); len(issues) > 0 {
		return issues
	}
	return []error{&lineIssue{line: section.Line, msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
}

func decodeByKey(section *yaml.Node, t reflect.Type) []error {
	t = deref(t)
	if t.Kind() != reflect.Struct || section.Kind != yaml.MappingNode {
		return nil
	}
	keys := keysOf(t)
	var issues []error
	for _, pr := range mappingPairs(section) {
		ft, ok := keys.types[pr.key.Value]
		if !ok {
			continue
		}
		err := pr.value.Decode(reflect.New(ft).Interface())
		var typeErr *yaml.TypeError
		switch {
		case err == nil:
		case errors.As(err, &typeErr):
			for _, msg := range typeErr.Errors {
				issues = append(issues, typeIssue(section, t, msg))
			}
		default:
			issues = append(issues, &fieldError{key: pr.key, path: []string{pr.key.Value}, err: err})
		}
	}
	return issues
}

// typeIssue places one yaml.v3 type error message inside section. t, the
// type section decodes into, may be nil when unknown.
func typeIssue(section *yaml.Node, t reflect.Type, msg string) error {
	if m := typeMismatchMsg.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		typeOf := func(path []string) reflect.Type {
			if t == nil {
				return nil
			}
			at, _ := typeAt(t, path, nil)
			return at
		}
		// Several nodes may share the line and tag (flow style); the one
		// whose Go type is the reported one wins, else the first.
		var found *mismatchError
		consider := func(path []string, value *yaml.Node) bool {
			if value.Line != line || !matchesReported(value, m[2], m[3]) {
				return false
			}
			at := typeOf(path)
			if found == nil {
				want, scalar := wantedKind(m[4], at)
				found = &mismatchError{node: value, path: path, want: want, scalar: scalar, msg: msg}
			}
			if at != nil && (at.String() == m[4] || "*"+at.String() == m[4]) {
				want, scalar := wantedKind(m[4], at)
				found = &mismatchError{node: value, path: path, want: want, scalar: scalar, msg: msg}
				return true
			}
			return false
		}
		if !consider(nil, section) {
			findNode(section, nil, func(path []string, _, value *yaml.Node) bool { return consider(path, value) })
		}
		if found != nil {
			return found
		}
	}
	if m := duplicateKeyMsg.FindStringSubmatch(msg); m != nil {
		return &duplicateKeyError{line: atoi(m[1]), key: m[2], first: atoi(m[3])}
	}
	line := section.Line
	if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
		line, msg = atoi(m[1]), msg[len(m[0]):]
	}
	return &lineIssue{line: line, msg: msg}
}
