package correlate

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// wireguard-fragmented with the later fragment of node-b's message counter 6 missing from node-a's
// eth0 (and so the packet it carried from node-a's device and pod interface: node-a could not
// reassemble it). The message is lost where its fragment went missing, on the underlay between
// router-1/eth0 and node-a/eth0, not between node-a's eth0 and its WireGuard device; and the later
// fragments are pieces of their messages, not packets of the nodes' UDP flow.
func TestWireGuardLaterFragmentLost(t *testing.T) {
	dir := "../testdata/lab/scenarios/wireguard-fragmented/"
	files, _ := filepath.Glob(dir + "*.pcap")
	var kept []string
	for _, f := range files {
		if !strings.HasSuffix(f, "-any.pcap") {
			kept = append(kept, f)
		}
	}
	if len(kept) == 0 {
		t.Skip("no wireguard-fragmented scenario")
	}
	full := Correlate(decode.Load(kept, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
	if full.Summary.Lost != 0 {
		t.Fatalf("whole scenario: %d lost", full.Summary.Lost)
	}
	for _, fl := range full.Flows {
		if fl.Dst.Port == 51820 && fl.Packets != 2 {
			t.Errorf("whole scenario: flow %s (UDP 51820) has %d packets, want 2 (its 3 later fragments are pieces of their messages)", fl.ID, fl.Packets)
		}
	}
	firstFrame, drop := 0, map[[2]string]bool{} // node-a-eth0.pcap's first fragment; (file, frame) to cut
	for _, j := range full.Journeys {
		msg := false
		for _, h := range j.Hops {
			if h.Point == "node-a/eth0" && h.WireGuard != nil && h.WireGuard.Counter == 6 && h.Len == 1396 {
				msg, firstFrame = true, int(h.Frame)
			}
			if msg && (h.Point == "node-a/wireguard.cali" || h.Point == "node-a/cali5e1c4d6c68c") {
				drop[[2]string{filepath.Base(h.File), fmt.Sprint(h.Frame)}] = true
			}
		}
	}
	if firstFrame == 0 || len(drop) != 2 {
		t.Fatalf("message counter 6: first fragment at node-a/eth0 frame %d, inner frames %v", firstFrame, drop)
	}
	// The later fragment: same IP id as the first, a fragment offset.
	ipID := func(data []byte) (uint16, uint16) { // Ethernet, IPv4
		if len(data) < 14+20 || binary.BigEndian.Uint16(data[12:]) != 0x0800 {
			return 0, 0
		}
		return binary.BigEndian.Uint16(data[18:]), binary.BigEndian.Uint16(data[20:]) & 0x1fff
	}
	var id uint16
	tmp := t.TempDir()
	filterPcap(t, dir+"node-a-eth0.pcap", tmp, func(frame int, _ int64, data []byte) bool {
		if frame == firstFrame {
			id, _ = ipID(data)
		}
		return true
	})
	cut, later := []string{}, 0
	out := t.TempDir()
	for _, f := range kept {
		cut = append(cut, filterPcap(t, f, out, func(frame int, _ int64, data []byte) bool {
			if filepath.Base(f) == "node-a-eth0.pcap" {
				if i, off := ipID(data); i == id && off != 0 {
					later++
					return false
				}
			}
			return !drop[[2]string{filepath.Base(f), fmt.Sprint(frame)}]
		}))
	}
	if later != 1 {
		t.Fatalf("%d later fragments of IP id %#x at node-a/eth0, want 1", later, id)
	}
	r := Correlate(decode.Load(cut, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
	if r.Summary.Lost != 1 || r.Summary.NotCaptured != 0 {
		t.Errorf("%d lost, %d not captured, want 1 lost (the message whose fragment was lost), 0", r.Summary.Lost, r.Summary.NotCaptured)
	}
	proto := map[string]string{}
	for _, fl := range r.Flows {
		proto[fl.ID] = fl.Proto
	}
	tcp := 0 // the TCP packet (a super-packet sent as three messages) lost there; its pieces with it
	for _, j := range r.Journeys {
		if j.Status != statusLost {
			continue
		}
		if j.LastSeen != "router-1/eth0" || j.NextExpected != "node-a/eth0" {
			t.Errorf("journey %d (flow %s, %s) lost between %s and %s, want router-1/eth0 → node-a/eth0",
				j.ID, j.Flow, proto[j.Flow], j.LastSeen, j.NextExpected)
		}
		if proto[j.Flow] == "tcp" {
			tcp++
		}
	}
	if tcp != 1 {
		t.Errorf("%d TCP journeys lost, want 1", tcp)
	}
	for _, a := range r.Anomalies {
		if dropKinds[a.Kind] && a.Severity != "info" && (a.Where.From != "router-1/eth0" || a.Where.To != "node-a/eth0") {
			t.Errorf("%s at %s → %s: %s", a.Kind, a.Where.From, a.Where.To, a.Message)
		}
	}
	for _, s := range r.Segments {
		if s.Lost > 0 && (s.From != "router-1/eth0" || s.To != "node-a/eth0" || s.Lost != 1) {
			t.Errorf("segment %s → %s: %d lost", s.From, s.To, s.Lost)
		}
	}
	// Windows shorter than the hops: the same loss, or window-too-small says so; never a loss
	// elsewhere.
	for _, win := range []time.Duration{20 * time.Microsecond, 5 * time.Microsecond, time.Microsecond} {
		g := Correlate(decode.Load(cut, decode.Options{}, decode.PointConfig{}), Options{Window: win})
		if g.Summary.Lost != 1 && kinds(g)["window-too-small"] != 1 {
			t.Errorf("--window %s: %d lost, and no window-too-small warning", win, g.Summary.Lost)
		}
		if g.Summary.Lost > 1 {
			t.Errorf("--window %s: %d lost, want at most 1", win, g.Summary.Lost)
		}
		for _, a := range g.Anomalies {
			if dropKinds[a.Kind] && a.Severity != "info" && (a.Where.From != "router-1/eth0" || a.Where.To != "node-a/eth0") {
				t.Errorf("--window %s: %s at %s → %s", win, a.Kind, a.Where.From, a.Where.To)
			}
		}
	}
}
