//go:build !amd64

package decode

import "unsafe"

// sum16 is sum16Go where there is no assembly for it (see csum.go).
func sum16(s uint64, b []byte) uint64 { return sum16Go(s, b) }

// sumSwap is sumSwapGo where there is no assembly for it (see csum.go).
func sumSwap(s uint64, p *byte, n int) uint64 { return sumSwapGo(s, unsafe.Slice(p, n)) }

// sumTransport4 is the TCP or UDP segment's sum with the pseudo-header of the IPv4 packet at ip (a
// 20-byte header) of total length tl >= 28, as sumSwap sums it (see csum_amd64.go).
func sumTransport4(ip *byte, tl int) uint64 {
	b := unsafe.Slice(ip, tl)
	return sumSwap((uint64(b[9])+uint64(tl-20))<<8, &b[12], tl-12)
}
