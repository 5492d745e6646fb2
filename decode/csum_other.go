//go:build !amd64

package decode

import "unsafe"

// sum16 is sum16Go where there is no assembly for it (see csum.go).
func sum16(s uint64, b []byte) uint64 { return sum16Go(s, b) }

// sumSwap is sumSwapGo where there is no assembly for it (see csum.go).
func sumSwap(s uint64, p *byte, n int) uint64 { return sumSwapGo(s, unsafe.Slice(p, n)) }

// sumSwap8 is sumSwap of n >= 8 bytes.
func sumSwap8(s uint64, p *byte, n int) uint64 { return sumSwap(s, p, n) }
