package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/safetext"
)

// oldFrameJSON is a frame's line as `calipath packets --format json` wrote it with encoding/json:
// frameDoc encoded by a json.Encoder through safetext.JSONWriter.
func oldFrameJSON(t *testing.T, path, point string, rec *decode.Record, p *decode.Packet) []byte {
	var b bytes.Buffer
	if err := json.NewEncoder(safetext.JSONWriter(&b)).Encode(frameDoc(path, point, rec, p)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkFrameJSON compares appendFrameJSON with oldFrameJSON on every frame of files, under their own
// names and point names and under hostile ones. It returns the frames compared.
func checkFrameJSON(t *testing.T, files []string, wireguardPort uint16) int {
	t.Helper()
	n := 0
	var fj frameJSON // one per file, and another for the hostile names, as packets has one
	var hj frameJSON
	hostile := "a/\x1b]52;c;aGk\x07<eth>&\u202e\x7f\u0085\xff\"\\"
	for i, f := range files {
		opts := decode.Options{VXLANPort: decode.DefaultVXLANPort, WireGuardPort: wireguardPort}
		fails := 0
		decode.ScanFile(f, uint16(i), opts, decode.NewTables(), func(rec *decode.Record, p *decode.Packet, o *decode.Observation) {
			for k, names := range [][2]string{{f, filepath.Base(f) + "/" + strconv.Itoa(int(o.Source))}, {hostile, hostile}} {
				want := oldFrameJSON(t, names[0], names[1], rec, p)
				w := &fj
				if k == 1 {
					w = &hj
				}
				got := w.append(nil, names[0], names[1], rec, p)
				if !bytes.Equal(got, want) && fails < 3 {
					fails++
					t.Errorf("%s frame %d:\n got %s\nwant %s", f, rec.Frame, got, want)
				}
			}
			n++
		})
	}
	return n
}

// TestPacketsJSONBytes holds the hand-written JSON of `calipath packets` to encoding/json's bytes on
// every lab capture (pending WireGuard scenarios and broken captures included) and on generated
// IP-in-IP, VXLAN and BGP captures with ICMP, ARP, duplicates and checksum offload.
func TestPacketsJSONBytes(t *testing.T) {
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
	// The WireGuard scenarios run on the default port; another port (as --wireguard-port sets) makes
	// the same frames plain UDP.
	total := checkFrameJSON(t, other, 0) + checkFrameJSON(t, wg, 0) + checkFrameJSON(t, wg, 4242)
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
		total += checkFrameJSON(t, g.Files, 0)
	}
	if total < 20000 {
		t.Errorf("only %d frames compared", total)
	}
}

// TestPacketsJSONShapes compares the hand-written JSON with encoding/json's on hand-built packets of
// shapes no capture here holds: VLAN tags, an encapsulation without an outer address (the zero
// address prints as "invalid IP"), every WireGuard message type and an unknown one, odd times.
func TestPacketsJSONShapes(t *testing.T) {
	var shapes []decode.Packet
	p := decode.Packet{HasEth: true, NVLAN: 2, VLANs: [2]uint16{100, 4094}, Encap: decode.EncapVXLAN, VNI: 0,
		Checksum: decode.CsumBad, Errs: 3, GSO: true}
	shapes = append(shapes, p)
	p = decode.Packet{HasEth: true, NVLAN: 1, VLANs: [2]uint16{7}, Encap: decode.EncapIPIP}
	shapes = append(shapes, p)
	for _, typ := range []uint8{decode.WGInitiation, decode.WGResponse, decode.WGCookie, decode.WGTransport, 0, 9} {
		for _, l := range []int{32, 148} {
			q := decode.Packet{HasWG: true, WG: decode.WireGuard{Type: typ, Sender: 0xdeadbeef, Receiver: 7, Counter: 1 << 40, Len: l}}
			q.Inner.Version = 4
			q.HasUDP = true
			shapes = append(shapes, q)
		}
	}
	p = decode.Packet{HasARP: true, ARP: decode.ARP{Op: 9, SHA: [6]byte{0xff, 0, 0xab}, SPA: [4]byte{10, 0, 0, 1}}}
	shapes = append(shapes, p)
	var fj frameJSON
	for i, ts := range []int64{0, -1, 1<<63 - 1, 1_700_000_000_123_456_789, 1_700_000_000_999_999_999, 1_700_000_001_000_000_000,
		-1 << 63, -1_000_000_000, -1_000_000_001, 5} {
		for j := range shapes {
			rec := &decode.Record{Frame: uint32(i*100 + j), Ts: ts, LinkType: decode.LinkType(i * 50)}
			want := oldFrameJSON(t, "f.pcap", "n/eth0", rec, &shapes[j])
			if got := fj.append(nil, "f.pcap", "n/eth0", rec, &shapes[j]); !bytes.Equal(got, want) {
				t.Errorf("shape %d at %d:\n got %s\nwant %s", j, ts, got, want)
			}
		}
	}
}
