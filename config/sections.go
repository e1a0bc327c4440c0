package config

import (
	"errors"
	"strings"

	"gopkg.in/yaml.v3"
)

// section is one section of a source that another package decodes: a
// type's own (jira:) or http_client. Their errors come back without a file
// or a source, and are reported from here on the lines they are about.
type section struct {
	name  string     // its key in the source
	key   *yaml.Node // nil when absent
	value *yaml.Node // nil when absent or empty
	owner *yaml.Node // the source's mapping
	scope string
}

// line is where a problem with the section as a whole is reported.
func (s section) line() int { return lineOf(s.key, s.owner) }

// qualify puts the section's name in front of a message that does not
// name a key of it already (jira.url ...). A message about a missing
// section stands alone.
func (s section) qualify(msg string) string {
	if s.value == nil || strings.HasPrefix(msg, s.name+".") || strings.HasPrefix(msg, s.name+":") {
		return msg
	}
	return s.name + ": " + msg
}

// sectionErrors reports what decoding a section returned, every problem
// it holds on its own line.
func (p *parser) sectionErrors(err error, s section) {
	for _, e := range leaves(err) {
		p.sectionError(e, s)
	}
}

// leaves flattens joined errors.
func leaves(err error) []error {
	// Only a join itself is taken apart; a join wrapped in a message
	// stays whole, message and all.
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range multi.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

func (p *parser) sectionError(err error, s section) {
	var (
		uk      *unknownKeyError
		mm      *mismatchError
		fe      *fieldError
		dk      *duplicateKeyError
		ke      *KeyError
		li      *lineIssue
		typeErr *yaml.TypeError
	)
	inSection := func(path []string) string { return joinPath(append([]string{s.name}, path...)) }
	switch {
	case errors.As(err, &uk):
		p.unknownKey(uk.mapping, uk.key, "in "+inSection(uk.path)+" of "+s.scope, uk.known)
	case errors.As(err, &mm):
		path := append([]string{s.name}, mm.path...)
		p.typeMismatch(mm.node, s.scope, joinPath(path), mm.want, mm.scalar, lastKey(path))
	case errors.As(err, &fe):
		p.errorf(fe.key.Line, s.scope, "%s: %s", inSection(fe.path), p.redact(fe.err.Error()))
	case errors.As(err, &dk):
		p.errorf(dk.line, "", "key %q appears twice in the same mapping (first on line %d)", dk.key, dk.first)
	case errors.As(err, &ke):
		line := s.line()
		if l, ok := locate(s.value, splitPath(ke.Key)); ok && ke.Key != "" {
			line = l
		}
		p.errorf(line, s.scope, "%s", s.qualify(p.redact(ke.Msg)))
	case errors.As(err, &li):
		p.errorf(li.line, s.scope, "%s", s.qualify(p.redact(li.msg)))
	case errors.As(err, &typeErr) && s.value != nil:
		// A type that decoded its section itself: the lines are real.
		for _, msg := range typeErr.Errors {
			p.sectionError(typeIssue(s.value, nil, msg), s)
		}
	default:
		p.plainSectionError(err.Error(), s)
	}
}

// plainSectionError reports a message without a line: on the line of the
// key it names (jira.url is required), else on the section's.
func (p *parser) plainSectionError(msg string, s section) {
	msg = p.redact(yamlLinePrefix.ReplaceAllString(strings.TrimPrefix(msg, "yaml: "), ""))
	line := s.line()
	if key, ok := strings.CutPrefix(msg, s.name+"."); ok && s.value != nil {
		if end := strings.IndexAny(key, " :"); end >= 0 {
			key = key[:end]
		}
		if l, found := locate(s.value, splitPath(key)); found {
			line = l
		}
	}
	p.errorf(line, s.scope, "%s", s.qualify(msg))
}

// lastKey is the last key (not list index) of path.
func lastKey(path []string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if _, isIndex := indexOf(path[i]); !isIndex {
			return path[i]
		}
	}
	return ""
}
