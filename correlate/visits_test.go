package correlate

import (
	"slices"
	"testing"

	"github.com/calipath/calipath/decode"
)

// visitWorld is a world of hand-made sightings for visits: router-1 (node 0: eth2 toward the client,
// eth1 toward node-b, eth0 toward node-a), node-a (node 1: eth0, tunl0, a pod's cali) and ext-1 (node
// 2: eth0), one point each interface, one source each point.
func visitWorld(obs []decode.Observation) *world {
	return &world{
		pointNode: []int{0, 0, 0, 1, 1, 1, 2},
		srcPoint:  []int{0, 1, 2, 3, 4, 5, 6},
		blockFile: []uint16{0},
		blockObs:  [][]decode.Observation{obs},
		pointRole: make([]decode.Role, 7),
		underlays: make([][]int, 3),
		nodes:     []string{"router-1", "node-a", "ext-1"},
		nodeOfIP:  map[uint32]int{},
		nodeOfIP6: map[uint32]int{},
	}
}

// The points of visitWorld.
const (
	vR1eth2 = iota
	vR1eth1
	vR1eth0
	vAeth0
	vAtunl0
	vAcali
	vExt
)

var vPointName = []string{"router-1/eth2", "router-1/eth1", "router-1/eth0", "node-a/eth0", "node-a/tunl0", "node-a/cali", "ext-1/eth0"}

// vHop is a sighting at a point of visitWorld, with its TTL and encapsulation.
type vHop struct {
	pt  int
	ttl uint8
	enc decode.Encap
}

// sortVisits lays the hops (in time order, 1µs apart) out as one journey, sorts it (sortQuick, and
// sortInPlace on a copy, which must agree) and returns its points in path order and each hop's visit
// (visits, in time order).
func sortVisits(t *testing.T, hops []vHop) (path []string, visit []uint8) {
	t.Helper()
	obs := make([]decode.Observation, len(hops))
	for i, h := range hops {
		obs[i] = decode.Observation{Source: uint16(h.pt), TTL: h.ttl, Flags: decode.Flags(h.enc), Proto: 6}
	}
	w := visitWorld(obs)
	n := len(hops)
	keys, pt := make([]uint64, n), make([]uint16, n)
	for i, h := range hops {
		keys[i], pt[i] = uint64(i)<<32|uint64(i), uint16(h.pt)
	}
	visit = make([]uint8, n)
	visits(w, slices.Clone(keys), slices.Clone(pt), visit, nil)
	var t0 times
	t0.append(0)
	newAr := func() *arenaOut {
		ar := &arenaOut{jStart: []uint32{0, uint32(n)}, arena: make([]uint32, n), hopPt: make([]uint16, n)}
		ar.hopTs = newHopTimes(nil, n, &t0)
		for k := range n {
			ar.arena[k], ar.hopPt[k] = uint32(k), uint16(hops[k].pt)
			ar.hopTs.set(k, 0, int64(k)*1000)
		}
		return ar
	}
	quick, in := newAr(), newAr()
	if !quick.sortQuick(w, 0, 0, n) {
		t.Fatal("sortQuick declined")
	}
	in.sortInPlace(w, 0, 0, n, nil)
	if !slices.Equal(quick.arena, in.arena) || !slices.Equal(quick.hopPt, in.hopPt) || !slices.Equal(quick.hopTs.dt, in.hopTs.dt) {
		t.Fatalf("sortQuick %v, sortInPlace %v", quick.arena, in.arena)
	}
	for _, p := range quick.hopPt {
		path = append(path, vPointName[p])
	}
	return path, visit
}

// A NodePort's request and reply on their way through router-1 to node-a and back out of router-1
// toward node-b, router-1's interface toward node-a (eth0) not captured. The request comes in at eth2
// bare (TTL 64) and leaves by eth1 in IP-in-IP with the TTL two lower (router-1's forwarding, node-a's);
// the reply comes in at eth1 (63) and leaves by eth2 (61). Each is router-1's second visit, after
// node-a: before, router-1's two interfaces were one visit, put before node-a (false clock-inconsistent
// warnings: router-1/eth1 → node-a/eth0 and router-1/eth2 → node-a/eth0, "negative latency").
// The reply's copy at ext-1, whose clock was bounded on one side at the tightest limit node-a's
// packets set, is stamped before router-1/eth2's, and at times before node-a's eth0: it goes after
// both (the TTL never rises; router-1 forwarded the packet onto the link to ext-1).
func TestVisitsTTLComeBack(t *testing.T) {
	ipip := decode.EncapIPIP
	for _, c := range []struct {
		name string
		hops []vHop
		want []string
	}{
		{"request", []vHop{{vExt, 64, 0}, {vR1eth2, 64, 0}, {vAeth0, 63, 0}, {vAtunl0, 62, 0}, {vAeth0, 62, ipip}, {vR1eth1, 62, ipip}},
			[]string{"ext-1/eth0", "router-1/eth2", "node-a/eth0", "node-a/tunl0", "node-a/eth0", "router-1/eth1"}},
		{"reply", []vHop{{vR1eth1, 63, ipip}, {vAeth0, 63, ipip}, {vAtunl0, 63, 0}, {vAeth0, 62, 0}, {vR1eth2, 61, 0}, {vExt, 61, 0}},
			[]string{"router-1/eth1", "node-a/eth0", "node-a/tunl0", "node-a/eth0", "router-1/eth2", "ext-1/eth0"}},
		{"reply, ext-1 stamped early", []vHop{{vR1eth1, 63, ipip}, {vAeth0, 63, ipip}, {vAtunl0, 63, 0}, {vAeth0, 62, 0}, {vExt, 61, 0}, {vR1eth2, 61, 0}},
			[]string{"router-1/eth1", "node-a/eth0", "node-a/tunl0", "node-a/eth0", "router-1/eth2", "ext-1/eth0"}},
		{"reply, ext-1 stamped before node-a's eth0", []vHop{{vR1eth1, 63, ipip}, {vAeth0, 63, ipip}, {vAtunl0, 63, 0}, {vExt, 61, 0}, {vAeth0, 62, 0}, {vR1eth2, 61, 0}},
			[]string{"router-1/eth1", "node-a/eth0", "node-a/tunl0", "node-a/eth0", "router-1/eth2", "ext-1/eth0"}},
	} {
		path, _ := sortVisits(t, c.hops)
		if !slices.Equal(path, c.want) {
			t.Errorf("%s: path\n  %v\nwant\n  %v", c.name, path, c.want)
		}
	}
}

// A clock bounded on one side (or not corrected) can put another node's hop between a node's eth0 and
// its tunnel device in time. The node's hops are still one visit: the packet in by eth0 in IP-in-IP
// and on from tunl0 keeps its TTL, the NodePort's request in bare and on from tunl0 has it one lower;
// neither is a packet that came back. (A second visit there would put the other node's hop between
// node-a's eth0 and its tunnel device on the path.)
func TestVisitsOneSidedClockOneVisit(t *testing.T) {
	ipip := decode.EncapIPIP
	for _, c := range []struct {
		name string
		hops []vHop
	}{
		{"decapsulated", []vHop{{vAeth0, 63, ipip}, {vR1eth0, 63, ipip}, {vAtunl0, 63, 0}, {vAcali, 62, 0}}},
		{"NodePort in", []vHop{{vAeth0, 63, 0}, {vExt, 64, 0}, {vAtunl0, 62, 0}}},
		{"NodePort in, router between", []vHop{{vR1eth2, 64, 0}, {vAeth0, 63, 0}, {vR1eth0, 63, 0}, {vAtunl0, 62, 0}}},
	} {
		path, visit := sortVisits(t, c.hops)
		for k, v := range visit {
			if v != 0 {
				t.Errorf("%s: hop %d (%s) of visit %d, want every hop of the first", c.name, k, vPointName[c.hops[k].pt], v)
			}
		}
		var nodeA []string
		for i, p := range path {
			if p[:6] == "node-a" {
				nodeA = append(nodeA, p)
				if len(nodeA) > 1 && path[i-1][:6] != "node-a" {
					t.Errorf("%s: node-a's hops apart: %v", c.name, path)
				}
			}
		}
	}
}
