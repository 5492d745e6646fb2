package decode

import (
	"maps"
	"reflect"
	"slices"
	"sort"
	"testing"
)

// hasPointers reports whether values of type t hold pointers.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.String, reflect.Interface, reflect.Chan,
		reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// TestResetLayout holds Packet to what resetDecoded zeroes as plain bytes: every field but Outer, ICMP,
// WG and Payload lies outside those four and holds no pointer. A field added with a pointer (a
// string, a slice) fails here rather than escape the garbage collector's write barrier.
func TestResetLayout(t *testing.T) {
	parts := map[string][2]uintptr{"Outer": {offOuter, endOuter}, "ICMP": {offICMP, endICMP},
		"Payload": {offPayload, endPayload}, "WG": {offWG, endWG}}
	pt := reflect.TypeFor[Packet]()
	for i := range pt.NumField() {
		f := pt.Field(i)
		if r, ok := parts[f.Name]; ok {
			if f.Offset != r[0] || f.Offset+f.Type.Size() != r[1] {
				t.Errorf("%s at %d-%d, resetDecoded takes it at %d-%d", f.Name, f.Offset, f.Offset+f.Type.Size(), r[0], r[1])
			}
			continue
		}
		if hasPointers(f.Type) {
			t.Errorf("Packet.%s (%s) holds pointers: resetDecoded zeroes it as plain bytes", f.Name, f.Type)
		}
		for n, r := range parts {
			if f.Offset < r[1] && f.Offset+f.Type.Size() > r[0] {
				t.Errorf("Packet.%s overlaps %s", f.Name, n)
			}
		}
	}
	if hasPointers(reflect.TypeFor[IPHdr]()) || hasPointers(reflect.TypeFor[ICMP]()) || hasPointers(reflect.TypeFor[WireGuard]()) {
		t.Errorf("Outer, ICMP or WG holds pointers")
	}
}

// TestResetDecoded: resetDecoded with every part marked, and with the parts decodedParts finds, gives
// Packet{} after any fixture frame; a Packet full of ones comes out zero when all parts are marked.
func TestResetDecoded(t *testing.T) {
	var p Packet
	fill := reflect.ValueOf(&p).Elem()
	for i := range fill.NumField() {
		setOnes(fill.Field(i))
	}
	resetDecoded(&p, partsKnown|partOuter|partICMP|partWG)
	if !reflect.DeepEqual(p, Packet{}) {
		t.Fatalf("a Packet of ones, every part marked: %+v after resetDecoded", p)
	}
	for name, fr := range fxFrames(t) {
		decodeFast(fr.link, fr.data, fr.origLen(), 0, DefaultWireGuardPort, &p)
		resetDecoded(&p, decodedParts(&p))
		if !reflect.DeepEqual(p, Packet{}) {
			t.Errorf("%s: not zero after resetDecoded: %+v", name, p)
		}
	}
}

// setOnes sets every bit of v (every byte of a slice's elements; a slice gets one element).
func setOnes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(-1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(^uint64(0))
	case reflect.Array:
		for i := range v.Len() {
			setOnes(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				setOnes(v.Field(i))
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		setOnes(v.Index(0))
	}
}

// reusedLikeFresh fails unless decoding b into the Packet a Decoder decoded a into last gives what
// decoding b into a zero Packet gives.
func reusedLikeFresh(t testing.TB, a, b fxFrame, port uint16) {
	t.Helper()
	d := NewDecoder(Options{VXLANPort: port}, NewTables(), 0)
	var p, fresh Packet
	ra := Record{LinkType: a.link, Data: a.data, CapLen: len(a.data), OrigLen: a.origLen()}
	rb := Record{LinkType: b.link, Data: b.data, CapLen: len(b.data), OrigLen: b.origLen()}
	d.decodeReusedObs(&ra, &p)
	d.decodeReusedObs(&rb, &p)
	decodeFast(rb.LinkType, rb.Data, rb.OrigLen, d.opts.VXLANPort, d.opts.WireGuardPort, &fresh)
	if !samePacket(&p, &fresh) {
		t.Fatalf("%s after %s: reused %+v, fresh %+v", b.name, a.name, p, fresh)
	}
}

// TestDecodeReusedPairs decodes every fixture frame after every other into one Packet (the scan's
// way) and compares it with the frame decoded into a zero Packet.
func TestDecodeReusedPairs(t *testing.T) {
	m := fxFrames(t)
	frames := make([]fxFrame, 0, len(m)+8)
	for _, fr := range m {
		frames = append(frames, fr)
	}
	sort.Slice(frames, func(i, j int) bool { return frames[i].name < frames[j].name })
	frames = append(frames, wgSeeds(t)...)
	for _, s := range []string{lcoTCPSyn, lcoTCPData, lcoUDP, lcoICMP} {
		frames = append(frames, fxFrame{name: "lco", link: LinkEthernet, data: hexDump(t, s)})
	}
	for _, a := range frames {
		for _, b := range frames {
			reusedLikeFresh(t, a, b, 0)
		}
	}
}

// FuzzDecodeReused is TestDecodeReusedPairs on any two frames.
func FuzzDecodeReused(f *testing.F) {
	fr := fxFrames(f)
	names := slices.Sorted(maps.Keys(fr))
	for i, n := range names {
		a, b := fr[n], fr[names[(i+1)%len(names)]]
		f.Add(uint16(a.link), a.data, uint16(b.link), b.data, uint16(0))
		f.Add(uint16(b.link), b.data, uint16(a.link), a.data, uint16(0))
	}
	f.Fuzz(func(t *testing.T, la uint16, a []byte, lb uint16, b []byte, port uint16) {
		if len(a) > MaxCapLen || len(b) > MaxCapLen {
			return
		}
		reusedLikeFresh(t, fxFrame{name: "a", link: LinkType(la), data: a},
			fxFrame{name: "b", link: LinkType(lb), data: b}, port)
	})
}
