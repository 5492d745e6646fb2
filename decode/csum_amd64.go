package decode

// sum16 is in csum_amd64.s: sum16Go's sum with the loads in the additions and one carry chain
// through all the words, about half of sum16Go's instructions on a transport segment (see csum.go
// for what it returns).
//
//go:noescape
func sum16(s uint64, b []byte) uint64

// sumSwap is in csum_amd64.s (see csum.go for what it returns): sum16's words without its rotation
// and fold.
//
//go:noescape
func sumSwap(s uint64, p *byte, n int) uint64

// sumSwap8 is sumSwap of n >= 8 bytes, in csum_amd64.s: without sumSwap's test for fewer.
//
//go:noescape
func sumSwap8(s uint64, p *byte, n int) uint64
