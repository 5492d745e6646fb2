package decode

import (
	"net/netip"
	"strings"
	"testing"
)

// learnRouter feeds cooked v1 frames (one microsecond apart) to a routerLearn and returns its finish.
func learnRouter(frames [][]byte) (*sllRouter, string) {
	rl := newRouterLearn()
	var p Packet
	for i, f := range frames {
		decodeFast(LinkLinuxSLL, f, len(f), DefaultVXLANPort, DefaultWireGuardPort, &p)
		rl.learn(&p, int64(i)*1000)
	}
	return rl.finish()
}

// forwardedFrames is n packets from src (in from neighbour nbr) to dst (out through the router's
// interface out), each in then out with the TTL one lower.
func forwardedFrames(n int, src, dst [4]byte, nbr, out []byte) [][]byte {
	var fs [][]byte
	for i := range n {
		seg := udpSeg(uint16(40000+i), 9000, []byte("payload"))
		fs = append(fs, sll1Frame(0, 1, nbr, 0x0800, ipv4Frame(src, dst, 63, 17, seg)),
			sll1Frame(4, 1, out, 0x0800, ipv4Frame(src, dst, 62, 17, seg)))
	}
	return fs
}

// A router's cooked v1 capture is split into its interfaces by link address: without ARP, the routes
// its forwarded packets show place each neighbour (pod-b's replies come in from the neighbour behind
// the interface the router sends pod-b's packets out through). A router of three interfaces whose
// neighbours neither ARP nor the routes place is not split, and says why; nor is a Calico node's
// capture (a pod's veth host end, ee:ee:ee:ee:ee:ee, sends on it) nor one with too few forwarded
// packets.
func TestSLL1RouterSplit(t *testing.T) {
	podA := netip.MustParseAddr("10.244.1.5").As4()
	podB := netip.MustParseAddr("10.244.2.7").As4()
	ext := netip.MustParseAddr("203.0.113.9").As4()
	nA, nB, nC := []byte{2, 0, 0, 0, 0, 0xa}, []byte{2, 0, 0, 0, 0, 0xb}, []byte{2, 0, 0, 0, 0, 0xc}
	r0, r1, r2 := []byte{2, 0, 0, 0, 1, 0}, []byte{2, 0, 0, 0, 1, 1}, []byte{2, 0, 0, 0, 1, 2}
	both := append(forwardedFrames(5, podA, podB, nA, r1), forwardedFrames(5, podB, podA, nB, r0)...)
	r, why := learnRouter(both)
	if r == nil || why != "" {
		t.Fatalf("two interfaces, forwarded both ways: not split (%q)", why)
	}
	want := map[string]int32{"in " + fmtMAC([6]byte(nA)): IfAnyIface - 1, "out " + fmtMAC([6]byte(r0)): IfAnyIface - 1,
		"in " + fmtMAC([6]byte(nB)): IfAnyIface, "out " + fmtMAC([6]byte(r1)): IfAnyIface}
	var p Packet
	for _, c := range []struct {
		typ uint16
		mac []byte
	}{{0, nA}, {4, r0}, {0, nB}, {4, r1}} {
		f := sll1Frame(c.typ, 1, c.mac, 0x0800, ipv4Frame(podA, podB, 60, 17, udpSeg(1, 2, nil)))
		decodeFast(LinkLinuxSLL, f, len(f), DefaultVXLANPort, DefaultWireGuardPort, &p)
		dir := map[uint16]string{0: "in ", 4: "out "}[c.typ]
		if got, w := sllIndex(&p, &sllLocal{router: r}), want[dir+fmtMAC([6]byte(c.mac))]; got != w {
			t.Errorf("%s%s: interface %d, want %d", dir, fmtMAC([6]byte(c.mac)), got, w)
		}
	}
	if w := (r.ifaces()); len(w) != 2 || len(w[1].Neighbours) != 1 || !strings.Contains(w[1].Neighbours[0], "routes") {
		t.Errorf("interfaces %+v: want nA behind r0 by the routes", w)
	}

	// Three interfaces, traffic one way only (nothing comes back to place its senders), no ARP: not
	// split by link address, only into its way in and its way out (by packet type), and why says so.
	three := append(forwardedFrames(3, podA, podB, nA, r1), forwardedFrames(3, podA, ext, nA, r2)...)
	three = append(three, forwardedFrames(2, ext, podB, nC, r1)...)
	three = append(three, sll1Frame(4, 1, r0, 0x0806, arpBody(1, [6]byte(r0), podA, [6]byte{}, podB)))
	if r, why := learnRouter(three); r == nil || !r.sides || !strings.Contains(why, fmtMAC([6]byte(nA))) {
		t.Errorf("three interfaces, senders not placed: split by direction %v (%q)", r != nil && r.sides, why)
	} else {
		for typ, w := range map[uint16]int32{0: sllSideIn, 4: sllSideOut} {
			f := sll1Frame(typ, 1, nA, 0x0800, ipv4Frame(podA, podB, 60, 17, udpSeg(1, 2, nil)))
			decodeFast(LinkLinuxSLL, f, len(f), DefaultVXLANPort, DefaultWireGuardPort, &p)
			if got := sllIndex(&p, &sllLocal{router: r}); got != w {
				t.Errorf("packet type %d: side %d, want %d", typ, got, w)
			}
		}
	}

	calico := append(both, sll1Frame(4, 1, CalicoMAC[:], 0x0800, ipv4Frame(podB, podA, 63, 17, udpSeg(1, 2, nil))))
	if r, why := learnRouter(calico); r != nil || why != "" {
		t.Errorf("a Calico node's capture: split %v (%q)", r != nil, why)
	}
	if r, why := learnRouter(forwardedFrames(minMergedDup-1, podA, podB, nA, r1)); r != nil || why != "" {
		t.Errorf("%d forwarded packets: split %v (%q)", minMergedDup-1, r != nil, why)
	}
}
