package jira

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"unicode/utf8"
)

// A search page is half a megabyte of JSON, and encoding/json walked every
// byte of it six times on its way to ticket facts: validating and splitting
// the page into issues, validating and splitting each issue into fields,
// then validating and decoding each field. The walks here validate and
// split in one pass with a byte loop instead of the library's per-byte
// state machine; only the values the adapter reads are handed to
// encoding/json. They accept exactly what json.Valid accepts (FuzzScanner
// holds them to that) and split objects the way json.Unmarshal fills a
// map[string]json.RawMessage: values are the member's bytes without the
// surrounding white space, the last of duplicate keys wins.

// maxNesting is encoding/json's nesting limit.
const maxNesting = 10000

// syntaxError is invalid JSON at an offset of the document.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.offset, e.msg)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// scanValue validates the value starting at data[i] (no leading space) and
// returns the offset just after it.
func scanValue(data []byte, i, depth int) (int, error) {
	if i >= len(data) {
		return i, &syntaxError{"unexpected end of input", i}
	}
	switch c := data[i]; {
	case c == '"':
		return scanString(data, i)
	case c == '{':
		return scanObject(data, i, depth+1, nil)
	case c == '[':
		return scanArray(data, i, depth+1, nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(data, i)
	case c == 't':
		return scanLiteral(data, i, "true")
	case c == 'f':
		return scanLiteral(data, i, "false")
	case c == 'n':
		return scanLiteral(data, i, "null")
	default:
		return i, &syntaxError{fmt.Sprintf("unexpected %q looking for a value", c), i}
	}
}

func scanLiteral(data []byte, i int, lit string) (int, error) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return i, &syntaxError{"invalid literal", i}
	}
	return i + len(lit), nil
}

// scanString validates the string starting at data[i] == '"'. Most bytes of
// a search page are in strings, so it finds the next byte that ends or
// escapes one (or must not be in one) eight bytes at a time.
func scanString(data []byte, i int) (int, error) {
	start := i
	i++
	for {
		i = nextSpecial(data, i)
		if i >= len(data) {
			return i, &syntaxError{"unexpected end of input in string", start}
		}
		switch data[i] {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 >= len(data) {
				return i, &syntaxError{"unexpected end of input in string", start}
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(data)-i < 6 {
					return i, &syntaxError{"unexpected end of input in string escape", i}
				}
				for _, h := range data[i+2 : i+6] {
					if !isHex(h) {
						return i, &syntaxError{"invalid \\u escape", i}
					}
				}
				i += 6
			default:
				return i, &syntaxError{"invalid escape", i}
			}
		default: // a control character
			return i, &syntaxError{"control character in string", i}
		}
	}
}

// nextSpecial returns the offset of the first byte at or after i that is
// '"', '\\' or below 0x20, or len(data).
func nextSpecial(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		if m := specialMask(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(data); i++ {
		if c := data[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

// specialMask has the high bit of each byte of x (little endian) that is
// '"', '\\' or below 0x20 set, and maybe of bytes above the first such one:
// v-0x01… & ^v & 0x80… marks the zero bytes of v, x-n·0x01… & ^x & 0x80…
// the bytes of x below n (n ≤ 128); a borrow only runs upwards, so the
// lowest mark is exact.
func specialMask(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	return ((quote-ones)&^quote | (backslash-ones)&^backslash | (x-ones*0x20)&^x) & highs
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) (int, error) {
	start := i
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return i, &syntaxError{"invalid number", start}
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return i, &syntaxError{"invalid number", start}
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return i, &syntaxError{"invalid number", start}
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	return i, nil
}

// visitFunc scans the value at data[at] itself, e.g. to split it further,
// and returns the offset just after it.
type visitFunc func(data []byte, at, depth int) (int, error)

// scanObject validates the object starting at data[i] == '{'. member, when
// not nil, is called for each member with the key's raw bytes (between the
// quotes) and scans the value; nil means validate it.
func scanObject(data []byte, i, depth int, member func(key []byte, data []byte, at, depth int) (int, error)) (int, error) {
	if depth > maxNesting {
		return i, &syntaxError{"exceeded max depth", i}
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return i, &syntaxError{"expected a member name", i}
		}
		keyEnd, err := scanString(data, i)
		if err != nil {
			return keyEnd, err
		}
		key := data[i+1 : keyEnd-1]
		i = skipSpace(data, keyEnd)
		if i >= len(data) || data[i] != ':' {
			return i, &syntaxError{"expected ':' after a member name", i}
		}
		i = skipSpace(data, i+1)
		if member != nil {
			i, err = member(key, data, i, depth)
		} else {
			i, err = scanValue(data, i, depth)
		}
		if err != nil {
			return i, err
		}
		var done bool
		if i, done, err = nextItem(data, i, '}', "object"); done || err != nil {
			return i, err
		}
	}
}

// scanArray validates the array starting at data[i] == '['. element, when
// not nil, scans each element; nil means validate it.
func scanArray(data []byte, i, depth int, element visitFunc) (int, error) {
	if depth > maxNesting {
		return i, &syntaxError{"exceeded max depth", i}
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if element != nil {
			i, err = element(data, i, depth)
		} else {
			i, err = scanValue(data, i, depth)
		}
		if err != nil {
			return i, err
		}
		var done bool
		if i, done, err = nextItem(data, i, ']', "array"); done || err != nil {
			return i, err
		}
	}
}

// nextItem reads what follows a member or an element: a comma, after
// which it returns the start of the next one, or the closing bracket, after
// which it returns the end of the object or array (done).
func nextItem(data []byte, i int, closing byte, in string) (next int, done bool, err error) {
	i = skipSpace(data, i)
	if i >= len(data) {
		return i, false, &syntaxError{"unexpected end of input in " + in, i}
	}
	switch data[i] {
	case ',':
		return skipSpace(data, i+1), false, nil
	case closing:
		return i + 1, true, nil
	}
	return i, false, &syntaxError{"expected ',' or '" + string(closing) + "' in " + in, i}
}

// rawValue scans one value and hands its bytes to keep.
func rawValue(data []byte, at, depth int, keep func(value []byte) error) (int, error) {
	end, err := scanValue(data, at, depth)
	if err != nil {
		return end, err
	}
	return end, keep(data[at:end])
}

// validJSON is json.Valid.
func validJSON(data []byte) bool {
	i := skipSpace(data, 0)
	end, err := scanValue(data, i, 0)
	return err == nil && skipSpace(data, end) == len(data)
}

// errNotObject is a document that is not a JSON object (nor null).
var errNotObject = errors.New("not a JSON object")

// eachMember validates doc, a JSON object (or null, which has no members)
// with optional surrounding space, calling member for every member with the
// key decoded; member scans the value (see visitFunc).
func eachMember(doc []byte, member func(key string, data []byte, at, depth int) (int, error)) error {
	return eachRawMember(doc, func(key, data []byte, at, depth int) (int, error) {
		return member(decodeKey(key), data, at, depth)
	})
}

// eachRawMember is eachMember with each key's raw bytes, between the quotes.
func eachRawMember(doc []byte, member func(key, data []byte, at, depth int) (int, error)) error {
	i := skipSpace(doc, 0)
	var end int
	var err error
	switch {
	case i < len(doc) && doc[i] == '{':
		end, err = scanObject(doc, i, 1, member)
	case validJSON(doc) && !isNull(bytes.TrimSpace(doc)):
		return errNotObject
	default:
		end, err = scanValue(doc, i, 0) // null, or the syntax error
	}
	if err != nil {
		return err
	}
	if skipSpace(doc, end) != len(doc) {
		return &syntaxError{"data after the top-level value", end}
	}
	return nil
}

// elements scans the array (or null) at data[at], handing each element's
// bytes to keep; any other value is an error.
func elements(data []byte, at, depth int, keep func(value []byte) error) (int, error) {
	switch {
	case at < len(data) && data[at] == '[':
		return scanArray(data, at, depth+1, func(data []byte, at, depth int) (int, error) {
			return rawValue(data, at, depth, keep)
		})
	case at < len(data) && data[at] == 'n':
		return scanLiteral(data, at, "null")
	}
	end, err := scanValue(data, at, depth)
	if err == nil {
		err = errors.New("not a JSON array")
	}
	return end, err
}

// rawElements scans the array (or null) at data[at] into raw elements that
// alias data, as json.Unmarshal fills a []json.RawMessage: null is nil, []
// is empty.
func rawElements(data []byte, at, depth int, out *[]json.RawMessage) (int, error) {
	if isNullAt(data, at) {
		*out = nil
		return scanLiteral(data, at, "null")
	}
	items := make([]json.RawMessage, 0, 100)
	end, err := elements(data, at, depth, func(v []byte) error {
		items = append(items, v)
		return nil
	})
	*out = items
	return end, err
}

// decodeKey turns a member name's raw bytes into the string json.Unmarshal
// would: escapes resolved, invalid UTF-8 replaced.
func decodeKey(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var s string
	_ = json.Unmarshal(quoted, &s) // validated by scanString
	return s
}

func isNull(value []byte) bool { return string(value) == "null" }

// decodeString reads a validated JSON value into a string as json.Unmarshal
// does (null leaves it unchanged), without the library for plain strings.
func decodeString(value []byte, out *string) error {
	if len(value) >= 2 && value[0] == '"' {
		inner := value[1 : len(value)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			*out = string(inner)
			return nil
		}
	}
	return json.Unmarshal(value, out)
}

// decodeBody is rawIssue's decoding: id, key and changelog decoded, the
// fields split into their raw values, as json.Unmarshal would fill it.
// raw must be valid JSON, as the page split that cut it out of a search
// page guarantees: field values are skipped without validating them again,
// and the values the adapter reads are validated when they are decoded.
func (is *rawIssue) decodeBody(raw []byte) error {
	*is = rawIssue{}
	return eachRawMember(raw, func(key, data []byte, at, depth int) (int, error) {
		return is.member(key, data, at, depth, false)
	})
}

// splitValidating is decodeBody for the issue at data[at] of a page being
// validated: the same split in the walk that validates it. An issue that
// is neither an object nor null gives errNotObject; a syntax error is a
// *syntaxError.
func (is *rawIssue) splitValidating(data []byte, at, depth int) (int, error) {
	*is = rawIssue{}
	if isNullAt(data, at) { // an issue without members, as in decodeBody
		return scanLiteral(data, at, "null")
	}
	if at >= len(data) || data[at] != '{' {
		return at, errNotObject
	}
	return scanObject(data, at, depth+1, func(key, data []byte, at, depth int) (int, error) {
		return is.member(key, data, at, depth, true)
	})
}

// member decodes one member of an issue; validate says whether the bytes
// of the field values, which it only splits, still need validating.
func (is *rawIssue) member(key, data []byte, at, depth int, validate bool) (int, error) {
	if bytes.IndexByte(key, '\\') >= 0 || !isASCIIOrValid(key) {
		key = []byte(decodeKey(key))
	}
	switch {
	case keyIs(key, "id"):
		return rawValue(data, at, depth, func(v []byte) error { return decodeString(v, &is.ID) })
	case keyIs(key, "key"):
		return rawValue(data, at, depth, func(v []byte) error { return decodeString(v, &is.Key) })
	case keyIs(key, "changelog"):
		return rawValue(data, at, depth, func(v []byte) error { return unmarshalTrusted(v, &is.Changelog) })
	case keyIs(key, "fields"):
		return is.scanFields(data, at, depth, validate)
	}
	return scanValue(data, at, depth)
}

// keyIs matches a decoded member name to a field's JSON name as foldEq.
func keyIs(key []byte, name string) bool {
	return string(key) == name || bytes.EqualFold(key, []byte(name))
}

func (is *rawIssue) scanFields(data []byte, at, depth int, validate bool) (int, error) {
	switch {
	case at < len(data) && data[at] == '{':
		if is.Fields == nil { // a repeated "fields" adds to the first, as in encoding/json
			is.Fields = takeFieldMap()
		}
		return scanObject(data, at, depth+1, func(key, data []byte, at, depth int) (int, error) {
			end := 0
			if validate {
				var err error
				if end, err = scanValue(data, at, depth); err != nil {
					return end, err
				}
			} else {
				end = skipValid(data, at)
			}
			is.Fields[fieldNames.intern(key)] = data[at:end]
			return end, nil
		})
	case at < len(data) && data[at] == 'n':
		giveFieldMap(is.Fields)
		is.Fields = nil
		return scanLiteral(data, at, "null")
	}
	end, err := scanValue(data, at, depth)
	if err == nil {
		err = errors.New("fields is not an object")
	}
	return end, err
}

// splitIssues is rawElements for the issues of a search page, cutting each
// into its fields in the walk that validates it and handing the pieces to
// Decode in parsed (api.Page.Parsed): walking every issue a second time to
// split it was a fifth of decoding a page. An issue of a shape decodeIssue
// rejects (not an object, fields not an object) gets nil, and Decode meets
// the error itself.
func splitIssues(data []byte, at, depth int, issues *[]json.RawMessage, parsed *[]any) (int, error) {
	if isNullAt(data, at) {
		*issues, *parsed = nil, nil
		return scanLiteral(data, at, "null")
	}
	if at >= len(data) || data[at] != '[' {
		end, err := scanValue(data, at, depth)
		if err == nil {
			err = errors.New("not a JSON array")
		}
		return end, err
	}
	items, parts := make([]json.RawMessage, 0, 100), make([]any, 0, 100)
	end, err := scanArray(data, at, depth+1, func(data []byte, at, depth int) (int, error) {
		is := &rawIssue{}
		end, err := is.splitValidating(data, at, depth)
		var syntax *syntaxError
		switch {
		case errors.As(err, &syntax):
			return end, err
		case err != nil:
			giveFieldMap(is.Fields)
			if end, err = scanValue(data, at, depth); err != nil {
				return end, err
			}
			items, parts = append(items, data[at:end]), append(parts, nil)
			return end, nil
		}
		items, parts = append(items, data[at:end]), append(parts, is)
		return end, nil
	})
	*issues, *parsed = items, parts
	return end, err
}

// interner hands out one string per distinct field name, so splitting a
// hundred thousand issues does not allocate the same few names a million
// times. It holds at most maxInterned names; past that it allocates.
type interner struct {
	mu    sync.RWMutex
	names map[string]string
}

const maxInterned = 4096

var fieldNames = &interner{names: map[string]string{}}

func (n *interner) intern(raw []byte) string {
	if bytes.IndexByte(raw, '\\') >= 0 || !isASCIIOrValid(raw) {
		return decodeKey(raw)
	}
	n.mu.RLock()
	name, ok := n.names[string(raw)]
	n.mu.RUnlock()
	if ok {
		return name
	}
	name = string(raw)
	n.mu.Lock()
	if len(n.names) < maxInterned {
		n.names[name] = name
	}
	n.mu.Unlock()
	return name
}

// DecodeBody splits a Cloud search page into its raw issues without
// copying them (api.BodyDecoder).
func (p *searchJQLPage) DecodeBody(body []byte) error { return p.decodeBody(body, nil) }

// decodeBody is DecodeBody that, given parsed, also splits each issue into
// it (splitIssues).
func (p *searchJQLPage) decodeBody(body []byte, parsed *[]any) error {
	*p = searchJQLPage{}
	return eachMember(body, func(key string, data []byte, at, depth int) (int, error) {
		switch {
		case foldEq(key, "issues") && parsed != nil:
			return splitIssues(data, at, depth, &p.Issues, parsed)
		case foldEq(key, "issues"):
			return rawElements(data, at, depth, &p.Issues)
		case foldEq(key, "nextPageToken"):
			return rawValue(data, at, depth, func(v []byte) error { return decodeString(v, &p.NextPageToken) })
		case foldEq(key, "isLast"):
			return rawValue(data, at, depth, func(v []byte) error { return json.Unmarshal(v, &p.IsLast) })
		}
		return scanValue(data, at, depth)
	})
}

// DecodeBody splits a Data Center search page into its raw issues without
// copying them (api.BodyDecoder).
func (p *searchPage) DecodeBody(body []byte) error { return p.decodeBody(body, nil) }

// decodeBody is DecodeBody that, given parsed, also splits each issue into
// it (splitIssues).
func (p *searchPage) decodeBody(body []byte, parsed *[]any) error {
	*p = searchPage{}
	return eachMember(body, func(key string, data []byte, at, depth int) (int, error) {
		switch {
		case foldEq(key, "issues") && parsed != nil:
			return splitIssues(data, at, depth, &p.Issues, parsed)
		case foldEq(key, "issues"):
			return rawElements(data, at, depth, &p.Issues)
		case foldEq(key, "startAt"):
			return rawValue(data, at, depth, func(v []byte) error { return json.Unmarshal(v, &p.StartAt) })
		case foldEq(key, "maxResults"):
			return rawValue(data, at, depth, func(v []byte) error { return json.Unmarshal(v, &p.MaxResults) })
		case foldEq(key, "total"):
			return rawValue(data, at, depth, func(v []byte) error { return json.Unmarshal(v, &p.Total) })
		}
		return scanValue(data, at, depth)
	})
}

// foldEq matches a member name to a field's JSON name as encoding/json
// does: exactly or case-insensitively (Unicode simple folding).
func foldEq(key, name string) bool { return key == name || strings.EqualFold(key, name) }

// DecodeBody decodes a changelog bulkfetch answer with unmarshalFast
// (api.BodyDecoder): a thousand tickets' histories per call.
func (r *bulkChangelogResponse) DecodeBody(body []byte) error { return unmarshalFast(body, r) }
