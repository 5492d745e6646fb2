package decode

import (
	"fmt"
	"maps"
	"math/bits"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A router's capture may come named as a Calico node's (router-1-eth0.pcap renamed node-b-eth1.pcap):
// its point was then one of that node's underlays, and the packets the router forwarded crossed
// "inside the node" from it to the node's real eth0, one router hop apart, so a loss inside the router
// read as a host drop of the node (with clock warnings, as the router's delays were the node's). The
// traffic tells, in two ways:
//   - a Calico node's pods' packets leave it unencapsulated (BGP) with their TTL or hop limit one below
//     the pod's first (64, 128 or 255 less one: the node routed them once), while past a router on
//     their way they are lower still;
//   - encapsulated (IP-in-IP, VXLAN, over IPv4 or IPv6), the node's pods' packets carry the node's
//     outer header, whose TTL or hop limit the node sets (IP-in-IP copies the inner one, VXLAN sets
//     64): on every interface of the node itself it is the same for the same inner TTL, while past a
//     router it is one lower. A file whose outer TTLs are all below those of the node's other
//     underlay files, for every inner TTL, is past a router (with no other file of the node to
//     compare with, the outer headers say nothing).
//
// A file named as a Calico node's underlay (its one point, on a node with a pod veth among the
// inputs) where every such packet of that node's pods, minMergedDup or more, is past a router is not
// that node's: misnamedRouters reads it as a node of its own (named after the file), a router as any
// node without a pod veth, and the file's problem says so with the fix (--point).
//
// A file that holds none of the node's pods' packets (the node received and sent none) is told by
// another node's instead (gatewayed): that node's pods' packets in it carrying the outer TTL its own
// files show put the file on its link, and the file's ARP or neighbour discovery showing it resolve
// another address (its gateway), never the packets' destination, says the destination is past a
// router: the file is read as a router's as above. Without such resolution the captures cannot tell:
// the file is read as named, and its problem and FileInfo.MaybeRouter say it may be a router's. So
// is a file whose other node's packets crossed a router before it, on a link that resolved another
// address and never their destination (unless that address is the node's, they went on to a router),
// or that resolved no address at all: only their destination resolved on the link says the node is
// on it. Another node's pods' packets unencapsulated (BGP) are told by their own TTL (podHops) as the
// encapsulated ones by the outer one, but name no node's address: such a file is always in doubt. So
// is a file that holds too little to tell anything while another underlay file of its node holds
// packets (blankUnderlay), and two files of a node holding the same packets in no one order (farEnds).
// Past a router, such unencapsulated packets to the node's pods are what the node's own interface
// shows (read as named); none to them, on a link that resolved their own destination, they were
// delivered there: the file is a router's (on a link that resolved another address, in doubt).
//
// A file named as a node's underlay whose times are not the node's clock, the node's pods' packets in
// it all leaving the node before its pod veth or tunnel saw them, or all coming to it after, was not
// captured on the node (foreignClocks): it is read as a router's, with its own clock. Two files read
// as routers' that hold the same packets one router hop apart are said to be maybe one router's
// (oneHop).

// misnamed is a file misnamedRouters takes for a router's: its point's node and interface, and the
// packets of that node's pods it holds.
type misnamed struct {
	file        int
	node, iface string
	pods        int
	ttl         uint8 // the first such packet's TTL (the outer one when encapsulated)
	outer       int   // how many of pods were encapsulated
	ref         uint8 // the outer TTL the node's own files show for the first one's inner TTL

	// For a file that holds none of the node's pods' packets (gatewayed): the other node (sender) whose
	// pods' packets it holds (fresh of them; past of those past a router, all or none), from its
	// address from to the outer destination to, on a link where sender (or by, past a router)
	// resolved gw and never to.
	sender           string
	fresh, past      int
	from, to, gw, by netip.Addr
	plain            bool // the sender's packets were unencapsulated (from: a pod's address, to: a pod's)

	// For a file whose times are not its node's clock (foreignClocks): how many of the node's pods'
	// packets it shares with inner, one of the node's pod veths or tunnels, and which way they broke
	// one clock's order (early: leaving the node earlier than inner saw them; else coming to it
	// later), by skew (ns) the least.
	inner         string
	shared, wrong int
	early         bool
	skew          int64

	// Another file found (oneHop) that holds hop of the same packets one router hop from this one.
	peer string
	hop  int
}

// podHops returns how many hops from its pod an unencapsulated packet with TTL (hop limit) ttl is,
// from the nearest initial TTL at or above it (64, 128 or 255): 1 as the pod's node sends it on, 0
// for one not routed since the pod (a host-networked pod's).
func podHops(ttl uint8) int {
	for _, first := range []int{64, 128, 255} {
		if int(ttl) <= first {
			return first - int(ttl)
		}
	}
	return 0
}

// podTTLs is what one candidate file holds of its node's pods' packets: the unencapsulated ones
// (plain) and those one hop from the pod (one), and, by inner TTL, the encapsulated ones (outer)
// with the highest outer TTL among them (top).
type podTTLs struct {
	plain, one int
	all        int // plain and outer together
	first      uint8
	outer      [256]int
	top        [256]uint8
}

// podSet is a node's pods' addresses (nodePods).
type podSet struct {
	v4 map[uint32]bool
	v6 map[netip.Addr]bool
}

// misnamedRouters returns cfg with the files of c (their Observations obs, whose side tables are
// tabs[f], or c.Tables where tabs is short or nil) named as a Calico node's underlay but crossed by
// that node's pods' packets only past a router, or holding none of them but another node's on a
// link where that node resolved its gateway (gatewayed), given a node of their own (Explicit), and
// whether there are any; each such file's problem says so. A file gatewayed cannot tell is left as
// named, with a problem and its FileInfo.MaybeRouter saying it may be a router's.
func misnamedRouters(c *Capture, obs [][]Observation, stamps []Stamps, tabs []*Tables, cfg PointConfig) (PointConfig, bool) {
	pods := nodePods(c)
	seen := map[int]*podTTLs{}
	ctxs := map[*Tables][]HdrCtx{}  // each side table's contexts (CtxAll), read once when needed
	top := map[string]*[256]uint8{} // by node: the highest outer TTL of its own files, by inner TTL
	cands := misnamedCandidates(c, cfg, pods)
	tab := func(f int) *Tables {
		if f < len(tabs) && tabs[f] != nil {
			return tabs[f]
		}
		return c.Tables
	}
	look := func(nodes map[string]podSet) { // reads the candidates of nodes (all when nil) into seen and top
		for node := range nodes {
			delete(top, node)
		}
		for f, pt := range cands {
			if pt < 0 || f >= len(obs) {
				continue
			}
			node := c.Points[pt].Node
			if _, ok := nodes[node]; nodes != nil && !ok {
				continue
			}
			s := podPackets(obs[f], tab(f), ctxs, pods[node])
			seen[f] = s
			if top[node] == nil {
				top[node] = new([256]uint8)
			}
			for i, n := range s.outer {
				if n > 0 {
					top[node][i] = max(top[node][i], s.top[i])
				}
			}
		}
	}
	look(nil)
	// A file that holds none of its node's captured pods' packets may hold those of its pods whose veths
	// were not captured (blockPods): the node's pods are read with them, in all its files.
	var wide map[string]podSet
	for f, pt := range cands {
		if s := seen[f]; s == nil || s.all > 0 {
			continue
		}
		node := c.Points[pt].Node
		more := blockPods(obs[f], tab(f), pods, node)
		if len(more.v4)+len(more.v6) == 0 {
			continue
		}
		if wide == nil {
			wide = map[string]podSet{}
		}
		w, ok := wide[node]
		if !ok {
			w = podSet{v4: maps.Clone(pods[node].v4), v6: maps.Clone(pods[node].v6)}
			wide[node] = w
		}
		maps.Copy(w.v4, more.v4)
		maps.Copy(w.v6, more.v6)
	}
	if wide != nil {
		pods = maps.Clone(pods)
		maps.Copy(pods, wide)
		look(wide)
	}
	var found []misnamed
	var owner map[netip.Addr]string // every pod's node, built when a file holds none of its node's pods' packets
	var blank []int                 // files gatewayed found too little in to tell
	for f, pt := range cands {
		s := seen[f]
		if s == nil {
			continue
		}
		p := &c.Points[pt]
		if m, ok := pastRouter(s, top[p.Node]); ok {
			m.file, m.node, m.iface = f, p.Node, p.Iface
			found = append(found, m)
			continue
		}
		if s.all > 0 {
			continue
		}
		if owner == nil {
			owner = podOwners(pods)
		}
		t := c.Tables
		if f < len(tabs) && tabs[f] != nil {
			t = tabs[f]
		}
		switch m, v := gatewayed(obs[f], t, ctxs, owner, p.Node, cfg.NodeIPs[p.Node], top); v {
		case gwRouter:
			m.file, m.node, m.iface = f, p.Node, p.Iface
			found = append(found, m)
		case gwUnsure:
			m.node, m.iface = p.Node, p.Iface
			maybeRouter(c.Files[f], m)
		case gwBlank:
			blank = append(blank, f)
		}
	}
	found = append(found, foreignClocks(c, obs, stamps, tabs, ctxs, cands, pods, found)...)
	for _, f := range blank {
		blankUnderlay(c, obs, f, cands, found)
	}
	farEnds(c, obs, stamps, tabs, ctxs, cands, pods, found)
	if len(found) == 0 {
		return cfg, false
	}
	oneHop(c, obs, stamps, tabs, ctxs, pods, found)
	return nameMisnamed(c, found, cfg), true
}

// clockSample is how many distinct packets of its node's pods foreignClocks takes of a file: the
// first ones, enough for its evidence and cheap to look up the node's other files' packets in.
const clockSample = 1 << 10

// clockSlack is how far out of the node's order foreignClocks wants every packet it counts against a
// file: more than a capture's rounding (microsecond files beside nanosecond ones) or a timestamp taken
// a little early, so that only a clock of another device breaks it.
const clockSlack = int64(time.Millisecond)

// foreignClocks returns the candidate files of c (cands: their points) not found already whose times
// are not their node's clock: minMergedDup or more of the node's pods' packets in one (of its first
// clockSample) are also at one of the node's pod veths or tunnels (a file of its own, whose
// Observations obs, times stamps and side tables tabs are read, its first farSample packets), and
// either every one leaving the node is in it earlier than there, or every one coming to it later, each
// by more than clockSlack; one
// of those files where some packets keep that order each way says the file's clock is the node's. A packet leaves a node through its pod veth and tunnel before its underlay
// and comes to it the other way, and the kernel stamps every capture of one host with one clock, so a
// file whose times break that order for every such packet was not captured on the node: a router's
// (or another device's) on the node's link, named as the node's, with its own clock. Read as the
// node's, its clock is taken for the node's and the node's packets seem to cross it in no order
// (clock-skew's router-1 eth1 named node-b-eth0.pcap: an encap drop inside node-b where the lab has
// none); read as a node of its own, it gets a clock of its own. A file that shares fewer, or whose
// order is kept by some of them, is left alone: a clock a little off the node's, or a file with no
// other of the node's to compare with, says nothing.
func foreignClocks(c *Capture, obs [][]Observation, stamps []Stamps, tabs []*Tables, ctxs map[*Tables][]HdrCtx, cands []int,
	pods map[string]podSet, found []misnamed) []misnamed {
	done := map[int]bool{}
	for _, m := range found {
		done[m.file] = true
	}
	tab := func(f int) *Tables {
		if f < len(tabs) && tabs[f] != nil {
			return tabs[f]
		}
		return c.Tables
	}
	inner := map[string][]int{} // by node: the files whose one point is a pod veth or tunnel of it
	for f := range c.Files {
		if f >= len(obs) || f >= len(stamps) || len(obs[f]) == 0 {
			continue
		}
		if pt := filePoint(c, f); pt >= 0 && (c.Points[pt].Role == RolePodVeth || c.Points[pt].Role == RoleTunnel) {
			inner[c.Points[pt].Node] = append(inner[c.Points[pt].Node], f)
		}
	}
	var out []misnamed
	for f, pt := range cands {
		if pt < 0 || done[f] || f >= len(obs) || f >= len(stamps) || c.Files[f].MaybeRouter != "" {
			continue
		}
		p := &c.Points[pt]
		if len(inner[p.Node]) == 0 {
			continue
		}
		seen := linkSightings(obs[f], &stamps[f], tab(f), ctxs, pods[p.Node], false, clockSample)
		if len(seen) < minMergedDup {
			continue
		}
	files:
		for _, g := range inner[p.Node] {
			var outOK, outEarly, inOK, inLate int
			early, late := int64(-1), int64(-1) // the least skew each way
			t, n := tab(g), 0
			for i := range obs[g] {
				k, from, ok := podKey(&obs[g][i], t, ctxs, pods[p.Node], false)
				if !ok {
					continue
				}
				if n++; n > farSample {
					break
				}
				a, ok := seen[k]
				if !ok || a.dup || a.out != from {
					continue
				}
				d := stamps[g].Ts(i, &obs[g][i]) - a.t // how much later inner saw it than f
				switch {
				case from && d > clockSlack:
					if outEarly++; early < 0 || d < early {
						early = d
					}
				case from:
					outOK++
				case !from && d < -clockSlack:
					if inLate++; late < 0 || -d < late {
						late = -d
					}
				default:
					inOK++
				}
				if outOK > 0 && inOK > 0 {
					break files // the file keeps the node's order both ways: its clock is the node's
				}
			}
			m := misnamed{file: f, node: p.Node, iface: p.Iface, inner: c.Points[filePoint(c, g)].ID}
			switch {
			case outEarly >= minMergedDup && outOK == 0:
				m.shared, m.wrong, m.early, m.skew = outEarly+inOK+inLate, outEarly, true, early
			case inLate >= minMergedDup && inOK == 0:
				m.shared, m.wrong, m.skew = outOK+outEarly+inLate, inLate, late
			default:
				continue
			}
			out = append(out, m)
			break
		}
	}
	return out
}

// oneHop notes, in found (the files misnamedRouters read as routers of their own), each pair holding
// minMergedDup or more of the same packets (of the first one's node's pods, by obs, stamps and side
// tables tabs) where every one is one router hop further in one of the two: its TTL or hop limit (the
// outer one when encapsulated) one lower there, and seen there later. Such files are on two links of
// one router: its two interfaces, named as two nodes' (router-any-drop's router-1 eth0 and eth1 as
// node-b-eth1.pcap and node-a-eth1.pcap), or other devices' on those links, which the frames cannot
// tell (a router's interface and the one it faces see the same frames); so each is still read as a
// router of its own, and its problem says it may be one router with the other, and how to name them so.
func oneHop(c *Capture, obs [][]Observation, stamps []Stamps, tabs []*Tables, ctxs map[*Tables][]HdrCtx, pods map[string]podSet, found []misnamed) {
	if len(found) < 2 {
		return
	}
	tab := func(f int) *Tables {
		if f < len(tabs) && tabs[f] != nil {
			return tabs[f]
		}
		return c.Tables
	}
	for i := range found {
		a := &found[i]
		if a.file >= len(obs) || a.file >= len(stamps) {
			continue
		}
		mine := pods[a.node]
		seen := linkSightings(obs[a.file], &stamps[a.file], tab(a.file), ctxs, mine, false, farSample)
		for j := range found {
			b := &found[j]
			if i == j || a.peer != "" || b.file >= len(obs) || b.file >= len(stamps) {
				continue
			}
			n := 0
			for k, y := range linkSightings(obs[b.file], &stamps[b.file], tab(b.file), ctxs, mine, false, farSample) {
				x, ok := seen[k]
				if !ok || x.dup || y.dup {
					continue
				}
				if !(x.ttl == y.ttl+1 && y.t > x.t || y.ttl == x.ttl+1 && x.t > y.t) {
					n = 0
					break
				}
				n++
			}
			if n >= minMergedDup {
				a.peer, a.hop = c.Files[b.file].Path, n
				if b.peer == "" {
					b.peer, b.hop = c.Files[a.file].Path, n
				}
			}
		}
	}
}

// linkKey is what farEnds tells one packet by at two captures: its addresses, ports, sequence or echo
// number, length, protocol, TCP flags and TTL (the outer one too when encapsulated).
type linkKey struct {
	src, dst     netip.Addr
	seq          uint32
	sport, dport uint16
	len          uint16
	proto, ttl   uint8
	outer, flags uint8
}

// sighting is when a file saw the packet of a linkKey (dup: more than once), and whether it left the
// node (out) or came to it.
type sighting struct {
	t        int64
	dup, out bool
	ttl      uint8 // the TTL or hop limit routers lower: the outer one when encapsulated (hopTTL)
}

// farEnds says, in the problems of the candidate files of c (cands: their points) not found already,
// which may be a router's capture named as the node's though their node's pods' packets are as the
// node's own files show them (the TTLs equal: a router's interface facing the node): minMergedDup or
// more of those packets in it are also in another underlay file of the node (times from stamps) with
// the same TTL, every one leaving the node later than there and every one coming to it earlier, with
// some of each. A packet enters or leaves a node through one interface, so the file is further out on
// that one's link: a router's (or a switch's) interface facing the node, or a device the node's
// interface is on (a bridge's port, a bond's member), which the frames cannot tell apart; a VLAN
// sub-interface's parent (eth0 under eth0.100) is left alone. Two such files holding minMergedDup or
// more of the same packets whose times put neither further out (their clocks differ: a router's capture
// with the node's clock off) are each said the same way, the frames telling neither. The file is read
// as named, and its FileInfo.MaybeRouter says why it may be a router's.
func farEnds(c *Capture, obs [][]Observation, stamps []Stamps, tabs []*Tables, ctxs map[*Tables][]HdrCtx, cands []int,
	pods map[string]podSet, found []misnamed) {
	done := map[int]bool{}
	for _, m := range found {
		done[m.file] = true
	}
	byNode := map[string][]int{}
	for f, pt := range cands {
		if pt >= 0 && f < len(obs) && f < len(stamps) && !done[f] && c.Files[f].MaybeRouter == "" {
			byNode[c.Points[pt].Node] = append(byNode[c.Points[pt].Node], f)
		}
	}
	for _, node := range slices.Sorted(maps.Keys(byNode)) {
		files := byNode[node]
		if len(files) < 2 {
			continue
		}
		seen := make([]map[linkKey]sighting, len(files))
		for i, f := range files {
			t := c.Tables
			if f < len(tabs) && tabs[f] != nil {
				t = tabs[f]
			}
			seen[i] = linkSightings(obs[f], &stamps[f], t, ctxs, pods[node], true, farSample)
		}
		outer := make([]bool, len(files)) // further out than another: said
		other := func(i, j int) bool {
			p, q := &c.Points[cands[files[i]]], &c.Points[cands[files[j]]]
			return i != j && p.ID != q.ID && !strings.HasPrefix(p.Iface, q.Iface+".") && !strings.HasPrefix(q.Iface, p.Iface+".")
		}
		for i, f := range files {
			for j, g := range files {
				p, q := &c.Points[cands[f]], &c.Points[cands[g]]
				if !other(i, j) {
					continue
				}
				if out, in, ok := further(seen[i], seen[j]); ok {
					outer[i] = true
					m := misnamed{node: node, iface: p.Iface, fresh: out + in}
					fi := c.Files[f]
					fi.MaybeRouter = fmt.Sprintf("%s, read as %s's %s, holds %d of %s's pods' packets that %s holds too, with the "+
						"same TTL or hop limit, the %d leaving %s later than there and the %d coming to it earlier: it is further "+
						"out on that link, either a router's interface facing %s (or a switch's) named as %s's, or a device under "+
						"%s (a bridge's port, a bond's member)", fi.Path, node, p.Iface, m.fresh, node, q.ID, out, node, in, node,
						node, q.ID)
					fi.problem("named as %s's %s, but it may be a router's: %d of %s's pods' packets in it are at %s too, with the "+
						"same TTL or hop limit, the %d leaving %s later than there and the %d coming to it earlier, so it is further "+
						"out on that link (a packet enters or leaves a node through one interface): either a device under %s (a "+
						"bridge's port, a bond's member) or a router's interface facing %s named as %s's, which the frames cannot "+
						"tell. calipath reads it as named; if it is a router's, give it as --point ROUTER:IFACE=%s", node, p.Iface,
						m.fresh, node, q.ID, out, node, in, q.ID, node, node, fi.Path)
					break
				}
			}
		}
		// Two files that hold the same packets but whose times put neither further out: one of them is
		// still further out on the other's link (or a device under it), but which, the frames cannot
		// tell (their clocks differ: a router's runs on its own). Each is said to be in doubt.
		for i, f := range files {
			if outer[i] || c.Files[f].MaybeRouter != "" {
				continue
			}
			for j, g := range files {
				if !other(i, j) || outer[j] {
					continue
				}
				n := shared(seen[i], seen[j])
				if n < minMergedDup {
					continue
				}
				p, q := &c.Points[cands[f]], &c.Points[cands[g]]
				fi := c.Files[f]
				fi.MaybeRouter = fmt.Sprintf("%s, read as %s's %s, holds %d of %s's pods' packets that %s holds too, with the "+
					"same TTL or hop limit, but their times put neither further out on that link (their clocks differ, or "+
					"the packets crossed them in no one order): one of the two is further out than the other, a router's "+
					"interface facing %s (or a switch's) named as %s's or a device under the other, which the frames cannot "+
					"tell", fi.Path, node, p.Iface, n, node, q.ID, node, node)
				fi.problem("named as %s's %s, but it may be a router's: %d of %s's pods' packets in it are at %s too, with the "+
					"same TTL or hop limit, and a packet enters or leaves a node through one interface, so one of the two is "+
					"further out on the other's link (a router's interface facing %s named as %s's, or a device under the "+
					"other); their times do not say which (their clocks differ, or the packets crossed them in no one order). "+
					"calipath reads it as named; if it is a router's, give it as --point ROUTER:IFACE=%s, or as --point "+
					"%s:%s=%s if it is %s's", node, p.Iface, n, node, q.ID, node, node, fi.Path, node, p.Iface, fi.Path, node)
				break
			}
		}
	}
}

// shared returns how many packets the files that saw f and g each saw once.
func shared(f, g map[linkKey]sighting) int {
	n := 0
	for k, a := range f {
		if b, ok := g[k]; ok && !a.dup && !b.dup {
			n++
		}
	}
	return n
}

// farSample is how many distinct packets linkSightings keeps of a file: the first ones, enough for
// farEnds' evidence (minMergedDup), and a bound on its memory whatever the capture's size (a map of
// every packet of a node's pods would grow with the frames).
const farSample = 1 << 15

// linkSightings returns the sightings of the first limit packets of one node's pods (mine, as
// sources or destinations) in one file's Observations obs (times from st, side tables t, whose
// contexts ctxs keeps), by linkKey; with hops false, the keys leave out the TTLs (podKey).
func linkSightings(obs []Observation, st *Stamps, t *Tables, ctxs map[*Tables][]HdrCtx, mine podSet, hops bool, limit int) map[linkKey]sighting {
	out := map[linkKey]sighting{}
	for i := range obs {
		k, from, ok := podKey(&obs[i], t, ctxs, mine, hops)
		if !ok {
			continue
		}
		if s, ok := out[k]; ok {
			s.dup = true
			out[k] = s
			continue
		}
		if len(out) == limit {
			break
		}
		out[k] = sighting{t: st.Ts(i, &obs[i]), out: from, ttl: hopTTL(&obs[i], t, ctxs)}
	}
	return out
}

// podKey returns the linkKey of Observation o (side tables t, whose contexts ctxs keeps) when it is a
// packet to or from one node's pods (mine), not between two of them, and whether it comes from them.
// With hops false the key leaves out the TTLs (the outer one too), which the node's routing and
// encapsulation change: it tells one packet at the node's pod veth, its tunnel and its underlay.
func podKey(o *Observation, t *Tables, ctxs map[*Tables][]HdrCtx, mine podSet, hops bool) (linkKey, bool, bool) {
	if o.Flags&(FlagARP|FlagNotIP|FlagTruncated|FlagError) != 0 {
		return linkKey{}, false, false
	}
	k := linkKey{seq: o.Seq, sport: o.Sport, dport: o.Dport, len: o.Len, proto: o.Proto, flags: o.TCPFlags}
	if o.Flags&FlagIPv6 != 0 {
		k.src, k.dst = t.V6(o.Src), t.V6(o.Dst)
	} else {
		k.src = netip.AddrFrom4([4]byte{byte(o.Src >> 24), byte(o.Src >> 16), byte(o.Src >> 8), byte(o.Src)})
		k.dst = netip.AddrFrom4([4]byte{byte(o.Dst >> 24), byte(o.Dst >> 16), byte(o.Dst >> 8), byte(o.Dst)})
	}
	from, to := mine.has(k.src), mine.has(k.dst)
	if from == to {
		return linkKey{}, false, false // not one node's pod's, or between two of its pods
	}
	if !hops {
		return k, from, true
	}
	k.ttl = o.TTL
	if o.Encap() != EncapNone {
		all, ok := ctxs[t]
		if !ok {
			all = t.CtxAll()
			ctxs[t] = all
		}
		if int(o.Ctx) < len(all) {
			k.outer = all[o.Ctx].OuterTTL
		}
	}
	return k, from, true
}

// hopTTL returns the TTL or hop limit of Observation o (side tables t, whose contexts ctxs keeps)
// that a router lowers: the outer one when encapsulated, the packet's own otherwise.
func hopTTL(o *Observation, t *Tables, ctxs map[*Tables][]HdrCtx) uint8 {
	if o.Encap() == EncapNone {
		return o.TTL
	}
	all, ok := ctxs[t]
	if !ok {
		all = t.CtxAll()
		ctxs[t] = all
	}
	if int(o.Ctx) < len(all) {
		return all[o.Ctx].OuterTTL
	}
	return 0
}

// has says whether a is one of the pods' addresses.
func (s podSet) has(a netip.Addr) bool {
	if a.Is4() {
		b := a.As4()
		return s.v4[uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])]
	}
	return s.v6[a]
}

// further says whether the file that saw f is further out on a node's link than the one that saw g:
// every packet seen once by each left the node later in f and came to it earlier, out and in of them,
// minMergedDup or more in all with some of each.
func further(f, g map[linkKey]sighting) (out, in int, ok bool) {
	for k, a := range f {
		b, seen := g[k]
		if !seen || a.dup || b.dup {
			continue
		}
		switch {
		case a.out && a.t > b.t:
			out++
		case !a.out && a.t < b.t:
			in++
		default:
			return 0, 0, false
		}
	}
	return out, in, out > 0 && in > 0 && out+in >= minMergedDup
}

// podCacheBits sets the size of podPackets's cache of IPv4 sources (1<<podCacheBits slots).
const (
	podCacheBits  = 8
	podCacheSlots = 1 << podCacheBits
)

// podCached is a slot of podPackets's cache: whether source src is one of the node's pods, as one
// word: 4·src+3 when it is, 4·src+1 when it is not, 0 for a slot not set (which no source's two words
// are). The usual Observation's look is two compares of the slot's word with 4·src+3 (one LEAQ) and
// that less 2, where the three fields took a load and a compare each.
func podCached(src uint32, is bool) uint64 {
	if is {
		return uint64(src)<<2 | 3
	}
	return uint64(src)<<2 | 1
}

// podPackets returns what the Observations of one file (side tables t, whose contexts ctxs keeps)
// hold of the packets of one node's pods (mine).
func podPackets(obs []Observation, t *Tables, ctxs map[*Tables][]HdrCtx, mine podSet) *podTTLs {
	s := &podTTLs{}
	v6 := map[uint32]bool{} // the file's IPv6 sources (Tables.V6 indexes) that are mine
	// v4 holds mine.v4's answers for the file's IPv4 sources, direct-mapped by address: a file's
	// packets come from a few sources, and a map lookup for each packet was most of this loop's cost.
	var v4 [podCacheSlots]uint64 // (podCached words)
	var all []HdrCtx             // t's contexts, once an encapsulated packet needs them
	haveAll := false
	for len(obs) > 0 {
		// The usual Observation, without a call: a call on any way through the loop had the loop's
		// values stored and loaded again on every turn. What needs one (an IPv4 source not in the
		// cache, an IPv6 one, the first encapsulated packet's contexts) is done below, once.
		// The loop walks obs (what is left of it) by j, whose bounds it proves (an index into the
		// whole was tested again for every Observation, and kept on the stack), and counts s.all in n,
		// stored when it leaves (s.count counts it too).
		j, n := 0, s.all
		for ; j < len(obs); j++ {
			o := &obs[j]
			if o.Flags&(FlagARP|FlagNotIP|FlagTruncated|FlagError|FlagIPv6) != 0 {
				if o.Flags&(FlagARP|FlagNotIP|FlagTruncated|FlagError) != 0 {
					continue
				}
				break // IPv6
			}
			if c, mineW := v4[o.Src*0x9e3779b1>>(32-podCacheBits)], uint64(o.Src)<<2|3; c != mineW {
				if c == mineW-2 {
					continue // (not one of the node's pods)
				}
				break // (not in the cache)
			}
			// s.count(o, all), written out (a call here would cost what this loop saves); the inner
			// TTL (in) loaded once, the top one stored only when it rises
			in := o.TTL
			ttl := in
			if o.Encap() != EncapNone {
				if !haveAll {
					break
				}
				if int(o.Ctx) >= len(all) || all[o.Ctx].OuterV == 0 {
					continue
				}
				ttl = all[o.Ctx].OuterTTL
				s.outer[in]++
				if ttl > s.top[in] {
					s.top[in] = ttl
				}
			} else if s.plain++; ttl == 63 || ttl == 127 || ttl == 254 {
				s.one++
			}
			if n++; n == 1 {
				s.first = ttl
			}
		}
		if s.all = n; j == len(obs) {
			break
		}
		o := &obs[j]
		obs = obs[j+1:]
		if o.Flags&FlagIPv6 == 0 {
			c := &v4[o.Src*0x9e3779b1>>(32-podCacheBits)]
			if *c>>2 != uint64(o.Src) || *c == 0 {
				*c = podCached(o.Src, mine.v4[o.Src])
			}
			if *c&2 == 0 {
				continue
			}
		} else {
			is, ok := v6[o.Src]
			if !ok {
				is = mine.v6[t.V6(o.Src)]
				v6[o.Src] = is
			}
			if !is {
				continue
			}
		}
		if o.Encap() != EncapNone && !haveAll {
			var ok bool
			if all, ok = ctxs[t]; !ok {
				all = t.CtxAll()
				ctxs[t] = all
			}
			haveAll = true
		}
		s.count(o, all)
	}
	return s
}

// count adds o, a packet of one of the node's pods, to s (all: the contexts of its file's side
// tables, when it is encapsulated).
func (s *podTTLs) count(o *Observation, all []HdrCtx) {
	ttl := o.TTL
	if o.Encap() != EncapNone {
		if int(o.Ctx) >= len(all) || all[o.Ctx].OuterV == 0 {
			return
		}
		ttl = all[o.Ctx].OuterTTL
		s.outer[o.TTL]++
		s.top[o.TTL] = max(s.top[o.TTL], ttl)
	} else if s.plain++; ttl == 63 || ttl == 127 || ttl == 254 {
		s.one++
	}
	if s.all++; s.all == 1 {
		s.first = ttl
	}
}

// pastRouter says whether a file holding s of its node's pods' packets is past a router: none of
// them one hop from the pod (unencapsulated) and every encapsulated one's outer TTL below what the
// node's own files show for its inner TTL (top), minMergedDup or more in all. With no file of the
// node to compare with, the encapsulated ones count for nothing, but still forbid the verdict when
// they are as high as any.
func pastRouter(s *podTTLs, top *[256]uint8) (misnamed, bool) {
	m := misnamed{pods: s.plain, ttl: s.first}
	if s.one > 0 {
		return m, false
	}
	for in, n := range s.outer {
		if n == 0 {
			continue
		}
		if s.top[in] >= top[in] {
			return m, false
		}
		if m.outer == 0 {
			m.ref = top[in]
		}
		m.outer += n
	}
	m.pods += m.outer
	return m, m.pods >= minMergedDup
}

// What gatewayed finds.
const (
	gwNone   = iota // the file may be the node's: nothing says otherwise
	gwRouter        // a router's (or a switch's) on another node's link
	gwUnsure        // on another node's link; whether the node is on it too, the captures cannot tell
	gwBlank         // too few other nodes' packets to tell anything (blankUnderlay)
)

// gatewayed says whether a file named as node's underlay that holds none of node's pods' packets, whose
// Observations are obs (side tables t, whose contexts ctxs keeps), is on another node's link past
// which a router leads to node: it holds minMergedDup or more encapsulated packets of other nodes'
// pods (owner: every pod's node), each with the outer TTL or hop limit its sender's own files show
// for its inner TTL (top, by node: the sender just sent it, so the file is on the sender's link), and
// the file's ARP or neighbour discovery shows a sender resolving another address (its gateway) and
// never one of the packets' outer destinations (node's address, had node been on that link, is what
// the sender would have resolved to send them). Packets of the sender sent with an inner TTL its own
// files never showed, or some past a router and some not, leave the file as named (gwNone). A file on
// a sender's link whose frames resolve no address of the sender, nor any destination, cannot be told
// (gwUnsure); nor can one where all of them crossed a router before it, unless its frames resolve
// one of their destinations or one of the node's own addresses (own: --node-ip, cluster metadata), so
// that the node is on that link.
func gatewayed(obs []Observation, t *Tables, ctxs map[*Tables][]HdrCtx, owner map[netip.Addr]string, node string,
	own []netip.Addr, top map[string]*[256]uint8) (misnamed, int) {
	var m, plain misnamed // plain: the unencapsulated packets of other nodes' pods, as m the encapsulated ones
	var nds []ND
	type asked struct{ by, target netip.Addr }
	var resolved []asked            // address resolutions: who asked for, or was told, where target is
	from := map[netip.Addr]bool{}   // the senders' outer sources
	to := map[netip.Addr]bool{}     // and outer destinations
	var plainTo map[netip.Addr]bool // the unencapsulated packets' destinations
	toNode := 0                     // how many of those are node's pods'
	for i := range obs {
		o := &obs[i]
		switch {
		case o.Flags&(FlagTruncated|FlagError) != 0:
			continue
		case o.Flags&FlagARP != 0:
			switch a := t.ARP(o.Seq); a.Op {
			case 1:
				resolved = append(resolved, asked{netip.AddrFrom4(a.SPA), netip.AddrFrom4(a.TPA)})
			case 2:
				resolved = append(resolved, asked{netip.AddrFrom4(a.TPA), netip.AddrFrom4(a.SPA)})
			}
			continue
		case o.IsND():
			if nds == nil {
				nds = t.NDAll()
			}
			if o.Seq == 0 || int(o.Seq) >= len(nds) {
				continue
			}
			switch n := &nds[o.Seq]; n.Type {
			case 135:
				resolved = append(resolved, asked{netip.AddrFrom16(n.Src), netip.AddrFrom16(n.Target)})
			case 136:
				resolved = append(resolved, asked{netip.AddrFrom16(n.Dst), netip.AddrFrom16(n.Target)})
			}
			continue
		case o.Flags&FlagNotIP != 0:
			continue
		}
		src := netip.AddrFrom4([4]byte{byte(o.Src >> 24), byte(o.Src >> 16), byte(o.Src >> 8), byte(o.Src)})
		if o.Flags&FlagIPv6 != 0 {
			src = t.V6(o.Src)
		}
		sender, ok := owner[src]
		if !ok || sender == node {
			continue
		}
		if o.Encap() == EncapNone {
			// Unencapsulated (BGP): the pod's packet's own TTL, one below its first (64, 128 or 255)
			// as its node sends it, lower past a router.
			hops := podHops(o.TTL)
			if hops == 0 {
				continue // not routed by its node: no hop to count
			}
			if hops > 1 {
				plain.past++
			}
			dst := netip.AddrFrom4([4]byte{byte(o.Dst >> 24), byte(o.Dst >> 16), byte(o.Dst >> 8), byte(o.Dst)})
			if o.Flags&FlagIPv6 != 0 {
				dst = t.V6(o.Dst)
			}
			if owner[dst] == node {
				toNode++
			}
			if plainTo == nil {
				plainTo = map[netip.Addr]bool{}
			}
			plainTo[dst] = true
			if plain.fresh++; plain.fresh == 1 {
				plain.sender, plain.from, plain.ttl, plain.ref, plain.to = sender, src, o.TTL, o.TTL+uint8(hops-1), dst
			}
			continue
		}
		all, ok := ctxs[t]
		if !ok {
			all = t.CtxAll()
			ctxs[t] = all
		}
		if int(o.Ctx) >= len(all) || all[o.Ctx].OuterV == 0 {
			continue
		}
		ctx := &all[o.Ctx]
		ref := top[sender]
		if ref == nil || ref[o.TTL] == 0 {
			return m, gwNone // not comparable with the sender's own files
		}
		if ctx.OuterTTL < ref[o.TTL] {
			m.past++
		}
		if m.fresh++; m.fresh == 1 {
			m.sender, m.from, m.to, m.ttl, m.ref = sender, ctx.OuterSrcAddr(), ctx.OuterDstAddr(), ctx.OuterTTL, top[sender][o.TTL]
		}
		from[ctx.OuterSrcAddr()], to[ctx.OuterDstAddr()] = true, true
	}
	if m.fresh == 0 && plain.fresh >= minMergedDup {
		// Only unencapsulated packets: they carry no outer destination, the node's address, whose
		// resolution on the link would put the node on it, so whatever the link resolved (the sender's
		// gateway, or the node's own address there) the frames cannot tell whether the node is on it.
		if plain.past > 0 && plain.past < plain.fresh {
			return plain, gwNone
		}
		for _, r := range resolved {
			if slices.Contains(own, r.target) {
				return plain, gwNone // the node's own address resolved: it is on that link
			}
		}
		if plain.past > 0 && len(resolved) > 0 {
			// Past a router, on a link that resolved an address: packets to the node's pods are what
			// the node's own eth0 holds (the last router resolving the node), so nothing says the file
			// is not the node's. None to them, on a link that resolved their own destination: they were
			// delivered there, on their destination's link, and the node is not on their way (router-1's
			// eth2 in router-three-ifaces, toward ext-1, named as node-b's). Resolving another address,
			// the link says nothing of the node.
			if toNode > 0 {
				return plain, gwNone
			}
			plain.plain = true
			for _, r := range resolved {
				if plainTo[r.target] {
					plain.gw, plain.by = r.target, r.by
					return plain, gwRouter
				}
			}
			plain.gw, plain.by = resolved[0].target, resolved[0].by
			return plain, gwUnsure
		}
		if len(resolved) > 0 {
			plain.gw, plain.by = resolved[0].target, resolved[0].by
		}
		plain.plain = true
		return plain, gwUnsure
	}
	if m.fresh < minMergedDup {
		return m, gwBlank
	}
	if m.past > 0 && m.past < m.fresh {
		return m, gwNone
	}
	for _, r := range resolved {
		if to[r.target] || slices.Contains(own, r.target) {
			return m, gwNone // a destination, or an address of the node's (own: --node-ip, cluster metadata), is on the link
		}
		if m.past == 0 && from[r.by] && !from[r.target] && !m.gw.IsValid() {
			m.gw = r.target
		}
		if m.past > 0 && !from[r.target] && !m.gw.IsValid() {
			m.gw, m.by = r.target, r.by
		}
	}
	if m.past > 0 {
		// Past a router: the file may be the node's, reached through a router, or a router's past
		// which the node lies. That the link resolved another address (gw) and never the packets'
		// destination says the latter, unless gw is the node's own address too: it cannot tell. Nor
		// can it when the link resolved nothing at all (a capture started after the neighbours were
		// cached): only the destination resolved on the link says the node is on it.
		return m, gwUnsure
	}
	if !m.gw.IsValid() {
		return m, gwUnsure
	}
	return m, gwRouter
}

// maybeRouter says in fi's problems (once) that fi, named as m's node's underlay, may be a router's
// (m from gatewayed, gwUnsure), and sets fi.MaybeRouter so that a loss past its point says so too.
func maybeRouter(fi *FileInfo, m misnamed) {
	if fi.MaybeRouter != "" {
		return
	}
	if m.plain {
		hop, res := "one hop from their pod, as "+m.sender+" sends them on: it is on "+m.sender+"'s link", "no address resolution (ARP, neighbour discovery) in it"
		if m.past > 0 {
			hop = "two hops or more from their pod: they crossed a router before it"
		}
		if m.gw.IsValid() {
			res = fmt.Sprintf("the address %s resolved there (%s)", m.by, m.gw)
		}
		fi.MaybeRouter = fmt.Sprintf("%s, read as %s's %s, holds none of %s's pods' packets, and the %d unencapsulated packets "+
			"of %s's pods in it, to %s, carry TTL or hop limit %d the first, %s; unencapsulated, they name no node's address, "+
			"and %s does not tell whether %s is on that link or the file is a router's past which %s lies, named as %s's",
			fi.Path, m.node, m.iface, m.node, m.fresh, m.sender, m.to, m.ttl, hop, res, m.node, m.node, m.node)
		fi.problem("named as %s's %s, but it may be a router's: it holds none of %s's pods' packets, and the %d unencapsulated "+
			"(BGP) packets of %s's pods in it, to %s, carry TTL or hop limit %d the first, %s; they carry no outer header "+
			"naming %s's address, and %s does not tell whether %s is on that link. calipath reads it as named, and a loss "+
			"past it as %s's; if it is a router's, give it as --point ROUTER:IFACE=%s, or as --point %s:%s=%s if it is %s's",
			m.node, m.iface, m.node, m.fresh, m.sender, m.to, m.ttl, hop, m.node, res, m.node, m.node, fi.Path, m.node,
			m.iface, fi.Path, m.node)
		return
	}
	if m.past > 0 && !m.gw.IsValid() {
		fi.MaybeRouter = fmt.Sprintf("%s, read as %s's %s, holds none of %s's pods' packets, and the %d packets of %s's pods "+
			"in it, to %s, crossed a router before it (outer TTL or hop limit %d the first, where %s's own interfaces show "+
			"%d), on a link whose frames resolve no address (no ARP, no neighbour discovery): either it is %s's, reached "+
			"through that router, or a router's, past which %s lies, named as %s's", fi.Path, m.node, m.iface, m.node,
			m.fresh, m.sender, m.to, m.ttl, m.sender, m.ref, m.node, m.node, m.node)
		fi.problem("named as %s's %s, but it may be a router's: it holds none of %s's pods' packets, and the %d packets of "+
			"%s's pods in it, to %s, crossed a router before it (outer TTL or hop limit %d the first, where %s's own "+
			"interfaces show %d); no address resolution (ARP, neighbour discovery) in it shows %s resolved on that link, "+
			"so the frames cannot tell %s's interface from a router's past which %s lies. calipath reads it as named, "+
			"and a loss past it as %s's; if it is a router's, give it as --point ROUTER:IFACE=%s, or as --point %s:%s=%s "+
			"if it is %s's", m.node, m.iface, m.node, m.fresh, m.sender, m.to, m.ttl, m.sender, m.ref, m.to, m.node, m.node,
			m.node, fi.Path, m.node, m.iface, fi.Path, m.node)
		return
	}
	if m.past > 0 {
		fi.MaybeRouter = fmt.Sprintf("%s, read as %s's %s, holds none of %s's pods' packets, and the %d packets of %s's pods "+
			"in it, to %s, crossed a router before it (outer TTL or hop limit %d the first, where %s's own interfaces show "+
			"%d), on a link where %s resolved %s and never %s: either %s is %s's own address there, or the file is a "+
			"router's, past which %s lies, named as %s's", fi.Path, m.node, m.iface, m.node, m.fresh, m.sender, m.to, m.ttl,
			m.sender, m.ref, m.by, m.gw, m.to, m.gw, m.node, m.node, m.node)
		fi.problem("named as %s's %s, but it may be a router's: it holds none of %s's pods' packets, and the %d packets of "+
			"%s's pods in it, to %s, crossed a router before it (outer TTL or hop limit %d the first, where %s's own "+
			"interfaces show %d), on a link where %s resolved %s and never %s, which the packets were sent to: unless %s is "+
			"%s's own address there, they were passed on to a router at %s, past which %s lies. calipath reads it as named, "+
			"and a loss past it as %s's; if it is a router's, give it as --point ROUTER:IFACE=%s, or as --point %s:%s=%s if "+
			"it is %s's", m.node, m.iface, m.node, m.fresh, m.sender, m.to, m.ttl, m.sender, m.ref, m.by, m.gw, m.to, m.gw,
			m.node, m.gw, m.node, m.node, fi.Path, m.node, m.iface, fi.Path, m.node)
		return
	}
	fi.MaybeRouter = fmt.Sprintf("%s, read as %s's %s, holds none of %s's pods' packets, and the %d packets of %s's pods in "+
		"it, to %s, carry the outer TTL or hop limit %s's own interfaces show (%d the first): it is on %s's link, and no "+
		"address resolution (ARP, neighbour discovery) in it tells whether %s is on that link too or the file is a "+
		"router's facing %s named as %s's", fi.Path, m.node, m.iface, m.node, m.fresh, m.sender, m.to, m.sender, m.ttl,
		m.sender, m.node, m.sender, m.node)
	fi.problem("named as %s's %s, but it may be a router's: it holds none of %s's pods' packets, and the %d packets of %s's "+
		"pods in it, to %s, carry the outer TTL or hop limit %s's own interfaces show (%d the first), so it is on %s's "+
		"link; no address resolution (ARP, neighbour discovery) in it tells whether %s is on that link too. calipath "+
		"reads it as named, and a loss past it as %s's; if it is a router's, give it as --point ROUTER:IFACE=%s, or "+
		"as --point %s:%s=%s if it is %s's", m.node, m.iface, m.node, m.fresh, m.sender, m.to, m.sender, m.ttl, m.sender,
		m.node, m.node, fi.Path, m.node, m.iface, fi.Path, m.node)
}

// blankUnderlay says in the problems of file f of c, a candidate (cands: the files' points) that holds
// none of its node's pods' packets and too few of other nodes' to tell whose link it is on (gwBlank),
// that it may be a router's, when another underlay file of the node (not its VLAN parent or
// sub-interface, neither found a router's nor in doubt itself) holds IP packets (obs: by file): the
// node's underlays are all on
// its packets' path, so a router's capture (empty, or holding none of what the router dropped) named
// as the node's second underlay read as a host drop between the two, with nothing in it to say it is
// the node's. It sets FileInfo.MaybeRouter so that such a loss says so; the file is read as named.
func blankUnderlay(c *Capture, obs [][]Observation, f int, cands []int, found []misnamed) {
	fi := c.Files[f]
	if fi.MaybeRouter != "" {
		return
	}
	p := &c.Points[cands[f]]
	for g, pt := range cands {
		if pt < 0 || g == f || g >= len(obs) || c.Files[g].MaybeRouter != "" || slices.ContainsFunc(found, func(m misnamed) bool { return m.file == g }) {
			continue // a file in doubt itself, or a router's, says nothing of the node's path
		}
		q := &c.Points[pt]
		if q.Node != p.Node || q.ID == p.ID || strings.HasPrefix(p.Iface, q.Iface+".") || strings.HasPrefix(q.Iface, p.Iface+".") {
			continue
		}
		n := 0
		for i := range obs[g] {
			if obs[g][i].Flags&(FlagARP|FlagNotIP|FlagTruncated|FlagError) == 0 {
				n++
			}
		}
		if n == 0 {
			continue
		}
		fi.MaybeRouterAfter = true
		fi.MaybeRouter = fmt.Sprintf("%s, read as %s's %s, holds none of %s's pods' packets and too few other frames to "+
			"tell whose link it is on, while %s holds %d IP packets: nothing in it says it is %s's, and it may be a "+
			"router's named as %s's", fi.Path, p.Node, p.Iface, p.Node, q.ID, n, p.Node, p.Node)
		fi.problem("named as %s's %s, but it may be a router's: it holds none of %s's pods' packets and too few other "+
			"frames to tell whose link it is on, while %s holds %d IP packets, so nothing in it says it is %s's. "+
			"calipath reads it as named, on the path of %s's packets with %s, and a loss on the way to it as %s's; if "+
			"it is a router's, give it as --point ROUTER:IFACE=%s, or as --point %s:%s=%s if it is %s's", p.Node,
			p.Iface, p.Node, q.ID, n, p.Node, p.Node, q.ID, p.Node, fi.Path, p.Node, p.Iface, fi.Path, p.Node)
		return
	}
}

// blockPods returns the sources of a file's Observations obs (side tables t) that share the address
// block of node's captured pods (pods, by node; inBlock): pods of the node whose veths were not captured
// (or its tunnel's address). Calico's IPAM gives each node blocks of its own, so a file holding their
// packets but none of the captured pods' is told by them as by the captured pods' (pastRouter), not as
// a file on another node's link (gatewayed).
func blockPods(obs []Observation, t *Tables, pods map[string]podSet, node string) podSet {
	out := podSet{v4: map[uint32]bool{}, v6: map[netip.Addr]bool{}}
	if len(pods[node].v4)+len(pods[node].v6) == 0 {
		return out
	}
	seen4, seen6 := map[uint32]bool{}, map[uint32]bool{}
	for i := range obs {
		o := &obs[i]
		if o.Flags&(FlagARP|FlagNotIP|FlagTruncated|FlagError) != 0 {
			continue
		}
		if o.Flags&FlagIPv6 == 0 {
			if seen4[o.Src] {
				continue
			}
			seen4[o.Src] = true
			if inBlock(netip.AddrFrom4([4]byte{byte(o.Src >> 24), byte(o.Src >> 16), byte(o.Src >> 8), byte(o.Src)}), node, pods) {
				out.v4[o.Src] = true
			}
			continue
		}
		if seen6[o.Src] {
			continue
		}
		seen6[o.Src] = true
		if a := t.V6(o.Src); inBlock(a, node, pods) {
			out.v6[a] = true
		}
	}
	return out
}

// inBlock says whether address a, none of node's pods (pods, by node), shares a Calico block's prefix
// (/26, IPv6 /122) or longer with one of them, and a longer one than with any other node's pod.
func inBlock(a netip.Addr, node string, pods map[string]podSet) bool {
	if pods[node].has(a) || a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	block := 26
	if !a.Is4() {
		block = 122
	}
	local, remote := 0, 0
	for n, s := range pods {
		l := 0
		for p := range s.v4 {
			if a.Is4() {
				l = max(l, commonBits(a, netip.AddrFrom4([4]byte{byte(p >> 24), byte(p >> 16), byte(p >> 8), byte(p)})))
			}
		}
		for p := range s.v6 {
			l = max(l, commonBits(a, p))
		}
		if n == node {
			local = l
		} else {
			remote = max(remote, l)
		}
	}
	return local >= block && local > remote
}

// commonBits returns how many leading bits addresses a and b share (0 when their families differ).
func commonBits(a, b netip.Addr) int {
	if a.Is4() != b.Is4() {
		return 0
	}
	x, y := a.As16(), b.As16()
	n := 0
	for i := range x {
		if d := x[i] ^ y[i]; d != 0 {
			n += bits.LeadingZeros8(d)
			break
		}
		n += 8
	}
	if a.Is4() {
		n -= 96
	}
	return n
}

// podOwners returns the node of every pod address of pods (by node); a pod address two nodes claim
// goes to the first by name.
func podOwners(pods map[string]podSet) map[netip.Addr]string {
	nodes := slices.Sorted(maps.Keys(pods))
	out := map[netip.Addr]string{}
	for i := len(nodes) - 1; i >= 0; i-- {
		s := pods[nodes[i]]
		for a := range s.v4 {
			out[netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})] = nodes[i]
		}
		for a := range s.v6 {
			out[a] = nodes[i]
		}
	}
	return out
}

// nameMisnamed returns cfg with each file found given a node of its own, named after the file, and
// the file's problem saying so.
func nameMisnamed(c *Capture, found []misnamed, cfg PointConfig) PointConfig {
	cfg.Explicit, cfg.Why = maps.Clone(cfg.Explicit), maps.Clone(cfg.Why)
	if cfg.Explicit == nil {
		cfg.Explicit = map[string]Identity{}
	}
	if cfg.Why == nil {
		cfg.Why = map[string]string{}
	}
	for _, m := range found {
		fi := c.Files[m.file]
		host := strings.TrimSuffix(filepath.Base(fi.Path), filepath.Ext(fi.Path))
		cfg.Explicit[fi.Path] = Identity{Node: host, Iface: m.iface}
		hop := fmt.Sprintf("two hops or more from the pod (%d, TTL %d the first)", m.pods, m.ttl)
		why := fmt.Sprintf("none of the %d packets of %s's pods in it is one hop from its pod (TTL %d the first; "+
			"63, 127 or 254 as %s itself sends them)", m.pods, m.node, m.ttl, m.node)
		if m.inner != "" {
			way := fmt.Sprintf("the %d leaving %s are in it earlier than at %s, by %s or more", m.wrong, m.node, m.inner, time.Duration(m.skew))
			if !m.early {
				way = fmt.Sprintf("the %d coming to %s are in it later than at %s, by %s or more", m.wrong, m.node, m.inner, time.Duration(m.skew))
			}
			cfg.Why[fi.Path] = fmt.Sprintf("file name says %s/%s, but its times are not %s's clock: of %d of %s's pods' packets "+
				"it shares with %s, %s; read as a node of its own, %s", m.node, m.iface, m.node, m.shared, m.node, m.inner, way, host)
			fi.problem("named as %s's %s, but its times are not %s's clock: of the %d packets of %s's pods it shares with %s, "+
				"%s. A packet leaves a node through its pod veth or tunnel before its underlay, and comes to it the other "+
				"way, and the kernel stamps every capture of one host with one clock: the file was not captured on %s "+
				"but on another device with a clock of its own, a router's interface facing %s (or a switch's) named as "+
				"%s's. calipath reads it as a node of its own, %s, a router, with its own clock; give it as --point "+
				"ROUTER:IFACE=%s to name it (were it %s's own, taken with another clock such as the NIC's hardware "+
				"timestamps, its point is still one of its own: its times are not %s's)", m.node, m.iface, m.node,
				m.shared, m.node, m.inner, way, m.node, m.node, m.node, host, fi.Path, m.node, m.node)
			continue
		}
		if m.plain {
			cfg.Why[fi.Path] = fmt.Sprintf("file name says %s/%s, but the traffic says a router: none of %s's pods' packets "+
				"cross it, nor any to them, and %s's pods' packets in it crossed a router before it (%d, TTL %d the first) "+
				"to %s, which %s resolved on that link; read as a node of its own, %s",
				m.node, m.iface, m.node, m.sender, m.fresh, m.ttl, m.to, m.by, host)
			fi.problem("named as %s's %s, but none of %s's pods' packets is in it, nor any to them, and the %d unencapsulated "+
				"packets of %s's pods in it, to %s the first, crossed a router before it (TTL or hop limit %d the first), on "+
				"a link where %s resolved %s, their own destination: they were delivered there, on their destination's "+
				"link, and %s is not on their way. It is not %s's interface but a router's (or that host's) named as %s's. "+
				"calipath reads it as a node of its own, %s, a router; give it as --point ROUTER:IFACE=%s to name it",
				m.node, m.iface, m.node, m.fresh, m.sender, m.to, m.ttl, m.by, m.gw, m.node, m.node, m.node, host, fi.Path)
			continue
		}
		if m.fresh > 0 {
			cfg.Why[fi.Path] = fmt.Sprintf("file name says %s/%s, but the traffic says a router: none of %s's packets cross it, "+
				"and %s's pods' packets to %s cross it as %s sent them (%d, outer TTL %d the first, as on %s's own interfaces) "+
				"on a link where %s resolved %s, never %s; read as a node of its own, %s",
				m.node, m.iface, m.node, m.sender, m.to, m.sender, m.fresh, m.ttl, m.sender, m.sender, m.gw, m.to, host)
			fi.problem("named as %s's %s, but none of %s's pods' packets is in it, and the %d packets of %s's pods in it, to %s, "+
				"carry the outer TTL or hop limit %s's own interfaces show (%d the first): it is on %s's link, where %s "+
				"resolved %s (its gateway) and never %s, so %s was reached through a router and is not on that link. It is "+
				"not %s's interface but a router's facing %s named as %s's. calipath reads it as a node of its own, %s, a "+
				"router; give it as --point ROUTER:IFACE=%s to name it (or as --point %s:%s=%s if %s is %s's own address)",
				m.node, m.iface, m.node, m.fresh, m.sender, m.to, m.sender, m.ttl, m.sender, m.sender, m.gw, m.to, m.to,
				m.node, m.sender, m.node, host, fi.Path, m.node, m.iface, fi.Path, m.gw, m.node)
			continue
		}
		if m.outer > 0 {
			hop = fmt.Sprintf("a router past %s (%d, %d encapsulated, outer TTL %d the first where %s's own "+
				"interfaces show %d)", m.node, m.pods, m.outer, m.ttl, m.node, m.ref)
			why = fmt.Sprintf("the %d packets of %s's pods in it (%d encapsulated by %s) carry an outer TTL or "+
				"hop limit below what %s's other files show for them (%d the first, where they show %d)",
				m.pods, m.node, m.outer, m.node, m.node, m.ttl, m.ref)
		}
		cfg.Why[fi.Path] = fmt.Sprintf("file name says %s/%s, but the traffic says a router: %s's pods' packets "+
			"cross it %s, where %s's own interfaces see them as %s sends them; read as a node of its own, %s",
			m.node, m.iface, m.node, hop, m.node, m.node, host)
		fi.problem("named as %s's %s, but %s: they crossed a router before it, so it is not %s's interface but "+
			"a router's (or one further on) named as %s's. calipath reads it as a node of its own, %s, a router; "+
			"give it as --point ROUTER:IFACE=%s to name it", m.node, m.iface, why, m.node, m.node, host, fi.Path)
	}
	for _, m := range found {
		if m.peer == "" {
			continue
		}
		fi := c.Files[m.file]
		host := strings.TrimSuffix(filepath.Base(fi.Path), filepath.Ext(fi.Path))
		peer := strings.TrimSuffix(filepath.Base(m.peer), filepath.Ext(m.peer))
		fi.problem("it and %s, each read as a router of its own (%s, %s), hold %d of the same packets one router hop "+
			"apart (TTL or hop limit one lower, and later, in the one further on): they are on two links of one router, "+
			"maybe its two interfaces, which the frames cannot tell from other devices' on those links. calipath reads "+
			"them as two routers, and a loss between them as between the two; if they are one router's, give both "+
			"with one name, --point ROUTER:IFACE=%s --point ROUTER:IFACE2=%s, to read them as one", m.peer, host, peer,
			m.hop, fi.Path, m.peer)
	}
	return cfg
}

// misnamedCandidates returns, by file of c, the point of the files misnamedRouters looks at (-1 for
// others): those whose one point is an underlay of a node with a pod veth (a key of pods, by node,
// whether or not its pods' addresses are known), not given by --point.
func misnamedCandidates(c *Capture, cfg PointConfig, pods map[string]podSet) []int {
	out := make([]int, len(c.Files))
	for f, fi := range c.Files {
		out[f] = -1
		pt := filePoint(c, f)
		if pt < 0 || cfg.Explicit[fi.Path] != (Identity{}) || c.Points[pt].Role != RoleUnderlay {
			continue
		}
		if _, ok := pods[c.Points[pt].Node]; !ok {
			continue
		}
		out[f] = pt
	}
	return out
}

// nodePods returns the addresses of each node's pods, from its pod veths' traffic (PodSrcs, PodSrcs6).
func nodePods(c *Capture) map[string]podSet {
	pods := map[string]podSet{}
	for _, p := range c.Points {
		if p.Role != RolePodVeth {
			continue
		}
		s, ok := pods[p.Node]
		if !ok {
			s = podSet{v4: map[uint32]bool{}, v6: map[netip.Addr]bool{}}
			pods[p.Node] = s
		}
		for _, a := range p.Traffic.PodSrcs[:min(p.Traffic.NPodSrc, len(p.Traffic.PodSrcs))] {
			s.v4[uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3])] = true
		}
		for _, a := range p.Traffic.PodSrcs6[:min(p.Traffic.NPodSrc6, len(p.Traffic.PodSrcs6))] {
			s.v6[netip.AddrFrom16(a)] = true
		}
	}
	return pods
}

// misnamedScanned is misnamedRouters for files scanned without their frames (ScanPoints): the files
// it looks at are read again for their Observations; it returns c identified again when it finds any.
func misnamedScanned(c *Capture, opts Options, t *Tables, cfg PointConfig) *Capture {
	obs := make([][]Observation, len(c.Files))
	stamps := make([]Stamps, len(c.Files))
	tabs := make([]*Tables, len(c.Files))
	read := false
	cands := misnamedCandidates(c, cfg, nodePods(c))
	nodes := map[string]bool{} // the candidates' nodes, whose pod veths and tunnels foreignClocks reads too
	for _, pt := range cands {
		if pt >= 0 {
			nodes[c.Points[pt].Node] = true
		}
	}
	for f, pt := range cands {
		if pt < 0 {
			if pt = filePoint(c, f); pt < 0 || !nodes[c.Points[pt].Node] || c.Points[pt].Role != RolePodVeth && c.Points[pt].Role != RoleTunnel {
				continue
			}
		}
		if streamInput(c.Files[f].Path, opts) {
			continue
		}
		var col obsCollector
		var fp fpCollector
		tabs[f] = NewTables()
		var fn ScanFunc
		o := opts
		if cands[f] < 0 && !stopped(opts.Done) {
			// A pod veth or tunnel: foreignClocks looks at its first farSample packets only, so the
			// read stops soon after them (scanFile looks at Done every progressEvery frames).
			done, n := make(chan struct{}), 0
			o.Done = done
			fn = func(*Record, *Packet, *Observation) {
				if n++; n == farSample {
					close(done)
				}
			}
		}
		scanFile(c.Files[f].Path, c.Files[f].Index, o, tabs[f], fn, &frameKeeper{&col, &fp, &stamps[f]}, nil)
		obs[f], read = col.finish(), read || cands[f] >= 0
	}
	if !read {
		return c
	}
	named, ok := misnamedRouters(c, obs, stamps, tabs, cfg)
	if !ok {
		return c
	}
	u := c.Unsearched
	c = IdentifyFiles(c.Files, t, named)
	c.Unsearched = u
	return c
}

// filePoint returns the one point all sources of file f of c belong to, or -1 when they belong to
// several (or none).
func filePoint(c *Capture, f int) int {
	pt := -1
	for si, s := range c.Sources {
		if int(s.File) != f || si >= len(c.PointOf) {
			continue
		}
		if pt >= 0 && c.PointOf[si] != pt {
			return -1
		}
		pt = c.PointOf[si]
	}
	return pt
}
