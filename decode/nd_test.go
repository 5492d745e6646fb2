package decode

import (
	"net/netip"
	"testing"
)

// On pod-a's veth (healthy-vxlan6), frame 2 is pod-a's neighbour solicitation for its gateway (to the
// solicited-node multicast address, with its MAC in the source link-layer address option) and frame 3
// node-a's advertisement of fe80::ecee:eeff:feee:eeee at ee:ee:ee:ee:ee:ee. Their
// Observations' Seq index Tables.ND, which holds what correlate's neighbour discovery check reads;
// the ping after them is no ND message.
func TestLabIPv6ND(t *testing.T) {
	c := Load([]string{labIPv6 + "node-a-cali5e1c4d6c68c.pcap"}, Options{}, PointConfig{})
	nds := c.Tables.NDAll()
	obs := c.Obs[0]
	if len(obs) < 4 {
		t.Fatalf("%d frames", len(obs))
	}
	ns, na := &obs[1], &obs[2]
	if !ns.IsND() || !na.IsND() || obs[3].IsND() || obs[0].IsND() {
		t.Fatalf("IsND: frames 1-4 %v %v %v %v", obs[0].IsND(), ns.IsND(), na.IsND(), obs[3].IsND())
	}
	if ns.Seq == 0 || na.Seq == 0 || int(ns.Seq) >= len(nds) || int(na.Seq) >= len(nds) {
		t.Fatalf("ND indexes %d %d of %d", ns.Seq, na.Seq, len(nds))
	}
	s, a := nds[ns.Seq], nds[na.Seq]
	gw := netip.AddrFrom16(CalicoGateway6)
	if s.Type != 135 || netip.AddrFrom16(s.Target) != gw || !s.HasLL || s.LLAddr == CalicoMAC ||
		netip.AddrFrom16(s.Src).String() != "fd00:244::5" || netip.AddrFrom16(s.Dst).String() != "ff02::1:ffee:eeee" {
		t.Errorf("solicitation %+v", s)
	}
	if a.Type != 136 || netip.AddrFrom16(a.Target) != gw || !a.HasLL || a.LLAddr != CalicoMAC ||
		netip.AddrFrom16(a.Src) != gw || netip.AddrFrom16(a.Dst).String() != "fd00:244::5" {
		t.Errorf("advertisement %+v", a)
	}
}
