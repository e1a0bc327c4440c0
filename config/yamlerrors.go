package config

import (
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var yamlLinePrefix = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

func (p *parser) syntaxError(err error) error {
	msg := err.Error()
	if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
		return p.errorf(atoi(m[1]), "", "invalid YAML: %s", p.redact(msg[len(m[0]):]))
	}
	return p.errorf(1, "", "invalid YAML: %s", p.redact(strings.TrimPrefix(msg, "yaml: ")))
}

var (
	unknownFieldMsg = regexp.MustCompile(`^line (\d+): field (.+) not found in type \S+$`)
	typeMismatchMsg = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	duplicateKeyMsg = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
)

// decodeError reformats the first error of the strict decode as "<file>:<line>: ...".
func (p *parser) decodeError(err error) error {
	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) || len(typeErr.Errors) == 0 {
		return p.syntaxError(err)
	}
	msg := typeErr.Errors[0]
	if m := unknownFieldMsg.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		path, _, ok := p.find(p.root, nil, func(key, _ *yaml.Node) bool {
			return key != nil && key.Line == line && key.Value == m[2]
		})
		if ok {
			return p.unknownKey(line, m[2], path[:len(path)-1])
		}
	}
	if m := typeMismatchMsg.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		path, node, ok := p.find(p.root, nil, func(_, value *yaml.Node) bool {
			return value.Line == line && matchesReported(value, m[2], m[3])
		})
		if ok {
			return p.typeMismatch(node, path, m[4])
		}
	}
	if m := duplicateKeyMsg.FindStringSubmatch(msg); m != nil {
		return p.errorf(atoi(m[1]), "", "key %q appears twice in the same mapping (first on line %s)", m[2], m[3])
	}
	return p.syntaxError(errors.New(msg))
}

// matchesReported says whether node is the one yaml.v3 reported, which
// shortens values longer than 10 characters to 7 and "...".
func matchesReported(node *yaml.Node, tag, value string) bool {
	if node.ShortTag() != tag {
		return false
	}
	if prefix, cut := strings.CutSuffix(value, "..."); cut && len(node.Value) > 10 {
		return strings.HasPrefix(node.Value, prefix)
	}
	return tag == "!!map" || tag == "!!seq" || node.Value == value
}

// sectionError places an error from a foreign section (jira, http_client) on
// the right line. Their own messages may carry lines of a re-encoded copy, so
// keys and values are looked up inside the section instead.
func (p *parser) sectionError(err error, section *yaml.Node, sectionLine int, scope, name string) error {
	msg := firstTypeError(err.Error())
	base, _, _ := p.find(p.root, nil, func(_, value *yaml.Node) bool { return value == section })
	if m := unknownFieldMsg.FindStringSubmatch(msg); m != nil {
		if path, node, ok := p.find(section, base, func(key, _ *yaml.Node) bool {
			return key != nil && key.Value == m[2]
		}); ok {
			return p.unknownKey(lineOfKey(section, node), m[2], path[:len(path)-1])
		}
	}
	if m := typeMismatchMsg.FindStringSubmatch(msg); m != nil {
		if path, node, ok := p.find(section, base, func(_, value *yaml.Node) bool {
			return matchesReported(value, m[2], m[3])
		}); ok {
			return p.typeMismatch(node, path, m[4])
		}
	}
	msg = p.redact(yamlLinePrefix.ReplaceAllString(msg, ""))
	line := sectionLine
	// Point at the key a message names, as in "jira.url is required".
	if key, ok := strings.CutPrefix(msg, name+"."); ok {
		key, _, _ = strings.Cut(key, " ")
		if k := mappingKey(section, key); k != nil {
			line = k.Line
		}
	} else {
		msg = name + ": " + msg
	}
	return p.errorf(line, scope, "%s", msg)
}

// firstTypeError keeps the first entry of a flattened yaml.TypeError
// ("unmarshal errors:\n  line 3: ...\n  line 4: ...").
func firstTypeError(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "unmarshal errors:"); ok {
		for line := range strings.Lines(rest) {
			if line = strings.TrimSpace(line); line != "" {
				return line
			}
		}
	}
	return msg
}

// lineOfKey finds the line of the key whose value is value, anywhere under n.
func lineOfKey(n, value *yaml.Node) int {
	line := value.Line
	walk(n, func(key, v *yaml.Node) bool {
		if v == value && key != nil {
			line = key.Line
			return true
		}
		return false
	})
	return line
}

func (p *parser) typeMismatch(node *yaml.Node, path []string, goType string) error {
	want, scalar := wantedKind(goType, path)
	got := kindName(node)
	last := ""
	if len(path) > 0 {
		last = path[len(path)-1]
	}
	if scalar && node.Kind == yaml.ScalarNode && !secretKeys[last] && p.redact(node.Value) == node.Value {
		got = strconv.Quote(node.Value)
	}
	scope, rest := p.split(path)
	if rest == "" {
		return p.errorf(node.Line, "", "%s must be %s, got %s", scope, want, got)
	}
	return p.errorf(node.Line, scope, "%s must be %s, got %s", rest, want, got)
}

// wantedKind puts into words what the value at path should be, and says
// whether that is a scalar. yaml.v3 names the Go type, but named types
// (often "config.plain") say little, so those are looked up by path.
func wantedKind(goType string, path []string) (string, bool) {
	kind := reflect.Invalid
	switch {
	case strings.HasPrefix(goType, "[]"):
		kind = reflect.Slice
	case strings.HasPrefix(goType, "map["):
		kind = reflect.Map
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		kind = reflect.Int
	case strings.HasPrefix(goType, "float"):
		kind = reflect.Float64
	case goType == "bool":
		kind = reflect.Bool
	case goType == "string":
		kind = reflect.String
	default:
		if t, ok := typeAt(path); ok {
			kind = t.Kind()
		}
	}
	switch kind {
	case reflect.Slice:
		return "a list", false
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer", true
	case reflect.Float32, reflect.Float64:
		return "a number", true
	case reflect.Bool:
		return "true or false", true
	case reflect.String:
		return "a string", true
	}
	return "a mapping", false
}
