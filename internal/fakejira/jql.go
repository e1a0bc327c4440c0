package fakejira

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The fake understands exactly this JQL subset (see doc.go); anything else
// is a jqlError, answered with 400 and a Jira-style errorMessages body.

type jqlError struct{ msg string }

func (e *jqlError) Error() string { return e.msg }

func jqlErrorf(format string, args ...any) error {
	return &jqlError{msg: fmt.Sprintf(format, args...)}
}

type tokenKind int

const (
	tokWord tokenKind = iota // bare word: field, value, keyword
	tokString
	tokOp // = != > >= < <= ,
	tokLParen
	tokRParen
	tokEOF
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

func lexJQL(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == ',':
			toks = append(toks, token{tokOp, ",", i})
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, jqlErrorf("Error in the JQL Query: The quoted string '%s' has not been completed. (line 1, character %d)", s[i+1:], i+1)
			}
			toks = append(toks, token{tokString, s[i+1 : i+1+end], i})
			i += end + 2
		case c == '=' || c == '!' || c == '<' || c == '>':
			op := string(c)
			if i+1 < len(s) && s[i+1] == '=' {
				op += "="
			}
			if op == "!" {
				return nil, jqlErrorf("Error in the JQL Query: The character '!' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0021' instead. (line 1, character %d)", i+1)
			}
			toks = append(toks, token{tokOp, op, i})
			i += len(op)
		case isWordChar(rune(c)):
			start := i
			for i < len(s) && isWordChar(rune(s[i])) {
				i++
			}
			toks = append(toks, token{tokWord, s[start:i], start})
		default:
			return nil, jqlErrorf("Error in the JQL Query: The character '%c' is a reserved JQL character. You must enclose it in a string or use the escape '\\u%04x' instead. (line 1, character %d)", c, c, i+1)
		}
	}
	return append(toks, token{tokEOF, "", len(s)}), nil
}

func isWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.'
}

// issuePredicate decides whether an issue matches.
type issuePredicate func(*Issue) bool

// orderKey is one ORDER BY term.
type orderKey struct {
	field string // updated, created, id, key
	desc  bool
}

// jqlQuery is a parsed query. where is nil for a query without restriction.
type jqlQuery struct {
	where issuePredicate
	order []orderKey
}

// jqlEnv is what parsing needs to know about the site.
type jqlEnv struct {
	loc      *time.Location    // the API user's time zone
	projects map[string]string // project key (upper case) or id -> key
}

type jqlParser struct {
	toks []token
	pos  int
	env  jqlEnv
}

func parseJQL(s string, env jqlEnv) (*jqlQuery, error) {
	toks, err := lexJQL(s)
	if err != nil {
		return nil, err
	}
	p := &jqlParser{toks: toks, env: env}
	q := &jqlQuery{}
	if !p.atKeyword("ORDER") && p.peek().kind != tokEOF {
		q.where, err = p.parseOr()
		if err != nil {
			return nil, err
		}
	}
	if p.atKeyword("ORDER") {
		p.next()
		if !p.atKeyword("BY") {
			return nil, p.unexpected("'by'")
		}
		p.next()
		for {
			t := p.next()
			if t.kind != tokWord && t.kind != tokString {
				return nil, p.unexpectedAt(t, "a field name")
			}
			field := strings.ToLower(t.text)
			switch field {
			case "updated", "created", "id", "key":
			case "issuekey":
				field = "key"
			default:
				return nil, jqlErrorf("Not able to sort using field '%s'.", t.text)
			}
			k := orderKey{field: field}
			if p.atKeyword("ASC") {
				p.next()
			} else if p.atKeyword("DESC") {
				p.next()
				k.desc = true
			}
			q.order = append(q.order, k)
			if p.peek().kind == tokOp && p.peek().text == "," {
				p.next()
				continue
			}
			break
		}
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpectedAt(t, "end of query")
	}
	return q, nil
}

func (p *jqlParser) peek() token { return p.toks[p.pos] }

func (p *jqlParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *jqlParser) atKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tokWord && strings.EqualFold(t.text, kw)
}

func (p *jqlParser) unexpected(want string) error { return p.unexpectedAt(p.peek(), want) }

func (p *jqlParser) unexpectedAt(t token, want string) error {
	if t.kind == tokEOF {
		return jqlErrorf("Error in the JQL Query: Expecting %s but reached the end of the query. (line 1, character %d)", want, t.pos+1)
	}
	return jqlErrorf("Error in the JQL Query: Expecting %s but got '%s'. (line 1, character %d)", want, t.text, t.pos+1)
}

func (p *jqlParser) parseOr() (issuePredicate, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.atKeyword("OR") {
		p.next()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(is *Issue) bool { return l(is) || right(is) }
	}
	return left, nil
}

func (p *jqlParser) parseAnd() (issuePredicate, error) {
	left, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.atKeyword("AND") {
		p.next()
		right, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(is *Issue) bool { return l(is) && right(is) }
	}
	return left, nil
}

func (p *jqlParser) parseNot() (issuePredicate, error) {
	if p.atKeyword("NOT") {
		p.next()
		inner, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return func(is *Issue) bool { return !inner(is) }, nil
	}
	if p.peek().kind == tokLParen {
		p.next()
		inner, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tokRParen {
			return nil, p.unexpected("')'")
		}
		p.next()
		return inner, nil
	}
	return p.parseClause()
}

// operator reads a clause operator: = != > >= < <= in, not in, is, is not.
func (p *jqlParser) operator() (string, error) {
	t := p.peek()
	if t.kind == tokOp && t.text != "," {
		p.next()
		return t.text, nil
	}
	switch {
	case p.atKeyword("IN"):
		p.next()
		return "in", nil
	case p.atKeyword("IS"):
		p.next()
		if p.atKeyword("NOT") {
			p.next()
			return "is not", nil
		}
		return "is", nil
	case p.atKeyword("NOT"):
		p.next()
		if p.atKeyword("IN") {
			p.next()
			return "not in", nil
		}
		return "", p.unexpected("'in'")
	}
	return "", p.unexpected("operator")
}

// values reads one value, or a parenthesised list after in / not in.
func (p *jqlParser) values(op string) ([]token, error) {
	if op == "in" || op == "not in" {
		if p.peek().kind != tokLParen {
			return nil, p.unexpected("'('")
		}
		p.next()
		var vals []token
		for {
			t := p.next()
			if t.kind != tokWord && t.kind != tokString {
				return nil, p.unexpectedAt(t, "either a value, list or function")
			}
			vals = append(vals, t)
			sep := p.next()
			if sep.kind == tokRParen {
				return vals, nil
			}
			if sep.kind != tokOp || sep.text != "," {
				return nil, p.unexpectedAt(sep, "')'")
			}
		}
	}
	t := p.next()
	if t.kind != tokWord && t.kind != tokString {
		return nil, p.unexpectedAt(t, "either a value, list or function")
	}
	return []token{t}, nil
}

func (p *jqlParser) parseClause() (issuePredicate, error) {
	fieldTok := p.next()
	if fieldTok.kind != tokWord && fieldTok.kind != tokString {
		return nil, p.unexpectedAt(fieldTok, "a field name")
	}
	op, err := p.operator()
	if err != nil {
		return nil, err
	}
	vals, err := p.values(op)
	if err != nil {
		return nil, err
	}
	field := strings.ToLower(fieldTok.text)
	switch field {
	case "updated", "created":
		return p.dateClause(fieldTok.text, field, op, vals)
	case "id":
		return idClause(op, vals)
	case "project":
		return p.projectClause(op, vals)
	case "statuscategory":
		return categoryClause(op, vals)
	case "resolution":
		return resolutionClause(op, vals)
	}
	return nil, jqlErrorf("Field '%s' does not exist or you do not have permission to view it.", fieldTok.text)
}

func badOperator(op, field string) error {
	return jqlErrorf("The operator '%s' is not supported by the '%s' field.", op, field)
}

// jqlDateLayouts are the absolute formats Jira accepts, minute precision.
var jqlDateLayouts = []string{"2006-01-02 15:04", "2006/01/02 15:04", "2006-01-02", "2006/01/02"}

func (p *jqlParser) dateClause(name, field, op string, vals []token) (issuePredicate, error) {
	if op == "in" || op == "not in" || op == "is" || op == "is not" {
		return nil, badOperator(op, name)
	}
	var at time.Time
	var parsed bool
	for _, layout := range jqlDateLayouts {
		if t, err := time.ParseInLocation(layout, vals[0].text, p.env.loc); err == nil {
			at, parsed = t, true
			break
		}
	}
	if !parsed {
		return nil, jqlErrorf("Date value '%s' for field '%s' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.", vals[0].text, name)
	}
	get := func(is *Issue) time.Time { return is.Updated }
	if field == "created" {
		get = func(is *Issue) time.Time { return is.Created }
	}
	cmp, err := compareOp(op, name)
	if err != nil {
		return nil, err
	}
	// Jira stores millisecond precision: compare at that precision.
	return func(is *Issue) bool {
		return cmp(int64Cmp(get(is).Truncate(time.Millisecond).UnixMilli(), at.UnixMilli()))
	}, nil
}

func int64Cmp(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareOp turns an operator into a test of a three-way comparison.
func compareOp(op, field string) (func(int) bool, error) {
	switch op {
	case "=":
		return func(c int) bool { return c == 0 }, nil
	case "!=":
		return func(c int) bool { return c != 0 }, nil
	case ">":
		return func(c int) bool { return c > 0 }, nil
	case ">=":
		return func(c int) bool { return c >= 0 }, nil
	case "<":
		return func(c int) bool { return c < 0 }, nil
	case "<=":
		return func(c int) bool { return c <= 0 }, nil
	}
	return nil, badOperator(op, field)
}

func idClause(op string, vals []token) (issuePredicate, error) {
	if op == "in" || op == "not in" || op == "is" || op == "is not" || op == "!=" {
		return nil, badOperator(op, "id")
	}
	n, err := strconv.ParseInt(vals[0].text, 10, 64)
	if err != nil {
		return nil, jqlErrorf("The issue key '%s' for field 'id' is invalid.", vals[0].text)
	}
	cmp, err := compareOp(op, "id")
	if err != nil {
		return nil, err
	}
	return func(is *Issue) bool { return cmp(int64Cmp(is.ID, n)) }, nil
}

func (p *jqlParser) projectClause(op string, vals []token) (issuePredicate, error) {
	var negate bool
	switch op {
	case "=", "in":
	case "!=", "not in":
		negate = true
	default:
		return nil, badOperator(op, "project")
	}
	set := map[string]bool{}
	for _, v := range vals {
		key, ok := p.env.projects[strings.ToUpper(v.text)]
		if !ok {
			return nil, jqlErrorf("The value '%s' does not exist for the field 'project'.", v.text)
		}
		set[key] = true
	}
	return func(is *Issue) bool { return set[is.Project] != negate }, nil
}

func categoryClause(op string, vals []token) (issuePredicate, error) {
	var negate bool
	switch op {
	case "=", "in":
	case "!=", "not in":
		negate = true
	default:
		return nil, badOperator(op, "statusCategory")
	}
	set := map[Category]bool{}
	for _, v := range vals {
		cat, ok := categoryByValue(v.text)
		if !ok {
			return nil, jqlErrorf("The value '%s' does not exist for the field 'statusCategory'.", v.text)
		}
		set[cat] = true
	}
	return func(is *Issue) bool { return set[categoryOf(is.StatusID)] != negate }, nil
}

// categoryByValue accepts a category's name, key or id, as Jira does.
func categoryByValue(v string) (Category, bool) {
	for _, c := range statusCategories {
		if strings.EqualFold(v, c.name) || strings.EqualFold(v, c.key) || v == strconv.Itoa(c.id) {
			return Category(c.key), true
		}
	}
	return "", false
}

func resolutionClause(op string, vals []token) (issuePredicate, error) {
	v := vals[0].text
	empty := vals[0].kind == tokWord && (strings.EqualFold(v, "EMPTY") || strings.EqualFold(v, "NULL"))
	unresolved := strings.EqualFold(v, "Unresolved")
	switch {
	case (op == "is" && empty) || (op == "=" && unresolved):
		return func(is *Issue) bool { return is.Resolution == "" }, nil
	case (op == "is not" && empty) || (op == "!=" && unresolved):
		return func(is *Issue) bool { return is.Resolution != "" }, nil
	case op == "is" || op == "is not":
		return nil, jqlErrorf("The operator '%s' can only be used with EMPTY or NULL.", op)
	}
	return nil, jqlErrorf("The value '%s' does not exist for the field 'resolution'.", v)
}

// sortIssues orders issues by the query's ORDER BY. Without one the fake
// uses key descending, as Jira's default for REST searches; ties on the
// last key fall back to id so every order is total and paging is stable.
func sortIssues(issues []*Issue, order []orderKey) {
	if len(order) == 0 {
		order = []orderKey{{field: "key", desc: true}}
	}
	sort.SliceStable(issues, func(i, j int) bool {
		a, b := issues[i], issues[j]
		for _, k := range order {
			c := compareBy(a, b, k.field)
			if c == 0 {
				continue
			}
			if k.desc {
				return c > 0
			}
			return c < 0
		}
		return a.ID < b.ID
	})
}

func compareBy(a, b *Issue, field string) int {
	switch field {
	case "updated":
		return a.Updated.Compare(b.Updated)
	case "created":
		return a.Created.Compare(b.Created)
	case "id":
		return int64Cmp(a.ID, b.ID)
	}
	// Jira sorts keys by project, then numerically.
	if c := strings.Compare(a.Project, b.Project); c != 0 {
		return c
	}
	return int64Cmp(keyNumber(a.Key), keyNumber(b.Key))
}

func keyNumber(key string) int64 {
	i := strings.LastIndexByte(key, '-')
	n, _ := strconv.ParseInt(key[i+1:], 10, 64)
	return n
}
