package api

import (
	"reflect"
	"testing"
	"time"
)

// FuzzDecodeCursor: a stored cursor of any content either decodes to a state
// that round-trips exactly, or is rejected; never a panic.
func FuzzDecodeCursor(f *testing.F) {
	f.Add([]byte(nil))
	f.Add([]byte(`{"v":1,"phase":"initial","active":true,"after_id":1234,"pass_start":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":1,"phase":"incremental","since":"2026-01-01T00:00:00Z","seen":{"10001":1767225600000}}`))
	f.Add([]byte(`{"v":2,"phase":"initial"}`))
	f.Add([]byte(`{"v":1,"phase":"incremental","seen":{"1":"x"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := DecodeCursor(raw)
		if err != nil {
			return
		}
		again, err := DecodeCursor(c.encode())
		if err != nil {
			t.Fatalf("re-encoded cursor rejected: %v", err)
		}
		if !reflect.DeepEqual(normalizeCursor(c), normalizeCursor(again)) {
			t.Fatalf("cursor does not round-trip:\n%+v\n%+v", c, again)
		}
	})
}

// normalizeCursor drops what JSON cannot carry exactly (monotonic clock
// readings, zone pointers) so round-trips compare by value.
func normalizeCursor(c Cursor) Cursor {
	for _, tp := range []*time.Time{&c.PassStart, &c.PassSince, &c.Since, &c.LastReconcile} {
		*tp = tp.UTC()
	}
	if len(c.Seen) == 0 {
		c.Seen = nil
	}
	return c
}
