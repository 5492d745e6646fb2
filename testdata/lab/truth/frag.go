package main

import (
	"encoding/binary"
	"sort"
)

// IPv4 reassembly, for the WireGuard scenarios: WireGuard sends its UDP without DF (as the kernel
// module does), so a router with a smaller MTU fragments the encrypted packets.

type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    byte
}

type fragPiece struct {
	off  int // payload offset in bytes
	more bool
	data []byte // the fragment, from its IPv4 header
}

// reassembly holds one capture point's fragments until their packet is complete.
type reassembly map[fragKey][]fragPiece

// reassemble adds a fragment (network starts at its IPv4 header) seen at a point and returns the
// whole packet once every fragment of it was seen there, else nil.
func (l *lab) reassemble(where string, network []byte) []byte {
	total := int(binary.BigEndian.Uint16(network[2:4]))
	ihl := int(network[0]&0x0f) * 4
	if ihl < 20 || total < ihl || total > len(network) {
		return nil
	}
	ff := binary.BigEndian.Uint16(network[6:8])
	k := fragKey{[4]byte(network[12:16]), [4]byte(network[16:20]), binary.BigEndian.Uint16(network[4:6]), network[9]}
	re := l.frags[where]
	if re == nil {
		re = reassembly{}
		l.frags[where] = re
	}
	list := append(re[k], fragPiece{off: int(ff&0x1fff) * 8, more: ff&0x2000 != 0, data: append([]byte{}, network[:total]...)})
	sort.SliceStable(list, func(i, j int) bool { return list[i].off < list[j].off })
	re[k] = list
	at := 0
	for _, f := range list {
		if f.off > at {
			return nil // a hole
		}
		h := int(f.data[0]&0x0f) * 4
		at = max(at, f.off+len(f.data)-h)
		if f.more {
			continue
		}
		first := list[0].data
		if list[0].off != 0 {
			return nil
		}
		fh := int(first[0]&0x0f) * 4
		out := make([]byte, fh+at)
		copy(out, first[:fh])
		for _, g := range list {
			gh := int(g.data[0]&0x0f) * 4
			copy(out[fh+g.off:], g.data[gh:])
		}
		binary.BigEndian.PutUint16(out[2:4], uint16(len(out)))
		binary.BigEndian.PutUint16(out[6:8], binary.BigEndian.Uint16(first[6:8])&0x4000) // no MF, offset 0
		out[10], out[11] = 0, 0
		binary.BigEndian.PutUint16(out[10:12], ^fold(sum(out[:fh]))) // the header a reassembling host would hold
		delete(re, k)
		return out
	}
	return nil
}
