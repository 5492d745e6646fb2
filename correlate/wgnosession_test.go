package correlate

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// A node that sends WireGuard messages for most of the capture, but whose first packet died in its
// device before any session existed (its handshake initiation unanswered): that loss is
// wireguard-no-session, though the node sent transport messages at other times. Built from
// healthy-wireguard: the handshake response removed from every capture, and with it the first
// ping's message (node-a's counter 0) from node-a's eth0 on and pod-b's answer everywhere. With a
// UDP request dropped the same way while the session was in use (counter 12), the segment's losses
// are a plain loss that says one of them had no session.
func TestWireGuardNoSessionOverTime(t *testing.T) {
	for _, c := range []struct {
		also    uint64 // node-a's counter also dropped from its eth0 on (0: none)
		kind    string
		count   int
		message string
	}{
		{0, "wireguard-no-session", 1, "1 of 14 packets lost. Packets entered"},
		{12, "loss", 2, "2 of 14 packets lost. 1 of them entered node-a's WireGuard device while it had no session toward their peer"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			r := wgNoSessionCapture(t, c.also)
			for _, a := range r.Anomalies {
				if a.Where.From == "node-a/wireguard.cali" && a.Where.To == "node-a/eth0" {
					if a.Kind != c.kind || a.Count != c.count || !strings.HasPrefix(a.Message, c.message) {
						t.Errorf("%s (%d) on node-a's encryption, want %s (%d): %s", a.Kind, a.Count, c.kind, c.count, a.Message)
					}
					return
				}
			}
			t.Errorf("no loss on node-a/wireguard.cali → node-a/eth0: %v", r.Anomalies)
		})
	}
}

// wgNoSessionCapture correlates healthy-wireguard without its handshake response, the first ping and
// its answer, and node-a's counter also and its answer (see TestWireGuardNoSessionOverTime).
func wgNoSessionCapture(t *testing.T, also uint64) *Result {
	src := "../testdata/lab/scenarios/healthy-wireguard/"
	names := []string{"node-a-cali5e1c4d6c68c", "node-a-wireguard.cali", "node-a-eth0", "router-1-eth0",
		"router-1-eth1", "node-b-eth0", "node-b-wireguard.cali", "node-b-cali2f5353dd8c5"}
	var files []string
	for _, n := range names {
		files = append(files, src+n+".pcap")
	}
	if _, err := os.Stat(files[0]); err != nil {
		t.Skip("no healthy-wireguard scenario")
	}
	full := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})
	drop := map[[2]string]bool{} // (file, frame)
	for _, j := range full.Journeys {
		from := -1
		for i, h := range j.Hops {
			if h.WireGuard != nil && (h.WireGuard.Counter == 0 || also > 0 && h.WireGuard.Counter == also) && from < 0 {
				switch h.WireGuard.Receiver {
				case "0xeb082c34": // node-a's packet: from its message on
					from = i
				case "0xb1b5912e": // its answer: all of it
					from = 0
				}
			}
		}
		for i := max(from, 0); from >= 0 && i < len(j.Hops); i++ {
			drop[[2]string{filepath.Base(j.Hops[i].File), fmt.Sprint(j.Hops[i].Frame)}] = true
		}
	}
	dir := t.TempDir()
	var cut []string
	for _, f := range files {
		cut = append(cut, filterPcap(t, f, dir, func(frame int, _ int64, data []byte) bool {
			// Ethernet, IPv4 (20 bytes), UDP 51820: a handshake response is type 2.
			if len(data) > 14+20+8 && binary.BigEndian.Uint16(data[14+20:]) == 51820 && data[14+20+8] == 2 {
				return false
			}
			return !drop[[2]string{filepath.Base(f), fmt.Sprint(frame)}]
		}))
	}
	return Correlate(decode.Load(cut, decode.Options{}, decode.PointConfig{}), Options{})
}

// filterPcap copies classic little-endian pcap file f into dir with only the frames keep accepts
// (1-based frame number, time in ns since the epoch, frame bytes), and returns the copy's name.
func filterPcap(t *testing.T, f, dir string, keep func(frame int, ts int64, data []byte) bool) string {
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	unit := int64(1000) // microseconds
	switch le.Uint32(b) {
	case 0xa1b23c4d:
		unit = 1
	case 0xa1b2c3d4:
	default:
		t.Fatalf("%s: not a little-endian classic pcap", f)
	}
	out := append([]byte(nil), b[:24]...)
	for off, frame := 24, 1; off+16 <= len(b); frame++ {
		n := int(le.Uint32(b[off+8:]))
		ts := int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))*unit
		if keep(frame, ts, b[off+16:off+16+n]) {
			out = append(out, b[off:off+16+n]...)
		}
		off += 16 + n
	}
	name := filepath.Join(dir, filepath.Base(f))
	if err := os.WriteFile(name, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}
