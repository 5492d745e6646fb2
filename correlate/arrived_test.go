package correlate

import (
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
)

// Two flows on one node whose packets share IP id, length and payload (DNS-like traffic from a pool
// of payloads does): flow 1's packet is delivered to pod B, then, within the window, flow 2's packet
// leaves pod C. That is not NAT: a packet delivered into a pod does not come out of another pod's
// veth. Before, the matcher took flow 2's packet as flow 1's rewritten by NAT and joined the two flows
// into one (5 of the 200,000 flows of the generated many-flow set vanished so).
func TestNoNATAfterDelivery(t *testing.T) {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	macA, macB, macC := [6]byte{0x0a, 0x58, 0, 0, 0, 1}, [6]byte{0x0a, 0x58, 0, 0, 0, 2}, [6]byte{0x0a, 0x58, 0, 0, 0, 3}
	podA, podB, podC := [4]byte{10, 244, 1, 5}, [4]byte{10, 244, 1, 7}, [4]byte{10, 244, 1, 9}
	const t0 = int64(1_700_000_000_000_000_000)
	var tsA, tsB, tsC []int64
	var fA, fB, fC [][]byte
	for i := 0; i < 10; i++ {
		at := t0 + int64(i)*10_000_000
		q := "same payload " + string(rune('a'+i))
		// Flow 1: A → B.
		fA = append(fA, udpFrame(cali, macA, podA, podB, 64, uint16(100+i), q))
		tsA = append(tsA, at)
		fB = append(fB, udpFrame(macB, cali, podA, podB, 63, uint16(100+i), q))
		tsB = append(tsB, at+20_000)
		// Flow 2: C → A, the same IP id and payload 3 ms later.
		fC = append(fC, udpFrame(cali, macC, podC, podA, 64, uint16(100+i), q))
		tsC = append(tsC, at+3_000_000)
		fA = append(fA, udpFrame(macA, cali, podC, podA, 63, uint16(100+i), q))
		tsA = append(tsA, at+3_020_000)
	}
	paths := []string{filepath.Join(dir, "node-a-cali1111111111a.pcap"), filepath.Join(dir, "node-a-cali2222222222b.pcap"),
		filepath.Join(dir, "node-a-cali3333333333c.pcap")}
	writePcap(t, paths[0], tsA, fA)
	writePcap(t, paths[1], tsB, fB)
	writePcap(t, paths[2], tsC, fC)
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	if len(r.Flows) != 2 {
		t.Fatalf("%d flows, want 2: %+v", len(r.Flows), r.Flows)
	}
	for _, f := range r.Flows {
		if f.Packets != 10 || f.Delivered != 10 || len(f.NAT) != 0 {
			t.Errorf("flow %s %v → %v: packets %d delivered %d NAT %v, want 10, 10, none", f.ID, f.Src, f.Dst, f.Packets,
				f.Delivered, f.NAT)
		}
	}
	for _, a := range r.Anomalies {
		if a.Kind == "nat" || a.Severity == "error" {
			t.Errorf("anomaly %s: %s", a.Kind, a.Message)
		}
	}
}
