package config

import (
	"fmt"
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
