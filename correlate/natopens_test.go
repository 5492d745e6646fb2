package correlate

import (
	"strings"
	"testing"
)

// nat-midstream without node-a's eth0 (per interface, and with node-b's -any file in place of node-b's
// per-interface files): every capture begins in the middle of two UDP conversations through node-a's
// NAT, pod-a's to ext-1 (masqueraded) and ext-1's to node-a's node port (DNATed to pod-a). The first
// packet of pod-a's conversation seen at pod-a's cali is a reply, un-SNATed: a destination rewrite of a
// packet last seen at router-1/eth0 headed for node-a's own address, which dnatOpens took for a DNAT
// opening the conversation (and the flow for ext-1's, to 192.168.10.2, "(dnat)"). Now neither
// conversation is joined across the rewrite (the captures could not have shown their openings), nothing
// is lost, and the path-incomplete at router-1/eth0 says why and asks for node-a's eth0.
func TestNATMidstreamNodeEth0Uncaptured(t *testing.T) {
	const sc = "nat-midstream"
	for _, anyNode := range []string{"", "node-b"} {
		name := sc + " " + anyNode
		tr, r := labSubset(t, sc, nodePortFiles(anyNode, "node-a-eth0.pcap", "node-a.pcapng"), nil)
		toNode, pings := 0, 0
		for _, tf := range tr.Flows {
			if tf.Sent != tf.Delivered {
				t.Fatalf("%s: the truth's flow %s → %s lost packets; the test expects none", name, tf.Src, tf.Dst)
			}
			switch {
			case tf.Proto == "udp" && tf.Dst == "192.168.10.2":
				toNode += tf.Sent
			case tf.Proto == "icmp":
				pings += tf.Sent
			}
		}
		if toNode == 0 || pings == 0 {
			t.Fatalf("%s: %d UDP packets to node-a's address and %d pings in truth.json, want some of each", name, toNode, pings)
		}
		// Each half of a conversation's packet is a journey: the one past router-1/eth0 from node-a's
		// address delivered to ext-1, the one at pod-a's cali not captured, as the one left at router-1/eth0.
		if s := r.Summary; s.Lost != 0 || s.Delivered < pings || s.NotCaptured < toNode || s.Delivered+s.NotCaptured != s.Journeys {
			t.Errorf("%s: summary %+v, want nothing lost, at least the %d pings delivered and the %d packets to node-a's address not captured",
				name, s, pings, toNode)
		}
		for _, f := range r.Flows {
			if len(f.NAT) > 0 {
				t.Errorf("%s: flow %s %s:%d → %s:%d joined across a NAT: %+v", name, f.ID, f.Src.IP, f.Src.Port, f.Dst.IP,
					f.Dst.Port, f.NAT)
			}
		}
		said := 0
		for _, a := range r.Anomalies {
			if a.Kind == "nat" || a.Severity == "error" {
				t.Errorf("%s: %s %s at %+v (%d): %s", name, a.Severity, a.Kind, a.Where, a.Count, a.Message)
			}
			if a.Kind == "path-incomplete" && a.Where.Point == "router-1/eth0" {
				if !strings.Contains(a.Message, "cannot tell whether that rewrite is a DNAT opening their conversation") ||
					!strings.Contains(a.Message, "node-a/cali5e1c4d6c68c") || !strings.Contains(a.Next, "Capture node-a's eth0") {
					t.Errorf("%s: path-incomplete at router-1/eth0 does not say why: %s next: %s", name, a.Message, a.Next)
				}
				said = a.Count
			}
		}
		if said != toNode {
			t.Errorf("%s: path-incomplete at router-1/eth0 counts %d, want %d (the UDP packets to node-a's address, truth.json)",
				name, said, toNode)
		}
	}
}
