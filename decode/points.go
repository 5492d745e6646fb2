package decode

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Role is what a capture point is on the Calico datapath.
type Role uint8

// Capture point roles.
const (
	RoleUnknown  Role = iota
	RolePodVeth       // cali*: the host end of a pod's veth
	RoleTunnel        // tunl0, vxlan.calico, wireguard.cali
	RoleUnderlay      // eth0, ens*, bond*, …: the node's own network
	RoleAny           // tcpdump -i any without interface indexes (LINUX_SLL v1)
)

var roleNames = [...]string{"unknown", "pod-veth", "tunnel", "underlay", "any"}

// String returns the role's name as calipath prints it.
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "unknown"
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, bool) {
	for i, n := range roleNames {
		if n == s {
			return Role(i), true
		}
	}
	return RoleUnknown, false
}

// Point is a capture point: one interface of one node, seen in one or more capture sources.
type Point struct {
	ID     string // "node/iface"
	Node   string
	Iface  string
	Role   Role
	Reason string // how node, interface and role were worked out
	Pod    string // the pod ("namespace/name") a capture's layout names (Gadget description, bundle path); "" otherwise
	// Tie says, for a -i any interface left unnamed, which captures of two different interfaces of its
	// node carried its frames equally well ("" otherwise): the frames cannot name it.
	Tie     string
	Sources []uint16 // capture sources (indexes into Tables.Sources) that make up this point
	// SourceReasons is each source's own reason, in Sources' order: Reason is the first's. A point made
	// of several captures (an interface's own and a -i any file's index named after it, a pcapng and a
	// pcap of it) was worked out from each.
	SourceReasons []string
	Traffic       Traffic // merged over the sources
}

// NodeIP is an address of a node with the reason calipath believes it.
type NodeIP struct {
	Node   string
	IP     netip.Addr
	Reason string
}

// Identity is an explicit node and interface for a file (from --point NODE:IFACE=FILE).
type Identity struct {
	Node, Iface string
}

// PointConfig is what the user said about capture points.
type PointConfig struct {
	Explicit map[string]Identity         // file path → identity (--point)
	Links    map[string]map[int32]string // node → ifindex → name (--links NODE=FILE, from `ip -o link`)
	// LinkMACs is, per node of Links, its interfaces by MAC (from the same dump): they name the
	// interfaces of a router's cooked v1 capture split by link address.
	LinkMACs map[string]map[[6]byte]string
	NodeIPs  map[string][]netip.Addr // node → addresses (--node-ip)
	// Why, for a file in Explicit, says how its identity is known when --point did not give it (a
	// bundle's layout); the reason is "--point" otherwise.
	Why map[string]string
	// Pods, for a file in Explicit, is the pod ("namespace/name") the bundle's layout names (a Calico
	// PacketCapture's workload endpoint).
	Pods map[string]string
	// LinksFrom names, per node of Links, where its names came from when --links did not give them.
	LinksFrom map[string]string
	// Drops are what capture tools said they dropped (tcpdump's "N packets dropped by kernel"), by
	// file path.
	Drops []CaptureDrop
	// NodeIPWhy says why an address of NodeIPs is its node's when not --node-ip (cluster metadata:
	// "InternalIP in nodes.json"). Such an address is kept only for a node with capture points or
	// when an outer header of the captures carries it: a cluster's other nodes stay out.
	NodeIPWhy map[netip.Addr]string
	// PodMACs are the pods' MACs (the pod end of each veth: a Calico WorkloadEndpoint's spec.mac, from
	// cluster metadata), each with its pod and node: an interface of no role the traffic shows whose
	// frames came from one of them (and no other pod's) on that pod's node is that pod's veth.
	PodMACs map[[6]byte]PodMAC
}

// PodMAC is a pod a MAC belongs to (PointConfig.PodMACs).
type PodMAC struct {
	Node string // the node the metadata puts the pod on, as the captures name it
	Pod  string // "namespace/name"
	// Iface is the host end of the pod's veth (spec.interfaceName; "" when not given): the name of a
	// -i any interface index found to be the pod's veth, where nothing else names it.
	Iface string
	// Why says where the MAC is said: "WorkloadEndpoint default/node--b-k8s-pod--b-eth0 in weps.yaml".
	Why string
}

// FileMeta is what point identification needs to know about one input file.
type FileMeta struct {
	Path       string
	Interfaces []Interface
	// CookedIfaces are a router's cooked v1 capture's interfaces, split by link address (FileInfo).
	CookedIfaces []CookedIface
}

// ifacePattern recognises interface names in file names and pcapng blocks.
var ifacePattern = regexp.MustCompile(`^(cali[0-9a-f]{1,15}|tunl\d+|vxlan\.calico|vxlan-v6\.calico|wireguard\.cali|wg-v6\.cali|` +
	`eth\d+|ens\w+|enp\w+|eno\d+|enx\w+|em\d+|bond\d+(\.\d+)?|br-?\w*|wg[\w.-]*|cni\d+|flannel\.\d+|` +
	`lo|any|veth\w+|team\d+|p\d+p\d+|ib\d+|vlan\d+|vxlan\w*|ipip\w*|eth\d+\.\d+)$`)

// anyStages names the pseudo interfaces of Linux cooked v1 captures.
var anyStages = map[int32]struct {
	name string
	role Role
	why  string
}{
	IfAnyPod:      {"pod", RolePodVeth, "its frames without encapsulation to and from the node's pods (the pods' veths)"},
	IfAnyTunnel:   {"tunnel", RoleTunnel, "its frames without a link address or between VXLAN VTEPs (the tunnel device)"},
	IfAnyUnderlay: {"underlay", RoleUnderlay, "its encapsulated and other frames (the underlay)"},
	IfAnyVLAN:     {"vlan", RoleUnderlay, "its frames with an 802.1Q tag (a VLAN sub-interface's parent)"},
}

// LooksLikeIface reports whether s looks like a Linux interface name calipath knows.
func LooksLikeIface(s string) bool { return ifacePattern.MatchString(s) }

// RoleOfIface returns the role an interface's name implies (RoleUnknown when it implies none).
func RoleOfIface(name string) Role {
	switch {
	case strings.HasPrefix(name, "cali"):
		return RolePodVeth
	case strings.HasPrefix(name, "tunl"), name == "vxlan.calico", name == "vxlan-v6.calico",
		name == "wireguard.cali", name == "wg-v6.cali":
		return RoleTunnel
	case name == "any":
		return RoleAny
	}
	for _, p := range []string{"eth", "ens", "enp", "eno", "enx", "em", "bond", "team", "p1p", "p2p", "ib", "vlan"} {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return RoleUnderlay
		}
	}
	return RoleUnknown
}

// SplitFileName splits a capture file name `<node>-<iface>.pcap[ng][.gz]` into node and interface.
// Node names may contain dashes: the interface is the last dash-separated part that looks like one.
// When no part looks like an interface, iface is "" and node is the whole stem.
func SplitFileName(path string) (node, iface string) {
	stem := filepath.Base(path)
	for {
		ext := strings.ToLower(filepath.Ext(stem))
		if ext != ".gz" && ext != ".pcap" && ext != ".pcapng" && ext != ".cap" && ext != ".ntar" && ext != ".dmp" {
			break
		}
		stem = stem[:len(stem)-len(ext)]
	}
	for _, d := range []string{"vxlan-v6.calico", "wg-v6.cali"} { // names with a dash of their own
		if n, ok := strings.CutSuffix(stem, "-"+d); ok && n != "" {
			return n, d
		}
	}
	parts := strings.Split(stem, "-")
	for i := len(parts) - 1; i >= 1; i-- {
		if LooksLikeIface(parts[i]) {
			return strings.Join(parts[:i], "-"), strings.Join(parts[i:], "-")
		}
	}
	return stem, ""
}

// ParseIPLink parses the saved output of `ip -o link` (or `ip link`) into ifindex → name. A line
// that is not an interface makes it fail, naming the line.
func ParseIPLink(r io.Reader) (map[int32]string, error) {
	rows, bad, err := ParseIPLinkRows(r)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, bad[0]
	}
	m := map[int32]string{}
	for _, l := range rows {
		m[l.Index] = l.Name
	}
	return m, nil
}

// IPLink is one interface of an `ip -o link` (or `ip link`) dump.
type IPLink struct {
	Index int32
	Name  string   // without the "@peer" suffix
	Flags []string // between < and >: UP, LOWER_UP, NOARP, …
	MTU   int      // 0 when the line gives none
	State string   // operational state (UP, DOWN, UNKNOWN, LOWERLAYERDOWN …), "" when not given
	MAC   [6]byte  // its link/ether address (zero when the dump gives none)
	Line  int      // 1-based line of the dump
	Text  string   // the line up to its first continuation ("\\" in -o output)
}

// LineError is a line of a dump that could not be read.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseIPLinkRows parses the saved output of `ip -o link` (or `ip link`): one IPLink per interface,
// and the lines that are not one (each a *LineError, the rest still read). The error is for a dump
// that cannot be read or holds no interface at all.
func ParseIPLinkRows(r io.Reader) ([]IPLink, []error, error) {
	var rows []IPLink
	var bad []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if s == "" || s[0] == ' ' || s[0] == '\t' {
			if m, ok := linkEther(s); ok && len(rows) > 0 && rows[len(rows)-1].MAC == ([6]byte{}) {
				rows[len(rows)-1].MAC = m // a continuation line of the non -o format
			}
			continue
		}
		idx, rest, ok := strings.Cut(s, ": ")
		if !ok {
			bad = append(bad, &LineError{line, fmt.Sprintf("not `ip -o link` output: %q", trimForMsg(s))})
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(idx), 10, 32)
		if err != nil || n <= 0 {
			bad = append(bad, &LineError{line, fmt.Sprintf("bad interface index %q", trimForMsg(idx))})
			continue
		}
		name, attrs, _ := strings.Cut(rest, ":")
		name, _, _ = strings.Cut(name, "@")
		name = strings.TrimSpace(name)
		if name == "" {
			bad = append(bad, &LineError{line, "no interface name"})
			continue
		}
		text, _, _ := strings.Cut(s, "\\")
		l := IPLink{Index: int32(n), Name: name, Line: line, Text: strings.TrimSpace(text)}
		l.MAC, _ = linkEther(s)
		if i, j := strings.IndexByte(attrs, '<'), strings.IndexByte(attrs, '>'); i >= 0 && j > i {
			if f := attrs[i+1 : j]; f != "" {
				l.Flags = strings.Split(f, ",")
			}
			attrs = attrs[j+1:]
		}
		attrs, _, _ = strings.Cut(attrs, "\\")
		fs := strings.Fields(attrs)
		for i := 0; i+1 < len(fs); i++ {
			switch fs[i] {
			case "mtu":
				if v, err := strconv.Atoi(fs[i+1]); err == nil && v > 0 {
					l.MTU = v
				}
			case "state":
				l.State = fs[i+1]
			}
		}
		rows = append(rows, l)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		if len(bad) > 0 {
			return nil, bad, bad[0]
		}
		return nil, nil, fmt.Errorf("no interfaces found")
	}
	return rows, bad, nil
}

// linkEther returns the address after "link/ether " in a line of `ip link`.
func linkEther(s string) ([6]byte, bool) {
	_, rest, ok := strings.Cut(s, "link/ether ")
	if !ok {
		return [6]byte{}, false
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return [6]byte{}, false
	}
	hw, err := net.ParseMAC(f[0])
	if err != nil || len(hw) != 6 {
		return [6]byte{}, false
	}
	return [6]byte(hw), true
}

// IPLinkMACs returns the interfaces of an `ip link` dump by their MAC (those without one left out).
func IPLinkMACs(rows []IPLink) map[[6]byte]string {
	m := map[[6]byte]string{}
	for _, l := range rows {
		if l.MAC != ([6]byte{}) {
			m[l.MAC] = l.Name
		}
	}
	return m
}

func trimForMsg(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Identify assigns every capture source a Point and works out node IPs.
// traffic is indexed like sources. It returns the points (sorted by ID), the point index of each
// source, and the node IPs (sorted).
func Identify(files []FileMeta, sources []Source, traffic []Traffic, cfg PointConfig) ([]Point, []int, []NodeIP) {
	type ident struct {
		node, iface, reason, pod string
		role                     Role
		tie                      string // a -i any interface two captures of other interfaces matched equally
	}
	ids := make([]ident, len(sources))
	stages := map[uint16]int{} // file → stages of a merged capture (merged.go)
	for _, s := range sources {
		if _, _, _, ok := MergedStage(s.Iface); ok {
			stages[s.File]++
		}
	}
	for si, s := range sources {
		var id ident
		f := FileMeta{}
		if int(s.File) < len(files) {
			f = files[s.File]
		}
		fnode, fiface := SplitFileName(f.Path)
		var ifname string
		if int(s.Iface) < len(f.Interfaces) {
			ifname = f.Interfaces[s.Iface].Name
		}
		ex, explicit := cfg.Explicit[f.Path]
		var gnode, giface, gpod, gwhy string
		gadget := false
		if !explicit && int(s.Iface) < len(f.Interfaces) {
			gnode, giface, gpod, gwhy, gadget = GadgetPoint(f.Interfaces[s.Iface].Description, ifname)
		}
		switch {
		case gadget:
			id = ident{node: gnode, iface: giface, reason: gwhy, pod: gpod}
		case explicit:
			id = ident{node: ex.Node, iface: ex.Iface, reason: "--point", pod: cfg.Pods[f.Path]}
			if why := cfg.Why[f.Path]; why != "" {
				id.reason = why
			}
		case fiface != "" && fiface != "any" && (len(f.Interfaces) <= 1 || ifname == "" || ifname == fiface):
			id = ident{node: fnode, iface: fiface, reason: "file name"}
		case ifname != "" && ifname != "any":
			id = ident{node: fnode, iface: ifname, reason: "pcapng interface name"}
			if fiface == "" {
				id.reason = "node from file name, interface from pcapng interface name"
			}
		case fiface == "any" || ifname == "any":
			id = ident{node: fnode, iface: "any", reason: "file name"}
			if fiface != "any" {
				id.reason = "pcapng interface name"
			}
		default:
			id = ident{node: fnode, reason: "node from file name"}
		}
		if name, role, why, ok := MergedStage(s.Iface); ok {
			id.iface, id.role = filepath.Base(f.Path)+"#"+name, role
			id.reason += fmt.Sprintf("; merged capture split into %d stages by link address and encapsulation (one interface, the same "+
				"packets at several stages): %s", stages[s.File], why)
			ids[si] = id
			continue
		}
		if s.IfIndex == IfOverflow {
			id.iface, id.role = "overflow", RoleUnknown
			id.reason = "more capture interfaces than calipath tells apart (65,534): the rest share this point"
			ids[si] = id
			continue
		}
		if stage, ok := anyStages[s.IfIndex]; ok && (id.iface == "any" || id.iface == "") {
			id.iface, id.role = "any:"+stage.name, stage.role
			id.reason += "; -i any without interface indexes (LINUX_SLL): " + stage.why
			ids[si] = id
			continue
		}
		if k := int(IfAnyIface - s.IfIndex); s.IfIndex <= IfAnyIface && k < len(f.CookedIfaces) && (id.iface == "any" || id.iface == "") {
			id.iface, id.role = cookedIface(&id.reason, f.CookedIfaces[k], cfg.LinkMACs[id.node], cfg.LinksFrom[id.node])
			ids[si] = id
			continue
		}
		if s.IfIndex >= 0 && (id.iface == "any" || id.iface == "") {
			if name, ok := cfg.Links[id.node][s.IfIndex]; ok {
				id.iface = name
				from := "--links"
				if lf := cfg.LinksFrom[id.node]; lf != "" {
					from = lf
				}
				id.reason += fmt.Sprintf("; ifindex %d is %s (%s)", s.IfIndex, name, from)
			} else if s.IfIndex == 1 {
				// The loopback is registered first in every Linux network namespace.
				id.iface = "lo"
				id.reason += "; ifindex 1 is lo (the first interface of every Linux network namespace): local traffic, off the datapath"
			} else {
				id.iface = fmt.Sprintf("any#%d", s.IfIndex)
				id.reason += fmt.Sprintf("; ifindex %d (no --links for node %s)", s.IfIndex, id.node)
			}
		}
		if id.iface == "any" && s.IfIndex < 0 {
			id.role = RoleAny
			id.reason += "; -i any capture without interface indexes"
		} else {
			id.role = RoleOfIface(id.iface)
		}
		if id.role == RoleUnknown && si < len(traffic) && id.iface != "lo" {
			r, why := inferRole(&traffic[si])
			if pm := (PodMAC{}); r == RoleUnknown {
				if r, why, pm = podByMAC(&traffic[si], cfg.PodMACs, id.node, why); pm.Pod != "" {
					id.pod = pm.Pod
					id.iface, why = podIface(id.iface, why, pm)
				}
			}
			id.role = r
			if r != RoleUnknown {
				id.reason += "; role inferred: " + why
			} else {
				id.reason += "; role unknown: " + why
			}
		}
		if id.iface == "" {
			id.iface = "unknown"
		}
		if id.node == "" {
			id.node = "unknown"
		}
		ids[si] = id
	}

	// Sources are numbered in the order the files' concurrent scans met them: everything below goes
	// through them in a fixed order instead (file, interface, interface index), so that the same
	// inputs always give the same points and reasons.
	canon := make([]int, len(sources))
	for i := range canon {
		canon[i] = i
	}
	sort.Slice(canon, func(a, b int) bool {
		x, y := sources[canon[a]], sources[canon[b]]
		if x.File != y.File {
			return x.File < y.File
		}
		if x.Iface != y.Iface {
			return x.Iface < y.Iface
		}
		return x.IfIndex < y.IfIndex
	})

	// A -i any interface index without a name: if it carried the same frames at the same moments as a
	// named capture of the same node, it is that interface. If captures of two different interfaces of
	// the node match it equally well, the frames cannot tell which it is: it keeps what the other
	// evidence said (any#N and the role its traffic shows), and the tie is said in its reason and in
	// Point.Tie. Captures of one interface (a pcapng and a pcap of it) are no tie.
	for _, si := range canon {
		id := &ids[si]
		if !strings.HasPrefix(id.iface, "any#") || si >= len(traffic) {
			continue
		}
		best, bestN := -1, 0
		var same []int // the captures that matched it as well as best, best first
		for _, sj := range canon {
			o := ids[sj]
			if sj == si || sj >= len(traffic) || o.node != id.node || strings.HasPrefix(o.iface, "any") || o.iface == "" {
				continue
			}
			switch n := traffic[si].SameFrames(&traffic[sj]); {
			case n > bestN:
				best, bestN, same = sj, n, append(same[:0], sj)
			case n == bestN && n > 0:
				same = append(same, sj)
			}
		}
		if best < 0 || bestN < 2 {
			continue
		}
		b := ids[best]
		bf := filepath.Base(files[sources[best].File].Path)
		// Every capture that matched equally is named (a three-way tie names three), each
		// interface's captures once per file; one interface alone is no tie.
		var named []string
		ifaces := map[string]bool{}
		for _, sj := range same {
			n := fmt.Sprintf("%s (%s)", filepath.Base(files[sources[sj].File].Path), ids[sj].iface)
			if !slices.Contains(named, n) {
				named = append(named, n)
			}
			ifaces[ids[sj].iface] = true
		}
		if len(ifaces) > 1 {
			list, none := strings.Join(named[:len(named)-1], ", ")+" and as "+named[len(named)-1], "neither"
			if len(named) > 2 {
				none = "none of them"
			}
			id.tie = fmt.Sprintf("%s's interface %d (node %s) carried the same frames at the same moments as %s, "+
				"%d of %d sampled each: the captures cannot tell which interface it is, so it is named after %s; "+
				"give --links %s=FILE (the output of `ip -o link` on %s), or capture the interfaces separately",
				filepath.Base(files[sources[si].File].Path), sources[si].IfIndex, id.node, list,
				bestN, traffic[si].NSamples, none, id.node, id.node)
			id.reason += "; " + id.tie
			continue
		}
		id.reason += fmt.Sprintf("; it carried the same frames at the same moments as %s (%d of %d sampled): it is %s",
			bf, bestN, traffic[si].NSamples, b.iface)
		id.iface, id.role = b.iface, b.role
	}

	// Group sources into points.
	byID := map[string]int{}
	var points []Point
	pointOf := make([]int, len(sources))
	for _, si := range canon {
		id := ids[si]
		key := id.node + "/" + id.iface
		pi, ok := byID[key]
		if !ok {
			pi = len(points)
			byID[key] = pi
			points = append(points, Point{ID: key, Node: id.node, Iface: id.iface, Role: id.role, Reason: id.reason})
		}
		if points[pi].Pod == "" {
			points[pi].Pod = id.pod
		}
		if points[pi].Tie == "" {
			points[pi].Tie = id.tie
		}
		points[pi].Sources = append(points[pi].Sources, uint16(si))
		points[pi].SourceReasons = append(points[pi].SourceReasons, id.reason)
		if si < len(traffic) {
			points[pi].Traffic.Merge(&traffic[si])
		}
		pointOf[si] = pi
	}
	// Sort points by ID and remap.
	order := make([]int, len(points))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return points[order[a]].ID < points[order[b]].ID })
	remap := make([]int, len(points))
	sorted := make([]Point, len(points))
	for newI, oldI := range order {
		remap[oldI] = newI
		sorted[newI] = points[oldI]
	}
	for si := range pointOf {
		pointOf[si] = remap[pointOf[si]]
	}
	// Nodes with a -i any capture (interface indexes or cooked v1 stages, or a file named so): a node's
	// capture, even where it holds no frame of the node's own pods.
	anyNodes := map[string]bool{}
	for si, s := range sources {
		if ids[si].role == RoleAny || (s.IfIndex != -1 && s.IfIndex != IfOverflow) {
			anyNodes[ids[si].node] = true
		}
	}
	return sorted, pointOf, nodeIPs(sorted, cfg, anyNodes)
}

// inferRole guesses a role from traffic, following the signatures of the Calico datapath.
func inferRole(t *Traffic) (Role, string) {
	switch {
	case t.Frames == 0:
		return RoleUnknown, "no frames"
	case t.GatewayARP > 0:
		return RolePodVeth, fmt.Sprintf("%d ARP frames for 169.254.1.1 / from ee:ee:ee:ee:ee:ee", t.GatewayARP)
	case t.GatewayND > 0:
		return RolePodVeth, fmt.Sprintf("%d neighbour discovery frames for fe80::ecee:eeff:feee:eeee", t.GatewayND)
	case t.CalicoMAC > 0 && t.CalicoMAC*2 >= t.Frames:
		return RolePodVeth, fmt.Sprintf("%d of %d frames to or from ee:ee:ee:ee:ee:ee", t.CalicoMAC, t.Frames)
	case t.HostND > 0:
		return RolePodVeth, fmt.Sprintf("%d neighbour discovery frames from fe80::ecee:eeff:feee:eeee (the host resolving its pod)", t.HostND)
	case t.IPIP+t.VXLAN > 0 && (t.IPIP+t.VXLAN)*2 >= t.Plain:
		what := "IP-in-IP (protocol 4)"
		if t.VXLAN > t.IPIP {
			what = "VXLAN (UDP 4789)"
		}
		return RoleUnderlay, fmt.Sprintf("%d of %d frames carry %s", t.IPIP+t.VXLAN, t.Frames, what)
	case t.WireGuard > 0 && t.WireGuard*2 >= t.Plain:
		return RoleUnderlay, fmt.Sprintf("%d of %d frames carry WireGuard messages", t.WireGuard, t.Frames)
	case t.VTEPMAC > 0 && t.VTEPMAC*2 >= t.Plain:
		return RoleTunnel, fmt.Sprintf("%d frames between Calico VTEP MACs (66:…)", t.VTEPMAC)
	case t.NoLinkAddr > 0 && t.NoLinkAddr*2 >= t.Plain:
		return RoleTunnel, fmt.Sprintf("%d IP frames without a link-layer header or address", t.NoLinkAddr)
	}
	return RoleUnknown, "no Calico signature in the traffic"
}

// podByMAC infers the role of an interface whose traffic shows no Calico signature (why says so) from
// the pods' MACs (PointConfig.PodMACs): frames from one pod's MAC, and no other's, on that pod's node
// make it the pod's veth (the pod end of a veth is on no other link). Frames from pods' MACs that do
// not single out one pod of this node leave the role unknown, and why says whose they were.
func podByMAC(t *Traffic, macs map[[6]byte]PodMAC, node, why string) (Role, string, PodMAC) {
	if len(macs) == 0 {
		return RoleUnknown, why, PodMAC{}
	}
	senders := t.Senders()
	for i := 0; i < t.NARPs; i++ {
		senders = append(senders, t.ARPs[i].SHA)
	}
	var found []PodMAC
	var addrs []string
	for _, m := range senders {
		if pm, ok := macs[m]; ok && !slices.Contains(found, pm) {
			found, addrs = append(found, pm), append(addrs, net.HardwareAddr(m[:]).String())
		}
	}
	switch {
	case len(found) == 1 && found[0].Node == node:
		return RolePodVeth, fmt.Sprintf("frames from pod %s's MAC %s (%s)", found[0].Pod, addrs[0], found[0].Why), found[0]
	case len(found) == 1:
		return RoleUnknown, fmt.Sprintf("%s; frames from pod %s's MAC %s, but the metadata puts that pod on node %s (%s)",
			why, found[0].Pod, addrs[0], found[0].Node, found[0].Why), PodMAC{}
	case len(found) > 1:
		pods := make([]string, len(found))
		for i, f := range found {
			pods[i] = f.Pod + " (" + addrs[i] + ")"
		}
		return RoleUnknown, fmt.Sprintf("%s; frames from the MACs of %d pods, %s: no one pod's veth", why, len(found), strings.Join(pods, ", ")), PodMAC{}
	}
	return RoleUnknown, why, PodMAC{}
}

// podIface names an unnamed -i any interface (any#N) found to be a pod's veth by its MAC after the
// endpoint's interfaceName, and says so in why; any other name stays, and so does any#N when the
// endpoint gives none.
func podIface(iface, why string, pm PodMAC) (string, string) {
	if !strings.HasPrefix(iface, "any#") || pm.Iface == "" {
		return iface, why
	}
	return pm.Iface, why + "; it is " + pm.Iface + ", the endpoint's interfaceName"
}

// nodeIPs works out each node's IPs: given ones first, then the outer source of encapsulated frames
// at the node's underlay or tunnel points whose inner source is one of the node's own pods (seen
// sending at its pod-veth points). anyNodes are the nodes with a -i any capture: Calico nodes too
// when the last rule (a lone unknown outer address) looks for the one without an IP.
func nodeIPs(points []Point, cfg PointConfig, anyNodes map[string]bool) []NodeIP {
	var out []NodeIP
	seen := map[string]bool{}
	add := func(node string, ip netip.Addr, why string) {
		k := node + " " + ip.String()
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, NodeIP{Node: node, IP: ip, Reason: why})
	}
	var pointNodes map[string]bool
	var outer map[netip.Addr]bool
	if len(cfg.NodeIPWhy) > 0 {
		pointNodes, outer = pointNodesAndOuter(points)
	}
	for node, ips := range cfg.NodeIPs {
		for _, ip := range ips {
			why, meta := cfg.NodeIPWhy[ip]
			if !meta {
				add(node, ip, "--node-ip")
			} else if pointNodes[node] || outer[ip] {
				add(node, ip, why)
			}
		}
	}
	pods := map[string]map[[4]byte]bool{}
	pods6 := map[string]map[[16]byte]bool{}
	for i := range points {
		p := &points[i]
		if p.Role != RolePodVeth {
			continue
		}
		if pods[p.Node] == nil {
			pods[p.Node], pods6[p.Node] = map[[4]byte]bool{}, map[[16]byte]bool{}
		}
		for j := 0; j < p.Traffic.NPodSrc; j++ {
			pods[p.Node][p.Traffic.PodSrcs[j]] = true
		}
		for j := 0; j < p.Traffic.NPodSrc6; j++ {
			pods6[p.Node][p.Traffic.PodSrcs6[j]] = true
		}
	}
	doubted := NodeIPDoubts(points, cfg)
	for i := range points {
		p := &points[i]
		if _, d := doubted[p.Node]; len(cfg.NodeIPs[p.Node]) > 0 && !d {
			continue
		}
		t := &p.Traffic
		for j := 0; j < t.NPairs; j++ {
			if pods[p.Node][t.InnerSrc[j]] {
				add(p.Node, netip.AddrFrom4(t.OuterSrc[j]),
					fmt.Sprintf("outer source of encapsulated frames from local pod %s at %s",
						netip.AddrFrom4(t.InnerSrc[j]), p.ID))
			}
		}
		for j := 0; j < t.NPairs6; j++ {
			if pods6[p.Node][t.InnerSrc6[j]] {
				add(p.Node, netip.AddrFrom16(t.OuterSrc6[j]),
					fmt.Sprintf("outer source of encapsulated frames from local pod %s at %s",
						netip.AddrFrom16(t.InnerSrc6[j]), p.ID))
			}
		}
	}
	// Calico nodes: those with pod-veth or tunnel points (routers have underlay points only).
	calico := map[string]bool{}
	for i := range points {
		if r := points[i].Role; r == RolePodVeth || r == RoleTunnel {
			calico[points[i].Node] = true
		}
	}
	// Frames arriving at a Calico node's underlay from another node's IP are addressed to this node's IP.
	ipNode := map[netip.Addr]string{}
	for _, ip := range out {
		ipNode[ip.IP] = ip.Node
	}
	for i := range points {
		p := &points[i]
		if p.Role != RoleUnderlay || !calico[p.Node] || len(cfg.NodeIPs[p.Node]) > 0 {
			continue
		}
		t := &p.Traffic
		type pair struct{ src, dst netip.Addr }
		var arriving []pair
		for j := 0; j < t.NPairs; j++ {
			arriving = append(arriving, pair{netip.AddrFrom4(t.OuterSrc[j]), netip.AddrFrom4(t.OuterDst[j])})
		}
		for j := 0; j < t.NPairs6; j++ {
			arriving = append(arriving, pair{netip.AddrFrom16(t.OuterSrc6[j]), netip.AddrFrom16(t.OuterDst6[j])})
		}
		for _, pr := range arriving {
			src, dst := pr.src, pr.dst
			if n, ok := ipNode[src]; ok && n != p.Node {
				if _, taken := ipNode[dst]; !taken {
					add(p.Node, dst, fmt.Sprintf("outer destination of encapsulated frames from %s (%s) arriving at %s", src, n, p.ID))
					ipNode[dst] = p.Node
				}
			}
		}
	}
	// A lone outer address that is no known node's, and a lone Calico node without an IP: they belong
	// together (typically the receiving node of a drop, whose own captures stayed empty).
	var orphans []netip.Addr
	seenAddr := map[netip.Addr]bool{}
	for i := range points {
		t := &points[i].Traffic
		for j := 0; j < t.NPairs; j++ {
			for _, a := range []netip.Addr{netip.AddrFrom4(t.OuterSrc[j]), netip.AddrFrom4(t.OuterDst[j])} {
				if _, known := ipNode[a]; !known && !seenAddr[a] {
					seenAddr[a] = true
					orphans = append(orphans, a)
				}
			}
		}
		for j := 0; j < t.NPairs6; j++ { // VXLAN over IPv6 (vxlan-v6.calico)
			for _, a := range []netip.Addr{netip.AddrFrom16(t.OuterSrc6[j]), netip.AddrFrom16(t.OuterDst6[j])} {
				if _, known := ipNode[a]; !known && !seenAddr[a] {
					seenAddr[a] = true
					orphans = append(orphans, a)
				}
			}
		}
	}
	// A node captured with -i any whose capture shows neither pods nor a tunnel (every frame was
	// dropped before them, or none reached it) is a candidate too. More than one candidate (a router
	// captured with -i any beside it) and none is chosen.
	var bare []string
	hasIP := map[string]bool{}
	for _, ip := range out {
		hasIP[ip.Node] = true
	}
	candidates := map[string]bool{}
	for n := range calico {
		candidates[n] = true
	}
	for n := range anyNodes {
		candidates[n] = true
	}
	for _, n := range sortedNodes(candidates) {
		if !hasIP[n] {
			bare = append(bare, n)
		}
	}
	if len(orphans) == 1 && len(bare) == 1 {
		why := fmt.Sprintf("the only outer address that is no other node's, and %s the only Calico node whose own captures show no IP", bare[0])
		if !calico[bare[0]] {
			why = fmt.Sprintf("the only outer address that is no other node's, and %s (captured with -i any) the only node whose own captures show no IP", bare[0])
		}
		add(bare[0], orphans[0], why)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Node != out[b].Node {
			return out[a].Node < out[b].Node
		}
		return out[a].IP.Less(out[b].IP)
	})
	return out
}

func sortedNodes(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pointNodesAndOuter returns the nodes of the points and the outer addresses their encapsulated frames
// carry.
func pointNodesAndOuter(points []Point) (map[string]bool, map[netip.Addr]bool) {
	nodes, outer := map[string]bool{}, map[netip.Addr]bool{}
	for i := range points {
		nodes[points[i].Node] = true
		t := &points[i].Traffic
		for j := 0; j < t.NPairs; j++ {
			outer[netip.AddrFrom4(t.OuterSrc[j])] = true
			outer[netip.AddrFrom4(t.OuterDst[j])] = true
		}
		for j := 0; j < t.NPairs6; j++ {
			outer[netip.AddrFrom16(t.OuterSrc6[j])] = true
			outer[netip.AddrFrom16(t.OuterDst6[j])] = true
		}
	}
	return nodes, outer
}
