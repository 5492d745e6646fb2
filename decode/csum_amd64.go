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

// sumTransport4 is in csum_amd64.s: the TCP or UDP segment's sum with the pseudo-header of the
// IPv4 packet at ip (a 20-byte header) of total length tl >= 28, as sumSwap sums it (see there).
//
//go:noescape
func sumTransport4(ip *byte, tl int) uint64
