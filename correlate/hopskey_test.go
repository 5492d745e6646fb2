package correlate

import (
	"math"
	"testing"
	"unsafe"
)

// hopsKey tells hops at a path's points, in order, from hops that differ at any one of them, for paths
// of 4 to 8 points; it is not made for other paths or for a point past a uint16.
func TestHopsKey(t *testing.T) {
	for n := 1; n <= 10; n++ {
		pts := make([]int, n)
		for i := range pts {
			pts[i] = 1000*i + 7 + i*0x100 // both bytes of each point differ from the next's
		}
		k := hopsKeyOf(pts)
		if (k.n != 0) != (n >= 4 && n <= 8) {
			t.Fatalf("%d points: key of %d points", n, k.n)
		}
		if k.n == 0 {
			continue
		}
		hp := make([]uint16, n+2)[1 : n+1] // (not at the start of its array)
		for i, p := range pts {
			hp[i] = uint16(p)
		}
		if !k.at(hp) || !k.atHops(unsafe.Pointer(&hp[0]), n) {
			t.Fatalf("%d points: the path's own hops not at it", n)
		}
		for _, m := range []int{n - 1, n + 1} { // atHops of as many hops alone
			if k.atHops(unsafe.Pointer(&hp[0]), m) {
				t.Fatalf("%d points: %d hops at the path", n, m)
			}
		}
		for i := range hp {
			for _, d := range []uint16{1, 0x100, 0x8000} {
				hp[i] ^= d
				if k.at(hp) || k.atHops(unsafe.Pointer(&hp[0]), n) {
					t.Fatalf("%d points: hops with point %d changed (^%#x) at the path", n, i, d)
				}
				hp[i] ^= d
			}
		}
		big := append([]int(nil), pts...)
		big[n/2] = math.MaxUint16 + 1 + pts[n/2]
		if hopsKeyOf(big).n != 0 {
			t.Fatalf("%d points: a key for a point past a uint16", n)
		}
	}
}

// slotsHold holds exactly when a journey's slots [s, e) are a slice of n of an arena of slots slots
// (as placeClean reads them through pointers), and rowHolds when at to at+n-1 index a slice of length
// l: about their bounds and near 1<<32.
func TestSlotsRowHold(t *testing.T) {
	for _, base := range []uint{0, 1<<32 - 12} {
		for slots := base; slots < base+12; slots++ {
			for s := base; s < base+12; s++ {
				for e := base; e < base+12; e++ {
					for n := 0; n < 8; n++ {
						want := s <= e && e <= slots && e-s == uint(n)
						if got := slotsHold(s, e, n, slots); got != want {
							t.Fatalf("slotsHold(%d, %d, %d, %d) %v", s, e, n, slots, got)
						}
					}
				}
			}
		}
	}
	for l := range 20 {
		for at := range 20 {
			for n := range 8 {
				if got, want := rowHolds(at, n, l), at+n <= l; got != want {
					t.Fatalf("rowHolds(%d, %d, %d) %v", at, n, l, got)
				}
			}
		}
	}
}
