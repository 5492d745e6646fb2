package decode

import (
	"fmt"
	"maps"
	"net/netip"
	"path/filepath"
	"strings"
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

// misnamed is a file misnamedRouters takes for a router's: its point's node and interface, and the
// packets of that node's pods it holds.
type misnamed struct {
	file        int
	node, iface string
	pods        int
	ttl         uint8 // the first such packet's TTL (the outer one when encapsulated)
	outer       int   // how many of pods were encapsulated
	ref         uint8 // the outer TTL the node's own files show for the first one's inner TTL
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
// that node's pods' packets only past a router given a node of their own (Explicit), and whether
// there are any; each such file's problem says so.
func misnamedRouters(c *Capture, obs [][]Observation, tabs []*Tables, cfg PointConfig) (PointConfig, bool) {
	pods := nodePods(c)
	seen := map[int]*podTTLs{}
	ctxs := map[*Tables][]HdrCtx{}  // each side table's contexts (CtxAll), read once when needed
	top := map[string]*[256]uint8{} // by node: the highest outer TTL of its own files, by inner TTL
	cands := misnamedCandidates(c, cfg, pods)
	for f, pt := range cands {
		if pt < 0 || f >= len(obs) {
			continue
		}
		t := c.Tables
		if f < len(tabs) && tabs[f] != nil {
			t = tabs[f]
		}
		node := c.Points[pt].Node
		s := podPackets(obs[f], t, ctxs, pods[node])
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
	var found []misnamed
	for f, pt := range cands {
		if s := seen[f]; s != nil {
			p := &c.Points[pt]
			if m, ok := pastRouter(s, top[p.Node]); ok {
				m.file, m.node, m.iface = f, p.Node, p.Iface
				found = append(found, m)
			}
		}
	}
	if len(found) == 0 {
		return cfg, false
	}
	return nameMisnamed(c, found, cfg), true
}

// podCacheBits sets the size of podPackets's cache of IPv4 sources (1<<podCacheBits slots).
const (
	podCacheBits  = 8
	podCacheSlots = 1 << podCacheBits
)

// podCached is a slot of podPackets's cache: whether source src is one of the node's pods.
type podCached struct {
	src     uint32
	is, set bool
}

// podPackets returns what the Observations of one file (side tables t, whose contexts ctxs keeps)
// hold of the packets of one node's pods (mine).
func podPackets(obs []Observation, t *Tables, ctxs map[*Tables][]HdrCtx, mine podSet) *podTTLs {
	s := &podTTLs{}
	v6 := map[uint32]bool{} // the file's IPv6 sources (Tables.V6 indexes) that are mine
	// v4 holds mine.v4's answers for the file's IPv4 sources, direct-mapped by address: a file's
	// packets come from a few sources, and a map lookup for each packet was most of this loop's cost.
	var v4 [podCacheSlots]podCached
	var all []HdrCtx // t's contexts, once an encapsulated packet needs them
	haveAll := false
	for i := range obs {
		o := &obs[i]
		if o.Flags&(FlagARP|FlagNotIP|FlagTruncated|FlagError) != 0 {
			continue
		}
		if o.Flags&FlagIPv6 == 0 {
			c := &v4[o.Src*0x9e3779b1>>(32-podCacheBits)]
			if !c.set || c.src != o.Src {
				*c = podCached{src: o.Src, is: mine.v4[o.Src], set: true}
			}
			if !c.is {
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
		ttl := o.TTL
		if o.Encap() != EncapNone {
			if !haveAll {
				var ok bool
				if all, ok = ctxs[t]; !ok {
					all = t.CtxAll()
					ctxs[t] = all
				}
				haveAll = true
			}
			if int(o.Ctx) >= len(all) || all[o.Ctx].OuterV == 0 {
				continue
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
	return s
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
	return cfg
}

// misnamedCandidates returns, by file of c, the point of the files misnamedRouters looks at (-1 for
// others): those whose one point is an underlay of a node with pods (pods, by node), not given by
// --point.
func misnamedCandidates(c *Capture, cfg PointConfig, pods map[string]podSet) []int {
	out := make([]int, len(c.Files))
	for f, fi := range c.Files {
		out[f] = -1
		pt := filePoint(c, f)
		if pt < 0 || cfg.Explicit[fi.Path] != (Identity{}) || c.Points[pt].Role != RoleUnderlay {
			continue
		}
		if s := pods[c.Points[pt].Node]; len(s.v4)+len(s.v6) == 0 {
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
	tabs := make([]*Tables, len(c.Files))
	read := false
	for f, pt := range misnamedCandidates(c, cfg, nodePods(c)) {
		if pt < 0 || streamInput(c.Files[f].Path, opts) {
			continue
		}
		var col obsCollector
		var fp fpCollector
		var st Stamps
		tabs[f] = NewTables()
		scanFile(c.Files[f].Path, c.Files[f].Index, opts, tabs[f], keepFrames(&col, &fp, &st), nil)
		obs[f], read = col.finish(), true
	}
	if !read {
		return c
	}
	named, ok := misnamedRouters(c, obs, tabs, cfg)
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
