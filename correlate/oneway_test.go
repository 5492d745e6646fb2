package correlate

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
)

// pcapKeep returns a little-endian classic pcap file with only the records keep says yes to (given
// each record's captured bytes): what tcpdump -Q in or -Q out would have written of the same traffic.
// It fails the test when it keeps no record.
func pcapKeep(t *testing.T, path string, keep func(data []byte) bool) []byte {
	t.Helper()
	out, kept := pcapFilter(t, path, keep)
	if kept == 0 {
		t.Fatalf("%s: no record kept", path)
	}
	return out
}

// pcapFilter is pcapKeep that may keep no record (a capture of a direction nothing took); it returns
// the file and how many records it kept.
func pcapFilter(t *testing.T, path string, keep func(data []byte) bool) ([]byte, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if m := le.Uint32(b); m != 0xa1b2c3d4 && m != 0xa1b23c4d {
		t.Fatalf("%s: not a little-endian pcap file", path)
	}
	out := append([]byte(nil), b[:24]...)
	kept := 0
	for off := 24; off+16 <= len(b); {
		n := int(le.Uint32(b[off+8:]))
		if keep(b[off+16 : off+16+n]) {
			out = append(out, b[off:off+16+n]...)
			kept++
		}
		off += 16 + n
	}
	return out, kept
}

// srcMACOf is the source MAC of the first IPv4 Ethernet frame from address ip in a lab capture: the
// MAC of the interface that sent it.
func srcMACOf(t *testing.T, path string, ip [4]byte) []byte {
	t.Helper()
	var mac []byte
	pcapKeep(t, path, func(d []byte) bool {
		if mac == nil && len(d) >= 34 && d[12] == 0x08 && d[13] == 0x00 && bytes.Equal(d[26:30], ip[:]) {
			mac = append([]byte(nil), d[6:12]...)
		}
		return true
	})
	if mac == nil {
		t.Fatalf("%s: no frame from %v", path, ip)
	}
	return mac
}

// anyFiles are the lab's -i any captures, left out where a one-way file must be a point's only capture
// (an -i any capture of the node holds both directions of it).
var anyFiles = []string{"node-a-any.pcap", "node-b-any.pcap"}

var calicoMAC = []byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}

// anomalyAt reports whether r has an anomaly of kind at the point or segment where ("from→to").
func anomalyAt(r *Result, kind, where string) bool {
	for _, a := range r.Anomalies {
		w := a.Where.Point
		if a.Where.From != "" {
			w = a.Where.From + "→" + a.Where.To
		}
		if a.Kind == kind && w == where {
			return true
		}
	}
	return false
}

// noErrors fails the test for every error-severity anomaly and every anomaly of the kinds given.
func noErrors(t *testing.T, r *Result, kinds ...string) {
	t.Helper()
	for _, a := range r.Anomalies {
		bad := a.Severity == sevError
		for _, k := range kinds {
			bad = bad || a.Kind == k
		}
		if bad {
			t.Errorf("anomaly %s %s at %+v: %s", a.Severity, a.Kind, a.Where, a.Message)
		}
	}
}

// underlay-loss with node-b's pod veth captured with -Q in (only what pod-b sent: no frame from
// ee:ee:ee:ee:ee:ee): the requests that reached node-b/tunl0 were not "lost" before the veth (its
// capture is one-way, as pod-b's answers on the same file show): they are not captured there, and only
// the 9 lost in router-1 are lost (truth.json). And with -Q out
// (only what the host handed pod-b): its replies start at the veth unseen, and pod-b's ARP requests for
// its gateway, whose replies were not captured, are not unanswered.
func TestOneWayPodVeth(t *testing.T) {
	veth := "node-b-cali2f5353dd8c5.pcap"
	path := filepath.Join("../testdata/lab/scenarios/underlay-loss", veth)
	in := pcapKeep(t, path, func(d []byte) bool { return !bytes.Equal(d[6:12], calicoMAC) })
	tr, r := labSubset(t, "underlay-loss", anyFiles, map[string][]byte{veth: in})
	sent, delivered := 0, 0
	for _, f := range tr.Flows {
		sent, delivered = sent+f.Sent, delivered+f.Delivered
	}
	// The packets to pod-b are not captured at its veth (its capture holds only what pod-b sent: its
	// answers say the capture was one-way, not which packet reached it); only the truth's losses are lost.
	if s := r.Summary; s.Journeys != sent || s.Delivered+s.NotCaptured != delivered || s.Lost != sent-delivered || s.NotCaptured == 0 {
		t.Errorf("-Q in: summary %+v, want %d sent, %d delivered or not captured (some not), %d lost", s, sent, delivered, sent-delivered)
	}
	noErrors(t, r, "delivery-drop")
	if !anomalyAt(r, "capture-one-way", "node-b/cali2f5353dd8c5") {
		t.Errorf("-Q in: no capture-one-way at node-b/cali2f5353dd8c5: %+v", r.Anomalies)
	}

	out := pcapKeep(t, path, func(d []byte) bool { return bytes.Equal(d[6:12], calicoMAC) })
	_, r = labSubset(t, "underlay-loss", anyFiles, map[string][]byte{veth: out})
	noErrors(t, r, "arp-unanswered", "path-incomplete")
	if !anomalyAt(r, "capture-one-way", "node-b/cali2f5353dd8c5") {
		t.Errorf("-Q out: no capture-one-way at node-b/cali2f5353dd8c5: %+v", r.Anomalies)
	}
}

// underlay-loss with router-1 captured on its ingress only (eth0 what came from node-a, eth1 what came
// from node-b): the requests that got through never show at eth1, so "6 of 6 lost at router-1/eth0 →
// eth1" was an error from a denominator without them. eth1 is taken out of the requests' path: the 6
// are lost between router-1/eth0 and node-b/eth0 (6 of 39, truth.json), a warning, and none of the
// others is lost (the replies likewise skip eth0, which they left unseen); router-1/eth1's own ARP request, whose reply left it unseen, is not unanswered.
func TestOneWayRouterIngress(t *testing.T) {
	dir := "../testdata/lab/scenarios/underlay-loss"
	macA := srcMACOf(t, filepath.Join(dir, "node-a-eth0.pcap"), [4]byte{192, 168, 10, 2})
	macB := srcMACOf(t, filepath.Join(dir, "node-b-eth0.pcap"), [4]byte{192, 168, 20, 2})
	repl := map[string][]byte{
		"router-1-eth0.pcap": pcapKeep(t, filepath.Join(dir, "router-1-eth0.pcap"), func(d []byte) bool { return bytes.Equal(d[6:12], macA) }),
		"router-1-eth1.pcap": pcapKeep(t, filepath.Join(dir, "router-1-eth1.pcap"), func(d []byte) bool { return bytes.Equal(d[6:12], macB) }),
	}
	tr, r := labSubset(t, "underlay-loss", anyFiles, repl)
	sent, delivered := 0, 0
	for _, f := range tr.Flows {
		sent, delivered = sent+f.Sent, delivered+f.Delivered
	}
	if s := r.Summary; s.Delivered != delivered || s.Lost+s.NotCaptured != sent-delivered {
		t.Errorf("summary %+v, want %d delivered, the other %d lost or not captured", s, delivered, sent-delivered)
	}
	noErrors(t, r, "arp-unanswered")
	if !anomalyAt(r, "capture-one-way", "router-1/eth1") {
		t.Errorf("no capture-one-way at router-1/eth1: %+v", r.Anomalies)
	}
	for _, a := range r.Anomalies { // the requests' loss spans eth1, the replies' eth0 (which saw them leave)
		if w := a.Where.From + "→" + a.Where.To; a.Kind == "loss-one-way-gap" && w != "router-1/eth0→node-b/eth0" && w != "router-1/eth1→node-a/eth0" {
			t.Errorf("loss-one-way-gap at %s, want router-1/eth0 → node-b/eth0 or router-1/eth1 → node-a/eth0", w)
		}
	}
	if !anomalyAt(r, "loss-one-way-gap", "router-1/eth0→node-b/eth0") {
		t.Errorf("no loss-one-way-gap at router-1/eth0 → node-b/eth0: %+v", r.Anomalies)
	}
}

// any-ipip-input-drop from the two nodes' -i any captures, node-b's kept to one packet type. Outgoing
// only (tcpdump -Q out): node-b's eth0 and tunl0 saw nothing arrive, so the packets node-b dropped
// after its eth0 were blamed on the underlay as an error; the capture cannot tell where between
// node-a/eth0 and node-b's veth they went: loss-one-way-gap, a warning. Incoming only (-Q in): what
// arrived is there, and the drop stays where it was (decap-drop at node-b/eth0 → node-b/tunl0).
func TestOneWayAnyCapture(t *testing.T) {
	dir := "../testdata/lab/scenarios/any-ipip-input-drop"
	for _, tc := range []struct {
		name     string
		outgoing bool
	}{{"out", true}, {"in", false}} {
		t.Run(tc.name, func(t *testing.T) {
			b := pcapKeep(t, filepath.Join(dir, "node-b-any.pcap"), func(d []byte) bool { return (d[10] == 4) == tc.outgoing })
			p := filepath.Join(t.TempDir(), "node-b-any.pcap")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			files := []string{filepath.Join(dir, "node-a-any.pcap"), p}
			r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{Links: labLinks("ipip")}), Options{})
			if !tc.outgoing {
				if !anomalyAt(r, "decap-drop", "node-b/eth0→node-b/tunl0") {
					t.Errorf("no decap-drop at node-b/eth0 → node-b/tunl0: %+v", r.Anomalies)
				}
				return
			}
			noErrors(t, r, "underlay-drop", "arp-unanswered")
			if !anomalyAt(r, "capture-one-way", "node-b/eth0") || !anomalyAt(r, "loss-one-way-gap", "node-a/eth0→node-b/cali2f5353dd8c5") {
				t.Errorf("want capture-one-way at node-b/eth0 and loss-one-way-gap from node-a/eth0: %+v", r.Anomalies)
			}
		})
	}
}

// routerOneWayFile returns a lab router interface's capture kept to one direction, as tcpdump -Q out
// (egress) or -Q in would have written it: facesA says the interface faces node-a (192.168.10.0/24;
// the other side is node-b's). A frame leaves the interface when its IPv4 destination is on the side
// it faces; an ARP frame when it comes from the MAC of the frames that leave.
func routerOneWayFile(t *testing.T, path string, facesA, egress bool) []byte {
	t.Helper()
	toA := func(d []byte) bool { return d[30] == 192 && d[31] == 168 && d[32] == 10 }
	var own []byte
	pcapFilter(t, path, func(d []byte) bool {
		if own == nil && len(d) >= 34 && d[12] == 8 && d[13] == 0 && toA(d) == facesA {
			own = append([]byte(nil), d[6:12]...)
		}
		return true
	})
	b, _ := pcapFilter(t, path, func(d []byte) bool {
		if len(d) >= 34 && d[12] == 8 && d[13] == 0 {
			return (toA(d) == facesA) == egress
		}
		return len(d) >= 12 && own != nil && bytes.Equal(d[6:12], own) == egress
	})
	return b
}
