package decode

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"
)

// A router's capture may come named as a Calico node's (router-1-eth0.pcap renamed node-b-eth1.pcap):
// its point was then one of that node's underlays, and the packets the router forwarded crossed
// "inside the node" from it to the node's real eth0, one router hop apart, so a loss inside the router
// read as a host drop of the node (with clock warnings, as the router's delays were the node's). The
// traffic tells: a Calico node's pods' packets leave it unencapsulated with their TTL one below the
// pod's first (64, 128 or 255 less one: the node routed them once), while past a router on their way
// they are lower still. A file named as a Calico node's underlay (its one point, on a node with a pod
// veth among the inputs) where every such packet of that node's pods, minMergedDup or more, is two
// hops or more from its pod is not that node's: misnamedRouters reads it as a node of its own (named
// after the file), a router as any node without a pod veth, and the file's problem says so with the
// fix (--point).

// misnamed is a file misnamedRouters takes for a router's: its point's node and interface, and the
// packets of that node's pods it holds.
type misnamed struct {
	file        int
	node, iface string
	pods        int
	ttl         uint8 // the first such packet's TTL
}

// misnamedRouters returns cfg with the files of c (their Observations obs) named as a Calico node's
// underlay but crossed by that node's pods' packets only two hops or more from the pod given a node of
// their own (Explicit), and whether there are any; each such file's problem says so.
func misnamedRouters(c *Capture, obs [][]Observation, cfg PointConfig) (PointConfig, bool) {
	pods := nodePods(c)
	var found []misnamed
	for f, pt := range misnamedCandidates(c, cfg, pods) {
		if pt < 0 || f >= len(obs) {
			continue
		}
		p := &c.Points[pt]
		mine := pods[p.Node]
		n, one, ttl := 0, 0, uint8(0)
		for i := range obs[f] {
			o := &obs[f][i]
			if o.Flags&(FlagARP|FlagNotIP|FlagIPv6|FlagTruncated|FlagError) != 0 || o.Encap() != EncapNone || !mine[o.Src] {
				continue
			}
			if n++; n == 1 {
				ttl = o.TTL
			}
			if o.TTL == 63 || o.TTL == 127 || o.TTL == 254 {
				one++
			}
		}
		if n >= minMergedDup && one == 0 {
			found = append(found, misnamed{file: f, node: p.Node, iface: p.Iface, pods: n, ttl: ttl})
		}
	}
	if len(found) == 0 {
		return cfg, false
	}
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
		cfg.Why[fi.Path] = fmt.Sprintf("file name says %s/%s, but the traffic says a router: %s's pods' packets "+
			"cross it two hops or more from the pod (%d, TTL %d the first), where %s's own interfaces see them "+
			"one hop from it; read as a node of its own, %s", m.node, m.iface, m.node, m.pods, m.ttl, m.node, host)
		fi.problem("named as %s's %s, but none of the %d packets of %s's pods in it is one hop from its pod (TTL %d "+
			"the first; 63, 127 or 254 as %s itself sends them): they crossed a router before it, so it is not "+
			"%s's interface but a router's (or one further on) named as %s's. calipath reads it as a node of its "+
			"own, %s, a router; give it as --point ROUTER:IFACE=%s to name it", m.node, m.iface, m.pods, m.node,
			m.ttl, m.node, m.node, m.node, host, fi.Path)
	}
	return cfg, true
}

// misnamedCandidates returns, by file of c, the point of the files misnamedRouters looks at (-1 for
// others): those whose one point is an underlay of a node with pods (pods, by node), not given by
// --point.
func misnamedCandidates(c *Capture, cfg PointConfig, pods map[string]map[uint32]bool) []int {
	out := make([]int, len(c.Files))
	for f, fi := range c.Files {
		out[f] = -1
		pt := filePoint(c, f)
		if pt < 0 || cfg.Explicit[fi.Path] != (Identity{}) || c.Points[pt].Role != RoleUnderlay ||
			len(pods[c.Points[pt].Node]) == 0 {
			continue
		}
		out[f] = pt
	}
	return out
}

// nodePods returns the IPv4 addresses of each node's pods, from its pod veths' traffic (PodSrcs).
func nodePods(c *Capture) map[string]map[uint32]bool {
	pods := map[string]map[uint32]bool{}
	for _, p := range c.Points {
		if p.Role != RolePodVeth {
			continue
		}
		for _, a := range p.Traffic.PodSrcs[:min(p.Traffic.NPodSrc, len(p.Traffic.PodSrcs))] {
			if pods[p.Node] == nil {
				pods[p.Node] = map[uint32]bool{}
			}
			pods[p.Node][uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3])] = true
		}
	}
	return pods
}

// misnamedScanned is misnamedRouters for files scanned without their frames (ScanPoints): the files
// it looks at are read again for their Observations; it returns c identified again when it finds any.
func misnamedScanned(c *Capture, opts Options, t *Tables, cfg PointConfig) *Capture {
	obs := make([][]Observation, len(c.Files))
	read := false
	for f, pt := range misnamedCandidates(c, cfg, nodePods(c)) {
		if pt < 0 || streamInput(c.Files[f].Path, opts) {
			continue
		}
		var col obsCollector
		var fp fpCollector
		var st Stamps
		scanFile(c.Files[f].Path, c.Files[f].Index, opts, NewTables(), keepFrames(&col, &fp, &st), nil)
		obs[f], read = col.finish(), true
	}
	if !read {
		return c
	}
	named, ok := misnamedRouters(c, obs, cfg)
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
