package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/internal/safetext"
)

// TestJSONNameCache holds jsonEnc.name to AppendJSONString's bytes over names written again and
// again: the same string, substrings that share its address (one with a length that maps to the
// same slot), names that need escapes, the empty name, and more names than the cache has slots.
func TestJSONNameCache(t *testing.T) {
	long := strings.Repeat("node-1/cali0123456789", 20) // 420 bytes
	names := []string{long[:5], long[:5+nameSlots], long, long[:5], "", `a"b\c<d>`, "pöd/\u2028x", long[:5+nameSlots]}
	for i := range 3 * nameSlots {
		names = append(names, fmt.Sprintf("node-%d/eth%d", i%7, i))
	}
	e := newJSONEnc(io.Discard)
	for round := range 3 {
		for _, s := range names {
			e.buf = e.buf[:0]
			e.name(s)
			if want := string(safetext.AppendJSONString(nil, s)); string(e.buf) != want {
				t.Fatalf("round %d: name(%q) wrote %s, want %s", round, s, e.buf, want)
			}
		}
	}
}

// TestJSONNameRuns holds a flow list's element start (appendNameRun: the run before the name, the
// name quoted, the run after it, from one cached string) to the three written one by one, for a first
// element and a later one, over the names of TestJSONNameCache: names that map to a slot another holds
// (written without the cache), the empty name, and more names than the cache has slots.
func TestJSONNameRuns(t *testing.T) {
	long := strings.Repeat("node-1/cali0123456789", 20)
	names := []string{long[:5], long[:5+nameSlots], long, long[:5], "", `a"b\c<d>`, "pöd/\u2028x", long[:5+nameSlots]}
	for i := range 3 * nameSlots {
		names = append(names, fmt.Sprintf("node-%d/eth%d", i%7, i))
	}
	e := newJSONEnc(io.Discard)
	tm := newFlowTmpl(1)
	lists := []struct {
		r                  *nameRuns
		first, next, after string
	}{{&tm.ppNames, tm.ppFirst, tm.ppNext, tm.pp[1]}, {&tm.hsNames, tm.hsFirst, tm.hsNext, tm.hs[1]},
		{&tm.pathNames, tm.pathFirst, tm.pathElem, ""}}
	for round := range 3 {
		for k, s := range names {
			for _, l := range lists {
				first := (k+round)%3 == 0
				b := e.appendNameRun([]byte("x"), l.r, s, first)
				start := l.next
				if first {
					start = l.first
				}
				if want := "x" + start + string(safetext.AppendJSONString(nil, s)) + l.after; string(b) != want {
					t.Fatalf("round %d: %q (first %v) wrote %q, want %q", round, s, first, b, want)
				}
			}
		}
	}
}

// TestFlowPathCache holds writeFlow's path (the last path written kept as bytes, pathCache) to the
// reflective writer over flows written one after another by one writer: the same list again, the
// same array with a name changed in place, a shorter slice of it, another list with the same names,
// names that need escapes, the empty list and nil, and the first list again.
func TestFlowPathCache(t *testing.T) {
	arr := []string{"node-1/cali0", "node-1/eth0", "node-2/eth0", "node-2/cali1"}
	paths := [][]string{arr, arr, nil, arr[:3], arr}
	changed := len(paths) // arr[1] is changed in place before this flow is written
	paths = append(paths, arr, arr[:3], []string{"node-1/cali0", "node-1/eth0", "node-2/eth0", "node-2/cali1"},
		[]string{`a"b`, "pöd/\u2028x"}, []string{`a"b`, "pöd/\u2028x"}, []string{}, nil, arr)
	e := newJSONEnc(nil)
	for i, p := range paths {
		if i == changed {
			arr[1] = "node-1/" + "tunl0"
		}
		f := correlate.Flow{ID: fmt.Sprint("f", i), Path: p}
		if got, want := writeFlowBoth(t, e, &f); got != want {
			t.Fatalf("flow %d, path %q: wrote\n%s\nwant\n%s", i, p, got, want)
		}
	}
}

// TestFlowLastQuoted holds writeFlow's protocol and addresses (the last ones written kept quoted,
// lastQuoted) to the reflective writer over flows written one after another by one writer: the same
// strings again, the empty string first (the cache empty), a prefix of the last one (the same address, shorter), the same bytes in another
// string, strings that need escapes, and the empty string.
func TestFlowLastQuoted(t *testing.T) {
	ip := "192.168.10.12"
	other := string([]byte(ip))
	strs := []string{"", ip, ip, ip[:11], ip[:11], ip, other, `a"b`, `a"b`, "pöd/\u2028x", "", "", ip}
	e := newJSONEnc(nil)
	for i, s := range strs {
		f := correlate.Flow{ID: fmt.Sprint("f", i), Proto: s, Src: correlate.Endpoint{IP: s}, Dst: correlate.Endpoint{IP: strs[len(strs)-1-i]}}
		if got, want := writeFlowBoth(t, e, &f); got != want {
			t.Fatalf("flow %d, %q: wrote\n%s\nwant\n%s", i, s, got, want)
		}
	}
}

// TestFlowPerPointAgain holds writeFlow's per_point (an element's numbers copied from the element
// before when they are the same, appendAgain) to the reflective writer: equal numbers short and long
// enough for every copy (under 16 bytes, 16 to 32, past 32 with the largest values), equal runs
// broken by an element in between, and a list long enough that the buffer grows during a copy.
func TestFlowPerPointAgain(t *testing.T) {
	counts := [][2]int64{{0, 0}, {8, 456}, {8, 456}, {8, 456}, {1, 1}, {8, 456}, {12345678, 9876543210},
		{12345678, 9876543210}, {math.MaxInt64, math.MaxInt64}, {math.MaxInt64, math.MaxInt64}, {-1, math.MinInt64},
		{-1, math.MinInt64}, {8, 457}, {9, 457}, {9, 458}}
	var lists [][]correlate.PointCount
	for n := 1; n <= len(counts); n++ {
		var l []correlate.PointCount
		for i, c := range counts[:n] {
			l = append(l, correlate.PointCount{Point: fmt.Sprint("node-1/cali", i), Packets: int(c[0]), Bytes: c[1]})
		}
		lists = append(lists, l)
	}
	var long []correlate.PointCount
	for i := range 20000 {
		long = append(long, correlate.PointCount{Point: fmt.Sprint("node-2/eth", i%300), Packets: 8 + i/7000, Bytes: 456})
	}
	lists = append(lists, long)
	e := newJSONEnc(nil)
	for i, l := range lists {
		f := correlate.Flow{ID: fmt.Sprint("f", i), PerPoint: l}
		if got, want := writeFlowBoth(t, e, &f); got != want {
			t.Fatalf("flow %d: wrote\n%s\nwant\n%s", i, got, want)
		}
	}
}

// TestJSONNameCacheProbes holds the name cache to keeping names that meet at one slot (appendNameNext):
// substrings of one string at addresses that map to the same slot are each kept once written, and
// written again right.
func TestJSONNameCacheProbes(t *testing.T) {
	long := strings.Repeat("node-1/cali0123456789", 400)
	slotOf := func(s string) uintptr {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return (p>>4 ^ p>>12 ^ uintptr(len(s))) % nameSlots
	}
	var same []string
	for at := 0; at+6 < len(long) && len(same) < 4; at++ {
		if s := long[at : at+6]; slotOf(s) == slotOf(long[:6]) {
			same = append(same, s)
		}
	}
	if len(same) < 4 {
		t.Fatalf("found %d names at one slot", len(same))
	}
	e := newJSONEnc(io.Discard)
	for round := range 2 {
		for _, s := range same {
			e.buf = e.buf[:0]
			e.name(s)
			if want := string(safetext.AppendJSONString(nil, s)); string(e.buf) != want {
				t.Fatalf("round %d: name(%q) wrote %s, want %s", round, s, e.buf, want)
			}
		}
	}
	for _, s := range same {
		kept := false
		for i := range e.names {
			kept = kept || unsafe.StringData(e.names[i].s) == unsafe.StringData(s) && len(e.names[i].s) == len(s)
		}
		if !kept {
			t.Errorf("%q (at slot %d) not kept", s, slotOf(s))
		}
	}
}

// writeFlowBoth writes f with e (writeFlow, e's caches as the flows before left them) and with a new
// encoder's reflective writer, each at a flow list's depth, and returns the two.
func writeFlowBoth(t *testing.T, e *jsonEnc, f *correlate.Flow) (got, want string) {
	t.Helper()
	var g, w bytes.Buffer
	e.w, e.depth = &g, 2
	writeFlow(e, f)
	e.flush(true)
	r := newJSONEnc(&w)
	r.depth = 2
	r.value(reflect.ValueOf(*f))
	r.flush(true)
	if e.err != nil || r.err != nil {
		t.Fatal(e.err, r.err)
	}
	return g.String(), w.String()
}
