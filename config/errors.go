package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// lineError is the one shape every config error takes: "<file>:<line>: <message>".
type lineError struct {
	file string
	line int
	msg  string
}

func (e *lineError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
}

// errorf builds a lineError; scope ("source \"demo\"", "sources[1]") prefixes the message when set.
func (p *parser) errorf(line int, scope, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if scope != "" {
		msg = scope + ": " + msg
	}
	if line < 1 {
		line = 1
	}
	// Foreign messages may span lines; the contract is one line per error.
	msg = strings.Join(strings.Fields(msg), " ")
	return &lineError{file: p.file, line: line, msg: msg}
}

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

// secretKeys are keys whose values must never be echoed, in ours or anyone's messages.
var secretKeys = map[string]bool{
	"password": true, "credentials": true, "bearer_token": true, "client_secret": true,
	"client_certificate_key": true, "key": true, "token": true, "api_token": true,
	"secret": true, "secrets": true, "private_key": true, "proxy_connect_header": true,
}

var urlUserinfo = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://([^/?#@\n]+)@`)

// collectSecrets gathers every secret value in the document, so messages
// from other packages can be scrubbed of them.
func collectSecrets(doc *yaml.Node) []string {
	var secrets []string
	var addAll func(n *yaml.Node)
	addAll = func(n *yaml.Node) {
		n = resolve(n)
		if n.Kind == yaml.ScalarNode && n.Value != "" {
			secrets = append(secrets, n.Value)
		}
		for _, c := range n.Content {
			addAll(c)
		}
	}
	walk(doc, func(key, value *yaml.Node) bool {
		if key != nil && secretKeys[key.Value] {
			addAll(value)
		}
		if value.Kind == yaml.ScalarNode {
			for _, m := range urlUserinfo.FindAllStringSubmatch(value.Value, -1) {
				secrets = append(secrets, m[1])
				if _, password, ok := strings.Cut(m[1], ":"); ok && password != "" {
					secrets = append(secrets, password)
				}
			}
		}
		return false
	})
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	return secrets
}

func (p *parser) redact(msg string) string {
	for _, s := range p.secrets {
		msg = strings.ReplaceAll(msg, s, "<secret>")
	}
	return msg
}

// Node helpers.

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
