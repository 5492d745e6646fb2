package correlate

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
)

// A transport message lost on router-1 a millisecond before the captures end, while the next message
// of its session crossed the next point: lost there, exactly, not "not captured" (the captures ran
// past it, as the later counter shows). Built from healthy-wireguard: node-a's counter 7 (a TCP ACK)
// removed from router-1/eth1 on, every capture cut just after counter 8 reached node-b's eth0.
func TestWireGuardRanPast(t *testing.T) {
	var files []string
	for _, f := range []string{"node-a-cali5e1c4d6c68c", "node-a-wireguard.cali", "node-a-eth0", "router-1-eth0",
		"router-1-eth1", "node-b-eth0", "node-b-wireguard.cali", "node-b-cali2f5353dd8c5"} {
		files = append(files, "../testdata/lab/scenarios/healthy-wireguard/"+f+".pcap")
	}
	if m, _ := filepath.Glob(files[0]); len(m) == 0 {
		t.Skip("no healthy-wireguard scenario")
	}
	msg := func(r *Result, counter uint64) *Journey {
		for i, j := range r.Journeys {
			for _, h := range j.Hops {
				if h.WireGuard != nil && h.WireGuard.Receiver == "0xeb082c34" && h.WireGuard.Counter == counter {
					return &r.Journeys[i]
				}
			}
		}
		t.Fatalf("no journey with node-a's counter %d", counter)
		return nil
	}
	full := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
	drop := map[[2]string]bool{} // (file, frame)
	past := false
	for _, h := range msg(full, 7).Hops {
		past = past || h.Point == "router-1/eth1"
		if past {
			drop[[2]string{filepath.Base(h.File), fmt.Sprint(h.Frame)}] = true
		}
	}
	var end int64
	for _, h := range msg(full, 8).Hops {
		if h.Point == "node-b/eth0" {
			end = h.Ts + 100_000 // 100 µs after counter 8 reached node-b
		}
	}
	if len(drop) != 4 || end == 0 {
		t.Fatalf("counter 7: %d frames from router-1/eth1 on, want 4; counter 8 at node-b/eth0: %d", len(drop), end)
	}
	dir := t.TempDir()
	var cut []string
	for _, f := range files {
		cut = append(cut, cutPcap(t, f, dir, end, drop))
	}
	c := decode.Load(cut, decode.Options{}, decode.PointConfig{})
	r := Correlate(c, Options{Journeys: true})
	j := msg(r, 7)
	if j.Status != statusLost || j.LastSeen != "router-1/eth0" || j.NextExpected != "router-1/eth1" {
		t.Errorf("counter 7: %s, last %s, next %s; want lost after router-1/eth0 (%+v, dropped %v)", j.Status, j.LastSeen, j.NextExpected, j.Hops, drop)
	}
}

// cutPcap copies classic pcap file f into dir without its frames recorded after end (ns since the
// epoch) or named in drop (file base name, frame number), and returns the copy's name.
func cutPcap(t *testing.T, f, dir string, end int64, drop map[[2]string]bool) string {
	return filterPcap(t, f, dir, func(frame int, ts int64, _ []byte) bool {
		return ts <= end && !drop[[2]string{filepath.Base(f), fmt.Sprint(frame)}]
	})
}
