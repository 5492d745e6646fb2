package gen

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Mode is the Calico networking mode between nodes.
type Mode uint8

// Networking modes.
const (
	ModeIPIP      Mode = iota // IP-in-IP through tunl0
	ModeVXLAN                 // VXLAN through vxlan.calico
	ModeBGP                   // no encapsulation: pod IPs on the underlay
	ModeWireGuard             // WireGuard through wireguard.cali: UDP 51820 transport messages on the underlay
)

// String returns "ipip", "vxlan", "bgp" or "wireguard".
func (m Mode) String() string {
	switch m {
	case ModeIPIP:
		return "ipip"
	case ModeVXLAN:
		return "vxlan"
	case ModeBGP:
		return "bgp"
	case ModeWireGuard:
		return "wireguard"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// ParseMode parses "ipip", "vxlan", "bgp" or "wireguard".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "ipip":
		return ModeIPIP, nil
	case "vxlan":
		return ModeVXLAN, nil
	case "bgp":
		return ModeBGP, nil
	case "wireguard":
		return ModeWireGuard, nil
	}
	return 0, fmt.Errorf("unknown mode %q (want ipip, vxlan, bgp or wireguard)", s)
}

// Format is the capture file format written.
type Format uint8

// Capture file formats.
const (
	FormatPcap Format = iota
	FormatPcapNG
)

// String returns "pcap" or "pcapng".
func (f Format) String() string {
	if f == FormatPcapNG {
		return "pcapng"
	}
	return "pcap"
}

// ParseFormat parses "pcap" or "pcapng".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "pcap":
		return FormatPcap, nil
	case "pcapng":
		return FormatPcapNG, nil
	}
	return 0, fmt.Errorf("unknown format %q (want pcap or pcapng)", s)
}

// Mix is the shape of the generated traffic.
type Mix uint8

// Traffic mixes.
const (
	// MixDefault: Flows flows, protocols by Protos, packet budgets split by exponential weights
	// (a few heavy flows), between any pods on different nodes.
	MixDefault Mix = iota
	// MixManyFlows: many short flows, as DNS-heavy incidents have. Servers are the first pod of each
	// node, clients the others (every pod when PodsPerNode is 1). ManyFlowsUDP of the flows are
	// DNS-like UDP to port 53 (a request and its response, repeated while the flow's share of the
	// packets lasts: a client reusing its socket), the rest short TCP connections of 8 packets
	// (handshake, a request, its response, FIN, FIN, ACK). Protos is not used; flows start at times
	// spread over the whole run. The payloads are random bytes of DNS sizes, not DNS messages.
	MixManyFlows
	// MixARPHeavy: the default traffic plus a proxy ARP exchange for 169.254.1.1 (request on the
	// pod's cali and the reply) at ARPRate exchanges per second (Rate when ARPRate is 0), as a pod
	// whose neighbour entry keeps expiring, or an ARP storm, gives.
	MixARPHeavy
)

// ManyFlowsUDP is the share of DNS-like UDP flows in MixManyFlows.
const ManyFlowsUDP = 0.85

// String returns "default", "many-flows" or "arp-heavy".
func (m Mix) String() string {
	switch m {
	case MixDefault:
		return "default"
	case MixManyFlows:
		return "many-flows"
	case MixARPHeavy:
		return "arp-heavy"
	}
	return fmt.Sprintf("mix(%d)", uint8(m))
}

// ParseMix parses "default", "many-flows" or "arp-heavy".
func ParseMix(s string) (Mix, error) {
	for _, m := range []Mix{MixDefault, MixManyFlows, MixARPHeavy} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown mix %q (want default, many-flows or arp-heavy)", s)
}

// Protos weighs the protocols of generated flows. Weights need not sum to anything; zero means never.
type Protos struct {
	TCP, UDP, ICMP float64
}

// Span is a latency range [Min, Max]; a value is drawn uniformly from it.
type Span struct {
	Min, Max time.Duration
}

// Latencies are the true delays between consecutive capture points of a journey.
type Latencies struct {
	CaliToTunnel  Span // routing on the sending node (and, reversed, tunnel to cali on the receiver)
	TunnelToEth0  Span // encapsulation (and decapsulation on the receiver)
	CaliToEth0    Span // BGP mode: routing straight to the underlay
	Wire          Span // eth0 of the sender to eth0 of the receiver
	AppReply      Span // time a pod takes to answer what it received
	ARPReply      Span // proxy ARP answer delay
	Retransmitted Span // TCP retransmission timeout
}

// Config controls a generation run. Start from DefaultConfig.
type Config struct {
	Seed        uint64
	Dir         string // output directory (created if missing)
	Nodes       int    // ≥ 2; named node-1 … node-N
	PodsPerNode int    // ≥ 1
	Flows       int    // ≥ 1; lowered to Packets when larger
	Packets     int    // IP packets sent by pods (retransmissions included, ARP excluded)
	Mode        Mode
	Mix         Mix // shape of the traffic; MixDefault unless set
	Protos      Protos
	Routers     int     // L3 routers between nodes on the underlay; each decrements the underlay TTL
	PayloadMax  int     // largest TCP/UDP payload (clamped to the MSS of the mode)
	Snaplen     int     // capture snap length
	Rate        float64 // packets per second, all flows together (true time)
	Start       time.Time
	Latency     Latencies
	// ARPRate adds proxy ARP exchanges (all pods together, per second of true time) after each pod's
	// first one, for as long as the traffic lasts; 0 means none (MixARPHeavy then uses Rate).
	ARPRate float64

	LossPerHop  float64 // probability that a packet is lost on each segment between capture points
	DupRate     float64 // probability that one capture of a packet is written twice
	RetransRate float64 // probability that a TCP segment is resent (a lost TCP segment is, while the flow's budget allows)
	DNAT        float64 // fraction of TCP/UDP flows addressed to a ClusterIP and DNATed on the client node
	IPID0DF     float64 // fraction of flows whose packets carry IP id 0 with DF set
	PartialCsum bool    // TCP/UDP checksums on the sending node are offload-style partial sums
	// Identical is how many flows (the first ones) send byte-identical packets: UDP from client to
	// server only, IP id 0 with DF, the same ports and payload every time, the outer IP id 0 too, at
	// the flow's share of Rate with no wait for a reply. Their frames at one point cannot be told apart.
	Identical int
	// WGRekeyAfter (ModeWireGuard) starts a new session, with a new receiver index and counters from 0,
	// after a session has carried that many messages, as a rekeying handshake does (without writing
	// the handshake's messages); 0 means one session per node pair and direction.
	WGRekeyAfter int

	ClockOffset map[string]time.Duration // per node name: added to recorded time
	DriftPPM    map[string]float64       // per node name: clock rate error in parts per million
	// ClockStep, per node name: its clock steps (ntpd or chrony setting it) by Size at At after the
	// start (true time): every time recorded from then on is Size later.
	ClockStep map[string]ClockStep

	Format     Format
	Nanosecond bool // nanosecond timestamps (pcap magic a1b23c4d, pcapng if_tsresol 9)
	Gzip       bool // gzip each file (".gz" appended)

	KeepTruth bool // fill Result.Truth (memory grows with Packets)
	// TruthJSONL, when set, is the name of a file in Dir that receives one JSON object per packet as
	// each journey completes (bounded memory). Use Truth.WriteJSON for a single JSON document.
	TruthJSONL string
}

// DefaultConfig returns a small two-node IP-in-IP configuration with the realistic latencies.
func DefaultConfig() Config {
	return Config{
		Seed:        1,
		Nodes:       2,
		PodsPerNode: 1,
		Flows:       10,
		Packets:     1000,
		Mode:        ModeIPIP,
		Protos:      Protos{TCP: 0.7, UDP: 0.2, ICMP: 0.1},
		Routers:     1,
		PayloadMax:  256,
		Snaplen:     262144,
		Rate:        100000,
		Start:       time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		Latency:     DefaultLatencies,
		KeepTruth:   true,
	}
}

// DefaultLatencies are the hop latencies of DefaultConfig (a Config built otherwise sets its own).
var DefaultLatencies = Latencies{
	CaliToTunnel:  Span{10 * time.Microsecond, 30 * time.Microsecond},
	TunnelToEth0:  Span{5 * time.Microsecond, 20 * time.Microsecond},
	CaliToEth0:    Span{15 * time.Microsecond, 45 * time.Microsecond},
	Wire:          Span{100 * time.Microsecond, 500 * time.Microsecond},
	AppReply:      Span{20 * time.Microsecond, 200 * time.Microsecond},
	ARPReply:      Span{5 * time.Microsecond, 30 * time.Microsecond},
	Retransmitted: Span{200 * time.Millisecond, 220 * time.Millisecond},
}

// Limits on the topology (pod addresses come from one /24 per node).
const (
	MaxNodes       = 250
	MaxPodsPerNode = 250
	maxFlows       = 1 << 22
	maxPackets     = int64(1) << 40 // typed: past a 32-bit int
)

func validProb(name string, p float64) error {
	if math.IsNaN(p) || p < 0 || p > 1 {
		return fmt.Errorf("%s must be in [0,1], got %v", name, p)
	}
	return nil
}

func validSpan(name string, s Span) error {
	if s.Min < 0 || s.Max < s.Min || s.Max > time.Hour {
		return fmt.Errorf("latency %s: need 0 ≤ min ≤ max ≤ 1h, got [%v,%v]", name, s.Min, s.Max)
	}
	return nil
}

// Validate reports the first problem with the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("no output directory")
	case c.Nodes < 2 || c.Nodes > MaxNodes:
		return fmt.Errorf("nodes must be in [2,%d], got %d", MaxNodes, c.Nodes)
	case c.PodsPerNode < 1 || c.PodsPerNode > MaxPodsPerNode:
		return fmt.Errorf("pods per node must be in [1,%d], got %d", MaxPodsPerNode, c.PodsPerNode)
	case c.Flows < 1 || c.Flows > maxFlows:
		return fmt.Errorf("flows must be in [1,%d], got %d", maxFlows, c.Flows)
	case c.Packets < 1 || int64(c.Packets) > maxPackets:
		return fmt.Errorf("packets must be in [1,%d], got %d", maxPackets, c.Packets)
	case c.Mix > MixARPHeavy:
		return fmt.Errorf("unknown mix %d", c.Mix)
	case math.IsNaN(c.ARPRate) || c.ARPRate < 0 || c.ARPRate > 1e9:
		return fmt.Errorf("ARP rate must be in [0,1e9] exchanges/s, got %v", c.ARPRate)
	case c.Mode > ModeWireGuard:
		return fmt.Errorf("unknown mode %d", c.Mode)
	case c.Format > FormatPcapNG:
		return fmt.Errorf("unknown format %d", c.Format)
	case c.WGRekeyAfter < 0:
		return fmt.Errorf("WireGuard rekey interval must be ≥ 0 messages, got %d", c.WGRekeyAfter)
	case c.Identical < 0 || c.Identical > c.Flows:
		return fmt.Errorf("identical flows must be in [0,flows=%d], got %d", c.Flows, c.Identical)
	case c.Routers < 0 || c.Routers > 32:
		return fmt.Errorf("routers must be in [0,32], got %d", c.Routers)
	case c.PayloadMax < 1 || c.PayloadMax > 9000:
		return fmt.Errorf("payload max must be in [1,9000], got %d", c.PayloadMax)
	case c.Snaplen < 64 || c.Snaplen > 262144:
		return fmt.Errorf("snaplen must be in [64,262144], got %d", c.Snaplen)
	case math.IsNaN(c.Rate) || c.Rate < 1 || c.Rate > 1e9:
		return fmt.Errorf("rate must be in [1,1e9] packets/s, got %v", c.Rate)
	case float64(c.Packets)/c.Rate > 30*86400:
		return fmt.Errorf("packets/rate spans more than 30 days (%v packets at %v/s)", c.Packets, c.Rate)
	case c.Start.Before(time.Unix(1e6, 0)) || c.Start.After(time.Unix(1<<31, 0)):
		return fmt.Errorf("start %v out of range", c.Start)
	}
	l := c.Latency
	for _, s := range []struct { // in this order, so the first problem reported is always the same
		name string
		s    Span
	}{{"cali-tunnel", l.CaliToTunnel}, {"tunnel-eth0", l.TunnelToEth0}, {"cali-eth0", l.CaliToEth0},
		{"wire", l.Wire}, {"app-reply", l.AppReply}, {"arp-reply", l.ARPReply}, {"retransmit", l.Retransmitted}} {
		if err := validSpan(s.name, s.s); err != nil {
			return err
		}
	}
	p := c.Protos
	for _, w := range []float64{p.TCP, p.UDP, p.ICMP} {
		if math.IsNaN(w) || w < 0 || math.IsInf(w, 0) {
			return fmt.Errorf("protocol weights must be finite and ≥ 0, got %+v", p)
		}
	}
	if p.TCP+p.UDP+p.ICMP <= 0 {
		return errors.New("all protocol weights are zero")
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"loss", c.LossPerHop}, {"dup", c.DupRate}, {"retrans", c.RetransRate}, {"dnat", c.DNAT}, {"ipid0", c.IPID0DF}} {
		if err := validProb(v.name, v.v); err != nil {
			return err
		}
	}
	for name, off := range c.ClockOffset {
		if nodeIndex(name, c.Nodes) < 0 {
			return fmt.Errorf("clock offset for unknown node %q", name)
		}
		if off < -24*time.Hour || off > 24*time.Hour {
			return fmt.Errorf("clock offset for %s out of ±24h: %v", name, off)
		}
	}
	for name, st := range c.ClockStep {
		if nodeIndex(name, c.Nodes) < 0 {
			return fmt.Errorf("clock step for unknown node %q", name)
		}
		if st.At < 0 || st.Size < -24*time.Hour || st.Size > 24*time.Hour {
			return fmt.Errorf("clock step for %s must be at a moment from the start on and of at most ±24h: %v at %v",
				name, st.Size, st.At)
		}
	}
	for name, d := range c.DriftPPM {
		if nodeIndex(name, c.Nodes) < 0 {
			return fmt.Errorf("drift for unknown node %q", name)
		}
		if math.IsNaN(d) || d <= -1e5 || d >= 1e5 {
			return fmt.Errorf("drift for %s must be in (-1e5,1e5) ppm, got %v", name, d)
		}
	}
	return nil
}

// nodeIndex returns i for "node-(i+1)" when i < n, else -1.
func nodeIndex(name string, n int) int {
	var i int
	if _, err := fmt.Sscanf(name, "node-%d", &i); err != nil || fmt.Sprintf("node-%d", i) != name {
		return -1
	}
	if i < 1 || i > n {
		return -1
	}
	return i - 1
}
