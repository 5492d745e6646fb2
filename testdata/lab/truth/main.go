// Command truth computes a scenario's truth file from its captures and the
// lab's own logs. It reads the per-interface pcap files with gopacket's
// pcapgo and layers only, so it shares no code with calipath's decoder.
//
//	truth -dir testdata/lab/scenarios/healthy-ipip > truth.json
//
// Inputs in -dir: lab.log (written by lab.sh: topology, capture points,
// applied rules, NAT rules, clock shift), traffic.log (one JSON line per
// traffic-generator run), *-ipipd.log, and the pcap files it names.
//
// A packet is followed across capture points by a key that NAT does not
// change (IP ID, total length, protocol and a transport fingerprint). Its
// flow is its 5-tuple where it first enters the datapath: at its pod's cali
// interface, or at the external host. Its expected path follows from the
// mode and the two endpoints; it is delivered when it reaches the path's
// last point and otherwise lost on the segment after the last point that saw
// it. Anomalies are derived from these losses, from ARP and ICMP seen in the
// captures, from TCP sequence numbers and from the logged clock shift.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Truth is the JSON document written for a scenario.
type Truth struct {
	Scenario       string        `json:"scenario"`
	Mode           string        `json:"mode"`
	Nodes          []Node        `json:"nodes"`
	Routers        []Router      `json:"routers"`
	External       []External    `json:"external,omitempty"`
	Points         []Point       `json:"points"`
	Links          []Links       `json:"links,omitempty"`
	VLANs          []VLAN        `json:"vlans,omitempty"`
	CookedV1       []CookedV1    `json:"cooked_v1,omitempty"`
	Checked        []string      `json:"checked_against,omitempty"`
	MultiInterface []Multi       `json:"multi_interface,omitempty"`
	Flows          []Flow        `json:"flows"`
	NAT            []NAT         `json:"nat"`
	Clock          *Clock        `json:"clock"`
	Rules          []Rule        `json:"rules"`
	Traffic        []TrafficLine `json:"traffic"`
	Daemon         []string      `json:"ipipd,omitempty"`
	WireGuard      *WireGuard    `json:"wireguard,omitempty"`
	ICMP           []ICMPSeen    `json:"icmp_errors"`
	// ICMPNAT lists the ICMP errors seen rewritten by NAT between two points of a node (icmpNAT).
	ICMPNAT           []ICMPNATSeen `json:"icmp_nat,omitempty"`
	ExpectedAnomalies []Anomaly     `json:"expected_anomalies"`
	// State lists each node's `ip` dumps (state-* scenarios), and ExpectedExplanations the lines of
	// them that explain the drops the rules caused (state.go).
	State                []StateDump           `json:"state,omitempty"`
	ExpectedExplanations []ExpectedExplanation `json:"expected_explanations,omitempty"`
	// PortReuse lists the TCP 5-tuples that carried more than one connection (a source port reused:
	// port-reuse), with their connections in the order their SYNs were sent; nil for none.
	PortReuse []ReusedTuple `json:"port_reuse,omitempty"`
}

// ReusedTuple is one TCP 5-tuple (its ends in either order) and the connections it carried: each
// connection is a SYN without ACK sent with a sequence number of its own (a resent SYN keeps its ISN).
type ReusedTuple struct {
	Ends        [2]string `json:"ends"` // the two ends, address:port, in string order
	Connections []TCPConn `json:"connections"`
}

// TCPConn is one TCP connection: who sent its SYN, to whom, with which ISN, and whether the other end
// answered it with a SYN-ACK (of that ISN) that reached the opener; its own segments (each end's
// segments go to the connection of that end's nearest ISN at or below their sequence number: the
// client's from its SYN, the server's from its SYN-ACK of the client's ISN), counted at their
// origin: sent, resent (a sequence number sent before, as Flow.Retransmitted), resets; and its
// handshake at the client's origin point: from its first SYN to its first ACK of the server's ISN
// (no RTT when not answered).
type TCPConn struct {
	Client       string `json:"client"`
	Server       string `json:"server"`
	ISN          uint32 `json:"isn"`
	Answered     bool   `json:"answered"`
	ServerISN    uint32 `json:"server_isn,omitempty"`
	Sent         int    `json:"sent"`
	Resent       int    `json:"resent"`
	Resets       int    `json:"resets"`
	HandshakeAt  string `json:"handshake_at,omitempty"`
	HandshakeRTT int64  `json:"handshake_rtt_ns,omitempty"`
}

// Node is a Kubernetes node namespace.
type Node struct {
	Name     string `json:"name"`
	IP       string `json:"ip"`
	Block    string `json:"block"`
	TunnelIP string `json:"tunnel_ip,omitempty"`
	VTEPMAC  string `json:"vtep_mac,omitempty"`
	Pods     []Pod  `json:"pods"`
}

// Pod is one workload.
type Pod struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	IP        string `json:"ip"`
	Iface     string `json:"iface"`
}

// Router is an underlay router namespace.
type Router struct {
	Name   string            `json:"name"`
	Ifaces []string          `json:"ifaces"`
	Toward map[string]string `json:"toward"`
}

// External is a host outside the cluster.
type External struct {
	Name  string `json:"name"`
	IP    string `json:"ip"`
	Iface string `json:"iface"`
}

// Point is one capture point (one pcap file).
type Point struct {
	Node     string `json:"node"`
	Iface    string `json:"iface"`
	Role     string `json:"role"`
	File     string `json:"file"`
	LinkType int    `json:"link_type"`
	Packets  int    `json:"packets"`
	IfIndex  int    `json:"ifindex,omitempty"` // an interface's index in its node's -i any capture
	VLAN     int    `json:"vlan,omitempty"`    // a VLAN sub-interface's parent: the 802.1Q tag every frame carried
}

// CookedV1 is a node's second -i any capture, in Linux cooked v1 (tcpdump -y LINUX_SLL), taken at the
// same time as its cooked v2 one (the "any" point): the same frames, without interface indexes.
// Tagged counts its frames whose cooked header's protocol is 802.1Q (0x8100), with the tag after it:
// the frames of a VLAN sub-interface's parent, which cooked v2 records untagged.
type CookedV1 struct {
	Node     string `json:"node"`
	File     string `json:"file"`
	LinkType int    `json:"link_type"`
	Packets  int    `json:"packets"`
	Tagged   int    `json:"tagged"`
}

// VLAN is a VLAN sub-interface (vlan-ipip): a node's or router's underlay address is on Iface,
// whose frames cross Parent with an 802.1Q tag of ID.
type VLAN struct {
	Node   string `json:"node"`
	Iface  string `json:"iface"`
	Parent string `json:"parent"`
	ID     int    `json:"id"`
}

// Multi is a pcapng file holding several interfaces of one node.
type Multi struct {
	Node   string   `json:"node"`
	Ifaces []string `json:"ifaces"`
	File   string   `json:"file"`
}

// Flow is one direction of one conversation, as its source sent it.
type Flow struct {
	Proto          string    `json:"proto"`
	Src            string    `json:"src"`
	Dst            string    `json:"dst"`
	Sport          int       `json:"sport"`
	Dport          int       `json:"dport"`
	Sent           int       `json:"sent"`
	Delivered      int       `json:"delivered"`
	LostAt         string    `json:"lost_at"`
	Lost           []LostSeg `json:"lost,omitempty"`
	LostDetail     []LostSeg `json:"lost_detail,omitempty"`
	Retransmitted  int       `json:"retransmitted,omitempty"`
	Path           []string  `json:"path"`
	DeliveredTo    string    `json:"delivered_to,omitempty"`
	FromLog        bool      `json:"from_log,omitempty"`
	delivered      []int
	lostSizes      []int
	deliveredSizes []int
	lostDF         bool
	// keys are Path's points as seen's keys: a point the path crosses twice (a node that takes a packet
	// in on eth0 and sends it out of eth0 in its tunnel) is there a second time as point+"#2".
	keys []string
}

// LostSeg counts a flow's packets lost on one segment.
type LostSeg struct {
	Segment string `json:"segment"`
	Packets int    `json:"packets"`
}

// NAT is one address translation observed in the captures.
type NAT struct {
	Kind  string `json:"kind"`
	Proto string `json:"proto"`
	From  string `json:"from"`
	To    string `json:"to"`
	Where string `json:"where"`
}

// Clock is the skew applied to one node's captures after capture.
type Clock struct {
	Node     string  `json:"node"`
	OffsetNS int64   `json:"offset_ns"`
	DriftPPM float64 `json:"drift_ppm"`
	T0NS     int64   `json:"t0_ns"`
}

// Rule is a command the lab applied to break or translate the datapath.
type Rule struct {
	Node string `json:"node"`
	Cmd  string `json:"cmd"`
}

// TrafficLine is one traffic-generator result.
type TrafficLine struct {
	Kind     string `json:"kind"`
	From     string `json:"from,omitempty"`
	Src      string `json:"src,omitempty"`
	Dst      string `json:"dst"`
	Sent     int    `json:"sent"`
	Received int    `json:"received"`
	Status   int    `json:"status,omitempty"`
	Bytes    int64  `json:"bytes,omitempty"`
	ICMPID   int    `json:"icmp_id,omitempty"`
	Err      string `json:"err,omitempty"`
}

// ICMPSeen is an ICMP error seen in the captures, at the point nearest its origin.
type ICMPSeen struct {
	ICMPv6 bool   `json:"icmpv6,omitempty"` // an ICMPv6 error (its own types: 1 unreachable, 2 packet too big, 3 time exceeded)
	Type   int    `json:"type"`
	Code   int    `json:"code"`
	MTU    int    `json:"mtu,omitempty"`
	Src    string `json:"src"`
	Dst    string `json:"dst"`
	Where  string `json:"where"`
	Count  int    `json:"count"`
}

// Anomaly is one expected finding.
type Anomaly struct {
	Kind  string `json:"kind"`
	Where string `json:"where"`
}

type obs struct {
	point  string
	ts     int64
	src    netip.Addr
	dst    netip.Addr
	proto  string
	sport  int
	dport  int
	size   int
	df     bool
	seq    uint32
	ack    uint32
	plen   int
	syn    bool
	synAck bool // a SYN with the ACK flag
	ackF   bool // the ACK flag
	rst    bool // the RST flag
	fin    bool
	enc    bool // seen inside a WireGuard transport message (decrypted by the lab)
	tun    bool // seen inside an outer IP header (IP-in-IP or VXLAN)
	frame  int  // the frame's number in its capture file
}

// sameTuple reports whether o and x carry the same addresses and ports: at one point, a packet seen
// with others crossed it again after a NAT rewrite (a hairpin: see passages).
func (o obs) sameTuple(x obs) bool {
	return o.src == x.src && o.dst == x.dst && o.sport == x.sport && o.dport == x.dport
}

type endpoint struct {
	kind string // pod, ext, node (a node talking to its own pod)
	name string
	node string
	ip   netip.Addr
	at   string // origin point
}

type lab struct {
	// frameMAC is the Ethernet source of the frame packet is following ("" for another link type): a
	// neighbour advertisement without a target link-layer address option was sent from its target's MAC.
	frameMAC string
	// frameTun says the frame packet is following carries its packet inside an outer IP header.
	frameTun bool
	t        Truth
	dir      string
	checks   []Point                   // per-interface captures kept to check -i any files against
	frames   map[string][]frame        // point → its frames, for that check
	csums    map[string]map[string]int // point → checksum class → frames
	pods     []endpoint
	ext      []endpoint
	nodeIPs  map[string]string
	tunIface string
	dnat     []NAT
	natCands []natCand
	wg       *wgLab                // WireGuard scenarios: configuration, decrypted messages, messages seen
	frags    map[string]reassembly // point → fragments waiting for the rest of their packet
	// late are the points whose capture the lab started after the others ("late" lines of lab.log),
	// first each point's first frame (its capture's time, unskewed)
	late  map[string]bool
	first map[string]int64
	icmps []icmpObs // every ICMP error seen, at every point (routerAnswered)
	// egress maps a pod to the egress gateway pod its traffic to outside the pool is routed through
	// ("egress" lines of lab.log: egress-gateway)
	egress map[string]string
	errs   []error
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("truth: ")
	dir := flag.String("dir", "", "scenario directory")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	t, err := compute(*dir)
	if err != nil {
		log.Fatal(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		log.Fatal(err)
	}
}

func kv(fields []string) map[string]string {
	m := make(map[string]string)
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

func compute(dir string) (*Truth, error) {
	l, err := computeLab(dir)
	if err != nil {
		return nil, err
	}
	return &l.t, nil
}

// computeLab computes a scenario's truth.
func computeLab(dir string) (*lab, error) { return computeView(dir, false) }

// computeView computes a scenario's truth; with checkView from the per-interface captures an
// any-only scenario keeps in truth-captures/ (the "check" lines of lab.log) instead of its points.
func computeView(dir string, checkView bool) (*lab, error) {
	l := &lab{dir: dir, nodeIPs: map[string]string{},
		frames: map[string][]frame{}, csums: map[string]map[string]int{}, frags: map[string]reassembly{}}
	l.t.Flows, l.t.NAT, l.t.Rules, l.t.Traffic, l.t.ICMP, l.t.ExpectedAnomalies =
		[]Flow{}, []NAT{}, []Rule{}, []TrafficLine{}, []ICMPSeen{}, []Anomaly{}
	if err := l.readLabLog(); err != nil {
		return nil, err
	}
	if err := l.stateExplanations(); err != nil {
		return nil, err
	}
	if checkView {
		// The -i any captures that have a links file are replaced by their per-interface checks
		// (every point of an any-only scenario; router-1's in the router-any-* ones).
		var pts []Point
		for _, p := range l.t.Points {
			if p.Role != "any" || l.linksFile(p.Node) == "" {
				pts = append(pts, p)
			}
		}
		l.t.Points, l.t.Links, l.checks = append(pts, l.checks...), nil, nil
	}
	if err := l.readTraffic(); err != nil {
		return nil, err
	}
	l.readDaemon()
	if err := l.wgLoad(); err != nil {
		return nil, err
	}
	all := map[string][]obs{}
	var arps []arpSeen
	var data []obs
	var icmps []icmpObs
	var points []Point
	for i := range l.t.Points {
		p := &l.t.Points[i]
		if p.Role == "any" {
			n, err := countPackets(filepath.Join(dir, p.File))
			if err != nil {
				return nil, err
			}
			p.Packets = n
			if p.LinkType, err = fileLinkType(filepath.Join(dir, p.File)); err != nil {
				return nil, err
			}
			points = append(points, *p)
			// With its node's `ip -o link` dump, a -i any capture is every interface's point.
			if lf := l.linksFile(p.Node); lf != "" {
				ifs, err := l.readAny(p, lf, all, &data, &arps, &icmps)
				if err != nil {
					return nil, err
				}
				points = append(points, ifs...)
			}
			continue
		}
		if err := l.readPoint(p, all, &data, &arps, &icmps); err != nil {
			return nil, err
		}
		points = append(points, *p)
	}
	l.t.Points = points
	if err := l.cookedV1(); err != nil {
		return nil, err
	}
	l.wgOrphans(all)
	if err := errors.Join(l.errs...); err != nil {
		return nil, err
	}
	l.icmpAnomalies(icmps)
	l.icmps = icmps
	l.flows(all, data)
	l.icmpNAT(icmps)
	l.arpAnomalies(arps)
	l.wgTruth()
	if l.t.Clock != nil {
		l.add("clock-skew", l.t.Clock.Node)
	}
	sort.Slice(l.t.ExpectedAnomalies, func(i, j int) bool {
		a, b := l.t.ExpectedAnomalies[i], l.t.ExpectedAnomalies[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Where < b.Where
	})
	if len(l.checks) > 0 {
		if err := l.crossCheck(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *lab) readLabLog() error {
	f, err := os.Open(filepath.Join(l.dir, "lab.log"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		m := kv(fields[1:])
		switch fields[0] {
		case "scenario":
			l.t.Scenario = fields[1]
		case "mode":
			l.t.Mode = fields[1]
			switch fields[1] {
			case "ipip":
				l.tunIface = "tunl0"
			case "vxlan":
				l.tunIface = "vxlan.calico"
				if m["family"] == "6" { // Calico's IPv6 VXLAN device (healthy-vxlan6)
					l.tunIface = "vxlan-v6.calico"
				}
			case "wireguard":
				l.tunIface = "wireguard.cali"
			}
		case "node":
			l.t.Nodes = append(l.t.Nodes, Node{Name: m["name"], IP: m["ip"], Block: m["block"],
				TunnelIP: m["tunnel_ip"], VTEPMAC: m["vtep_mac"], Pods: []Pod{}})
			l.nodeIPs[m["name"]] = m["ip"]
		case "pod":
			ip, err := netip.ParseAddr(m["ip"])
			if err != nil {
				return fmt.Errorf("lab.log: pod: %w", err)
			}
			for i := range l.t.Nodes {
				if l.t.Nodes[i].Name == m["node"] {
					l.t.Nodes[i].Pods = append(l.t.Nodes[i].Pods, Pod{Name: m["name"], Namespace: m["namespace"], IP: m["ip"], Iface: m["iface"]})
				}
			}
			l.pods = append(l.pods, endpoint{kind: "pod", name: m["name"], node: m["node"], ip: ip, at: m["node"] + "/" + m["iface"]})
		case "router":
			r := Router{Name: m["name"], Ifaces: strings.Split(m["ifaces"], ","), Toward: map[string]string{}}
			for k, v := range m {
				if k != "name" && k != "ifaces" {
					r.Toward[k] = v
				}
			}
			l.t.Routers = append(l.t.Routers, r)
		case "external":
			ip, err := netip.ParseAddr(m["ip"])
			if err != nil {
				return fmt.Errorf("lab.log: external: %w", err)
			}
			l.t.External = append(l.t.External, External{Name: m["name"], IP: m["ip"], Iface: m["iface"]})
			l.ext = append(l.ext, endpoint{kind: "ext", name: m["name"], node: m["name"], ip: ip, at: m["name"] + "/" + m["iface"]})
		case "point":
			l.t.Points = append(l.t.Points, Point{Node: m["node"], Iface: m["iface"], Role: m["role"], File: m["file"]})
		case "vlan":
			id, err := strconv.Atoi(m["id"])
			if err != nil || id < 1 || id > 4094 {
				return fmt.Errorf("lab.log: vlan: id %q", m["id"])
			}
			l.t.VLANs = append(l.t.VLANs, VLAN{Node: m["node"], Iface: m["iface"], Parent: m["parent"], ID: id})
		case "sll1":
			l.t.CookedV1 = append(l.t.CookedV1, CookedV1{Node: m["node"], File: m["file"]})
		case "egress":
			if l.egress == nil {
				l.egress = map[string]string{}
			}
			l.egress[m["pod"]] = m["gateway"]
		case "late":
			if l.late == nil {
				l.late = map[string]bool{}
			}
			l.late[m["node"]+"/"+m["iface"]] = true
		case "check":
			l.checks = append(l.checks, Point{Node: m["node"], Iface: m["iface"], Role: m["role"], File: m["file"]})
		case "links":
			l.t.Links = append(l.t.Links, Links{Node: m["node"], File: m["file"]})
		case "multi":
			l.t.MultiInterface = append(l.t.MultiInterface, Multi{Node: m["node"], Ifaces: strings.Split(m["ifaces"], ","), File: m["file"]})
		case "state":
			l.t.State = append(l.t.State, StateDump{Node: m["node"], Files: strings.Split(m["files"], ",")})
		case "rule":
			// The command is the rest of the line and may contain spaces.
			_, cmd, _ := strings.Cut(sc.Text(), " cmd=")
			l.t.Rules = append(l.t.Rules, Rule{Node: m["node"], Cmd: cmd})
		case "nat":
			l.dnat = append(l.dnat, NAT{Kind: m["kind"], Proto: m["proto"], From: m["from"], To: m["to"], Where: m["node"]})
		case "wireguard":
			if err := l.wgLine(m); err != nil {
				return err
			}
		case "clock":
			off, err1 := strconv.ParseInt(m["offset_ns"], 10, 64)
			ppm, err2 := strconv.ParseFloat(m["drift_ppm"], 64)
			t0, err3 := strconv.ParseInt(m["t0_ns"], 10, 64)
			if err := errors.Join(err1, err2, err3); err != nil {
				return fmt.Errorf("lab.log: clock: %w", err)
			}
			l.t.Clock = &Clock{Node: m["node"], OffsetNS: off, DriftPPM: ppm, T0NS: t0}
		}
	}
	return sc.Err()
}

func (l *lab) readTraffic() error {
	f, err := os.Open(filepath.Join(l.dir, "traffic.log"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var t TrafficLine
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return fmt.Errorf("traffic.log: %w", err)
		}
		l.t.Traffic = append(l.t.Traffic, t)
	}
	return sc.Err()
}

func (l *lab) readDaemon() {
	files, _ := filepath.Glob(filepath.Join(l.dir, "*-ipipd.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		node := strings.TrimSuffix(filepath.Base(f), "-ipipd.log")
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.Index(line, "summary "); i >= 0 {
				l.t.Daemon = append(l.t.Daemon, node+": "+line[i+len("summary "):])
			}
		}
	}
	sort.Strings(l.t.Daemon)
}

func countPackets(name string) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	n := 0
	for {
		_, _, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("%s: record %d: %w", name, n+1, err)
		}
		n++
	}
}

// cookedV1 reads each cooked v1 -i any capture: its link type must be LINUX_SLL (113) and it must
// hold as many frames as its node's cooked v2 -i any capture of the same moments; it counts the
// frames that carry an 802.1Q tag.
func (l *lab) cookedV1() error {
	for i := range l.t.CookedV1 {
		c := &l.t.CookedV1[i]
		name := filepath.Join(l.dir, c.File)
		var err error
		if c.LinkType, err = fileLinkType(name); err != nil {
			return err
		}
		if c.LinkType != 113 {
			return fmt.Errorf("%s: link type %d, want LINUX_SLL (113)", c.File, c.LinkType)
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		for {
			data, _, err := r.ZeroCopyReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("%s: record %d: %w", name, c.Packets+1, err)
			}
			c.Packets++
			// The cooked v1 header: packet type, ARPHRD, address length, 8 address bytes, protocol.
			if len(data) >= 20 && binary.BigEndian.Uint16(data[14:16]) == 0x8100 {
				c.Tagged++
			}
		}
		f.Close()
		for _, p := range l.t.Points {
			if p.Node == c.Node && p.Role == "any" && p.Packets != c.Packets {
				return fmt.Errorf("%s: %d frames, but %s (cooked v2, same moments) holds %d", c.File, c.Packets, p.File, p.Packets)
			}
		}
	}
	return nil
}

// fileLinkType reads a classic pcap file's link type from its header:
// gopacket v1.1.19 keeps it in a uint8, so 276 (LINUX_SLL2) reads as 20.
func fileLinkType(name string) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h [24]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	switch binary.BigEndian.Uint32(h[:4]) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		return int(binary.BigEndian.Uint32(h[20:])), nil
	case 0xd4c3b2a1, 0x4d3cb2a1:
		return int(binary.LittleEndian.Uint32(h[20:])), nil
	}
	return 0, fmt.Errorf("%s: not a classic pcap file", name)
}

type arpSeen struct {
	point     string
	v6        bool // an IPv6 neighbour solicitation (request) or advertisement
	request   bool
	senderIP  netip.Addr
	targetIP  netip.Addr
	senderMAC string
}

type icmpObs struct {
	point    string
	v6       bool // ICMPv6
	ts       int64
	typ      int
	code     int
	mtu      int
	src, dst netip.Addr
	id       uint16
	quoted   string // ICMPv6 Packet Too Big: the innermost flow of the packet it quotes (quotedFlow6), or ""
	length   int    // IPv4: the error's IP total length
	quote    string // IPv4: the flow of the packet it quotes, "proto src:port → dst:port" (quoteFlow4)
}

func (l *lab) readPoint(p *Point, all map[string][]obs, segs *[]obs, arps *[]arpSeen, icmps *[]icmpObs) error {
	name := filepath.Join(l.dir, p.File)
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	p.LinkType = int(r.LinkType())
	first := gopacket.LayerType(r.LinkType())
	switch r.LinkType() {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeRaw, 12:
		first = layers.LayerTypeIPv4
	default:
		return fmt.Errorf("%s: unexpected link type %d", name, r.LinkType())
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: packet %d: %w", name, p.Packets+1, err)
		}
		p.Packets++
		if where := p.Node + "/" + p.Iface; p.Packets == 1 {
			if l.first == nil {
				l.first = map[string]int64{}
			}
			l.first[where] = l.unskew(p.Node, ci.Timestamp.UnixNano())
		}
		l.packet(p, ci.Timestamp.UnixNano(), data, first, all, segs, arps, icmps)
	}
}

// packet follows one captured frame: data starts with a layer of type first.
func (l *lab) packet(p *Point, ts int64, data []byte, first gopacket.LayerType, all map[string][]obs, segs *[]obs, arps *[]arpSeen, icmps *[]icmpObs) {
	where := p.Node + "/" + p.Iface
	pkt := gopacket.NewPacket(data, first, gopacket.DecodeOptions{Lazy: false, NoCopy: true})
	network := data
	l.frameMAC = ""
	if first == layers.LayerTypeEthernet {
		if e, ok := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
			network, l.frameMAC = e.Payload, fmtMAC(e.SrcMAC)
		}
		// A VLAN sub-interface's parent: every frame must carry the sub-interface's tag (the one
		// the lab logged), and the network packet follows it; a frame elsewhere carries none.
		q, tagged := pkt.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q)
		if v, ok := l.vlanOf(p.Node, p.Iface); ok {
			p.VLAN = v.ID
			if !tagged || int(q.VLANIdentifier) != v.ID {
				l.errs = append(l.errs, fmt.Errorf("%s frame %d: not tagged with VLAN %d, the tag of %s/%s", where, p.Packets, v.ID, p.Node, v.Iface))
				return
			}
		} else if tagged {
			l.errs = append(l.errs, fmt.Errorf("%s frame %d: a VLAN tag (%d) on an interface that is no VLAN's parent", where, p.Packets, q.VLANIdentifier))
			return
		}
		if tagged {
			network = q.Payload
		}
	}
	if a, ok := pkt.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
		l.frames[where] = append(l.frames[where], newFrame(ts, a.Contents)) // without Ethernet padding
		s, _ := netip.AddrFromSlice(a.SourceProtAddress)
		t, _ := netip.AddrFromSlice(a.DstProtAddress)
		*arps = append(*arps, arpSeen{point: where, request: a.Operation == layers.ARPRequest,
			senderIP: s, targetIP: t, senderMAC: fmtMAC(a.SourceHwAddress)})
		return
	}
	ip, ip6, next := innermost(pkt)
	l.frameTun = ipLayers(pkt) > 1
	l.frames[where] = append(l.frames[where], newFrame(ts, network))
	if ip6 != nil {
		l.packet6(p, where, ts, network, ip6, next, all, segs, arps, icmps)
		return
	}
	if ip == nil {
		return
	}
	frag := ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0
	if frag {
		// A fragment: its transport checksum covers the whole packet, and only the whole packet
		// can be followed; it is handled once its last fragment is here.
		l.csums[where] = addClass(l.csums[where], "fragment")
		whole := l.reassemble(where, network)
		if whole == nil {
			return
		}
		network = whole
		ip, next = lastIPv4(gopacket.NewPacket(whole, layers.LayerTypeIPv4, gopacket.DecodeOptions{Lazy: false, NoCopy: true}))
		if ip == nil {
			return
		}
	}
	l.checksums(where, network)
	if l.wg != nil && l.wgMessage(p, ts, ip, next, frag, all, segs, icmps) {
		return // a WireGuard message: what it carried was followed instead
	}
	if frag {
		l.errs = append(l.errs, fmt.Errorf("%s frame %d: a fragmented packet that is not a WireGuard message: this truth computer does not say where such fragmentation happened", where, p.Packets))
		return
	}
	l.follow(where, l.unskew(p.Node, ts), p.Packets, ip, next, false, all, segs, icmps)
}

// ipLayers counts a packet's IP headers: more than one for a tunnelled packet.
func ipLayers(pkt gopacket.Packet) int {
	n := 0
	for _, ly := range pkt.Layers() {
		if t := ly.LayerType(); t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
			n++
		}
	}
	return n
}

// lastIPv4 returns a packet's last IPv4 header (the inner one of a tunnelled packet) and the layer
// after it.
func lastIPv4(pkt gopacket.Packet) (ip *layers.IPv4, next gopacket.Layer) {
	ls := pkt.Layers()
	for i, ly := range ls {
		if v, ok := ly.(*layers.IPv4); ok {
			ip, next = v, nil
			if i+1 < len(ls) {
				next = ls[i+1]
			}
		}
	}
	return ip, next
}

func addClass(m map[string]int, class string) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[class]++
	return m
}

// follow records an IPv4 packet seen at a point: ip is its header, next its transport layer.
// enc says it was seen inside a WireGuard message there.
func (l *lab) follow(where string, ts int64, frame int, ip *layers.IPv4, next gopacket.Layer, enc bool, all map[string][]obs, segs *[]obs, icmps *[]icmpObs) {
	o := obs{point: where, ts: ts, size: int(ip.Length), df: ip.Flags&layers.IPv4DontFragment != 0, enc: enc, frame: frame,
		tun: l.frameTun && !enc}
	o.src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
	o.dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
	h := fnv.New64a()
	var fp string
	switch l4 := next.(type) {
	case *layers.TCP:
		o.proto, o.sport, o.dport = "tcp", int(l4.SrcPort), int(l4.DstPort)
		o.seq, o.ack, o.plen, o.syn, o.fin = l4.Seq, l4.Ack, len(l4.Payload), l4.SYN, l4.FIN
		o.synAck, o.ackF, o.rst = l4.SYN && l4.ACK, l4.ACK, l4.RST
		fp = fmt.Sprintf("tcp/%d/%d/%d/%v%v%v%v", l4.Seq, l4.Ack, len(l4.Payload), l4.SYN, l4.ACK, l4.FIN, l4.RST)
	case *layers.UDP:
		o.proto, o.sport, o.dport = "udp", int(l4.SrcPort), int(l4.DstPort)
		h.Write(l4.Payload)
		fp = fmt.Sprintf("udp/%x", h.Sum64())
	case *layers.ICMPv4:
		typ := int(l4.TypeCode.Type())
		if typ == 3 || typ == 11 || typ == 12 {
			io := icmpObs{point: where, ts: o.ts, typ: typ, code: int(l4.TypeCode.Code()), src: o.src, dst: o.dst, id: ip.Id,
				length: int(ip.Length), quote: quoteFlow4(l4.Payload)}
			if typ == 3 && io.code == 4 {
				io.mtu = int(l4.Seq) // next-hop MTU sits in the low half of the rest-of-header word
			}
			*icmps = append(*icmps, io)
			return
		}
		o.proto, o.sport = "icmp", int(l4.Id)
		h.Write(l4.Payload)
		fp = fmt.Sprintf("icmp/%d/%d/%x", typ, l4.Seq, h.Sum64())
	default:
		return
	}
	if o.proto == "tcp" && o.plen > 0 {
		*segs = append(*segs, o)
		return
	}
	key := fmt.Sprintf("%d/%d/%s", ip.Id, ip.Length, fp)
	all[key] = append(all[key], o)
}

// unskew undoes the clock shift the lab applied to a node's captures, so
// that packets can be followed across nodes in capture order.
func (l *lab) unskew(node string, ts int64) int64 {
	c := l.t.Clock
	if c == nil || c.Node != node {
		return ts
	}
	return c.T0NS + int64(math.Round(float64(ts-c.T0NS-c.OffsetNS)/(1+c.DriftPPM/1e6)))
}

func fmtMAC(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

func (l *lab) origin(o obs) (endpoint, bool) {
	for _, e := range append(append([]endpoint{}, l.pods...), l.ext...) {
		if e.at == o.point && e.ip == o.src {
			return e, true
		}
	}
	// A node's own packet to one of its pods (kubelet probes, host-network processes) enters the
	// datapath at that pod's cali, sent by the node's stack.
	for _, p := range l.pods {
		if p.at == o.point && p.ip == o.dst {
			if e, ok := l.selfNode(p.node, o.src, p.at); ok {
				return e, true
			}
		}
	}
	// A node's own packet to a pod on another node (a host-networked process) leaves by the route to
	// that node's block, through the tunnel device, with the device's address as source: it enters the
	// datapath at the node's tunnel device.
	if e, ok := l.tunnelSelf(o.src); ok && e.at == o.point {
		return e, true
	}
	return endpoint{}, false
}

// tunnelSelf is the node whose tunnel device's address a is, as an endpoint at that device: where its
// own stack sends from, and takes in, its packets to and from pods on other nodes.
func (l *lab) tunnelSelf(a netip.Addr) (endpoint, bool) {
	if l.tunIface == "" {
		return endpoint{}, false
	}
	for _, n := range l.t.Nodes {
		if ip, err := netip.ParseAddr(n.TunnelIP); err == nil && ip == a {
			return endpoint{kind: "node", name: n.Name, node: n.Name, ip: ip, at: n.Name + "/" + l.tunIface}, true
		}
	}
	return endpoint{}, false
}

// lateOrigin is the pod that sent o when its veth's capture began only after o was seen (a "late"
// point of lab.log): o's source is that pod's address and o came before the capture's first frame.
func (l *lab) lateOrigin(o obs) (endpoint, bool) {
	for _, e := range l.pods {
		if e.ip == o.src && l.late[e.at] && o.ts < l.first[e.at] {
			return e, true
		}
	}
	return endpoint{}, false
}

// selfNode is node n as an endpoint when a is its own address, reached (or left) at point at: the
// cali of the pod it talks to, where the node's stack hands packets over.
func (l *lab) selfNode(n string, a netip.Addr, at string) (endpoint, bool) {
	ip, err := netip.ParseAddr(l.nodeIPs[n])
	if err != nil || ip != a {
		return endpoint{}, false
	}
	return endpoint{kind: "node", name: n, node: n, ip: ip, at: at}, true
}

func (l *lab) byIP(a netip.Addr) (endpoint, bool) {
	for _, e := range append(append([]endpoint{}, l.pods...), l.ext...) {
		if e.ip == a {
			return e, true
		}
	}
	return endpoint{}, false
}

func (l *lab) byPoint(pt string) (endpoint, bool) {
	for _, e := range append(append([]endpoint{}, l.pods...), l.ext...) {
		if e.at == pt {
			return e, true
		}
	}
	return endpoint{}, false
}

// side is the list of points from an endpoint out to its router interface; with bypass, a
// packet between pods crosses no tunnel device (WireGuard's, skipped by a route).
func (l *lab) side(e endpoint, peerIsPod, bypass bool) []string {
	if e.kind == "ext" {
		return []string{e.at}
	}
	s := []string{e.at}
	if l.tunIface != "" && peerIsPod && !bypass && e.at != e.node+"/"+l.tunIface { // (a node's own: at it already)
		s = append(s, e.node+"/"+l.tunIface)
	}
	// A node whose underlay address is on a VLAN sub-interface of eth0: packets cross it, then
	// eth0 tagged.
	if v, ok := l.vlanOf(e.node, "eth0"); ok {
		s = append(s, e.node+"/"+v.Iface)
	}
	return append(s, e.node+"/eth0")
}

// tunnelled says whether packets to or from endpoint e between nodes cross the tunnel devices: e is a pod,
// or a node's own stack at its tunnel device's address (tunnelSelf).
func (l *lab) tunnelled(e endpoint) bool {
	return e.kind == "pod" || e.kind == "node" && l.tunIface != "" && e.at == e.node+"/"+l.tunIface
}

// vlanOf returns the VLAN sub-interface of node's interface parent, if the lab made one.
func (l *lab) vlanOf(node, parent string) (VLAN, bool) {
	for _, v := range l.t.VLANs {
		if v.Node == node && v.Parent == parent {
			return v, true
		}
	}
	return VLAN{}, false
}

func (l *lab) pathVia(src, dst endpoint, bypass bool) []string {
	if (src.kind == "node" || dst.kind == "node") && src.node == dst.node { // a node and its own pod: the pod's cali only
		if src.kind == "node" {
			return []string{dst.at}
		}
		return []string{src.at}
	}
	a := l.side(src, l.tunnelled(dst), bypass)
	b := l.side(dst, l.tunnelled(src), bypass)
	p := append([]string{}, a...)
	if src.node != dst.node {
		p = append(p, l.routerHops(src.node, dst.node)...)
		for i := len(b) - 1; i >= 0; i-- {
			p = append(p, b[i])
		}
	} else {
		p = []string{src.at, dst.at}
	}
	return p
}

// routerHops lists the router interfaces a packet crosses from one host (node or external) to
// another: for each router on the way, the interface toward where the packet came from, then the
// one toward where it goes. The routers and their neighbours come from lab.log; the way is the
// shortest one through them (the lab has no loops).
func (l *lab) routerHops(from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 && prev[to] == "" {
		at := queue[0]
		queue = queue[1:]
		for _, r := range l.t.Routers {
			var next []string
			if r.Name == at {
				for k := range r.Toward {
					next = append(next, k)
				}
				sort.Strings(next)
			} else if _, ok := r.Toward[at]; ok {
				next = []string{r.Name}
			}
			for _, n := range next {
				if _, seen := prev[n]; !seen {
					prev[n] = at
					queue = append(queue, n)
				}
			}
		}
	}
	var way []string // from … to, routers between
	for at := to; at != ""; at = prev[at] {
		way = append([]string{at}, way...)
		if at == from {
			break
		}
	}
	var hops []string
	for i := 1; i+1 < len(way); i++ {
		for _, r := range l.t.Routers {
			if r.Name == way[i] {
				hops = append(hops, r.Name+"/"+r.Toward[way[i-1]], r.Name+"/"+r.Toward[way[i+1]])
			}
		}
	}
	return hops
}

func ipport(a netip.Addr, port int) string {
	if port == 0 {
		return a.String()
	}
	return netip.AddrPortFrom(a, uint16(port)).String()
}

type fkey struct {
	proto, src, dst string
	sport, dport    int
}

type flowSet struct {
	l       *lab
	flows   map[fkey]*Flow
	order   []fkey
	natSeen map[string]int // addNAT: a translation's index in lab.natCands
	retrans map[fkey]map[uint32]int
	// syns maps a TCP 5-tuple (its ends in string order) to its SYNs and SYN-ACKs, each at its origin
	// (portReuse)
	syns map[[2]string][]synSeen
	// segs maps a TCP 5-tuple (as syns) to all its segments at their origin, in the order sent, each
	// with whether it was a resend (portReuse: each connection's own counts)
	segs map[[2]string][]segSent
	// ends maps a TCP end (address:port) to another that the same end was seen as, across a NAT: the
	// ends of each TCP packet at its origin and at every point it was seen, joined (findEnd), so that
	// portReuse takes the tuples NAT joins as one (a port reused through a NAT both ways)
	ends  map[string]string
	nSegs int // the segments accounted so far (segSent.n)
}

// segSent is a TCP segment at its origin, and whether it resent a sequence number sent before; n is
// its place in the order segments were accounted in.
type segSent struct {
	o      obs
	resent bool
	n      int
}

// findEnd is the end that stands for TCP end e and every end joined with it (fs.ends): the least in
// string order.
func (fs *flowSet) findEnd(e string) string {
	for {
		r, ok := fs.ends[e]
		if !ok || r == e {
			return e
		}
		e = r
	}
}

// joinEnds notes that TCP ends a and b are one end seen on either side of a NAT.
func (fs *flowSet) joinEnds(a, b string) {
	ra, rb := fs.findEnd(a), fs.findEnd(b)
	if ra == rb {
		return
	}
	if fs.ends == nil {
		fs.ends = map[string]string{}
	}
	fs.ends[max(ra, rb)] = min(ra, rb)
}

// synSeen is a TCP SYN at its origin, and whether it reached its destination.
type synSeen struct {
	o         obs
	delivered bool
}

// account adds one packet, first seen at its origin as o, and seen at the
// points in seen, to its flow.
func (fs *flowSet) account(o obs, src endpoint, seen map[string]obs) {
	l := fs.l
	dst, ok := l.destination(o, seen, src)
	fk := fkey{o.proto, o.src.String(), o.dst.String(), o.sport, o.dport}
	fl := fs.flows[fk]
	if fl == nil {
		fl = &Flow{Proto: o.proto, Src: o.src.String(), Dst: o.dst.String(), Sport: o.sport, Dport: o.dport, Path: []string{}}
		if ok {
			bypass := l.wgBypass(src, dst, seen)
			if bypass {
				l.add("wireguard-bypass", src.node+"/eth0")
			}
			if gw, ok := l.egressVia(src, dst); ok {
				fl.keys = l.captured(l.pathEgress(src, gw, dst))
			} else if via, ok := l.viaNode(o, src, dst); ok {
				fl.keys = l.captured(l.pathThrough(src, via, dst))
			} else {
				fl.keys = l.captured(numbered(l.pathVia(src, dst, bypass)))
			}
			fl.Path = pointNames(fl.keys)
			fl.DeliveredTo = dst.at
		}
		fs.flows[fk] = fl
		fs.order = append(fs.order, fk)
	}
	fl.Sent++
	if o.proto == "tcp" && o.syn {
		fs.syn(o, ok && len(fl.keys) > 0 && has(seen, fl.keys[len(fl.keys)-1]))
	}
	resent := false
	if o.proto == "tcp" && (o.plen > 0 || o.syn || o.fin) {
		if fs.retrans[fk] == nil {
			fs.retrans[fk] = map[uint32]int{}
		}
		fs.retrans[fk][o.seq]++
		if fs.retrans[fk][o.seq] > 1 {
			fl.Retransmitted++
			resent = true
		}
	}
	if o.proto == "tcp" {
		k := tupleKey(o)
		if fs.segs == nil {
			fs.segs = map[[2]string][]segSent{}
		}
		fs.segs[k] = append(fs.segs[k], segSent{o, resent, fs.nSegs})
		fs.nSegs++
		for _, x := range seen {
			if x.proto == "tcp" {
				fs.joinEnds(ipport(o.src, o.sport), ipport(x.src, x.sport))
				fs.joinEnds(ipport(o.dst, o.dport), ipport(x.dst, x.dport))
			}
		}
	}
	last := -1
	for i, pt := range fl.keys {
		if _, ok := seen[pt]; ok {
			last = i
		}
	}
	l.lateCapture(fl, seen)
	if len(fl.Path) > 0 && last == len(fl.Path)-1 {
		fl.Delivered++
		fl.deliveredSizes = append(fl.deliveredSizes, o.size)
	} else {
		seg := "unknown"
		if last >= 0 && last+1 < len(fl.Path) {
			seg = fl.Path[last] + "→" + fl.Path[last+1]
		}
		addLost(fl, seg)
		fl.lostSizes = append(fl.lostSizes, o.size)
		fl.lostDF = fl.lostDF || o.df
	}
	// NAT: the first point on the path where the tuple changed.
	prev := o
	for i, k := range fl.keys {
		x, ok := seen[k]
		if !ok || i == 0 {
			continue
		}
		pt := fl.Path[i]
		// An ICMP echo identifier is one field for both directions (as
		// in conntrack): it belongs to whichever address was rewritten.
		icmp := o.proto == "icmp"
		pd, xd := prev.dport, x.dport
		if icmp {
			pd, xd = prev.sport, x.sport
		}
		if x.src != prev.src || (!icmp && x.sport != prev.sport) {
			l.addNAT(fs.natSeen, "snat", o.proto, ipport(prev.src, prev.sport), ipport(x.src, x.sport), fl.Path[i-1]+"→"+pt, o.ts)
		}
		if x.dst != prev.dst || (!icmp && x.dport != prev.dport) {
			l.addNAT(fs.natSeen, "dnat", o.proto, ipport(prev.dst, pd), ipport(x.dst, xd), fl.Path[i-1]+"→"+pt, o.ts)
		}
		prev = x
	}
}

// syn notes TCP SYN o, seen at its origin (delivered: it reached its destination), for portReuse.
func (fs *flowSet) syn(o obs, delivered bool) {
	k := tupleKey(o)
	if fs.syns == nil {
		fs.syns = map[[2]string][]synSeen{}
	}
	fs.syns[k] = append(fs.syns[k], synSeen{o, delivered})
}

// tupleKey is o's TCP 5-tuple as fs.syns and fs.segs key it: its ends in string order.
func tupleKey(o obs) [2]string {
	k := [2]string{ipport(o.src, o.sport), ipport(o.dst, o.dport)}
	if k[1] < k[0] {
		k[0], k[1] = k[1], k[0]
	}
	return k
}

// has reports whether m has key k.
func has(m map[string]obs, k string) bool {
	_, ok := m[k]
	return ok
}

// unskewAt is o's capture time at its point, the lab's clock shift undone.
func (l *lab) unskewAt(o obs) int64 {
	node, _, _ := strings.Cut(o.point, "/")
	return l.unskew(node, o.ts)
}

// portReuse lists the TCP 5-tuples that carried several connections (Truth.PortReuse), the tuples a
// NAT joins (fs.ends: a connection opened through it from either end) taken as one.
// A SYN without ACK is a connection (once per ISN: a resent SYN keeps it); a delivered SYN-ACK answers
// the connection of the ISN it acknowledges.
func (l *lab) portReuse(fs *flowSet) {
	same := func(a, b string) bool { return fs.findEnd(a) == fs.findEnd(b) }
	joined := map[[2]string][][2]string{} // the tuples at their origin, by the ends that stand for theirs
	for k := range fs.syns {
		j := [2]string{fs.findEnd(k[0]), fs.findEnd(k[1])}
		if j[1] < j[0] {
			j[0], j[1] = j[1], j[0]
		}
		joined[j] = append(joined[j], k)
	}
	for _, ks := range joined {
		var syns []synSeen
		var segs []segSent
		for _, k := range ks {
			syns, segs = append(syns, fs.syns[k]...), append(segs, fs.segs[k]...)
		}
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].n < segs[j].n })
		type connAt struct {
			c  TCPConn
			ts int64 // its first SYN's time
		}
		m := map[uint32]*connAt{}
		for _, s := range syns {
			if o := s.o; !o.synAck {
				a, b := ipport(o.src, o.sport), ipport(o.dst, o.dport)
				if c := m[o.seq]; c == nil {
					m[o.seq] = &connAt{TCPConn{Client: a, Server: b, ISN: o.seq}, l.unskewAt(o)}
				} else {
					c.ts = min(c.ts, l.unskewAt(o))
				}
			}
		}
		if len(m) < 2 {
			continue
		}
		for _, s := range syns {
			if o := s.o; o.synAck && s.delivered {
				if c := m[o.ack-1]; c != nil && same(c.c.Server, ipport(o.src, o.sport)) {
					c.c.Answered = true
				}
			}
		}
		cs := make([]*connAt, 0, len(m))
		for _, c := range m {
			cs = append(cs, c)
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].ts < cs[j].ts })
		conns := make([]*TCPConn, len(cs))
		for i := range cs {
			conns[i] = &cs[i].c
		}
		connSegments(conns, segs, same)
		rt := ReusedTuple{Ends: [2]string{cs[0].c.Client, cs[0].c.Server}}
		if rt.Ends[1] < rt.Ends[0] {
			rt.Ends[0], rt.Ends[1] = rt.Ends[1], rt.Ends[0]
		}
		for _, c := range cs {
			rt.Connections = append(rt.Connections, c.c)
		}
		l.t.PortReuse = append(l.t.PortReuse, rt)
	}
	sort.Slice(l.t.PortReuse, func(i, j int) bool {
		return l.t.PortReuse[i].Ends[0]+" "+l.t.PortReuse[i].Ends[1] < l.t.PortReuse[j].Ends[0]+" "+l.t.PortReuse[j].Ends[1]
	})
}

// connSegments gives each connection of a reused tuple (cs, each with its client's ISN) its server's
// ISN, its segments' counts and its handshake RTT, from the tuple's segments at their origin; same
// tells whether two ends are one (across a NAT).
func connSegments(cs []*TCPConn, segs []segSent, same func(a, b string) bool) {
	for _, s := range segs {
		o := s.o
		for _, c := range cs {
			if o.synAck && same(ipport(o.src, o.sport), c.Server) && o.ack == c.ISN+1 && c.ServerISN == 0 {
				c.ServerISN = o.seq
			}
		}
	}
	// of returns the connection of a segment from end e with sequence number seq, nil for none.
	of := func(e string, seq uint32) *TCPConn {
		var best *TCPConn
		var d uint32
		for _, c := range cs {
			isn, ok := c.ISN, same(c.Client, e)
			if !ok && same(c.Server, e) && c.ServerISN != 0 {
				isn, ok = c.ServerISN, true
			}
			if ok && (best == nil || seq-isn < d) {
				best, d = c, seq-isn
			}
		}
		return best
	}
	synAt := map[*TCPConn]obs{}
	for _, s := range segs {
		o := s.o
		c := of(ipport(o.src, o.sport), o.seq)
		if c == nil {
			continue
		}
		c.Sent++
		if s.resent {
			c.Resent++
		}
		if o.rst {
			c.Resets++
		}
		from := same(ipport(o.src, o.sport), c.Client)
		if _, ok := synAt[c]; from && o.syn && !o.synAck && !ok {
			synAt[c] = o
		}
		if y, ok := synAt[c]; from && ok && o.ackF && !o.syn && !o.rst && c.Answered && c.HandshakeAt == "" &&
			o.ack == c.ServerISN+1 && o.point == y.point {
			c.HandshakeAt, c.HandshakeRTT = o.point, o.ts-y.ts
		}
	}
}

// passages maps each point where a packet was seen to its first sighting there. A packet seen at a
// point both inside an outer IP header and without one crossed it twice (a node that takes it in on
// eth0 and sends it out of eth0 in its tunnel, or the reverse; the router interface before it): the
// later of the two is keyed point+"#2". So is a packet seen at a point again with other addresses or
// ports, in the same encapsulation (a hairpin: a pod's packet to a Service whose endpoint is that pod
// leaves it on its cali and comes back in on it, DNATed and masqueraded by the node).
func passages(group []obs) map[string]obs {
	first := map[string][]*obs{} // by point: the first sighting in each encapsulation and tuple
	var order []string
	for i := range group {
		x := &group[i]
		f, ok := first[x.point]
		if !ok {
			order = append(order, x.point)
		}
		known := false
		for _, y := range f {
			known = known || y.tun == x.tun && y.sameTuple(*x)
		}
		if !known {
			first[x.point] = append(f, x)
		}
	}
	seen := map[string]obs{}
	for _, pt := range order {
		xs := first[pt]
		sort.Slice(xs, func(i, j int) bool { return xs[i].ts < xs[j].ts })
		for i, x := range xs {
			seen[passageKey(pt, i)] = *x
		}
	}
	return seen
}

// numbered keys a path's points by their passage (passageKey): a point met again is point+"#2".
func numbered(p []string) []string {
	n := map[string]int{}
	for i, pt := range p {
		p[i] = passageKey(pt, n[pt])
		n[pt]++
	}
	return p
}

// passageKey is point pt's key in a path and in seen for the packet's i-th passage through it.
func passageKey(pt string, i int) string {
	if i == 0 {
		return pt
	}
	return fmt.Sprintf("%s#%d", pt, i+1)
}

// pointNames is a path's points named without their passage (point+"#2" is point).
func pointNames(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i], _, _ = strings.Cut(k, "#")
	}
	return out
}

// viaNode is the node a packet between src and dst is sent to on its way: the node whose address or
// tunnel address is the packet's destination as sent, when dst is neither on that node nor that
// node's own stack (a NodePort: an external client's request to node-a's address, DNATed there to a
// pod on node-b and masqueraded to node-a's tunnel address, and the pod's reply to that address).
func (l *lab) viaNode(o obs, src, dst endpoint) (string, bool) {
	if src.kind == "node" || dst.kind == "node" {
		return "", false
	}
	for _, n := range l.t.Nodes {
		if n.Name == dst.node || n.Name == src.node {
			continue
		}
		if ip, err := netip.ParseAddr(n.IP); err == nil && ip == o.dst {
			return n.Name, true
		}
		if ip, err := netip.ParseAddr(n.TunnelIP); err == nil && ip == o.dst {
			return n.Name, true
		}
	}
	return "", false
}

// pathThrough is the path of a packet from src to dst through node via, which takes it in on eth0
// and sends it on (IP-in-IP or VXLAN: through its tunnel device, out of eth0 again): to via's eth0,
// via's tunnel device, its eth0 again, then on to dst. A point crossed twice is keyed point+"#2" the
// second time (passages).
func (l *lab) pathThrough(src endpoint, via string, dst endpoint) []string {
	var p []string
	if src.kind == "ext" {
		p = append(p, src.at)
	} else {
		p = append(p, l.side(src, true, false)...)
	}
	p = append(p, l.routerHops(src.node, via)...)
	p = append(p, via+"/eth0")
	if l.tunIface != "" {
		p = append(p, via+"/"+l.tunIface)
	}
	p = append(p, via+"/eth0")
	p = append(p, l.routerHops(via, dst.node)...)
	if dst.kind == "ext" {
		p = append(p, dst.at)
	} else {
		b := l.side(dst, true, false)
		for i := len(b) - 1; i >= 0; i-- {
			p = append(p, b[i])
		}
	}
	n := map[string]int{}
	for i, pt := range p {
		p[i] = passageKey(pt, n[pt])
		n[pt]++
	}
	return p
}

// gateway is the egress gateway pod that pod p's traffic to outside the pool is routed through.
func (l *lab) gateway(p endpoint) (endpoint, bool) {
	name, ok := l.egress[p.name]
	if !ok || p.kind != "pod" {
		return endpoint{}, false
	}
	for _, e := range l.pods {
		if e.name == name {
			return e, true
		}
	}
	return endpoint{}, false
}

// egressVia is the egress gateway a packet between src and dst crosses: a pod with a gateway on
// another node and an external host, either way.
func (l *lab) egressVia(src, dst endpoint) (endpoint, bool) {
	pod, ext := src, dst
	if src.kind == "ext" {
		pod, ext = dst, src
	}
	if ext.kind != "ext" {
		return endpoint{}, false
	}
	g, ok := l.gateway(pod)
	if !ok || g.node == pod.node {
		return endpoint{}, false
	}
	return g, true
}

// pathEgress is the path of a packet between a pod and an external host through the pod's egress
// gateway g on another node. Out: the pod's side (cali, tunnel, eth0), the routers to g's node, its eth0
// and tunnel device, in at g's veth and out of it again masqueraded (a second passage: passages), out
// of g's node's eth0 bare and on to the external host. Back: the reverse, un-masqueraded at g's veth.
func (l *lab) pathEgress(src, g, dst endpoint) []string {
	rev := func(s []string) []string {
		out := make([]string, 0, len(s))
		for i := len(s) - 1; i >= 0; i-- {
			out = append(out, s[i])
		}
		return out
	}
	tun, bare := l.side(g, true, false), l.side(g, false, false)
	var p []string
	if src.kind == "ext" {
		p = append(p, src.at)
		p = append(p, l.routerHops(src.node, g.node)...)
		p = append(p, rev(bare)...)
		p = append(p, tun...)
		p = append(p, l.routerHops(g.node, dst.node)...)
		p = append(p, rev(l.side(dst, true, false))...)
	} else {
		p = append(p, l.side(src, true, false)...)
		p = append(p, l.routerHops(src.node, g.node)...)
		p = append(p, rev(tun)...)
		p = append(p, bare...)
		p = append(p, l.routerHops(g.node, dst.node)...)
		p = append(p, dst.at)
	}
	return numbered(p)
}

// lateCapture expects a capture-gap at each point on the packet's path whose capture the lab started
// late, when the packet was not seen there but was seen at another point of its path before that
// capture's first frame: it crossed the point (or was due there) while its capture did not run.
func (l *lab) lateCapture(fl *Flow, seen map[string]obs) {
	for _, pt := range fl.keys {
		if _, ok := seen[pt]; ok || !l.late[pt] {
			continue
		}
		for _, x := range seen {
			if x.ts < l.first[pt] {
				l.add("capture-gap", pt)
				break
			}
		}
	}
}

func (l *lab) flows(all map[string][]obs, data []obs) {
	fs := &flowSet{l: l, flows: map[fkey]*Flow{}, natSeen: map[string]int{}, retrans: map[fkey]map[uint32]int{}}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		group := all[k]
		sort.SliceStable(group, func(i, j int) bool { return group[i].ts < group[j].ts })
		// Split the group into instances: one per sighting at the origin.
		var origins []int
		var src endpoint
		for i, o := range group {
			if e, ok := l.origin(o); ok {
				if len(origins) == 0 {
					src = e
				}
				// A sighting there from another endpoint's address (the node's, its masquerade's) is the
				// packet back after a NAT rewrite (a hairpin: passages), not another one sent.
				if e.at == src.at && e.ip == src.ip {
					origins = append(origins, i)
				}
			}
		}
		if len(origins) == 0 {
			// Sent before its pod's veth was captured (a late capture there): followed from its first
			// sighting, its flow the tuple seen there.
			if e, ok := l.lateOrigin(group[0]); ok {
				src, origins = e, []int{0}
			}
		}
		for n, oi := range origins {
			end := len(group)
			if n+1 < len(origins) {
				end = origins[n+1]
			}
			fs.account(group[oi], src, passages(group[oi:end]))
		}
	}
	l.tcpData(fs, data)
	l.portReuse(fs)
	l.unseen(fs)
	l.natResolve()
	// The sizes of the packets every flow delivered, by each segment of its path they crossed: a path-MTU
	// black hole is a segment's (big packets lost there while smaller ones, of any flow, passed it).
	passed := map[string][]int{}
	for _, fk := range fs.order {
		fl := fs.flows[fk]
		for i := 0; i+1 < len(fl.Path); i++ {
			seg := fl.Path[i] + "→" + fl.Path[i+1]
			passed[seg] = append(passed[seg], fl.deliveredSizes...)
		}
	}
	for _, fk := range fs.order {
		fl := fs.flows[fk]
		sort.SliceStable(fl.Lost, func(i, j int) bool { return fl.Lost[i].Packets > fl.Lost[j].Packets })
		if len(fl.Lost) > 0 {
			fl.LostAt = fl.Lost[0].Segment
		}
		if !fl.FromLog {
			l.lossAnomalies(fl, passed) // a pod that never sent has its cause in ARP
		}
		if fl.Retransmitted > 0 && len(fl.Path) > 0 {
			l.add("retransmission", fl.Path[0])
		}
		l.t.Flows = append(l.t.Flows, *fl)
	}
	sort.Slice(l.t.Flows, func(i, j int) bool {
		a, b := l.t.Flows[i], l.t.Flows[j]
		if a.Proto != b.Proto {
			return a.Proto < b.Proto
		}
		if a.Src != b.Src {
			return a.Src < b.Src
		}
		if a.Dst != b.Dst {
			return a.Dst < b.Dst
		}
		if a.Sport != b.Sport {
			return a.Sport < b.Sport
		}
		return a.Dport < b.Dport
	})
}

// unseen adds the traffic generators' conversations whose first packet
// never reached a capture point (it stayed in the pod, e.g. for want of an
// ARP answer), with the counts the generator printed.
func (l *lab) unseen(fs *flowSet) {
	for _, t := range l.t.Traffic {
		var src endpoint
		for _, p := range l.pods {
			if p.name == t.From {
				src = p
			}
		}
		if !src.ip.IsValid() {
			continue
		}
		proto, dst, sport, dport := "", "", 0, 0
		if ap, err := netip.ParseAddrPort(t.Src); err == nil {
			sport = int(ap.Port())
		}
		switch t.Kind {
		case "ping":
			proto, dst, sport = "icmp", t.Dst, t.ICMPID
			if a, err := netip.ParseAddr(t.Dst); err == nil && a.Is6() {
				proto = "icmpv6"
			}
		case "udp", "http":
			proto = "udp"
			hp := t.Dst
			if t.Kind == "http" {
				proto = "tcp"
				hp = strings.TrimSuffix(strings.TrimPrefix(hp, "http://"), "/")
			}
			ap, err := netip.ParseAddrPort(hp)
			if err != nil {
				continue
			}
			dst, dport = ap.Addr().String(), int(ap.Port())
		default:
			continue
		}
		found := false
		for fk := range fs.flows {
			if fk.proto == proto && fk.src == src.ip.String() && fk.dst == dst && (sport == 0 || fk.sport == sport) {
				found = true
			}
			// Seen after a DNAT only (its pod's veth captured late): the same source port.
			if proto == "udp" && sport != 0 && fk.proto == proto && fk.src == src.ip.String() && fk.sport == sport {
				found = true
			}
		}
		if found {
			continue
		}
		fk := fkey{proto, src.ip.String(), dst, sport, dport}
		fl := &Flow{Proto: proto, Src: fk.src, Dst: dst, Sport: sport, Dport: dport, Sent: t.Sent,
			Delivered: 0, LostAt: src.name + "/eth0→" + src.at, FromLog: true, Path: []string{}}
		if fl.Sent > 0 {
			fl.Lost = []LostSeg{{Segment: fl.LostAt, Packets: fl.Sent}}
		}
		fs.flows[fk] = fl
		fs.order = append(fs.order, fk)
	}
}

// tcpData follows TCP segments that carry data. Segmentation offload means
// one segment at the origin may leave as several (or arrive merged), so a
// segment counts as seen at a point when segments there with the same ACK
// number cover its sequence range, before the origin sends that range again.
// Sequence and ACK numbers survive NAT.
func (l *lab) tcpData(fs *flowSet, data []obs) {
	sort.SliceStable(data, func(i, j int) bool { return data[i].ts < data[j].ts })
	byPoint := map[string][]obs{}
	for _, d := range data {
		byPoint[d.point] = append(byPoint[d.point], d)
	}
	for i, o := range data {
		src, ok := l.origin(o)
		if !ok || hairpinBack(o, data[:i]) || src.kind == "node" && src.at == o.point && passedBefore(o, data[:i]) {
			continue
		}
		s, e := uint64(o.seq), uint64(o.seq)+uint64(o.plen)
		until := int64(1<<63 - 1)
		for _, n := range data[i+1:] {
			if n.point == o.point && n.ack == o.ack && n.src == o.src && n.sport == o.sport && overlap(s, e, n) {
				until = n.ts
				break
			}
		}
		seen := map[string]obs{o.point: o}
		for pt, list := range byPoint {
			if pt == o.point {
				// Back at its origin's point with other addresses or ports (a hairpin: passages).
				for _, x := range list {
					if x.ts > o.ts && x.ts < until && x.tun == o.tun && !x.sameTuple(o) && x.seq == o.seq && x.plen == o.plen && x.ack == o.ack {
						seen[passageKey(pt, 1)] = x
						break
					}
				}
				continue
			}
			// Each passage through the point on its own: in its tunnel and out of it, and in one
			// encapsulation with each tuple (a NAT between two passages: an egress gateway's veth; see
			// passages).
			var firsts []obs
			for _, tun := range []bool{false, true} {
				var tuples []obs
				for _, x := range list {
					if x.tun != tun || x.ts < o.ts || x.ts >= until || x.ack != o.ack || !overlap(s, e, x) {
						continue
					}
					known := false
					for _, y := range tuples {
						known = known || y.sameTuple(x)
					}
					if !known {
						tuples = append(tuples, x)
					}
				}
				for _, tp := range tuples {
					var cov [][2]uint64
					var first *obs
					for j := range list {
						x := list[j]
						if x.tun != tun || !x.sameTuple(tp) || x.ts < o.ts || x.ts >= until || x.ack != o.ack || !overlap(s, e, x) {
							continue
						}
						if first == nil {
							first = &list[j]
						}
						cov = append(cov, [2]uint64{uint64(x.seq), uint64(x.seq) + uint64(x.plen)})
					}
					if first != nil && covers(s, e, cov) {
						firsts = append(firsts, *first)
					}
				}
			}
			sort.Slice(firsts, func(i, j int) bool { return firsts[i].ts < firsts[j].ts })
			for i, x := range firsts {
				seen[passageKey(pt, i)] = x
			}
		}
		fs.account(o, src, seen)
	}
}

// hairpinBack reports whether TCP segment o, at a point where an earlier segment (of before) carried
// the same bytes (sequence, acknowledgement and length) with other addresses or ports, is that segment
// back after a NAT rewrite (a hairpin: passages), within a second: not one its sender sent.
func hairpinBack(o obs, before []obs) bool {
	for _, x := range before {
		if x.point == o.point && x.tun == o.tun && !x.sameTuple(o) && x.seq == o.seq && x.plen == o.plen && x.ack == o.ack &&
			o.ts-x.ts < int64(time.Second) {
			return true
		}
	}
	return false
}

// passedBefore reports whether TCP segment o was seen at another point within the second before (the
// same sequence, acknowledgement and length): it came from there, and was not sent where o was seen. A
// NodePort's request masqueraded to a node's tunnel address is seen at that node's tunnel device as if
// sent by the node's own stack (tunnelSelf), after it came in from the client.
func passedBefore(o obs, before []obs) bool {
	for _, x := range before {
		if x.point != o.point && x.seq == o.seq && x.plen == o.plen && x.ack == o.ack && o.ts-x.ts < int64(time.Second) {
			return true
		}
	}
	return false
}

func overlap(s, e uint64, x obs) bool {
	xs, xe := uint64(x.seq), uint64(x.seq)+uint64(x.plen)
	return xs < e && s < xe
}

func covers(s, e uint64, cov [][2]uint64) bool {
	sort.Slice(cov, func(i, j int) bool { return cov[i][0] < cov[j][0] })
	at := s
	for _, c := range cov {
		if c[0] > at {
			return false
		}
		at = max(at, c[1])
		if at >= e {
			return true
		}
	}
	return at >= e
}

func addLost(fl *Flow, seg string) {
	for i := range fl.Lost {
		if fl.Lost[i].Segment == seg {
			fl.Lost[i].Packets++
			return
		}
	}
	fl.Lost = append(fl.Lost, LostSeg{Segment: seg, Packets: 1})
}

// destination finds where a packet should end: the endpoint owning its
// destination address, else the endpoint it reached, else a logged DNAT.
func (l *lab) destination(o obs, seen map[string]obs, src endpoint) (endpoint, bool) {
	// Sent to an egress gateway's address and seen again at its veth un-masqueraded to a pod whose
	// traffic to outside it carries: that pod.
	if g, ok := l.byIP(o.dst); ok && src.kind == "ext" {
		if x, ok := seen[passageKey(g.at, 1)]; ok && x.dst != o.dst {
			if e, ok := l.byIP(x.dst); ok {
				if gw, ok := l.gateway(e); ok && gw.name == g.name {
					return e, true
				}
			}
		}
	}
	if e, ok := l.byIP(o.dst); ok {
		return e, true
	}
	// Seen again at a pod's veth, rewritten to that pod's address (a hairpin: passages): that pod.
	for k, x := range seen {
		if pt, _, again := strings.Cut(k, "#"); again {
			if e, ok := l.byIP(x.dst); ok && e.at == pt {
				return e, true
			}
		}
	}
	if src.kind == "pod" { // a pod answering its own node
		if e, ok := l.selfNode(src.node, o.dst, src.at); ok {
			return e, true
		}
	}
	pts := make([]string, 0, len(seen))
	for pt := range seen {
		pts = append(pts, pt)
	}
	sort.Strings(pts) // deterministic when more than one endpoint was reached
	for _, pt := range pts {
		if e, ok := l.byPoint(pt); ok && e.at != src.at {
			return e, true
		}
	}
	// A pod answering another node's own stack (a host-networked client there, from its tunnel address),
	// when it reached no endpoint beyond (a NodePort's masquerade to that address goes on, un-NATed).
	if e, ok := l.tunnelSelf(o.dst); ok && src.kind == "pod" && e.node != src.node {
		return e, true
	}
	for _, d := range l.dnat {
		from, err1 := netip.ParseAddrPort(d.From)
		to, err2 := netip.ParseAddrPort(d.To)
		if err1 == nil && err2 == nil && from.Addr() == o.dst && int(from.Port()) == o.dport {
			if e, ok := l.byIP(to.Addr()); ok {
				return e, true
			}
		}
	}
	return endpoint{}, false
}

type natCand struct {
	nat NAT
	ts  int64
	// own: the rewrite of a client's own packets whose reverse is another client's own rewrite too
	// (natOpeners: one tuple NATed both ways, a port reused through a SNAT and a DNAT)
	own bool
}

// addNAT records a translation seen on a packet sent at ts, at the earliest such packet: packets are
// not followed in the order they were sent, and several connections can share one mapping (a Service's
// connections to one endpoint: clusterip-two-nodes), so a later connection's request can be followed
// before an earlier one's answer. Which of a request's mapping and its reply's reverse mapping is kept
// is decided in natResolve: the one seen first, i.e. the initiator's.
func (l *lab) addNAT(seen map[string]int, kind, proto, from, to, where string, ts int64) {
	k := proto + from + ">" + to + "@" + where
	if i, ok := seen[k]; ok {
		if ts < l.natCands[i].ts {
			l.natCands[i].ts = ts
		}
		return
	}
	seen[k] = len(l.natCands)
	l.natCands = append(l.natCands, natCand{nat: NAT{Kind: kind, Proto: proto, From: from, To: to, Where: where}, ts: ts})
}

func (l *lab) natResolve() {
	l.natOpeners()
	sort.SliceStable(l.natCands, func(i, j int) bool { return l.natCands[i].ts < l.natCands[j].ts })
	kept := map[string]bool{}
	for _, c := range l.natCands {
		n := c.nat
		if !c.own && kept[n.Proto+n.To+">"+n.From] || kept[n.Proto+n.From+">"+n.To] {
			continue
		}
		kept[n.Proto+n.From+">"+n.To] = true
		l.t.NAT = append(l.t.NAT, n)
		l.add("nat", n.Where)
	}
}

// natOpeners turns each NAT candidate seen on a reply into the rewrite of the side that opened the
// conversation (traffic.log's clients: their source and destination address and port), as conntrack
// holds it: a destination rewrite of a packet headed for a client's own source is the un-SNAT of the
// client's SNAT, a source rewrite of a packet from the address the client sent to the un-DNAT of its
// DNAT. In a full capture the opening request's own candidate comes first and the reply's is dropped
// (natResolve); in captures begun in the middle of a conversation (nat-midstream) the first packet
// seen may be a reply, which would read as the opposite rewrite.
func (l *lab) natOpeners() {
	src, dst := map[string]bool{}, map[string]bool{}
	for _, t := range l.t.Traffic {
		if t.Kind != "udp" && t.Kind != "http" || t.Src == "" {
			continue
		}
		hp := strings.TrimSuffix(strings.TrimPrefix(t.Dst, "http://"), "/")
		proto := "udp"
		if t.Kind == "http" {
			proto = "tcp"
		}
		a, err1 := netip.ParseAddrPort(t.Src)
		b, err2 := netip.ParseAddrPort(hp)
		if err1 != nil || err2 != nil {
			continue
		}
		src[proto+ipport(a.Addr(), int(a.Port()))] = true
		dst[proto+ipport(b.Addr(), int(b.Port()))] = true
	}
	for i := range l.natCands {
		n := &l.natCands[i].nat
		if (n.Kind == "dnat" && dst[n.Proto+n.From] || n.Kind == "snat" && src[n.Proto+n.From]) &&
			(n.Kind == "dnat" && src[n.Proto+n.To] || n.Kind == "snat" && dst[n.Proto+n.To]) {
			// a client's own rewrite (of the destination it sent to, or of its own source) that reads as
			// the undoing of another client's too: the tuple was NATed both ways, each client's way
			// (port-reuse-nat: pod-a's connections masqueraded, ext-1's back DNATed), both kept
			l.natCands[i].own = true
			continue
		}
		if (n.Kind == "dnat" && src[n.Proto+n.To]) || (n.Kind == "snat" && dst[n.Proto+n.To]) {
			from, to, ok := strings.Cut(n.Where, "→")
			if !ok {
				continue
			}
			n.Kind = map[string]string{"dnat": "snat", "snat": "dnat"}[n.Kind]
			n.From, n.To, n.Where = n.To, n.From, to+"→"+from
		}
	}
}

func (l *lab) add(kind, where string) {
	for _, a := range l.t.ExpectedAnomalies {
		if a.Kind == kind && a.Where == where {
			return
		}
	}
	l.t.ExpectedAnomalies = append(l.t.ExpectedAnomalies, Anomaly{Kind: kind, Where: where})
}

func (l *lab) role(pt string) string {
	for _, p := range l.t.Points {
		if p.Node+"/"+p.Iface == pt {
			return p.Role
		}
	}
	return ""
}

// lossAnomalies names a flow's losses by the segment they happened on; passed holds, by segment, the
// sizes of every flow's packets delivered across it.
func (l *lab) lossAnomalies(fl *Flow, passed map[string][]int) {
	for _, ls := range fl.Lost {
		from, to, ok := strings.Cut(ls.Segment, "→")
		if !ok {
			if ls.Segment == "unknown" {
				l.add("loss", fl.Path0())
			}
			continue
		}
		rf, rt := l.role(from), l.role(to)
		fromNode, _, _ := strings.Cut(from, "/")
		toNode, _, _ := strings.Cut(to, "/")
		kind := "loss"
		switch {
		case fromNode == toNode && rf == "tunnel" && rt == "underlay" && l.wg != nil && !l.wgSession(fromNode):
			// WireGuard: dropped for want of a session (no handshake with the peer completed).
			kind = "wireguard-no-session"
		case fromNode == toNode && rf == "workload" && rt == "tunnel",
			fromNode == toNode && rf == "tunnel" && rt == "underlay":
			kind = "encap-drop"
		case fromNode == toNode && rf == "underlay" && rt == "tunnel":
			kind = "decap-drop"
		case fromNode == toNode && rf == "tunnel" && rt == "workload":
			kind = "delivery-drop"
		case fromNode == toNode && (rf == "workload" || rt == "workload"):
			kind = "host-drop"
		case rf == "router" || rt == "router" || rf == "external" || rt == "external",
			fromNode != toNode && rf == "underlay" && rt == "underlay": // no router captured between
			kind = "underlay-drop"
		}
		if rf == "router" && rt == "router" && fromNode == toNode && l.routerAnswered(fromNode, fl) >= ls.Packets {
			// Path-MTU discovery working: the router told the sender of each packet it dropped here (ICMPv6
			// Packet Too Big quoting the flow), whose finding that is (icmp-frag-needed): not a loss.
			continue
		}
		if here := passed[ls.Segment]; fl.Delivered > 0 || len(here) > 0 {
			// Partial loss, of the flow or of the segment. A PMTU black hole
			// loses exactly the big DF packets while no ICMP "fragmentation
			// needed" is seen; the small packets that passed the segment may
			// be another flow's (a ping of big packets only, beside small
			// ones: state-low-mtu). A flow that lost everything where others
			// passed, not for its size, keeps its drop.
			bigLost := fl.lostDF
			for _, s := range fl.lostSizes {
				bigLost = bigLost && s >= 1280
			}
			bigDelivered := false
			for _, s := range here {
				bigDelivered = bigDelivered || s >= 1280
			}
			switch {
			case bigLost && !bigDelivered && !l.hasFragNeeded():
				kind = "pmtu-blackhole"
			case fl.Delivered > 0:
				kind = "loss"
			}
		}
		l.add(kind, ls.Segment)
	}
}

// Path0 is the flow's first point, or "".
func (f *Flow) Path0() string {
	if len(f.Path) == 0 {
		return ""
	}
	return f.Path[0]
}

func (l *lab) arpAnomalies(arps []arpSeen) {
	type q struct {
		point, target string
		v6            bool
	}
	asked := map[q]bool{}
	answered := map[q]string{}
	var order []q
	// An ARP request asked again at its point before any reply for its target went unanswered: the
	// kernel repeats a request only while the address stays unresolved (nat-error-late: node-b's
	// requests for pod-b, every 100 ms until pod-b answers).
	pending := map[q]bool{}
	again := map[q]bool{}
	for _, a := range arps {
		if a.request {
			k := q{a.point, a.targetIP.String(), a.v6}
			if !asked[k] {
				order = append(order, k)
			}
			if pending[k] && !a.v6 {
				again[k] = true
			}
			asked[k], pending[k] = true, true
		} else {
			k := q{a.point, a.senderIP.String(), a.v6}
			answered[k] = a.senderMAC
			pending[k] = false
		}
	}
	for _, k := range order {
		mac, ok := answered[k]
		cali := l.role(k.point) == "workload"
		if k.v6 {
			// IPv6 neighbour discovery; the gateway is the cali's own link-local address, which the
			// host answers for itself (no proxy). calipath's kinds of the same names say these
			// (ndp-gateway-off6 shows the first).
			gw := k.target == gateway6.String()
			switch {
			case !ok && cali && gw:
				l.add("nd-gateway-unanswered", k.point)
			case !ok:
				l.add("nd-unanswered", k.point)
			case cali && gw && mac != "ee:ee:ee:ee:ee:ee":
				l.add("nd-unexpected-mac", k.point)
			}
			continue
		}
		switch {
		case !ok && cali && k.target == "169.254.1.1":
			l.add("proxy-arp-missing", k.point)
		case !ok:
			l.add("arp-unanswered", k.point)
		case again[k] && !(cali && k.target == "169.254.1.1"):
			l.add("arp-unanswered", k.point)
		case cali && k.target == "169.254.1.1" && mac != "ee:ee:ee:ee:ee:ee":
			l.add("arp-unexpected-mac", k.point)
		}
	}
}

// ICMPNATSeen is one ICMP error seen on both sides of a NAT: at From quoting Before, then at To
// quoting After (the same error: its IP id, type, code and length). Shown says whether a NAT of the
// quoted flow's own packets between those quotes was captured (Truth.NAT); when not, the captures
// cannot tell this error from two, and icmp-error-nat-unknown is expected on From→To.
type ICMPNATSeen struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Before string `json:"before"`
	After  string `json:"after"`
	Shown  bool   `json:"shown"`
}

// quoteFlow4 is the flow of the IPv4 packet an ICMP error quotes (q: the error's body after its
// 8-byte header), "proto src:port → dst:port" (ports for TCP and UDP only), or "" when cut short.
func quoteFlow4(q []byte) string {
	if len(q) < 20 || q[0]>>4 != 4 {
		return ""
	}
	hl := int(q[0]&0xf) * 4
	src, _ := netip.AddrFromSlice(q[12:16])
	dst, _ := netip.AddrFromSlice(q[16:20])
	proto := map[byte]string{1: "icmp", 6: "tcp", 17: "udp"}[q[9]]
	if proto == "" {
		proto = strconv.Itoa(int(q[9]))
	}
	if (q[9] == 6 || q[9] == 17) && len(q) >= hl+4 {
		sp, dp := int(binary.BigEndian.Uint16(q[hl:])), int(binary.BigEndian.Uint16(q[hl+2:]))
		return proto + " " + ipport(src, sp) + " → " + ipport(dst, dp)
	}
	return proto + " " + src.String() + " → " + dst.String()
}

// icmpNAT finds the ICMP errors (IPv4) seen again, on the same node, with another quote: a NAT between
// the two points rewrote the error as it had rewritten the packet it quotes (conntrack). One error is
// one IP id, type, code and length, whatever its addresses. Where no NAT of the quoted flow's own
// packets joins the two quotes (none in Truth.NAT: they were not captured on both sides of it), the
// captures show two errors alike but for the flow they quote, which may be one or two:
// icmp-error-nat-unknown.
func (l *lab) icmpNAT(icmps []icmpObs) {
	type k struct {
		id             uint16
		typ, code, len int
	}
	by := map[k][]icmpObs{}
	var order []k
	for _, o := range icmps {
		if o.v6 || o.quote == "" {
			continue
		}
		key := k{o.id, o.typ, o.code, o.length}
		if by[key] == nil {
			order = append(order, key)
		}
		by[key] = append(by[key], o)
	}
	node := func(pt string) string { n, _, _ := strings.Cut(pt, "/"); return n }
	ends := func(q string) []string { // the endpoints a quote names
		_, rest, _ := strings.Cut(q, " ")
		a, b, _ := strings.Cut(rest, " → ")
		return []string{a, b}
	}
	for _, key := range order {
		seen := by[key]
		sort.SliceStable(seen, func(i, j int) bool { return seen[i].ts < seen[j].ts })
		for i := 1; i < len(seen); i++ {
			a, b := seen[i-1], seen[i]
			if a.quote == b.quote || node(a.point) != node(b.point) {
				continue
			}
			shown := false
			ea, eb := ends(a.quote), ends(b.quote)
			for _, n := range l.t.NAT {
				for x := range 2 {
					if n.From == ea[x] && n.To == eb[x] || n.From == eb[x] && n.To == ea[x] {
						shown = true
					}
				}
			}
			l.t.ICMPNAT = append(l.t.ICMPNAT, ICMPNATSeen{From: a.point, To: b.point, Before: a.quote, After: b.quote, Shown: shown})
			if !shown {
				l.add("icmp-error-nat-unknown", a.point+"→"+b.point)
			}
		}
	}
}

func (l *lab) icmpAnomalies(icmps []icmpObs) {
	sort.SliceStable(icmps, func(i, j int) bool { return icmps[i].ts < icmps[j].ts })
	type k struct {
		v6             bool
		typ, code, mtu int
		src, dst       netip.Addr
	}
	first := map[k]int{}
	for _, o := range icmps {
		key := k{o.v6, o.typ, o.code, o.mtu, o.src, o.dst}
		if i, ok := first[key]; ok {
			if l.t.ICMP[i].Where == o.point {
				l.t.ICMP[i].Count++
			}
			continue
		}
		first[key] = len(l.t.ICMP)
		l.t.ICMP = append(l.t.ICMP, ICMPSeen{ICMPv6: o.v6, Type: o.typ, Code: o.code, MTU: o.mtu, Src: o.src.String(), Dst: o.dst.String(), Where: o.point, Count: 1})
	}
	for _, s := range l.t.ICMP {
		switch {
		case s.ICMPv6 && s.Type == 2: // packet too big
			l.add("icmp-frag-needed", s.Where)
		case s.ICMPv6 && s.Type == 1:
			l.add("icmp-unreachable", s.Where)
		case s.ICMPv6 && s.Type == 3:
			l.add("ttl-expired", s.Where)
		case s.ICMPv6:
		case s.Type == 3 && s.Code == 4:
			l.add("icmp-frag-needed", s.Where)
		case s.Type == 3:
			l.add("icmp-unreachable", s.Where)
		case s.Type == 11:
			l.add("ttl-expired", s.Where)
		}
	}
}

// routerAnswered is how many ICMPv6 Packet Too Big messages router sent (seen at one of its own
// interfaces) that quote a packet of flow fl, through any tunnel (quotedFlow6).
func (l *lab) routerAnswered(router string, fl *Flow) int {
	want := fmt.Sprintf("%s %s %d %s %d", fl.Proto, fl.Src, fl.Sport, fl.Dst, fl.Dport)
	n := 0
	for _, o := range l.icmps {
		if node, _, _ := strings.Cut(o.point, "/"); node == router && o.v6 && o.typ == 2 && o.quoted == want {
			n++
		}
	}
	return n
}

func (l *lab) hasFragNeeded() bool {
	for _, s := range l.t.ICMP {
		if s.ICMPv6 && s.Type == 2 || !s.ICMPv6 && s.Type == 3 && s.Code == 4 {
			return true
		}
	}
	return false
}
