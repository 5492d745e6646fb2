package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// sll1Frame builds a Linux cooked v1 frame: packet type, ARPHRD type, link address, protocol.
func sll1Frame(pktType, arphrd uint16, addr []byte, proto uint16, payload []byte) []byte {
	b := make([]byte, 16, 16+len(payload))
	binary.BigEndian.PutUint16(b[0:2], pktType)
	binary.BigEndian.PutUint16(b[2:4], arphrd)
	binary.BigEndian.PutUint16(b[4:6], uint16(len(addr)))
	copy(b[6:14], addr)
	binary.BigEndian.PutUint16(b[14:16], proto)
	return append(b, payload...)
}

// A tcpdump -i any capture without interface indexes holds the same packet once per interface; the
// decoder files each frame under a pseudo interface by what it carries, and points name them.
func TestSLL1Stages(t *testing.T) {
	podA := netip.MustParseAddr("10.244.1.5").As4()
	podB := netip.MustParseAddr("10.244.2.7").As4()
	nodeA := netip.MustParseAddr("192.168.10.2").As4()
	nodeB := netip.MustParseAddr("192.168.20.2").As4()
	podMAC := []byte{0x0a, 0x58, 1, 2, 3, 4}
	inner64 := ipv4Frame(podA, podB, 64, 17, udpSeg(40000, 53, []byte("query 0001 example.com")))
	inner63 := ipv4Frame(podA, podB, 63, 17, udpSeg(40000, 53, []byte("query 0001 example.com")))
	frames := [][]byte{
		sll1Frame(0, 1, podMAC, 0x0806, arpBody(1, [6]byte(podMAC), podA, [6]byte{}, CalicoGateway)),
		sll1Frame(4, 1, CalicoMAC[:], 0x0806, arpBody(2, CalicoMAC, CalicoGateway, [6]byte(podMAC), podA)),
		sll1Frame(0, 1, podMAC, 0x0800, inner64),                                                   // cali, from the pod
		sll1Frame(4, 768, nil, 0x0800, inner63),                                                    // tunl0
		sll1Frame(4, 1, []byte{2, 0, 0, 0, 0, 1}, 0x0800, ipv4Frame(nodeA, nodeB, 63, 4, inner63)), // eth0
		// eth0 between WireGuard nodes: UDP 51820, not encapsulated, yet the underlay's.
		sll1Frame(4, 1, []byte{2, 0, 0, 0, 0, 1}, 0x0800, ipv4Frame(nodeA, nodeB, 64, 17,
			udpSeg(DefaultWireGuardPort, DefaultWireGuardPort, wgMsg(WGTransport, 7, 0, 1, 48)))),
	}
	want := []int32{IfAnyPod, IfAnyPod, IfAnyPod, IfAnyTunnel, IfAnyUnderlay, IfAnyUnderlay}
	tb := NewTables()
	d := NewDecoder(Options{}, tb, 0)
	var p Packet
	var o Observation
	var traffic = map[uint16]*Traffic{}
	for i, f := range frames {
		d.Decode(&Record{Frame: uint32(i + 1), LinkType: LinkLinuxSLL, Data: f, CapLen: len(f), OrigLen: len(f)}, &p, &o)
		src := tb.Sources()[o.Source]
		if src.IfIndex != want[i] {
			t.Errorf("frame %d: pseudo interface %d, want %d", i+1, src.IfIndex, want[i])
		}
		if traffic[o.Source] == nil {
			traffic[o.Source] = &Traffic{}
		}
		traffic[o.Source].Add(int64(i), &p, p.Loose)
	}
	sources := tb.Sources()
	tr := make([]Traffic, len(sources))
	for si, x := range traffic {
		tr[si] = *x
	}
	points, pointOf, _ := Identify([]FileMeta{{Path: "/x/node-a-any.pcap"}}, sources, tr, PointConfig{})
	got := map[string]Role{}
	for si := range sources {
		p := points[pointOf[si]]
		got[p.ID] = p.Role
	}
	for id, role := range map[string]Role{"node-a/any:pod": RolePodVeth, "node-a/any:tunnel": RoleTunnel,
		"node-a/any:underlay": RoleUnderlay} {
		if got[id] != role {
			t.Errorf("point %s: role %v, want %v (points %v)", id, got[id], role, got)
		}
	}
}
