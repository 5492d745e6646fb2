package correlate

import "github.com/calipath/calipath/decode"

// modeSample is how many pod-to-pod journeys per node pair decide its mode; voteSample how many
// journeys per flow direction vote for its path's end points.
const (
	modeSample = 64
	voteSample = 256
)

// modeFinder works out the datapath mode of each node pair from the frames at underlay and tunnel
// points, journey by journey, in journey order: the flow stage's voter takes each journey's step with
// its vote, as it reads the same frames.
type modeFinder struct {
	a        *analysis
	pairMode map[[2]int]string
	nn       int
	seen     []int // journeys per (source node, destination node)
}

func (a *analysis) newModeFinder() *modeFinder {
	nn := len(a.w.nodes)
	return &modeFinder{a: a, pairMode: map[[2]int]string{}, nn: nn, seen: make([]int, nn*nn)}
}

// step takes a journey with hops h (some), whose packet's first sighting's source is owned by point sp
// (ownerOf; -1 for none) and whose last sighting's destination (pktHop, pktLast) is a pod of node dst
// (the node of its owner point, or, where no point owns it, the node --k8s puts its pod on; -1 for
// none).
func (mf *modeFinder) step(h []uint32, sp, dst int) {
	a, w, pairMode, nn := mf.a, mf.a.w, mf.pairMode, mf.nn
	// Only pod-to-pod packets tell the mode between their nodes.
	if sp < 0 || dst < 0 {
		return
	}
	src := w.pointNode[sp]
	if incr(&mf.seen[src*nn+dst]) > modeSample { // (one index, one bounds check)
		return // the mode of this pair is settled
	}
	key := [2]int{min(src, dst), max(src, dst)}
	if src == dst {
		pairMode[key] = "same-node"
		return
	}
	mode := ""
	for _, g := range h {
		o, _ := a.obs(g)
		p := a.w.srcPoint[o.Source]
		switch {
		case a.wg != nil && (w.wgDevice(p) || w.wgType(o) == decode.WGTransport):
			mode = "wireguard" // see wireguard.go: the inner packet and its messages are one journey
		case o.Encap() == decode.EncapIPIP:
			mode = "ipip"
		case o.Encap() == decode.EncapVXLAN:
			mode = "vxlan"
		case w.pointRole[p] == decode.RoleUnderlay && mode == "":
			mode = "bgp"
		case w.pointRole[p] == decode.RoleTunnel && mode == "":
			mode = "tunnel"
		}
	}
	if mode == "wireguard" {
		// Nothing else tells it: the hops after the device are the encrypted messages.
	} else if mode == "tunnel" {
		mode = "ipip"
		for _, g := range h {
			if p := a.point(g); w.pointRole[p] == decode.RoleTunnel && w.c.Points[p].Iface != "" &&
				(w.c.Points[p].Iface == "vxlan.calico" || w.c.Points[p].Iface == "vxlan-v6.calico") {
				mode = "vxlan"
			}
		}
	}
	if mode == "" {
		return
	}
	if prev, ok := pairMode[key]; !ok || prev == "bgp" {
		pairMode[key] = mode
	}
}

// result returns the mode of each node pair once every journey has taken its step.
func (mf *modeFinder) result() map[[2]int]string {
	pairMode := mf.pairMode
	// Unencapsulated pairs beside encapsulated ones: Calico's CrossSubnet mode.
	encap := false
	for _, m := range pairMode {
		if m == "ipip" || m == "vxlan" {
			encap = true
		}
	}
	if encap {
		for k, m := range pairMode {
			if m == "bgp" {
				pairMode[k] = "crosssubnet"
			}
		}
	}
	return pairMode
}

// incr adds 1 to *n and returns the sum.
func incr(n *int) int {
	*n++
	return *n
}
