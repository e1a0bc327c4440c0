package config

import (
	"errors"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// syntaxError reports a YAML syntax error on the line of the mistake.
// yaml.v3 often names another line: where the enclosing block started,
// counted from 0, or the line after a mistake that only shows there.
func (p *parser) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	reported := 1
	if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
		reported, msg = atoi(m[1]), msg[len(m[0]):]
	}
	line, hint := syntaxLine(data, msg, reported)
	p.errorf(line, "", "invalid YAML: %s%s", p.redact(msg), hint)
}

// syntaxBudget bounds the bytes re-parsed to find the line of a syntax
// error; past it, yaml.v3's line stands.
const syntaxBudget = 32 << 20

// syntaxLine finds the line of a syntax mistake: the first line after the
// longest prefix of the file that still parses (a prefix of valid YAML
// nearly always is valid YAML). Then a few common mistakes that only show
// on a later line are traced back, and a hint names the usual cause.
func syntaxLine(data []byte, msg string, reported int) (int, string) {
	lines := strings.SplitAfter(string(data), "\n")
	line, spent := 0, 0
	for k := len(lines) - 1; k >= 0; k-- {
		prefix := strings.Join(lines[:k], "")
		if spent += len(prefix); spent > syntaxBudget {
			break
		}
		if parses(prefix) {
			line = k + 1
			break
		}
	}
	if line == 0 || line > len(lines) {
		return reported, ""
	}
	text := strings.TrimRight(lines[line-1], "\r\n")
	prev, prevText := previousContentLine(lines, line)
	switch {
	case leadingTab.MatchString(text):
		return line, " (indent with spaces, not tabs)"
	case unclosedQuote(text):
		return line, " (a quoted string is not closed)"
	case strings.HasPrefix(msg, "mapping values are not allowed") && prev > 0 && dashWithoutSpace.MatchString(prevText):
		return prev, " (put a space after '-' to start a list item)"
	case strings.HasPrefix(msg, "mapping values are not allowed") && prev > 0 && plainScalarLine(prevText) && indent(text) > indent(prevText):
		return prev, " (is the ':' after a key missing?)"
	case strings.HasPrefix(msg, "could not find expected ':'"):
		return line, " (is the ':' after a key missing?)"
	case strings.HasPrefix(msg, "did not find expected ',' or"):
		return line, " (a [ or { is not closed)"
	case strings.HasPrefix(msg, "did not find expected"), strings.HasPrefix(msg, "mapping values are not allowed"):
		return line, " (check the indentation of this line)"
	}
	return line, ""
}

// parses says whether text is YAML without syntax errors, in every document.
func parses(text string) bool {
	dec := yaml.NewDecoder(strings.NewReader(text))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
	}
}

var (
	leadingTab       = regexp.MustCompile(`^ *\t`)
	dashWithoutSpace = regexp.MustCompile(`^\s*-[^\s-]`)
	// quoteStart is a quote that opens a scalar: after "key: ", "- ", a
	// flow indicator, or at the start of the line.
	quoteStart = regexp.MustCompile(`(?:^|:\s|-\s|[\[{,]\s*)(["'])`)
)

// previousContentLine is the nearest line before line (1-based) that holds
// more than blanks or a comment, or 0.
func previousContentLine(lines []string, line int) (int, string) {
	for i := line - 2; i >= 0; i-- {
		if t := strings.TrimSpace(lines[i]); t != "" && !strings.HasPrefix(t, "#") {
			return i + 1, strings.TrimRight(lines[i], "\r\n")
		}
	}
	return 0, ""
}

// unclosedQuote says whether a quoted scalar opens on text and does not close there.
func unclosedQuote(text string) bool {
	for _, m := range quoteStart.FindAllStringSubmatchIndex(text, -1) {
		quote, rest := text[m[2]], text[m[3]:]
		closed := false
		for i := 0; i < len(rest); i++ {
			switch {
			case quote == '"' && rest[i] == '\\':
				i++
			case rest[i] == quote && quote == '\'' && i+1 < len(rest) && rest[i+1] == '\'':
				i++ // '' is an escaped quote
			case rest[i] == quote:
				closed = true
			}
			if closed {
				break
			}
		}
		if !closed {
			return true
		}
	}
	return false
}

// plainScalarLine says whether text is a bare value (optionally a list
// item) with no "key:" in it, what a key whose ':' is missing looks like.
func plainScalarLine(text string) bool {
	t := strings.TrimSpace(text)
	for strings.HasPrefix(t, "- ") {
		t = strings.TrimSpace(t[2:])
	}
	if t == "" || strings.ContainsAny(t[:1], "\"'[{&*!|>#%@`") {
		return false
	}
	return !strings.Contains(t, ": ") && !strings.HasSuffix(t, ":") && !strings.Contains(t, " #")
}

func indent(text string) int {
	return len(text) - len(strings.TrimLeft(text, " "))
}
