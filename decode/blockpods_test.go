package decode

import (
	"net/netip"
	"testing"
)

// inBlock puts an address on a node when it shares a Calico block's prefix (/26, IPv6 /122) with one
// of the node's captured pods, and a longer one than with any other node's.
func TestInBlock(t *testing.T) {
	v4 := func(s string) uint32 {
		b := netip.MustParseAddr(s).As4()
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	}
	pods := map[string]podSet{
		"node-a": {v4: map[uint32]bool{v4("10.244.1.9"): true}, v6: map[netip.Addr]bool{netip.MustParseAddr("fd00:10:244:1::9"): true}},
		"node-b": {v4: map[uint32]bool{v4("10.244.1.70"): true, v4("10.244.2.7"): true}, v6: map[netip.Addr]bool{}},
	}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"10.244.1.5", true},         // node-a's block 10.244.1.0/26
		{"10.244.1.0", true},         // its tunnel's address
		{"10.244.1.9", false},        // a captured pod: known already
		{"10.244.1.66", false},       // node-b's block 10.244.1.64/26
		{"10.244.2.9", false},        // node-b's
		{"10.244.3.1", false},        // no node's block
		{"fd00:10:244:1::5", true},   // node-a's /122
		{"fd00:10:244:1::50", false}, // past it
		{"192.168.10.2", false},
	} {
		if got := inBlock(netip.MustParseAddr(tc.addr), "node-a", pods); got != tc.want {
			t.Errorf("inBlock(%s, node-a) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
