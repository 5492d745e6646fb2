package gen

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"time"
)

// CaliName returns the host-side veth name Calico gives a pod: "cali" + the first 11 hex digits of
// sha1("<namespace>.<pod>").
func CaliName(namespace, pod string) string {
	h := sha1.Sum([]byte(namespace + "." + pod))
	return "cali" + hex.EncodeToString(h[:])[:11]
}

// VTEPMAC returns the vxlan.calico MAC of a node: 0x66 and the first 5 bytes of sha1(nodename).
func VTEPMAC(node string) [6]byte {
	h := sha1.Sum([]byte(node))
	return [6]byte{0x66, h[0], h[1], h[2], h[3], h[4]}
}

// Addresses and link-layer constants of the simulated cluster.
var (
	caliMAC     = [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	broadcast   = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	gatewayIPv4 = [4]byte{169, 254, 1, 1}
)

// Capture point kinds, in path order on the sending node.
const (
	kindCali   = "cali"
	kindTunnel = "tunnel"
	kindEth0   = "eth0"
)

// Link types written.
const (
	linkEthernet = 1
	linkRaw      = 101
)

type node struct {
	name    string
	ip      [4]byte
	mac     [6]byte
	gwMAC   [6]byte // first router on the underlay (Routers > 0)
	vtepMAC [6]byte
	offset  int64
	drift   float64 // ppm
	step    *ClockStep
	tunFile int // -1 in BGP mode
	ethFile int
	outerID uint16 // outer IP id counter for tunnelled packets
}

type pod struct {
	name    string
	node    int
	ip      [4]byte
	mac     [6]byte
	file    int
	arpDone bool
	arpTill int64 // the proxy ARP reply time: the pod sends nothing before it
}

type capFile struct {
	FileTruth
	w *capWriter
}

// buildTopology creates nodes, pods and the capture files' descriptions (not yet opened).
func (g *generator) buildTopology() {
	c := &g.cfg
	r := newRNG(c.Seed, 1)
	tunIface := "tunl0"
	switch c.Mode {
	case ModeVXLAN:
		tunIface = "vxlan.calico"
	case ModeWireGuard:
		tunIface = "wireguard.cali"
	}
	ext := ".pcap"
	if c.Format == FormatPcapNG {
		ext = ".pcapng"
	}
	if c.Gzip {
		ext += ".gz"
	}
	addFile := func(n *node, iface, kind, podName string, link int) int {
		g.files = append(g.files, capFile{FileTruth: FileTruth{
			Name: n.name + "-" + iface + ext, Node: n.name, Iface: iface, Point: kind, Pod: podName,
			LinkType: link,
		}})
		return len(g.files) - 1
	}
	for i := 0; i < c.Nodes; i++ {
		n := node{name: fmt.Sprintf("node-%d", i+1), tunFile: -1, outerID: uint16(r.next())}
		if c.Routers == 0 {
			n.ip = [4]byte{10, 0, byte((i + 10) >> 8), byte(i + 10)} // one /16 underlay subnet
		} else {
			n.ip = [4]byte{10, 0, byte(i + 1), 10}
			n.gwMAC = [6]byte{0x02, 0x42, 0x0a, 0x00, byte(i + 1), 0x01}
		}
		n.mac = [6]byte{0x52, 0x54, 0x00, 0x0a, byte(i + 1), 0x10}
		n.vtepMAC = VTEPMAC(n.name)
		n.offset = int64(c.ClockOffset[n.name])
		n.drift = c.DriftPPM[n.name]
		if st, ok := c.ClockStep[n.name]; ok {
			n.step = &st
		}
		g.nodes = append(g.nodes, n)
	}
	for i := range g.nodes {
		n := &g.nodes[i]
		for j := 0; j < c.PodsPerNode; j++ {
			p := pod{name: fmt.Sprintf("pod-%d-%d", i+1, j+1), node: i, ip: [4]byte{192, 168, byte(i), byte(j + 1)}}
			v := r.next()
			for k := range p.mac {
				p.mac[k] = byte(v >> (8 * k))
			}
			p.mac[0] = p.mac[0]&0xfe | 0x02
			p.file = addFile(n, CaliName("default", p.name), kindCali, p.name, linkEthernet)
			g.pods = append(g.pods, p)
		}
		switch c.Mode {
		case ModeIPIP, ModeWireGuard:
			n.tunFile = addFile(n, tunIface, kindTunnel, "", linkRaw)
		case ModeVXLAN:
			n.tunFile = addFile(n, tunIface, kindTunnel, "", linkEthernet)
		}
		n.ethFile = addFile(n, "eth0", kindEth0, "", linkEthernet)
	}
}

// recorded converts a true time to the node's clock.
func (n *node) recorded(t, start int64) int64 {
	rec := t + n.offset
	if n.drift != 0 {
		rec += int64(float64(t-start) * n.drift / 1e6)
	}
	return rec + n.stepped(t, start)
}

// stepped returns the part of the node's clock at true time t that its step added: its size from the
// step on, 0 before (and without one).
func (n *node) stepped(t, start int64) int64 {
	if n.step != nil && t-start >= int64(n.step.At) {
		return int64(n.step.Size)
	}
	return 0
}

// nodeTruth describes a node for the Truth.
func (n *node) truth() NodeTruth {
	return NodeTruth{Name: n.name, IP: addr4(n.ip), MAC: macString(n.mac), VTEPMAC: macString(n.vtepMAC),
		Offset: time.Duration(n.offset), DriftPPM: n.drift, Step: n.step}
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}
