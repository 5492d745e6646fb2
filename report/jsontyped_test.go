package report

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// fillAll sets every field of v, at any depth, to a value that is not empty (non-zero numbers, true,
// strings from oddStrings, lists of two, pointers to filled values), so that a field the typed writer
// leaves out, or writes under another key or with another omitempty, shows in the output.
func fillAll(t *testing.T, v reflect.Value, seed int) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(oddStrings[seed%len(oddStrings)] + "x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed%100 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(seed%100 + 1))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		for i := range v.NumField() {
			fillAll(t, v.Field(i), seed*7+i+1)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillAll(t, v.Index(i), seed*3+i+1)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(t, v.Elem(), seed+1)
	default:
		t.Fatalf("fillAll: a %s field (%s): teach fillAll and the typed JSON writer its kind", v.Kind(), v.Type())
	}
}

// typedWriter checks that write gives the reflective writer's bytes for x: at depth 2, as a list
// member inside the Result, and at others, one after the other with the same writer (whose
// templates are of one depth at a time).
func typedWriter[T any](t *testing.T, name string, x *T, write func(*jsonEnc, *T)) {
	t.Helper()
	e := newJSONEnc(nil)
	for _, depth := range []int{2, 0, 5, 2} {
		var got, want bytes.Buffer
		e.w, e.depth = &got, depth
		write(e, x)
		e.flush(true)
		r := newJSONEnc(&want)
		r.depth = depth
		r.value(reflect.ValueOf(x).Elem())
		r.flush(true)
		if e.err != nil || r.err != nil {
			t.Fatal(e.err, r.err)
		}
		if e.depth != depth {
			t.Fatalf("%s at depth %d: the writer ends at depth %d", name, depth, e.depth)
		}
		sameJSON(t, fmt.Sprintf("%s at depth %d", name, depth), got.Bytes(), want.Bytes())
	}
}

// TestJSONTypedFields holds the typed writers of flows and journeys to the reflective writer (itself
// held to encoding/json) on values with every field set, with every field empty, and with each
// field alone set: a field added to correlate.Flow, Journey or Hop (or a type they hold) and not to
// its typed writer fails here.
func TestJSONTypedFields(t *testing.T) {
	for seed := range len(oddStrings) {
		var f correlate.Flow
		fillAll(t, reflect.ValueOf(&f).Elem(), seed)
		typedWriter(t, "flow, every field set", &f, writeFlow)
		var j correlate.Journey
		fillAll(t, reflect.ValueOf(&j).Elem(), seed)
		typedWriter(t, "journey, every field set", &j, writeJourney)
	}
	typedWriter(t, "flow, empty", &correlate.Flow{}, writeFlow)
	typedWriter(t, "journey, empty", &correlate.Journey{}, writeJourney)
	typedWriter(t, "journey, empty lists", &correlate.Journey{Hops: []correlate.Hop{{Changes: []string{}}}}, writeJourney)
	typedWriter(t, "flow, empty lists", &correlate.Flow{NAT: []correlate.NATMapping{}, LostAt: []correlate.LostAt{},
		HandshakeRTT: []correlate.PointRTT{}, PerPoint: []correlate.PointCount{}, Path: []string{}}, writeFlow)
	// each field alone, so that an omitempty the typed writer tests on the wrong field shows
	ft := reflect.TypeFor[correlate.Flow]()
	for i := range ft.NumField() {
		var f correlate.Flow
		fillAll(t, reflect.ValueOf(&f).Elem().Field(i), i)
		typedWriter(t, "flow, only "+ft.Field(i).Name, &f, writeFlow)
	}
	ht := reflect.TypeFor[correlate.Hop]()
	for i := range ht.NumField() {
		j := correlate.Journey{Hops: make([]correlate.Hop, 1)}
		fillAll(t, reflect.ValueOf(&j.Hops[0]).Elem().Field(i), i)
		typedWriter(t, "hop, only "+ht.Field(i).Name, &j, writeJourney)
	}
	jt := reflect.TypeFor[correlate.Journey]()
	for i := range jt.NumField() {
		var j correlate.Journey
		fillAll(t, reflect.ValueOf(&j).Elem().Field(i), i)
		typedWriter(t, "journey, only "+jt.Field(i).Name, &j, writeJourney)
	}
}
