//go:build !amd64

package correlate

import "unsafe"

// journeysOfN is journeysOfGo where there is no assembly for it (see journeysOf).
func journeysOfN(out *int32, ch *uint64, n int, rk uint32) {
	journeysOfGo(unsafe.Slice(out, n), unsafe.Slice(ch, n), rk)
}
