package main

// Any-only scenarios: each node was captured the way a user with one `tcpdump -i any` per node
// captures it (LINUX_SLL2 files, which record every frame's interface index), plus that node's
// `ip -o link` dump to name the indexes. lab.log says so with "links" lines. The per-interface and
// router captures made at the same time sit in truth-captures/ ("check" lines): they are not what
// calipath is given, but the truth is checked against them.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Links names the `ip -o link` dump saved on a node next to its -i any capture.
type Links struct {
	Node string `json:"node"`
	File string `json:"file"`
}

func (l *lab) linksFile(node string) string {
	for _, k := range l.t.Links {
		if k.Node == node {
			return k.File
		}
	}
	return ""
}

// parseIPLink reads `ip -o link` output ("2: eth0@if3: <BROADCAST,...> mtu 1500 ...") into
// interface index → name.
func parseIPLink(name string) (map[int]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[int]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		idx, rest, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			return nil, fmt.Errorf("%s: line %d: not `ip -o link` output", name, n)
		}
		i, err := strconv.Atoi(idx)
		if err != nil || i <= 0 {
			return nil, fmt.Errorf("%s: line %d: interface index %q", name, n, idx)
		}
		ifname, _, _ := strings.Cut(rest, ": ")
		ifname, _, _ = strings.Cut(ifname, "@") // a veth's peer: eth0@if2
		m[i] = ifname
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: no interfaces", name)
	}
	return m, nil
}

// ifaceRole is the role of a node's (or a router's) interface on the datapath ("" for lo and anything
// else).
func (l *lab) ifaceRole(node, iface string) string {
	for _, p := range l.pods {
		if p.node == node && p.at == node+"/"+iface {
			return "workload"
		}
	}
	for _, r := range l.t.Routers {
		if r.Name == node {
			for _, i := range r.Ifaces {
				if i == iface {
					return "router"
				}
			}
			return ""
		}
	}
	switch {
	case iface == l.tunIface && iface != "":
		return "tunnel"
	case iface == "eth0":
		return "underlay"
	}
	return ""
}

// sll2 is LINKTYPE_LINUX_SLL2: a 20-byte header (protocol, reserved, interface index, ARPHRD
// type, packet type, address length, 8 address bytes), all big-endian, then the network layer.
const sll2 = 276

// readAny reads a node's -i any capture and follows each frame at the point of its interface,
// named from the node's links dump. It returns those points: every datapath interface of the
// node (its pods' veths, the tunnel, eth0), also those that saw no frame, since the capture
// covered them all. Frames on lo are counted nowhere; a frame on any other interface is an error.
func (l *lab) readAny(p *Point, linksFile string, all map[string][]obs, segs *[]obs, arps *[]arpSeen, icmps *[]icmpObs) ([]Point, error) {
	if p.LinkType != sll2 {
		return nil, fmt.Errorf("%s: link type %d, want LINUX_SLL2 (%d) for a capture with a links file", p.File, p.LinkType, sll2)
	}
	names, err := parseIPLink(filepath.Join(l.dir, linksFile))
	if err != nil {
		return nil, err
	}
	byIndex := map[int]*Point{}
	var idxs []int
	for i, n := range names {
		if r := l.ifaceRole(p.Node, n); r != "" {
			byIndex[i] = &Point{Node: p.Node, Iface: n, Role: r, File: p.File, LinkType: sll2, IfIndex: i}
			idxs = append(idxs, i)
		}
	}
	name := filepath.Join(l.dir, p.File)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for rec := 1; ; rec++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", name, rec, err)
		}
		if len(data) < 20 {
			return nil, fmt.Errorf("%s: record %d: %d bytes, shorter than the SLL2 header", name, rec, len(data))
		}
		idx := int(binary.BigEndian.Uint32(data[4:8]))
		pt := byIndex[idx]
		if pt == nil {
			if names[idx] == "lo" {
				continue
			}
			return nil, fmt.Errorf("%s: record %d: interface index %d (%q in %s) is not on the datapath", name, rec, idx, names[idx], linksFile)
		}
		pt.Packets++
		var first gopacket.LayerType
		switch binary.BigEndian.Uint16(data[0:2]) {
		case uint16(layers.EthernetTypeIPv4):
			first = layers.LayerTypeIPv4
		case uint16(layers.EthernetTypeARP):
			first = layers.LayerTypeARP
		case uint16(layers.EthernetTypeIPv6):
			first = layers.LayerTypeIPv6
		default:
			continue
		}
		l.packet(pt, ci.Timestamp.UnixNano(), data[20:], first, all, segs, arps, icmps)
	}
	sort.Ints(idxs)
	out := make([]Point, 0, len(idxs))
	for _, i := range idxs {
		out = append(out, *byIndex[i])
	}
	return out, nil
}

// captured keeps the points of a path that were captured: in an any-only scenario the routers
// were not, so a path goes from one node's eth0 straight to the other's.
func (l *lab) captured(path []string) []string {
	have := map[string]bool{}
	for _, p := range l.t.Points {
		have[p.Node+"/"+p.Iface] = true
	}
	out := path[:0]
	for _, pt := range path {
		if name, _, _ := strings.Cut(pt, "#"); have[name] { // point+"#2": a second passage (passages)
			out = append(out, pt)
		}
	}
	return out
}

// frame is one captured frame's network layer (from the IPv4 or ARP header on), for comparing
// two captures of one interface.
type frame struct {
	ts  int64
	sum uint64
}

func newFrame(ts int64, network []byte) frame {
	if len(network) >= 4 && network[0]>>4 == 4 {
		if n := int(binary.BigEndian.Uint16(network[2:4])); n >= 20 && n < len(network) {
			network = network[:n] // Ethernet padding
		}
	}
	if len(network) >= 40 && network[0]>>4 == 6 {
		if n := 40 + int(binary.BigEndian.Uint16(network[4:6])); n < len(network) {
			network = network[:n] // Ethernet padding
		}
	}
	h := fnv.New64a()
	h.Write(network)
	return frame{ts, h.Sum64()}
}

// sameFrames reports whether two captures of one interface hold the same frames, each pair
// within a millisecond (two packet sockets may stamp one frame a few microseconds apart), and
// if not, how they differ.
func sameFrames(a, b []frame) (bool, string) {
	const slack = 1_000_000
	used := make([]bool, len(b))
	var missing []int64
	for _, x := range a {
		found := false
		for j, y := range b {
			if !used[j] && y.sum == x.sum && y.ts-x.ts <= slack && x.ts-y.ts <= slack {
				used[j], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, x.ts)
		}
	}
	var extra []int64
	for j, u := range used {
		if !u {
			extra = append(extra, b[j].ts)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return true, ""
	}
	return false, fmt.Sprintf("%d frame(s) only in the -i any capture (first at %v), %d only in the per-interface one (first at %v)",
		len(missing), firstTS(missing), len(extra), firstTS(extra))
}

func firstTS(ts []int64) any {
	if len(ts) == 0 {
		return "-"
	}
	return ts[0]
}

// crossCheck compares an any-only scenario's truth with the one its per-interface and router
// captures give: every interface must hold the same frames in both, and every flow the same
// packets sent, delivered, retransmitted and lost, each loss on the segment of the any-only path
// that holds the per-interface captures' segment. Those finer segments (between routers) become
// the flow's lost_detail.
func (l *lab) crossCheck() error {
	full, err := computeView(l.dir, true)
	if err != nil {
		return fmt.Errorf("truth-captures: %w", err)
	}
	for _, c := range full.t.Points {
		l.t.Checked = append(l.t.Checked, c.File)
	}
	for _, p := range l.t.Points {
		if p.IfIndex == 0 {
			continue
		}
		pt := p.Node + "/" + p.Iface
		if !full.hasPoint(pt) {
			return fmt.Errorf("%s: no per-interface capture of %s in truth-captures", p.File, pt)
		}
		if ok, why := sameFrames(l.frames[pt], full.frames[pt]); !ok {
			return fmt.Errorf("%s: ifindex %d (%s) and its per-interface capture differ: %s", p.File, p.IfIndex, pt, why)
		}
	}
	fullFlows := map[fkey]*Flow{}
	for i := range full.t.Flows {
		f := &full.t.Flows[i]
		fullFlows[fkey{f.Proto, f.Src, f.Dst, f.Sport, f.Dport}] = f
	}
	for i := range l.t.Flows {
		f := &l.t.Flows[i]
		k := fkey{f.Proto, f.Src, f.Dst, f.Sport, f.Dport}
		g := fullFlows[k]
		if g == nil {
			return fmt.Errorf("flow %v: not in the per-interface captures", k)
		}
		delete(fullFlows, k)
		if f.Sent != g.Sent || f.Delivered != g.Delivered || f.Retransmitted != g.Retransmitted {
			return fmt.Errorf("flow %v: sent %d delivered %d retransmitted %d; the per-interface captures say %d, %d, %d",
				k, f.Sent, f.Delivered, f.Retransmitted, g.Sent, g.Delivered, g.Retransmitted)
		}
		want := map[string]int{}
		for _, ls := range g.Lost {
			want[project(ls.Segment, g.Path, f.Path)] += ls.Packets
		}
		got := map[string]int{}
		for _, ls := range f.Lost {
			got[ls.Segment] += ls.Packets
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("flow %v: lost %v; the per-interface captures' losses fall on %v", k, got, want)
		}
		if len(g.Lost) > 0 {
			f.LostDetail = g.Lost
		}
	}
	for k := range fullFlows {
		return fmt.Errorf("flow %v: only in the per-interface captures", k)
	}
	return nil
}

func (l *lab) hasPoint(pt string) bool {
	for _, p := range l.t.Points {
		if p.Node+"/"+p.Iface == pt {
			return true
		}
	}
	return false
}

// project maps a segment of a full path onto a path of some of its points: from the last of
// those at or before the segment's start to the first at or after its end.
func project(seg string, full, sub []string) string {
	from, to, ok := strings.Cut(seg, "→")
	if !ok {
		return seg
	}
	pos := map[string]int{}
	for i, p := range full {
		pos[p] = i
	}
	fi, ok1 := pos[from]
	ti, ok2 := pos[to]
	if !ok1 || !ok2 {
		return seg
	}
	a, b := "", ""
	for _, p := range sub {
		i, ok := pos[p]
		if !ok {
			continue
		}
		if i <= fi {
			a = p
		}
		if i >= ti && b == "" {
			b = p
		}
	}
	if a == "" || b == "" {
		return seg
	}
	return a + "→" + b
}
