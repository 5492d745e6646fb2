package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
)

// writePcap writes Ethernet frames as a microsecond pcap, one every step µs from start.
func writePcap(t *testing.T, path string, ts []int64, frames [][]byte) {
	t.Helper()
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 262144)
	binary.LittleEndian.PutUint32(b[20:], 1)
	for i, f := range frames {
		r := make([]byte, 16)
		binary.LittleEndian.PutUint32(r[0:], uint32(ts[i]/1e9))
		binary.LittleEndian.PutUint32(r[4:], uint32(ts[i]%1e9/1e3))
		binary.LittleEndian.PutUint32(r[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(r[12:], uint32(len(f)))
		b = append(append(b, r...), f...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func csum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// udpFrame builds Ethernet/IPv4/UDP with correct checksums (UDP checksum 0: none).
func udpFrame(dst, src [6]byte, sip, dip [4]byte, ttl uint8, id uint16, payload string) []byte {
	ip := make([]byte, 28+len(payload))
	ip[0], ip[8], ip[9] = 0x45, ttl, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	binary.BigEndian.PutUint16(ip[4:], id)
	copy(ip[12:], sip[:])
	copy(ip[16:], dip[:])
	binary.BigEndian.PutUint16(ip[20:], 5353)
	binary.BigEndian.PutUint16(ip[22:], 53)
	binary.BigEndian.PutUint16(ip[24:], uint16(8+len(payload)))
	copy(ip[28:], payload)
	binary.BigEndian.PutUint16(ip[10:], csum(ip[:20]))
	return append(append(append(dst[:], src[:]...), 0x08, 0x00), ip...)
}

// Two pods on one node: packets go cali → cali without a tunnel or the underlay. The mode is
// same-node, the path is the two veths, and a packet that never reaches the second veth is a
// host-drop there.
func TestSameNode(t *testing.T) {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	macA, macC := [6]byte{0x0a, 0x58, 0, 0, 0, 1}, [6]byte{0x0a, 0x58, 0, 0, 0, 3}
	podA, podC := [4]byte{10, 244, 1, 5}, [4]byte{10, 244, 1, 9}
	const t0 = int64(1_700_000_000_000_000_000)
	var tsA, tsC []int64
	var fA, fC [][]byte
	for i := 0; i < 10; i++ {
		at := t0 + int64(i)*1_000_000
		q := "query " + string(rune('a'+i))
		fA = append(fA, udpFrame(cali, macA, podA, podC, 64, uint16(100+i), q))
		tsA = append(tsA, at)
		if i == 3 {
			continue // dropped between the veths
		}
		fC = append(fC, udpFrame(macC, cali, podA, podC, 63, uint16(100+i), q))
		tsC = append(tsC, at+20_000)
	}
	writePcap(t, filepath.Join(dir, "node-a-cali1111111111a.pcap"), tsA, fA)
	writePcap(t, filepath.Join(dir, "node-a-cali3333333333c.pcap"), tsC, fC)
	c := decode.Load([]string{filepath.Join(dir, "node-a-cali1111111111a.pcap"), filepath.Join(dir, "node-a-cali3333333333c.pcap")},
		decode.Options{}, decode.PointConfig{})
	r := Correlate(c, Options{})
	if r.Mode != "same-node" {
		t.Errorf("mode %q, want same-node", r.Mode)
	}
	if len(r.Flows) != 1 {
		t.Fatalf("%d flows, want 1", len(r.Flows))
	}
	f := r.Flows[0]
	if got := f.Path; len(got) != 2 || got[0] != "node-a/cali1111111111a" || got[1] != "node-a/cali3333333333c" {
		t.Errorf("path %v", got)
	}
	if f.Packets != 10 || f.Delivered != 9 || f.Lost != 1 {
		t.Errorf("packets %d delivered %d lost %d, want 10, 9, 1", f.Packets, f.Delivered, f.Lost)
	}
	found := false
	for _, a := range r.Anomalies {
		if a.Kind == "loss" && a.Where.From == "node-a/cali1111111111a" && a.Where.To == "node-a/cali3333333333c" {
			found = true
			if len(a.Evidence) != 1 || a.Evidence[0].Frame != 4 {
				t.Errorf("evidence %v, want the lost frame 4", a.Evidence)
			}
		}
	}
	if !found {
		t.Errorf("no loss at cali → cali: %+v", r.Anomalies)
	}
	for _, s := range r.Segments {
		if s.Kind != "host" || s.LatencyNs.Min != 20_000 {
			t.Errorf("segment %+v, want host with 20 µs", s)
		}
	}
}
