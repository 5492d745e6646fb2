package correlate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// The lab's state-neigh-failed: BGP mode, node-b routes pod-a's block via 192.168.20.99, which no one
// answers ARP for; pod-b's answers die on node-b after its cali, and node-b answers each with ICMP
// host-unreachable from 192.168.20.2, an address calipath does not know (no outer header, no
// --node-ip). Its points, and the MACs of node-b's eth0 and of router-1 on that link.
const (
	nfDir     = "state-neigh-failed"
	nfCali    = "node-b/cali2f5353dd8c5"
	nfEth0    = "node-b/eth0"
	nfHop     = "192.168.20.99"
	nfNodeBed = "node-b-eth0.pcap"
)

var nfMACNodeB, nfMACRouter = []byte{0xe2, 0x5a, 0x23, 0xa2, 0xa1, 0x91}, []byte{0xfe, 0xd6, 0xfe, 0xf0, 0xd2, 0x4f}

// nfShapes are the ways a user gives state-neigh-failed's captures: every file; the dedicated files
// (no -i any); each node's -i any file with its links dump, and without (any#N, whose roles come from
// the traffic: before, node-b's eth0 stayed of unknown role and the 6 packets were lost on an
// underlay segment between the pods' veths, with no ERROR).
func nfShapes(t *testing.T) map[string]*decode.Capture {
	t.Helper()
	dir := filepath.Join("../testdata/lab/scenarios", nfDir)
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	if len(pcaps) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	var per, any []string
	for _, p := range pcaps {
		if strings.HasSuffix(p, "-any.pcap") {
			any = append(any, p)
		} else {
			per = append(per, p)
		}
	}
	cfg := decode.PointConfig{Links: labLinksIn(t, dir)}
	return map[string]*decode.Capture{
		"all":       decode.Load(append(pcaps, ngs...), decode.Options{}, decode.PointConfig{}),
		"dedicated": decode.Load(per, decode.Options{}, decode.PointConfig{}),
		"any-links": decode.Load(any, decode.Options{}, cfg),
		"any":       decode.Load(any, decode.Options{}, decode.PointConfig{}),
	}
}

// nfFind returns the anomalies of kind at where (a point, or a segment "from→to").
func nfFind(res *Result, kind, where string) []Anomaly {
	var out []Anomaly
	for _, an := range res.Anomalies {
		w := an.Where.Point
		if an.Where.From != "" {
			w = an.Where.From + "→" + an.Where.To
		}
		if an.Kind == kind && w == where {
			out = append(out, an)
		}
	}
	return out
}

// nfList lists anomalies one a line, for failure messages.
func nfList(res *Result) string {
	var b strings.Builder
	for _, an := range res.Anomalies {
		fmt.Fprintf(&b, "\n  %s %s %+v (%d): %s", an.Severity, an.Kind, an.Where, an.Count, an.Message)
	}
	return b.String()
}

// On state-neigh-failed, node-b's host-unreachable errors, from an address no node is known by, first
// seen at pod-b's veth, answer packets that never left node-b (lost between its cali and its eth0,
// which was captured): node-b dropped them, an ERROR host-drop there, and its message and next step name
// the next hop node-b's unanswered ARP asked for. Before, the errors were taken for another hop's
// answers and took the drop away: "WARNING icmp-unreachable … It answered 6 packets dropped on that
// node (not counted again as loss)", and no host-drop.
func TestNeighFailedHostDrop(t *testing.T) {
	for shape, c := range nfShapes(t) {
		t.Run(shape, func(t *testing.T) {
			res := Correlate(c, Options{})
			nfCali, nfEth0 := nfCali, nfEth0
			if shape == "any" {
				nfCali, nfEth0 = "node-b/any#3", "node-b/any#2"
			}
			drops := nfFind(res, "host-drop", nfCali+"→"+nfEth0)
			if len(drops) != 1 {
				t.Fatalf("want one host-drop at %s→%s, got %d; anomalies:%s", nfCali, nfEth0, len(drops), nfList(res))
			}
			d := drops[0]
			if d.Severity != "error" || d.Count != 6 {
				t.Errorf("host-drop: %s, count %d; want error, 6", d.Severity, d.Count)
			}
			for _, s := range []string{"host-unreachable (ICMP type 3 code 1)", "ARP requests for " + nfHop + " at " + nfEth0 + " got no reply (6",
				"routes these packets (to 10.244.1.5) via " + nfHop} {
				if !strings.Contains(d.Message, s) {
					t.Errorf("host-drop message lacks %q: %s", s, d.Message)
				}
			}
			if !strings.Contains(d.Next, "next hop "+nfHop+" does not answer ARP") || !strings.Contains(d.Next, "ip route get 10.244.1.5") {
				t.Errorf("host-drop next step: %s", d.Next)
			}
			// Its evidence: the lost packets, then two of the errors and two of the ARP requests.
			icmps, arps := nfFind(res, "icmp-unreachable", nfCali), nfFind(res, "arp-unanswered", nfEth0)
			if len(icmps) == 0 || len(arps) != 1 {
				t.Fatalf("icmp-unreachable at %s: %d, arp-unanswered at %s: %d; anomalies:%s", nfCali, len(icmps), nfEth0, len(arps), nfList(res))
			}
			var errEv []Evidence
			for _, an := range icmps {
				errEv = append(errEv, an.Evidence...)
			}
			if len(d.Evidence) != 10 {
				t.Errorf("host-drop evidence: %d frames, want 6 lost packets, 2 errors, 2 requests: %v", len(d.Evidence), d.Evidence)
			} else {
				for i, e := range d.Evidence[6:8] {
					if !slices.Contains(errEv, e) {
						t.Errorf("evidence %d, %v, is no ICMP error's (%v)", 6+i, e, errEv)
					}
				}
				for i, e := range d.Evidence[8:] {
					if !slices.Contains(arps[0].Evidence, e) {
						t.Errorf("evidence %d, %v, is no unanswered request's (%v)", 8+i, e, arps[0].Evidence)
					}
				}
			}
			// The errors are node-b's own (their drops counted), and nothing says they answered a drop.
			own := 0
			for _, an := range res.Anomalies {
				if strings.Contains(an.Message, "It answered") {
					t.Errorf("%s at %+v: %s", an.Kind, an.Where, an.Message)
				}
				if an.Kind == "icmp-unreachable" && strings.Contains(an.Message, "Sent by node-b to its own pod") {
					own += an.Count
					// (A -i any capture shows node-b sending from 192.168.20.2 at its eth0: then it is known.)
					if !nfKnown(res, "192.168.20.2") && !strings.Contains(an.Message, "Its source, 192.168.20.2, is no known node's address") {
						t.Errorf("own errors from an unknown address do not say why they are node-b's: %s", an.Message)
					}
				}
			}
			if own != 6 {
				t.Errorf("%d errors taken as node-b's own, want 6; anomalies:%s", own, nfList(res))
			}
		})
	}
}

// nfKnown reports whether res names ip as a node's address.
func nfKnown(res *Result, ip string) bool {
	for _, n := range res.NodeIPs {
		if n.IP == ip {
			return true
		}
	}
	return false
}

// nfIPv4 is the IPv4 header of an Ethernet frame's record (nil when it carries none).
func nfIPv4(rec []byte) []byte {
	d := rec[16:]
	if len(d) < 34 || binary.BigEndian.Uint16(d[12:]) != 0x0800 {
		return nil
	}
	return d[14:]
}

// nfPodBAnswer reports whether a record of pod-b's veth holds one of pod-b's answers to pod-a (the
// echo replies and the UDP answers that node-b dropped).
func nfPodBAnswer(rec []byte) bool {
	ip := nfIPv4(rec)
	return ip != nil && bytes.Equal(ip[12:20], append(labPodB.AsSlice(), labPodA.AsSlice()...)) &&
		(ip[9] == 17 || (ip[9] == 1 && ip[20] == 0))
}

// The boundary, on state-neigh-failed with node-b's eth0 capture given pod-b's lost answers as node-b
// would have sent them (routed: TTL less one, node-b's MAC to router-1's, 20 µs after its cali saw
// them): the same ICMP errors now answer packets that left node-b (lost between node-b's and node-a's
// eth0), so they keep their meaning, answers from past the node's eth0 (not counted again as loss),
// and nothing calls it a drop on node-b.
func TestNeighFailedLeftNode(t *testing.T) {
	var answers []pcapRec
	labEditedIn(t, nfDir, func(name string, recs []pcapRec) []pcapRec { // only to collect the answers
		if name == "node-b-cali2f5353dd8c5.pcap" {
			for _, r := range recs {
				if nfPodBAnswer(r.data) {
					answers = append(answers, r)
				}
			}
		}
		return recs
	})
	if len(answers) != 6 { // 3 echo replies, 3 UDP answers: node-b dropped them all
		t.Fatalf("%d answers of pod-b at its veth, want 6", len(answers))
	}
	c := labEditedIn(t, nfDir, func(name string, recs []pcapRec) []pcapRec {
		if name != nfNodeBed {
			return recs
		}
		for _, a := range answers {
			d := append([]byte(nil), a.data...)
			copy(d[16:], nfMACRouter)
			copy(d[22:], nfMACNodeB)
			ip := d[30:]
			ip[8]--
			binary.BigEndian.PutUint16(ip[10:], 0)
			binary.BigEndian.PutUint16(ip[10:], ipv4Sum(ip[:int(ip[0]&0xf)*4]))
			recs = append(recs, pcapRec{a.ts + 20_000, d})
		}
		slices.SortStableFunc(recs, func(x, y pcapRec) int { return int(x.ts - y.ts) })
		return recs
	})
	res := Correlate(c, Options{})
	for _, an := range res.Anomalies {
		if an.Kind == "host-drop" || an.Where.From == nfCali {
			t.Errorf("%s %s at %+v: the packets left node-b: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
		if an.Kind == "icmp-unreachable" && strings.Contains(an.Message, "Sent by node-b to its own pod") {
			t.Errorf("errors answering packets that left node-b taken as its own refusals: %s", an.Message)
		}
	}
	answered := 0
	for _, an := range nfFind(res, "icmp-unreachable", nfCali) {
		if strings.Contains(an.Message, "It answered 6 packets") {
			answered++
		}
	}
	if answered != 1 {
		t.Errorf("want the host-unreachable errors to answer the 6 drops past node-b's eth0; anomalies:%s", nfList(res))
	}
	lost := 0
	for _, s := range res.Segments {
		if s.From == nfEth0 && s.To == "node-a/eth0" {
			lost = s.Lost
		}
	}
	if lost != 6 {
		t.Errorf("%d lost on %s → node-a/eth0, want the 6 answers", lost, nfEth0)
	}
}

// ipv4Sum is the Internet checksum of an IPv4 header.
func ipv4Sum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// On state-neigh-failed with node-b's eth0 captured without ARP (as a capture filtered to IP is, the
// README's eth0 filter among them), the drop is still node-b's host-drop, and the host-unreachable
// errors still say what Linux sends them for, but no next hop is named: none of node-b's requests
// was captured, and the message says so and what names it on the node.
func TestNeighFailedNoARPCaptured(t *testing.T) {
	c := labEditedIn(t, nfDir, func(name string, recs []pcapRec) []pcapRec {
		if name != nfNodeBed {
			return recs
		}
		return slices.DeleteFunc(recs, func(r pcapRec) bool { return binary.BigEndian.Uint16(r.data[16+12:]) == 0x0806 })
	})
	res := Correlate(c, Options{})
	drops := nfFind(res, "host-drop", nfCali+"→"+nfEth0)
	if len(drops) != 1 || drops[0].Count != 6 {
		t.Fatalf("want one host-drop of 6 at %s→%s; anomalies:%s", nfCali, nfEth0, nfList(res))
	}
	d := drops[0]
	if strings.Contains(d.Message, nfHop) || strings.Contains(d.Next, nfHop) {
		t.Errorf("names a next hop no capture shows: %s / %s", d.Message, d.Next)
	}
	if !strings.Contains(d.Message, "no capture of node-b holds its unanswered requests") ||
		!strings.Contains(d.Next, "`ip route get 10.244.1.5` names the route's next hop") {
		t.Errorf("host-drop: %s / next: %s", d.Message, d.Next)
	}
}

// On state-neigh-failed with node-b's eth0 capture stopped before pod-b's UDP answers (its frames
// after the pings' answers left out): the pings' answers died inside node-b (its eth0 ran then), and
// the errors that answer them are node-b's own, a host-drop of 3; whether the UDP answers left node-b
// no capture shows, so the errors that answer them keep their meaning (answered, not counted again as
// loss) and are not said to be node-b's.
func TestNeighFailedEth0Stopped(t *testing.T) {
	var stop int64
	c := labEditedIn(t, nfDir, func(name string, recs []pcapRec) []pcapRec {
		if name != nfNodeBed {
			return recs
		}
		for _, r := range recs {
			if ip := nfIPv4(r.data); ip != nil && ip[9] == 17 && stop == 0 {
				stop = r.ts // the first UDP datagram node-b's eth0 saw: pod-a's first, before pod-b's answer
			}
		}
		return slices.DeleteFunc(recs, func(r pcapRec) bool { return r.ts >= stop })
	})
	if stop == 0 {
		t.Fatal("no UDP datagram at node-b's eth0")
	}
	res := Correlate(c, Options{})
	drops := nfFind(res, "host-drop", nfCali+"→"+nfEth0)
	if len(drops) != 1 || drops[0].Count != 3 || len(drops[0].Flows) != 1 {
		t.Fatalf("want one host-drop of 3 (the echo replies) at %s→%s; anomalies:%s", nfCali, nfEth0, nfList(res))
	}
	own, answered := 0, 0
	for _, an := range nfFind(res, "icmp-unreachable", nfCali) {
		switch {
		case strings.Contains(an.Message, "Sent by node-b to its own pod"):
			own += an.Count
		case strings.Contains(an.Message, "It answered 3 packets dropped"):
			answered += an.Count // with pod-b's port-unreachable, which answers no drop
		}
	}
	if own != 3 || answered != 4 {
		t.Errorf("errors taken as node-b's own: %d, answering drops (and the port-unreachable): %d; want 3 and 4; anomalies:%s",
			own, answered, nfList(res))
	}
	if m := drops[0].Message; !strings.Contains(m, "node-b refused 3 of them itself") || !strings.Contains(m, "The errors are host-unreachable") {
		t.Errorf("host-drop: %s", m)
	}
}
