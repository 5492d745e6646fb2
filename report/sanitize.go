package report

import (
	"reflect"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/safetext"
)

// sanitized returns a deep copy of res in which every string has its control characters, escape
// sequences and non-UTF-8 bytes shown as visible escapes (safetext.Clean). The copy shares res's compact journey state,
// so FlowJourneys still works on it.
func sanitized(res *correlate.Result) *correlate.Result {
	cp := *res
	v := reflect.ValueOf(&cp).Elem()
	t := v.Type()
	for i := 0; i < v.NumField(); i++ {
		if t.Field(i).IsExported() {
			v.Field(i).Set(cleanValue(v.Field(i)))
		}
	}
	return &cp
}

// cleanValue returns a copy of v with clean applied to every string it holds.
func cleanValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		return reflect.ValueOf(safetext.Clean(v.String())).Convert(v.Type())
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(cleanValue(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(cleanValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			out.SetMapIndex(cleanValue(k), cleanValue(v.MapIndex(k)))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(cleanValue(v.Elem()))
		return out
	}
	return v
}

// sanitizedJourneys returns journeys with every string cleaned as sanitized does: journeys rendered
// on demand from a Result's compact state carry the captures' names as they were.
func sanitizedJourneys(js []correlate.Journey) []correlate.Journey {
	return cleanValue(reflect.ValueOf(js)).Interface().([]correlate.Journey)
}
