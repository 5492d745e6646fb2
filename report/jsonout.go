package report

import (
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/calipath/calipath/internal/decimal"
	"github.com/calipath/calipath/internal/safetext"
)

// jsonEnc writes JSON as it goes, indented while writing: the bytes are those of encoding/json's
// Encoder with SetIndent("", "  ") passed through safetext.JSON, but no document is built in memory
// and indentation takes no second pass. Values are walked by reflection with a cached plan per struct
// type, so a field added to a Result type is written without a change here (but for the flows and
// journeys, which typed writers write: jsonflow.go and jsonjourney.go, held to this one by a test);
// what the plan does not cover (a type with its own MarshalJSON or MarshalText, an embedded field, a
// ",string" option, a map not keyed by strings, a byte slice) is handed to encoding/json itself,
// indented at its depth.
//
// Output collects in buf and goes to w in large writes, each a whole number of jsonWriteUnit but the
// last, so that a file written from its start is written in aligned blocks (see jsonWriteUnit); the
// first write error, or a value JSON cannot hold (NaN, an infinity), stops the writing and is kept in
// err.
type jsonEnc struct {
	w     io.Writer
	buf   []byte
	depth int
	err   error
	names *nameQuotes // the quoted names of capture points and files (nil until the first)
	flowT *flowTmpl   // the flows' fixed bytes at the depth they were last written at (nil until the first)
	// likewise the journeys'
	journeyT *journeyTmpl
	par      jsonPar // how long lists are formatted on more than one core
}

// jsonWriteUnit is what every write but the last is a whole number of: the kernel puts a write that
// begins and ends on such a boundary of a new file into the page cache in large blocks, for little
// more than half the system time of writes that straddle pages (measured on Linux 6.18, ext4, 310 MB
// in writes of a little over 64 KiB, at any offset: 0.16 s; in 128 KiB units: 0.09 s; in 64 KiB
// units: 0.10 s); larger units saved 0.02 s more at best and sometimes cost the kernel far more, in
// finding room for the larger blocks.
const jsonWriteUnit = 128 << 10

func newJSONEnc(w io.Writer) *jsonEnc {
	return &jsonEnc{w: w, buf: make([]byte, 0, jsonWriteUnit+8<<10)}
}

// flush writes the whole units buf holds, keeping the rest, or, when force, all it holds.
// A worker's encoder (no w) keeps what it formats.
func (e *jsonEnc) flush(force bool) {
	if e.w == nil {
		return
	}
	if e.err != nil {
		e.buf = e.buf[:0]
		return
	}
	n := len(e.buf)
	if !force {
		n -= n % jsonWriteUnit
	}
	if n == 0 {
		return
	}
	_, e.err = e.w.Write(e.buf[:n])
	e.buf = e.buf[:copy(e.buf, e.buf[n:])]
}

// write writes p after what buf holds, as flush does: buf is made up to a whole unit from p's first
// bytes and written, the whole units of the rest are written from p itself, and what is left over
// is kept in buf.
func (e *jsonEnc) write(p []byte) {
	if e.err != nil {
		return
	}
	if len(e.buf) > 0 {
		k := min(len(p), (jsonWriteUnit-len(e.buf)%jsonWriteUnit)%jsonWriteUnit)
		e.buf = append(e.buf, p[:k]...)
		p = p[k:]
		if e.flush(false); len(e.buf) > 0 || e.err != nil {
			return // p is all in buf
		}
	}
	if n := len(p) - len(p)%jsonWriteUnit; n > 0 {
		if _, e.err = e.w.Write(p[:n]); e.err != nil {
			return
		}
		p = p[n:]
	}
	e.buf = append(e.buf, p...)
}

// newline starts a line at the current depth.
func (e *jsonEnc) newline() {
	if n := 1 + 2*e.depth; n <= len(jsonIndent) {
		e.buf = append(e.buf, jsonIndent[:n]...)
		return
	}
	e.buf = append(e.buf, '\n')
	for range e.depth {
		e.buf = append(e.buf, ' ', ' ')
	}
}

// jsonIndent is a line break and the indentation of the depths most lines are at, to slice from.
const jsonIndent = "\n" + "                                                                " // 32 levels

// list writes the opening of a list or object ('[' or '{') before its first member, or a comma
// before a later one, and the member's line; first says which.
func (e *jsonEnc) member(open byte, first bool) {
	switch {
	case first:
		e.buf = append(e.buf, open)
		e.depth++
	case 2+2*e.depth <= len(jsonComma): // the comma, line break and indentation in one
		e.buf = append(e.buf, jsonComma[:2+2*e.depth]...)
		return
	default:
		e.buf = append(e.buf, ',')
	}
	e.newline()
}

// jsonComma is a comma before jsonIndent.
const jsonComma = "," + jsonIndent

// end closes a list or object of n members: "[]" or "{}" when it had none.
func (e *jsonEnc) end(open, close byte, n int) {
	if n == 0 {
		e.buf = append(e.buf, open, close)
		return
	}
	e.depth--
	e.newline()
	e.buf = append(e.buf, close)
	e.flush(false)
}

// key writes a member's quoted name and the colon (a plan's keys are written ahead).
func (e *jsonEnc) key(quoted string) { e.buf = append(e.buf, quoted...) }

// value writes v.
func (e *jsonEnc) value(v reflect.Value) {
	if e.err != nil {
		return
	}
	if t := v.Type(); t.PkgPath() != "" && t.Kind() != reflect.Struct && customType(t) {
		e.fallback(v) // a named type with its own marshalling
		return
	}
	switch v.Kind() {
	case reflect.String:
		e.buf = safetext.AppendJSONString(e.buf, v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = decimal.AppendInt(e.buf, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = decimal.AppendUint(e.buf, v.Uint())
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Float32, reflect.Float64:
		e.float(v.Float(), v.Type().Bits())
	case reflect.Struct:
		e.structValue(v)
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			e.fallback(v) // base64
			return
		}
		e.sliceValue(v)
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return
		}
		e.value(v.Elem())
	case reflect.Map:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return
		}
		e.mapValue(v)
	default:
		e.fallback(v)
	}
}

func (e *jsonEnc) sliceValue(v reflect.Value) {
	n := v.Len()
	for i := range n {
		e.member('[', i == 0)
		e.value(v.Index(i))
	}
	e.end('[', ']', n)
}

func (e *jsonEnc) mapValue(v reflect.Value) {
	if kt := v.Type().Key(); kt.Kind() != reflect.String || (kt.PkgPath() != "" && customType(kt)) {
		e.fallback(v)
		return
	}
	keys := make([]string, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		keys = append(keys, it.Key().String())
	}
	sort.Strings(keys) // encoding/json sorts map keys
	for i, k := range keys {
		e.member('{', i == 0)
		e.buf = safetext.AppendJSONString(e.buf, k)
		e.buf = append(e.buf, ':', ' ')
		e.value(v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())))
	}
	e.end('{', '}', len(keys))
}

func (e *jsonEnc) structValue(v reflect.Value) {
	pl := planOf(v.Type())
	if pl.fallback {
		e.fallback(v)
		return
	}
	n := 0
	for i := range pl.fields {
		n = e.field(&pl.fields[i], v.Field(pl.fields[i].index), n)
	}
	e.end('{', '}', n)
}

// field writes struct field f (value fv) as the object's member after n others, unless omitempty
// leaves it out, and returns how many members the object has then.
func (e *jsonEnc) field(f *planField, fv reflect.Value, n int) int {
	if f.omitEmpty && emptyValue(fv) {
		return n
	}
	e.member('{', n == 0)
	e.key(f.key)
	e.value(fv)
	return n + 1
}

// float writes f as encoding/json does: %f between 1e-6 and 1e21, else %e with a short exponent.
func (e *jsonEnc) float(f float64, bits int) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.err = fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, bits))
		return
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, bits)
	if format == 'e' { // e-09 → e-9
		if n := len(e.buf); n >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
			e.buf[n-2] = e.buf[n-1]
			e.buf = e.buf[:n-1]
		}
	}
}

// fallback writes v with encoding/json, indented at the current depth, through safetext.JSON.
func (e *jsonEnc) fallback(v reflect.Value) {
	b, err := json.MarshalIndent(v.Interface(), strings.Repeat("  ", e.depth), "  ")
	if err != nil {
		e.err = err
		return
	}
	e.buf = append(e.buf, safetext.JSON(b)...)
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

var customTypes sync.Map // reflect.Type → bool

// customType reports whether t, or a pointer to it, has its own MarshalJSON or MarshalText.
func customType(t reflect.Type) bool {
	if c, ok := customTypes.Load(t); ok {
		return c.(bool)
	}
	pt := reflect.PointerTo(t)
	c := t.Implements(jsonMarshaler) || t.Implements(textMarshaler) || pt.Implements(jsonMarshaler) || pt.Implements(textMarshaler)
	customTypes.Store(t, c)
	return c
}

// emptyValue is encoding/json's omitempty test.
func emptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// plan is how a struct type is written: its members in order, each with its quoted key.
type plan struct {
	fields   []planField
	fallback bool // encoding/json writes the type (see jsonEnc)
}

type planField struct {
	name      string // the Go field's name
	key       string // `"name": `
	index     int
	omitEmpty bool
}

var plans sync.Map // reflect.Type → *plan

func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := &plan{fallback: customType(t)}
	for i := 0; i < t.NumField() && !p.fallback; i++ {
		sf := t.Field(i)
		if sf.Anonymous {
			p.fallback = true
			break
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !validTagName(name) {
			name = ""
		}
		if name == "" {
			name = sf.Name
		}
		f := planField{name: sf.Name, index: i}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty":
				f.omitEmpty = true
			case "string", "omitzero":
				p.fallback = true
			}
		}
		f.key = string(safetext.AppendJSONString(nil, name)) + ": "
		p.fields = append(p.fields, f)
	}
	plans.Store(t, p)
	return p
}

// validTagName is encoding/json's test of a tag's name (a name it rejects leaves the field's own).
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c > 127):
			return false
		}
	}
	return true
}
