package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// recordSeeds are records at the edges of encoding/json's rules: empty and
// nil slices, omitted zeros, strings it escapes, floats in both notations.
func recordSeeds() []record {
	return []record{
		{},
		{Updated: 1767225600000, Tuples: [][]string{}, History: historyRec{Created: -1}},
		{Updated: 1, Tuples: [][]string{{"IT", "Get IT help", "High"}, {"HR"}, nil, {}}, Current: 1, Gone: true,
			State:   &stateRec{Category: "indeterminate", Awaiting: true, Assigned: true, SLAs: []slaRec{{Name: "Time to first response", Breached: true, BreachAt: 5, Goal: 14400000, Paused: true}, {}}},
			History: historyRec{Created: 2, Categories: []catRec{{At: 3, Category: "new"}, {}}, FirstResponse: 4},
			Ledger: []entry{{ID: "created", Kind: ticket.EventCreated, At: 2}, {ID: "r1", Kind: ticket.EventResolved, At: 9, Labels: 1, Value: 3600.5, SLA: "x", Breach: true},
				{Value: 1e-7}, {Value: 1e21}, {Value: -2.5e-9}, {Value: 123456789012345678}, {Value: 5}}},
		{Tuples: [][]string{{`quote " and \ back`, "<tag>&amp;", "ünïcödé", "\x01ctl", "\u2028", "\xff bad"}}, State: &stateRec{}},
	}
}

func TestRecordEncodingIsTheLibrarys(t *testing.T) {
	for i, r := range recordSeeds() {
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendRecord(nil, &r)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("record %d:\n got %s (%v)\nwant %s", i, got, err, want)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		r := record{Ledger: []entry{{Value: v}}}
		if _, err := appendRecord(nil, &r); err == nil {
			t.Errorf("value %v encoded; json.Marshal refuses it", v)
		}
	}
}

// FuzzRecordEncoding: whatever record a stored JSON document decodes to
// encodes to the same bytes both ways.
func FuzzRecordEncoding(f *testing.F) {
	for _, r := range recordSeeds() {
		b, _ := json.Marshal(&r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var r record
		if json.Unmarshal(doc, &r) != nil {
			return
		}
		want, wantErr := json.Marshal(&r)
		got, gotErr := appendRecord(nil, &r)
		if (wantErr == nil) != (gotErr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("record from %q:\n got %s (%v)\nwant %s (%v)", doc, got, gotErr, want, wantErr)
		}
	})
}

// TestRecordEncodingCoversEveryField fills every field of a record, at any
// depth, with a value that is not zero: a field added to the record types
// and not to appendRecord makes the two encodings differ here.
func TestRecordEncodingCoversEveryField(t *testing.T) {
	var r record
	fillNonZero(reflect.ValueOf(&r).Elem(), 0)
	want, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendRecord(nil, &r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("record with every field set:\n got %s (%v)\nwant %s", got, err, want)
	}
}

func fillNonZero(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillNonZero(v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillNonZero(v.Elem(), depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillNonZero(v.Index(i), depth+1)
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(depth + 1))
	case reflect.Float64:
		v.SetFloat(float64(depth) + 0.5)
	default:
		panic(fmt.Sprintf("fillNonZero: no value for %s", v.Type()))
	}
}
