package jira

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// unmarshalFast is json.Unmarshal for the adapter's own response types,
// several times faster: it walks the document once with the byte scanner
// of jsonscan.go and fills structs, pointers, slices, strings, numbers and
// bools directly. Anything else — a value of an unexpected JSON type, a
// string with escapes, a map, an interface, a type with its own
// UnmarshalText — is handed to json.Unmarshal for that value alone, so the
// result and the errors are the library's. The one difference: the library
// goes on after a type error and reports it at the end, this stops at it;
// both fail. FuzzUnmarshalFast holds it to json.Unmarshal.
func unmarshalFast(data []byte, v any) error { return unmarshalWith(data, v, false) }

// unmarshalTrusted is unmarshalFast for data already validated, such as a
// field of an issue a search page's DecodeBody split: values the target has
// no field for are skipped, and objects, arrays and strings walked, without
// validating their bytes again — most of a comment or an SLA is members the
// adapter never reads. On invalid data it fails or decodes something, never
// panicking. FuzzUnmarshalTrusted holds it to json.Unmarshal.
func unmarshalTrusted(data []byte, v any) error { return unmarshalWith(data, v, true) }

func unmarshalWith(data []byte, v any, trusted bool) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return json.Unmarshal(data, v)
	}
	i := skipSpace(data, 0)
	end, err := decoderFor(rv.Type().Elem(), trusted)(data, i, 0, rv.Elem())
	if err != nil {
		return err
	}
	if skipSpace(data, end) != len(data) {
		return &syntaxError{"data after the top-level value", end}
	}
	return nil
}

// valueDecoder decodes the value at data[at] into v (addressable) and
// returns the offset just after it.
type valueDecoder func(data []byte, at, depth int, v reflect.Value) (int, error)

// decoderKey is a type and whether its documents are validated already.
type decoderKey struct {
	t       reflect.Type
	trusted bool
}

var (
	decoders        sync.Map // decoderKey → valueDecoder, finished ones
	buildMu         sync.Mutex
	building        = map[decoderKey]bool{} // under buildMu
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

	errNotAddressable = errors.New("decode into a value that is not addressable")
)

func decoderFor(t reflect.Type, trusted bool) valueDecoder {
	if d, ok := decoders.Load(decoderKey{t, trusted}); ok {
		return d.(valueDecoder)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	return decoderLocked(t, trusted)
}

// decoderLocked builds t's decoder and those of the types it contains.
func decoderLocked(t reflect.Type, trusted bool) valueDecoder {
	key := decoderKey{t, trusted}
	if d, ok := decoders.Load(key); ok {
		return d.(valueDecoder)
	}
	if building[key] {
		// A recursive type reaches itself: look the finished decoder up
		// when it runs.
		return func(data []byte, at, depth int, v reflect.Value) (int, error) {
			return decoderFor(t, trusted)(data, at, depth, v)
		}
	}
	building[key] = true
	defer delete(building, key)
	d := buildDecoder(t, trusted)
	decoders.Store(key, d)
	return d
}

func buildDecoder(t reflect.Type, trusted bool) valueDecoder {
	end := scanValue
	if trusted {
		end = skipTrusted
	}
	library := libraryDecoder(end)
	if t.Kind() != reflect.Pointer {
		pt := reflect.PointerTo(t)
		if trusted && pt.Implements(trustedDecoderType) {
			return decodeSelfTrusted
		}
		if pt.Implements(jsonUnmarshaler) {
			return unmarshalerDecoder(end)
		}
		if pt.Implements(textUnmarshaler) {
			return library
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return pointerDecoder(t, trusted)
	case reflect.String:
		if trusted {
			return decodeTrustedString
		}
		return decodeStringValue
	case reflect.Bool:
		return decodeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decodeInt
	case reflect.Float32, reflect.Float64:
		return decodeFloat
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return library // base64
		}
		return sliceDecoder(t, trusted)
	case reflect.Struct:
		return structDecoder(t, trusted, end)
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Key() == reflect.TypeFor[string]() {
			return mapDecoder(t, trusted)
		}
	}
	return library
}

// trustedDecoder is a type that decodes itself from a validated document at
// an offset and returns the offset after its value, in the walk that finds
// that end: given one, a trusted decoder calls it instead of skipping the
// value to hand it to UnmarshalJSON, which walked it a second time. Its
// UnmarshalJSON must decode the same.
type trustedDecoder interface {
	decodeTrusted(data []byte, at int) (int, error)
}

var trustedDecoderType = reflect.TypeFor[trustedDecoder]()

func decodeSelfTrusted(data []byte, at, _ int, v reflect.Value) (int, error) {
	if !v.CanAddr() {
		return at, errNotAddressable
	}
	return v.Addr().Interface().(trustedDecoder).decodeTrusted(data, at)
}

// valueEnd returns the offset just after the value at data[at]: scanValue,
// or skipTrusted for validated documents.
type valueEnd func(data []byte, at, depth int) (int, error)

func skipTrusted(data []byte, at, _ int) (int, error) { return skipValid(data, at), nil }

// decodeWithLibrary hands one value to encoding/json; trustedLibrary too,
// for a validated document.
var (
	decodeWithLibrary = libraryDecoder(scanValue)
	trustedLibrary    = libraryDecoder(skipTrusted)
)

func libraryDecoder(valueEnd valueEnd) valueDecoder { return valueThen(valueEnd, json.Unmarshal) }

// unmarshalerDecoder calls the type's UnmarshalJSON, with null too, as
// encoding/json does for a non-pointer value. Given a trusted document it
// is UnmarshalJSON's to reject what is not valid.
func unmarshalerDecoder(valueEnd valueEnd) valueDecoder {
	return valueThen(valueEnd, func(value []byte, v any) error { return v.(json.Unmarshaler).UnmarshalJSON(value) })
}

// valueThen finds the value's end and hands its bytes and a pointer to v
// to decode.
func valueThen(valueEnd valueEnd, decode func(value []byte, v any) error) valueDecoder {
	return func(data []byte, at, depth int, v reflect.Value) (int, error) {
		end, err := valueEnd(data, at, depth)
		if err != nil {
			return end, err
		}
		if !v.CanAddr() {
			return end, errNotAddressable
		}
		return end, decode(data[at:end], v.Addr().Interface())
	}
}

func isNullAt(data []byte, at int) bool { return at < len(data) && data[at] == 'n' }

func pointerDecoder(t reflect.Type, trusted bool) valueDecoder {
	elem := t.Elem()
	dec := decoderLocked(elem, trusted)
	return func(data []byte, at, depth int, v reflect.Value) (int, error) {
		if isNullAt(data, at) {
			v.SetZero()
			return scanLiteral(data, at, "null")
		}
		if v.IsNil() {
			v.Set(reflect.New(elem))
		}
		return dec(data, at, depth, v.Elem())
	}
}

func decodeStringValue(data []byte, at, depth int, v reflect.Value) (int, error) {
	if at < len(data) && data[at] == '"' {
		end, err := scanString(data, at)
		if err != nil {
			return end, err
		}
		if inner := data[at+1 : end-1]; bytes.IndexByte(inner, '\\') < 0 && isASCIIOrValid(inner) {
			v.SetString(string(inner))
			return end, nil
		}
	}
	return decodeWithLibrary(data, at, depth, v)
}

// decodeTrustedString is decodeStringValue for a validated document: the
// string's end found without checking its bytes.
func decodeTrustedString(data []byte, at, depth int, v reflect.Value) (int, error) {
	if at < len(data) && data[at] == '"' {
		end := skipValidString(data, at)
		if end-at >= 2 && data[end-1] == '"' {
			if inner := data[at+1 : end-1]; bytes.IndexByte(inner, '\\') < 0 && isASCIIOrValid(inner) {
				v.SetString(string(inner))
				return end, nil
			}
		}
		return trustedLibrary(data, at, depth, v)
	}
	return decodeWithLibrary(data, at, depth, v)
}

func decodeBool(data []byte, at, depth int, v reflect.Value) (int, error) {
	if at < len(data) {
		switch data[at] {
		case 't':
			end, err := scanLiteral(data, at, "true")
			if err == nil {
				v.SetBool(true)
			}
			return end, err
		case 'f':
			end, err := scanLiteral(data, at, "false")
			if err == nil {
				v.SetBool(false)
			}
			return end, err
		case 'n':
			return scanLiteral(data, at, "null")
		}
	}
	return decodeWithLibrary(data, at, depth, v)
}

func decodeInt(data []byte, at, depth int, v reflect.Value) (int, error) {
	return decodeNumber(data, at, depth, v, func(text string) bool {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
		return true
	})
}

func decodeFloat(data []byte, at, depth int, v reflect.Value) (int, error) {
	return decodeNumber(data, at, depth, v, func(text string) bool {
		f, err := strconv.ParseFloat(text, v.Type().Bits())
		if err != nil || v.OverflowFloat(f) {
			return false
		}
		v.SetFloat(f)
		return true
	})
}

// decodeNumber decodes a number with set, which reports whether it could;
// null leaves v as it is, and anything else goes to the library.
func decodeNumber(data []byte, at, depth int, v reflect.Value, set func(text string) bool) (int, error) {
	if at < len(data) && (data[at] == '-' || isDigit(data[at])) {
		end, err := scanNumber(data, at)
		if err != nil {
			return end, err
		}
		if set(string(data[at:end])) {
			return end, nil
		}
	} else if isNullAt(data, at) {
		return scanLiteral(data, at, "null")
	}
	return decodeWithLibrary(data, at, depth, v)
}

func sliceDecoder(t reflect.Type, trusted bool) valueDecoder {
	elem := t.Elem()
	dec := decoderLocked(elem, trusted)
	// Lists of one kind tend to be alike in length — one item per
	// changelog history, a thousand histories per bulkfetch answer — so an
	// empty slice starts with room for as many as the last list had: a
	// fixed start both over-allocated the short ones and grew the long ones
	// through every size on the way.
	var typical atomic.Int32
	return func(data []byte, at, depth int, v reflect.Value) (int, error) {
		switch {
		case isNullAt(data, at):
			v.SetZero()
			return scanLiteral(data, at, "null")
		case at < len(data) && data[at] == '[':
			// In place, as encoding/json does: elements already there are
			// decoded into, the length ends at the last one, [] is empty
			// but not nil.
			i := 0
			element := func(data []byte, at, depth int) (int, error) {
				if i >= v.Cap() {
					if v.Cap() == 0 {
						v.Grow(max(1, int(typical.Load())))
					} else {
						v.Grow(1) // amortised doubling
					}
				}
				if i >= v.Len() {
					v.SetLen(i + 1)
				}
				end, err := dec(data, at, depth, v.Index(i))
				i++
				return end, err
			}
			var end int
			var err error
			if trusted {
				end, err = eachTrustedElement(data, at, depth+1, element)
			} else {
				end, err = scanArray(data, at, depth+1, element)
			}
			if err != nil {
				return end, err
			}
			if i < v.Len() {
				v.SetLen(i)
			}
			if i > 0 {
				typical.Store(int32(min(i, 1024))) // one odd huge list costs the next little
			}
			if i == 0 {
				v.Set(reflect.MakeSlice(t, 0, 0))
			}
			return end, nil
		}
		return decodeWithLibrary(data, at, depth, v)
	}
}

// mapDecoder decodes an object into a map[string]V as encoding/json does:
// null makes it nil, a nil map is made, members are added (the last of
// duplicate keys wins), a value is decoded into a fresh V.
func mapDecoder(t reflect.Type, trusted bool) valueDecoder {
	elem := t.Elem()
	dec := decoderLocked(elem, trusted)
	return func(data []byte, at, depth int, v reflect.Value) (int, error) {
		switch {
		case isNullAt(data, at):
			v.SetZero()
			return scanLiteral(data, at, "null")
		case at < len(data) && data[at] == '{':
			if v.IsNil() {
				v.Set(reflect.MakeMap(t))
			}
			value := reflect.New(elem).Elem()
			return scanObject(data, at, depth+1, func(key, data []byte, at, depth int) (int, error) {
				value.SetZero()
				end, err := dec(data, at, depth, value)
				if err != nil {
					return end, err
				}
				v.SetMapIndex(reflect.ValueOf(decodeKey(key)), value)
				return end, nil
			})
		}
		return decodeWithLibrary(data, at, depth, v)
	}
}

// structField is a field as encoding/json names it.
type structField struct {
	name  string
	ascii bool
	index int
	dec   valueDecoder
}

func structDecoder(t reflect.Type, trusted bool, valueEnd valueEnd) valueDecoder {
	var fields []structField
	exact := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous {
			return libraryDecoder(valueEnd) // embedding: the library's rules
		}
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",string,") {
			return libraryDecoder(valueEnd)
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := exact[name]; dup {
			return libraryDecoder(valueEnd)
		}
		exact[name] = len(fields)
		fields = append(fields, structField{name: name, ascii: isASCII([]byte(name)), index: i, dec: decoderLocked(f.Type, trusted)})
	}
	lookup := func(key []byte) *structField {
		if len(fields) <= 8 {
			// Comparing a few names beats hashing the key.
			for i := range fields {
				if fields[i].name == string(key) {
					return &fields[i]
				}
			}
		} else if i, ok := exact[string(key)]; ok {
			return &fields[i]
		}
		// Most keys are members the type has no field for; an ASCII key
		// folds to an ASCII name only of its length.
		asciiKey := isASCII(key)
		for i := range fields {
			f := &fields[i]
			if asciiKey && f.ascii && len(f.name) != len(key) {
				continue
			}
			if bytes.EqualFold([]byte(f.name), key) {
				return f
			}
		}
		return nil
	}
	return func(data []byte, at, depth int, v reflect.Value) (int, error) {
		switch {
		case isNullAt(data, at):
			return scanLiteral(data, at, "null")
		case at < len(data) && data[at] == '{' && trusted:
			return eachTrustedMember(data, at, func(key []byte, at int) (int, error) {
				if f := lookup(key); f != nil {
					return f.dec(data, at, depth+1, v.Field(f.index))
				}
				return skipValid(data, at), nil
			})
		case at < len(data) && data[at] == '{':
			return scanObject(data, at, depth+1, func(key, data []byte, at, depth int) (int, error) {
				if bytes.IndexByte(key, '\\') >= 0 || !isASCIIOrValid(key) {
					key = []byte(decodeKey(key))
				}
				f := lookup(key)
				if f == nil {
					return valueEnd(data, at, depth)
				}
				return f.dec(data, at, depth, v.Field(f.index))
			})
		}
		return decodeWithLibrary(data, at, depth, v)
	}
}

// eachTrustedElement walks the array at data[at] == '[' of a validated
// document as scanArray does, as eachTrustedMember walks an object.
func eachTrustedElement(data []byte, at, depth int, element visitFunc) (int, error) {
	i := skipSpace(data, at+1)
	for i < len(data) && data[i] != ']' {
		end, err := element(data, i, depth)
		if err != nil || end <= i {
			return end, cmp.Or(err, errMalformed)
		}
		if i = skipSpace(data, end); i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		} else {
			break
		}
	}
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	return i, errMalformed
}

// errMalformed is a trusted document that is not valid JSON after all.
var errMalformed = errors.New("malformed JSON in a document taken as validated")

// eachTrustedMember walks the object at data[at] == '{' of a validated
// document as scanObject does, without checking what validation already
// did: member gets each key (escapes resolved) and the offset of its value,
// and returns the offset after it. On invalid data it fails or walks
// something, never panicking.
func eachTrustedMember(data []byte, at int, member func(key []byte, at int) (int, error)) (int, error) {
	i := skipSpace(data, at+1)
	for i < len(data) && data[i] == '"' {
		keyEnd := skipValidString(data, i)
		key := data[i+1 : max(i+1, keyEnd-1)]
		if bytes.IndexByte(key, '\\') >= 0 || !isASCIIOrValid(key) {
			key = []byte(decodeKey(key))
		}
		if i = skipSpace(data, keyEnd); i < len(data) && data[i] == ':' {
			i = skipSpace(data, i+1)
		}
		if i >= len(data) {
			break
		}
		end, err := member(key, i)
		if err != nil || end <= i {
			return end, cmp.Or(err, errMalformed)
		}
		if i = skipSpace(data, end); i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	return i, errMalformed
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// isASCIIOrValid reports text encoding/json would keep byte for byte.
func isASCIIOrValid(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return utf8.Valid(b)
		}
	}
	return true
}
