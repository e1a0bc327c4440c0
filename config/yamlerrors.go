package config

import (
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	promconfig "github.com/prometheus/common/config"
	"gopkg.in/yaml.v3"
)

// Turning yaml.v3's messages into ours. yaml.v3 reports decode problems as
// strings ("line 7: field x not found in type y"); these patterns read them
// back, and the node tree says which key or value they are about.
var (
	yamlLinePrefix  = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)
	unknownFieldMsg = regexp.MustCompile(`^line (\d+): field (.+) not found in type \S+$`)
	typeMismatchMsg = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	duplicateKeyMsg = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
)

// rawSubstitutes maps the raw wrappers of foreign sections to the type they
// decode, so keys and kinds are looked up in the real one.
var rawSubstitutes = map[reflect.Type]reflect.Type{
	reflect.TypeFor[httpClientSection](): reflect.TypeFor[promconfig.HTTPClientConfig](),
	reflect.TypeFor[rawSourceEntry]():    reflect.TypeFor[rawSource](),
}

func rawTypeAt(path []string) (reflect.Type, bool) {
	return typeAt(reflect.TypeFor[rawConfig](), path, rawSubstitutes)
}

// knownKeys lists the keys valid in the mapping at path of the file.
func knownKeys(mappingPath []string) []string {
	if t, ok := rawTypeAt(mappingPath); ok && t.Kind() == reflect.Struct {
		return keysOf(t).names
	}
	return nil
}

// decodeErrors records what the strict decode of the whole file reported.
// It returns false when the decode stopped short, so nothing more can be
// checked.
func (p *parser) decodeErrors(err error) bool {
	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) {
		p.invalidYAML(err.Error())
		return false
	}
	for _, msg := range typeErr.Errors {
		p.decodeError(msg)
	}
	return true
}

func (p *parser) decodeError(msg string) {
	if m := unknownFieldMsg.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		path, value, parent, ok := findNode(p.root, nil, func(_ []string, key, _ *yaml.Node) bool {
			return key != nil && key.Line == line && key.Value == m[2]
		})
		if ok {
			key := keyOf(parent, value)
			p.errNodes = append(p.errNodes, key)
			mappingPath := path[:len(path)-1]
			p.unknownKey(parent, key, p.where(mappingPath), knownKeys(mappingPath))
			return
		}
	}
	if m := typeMismatchMsg.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		path, node, _, ok := findNode(p.root, nil, func(_ []string, _, value *yaml.Node) bool {
			return value.Line == line && matchesReported(value, m[2], m[3])
		})
		if ok {
			p.errNodes = append(p.errNodes, node)
			p.failed[node] = true
			at, _ := rawTypeAt(path)
			want, scalar := wantedKind(m[4], at)
			scope, rest := p.split(path)
			p.typeMismatch(node, scope, rest, want, scalar, path[len(path)-1])
			return
		}
	}
	if duplicateKeyMsg.MatchString(msg) {
		return // reported from the node tree, with every other duplicate
	}
	p.invalidYAML(msg)
}

// keyOf returns the key node whose value is value in mapping parent.
func keyOf(parent, value *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(parent.Content); i += 2 {
		if parent.Content[i+1] == value {
			return parent.Content[i]
		}
	}
	return value
}

// invalidYAML reports a yaml.v3 message that says nothing we can place better.
func (p *parser) invalidYAML(msg string) {
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 1
	if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
		line, msg = atoi(m[1]), msg[len(m[0]):]
	}
	p.errorf(line, "", "invalid YAML: %s", p.redact(msg))
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

// typeMismatch reports that node, the value of key (inside scope, or the
// scope itself when key is empty), is not what it must be. Scalars are
// quoted unless they may be secrets.
func (p *parser) typeMismatch(node *yaml.Node, scope, key, want string, scalar bool, lastKey string) {
	got := kindName(node)
	if scalar && node.Kind == yaml.ScalarNode && node.ShortTag() != "!!null" && !secretKeys[lastKey] && p.redact(node.Value) == node.Value {
		got = strconv.Quote(node.Value)
	}
	if key == "" {
		p.errorf(node.Line, "", "%s must be %s, got %s", scope, want, got)
		return
	}
	p.errorf(node.Line, scope, "%s must be %s, got %s", key, want, got)
}

// wantedKind puts into words what a value of Go type goType (as yaml.v3
// names it) should be, and says whether that is a scalar. Named types
// ("config.plain") say little, so the type found by path, at, decides then.
func wantedKind(goType string, at reflect.Type) (string, bool) {
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
	case at != nil:
		kind = at.Kind()
	}
	switch kind {
	case reflect.Slice, reflect.Array:
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
