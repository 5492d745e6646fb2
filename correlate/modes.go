package correlate

import "github.com/calipath/calipath/decode"

// modeSample is how many pod-to-pod journeys per node pair decide its mode; voteSample how many
// journeys per flow direction vote for its path's end points.
const (
	modeSample = 64
	voteSample = 256
)

// modes works out the datapath mode of each node pair from the frames at underlay and tunnel points.
func (a *analysis) modes() map[[2]int]string {
	w := a.w
	pairMode := map[[2]int]string{}
	nn := len(w.nodes)
	seen := make([]int, nn*nn) // journeys per (source node, destination node)
	owners := ownerCache{w: w}
	for j := 0; j < a.nJ; j++ {
		h := a.hops(j)
		if len(h) == 0 {
			continue
		}
		// Only pod-to-pod packets tell the mode between their nodes.
		o0, _ := a.obs(a.w.pktHop(h))
		ol, _ := a.obs(a.w.pktLast(h))
		sp, ok1 := owners.ownerOf(o0.Flags&decode.FlagIPv6 != 0, o0.Src)
		dp, ok2 := owners.ownerOf(ol.Flags&decode.FlagIPv6 != 0, ol.Dst)
		if !ok1 || !ok2 {
			continue
		}
		src, dst := w.pointNode[sp], w.pointNode[dp]
		if seen[src*nn+dst]++; seen[src*nn+dst] > modeSample {
			continue // the mode of this pair is settled
		}
		key := [2]int{min(src, dst), max(src, dst)}
		if src == dst {
			pairMode[key] = "same-node"
			continue
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
			continue
		}
		if prev, ok := pairMode[key]; !ok || prev == "bgp" {
			pairMode[key] = mode
		}
	}
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
