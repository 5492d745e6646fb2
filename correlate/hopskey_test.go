package correlate

import (
	"math"
	"testing"
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
		if !k.at(hp) {
			t.Fatalf("%d points: the path's own hops not at it", n)
		}
		for i := range hp {
			for _, d := range []uint16{1, 0x100, 0x8000} {
				hp[i] ^= d
				if k.at(hp) {
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
