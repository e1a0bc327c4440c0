package jira

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
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
func unmarshalFast(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return json.Unmarshal(data, v)
	}
	i := skipSpace(data, 0)
	end, err := decoderFor(rv.Type().Elem())(data, i, 0, rv.Elem())
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

var (
	decoders        sync.Map // reflect.Type → valueDecoder, finished ones
	buildMu         sync.Mutex
	building        = map[reflect.Type]bool{} // under buildMu
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

	errNotAddressable = errors.New("decode into a value that is not addressable")
)

func decoderFor(t reflect.Type) valueDecoder {
	if d, ok := decoders.Load(t); ok {
		return d.(valueDecoder)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	return decoderLocked(t)
}

// decoderLocked builds t's decoder and those of the types it contains.
func decoderLocked(t reflect.Type) valueDecoder {
	if d, ok := decoders.Load(t); ok {
		return d.(valueDecoder)
	}
	if building[t] {
		// A recursive type reaches itself: look the finished decoder up
		// when it runs.
		return func(data []byte, at, depth int, v reflect.Value) (int, error) {
			return decoderFor(t)(data, at, depth, v)
		}
	}
	building[t] = true
	defer delete(building, t)
	d := buildDecoder(t)
	decoders.Store(t, d)
	return d
}

func buildDecoder(t reflect.Type) valueDecoder {
	if t.Kind() != reflect.Pointer {
		pt := reflect.PointerTo(t)
		if pt.Implements(jsonUnmarshaler) {
			return decodeUnmarshaler
		}
		if pt.Implements(textUnmarshaler) {
			return decodeWithLibrary
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return pointerDecoder(t)
	case reflect.String:
		return decodeStringValue
	case reflect.Bool:
		return decodeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decodeInt
	case reflect.Float32, reflect.Float64:
		return decodeFloat
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return decodeWithLibrary // base64
		}
		return sliceDecoder(t)
	case reflect.Struct:
		return structDecoder(t)
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Key() == reflect.TypeFor[string]() {
			return mapDecoder(t)
		}
	}
	return decodeWithLibrary
}

// decodeWithLibrary hands one value to encoding/json.
func decodeWithLibrary(data []byte, at, depth int, v reflect.Value) (int, error) {
	end, err := scanValue(data, at, depth)
	if err != nil {
		return end, err
	}
	if !v.CanAddr() {
		return end, errNotAddressable
	}
	return end, json.Unmarshal(data[at:end], v.Addr().Interface())
}

// decodeUnmarshaler calls the type's UnmarshalJSON, with null too, as
// encoding/json does for a non-pointer value.
func decodeUnmarshaler(data []byte, at, depth int, v reflect.Value) (int, error) {
	end, err := scanValue(data, at, depth)
	if err != nil {
		return end, err
	}
	if !v.CanAddr() {
		return end, errNotAddressable
	}
	return end, v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(data[at:end])
}

func isNullAt(data []byte, at int) bool { return at < len(data) && data[at] == 'n' }

func pointerDecoder(t reflect.Type) valueDecoder {
	elem := t.Elem()
	dec := decoderLocked(elem)
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

func sliceDecoder(t reflect.Type) valueDecoder {
	elem := t.Elem()
	dec := decoderLocked(elem)
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
			end, err := scanArray(data, at, depth+1, func(data []byte, at, depth int) (int, error) {
				if i >= v.Cap() {
					// From empty, room for a few at once: lists of
					// comments, cycles and histories are short, and
					// growing one by one allocated each size on the way.
					v.Grow(max(1, 4-v.Cap()))
				}
				if i >= v.Len() {
					v.SetLen(i + 1)
				}
				end, err := dec(data, at, depth, v.Index(i))
				i++
				return end, err
			})
			if err != nil {
				return end, err
			}
			if i < v.Len() {
				v.SetLen(i)
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
func mapDecoder(t reflect.Type) valueDecoder {
	elem := t.Elem()
	dec := decoderLocked(elem)
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
	index int
	dec   valueDecoder
}

func structDecoder(t reflect.Type) valueDecoder {
	var fields []structField
	exact := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous {
			return decodeWithLibrary // embedding: the library's rules
		}
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",string,") {
			return decodeWithLibrary
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := exact[name]; dup {
			return decodeWithLibrary
		}
		exact[name] = len(fields)
		fields = append(fields, structField{name: name, index: i, dec: decoderLocked(f.Type)})
	}
	lookup := func(key []byte) (structField, bool) {
		if len(fields) <= 8 {
			// Comparing a few names beats hashing the key.
			for _, f := range fields {
				if f.name == string(key) {
					return f, true
				}
			}
		} else if i, ok := exact[string(key)]; ok {
			return fields[i], true
		}
		for _, f := range fields {
			if bytes.EqualFold([]byte(f.name), key) {
				return f, true
			}
		}
		return structField{}, false
	}
	return func(data []byte, at, depth int, v reflect.Value) (int, error) {
		switch {
		case isNullAt(data, at):
			return scanLiteral(data, at, "null")
		case at < len(data) && data[at] == '{':
			return scanObject(data, at, depth+1, func(key, data []byte, at, depth int) (int, error) {
				if bytes.IndexByte(key, '\\') >= 0 || !isASCIIOrValid(key) {
					key = []byte(decodeKey(key))
				}
				f, ok := lookup(key)
				if !ok {
					return scanValue(data, at, depth)
				}
				return f.dec(data, at, depth, v.Field(f.index))
			})
		}
		return decodeWithLibrary(data, at, depth, v)
	}
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
