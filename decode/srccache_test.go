package decode

import (
	"slices"
	"testing"
)

// Observe keeps the source of the frame before when it was its interface alone and returns it for
// the next frame of that interface and link type without building a Source. Frames of every
// fixture (Ethernet, raw, cooked v1 and v2, cut ones), on interfaces taken in turn, must get the
// source a Decoder that saw no frame before gives them.
func TestSourceCache(t *testing.T) {
	frames := fxFrames(t)
	names := make([]string, 0, len(frames))
	for n := range frames {
		names = append(names, n)
	}
	slices.Sort(names)
	var cut []fxFrame // each frame cut after 1, 12 and 15 bytes: cooked ones before their cooked header end
	for _, n := range names {
		f := frames[n]
		for _, k := range []int{1, 12, 15} {
			if k < len(f.data) {
				cut = append(cut, fxFrame{name: n, link: f.link, data: f.data[:k], orig: len(f.data)})
			}
		}
	}
	for _, mergeChecked := range []bool{false, true} {
		tb := NewTables()
		d := NewDecoder(Options{}, tb, 3)
		d.mergeChecked = mergeChecked
		n := 0
		check := func(f fxFrame, iface int) {
			n++
			rec := Record{Frame: uint32(n), LinkType: f.link, Iface: iface, Data: f.data, CapLen: len(f.data), OrigLen: f.origLen()}
			var p, q Packet
			var o, want Observation
			d.decodeReusedObs(&rec, &p)
			d.Observe(&rec, &p, &o)
			fresh := NewDecoder(Options{}, tb, 3)
			fresh.mergeChecked = mergeChecked
			fresh.Decode(&rec, &q, &want)
			if o.Source != want.Source {
				t.Errorf("mergeChecked %v, frame %d (%s, link %s, interface %d): source %v, want %v", mergeChecked,
					n, f.name, f.link, iface, tb.Sources()[o.Source], tb.Sources()[want.Source])
			}
		}
		for round := range 3 {
			for i, n := range names {
				check(frames[n], (i/2+round)%3) // two frames on an interface, then the next
				check(frames[n], (i/2+round)%3)
			}
			for i, f := range cut {
				check(f, (i+round)%2)
				check(frames[f.name], (i+round)%2) // whole, after the cut one
			}
		}
		if n < 100 {
			t.Fatalf("only %d frames checked", n)
		}
	}
}
