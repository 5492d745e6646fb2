package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// checkFrameText compares frameLine with frameText on every frame of files, under their own names and
// point names and under hostile ones. It returns the frames compared.
func checkFrameText(t *testing.T, files []string, wireguardPort uint16) int {
	t.Helper()
	n := 0
	var fl, hl frameLine // one per file, and another for the hostile names, as packets has one
	hostile := "a/\x1b]52;c;aGk\x07<eth>&\u202e\x7f\u0085\xff\"\\ b:c"
	for i, f := range files {
		opts := decode.Options{VXLANPort: decode.DefaultVXLANPort, WireGuardPort: wireguardPort}
		fails := 0
		decode.ScanFile(f, uint16(i), opts, decode.NewTables(), func(rec *decode.Record, p *decode.Packet, o *decode.Observation) {
			for k, names := range [][2]string{{f, filepath.Base(f) + "/" + strconv.Itoa(int(o.Source))}, {hostile, hostile}} {
				want := frameText(frameDoc(names[0], names[1], rec, p)) + "\n"
				w := &fl
				if k == 1 {
					w = &hl
				}
				if got := w.append(nil, names[0], names[1], rec, p); string(got) != want && fails < 3 {
					fails++
					t.Errorf("%s frame %d:\n got %q\nwant %q", f, rec.Frame, got, want)
				}
			}
			n++
		})
	}
	return n
}

// TestPacketsTextBytes holds the text lines of `calipath packets`, appended straight from the decoded
// packet, to the bytes frameText formatted from frameDoc's Frame: on every lab capture (WireGuard ones
// also on another port, broken captures too) and on generated IP-in-IP, VXLAN and BGP captures with
// ICMP, duplicates and checksum offload.
func TestPacketsTextBytes(t *testing.T) {
	var lab []string
	for _, pat := range []string{"../../testdata/lab/*/*/*.pcap*", "../../testdata/lab/*/*/*/*.pcap*", "../../testdata/broken/*"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		lab = append(lab, m...)
	}
	if len(lab) < 300 {
		t.Fatalf("only %d lab captures found", len(lab))
	}
	var wg, other []string
	for _, f := range lab {
		if strings.Contains(f, "wireguard") {
			wg = append(wg, f)
		} else {
			other = append(other, f)
		}
	}
	total := checkFrameText(t, other, 0) + checkFrameText(t, wg, 0) + checkFrameText(t, wg, 4242)
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN, gen.ModeBGP} {
		cfg := gen.DefaultConfig()
		cfg.Mode, cfg.Nodes, cfg.PodsPerNode = mode, 2, 2
		cfg.Flows, cfg.Packets = 60, 1500
		cfg.LossPerHop, cfg.DupRate, cfg.Rate, cfg.PartialCsum = 0.01, 0.02, 200000, true
		cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
		cfg.Dir, cfg.KeepTruth = t.TempDir(), false
		g, err := gen.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		total += checkFrameText(t, g.Files, 0)
	}
	if total < 20000 {
		t.Errorf("only %d frames compared", total)
	}
}

// TestPacketsTextShapes compares frameLine with frameText on hand-built packets of shapes no capture
// here holds: VLAN tags, an encapsulation without outer addresses, IPv6 and IPv4-mapped addresses with
// ports, ICMP errors quoting packets, every TCP flag, every WireGuard message type and an unknown one,
// every ARP operation, unknown protocols, fragments, DSCP, every error bit, odd times.
func TestPacketsTextShapes(t *testing.T) {
	var shapes []decode.Packet
	add := func(p decode.Packet) { shapes = append(shapes, p) }
	add(decode.Packet{HasEth: true, NVLAN: 2, VLANs: [2]uint16{100, 4094}, Encap: decode.EncapVXLAN, VNI: 7, OuterSprt: 1234,
		OuterDprt: 4789, Checksum: decode.CsumBad, Errs: 0xffff, GSO: true})
	add(decode.Packet{HasEth: true, Encap: decode.EncapIPIP, Checksum: decode.CsumOK, Errs: 1 << 15})
	v6 := decode.IPHdr{Version: 6, Proto: 17, TTL: 64, TOS: 0xff, TotalLen: 1280, ID: 99, MF: true, FragOff: 1448}
	v6.Src[15], v6.Dst[0] = 1, 0xfe
	mapped := decode.IPHdr{Version: 6, Proto: 6}
	mapped.Src[10], mapped.Src[11], mapped.Src[12] = 0xff, 0xff, 10
	v4 := decode.IPHdr{Version: 4, Proto: 6, TTL: 63, DF: true, TotalLen: 60, ID: 4242}
	v4.Src[0], v4.Dst[0] = 10, 192
	add(decode.Packet{Inner: v6, HasUDP: true, Sport: 53, Dport: 40000, PayloadLen: 12})
	add(decode.Packet{Inner: mapped, Sport: 1, Dport: 0})                          // ports left by the snaplen
	add(decode.Packet{Inner: decode.IPHdr{Version: 4, Proto: 99}, PayloadLen: -1}) // an unknown protocol
	for _, proto := range []uint8{1, 4, 47, 50, 58, 132, 255} {
		add(decode.Packet{Inner: decode.IPHdr{Version: 4, Proto: proto}})
	}
	for fl := 0; fl < 256; fl += 17 {
		add(decode.Packet{Inner: v4, HasTCP: true, Sport: 443, Dport: 5, TCP: decode.TCP{Flags: uint8(fl), Seq: 1<<32 - 1, Ack: 7,
			Window: 65535, MSS: uint16(fl * 5)}})
	}
	add(decode.Packet{Inner: v4, HasTCP: true, TCP: decode.TCP{Flags: 0xff}})
	for _, ic := range []decode.ICMP{{Type: 8, ID: 3, Seq: 9}, {Type: 0}, {Type: 3, Code: 4, MTU: 1400, HasQuote: true, Quoted: v4,
		QuotedInner: v6, QSport: 1, QDport: 2}, {Type: 11, HasQuote: true}, {Type: 5}} {
		add(decode.Packet{Inner: decode.IPHdr{Version: 4, Proto: 1}, HasICMP: true, ICMP: ic})
	}
	for _, ic := range []decode.ICMP{{Type: 128, ID: 1}, {Type: 129}, {Type: 2, MTU: 1280, HasQuote: true, Quoted: v6}, {Type: 135}} {
		add(decode.Packet{Inner: decode.IPHdr{Version: 6, Proto: 58}, HasICMP: true, ICMP: ic})
	}
	for _, typ := range []uint8{decode.WGInitiation, decode.WGResponse, decode.WGCookie, decode.WGTransport, 0, 9} {
		for _, l := range []int{32, 148} {
			add(decode.Packet{Inner: decode.IPHdr{Version: 4, Proto: 17}, HasUDP: true, HasWG: true,
				WG: decode.WireGuard{Type: typ, Sender: 0xdeadbeef, Receiver: 7, Counter: 1 << 40, Len: l}})
		}
	}
	for _, op := range []uint16{1, 2, 9} {
		add(decode.Packet{HasARP: true, Checksum: decode.CsumNone, ARP: decode.ARP{Op: op, SHA: [6]byte{0xff, 0, 0xab}, THA: [6]byte{1},
			SPA: [4]byte{10, 0, 0, 1}, TPA: [4]byte{169, 254, 1, 1}}})
	}
	add(decode.Packet{Checksum: decode.CsumNone, Errs: decode.ErrNotIP})
	var fl frameLine
	for i, ts := range []int64{0, -1, 1<<63 - 1, 1_700_000_000_123_456_789, 1_700_000_000_999_999_999, 1_700_000_001_000_000_000,
		-1 << 63, -1_000_000_000, -1_000_000_001, 5} {
		for j := range shapes {
			rec := &decode.Record{Frame: uint32(i*100 + j), Ts: ts, LinkType: decode.LinkType(i * 50)}
			want := frameText(frameDoc("f.pcap", "n/eth0", rec, &shapes[j])) + "\n"
			if got := fl.append(nil, "f.pcap", "n/eth0", rec, &shapes[j]); !bytes.Equal(got, []byte(want)) {
				t.Errorf("shape %d at %d:\n got %q\nwant %q", j, ts, got, want)
			}
		}
	}
}
