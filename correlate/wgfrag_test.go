package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// wireguard-fragmented: router-1 fragments node-b's three largest messages toward node-a. Each
// message's first fragment joins its journey (through router-1/eth0 and node-a/eth0 to pod-a), its
// hops there show the message's counter, and the finding says where the fragments were first seen.
func TestWireGuardFragmented(t *testing.T) {
	dir := "../testdata/lab/scenarios/wireguard-fragmented"
	files, _ := filepath.Glob(dir + "/*.pcap")
	if len(files) == 0 {
		t.Skip("no wireguard-fragmented scenario")
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
	frag := 0
	for _, j := range r.Journeys {
		var counter uint64
		pts := ""
		for _, h := range j.Hops {
			pts += h.Point + " "
			if h.Point == "node-b/eth0" && h.WireGuard != nil {
				counter = h.WireGuard.Counter
			}
			if h.Point == "router-1/eth0" && h.Len == 1396 {
				frag++
				if h.WireGuard == nil || h.WireGuard.Counter != counter || !strings.Contains(strings.Join(h.Changes, " "), "fragmented 1") {
					t.Errorf("journey %d: first fragment at router-1/eth0: %+v, changes %v; counter at node-b/eth0 %d", j.ID, h.WireGuard, h.Changes, counter)
				}
				if j.Status != statusDelivered || !strings.HasSuffix(pts, "router-1/eth1 router-1/eth0 ") ||
					j.Hops[len(j.Hops)-1].Point != "node-a/cali5e1c4d6c68c" {
					t.Errorf("journey %d (%s): %s…", j.ID, j.Status, pts)
				}
			}
		}
	}
	if frag != 3 {
		t.Errorf("%d journeys through a first fragment at router-1/eth0, want 3", frag)
	}
	an := findKind(r, "fragmented")
	if an == nil || an.Where.Point != "router-1/eth0" || an.Count != 3 || len(an.Evidence) != 3 ||
		!strings.Contains(an.Message, "from node-b to node-a") || !strings.Contains(an.Message, "1396 bytes") {
		t.Errorf("fragmented: %+v", an)
	}
}

// Without the captures that saw node-b's messages whole (its eth0, router-1's eth1), the length of a
// message seen only in fragments comes from its fragments reassembled at the point: node-a's device
// packets are still joined to the messages that carried them.
func TestWireGuardFragmentsReassembled(t *testing.T) {
	dir := "../testdata/lab/scenarios/wireguard-fragmented/"
	var files []string
	for _, f := range []string{"node-a-cali5e1c4d6c68c", "node-a-wireguard.cali", "node-a-eth0", "router-1-eth0",
		"node-b-wireguard.cali", "node-b-cali2f5353dd8c5"} {
		files = append(files, dir+f+".pcap")
	}
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	if len(c.Obs) != len(files) {
		t.Skip("no wireguard-fragmented scenario")
	}
	r := Correlate(c, Options{Journeys: true})
	joined := 0
	for _, j := range r.Journeys {
		if len(j.Hops) > 1 && j.Hops[0].Point == "router-1/eth0" && j.Hops[0].Len == 1396 {
			if j.Hops[len(j.Hops)-1].Point == "node-a/cali5e1c4d6c68c" {
				joined++
			}
		}
	}
	if joined != 3 {
		t.Errorf("%d fragmented messages joined to the packets they carried, want 3", joined)
	}
	if an := findKind(r, "fragmented"); an == nil || an.Count != 3 || !strings.Contains(an.Message, "messages up to 1472 bytes") {
		t.Errorf("fragmented: %+v", an)
	}
	// Their counters are the messages' (decode kept them; a first fragment's Seq is its IP id): no
	// reordering is made of them.
	if an := findKind(r, "wireguard-reordered"); an != nil {
		t.Errorf("wireguard-reordered: %+v", an)
	}
	for _, j := range r.Journeys {
		for _, h := range j.Hops {
			if h.Point == "node-a/eth0" && h.Len == 1396 && (h.WireGuard == nil || h.WireGuard.Counter < 5 || h.WireGuard.Counter > 7) {
				t.Errorf("journey %d: first fragment at node-a/eth0 with %+v, want counter 5, 6 or 7", j.ID, h.WireGuard)
			}
		}
	}
}
