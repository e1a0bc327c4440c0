package config

import (
	"fmt"
	"sort"
	"strings"
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

// Errors is every problem Load or Parse found in one file, in file order.
// Error gives one "<file>:<line>: <message>" line per problem.
type Errors struct {
	list []*lineError
}

func (e *Errors) Error() string {
	lines := make([]string, len(e.list))
	for i, le := range e.list {
		lines[i] = le.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems one by one.
func (e *Errors) Unwrap() []error {
	errs := make([]error, len(e.list))
	for i, le := range e.list {
		errs[i] = le
	}
	return errs
}

// errorf records a problem; scope ("source \"demo\"", "sources[1]") prefixes
// the message when set. The same message on the same line is kept once: a
// node shared through an alias is decoded once per use.
func (p *parser) errorf(line int, scope, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if scope != "" {
		msg = scope + ": " + msg
	}
	if line < 1 {
		line = 1
	}
	// Foreign messages may span lines; the contract is one line per error.
	msg = strings.Join(strings.Fields(msg), " ")
	e := lineError{file: p.file, line: line, msg: msg}
	if p.reported[e] {
		return
	}
	p.reported[e] = true
	p.errs = append(p.errs, &e)
}

// result is nil without problems, else every problem in file order (those
// on one line in the order they were found).
func (p *parser) result() error {
	if len(p.errs) == 0 {
		return nil
	}
	list := append([]*lineError(nil), p.errs...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].line < list[j].line })
	return &Errors{list: list}
}
