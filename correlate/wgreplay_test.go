package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// A transport message received again, byte for byte, later (replayed by something on the way):
// wireguard-reordered at the receiver's underlay counts it as a replay. Built from healthy-wireguard:
// node-b's eth0 receives node-a's counter 12 a second time, after 0.3 s, and router-1's captures
// with it (the replay crossed them).
func TestWireGuardReplay(t *testing.T) {
	src := "../testdata/lab/scenarios/healthy-wireguard/"
	names := []string{"node-a-cali5e1c4d6c68c", "node-a-wireguard.cali", "node-a-eth0", "router-1-eth0",
		"router-1-eth1", "node-b-eth0", "node-b-wireguard.cali", "node-b-cali2f5353dd8c5"}
	if _, err := os.Stat(src + names[0] + ".pcap"); err != nil {
		t.Skip("no healthy-wireguard scenario")
	}
	dir := t.TempDir()
	var files []string
	for _, n := range names {
		f := src + n + ".pcap"
		if n == "node-b-eth0" || n == "router-1-eth0" || n == "router-1-eth1" {
			f = replayPcap(t, f, dir, "0xeb082c34", 12, 300_000_000)
		}
		files = append(files, f)
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	if r.Summary.Lost != 0 || r.Summary.NotCaptured != 0 {
		t.Errorf("%d lost, %d not captured: the replay is no packet of its own", r.Summary.Lost, r.Summary.NotCaptured)
	}
	for _, a := range r.Anomalies {
		if a.Kind == "wireguard-reordered" {
			if a.Where.Point != "node-b/eth0" || a.Count != 1 || len(a.Evidence) != 1 || a.Evidence[0].Frame != 33 ||
				!strings.HasPrefix(a.Message, "1 transport message arrived with a counter already received: a replay. ") {
				t.Errorf("%+v", a)
			}
			return
		}
	}
	t.Errorf("no wireguard-reordered: %v", r.Anomalies)
}

// replayPcap copies classic little-endian pcap file f into dir with the transport message of session
// receiver (hex, as Hop.WireGuard shows it) and counter written again after delay ns, in time order.
func replayPcap(t *testing.T, f, dir, receiver string, counter uint64, delay int64) string {
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	unit := int64(1000)
	if le.Uint32(b) == 0xa1b23c4d {
		unit = 1
	}
	type rec struct {
		ts   int64
		data []byte // record header and frame
	}
	var recs []rec
	var copyOf *rec
	for off := 24; off+16 <= len(b); {
		n := int(le.Uint32(b[off+8:]))
		r := rec{int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))*unit, b[off : off+16+n]}
		recs = append(recs, r)
		// Ethernet, IPv4 (20 bytes), UDP: the WireGuard message at 16+14+20+8.
		if m := r.data[16+14+20+8:]; n >= 14+20+8+16 && m[0] == 4 &&
			"0x"+hex8(le.Uint32(m[4:])) == receiver && le.Uint64(m[8:]) == counter {
			c := r
			copyOf = &c
		}
		off += 16 + n
	}
	if copyOf == nil {
		t.Fatalf("%s: no message %s/%d", f, receiver, counter)
	}
	at := copyOf.ts + delay
	hdr := append([]byte(nil), copyOf.data...)
	le.PutUint32(hdr, uint32(at/1e9))
	le.PutUint32(hdr[4:], uint32(at%1e9/unit))
	out := append([]byte(nil), b[:24]...)
	done := false
	for _, r := range recs {
		if !done && r.ts > at {
			out, done = append(out, hdr...), true
		}
		out = append(out, r.data...)
	}
	if !done {
		out = append(out, hdr...)
	}
	name := filepath.Join(dir, filepath.Base(f))
	if err := os.WriteFile(name, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func hex8(v uint32) string {
	const digits = "0123456789abcdef"
	var s [8]byte
	for i := 7; i >= 0; i-- {
		s[i] = digits[v&15]
		v >>= 4
	}
	return string(s[:])
}
