package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// The lab's state-neigh-failed6 (IPv6's state-neigh-failed, VXLAN over IPv6):
// node-b routes pod-a's block via fd00:20::99 on its eth0, which answers no neighbour solicitation, and
// answers pod-b's queued packets with ICMPv6 address-unreachable (type 1 code 3). The loss on node-b's
// segment must name that next hop from node-b's unanswered solicitations at its eth0, as the IPv4
// scenario names the ARP target, and its next step must be IPv6's (`ip -6 route get`, `ip -6 neigh
// show fd00:20::99`). Before, only ARP requests were looked for: the message said no capture of node-b
// held its unanswered requests (a capture filtered to IP carries no ARP) and named no next hop. With
// node-b's dumps, the FAILED neighbour entry it cites says "neighbour solicitations unanswered" (it
// said "ARP unanswered").
func TestNeighFailed6NextHop(t *testing.T) {
	dir := filepath.Join("../testdata/lab/scenarios", "state-neigh-failed6")
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(pcaps) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	var per []string
	for _, p := range pcaps {
		if !strings.HasSuffix(p, "-any.pcap") {
			per = append(per, p)
		}
	}
	for name, files := range map[string][]string{"all": pcaps, "dedicated": per} {
		res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		var seg *Anomaly
		for i, an := range res.Anomalies {
			if an.Where.From == "node-b/cali2f5353dd8c5" && strings.Contains(an.Message, "address-unreachable (ICMPv6 type 1 code 3)") {
				seg = &res.Anomalies[i]
			}
		}
		if seg == nil {
			t.Errorf("%s: no loss on node-b's segment from its cali chained to ICMPv6 address-unreachable:%s", name, nfList(res))
			continue
		}
		wantAll(t, name+": the loss", seg.Message, []string{"node-b's neighbour solicitations for fd00:20::99 at node-b/eth0 got no advertisement",
			"see nd-unanswered", "via fd00:20::99, and nothing answers for that next hop"}, []string{"ARP", "not named here"})
		wantAll(t, name+": its next", seg.Next, []string{"fd00:20::99 does not answer neighbour discovery", "`ip -6 route get fd00:244::5`",
			"`ip -6 neigh show fd00:20::99`"}, []string{"ARP", "`ip neigh"})
	}
	meta, _, err := cluster.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	res := Correlate(decode.Load(per, decode.Options{}, decode.PointConfig{}), Options{Cluster: meta})
	n := 0
	for _, an := range res.Anomalies {
		for _, e := range an.ExplainedBy {
			if e.Kind == "neighbour-failed" {
				n++
				wantAll(t, "the dump's explanation", e.Why, []string{"node-b could not resolve fd00:20::99",
					"(neighbour solicitations unanswered)"}, []string{"ARP"})
			}
		}
	}
	if n == 0 {
		t.Errorf("no anomaly cites node-b's FAILED entry for fd00:20::99:%s", nfList(res))
	}
}

// On state-neigh-failed6 with pod-b's veth captured twice (node-b's -i any file and the veth's own),
// node-b's six ICMPv6 address-unreachable errors to pod-b match no IP id (IPv6 has none) and their
// fingerprints are alike, so they are matched by position; each capture of the point counts its own
// sightings by position, and a frame's copy from the point's other capture is that packet again.
// Before, the point's two captures shared one count: each error became two journeys, the second copy
// of five found no packet of node-b's left to answer and was taken for another sender's answer to a
// drop on node-b ("1 of 6 packets lost (and 5 dropped with an ICMP error, listed apart)"), and the
// drop was a loss WARNING, not the encap-drop ERROR the truth (and IPv4's state-neigh-failed) has.
func TestNeighFailed6BothCaptures(t *testing.T) {
	dir := filepath.Join("../testdata/lab/scenarios", "state-neigh-failed6")
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(pcaps) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	res := Correlate(decode.Load(pcaps, decode.Options{}, decode.PointConfig{}), Options{})
	drop, own := 0, 0
	for _, an := range res.Anomalies {
		if strings.Contains(an.Message, "listed apart") {
			t.Errorf("%s counts drops as answered by another sender: %s", an.Kind, an.Message)
		}
		switch {
		case an.Kind == "encap-drop" && an.Where.From == "node-b/cali2f5353dd8c5" && an.Where.To == "node-b/vxlan-v6.calico":
			drop++
			wantAll(t, "the drop", an.Message, []string{"6 of 6 packets lost.", "node-b refused 6 of them itself"}, nil)
		case an.Kind == "icmp-unreachable" && strings.Contains(an.Message, "Sent by node-b to its own pod"):
			own++
			if an.Count != 6 {
				t.Errorf("node-b's own errors: %d, want 6 (one per error packet): %s", an.Count, an.Message)
			}
		}
	}
	if drop != 1 || own != 1 {
		t.Errorf("encap-drop node-b/cali2f5353dd8c5→node-b/vxlan-v6.calico %d, node-b's own icmp-unreachable %d, want 1 each:%s",
			drop, own, nfList(res))
	}
	if n := len(res.ICMP); n != 7 {
		t.Errorf("%d ICMP errors listed, want 7 (6 address-unreachable, 1 port-unreachable), each once", n)
	}
}

// On state-neigh-failed6, node-b's six ICMPv6 address-unreachable errors to pod-b are six packets,
// told apart by their quotes (the quoted echo sequence, the quoted UDP payload), in every shape the
// captures are given: no ambiguous-packets, and node-b refused all six of pod-b's answers. Before,
// their fingerprints read the quote's first 16 bytes (the quoted IPv6 header, alike): ambiguous-packets
// (5) from every file, and from the per-interface files one UDP answer's error was taken for a copy of
// another ("node-b refused 5 of them").
func TestNeighFailed6ErrorsApart(t *testing.T) {
	dir := filepath.Join("../testdata/lab/scenarios", "state-neigh-failed6")
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var per, anyf []string
	for _, p := range pcaps {
		if strings.HasSuffix(p, "-any.pcap") {
			anyf = append(anyf, p)
		} else {
			per = append(per, p)
		}
	}
	for name, files := range map[string][]string{"all": pcaps, "dedicated": per, "any": anyf} {
		res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		drop := 0
		for _, an := range res.Anomalies {
			switch {
			case an.Kind == "ambiguous-packets":
				t.Errorf("%s: %s", name, an.Message)
			case an.Kind == "encap-drop":
				drop++
				wantAll(t, name+": the drop", an.Message, []string{"6 of 6 packets lost.", "node-b refused 6 of them itself"}, nil)
			}
		}
		if drop != 1 {
			t.Errorf("%s: %d encap-drop, want 1:%s", name, drop, nfList(res))
		}
	}
}

// Errors that differ in nothing calipath reads of their quotes are still matched by position, and the
// ambiguous-packets warning says what ICMP errors are told apart by: state-neigh-failed6's dedicated
// captures with node-b's three errors about pod-b's echo replies made copies of the first (byte for
// byte: the same quoted echo sequence and data). Before, the warning named only "IP id, addresses,
// ports, lengths, TCP sequence numbers and the first 16 payload bytes", not what tells errors apart.
func TestNeighFailed6IdenticalQuotes(t *testing.T) {
	edited := 0
	c := labEditedIn(t, "state-neigh-failed6", func(name string, recs []pcapRec) []pcapRec {
		if name != "node-b-cali2f5353dd8c5.pcap" {
			return recs
		}
		var first []byte
		for _, r := range recs {
			d := r.data[16:]
			// Ethernet, IPv6 (ICMPv6), type 1 code 3, a quoted IPv6 header of an ICMPv6 echo reply
			if len(d) < 14+48+48 || d[14+6] != 58 || d[14+40] != 1 || d[14+41] != 3 || d[14+48+6] != 58 || d[14+48+40] != 129 {
				continue
			}
			if first == nil {
				first = d[14+40:]
				continue
			}
			if len(d[14+40:]) != len(first) {
				t.Fatalf("node-b's errors about pod-b's echo replies differ in length")
			}
			copy(d[14+40:], first)
			edited++
		}
		return recs
	})
	if edited != 2 {
		t.Fatalf("%d errors about pod-b's echo replies made copies of the first, want 2", edited)
	}
	res := Correlate(c, Options{})
	var amb *Anomaly
	for i, an := range res.Anomalies {
		if an.Kind == "ambiguous-packets" {
			amb = &res.Anomalies[i]
		}
	}
	if amb == nil {
		t.Fatalf("no ambiguous-packets for three errors alike in all calipath reads:%s", nfList(res))
	}
	wantAll(t, "the warning", amb.Message, []string{"3 of them are ICMP errors, told apart by the packet each quotes",
		"and its addresses, ports and echo identifier except across a NAT the flows' packets showed"}, nil)
}
