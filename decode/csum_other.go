//go:build !amd64

package decode

// sum16 is sum16Go where there is no assembly for it (see csum.go).
func sum16(s uint64, b []byte) uint64 { return sum16Go(s, b) }
