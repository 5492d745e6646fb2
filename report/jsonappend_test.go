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

// TestFlowUsualRuns holds writeFlow's joined runs of the usual flow (an empty NAT list and the next key
// in one, natNone; nothing lost, missed, sent again or reset, clean) and its empty lists written
// without typedList to the reflective writer: each member that breaks a run alone and together, the
// lists nil, empty and with an element, one after another with one writer.
func TestFlowUsualRuns(t *testing.T) {
	nat := []correlate.NATMapping{{Kind: "dnat", At: "node-1/eth0", From: "10.96.0.10:53", To: "192.168.1.3:53", Count: 2}}
	lostAt := []correlate.LostAt{{From: "node-1/eth0", To: "node-2/eth0", Count: 1}}
	e := newJSONEnc(nil)
	for i := range 4 * 64 {
		f := correlate.Flow{ID: fmt.Sprint("f", i), Packets: 8, Delivered: 8, NAT: []correlate.NATMapping{}, LostAt: []correlate.LostAt{}}
		switch i % 4 {
		case 1:
			f.NAT, f.LostAt = nil, nil
		case 2:
			f.NAT, f.LostAt = nat, lostAt
		}
		for k, set := range []func(){func() { f.Lost = 1 }, func() { f.NotCaptured = 3 }, func() { f.Retransmissions = 1 },
			func() { f.Resets = 1 }, func() { f.Lost = -1 }, func() { f.LostAt = lostAt }} {
			if i>>2&(1<<k) != 0 {
				set()
			}
		}
		if got, want := writeFlowBoth(t, e, &f); got != want {
			t.Fatalf("flow %d: wrote\n%s\nwant\n%s", i, got, want)
		}
	}
}

// TestFlowLatencyAgain holds writeFlow's latency_ns (a percentile the same as the one before copied
// from its digits, appendAgain8) to the reflective writer: equal values of 1 to 8 digits, at and past
// 10^8, negative, 0, and unequal ones between them, one flow after another with one writer (whose
// buffer grows on the way).
func TestFlowLatencyAgain(t *testing.T) {
	vals := []int64{0, 7, 12, 521000, 9999999, 99999999, 1e8, 123456789012, -5, -1234567, -12345678, math.MaxInt64, math.MinInt64}
	e := newJSONEnc(nil)
	n := 0
	for _, v := range vals {
		for _, w := range vals {
			for mask := range 8 {
				l := correlate.Latency{N: 8, Min: v, P50: v, P90: w, P99: w, Max: w}
				if mask&1 != 0 {
					l.P90 = v
				}
				if mask&2 != 0 {
					l.P99 = v
				}
				if mask&4 != 0 {
					l.Max = v
				}
				f := correlate.Flow{ID: fmt.Sprint("f", n), LatencyNs: l}
				n++
				if got, want := writeFlowBoth(t, e, &f); got != want {
					t.Fatalf("latency %+v: wrote\n%s\nwant\n%s", l, got, want)
				}
			}
		}
	}
}

// TestFlowID holds writeFlow's id (appendID: lower-case letters and digits copied as they are) to the
// reflective writer: correlate's ids, ids with other characters at the start, middle and end, and the
// empty id.
func TestFlowID(t *testing.T) {
	ids := []string{"f1", "f20000", "", "f", "0", "az09", "F1", "f-1", "f1 ", `"f1`, `f"1`, `f1\`, "f<1>", "f\u2028", "fö", "f\x00", "f\x7f",
		"f{", "f`", "f/", "f:", strings.Repeat("f0123456789", 30)}
	e := newJSONEnc(nil)
	for i, id := range ids {
		f := correlate.Flow{ID: id}
		if got, want := writeFlowBoth(t, e, &f); got != want {
			t.Fatalf("id %d %q: wrote\n%s\nwant\n%s", i, id, got, want)
		}
	}
}

// TestFlowPerPointSame holds writeFlow's per_point lists whose numbers are all the same (written from a
// cached list of the same names with the numbers written over, pointCountsSame) to the reflective
// writer: flows one after another on the same names with numbers of one length and of others (under
// 16 bytes, every length from 16 to 32, past 32; at this depth 23 bytes at least), on other names of the same lengths, on names that
// share a cached name's address with another length, with fewer and more names (past ppSameMax), and
// lists whose numbers differ in one element.
func TestFlowPerPointSame(t *testing.T) {
	long := strings.Repeat("node-1/cali0123456789", 4)
	nameSets := [][]string{
		{"node-1/cali1", "node-1/eth0", "node-1/tunl0", "node-2/cali2", "node-2/eth0", "node-2/tunl0"},
		{"node-1/cali3", "node-1/eth0", "node-1/tunl0", "node-2/cali4", "node-2/eth0", "node-2/tunl0"},
		{long[:12], long[:20], long[:30]},
		{long[:13], long[:20], long[:30]},
		{long[:12], long[:20]},
		{"a", "b", "c", "d", "e", "f", "g", "h"},
		{"a", "b", "c", "d", "e", "f", "g", "h", "i"},
		{`a"b`, "", "pöd/\u2028x"},
		{"only"},
	}
	counts := [][2]int64{{8, 456}, {8, 1246}, {8, 1235}, {10, 1246}, {1, 1}, {12345678, 9876543}, {123456789, 1234567890},
		{math.MaxInt64, math.MaxInt64}, {-1, math.MinInt64}, {0, 0}, {8, 456}, {12345678, 123}, {12345678, 1234},
		{1234567, 1234}, {99999999, 9999}, {12345678, 123}}
	e := newJSONEnc(nil)
	n := 0
	for round := range 3 {
		for si, names := range nameSets {
			for ci, c := range counts {
				for odd := range 2 {
					var l []correlate.PointCount
					for k, s := range names {
						pc := correlate.PointCount{Point: s, Packets: int(c[0]), Bytes: c[1]}
						if odd == 1 && k == (round+ci)%len(names) {
							pc.Bytes++
						}
						l = append(l, pc)
					}
					f := correlate.Flow{ID: fmt.Sprint("f", n), PerPoint: l}
					n++
					if got, want := writeFlowBoth(t, e, &f); got != want {
						t.Fatalf("round %d, names %d, counts %v, odd %d: wrote\n%s\nwant\n%s", round, si, c, odd, got, want)
					}
				}
			}
		}
	}
}

// TestFlowLastEnd holds writeFlow's destination (its address and port written as the flow before's
// when the same, lastEnd) to the reflective writer over flows one after another: the same address and
// port again, the same address with another port, the same bytes in another string, another address of the same length, a prefix of the
// address (the same bytes' address, shorter), an address that needs escapes, the empty address, and
// addresses whose JSON is about 80 bytes (appendKept's most), past 80 and past what lastEnd keeps.
func TestFlowLastEnd(t *testing.T) {
	ip := "192.168.1.1"
	other := string([]byte(ip))
	long := strings.Repeat("f", 2*lastEndMax) // (past what lastEnd keeps; its first 40 and 60 bytes: about 80 kept)
	ends := []correlate.Endpoint{{IP: "", Port: 0}, {IP: "", Port: 0}, {IP: ip, Port: 6379}, {IP: ip, Port: 6379}, {IP: ip, Port: 6380},
		{IP: ip, Port: 6379}, {IP: ip[:9], Port: 6379}, {IP: other, Port: 6379}, {IP: "192.168.1.2", Port: 6379}, {IP: ip, Port: 0}, {IP: `a"b`, Port: 65535},
		{IP: `a"b`, Port: 65535}, {IP: "", Port: 80}, {IP: ip, Port: 6379}, {IP: long[:40], Port: 443}, {IP: long[:40], Port: 443},
		{IP: long[:60], Port: 443}, {IP: long[:60], Port: 443}, {IP: long, Port: 443}, {IP: long, Port: 443}, {IP: ip, Port: 6379}}
	e := newJSONEnc(nil)
	for i, d := range ends {
		f := correlate.Flow{ID: fmt.Sprint("f", i), Src: correlate.Endpoint{IP: ip, Port: uint16(30000 + i)}, Dst: d}
		if got, want := writeFlowBoth(t, e, &f); got != want {
			t.Fatalf("flow %d, %+v: wrote\n%s\nwant\n%s", i, d, got, want)
		}
	}
}

// TestFlowNumbersAgain holds writeFlow's per_point numbers and latency_ns's n, copied from the digits
// of the flow's packets and bytes when the same (flowTmpl.pk, by), to the reflective writer: the same
// values and others, of one digit, of 2 to 8, past 8 (not copied) and negative, with and without a
// lost_at list, one long enough that its end flushes the encoder's buffer (the noted digits' bytes are
// then written over by what followed them), one flow after another with one writer.
func TestFlowNumbersAgain(t *testing.T) {
	vals := []int64{0, 8, 456, 12345678, 123456789, -3}
	var lostAt []correlate.LostAt
	for len(lostAt)*40 < 2*jsonWriteUnit {
		lostAt = append(lostAt, correlate.LostAt{From: "node-1/eth0", To: "node-2/eth0", Count: len(lostAt)})
	}
	e := newJSONEnc(nil)
	n := 0
	for _, p := range vals {
		for _, by := range vals {
			for mask := range 16 {
				pp := [2]int64{p, by}
				if mask&1 != 0 {
					pp[0] = p + 1
				}
				if mask&2 != 0 {
					pp[1] = by + 1
				}
				f := correlate.Flow{ID: fmt.Sprint("f", n), Packets: int(p), Bytes: by, Delivered: int(p),
					NAT: []correlate.NATMapping{}, LostAt: []correlate.LostAt{}, LatencyNs: correlate.Latency{N: int(p)},
					PerPoint: []correlate.PointCount{{Point: "node-1/eth0", Packets: int(pp[0]), Bytes: pp[1]},
						{Point: "node-2/eth0", Packets: int(pp[0]), Bytes: pp[1]}}}
				n++
				if mask&4 != 0 {
					f.LatencyNs.N = int(p) + 2
				}
				if mask&8 != 0 {
					f.Lost, f.LostAt = 1, lostAt
				}
				if got, want := writeFlowBoth(t, e, &f); got != want {
					if len(got) > 2000 {
						got, want = got[len(got)-2000:], want[max(0, len(want)-2000):]
					}
					t.Fatalf("packets %d, bytes %d, mask %d: wrote (the end)\n%s\nwant\n%s", p, by, mask, got, want)
				}
			}
		}
	}
}

// TestFlowLastHead holds writeFlow's protocol and source address (written as the flow before's when
// the same strings, lastHead) to the reflective writer over flows one after another: the same two
// again, another protocol with the same address, the same address's bytes in another string, a
// prefix of the address (the same bytes' address, shorter), another address of the same length, an
// address that needs escapes, the empty protocol and address, and addresses whose head is longer
// than lastHead keeps, and about as long.
func TestFlowLastHead(t *testing.T) {
	ip := "192.168.0.2"
	other := string([]byte(ip))
	long := strings.Repeat("f", 2*lastHeadMax) // (past what lastHead keeps)
	heads := [][2]string{{"tcp", ip}, {"tcp", ip}, {"udp", ip}, {"udp", ip}, {"tcp", other}, {"tcp", ip}, {"tcp", ip[:9]}, {"tcp", "192.168.0.3"},
		{"tcp", ip}, {"", ""}, {"", ""}, {"", ip}, {"icmp", `a"b`}, {"icmp", `a"b`}, {"tcp", ip},
		{"tcp", long}, {"tcp", long}, {"tcp", long[:lastHeadMax-40]}, {"tcp", long[:lastHeadMax-40]}, {"tcp", ip}}
	e := newJSONEnc(nil)
	for i, h := range heads {
		f := correlate.Flow{ID: fmt.Sprint("f", i), Proto: h[0], Src: correlate.Endpoint{IP: h[1], Port: uint16(30000 + i)},
			Dst: correlate.Endpoint{IP: "192.168.1.1", Port: 6379}}
		if got, want := writeFlowBoth(t, e, &f); got != want {
			t.Fatalf("flow %d, %q: wrote\n%s\nwant\n%s", i, h, got, want)
		}
	}
}

// TestAppendKept holds appendKept to append over every length to 80 bytes, into buffers with no
// spare room, exactly enough, 80 bytes and more: the bytes before and the kept ones, nothing else.
func TestAppendKept(t *testing.T) {
	var q [80]byte
	copy(q[:], strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 2))
	for n := 0; n <= 80; n++ {
		for _, room := range []int{0, n, 79, 80, 200} {
			for _, pre := range []int{0, 1, 7} {
				b := append(make([]byte, 0, pre+room), "-------"[:pre]...)
				if got, want := string(appendKept(b, &q, n)), "-------"[:pre]+string(q[:n]); got != want {
					t.Fatalf("%d bytes, room %d, %d before: %q, want %q", n, room, pre, got, want)
				}
			}
		}
	}
}

// TestAppendRuns holds appendRun, appendRun16 and the two appendRuns of a run's halves (flowTmpl's
// dst2, natNone2, latency2) to append over every length of run to 80 bytes, into buffers with no
// spare room, exactly enough and more: the bytes before the run and the run itself, and nothing else
// (the spare capacity past the run is not the result's).
func TestAppendRuns(t *testing.T) {
	src := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 2)
	for n := 0; n <= 80; n++ {
		s := src[3 : 3+n]
		for _, room := range []int{0, n, n + 1, 200} {
			for _, pre := range []int{0, 1, 7} {
				h := halves(s)
				for k, f := range []func([]byte, string) []byte{appendRun, appendRun16,
					func(b []byte, s string) []byte { return appendRun(appendRun(b, h[0]), h[1]) }} {
					b := append(make([]byte, 0, pre+room), src[:pre]...)
					if got, want := string(f(b, s)), src[:pre]+s; got != want {
						t.Fatalf("writer %d, run of %d, %d bytes before, room %d: %q, want %q", k, n, pre, room, got, want)
					}
				}
			}
		}
	}
}
