package decode

import (
	"encoding/binary"
	"testing"
)

// decodeIP flags GSO on an IPv4 total length of 0 or an IP packet larger than gsoThreshold (ipLen:
// the declared length, or what was captured when none is declared), its usual sizes tested first:
// every length around the bounds, declared and captured, of IPv4 and IPv6 packets.
func TestGSOCondition(t *testing.T) {
	lens := []int{0, 1, 20, 39, 40, 41, 100, gsoThreshold - 1, gsoThreshold, gsoThreshold + 1, 9000, 0xffff}
	for _, v := range []int{4, 6} {
		for _, declared := range lens {
			for _, captured := range []int{40, 60, gsoThreshold, gsoThreshold + 1, 9000} {
				b := make([]byte, captured)
				if v == 4 {
					b[0], b[9] = 0x45, 253 // an experimental protocol: no transport header
					binary.BigEndian.PutUint16(b[2:], uint16(declared))
				} else {
					if declared != 0 && declared < 40 {
						continue // IPv6 declares a payload length: 40 or more in all
					}
					b[0], b[6] = 0x60, 59 // no next header
					binary.BigEndian.PutUint16(b[4:], uint16(max(declared-40, 0)))
				}
				var p Packet
				DecodeFast(LinkRaw, b, len(b), 0, &p)
				h := &p.Inner
				if h.Version != uint8(v) {
					t.Fatalf("IPv%d declaring %d bytes, %d captured: decoded as version %d", v, declared, captured, h.Version)
				}
				want := (h.Version == 4 && h.TotalLen == 0) || ipLen(h, b) > gsoThreshold
				if p.GSO != want {
					t.Errorf("IPv%d declaring %d bytes, %d captured: GSO %v, want %v", v, declared, captured, p.GSO, want)
				}
			}
		}
	}
}
