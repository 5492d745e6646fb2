package correlate

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Schema names the Result format; it changes when a field changes meaning.
const Schema = "calipath/1"

// Result is everything calipath concluded from a set of captures. It is deterministic: the same inputs
// give byte-identical JSON (lists are sorted; maps are not used).
type Result struct {
	Schema    string      `json:"schema"`
	Inputs    []Input     `json:"inputs"`
	Points    []Point     `json:"points"`
	Mode      string      `json:"mode"`
	ModeWhy   string      `json:"mode_reason,omitempty"` // how Mode was found when no node pair shows it (Modes empty)
	Modes     []PairMode  `json:"modes"`
	NodeIPs   []NodeIP    `json:"node_ips"`
	Clocks    []Clock     `json:"clocks"`
	Segments  []Segment   `json:"segments"`
	Flows     []Flow      `json:"flows"`
	ARP       []ARPPoint  `json:"arp"`
	ND        []NDPoint   `json:"nd,omitempty"` // IPv6 neighbour discovery, where a capture saw it
	ICMP      []ICMPError `json:"icmp"`
	Anomalies []Anomaly   `json:"anomalies"`
	Summary   Summary     `json:"summary"`
	Journeys  []Journey   `json:"journeys,omitempty"`
	// Names are the Kubernetes names of the addresses above, from cluster metadata (--k8s), and where
	// it names none, from an Inspektor Gadget capture's Name Resolution Blocks (kind dns); empty
	// without either. Addresses stay as they are everywhere else: renderers look names up with NameOf.
	Names []Name `json:"names,omitempty"`

	analysis      *analysis // compact state behind FlowJourneys
	flowsStreamed bool      // Flows left to EachFlow (Options.StreamFlows)
}

// Input is one capture file.
type Input struct {
	File       string   `json:"file"`
	Format     string   `json:"format"`
	Compressed bool     `json:"compressed"`
	LinkTypes  []string `json:"link_types"`
	Records    int      `json:"records"`
	Skipped    int      `json:"skipped"`
	Damaged    int      `json:"damaged"`
	Errors     []string `json:"errors"`
	// CutTo is the file's snaplen when it cut frames short of the bytes matching uses (the payload's
	// first 16 bytes, or a header): every input's packets were then matched on fewer fields, as an
	// entry of Errors says. 0: no frame was cut so.
	CutTo int `json:"cut_to,omitempty"`
}

// Point is a capture point.
type Point struct {
	ID     string `json:"id"`
	Node   string `json:"node"`
	Iface  string `json:"iface"`
	Role   string `json:"role"`
	Reason string `json:"reason"`
	// MoreReasons are the reasons of the point's other captures where they differ from Reason, each
	// "FILE: reason" (a point made of an interface's own capture and a -i any file's index named
	// after it was worked out from both).
	MoreReasons []string `json:"more_reasons,omitempty"`
	Files       []string `json:"files"`
	Frames      int      `json:"frames"`
	First       int64    `json:"first_ns"` // corrected time of the first frame
	Last        int64    `json:"last_ns"`
	PodIP       string   `json:"pod_ip,omitempty"` // for pod-veth points: the pod behind the veth
	Pod         string   `json:"pod,omitempty"`    // its "namespace/name", from cluster metadata (--k8s) or the capture's layout (Gadget, PacketCapture)
	// Inferred marks a point no capture saw a frame at, added because a -i any capture of its node
	// covered it while packets were headed there (Reason says which and why).
	Inferred bool `json:"inferred,omitempty"`
}

// Name is what cluster metadata says an address is: a pod, a service, a node or a host-network pod.
type Name struct {
	IP        string `json:"ip"`
	Kind      string `json:"kind"`                // pod, host-network-pod, service, node; dns (a Gadget capture's name records)
	Namespace string `json:"namespace,omitempty"` // pods and services
	Name      string `json:"name"`
	Node      string `json:"node,omitempty"` // the node a pod runs on
	Source    string `json:"source"`         // the metadata file (or capture) that said so
}

// String gives the name as an operator writes it: "ns/name" for pods and services, the node's name
// for a node.
func (n Name) String() string {
	if n.Namespace == "" {
		return n.Name
	}
	return n.Namespace + "/" + n.Name
}

// NameOf returns the name of address ip ("10.244.1.5", no port) when cluster metadata gave one.
// Names is sorted by IP, so this is a binary search.
func (r *Result) NameOf(ip string) (Name, bool) {
	i := sort.Search(len(r.Names), func(i int) bool { return r.Names[i].IP >= ip })
	if i < len(r.Names) && r.Names[i].IP == ip {
		return r.Names[i], true
	}
	return Name{}, false
}

// PairMode is the datapath mode between two nodes (or within one).
type PairMode struct {
	From string `json:"from"`
	To   string `json:"to"`
	Mode string `json:"mode"` // ipip, vxlan, bgp, crosssubnet, same-node
}

// NodeIP is a node address and why calipath believes it.
type NodeIP struct {
	Node   string `json:"node"`
	IP     string `json:"ip"`
	Reason string `json:"reason"`
}

// Clock is one node's clock against the reference node: corrected = raw − offset − drift×(raw − start).
type Clock struct {
	Node     string  `json:"node"`
	OffsetNs int64   `json:"offset_ns"`
	BoundNs  int64   `json:"bound_ns"` // ± uncertainty; -1 when unbounded on one side (see Method)
	DriftPPM float64 `json:"drift_ppm"`
	Method   string  `json:"method"`
	Samples  int     `json:"samples"`
	// Via names, for a clock bounded on one side only, the node whose clock and packets set its limit
	// (the reference, or a node itself bounded through another: router-2 through router-1); empty for
	// every other clock.
	Via string `json:"via,omitempty"`
	// OrderUnsureNs is, for a clock bounded on one side only whose limits jump (a step or a slew
	// faster than 500 ppm: not corrected) or one bounded through such a clock, how far its corrected
	// times may be off the way its bound does not allow: the farthest the jumping clock's limits lie
	// from the clock as taken. The order of a packet's sightings on this node and on others may be
	// wrong by up to that much (OrderNote); 0 for every other clock.
	OrderUnsureNs int64 `json:"order_unsure_ns,omitempty"`
	// OrderUnsureBy names the node whose clock's limits jump: this one, or one its limit came through.
	OrderUnsureBy string `json:"order_unsure_by,omitempty"`
}

// Latency summarises per-hop latencies in ns over N samples (all zero when N is 0).
type Latency struct {
	N   int   `json:"n"`
	Min int64 `json:"min"`
	P50 int64 `json:"p50"`
	P90 int64 `json:"p90"`
	P99 int64 `json:"p99"`
	Max int64 `json:"max"`
}

// Segment is a pair of adjacent capture points on some flow's path.
type Segment struct {
	From        string  `json:"from"`
	To          string  `json:"to"`
	Kind        string  `json:"kind"` // what the segment crosses: encap, host, underlay, decap, delivery
	Packets     int     `json:"packets"`
	Delivered   int     `json:"delivered"`
	Lost        int     `json:"lost"`
	NotCaptured int     `json:"not_captured"`
	LatencyNs   Latency `json:"latency_ns"`
	// ClockBound says what the latencies are when a clock at an end of the segment is bounded on one
	// side only (a Clock with BoundNs -1): BoundLower (the true latencies are at least these),
	// BoundUpper (at most), or BoundNone (neither: the offset between the two clocks is unknown either
	// way, so LatencyNs is left empty, N 0); "" when both clocks are bounded both ways.
	ClockBound string `json:"clock_bound,omitempty"`
	// ClockUncertainNs is, for a segment between two nodes whose clocks are bounded both ways but so
	// loosely that the sum of their bounds (more than 20 µs) reaches its smallest latency, that sum:
	// the latencies are the clocks' estimates, each within ± it of the truth (a negative one is the
	// clocks' error), and ClockNote says so, naming the clocks and how to bound them; 0 otherwise.
	ClockUncertainNs int64 `json:"clock_uncertain_ns,omitempty"`
	// ClockNote says why, naming the clocks; for BoundNone and ClockUncertainNs also how to bound them.
	ClockNote string `json:"clock_note,omitempty"`
	// LostUncaptured names, for a segment whose losses the captures cannot place on it, the points not
	// captured past From where they may have been lost instead (Journey.LostUncaptured); nil otherwise.
	LostUncaptured []string `json:"lost_uncaptured,omitempty"`
}

// Mark is a latency of the segment as printed (text: a formatted latency, "-" for none): "≥" or "≤"
// before it for lower or upper bounds, "?" in place of it when the clocks leave it unknown, "~" before
// it when loose clocks leave it uncertain (ClockUncertainNs).
func (s *Segment) Mark(text string) string { return markLoose(s.ClockBound, s.ClockUncertainNs, text) }

// MarkUncertain is what goes before a latency that loose clocks leave uncertain (ClockUncertainNs).
const MarkUncertain = "~"

// markLoose is MarkBound, with MarkUncertain before text when uncertain (ClockUncertainNs) is set.
func markLoose(bound string, uncertain int64, text string) string {
	if bound == "" && uncertain > 0 && text != "-" {
		return MarkUncertain + text
	}
	return MarkBound(bound, text)
}

// MarkBound is a latency as printed (text: a formatted latency, "-" for none) that bound (a
// Segment's, Flow's or Hop's ClockBound) says what of: "≥" or "≤" before it for lower or upper
// bounds, "?" in place of it when the clocks leave it unknown, text unchanged for a measurement.
func MarkBound(bound, text string) string {
	switch bound {
	case BoundNone:
		return "?"
	case BoundLower:
		if text != "-" {
			return "≥" + text
		}
	case BoundUpper:
		if text != "-" {
			return "≤" + text
		}
	}
	return text
}

// Endpoint is an address and port.
type Endpoint struct {
	IP   string `json:"ip"`
	Port uint16 `json:"port"`
}

// String formats an endpoint as ip:port ([ip]:port for IPv6); port 0 is left out.
func (e Endpoint) String() string {
	if e.Port == 0 {
		return e.IP
	}
	if strings.Contains(e.IP, ":") {
		return "[" + e.IP + "]:" + strconv.Itoa(int(e.Port))
	}
	return e.IP + ":" + strconv.Itoa(int(e.Port))
}

// NATMapping is a rewrite seen between two adjacent points.
type NATMapping struct {
	Kind  string `json:"kind"` // dnat, snat, nat
	At    string `json:"at"`   // segment "from→to"
	From  string `json:"from"` // "ip:port → ip:port" before
	To    string `json:"to"`   // after
	Count int    `json:"count"`
}

// ClientMapping reports whether mapping n rewrote the client's packets of f: its tuple before is the
// flow's own, client to server (an ICMP flow's endpoints have no port, its mappings the echo
// identifier). A flow's mappings are listed by where they were seen, so the answers' reverse mapping
// can come first: a connection to a Service whose endpoint is on the client's node is DNATed and
// un-NATed on the way back, and a masqueraded flow's answers are DNATed back to the client.
func (f *Flow) ClientMapping(n NATMapping) bool {
	src, dst, ok := strings.Cut(n.From, " → ")
	if !ok {
		return false
	}
	if f.Src.Port == 0 && f.Dst.Port == 0 {
		src, dst = noPort(src), noPort(dst)
	}
	return src == f.Src.String() && dst == f.Dst.String()
}

// noPort is an address:port without its port ("[v6]:port" without its brackets too).
func noPort(ap string) string {
	if a, err := netip.ParseAddrPort(ap); err == nil {
		return a.Addr().String()
	}
	return ap
}

// PointCount counts a flow's packets and bytes at one point.
type PointCount struct {
	Point   string `json:"point"`
	Packets int    `json:"packets"`
	Bytes   int64  `json:"bytes"`
}

// LostAt counts a flow's losses on one segment.
type LostAt struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Count int    `json:"count"`
	// Uncaptured names, for losses the captures cannot place on the segment, the points not captured
	// past From where they may have been lost instead (Journey.LostUncaptured); nil otherwise.
	Uncaptured []string `json:"uncaptured,omitempty"`
}

// Flow is a bidirectional conversation, identified by its 5-tuple as the client sent it.
type Flow struct {
	ID              string       `json:"id"`
	Proto           string       `json:"proto"`
	Src             Endpoint     `json:"src"`
	Dst             Endpoint     `json:"dst"`
	NAT             []NATMapping `json:"nat"`
	Packets         int          `json:"packets"` // packets sent, both directions (GSO/GRO pieces not counted again)
	Bytes           int64        `json:"bytes"`
	Delivered       int          `json:"delivered"`
	Lost            int          `json:"lost"`
	NotCaptured     int          `json:"not_captured"`
	LostAt          []LostAt     `json:"lost_at"`
	Retransmissions int          `json:"retransmissions"`
	Resets          int          `json:"resets"`
	HandshakeRTT    []PointRTT   `json:"handshake_rtt_ns"`
	EchoPairs       int          `json:"echo_pairs,omitempty"`
	EchoUnanswered  int          `json:"echo_unanswered,omitempty"`
	UDPPairs        int          `json:"udp_pairs,omitempty"`
	ARPWaitNs       int64        `json:"arp_wait_ns,omitempty"` // the first packet waited this long for ARP
	PerPoint        []PointCount `json:"per_point"`
	Path            []string     `json:"path"` // points of the client→server direction
	// PathUnordered: each i for which nothing ordered Path[i] and Path[i+1] (their nodes' clocks say
	// nothing of each other, and no packets both ways between them told which the packets crossed
	// first): the path draws them in an order nothing confirms (PathOrderNotes). Nil for none.
	PathUnordered []int   `json:"path_unordered,omitempty"`
	LatencyNs     Latency `json:"latency_ns"` // end-to-end over delivered journeys
	// ClockBound says what LatencyNs is when a clock at an end of some of its journeys is bounded on
	// one side only, as Segment.ClockBound does: BoundLower, BoundUpper, or BoundNone (LatencyNs left
	// empty: some journey's latency is neither bound, or some are lower bounds and others upper ones,
	// so quantiles over them are neither); "" when every one is a measurement. An end-to-end latency
	// depends on the clocks of its journey's first and last nodes only.
	ClockBound string `json:"clock_bound,omitempty"`
	// ClockUncertainNs is, as Segment.ClockUncertainNs, the uncertainty loose clocks leave on the
	// flow's latencies: the largest sum of the bounds of a delivered journey's first and last nodes'
	// clocks that exceeds 20 µs and the journey's latency; 0 otherwise.
	ClockUncertainNs int64 `json:"clock_uncertain_ns,omitempty"`
	// ClockNote says why, naming the clocks; for BoundNone and ClockUncertainNs also how to bound them.
	ClockNote string `json:"clock_note,omitempty"`
	// Dirs gives, for a flow whose latencies are lower bounds one way and upper bounds the other (so
	// that ClockBound is BoundNone and LatencyNs empty), each direction's end-to-end latencies with
	// what they are; nil for every other flow.
	Dirs []DirLatency `json:"dir_latency,omitempty"`
	// OpenerUnknown says, for a TCP or UDP flow whose opening no capture could have shown (a TCP flow's
	// first packet seen is neither a SYN without ACK nor a SYN-ACK; a UDP flow's, no WireGuard handshake
	// initiation, came at each capture no later after the capture's first frame than the
	// conversation's longest silence there, or after a packet of the other direction; with NAT
	// mappings, either's first rewrite could be either side's NAT), that which side opened it is not
	// known, and why: Src and Dst are then the ends of its first packet seen, not its client and
	// server, and a flow with NAT has its mappings' kinds "nat" (a SNAT by the side that opened it,
	// undone on the replies, or a DNAT of the other side's requests). A TCP flow without NAT carries the
	// text Result.OpenerNotShown gives it (the text report's CONVERSATION, the first packet's direction,
	// does not mark it; the Markdown and HTML client cell and the TUI's do); a UDP flow without NAT is
	// not marked here (its answer needs a listing of its sightings: Result.OpenerNotShown makes it for
	// the tables that ask). "" for every other flow.
	OpenerUnknown string `json:"opener_unknown,omitempty"`
	// Connections lists, for a TCP flow whose 5-tuple carried more than one connection (a port
	// reused: a SYN with a new ISN after the flow's first journey that answers no SYN of the other
	// side, or a SYN-ACK of a new ISN after the other side went past its SYN), each of them in order;
	// nil for every other flow. The flow's counts and latencies are its connections' together; its
	// HandshakeRTT is its first connection's whose handshake was captured, each connection's its own.
	// When both ends opened some, OpenerUnknown says so (Src and Dst are the first connection's).
	Connections []TCPConnection `json:"connections,omitempty"`
}

// TCPConnection is one connection of a TCP flow that carried several on its 5-tuple: its opening and
// its own counts (its journeys: from its first to the next connection's first, either way).
type TCPConnection struct {
	// OpenedBy is the flow's end that opened it, "src" or "dst" (the sender of its SYN, or the
	// receiver of a SYN-ACK first seen without it), or "" when no capture shows its opening (the
	// flow's first connection, open before the captures began: Flow.OpenerUnknown says why).
	OpenedBy string `json:"opened_by"`
	Journey  int    `json:"journey"` // its first packet's journey (its SYN's)
	Ts       int64  `json:"ts_ns"`   // its first packet's first sighting (corrected)
	// Packets, Bytes, Lost, NotCaptured, Retransmissions and Resets count its own, as the flow's count
	// all its connections' (Flow.Packets and the others are their sums).
	Packets         int   `json:"packets"`
	Bytes           int64 `json:"bytes"`
	Lost            int   `json:"lost"`
	NotCaptured     int   `json:"not_captured"`
	Retransmissions int   `json:"retransmissions"`
	Resets          int   `json:"resets"`
	// HandshakeRTT is its own handshake's, SYN to the opener's first ACK, at every point that saw both
	// (as Flow.HandshakeRTT, by point); empty when no capture shows its handshake.
	HandshakeRTT []PointRTT `json:"handshake_rtt_ns"`
}

// DirLatency is one direction's end-to-end latencies of a flow (Flow.Dirs).
type DirLatency struct {
	Dir       string  `json:"dir"` // "c2s" or "s2c"
	LatencyNs Latency `json:"latency_ns"`
	// ClockBound is BoundLower or BoundUpper, or "" for measurements.
	ClockBound string `json:"clock_bound,omitempty"`
}

// Mark is a latency of the direction as printed, marked as MarkBound does.
func (d *DirLatency) Mark(text string) string { return MarkBound(d.ClockBound, text) }

// Mark is a latency of the flow as printed, marked as MarkBound does.
func (f *Flow) Mark(text string) string { return markLoose(f.ClockBound, f.ClockUncertainNs, text) }

// PointRTT is a TCP handshake RTT (SYN to ACK of SYN-ACK) measured at one point.
type PointRTT struct {
	Point string `json:"point"`
	RTT   int64  `json:"rtt_ns"`
}

// ARPPoint summarises ARP at one point.
type ARPPoint struct {
	Point         string    `json:"point"`
	Requests      int       `json:"requests"`
	Replies       int       `json:"replies"`
	ProxyReplies  int       `json:"proxy_replies"`
	Unanswered    int       `json:"unanswered"`
	UnexpectedMAC int       `json:"unexpected_mac"`
	Gratuitous    int       `json:"gratuitous"`
	LatencyNs     Latency   `json:"latency_ns"`
	Exchanges     []ARPExch `json:"exchanges"`
}

// ARPExch is one ARP request and its reply, if any.
type ARPExch struct {
	Who       string   `json:"who_has"`
	Tell      string   `json:"tell"`
	Ts        int64    `json:"ts_ns"`
	IsAt      string   `json:"is_at,omitempty"`
	LatencyNs int64    `json:"latency_ns,omitempty"`
	Verdict   string   `json:"verdict"` // proxy-ok, answered, unanswered, unexpected-mac
	Evidence  Evidence `json:"evidence"`
}

// ICMPError is an ICMP error seen at a point, linked to the flow it quotes.
type ICMPError struct {
	Point    string   `json:"point"`
	Ts       int64    `json:"ts_ns"`
	Src      string   `json:"src"`
	Dst      string   `json:"dst"`
	Type     uint8    `json:"type"`
	Code     uint8    `json:"code"`
	MTU      uint16   `json:"mtu,omitempty"`
	Quoted   string   `json:"quoted"` // "proto src:port → dst:port"
	Flow     string   `json:"flow,omitempty"`
	Evidence Evidence `json:"evidence"`
	// Uncertain says, for an error that may be another listed error rewritten by a NAT the captures do
	// not show (icmp-error-nat-unknown), that the two may be one; "" otherwise.
	Uncertain string `json:"uncertain,omitempty"`
}

// Evidence names one frame.
type Evidence struct {
	File  string `json:"file"`
	Frame uint32 `json:"frame"`
}

// Where places an anomaly at a point or on a segment.
type Where struct {
	Node  string `json:"node,omitempty"`
	Point string `json:"point,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// Anomaly is one finding.
type Anomaly struct {
	Kind     string     `json:"kind"`
	Severity string     `json:"severity"` // error, warning, info
	Where    Where      `json:"where"`
	Flows    []string   `json:"flows"`
	Count    int        `json:"count"`
	Evidence []Evidence `json:"evidence"`
	Message  string     `json:"message"` // what happened and the likely cause
	Next     string     `json:"next"`    // the next thing to check
	// ExplainedBy are the lines of the nodes' own state (their `ip` dumps in Options.Cluster) that
	// explain it; empty without them.
	ExplainedBy []Explanation `json:"explained_by,omitempty"`
}

// Summary counts the whole result.
type Summary struct {
	Frames      int            `json:"frames"`
	Skipped     int            `json:"skipped"`
	Journeys    int            `json:"journeys"` // packets sent (journeys less GSO/GRO pieces)
	Delivered   int            `json:"delivered"`
	Lost        int            `json:"lost"`
	NotCaptured int            `json:"not_captured"`
	Flows       int            `json:"flows"`
	Anomalies   map[string]int `json:"anomalies"` // by severity (encoding/json sorts map keys)
	// Unreadable names the inputs of which nothing could be read (left out when all were read).
	Unreadable []UnreadableInput `json:"unreadable,omitempty"`
	// Unreliable says why the sent and lost counts cannot be trusted and what to re-run with (left out
	// when they can): a --window so small that packets seen again past it were forgotten.
	Unreliable string `json:"unreliable,omitempty"`
}

// UnreadableInput is an input of which nothing could be read, and why.
type UnreadableInput struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// Journey is one packet's passage through the capture points.
type Journey struct {
	ID           int    `json:"id"`
	Flow         string `json:"flow"`
	Dir          string `json:"dir"`    // "c2s" or "s2c"
	Status       string `json:"status"` // delivered, lost, not-captured, split, merged, unplaced, left-captures or uncertain
	LastSeen     string `json:"last_seen,omitempty"`
	NextExpected string `json:"next_expected,omitempty"`
	// LostUncaptured names, for a lost journey whose place the captures cannot tell, the points not
	// captured past LastSeen where it may have been lost instead of before NextExpected: "NODE
	// underlay" when it was last seen at a pod's cali, not at its node's tunnel device, and the node's
	// underlay was not captured (the packet may have left the node unencapsulated and died past it, or
	// died inside the node: encap-drop's warning). Its place is then past LastSeen, not a segment;
	// nil for every other journey.
	LostUncaptured []string `json:"lost_uncaptured,omitempty"`
	Retrans        bool     `json:"retrans,omitempty"` // a TCP segment resending data already sent
	// Uncertain says, for status "uncertain", why the captures cannot settle the journey's end: an ICMP
	// error last seen where an error alike but for the flow it quotes began next on its node, which a
	// NAT the captures do not show may have made of it (icmp-error-nat-unknown); it names the other
	// journey, the points and what calipath would have said otherwise. "" for every other journey.
	Uncertain string `json:"uncertain,omitempty"`
	Hops      []Hop  `json:"hops"`
}

// Hop is one observation of a journey.
type Hop struct {
	Point   string   `json:"point"`
	File    string   `json:"file"`
	Frame   uint32   `json:"frame"`
	Ts      int64    `json:"ts_ns"` // corrected
	DeltaNs int64    `json:"delta_ns"`
	TTL     uint8    `json:"ttl"`
	Encap   string   `json:"encap"`
	Changes []string `json:"changes,omitempty"`
	// ClockBound says what DeltaNs is when it crosses from a node to another and a clock of the two is
	// bounded on one side only, as Segment.ClockBound does (BoundNone: DeltaNs is no measurement; it
	// is still given, so that Ts - DeltaNs is the hop before); "" for a measurement.
	ClockBound string `json:"clock_bound,omitempty"`
	// ClockUncertainNs is, for a DeltaNs between two nodes whose clocks are bounded both ways but so
	// loosely that the sum of their bounds (more than 20 µs) reaches it, that sum, as
	// Segment.ClockUncertainNs; 0 otherwise.
	ClockUncertainNs int64 `json:"clock_uncertain_ns,omitempty"`
	Dup              int   `json:"dup,omitempty"` // further copies of the frame at this point
	// Len is the innermost IP packet's total length (a GSO frame: the IP bytes captured), and
	// TCPFlags its TCP flags as tcpdump prints them ("S.", "P."; empty when not TCP).
	Len      uint16 `json:"len,omitempty"`
	TCPFlags string `json:"tcp_flags,omitempty"`
	// WireGuard is the transport message that carried the packet on this hop (Encap "wireguard": the
	// packet encrypted between two WireGuard devices); nil elsewhere.
	WireGuard *HopWG `json:"wireguard,omitempty"`
}

// HopWG is the clear-text header of the WireGuard transport message a hop saw: the session's receiver
// index (hex, as on the wire's little-endian value) and the message's counter.
type HopWG struct {
	Receiver string `json:"receiver"`
	Counter  uint64 `json:"counter"`
}
