package store

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// appendRecord appends r as json.Marshal encodes it, byte for byte (the
// stored format does not change: FuzzRecordEncoding compares the two), in
// a fifth of the time: encoding every ticket of a 100k sync through
// reflection was a third of the store's CPU.
func appendRecord(b []byte, r *record) ([]byte, error) {
	b = append(b, `{"u":`...)
	b = strconv.AppendInt(b, r.Updated, 10)
	b = append(b, `,"cl":`...)
	if r.Tuples == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range r.Tuples {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStrings(b, t)
		}
		b = append(b, ']')
	}
	if r.Current != 0 {
		b = append(b, `,"l":`...)
		b = strconv.AppendInt(b, int64(r.Current), 10)
	}
	if r.Gone {
		b = append(b, `,"g":true`...)
	}
	if s := r.State; s != nil {
		b = append(b, `,"s":{"c":`...)
		b = appendString(b, s.Category)
		if s.Awaiting {
			b = append(b, `,"a":true`...)
		}
		if s.Assigned {
			b = append(b, `,"o":true`...)
		}
		if len(s.SLAs) > 0 {
			b = append(b, `,"s":[`...)
			for i, sla := range s.SLAs {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"n":`...)
				b = appendString(b, sla.Name)
				if sla.Breached {
					b = append(b, `,"b":true`...)
				}
				b = appendIntField(b, `,"t":`, sla.BreachAt)
				b = appendIntField(b, `,"g":`, sla.Goal)
				if sla.Paused {
					b = append(b, `,"p":true`...)
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `,"h":{"t":`...)
	b = strconv.AppendInt(b, r.History.Created, 10)
	if len(r.History.Categories) > 0 {
		b = append(b, `,"c":[`...)
		for i, c := range r.History.Categories {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"t":`...)
			b = strconv.AppendInt(b, c.At, 10)
			b = append(b, `,"c":`...)
			b = appendString(b, c.Category)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendIntField(b, `,"f":`, r.History.FirstResponse)
	b = append(b, '}')
	if len(r.Ledger) > 0 {
		b = append(b, `,"e":[`...)
		for i, e := range r.Ledger {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"i":`...)
			b = appendString(b, e.ID)
			b = append(b, `,"k":`...)
			b = appendString(b, string(e.Kind))
			b = append(b, `,"t":`...)
			b = strconv.AppendInt(b, e.At, 10)
			if e.Labels != 0 {
				b = append(b, `,"l":`...)
				b = strconv.AppendInt(b, int64(e.Labels), 10)
			}
			if e.Value != 0 {
				var err error
				b = append(b, `,"v":`...)
				if b, err = appendFloat(b, e.Value); err != nil {
					return nil, err
				}
			}
			if e.SLA != "" {
				b = append(b, `,"n":`...)
				b = appendString(b, e.SLA)
			}
			if e.Breach {
				b = append(b, `,"b":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendIntField appends an omitempty int64 member.
func appendIntField(b []byte, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(append(b, name...), v, 10)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// plainInJSON marks the bytes json.Marshal writes as they are: a table,
// because records are mostly strings and seven comparisons per byte showed.
var plainInJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as json.Marshal does; strings that need escaping
// (quotes, control characters, HTML, anything beyond ASCII) go through it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainInJSON[s[i]] {
			enc, _ := json.Marshal(s) // a string always encodes
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendFloat is encoding/json's float64 encoding.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}
