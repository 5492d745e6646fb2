package cluster

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/calipath/calipath/decode"
)

// Source is where one fact of a node's `ip` dump was read: its file and line, and the fact as `ip`
// prints it, so that a conclusion drawn from it can cite it.
type Source struct {
	File  string
	Line  int    // 1-based line of the file
	Entry int    // 1-based entry of a JSON dump (`ip -j` prints them all on one line); 0 for text dumps
	Text  string // the line (text dumps), or the entry written as `ip` would print it (JSON dumps)
}

// String cites the source: "node-a-routes.txt:3: blackhole 10.244.2.0/26", or for a JSON dump
// "node-a-neigh.json:1 (entry 3): 169.254.1.1 dev eth0 FAILED".
func (s Source) String() string {
	at := fmt.Sprintf("%s:%d", s.File, s.Line)
	if s.Entry > 0 {
		at += fmt.Sprintf(" (entry %d)", s.Entry)
	}
	return at + ": " + s.Text
}

// Route is one route of an `ip route` dump.
type Route struct {
	// Type is unicast, blackhole, unreachable, prohibit, throw, local, broadcast, multicast, anycast
	// or nat.
	Type  string
	Dst   netip.Prefix // "default" is 0.0.0.0/0 (::/0 in an IPv6 dump)
	Via   netip.Addr   // the (first) next hop; invalid when the route has none
	Dev   string       // the (first) next hop's device
	Proto string
	Table string // "" for the main table
	MTU   int    // the route's mtu metric, 0 when not set
	// Metric orders routes to the same prefix (lowest wins).
	Metric int
	Source Source
}

// Drops reports whether the route throws away what it matches (blackhole, unreachable, prohibit).
func (r *Route) Drops() bool {
	return r.Type == "blackhole" || r.Type == "unreachable" || r.Type == "prohibit"
}

// Default reports whether the route is a default route (0.0.0.0/0 or ::/0).
func (r *Route) Default() bool { return r.Dst.Bits() == 0 }

// Neigh is one entry of an `ip neigh` dump.
type Neigh struct {
	IP     netip.Addr
	Dev    string
	LLAddr string   // the link-layer address, "" when unresolved
	States []string // NUD states as `ip` names them: REACHABLE, STALE, DELAY, PROBE, FAILED, INCOMPLETE, PERMANENT, NOARP
	Router bool
	Proxy  bool
	Source Source
}

// Unresolved reports whether the neighbour could not be (or is not yet) resolved: FAILED or
// INCOMPLETE.
func (n *Neigh) Unresolved() bool {
	for _, s := range n.States {
		if s == "FAILED" || s == "INCOMPLETE" {
			return true
		}
	}
	return false
}

// Link is one interface of an `ip link` dump.
type Link struct {
	Index  int
	Name   string
	MTU    int
	State  string   // operational state: UP, DOWN, UNKNOWN, LOWERLAYERDOWN, …
	Flags  []string // UP, LOWER_UP, NOARP, …
	Source Source
}

// Netns is the state of one network namespace: its routes, neighbours and links, in dump order.
type Netns struct {
	Routes []Route
	Neighs []Neigh
	Links  []Link
	// RouteFile, NeighFile and LinkFile name the dumps read (the last of each kind), so that what a
	// dump lacks can be cited too.
	RouteFile, NeighFile, LinkFile string
	// LinkFormat is the kind of dump LinkFile is: an `ip -d -j addr` dump gives the links only when
	// no link dump of the namespace is given, which replaces it.
	LinkFormat string
}

// NodeState is one node's own state from its `ip` dumps.
type NodeState struct {
	Node  string
	Netns // the node's own (host) namespace
	// Pods are the pods' namespaces dumped on the node, by the host end of their veth (cali…).
	Pods map[string]*Netns
}

// Lookup finds the route the main table takes for ip: the longest prefix that covers it, the lowest
// metric among equals, and the first in the dump among those. ok is false when no route covers ip.
// Routes of other tables (local, policy routing) are not consulted.
func (n *Netns) Lookup(ip netip.Addr) (Route, bool) {
	ip = ip.Unmap()
	best := -1
	for i := range n.Routes {
		r := &n.Routes[i]
		if r.Table != "" && r.Table != "main" || !r.Dst.Contains(ip) {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := &n.Routes[best]
		if r.Dst.Bits() > b.Dst.Bits() || r.Dst.Bits() == b.Dst.Bits() && r.Metric < b.Metric {
			best = i
		}
	}
	if best < 0 {
		return Route{}, false
	}
	return n.Routes[best], true
}

// Neighbour finds ip's entry in the neighbour table (the first, when several devices hold one).
func (n *Netns) Neighbour(ip netip.Addr) (Neigh, bool) {
	ip = ip.Unmap()
	for _, e := range n.Neighs {
		if e.IP == ip {
			return e, true
		}
	}
	return Neigh{}, false
}

// Link finds the interface called name.
func (n *Netns) Link(name string) (Link, bool) {
	for _, l := range n.Links {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}

// ipDump is one kind of `ip` dump: how to recognise it from its content and how to read it into a
// namespace's state. Problems within it are returned and the rest read.
type ipDump struct {
	name   string
	detect func(data []byte) bool
	parse  func(file string, data []byte, ns *Netns) []Problem
}

// ipDumps are the `ip` dumps read, each recognised by its content. The JSON ones are told apart by
// their fields; the text ones by the shape of their first line.
var ipDumps = []ipDump{
	{"ip -o link", detectLinkText, parseLinkText},
	{"ip -j link", detectLinkJSON, parseLinkJSON},
	{"ip -d -j addr", detectAddrJSON, parseLinkJSON},
	{"ip -j neigh", detectNeighJSON, parseNeighJSON},
	{"ip neigh", detectNeighText, parseNeighText},
	{"ip -j route", detectRouteJSON, parseRouteJSON},
	{"ip route", detectRouteText, parseRouteText},
}

// dumpSuffixes name a dump's kind in its file name, <node>-<suffix>.<ext>: an empty JSON dump ("[]")
// says nothing of its kind by content.
var dumpSuffixes = map[string]string{
	"routes": "ip -j route", "route": "ip -j route", "ip-route": "ip -j route",
	"neigh": "ip -j neigh", "neighbours": "ip -j neigh", "neighbors": "ip -j neigh", "ip-neigh": "ip -j neigh",
	"links": "ip -j link", "link": "ip -j link", "ip-link": "ip -j link",
	"addr": addrDump, "ip-addr": addrDump,
}

// DumpName splits an `ip` dump's file name, <node>-<what>.<ext> (what: routes, neigh, links …), into
// the node and, for a dump taken inside a pod's network namespace (<node>-<cali…>-neigh.json), the
// host end of the pod's veth. ok is false when the name is not of that form.
func DumpName(path string) (node, veth string, ok bool) {
	node, veth, kind := splitDumpName(path)
	return node, veth, kind != ""
}

// splitDumpName is DumpName, with the JSON dump kind the name's suffix says.
func splitDumpName(path string) (node, veth, kind string) {
	stem := filepath.Base(path)
	for _, ext := range []string{".txt", ".json", ".out", ".log"} {
		if s, ok := strings.CutSuffix(stem, ext); ok {
			stem = s
			break
		}
	}
	for _, suf := range []string{"ip-route", "ip-neigh", "ip-link", "routes", "route", "neighbours", "neighbors",
		"neigh", "links", "link", "ip-addr", "addr"} {
		if s, ok := strings.CutSuffix(stem, "-"+suf); ok && s != "" {
			node, kind = s, dumpSuffixes[suf]
			break
		}
	}
	if kind == "" {
		return "", "", ""
	}
	if i := strings.LastIndexByte(node, '-'); i > 0 && decode.RoleOfIface(node[i+1:]) == decode.RolePodVeth {
		node, veth = node[:i], node[i+1:]
	}
	return node, veth, kind
}

// DetectIPDump reports which `ip` dump data is ("ip route", "ip -j neigh", "ip -o link" …), or ""
// when it is none. path is used only when the content cannot tell (an empty JSON list).
func DetectIPDump(path string, data []byte) string {
	t := bytes.TrimSpace(data)
	if bytes.Equal(t, []byte("[]")) {
		_, _, kind := splitDumpName(path)
		return kind
	}
	for _, d := range ipDumps {
		if d.detect(data) {
			return d.name
		}
	}
	return ""
}

// ReadIPDump reads one `ip` dump (routes, neighbours or links, text or JSON) into states, the node
// states by node name. The node is node when given (a NODE=FILE prefix), otherwise the one the file's
// name says (DumpName); a dump taken in a pod's namespace is told by its name. format is the dump's
// kind, "" when data is no `ip` dump. Problems name the file and the line; a dump whose node cannot be
// told is one problem and is not read.
func ReadIPDump(states map[string]*NodeState, path, node string, data []byte) (format string, probs []Problem) {
	format = DetectIPDump(path, data)
	if format == "" {
		return "", nil
	}
	return format, readIPDumpAs(states, path, node, format, data)
}

// readIPDumpAs is ReadIPDump of a dump whose kind is known.
func readIPDumpAs(states map[string]*NodeState, path, node, format string, data []byte) (probs []Problem) {
	nameNode, veth, _ := splitDumpName(path)
	if node == "" {
		node = nameNode
	}
	if node == "" {
		return []Problem{{File: path, Msg: fmt.Sprintf("an %s dump, but of which node? Name it <node>-routes.txt, "+
			"<node>-neigh.json or <node>-links.txt, or give NODE=%s", format, path)}}
	}
	st := states[node]
	if st == nil {
		st = &NodeState{Node: node}
		states[node] = st
	}
	ns := &st.Netns
	if veth != "" {
		if st.Pods == nil {
			st.Pods = map[string]*Netns{}
		}
		if st.Pods[veth] == nil {
			st.Pods[veth] = &Netns{}
		}
		ns = st.Pods[veth]
	}
	if link := !strings.HasSuffix(format, "route") && !strings.HasSuffix(format, "neigh"); link && ns.LinkFile != "" {
		switch {
		case format == addrDump:
			return nil // the namespace's link dump (or an earlier address dump) gives its links
		case ns.LinkFormat == addrDump:
			ns.Links = nil // a link dump replaces the links an address dump gave
		}
	}
	for _, d := range ipDumps {
		if d.name == format {
			probs = d.parse(path, data, ns)
		}
	}
	switch {
	case strings.HasSuffix(format, "route"):
		ns.RouteFile = path
	case strings.HasSuffix(format, "neigh"):
		ns.NeighFile = path
	default:
		ns.LinkFile, ns.LinkFormat = path, format
	}
	return probs
}

// lineProblem is a problem at a line of a file.
func lineProblem(file string, line int, format string, args ...any) Problem {
	return Problem{File: file, Msg: fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)}
}

// entryProblem is a problem with an entry of a JSON dump.
func entryProblem(file string, line, entry int, format string, args ...any) Problem {
	return Problem{File: file, Msg: fmt.Sprintf("line %d (entry %d): ", line, entry) + fmt.Sprintf(format, args...)}
}

// firstLine returns the first non-empty line of data, trimmed.
func firstLine(data []byte) string {
	for len(data) > 0 {
		l := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if t := strings.TrimSpace(string(l)); t != "" {
			return t
		}
	}
	return ""
}

// trimText shortens s for a problem message.
func trimText(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
