package correlate

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/calipath/calipath/decode"
)

// csumSwap updates an Internet checksum for one 16-bit word of what it covers changed from old to
// new (RFC 1624, eqn. 3).
func csumSwap(c, old, new uint16) uint16 {
	s := uint32(^c) + uint32(^old) + uint32(new)
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// setPort sets the 16-bit port at b[0:2] to port and updates the checksums at each of sums for it;
// a zero UDP checksum (none sent) stays zero.
func setPort(b []byte, port uint16, sums ...[]byte) {
	old := binary.BigEndian.Uint16(b)
	binary.BigEndian.PutUint16(b, port)
	for _, s := range sums {
		if c := binary.BigEndian.Uint16(s); c != 0 {
			binary.BigEndian.PutUint16(s, csumSwap(c, old, port))
		}
	}
}

// udp6Placeholder reports whether the IPv6 packet ip's UDP checksum is an offload placeholder: the
// folded sum of its pseudo-header (or its complement), which covers no port.
func udp6Placeholder(ip []byte) bool {
	var s uint32
	for i := 8; i < 40; i += 2 {
		s += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	s += uint32(binary.BigEndian.Uint16(ip[4:6])) + 17
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	c := binary.BigEndian.Uint16(ip[46:48])
	return c == uint16(s) || c == ^uint16(s)
}

// vxlanPortFrame moves an Ethernet frame's IPv6 VXLAN datagram from UDP 4789 to port, and the VXLAN
// datagram an ICMPv6 Packet Too Big quotes. The datagram's UDP checksum is updated unless it is an
// offload placeholder (local checksum offload's outer checksum covers the ports), the ICMPv6 one for
// its quote; the quoted UDP checksum is left as quoted (nothing checks a quote's). It says which it
// rewrote.
func vxlanPortFrame(d []byte, port uint16) (vx, ptb bool) {
	if len(d) < 14+48 || binary.BigEndian.Uint16(d[12:]) != 0x86dd {
		return false, false
	}
	ip := d[14:]
	switch {
	case ip[6] == 17 && binary.BigEndian.Uint16(ip[42:]) == decode.DefaultVXLANPort:
		if udp6Placeholder(ip) {
			setPort(ip[42:44], port)
		} else {
			setPort(ip[42:44], port, ip[46:48])
		}
		return true, false
	case ip[6] == 58 && ip[40] == 2 && len(ip) >= 48+48 && ip[48+6] == 17 &&
		binary.BigEndian.Uint16(ip[48+42:]) == decode.DefaultVXLANPort:
		setPort(ip[48+42:48+44], port, ip[42:44])
		return false, true
	}
	return false, false
}

// TestVXLANPortQuote: pmtu-discovery6 with its VXLAN moved from UDP 4789 to 8472 (every per-interface
// capture rewritten, frames and router-1's Packet Too Big quote alike, checksums kept right) and read
// with --vxlan-port 8472 must say what the scenario says on 4789: the Packet Too Big quotes node-b's
// VXLAN datagram and pod-b's TCP segment inside it, and the findings are the same. Before, the quote
// decoder knew 4789 only: the quote stayed a UDP datagram between the nodes, whose anomaly names no
// pod flow and whose drop nothing answered.
func TestVXLANPortQuote(t *testing.T) {
	orig := perIfaceFiles("pmtu-discovery6")
	dir := t.TempDir()
	var files []string
	nvx, nptb := 0, 0
	for _, f := range orig {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if binary.LittleEndian.Uint32(b[20:24]) != 1 {
			t.Fatalf("%s: link type %d, want Ethernet", f, binary.LittleEndian.Uint32(b[20:24]))
		}
		hdr, recs, unit := readPcapRecs(t, b)
		for _, rec := range recs {
			vx, ptb := vxlanPortFrame(rec.data[16:], 8472)
			nvx, nptb = nvx+b2i(vx), nptb+b2i(ptb)
		}
		out := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(out, writePcapRecs(hdr, recs, unit), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, out)
	}
	if nvx < 10 || nptb != 2 {
		t.Fatalf("rewrote %d VXLAN frames and %d Packet Too Big quotes, want more than 10 and router-1's one (seen at its two points)", nvx, nptb)
	}
	c := decode.Load(files, decode.Options{VXLANPort: 8472}, decode.PointConfig{})
	for i := range c.Obs {
		for _, o := range c.Obs[i] {
			if o.Flags&decode.FlagICMPError == 0 || o.Proto != 58 || o.Sport != 2 {
				continue
			}
			e := c.Tables.ICMPErr(o.Seq)
			if e.Quoted.Proto != 17 {
				continue // node-b's own Packet Too Big to pod-b, quoting its TCP segment
			}
			if in := e.QuotedInner; in.Version != 6 || in.Proto != 6 || e.QSport != 8080 {
				t.Errorf("%s: Packet Too Big quotes inner v%d proto %d from port %d, want pod-b's TCP from 8080 in the VXLAN datagram to 8472",
					c.Files[i].Path, in.Version, in.Proto, e.QSport)
			}
		}
	}
	want, got := anomalyLines(Correlate(decode.Load(orig, decode.Options{}, decode.PointConfig{}), Options{})),
		anomalyLines(Correlate(c, Options{}))
	if !slices.Equal(want, got) {
		t.Errorf("findings on UDP 8472 with --vxlan-port 8472:\n%q\nwant the scenario's on 4789:\n%q", got, want)
	}
}

// b2i is 1 for true.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// anomalyLines are a run's findings: severity, kind, place and message.
func anomalyLines(r *Result) []string {
	var out []string
	for _, a := range r.Anomalies {
		out = append(out, fmt.Sprintf("%s %s %s %s→%s: %s", a.Severity, a.Kind, a.Where.Point, a.Where.From, a.Where.To, a.Message))
	}
	return out
}
