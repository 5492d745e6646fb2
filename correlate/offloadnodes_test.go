package correlate

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// tcpLayers finds in frame d (Ethernet, or raw IP when raw) the IPv4 headers (outermost first), the
// UDP headers of any VXLAN encapsulation, and the innermost TCP header; ok is false for anything else.
func tcpLayers(d []byte, raw bool) (ips, udps []int, tcp int, ok bool) {
	off := 0
	if !raw {
		if len(d) < 14 || binary.BigEndian.Uint16(d[12:]) != 0x0800 {
			return nil, nil, 0, false
		}
		off = 14
	}
	for {
		if len(d) < off+20 || d[off]>>4 != 4 {
			return nil, nil, 0, false
		}
		ips = append(ips, off)
		ihl := int(d[off]&15) * 4
		switch d[off+9] {
		case 4: // IP in IP
			off += ihl
		case 17: // VXLAN: UDP, 8 bytes of VXLAN header, an inner Ethernet header
			u := off + ihl
			if len(d) < u+8+8+14 || binary.BigEndian.Uint16(d[u+2:]) != 4789 {
				return nil, nil, 0, false
			}
			udps = append(udps, u)
			off = u + 8 + 8 + 14
		case 6:
			tcp = off + ihl
			if len(d) < tcp+20 {
				return nil, nil, 0, false
			}
			return ips, udps, tcp, true
		default:
			return nil, nil, 0, false
		}
	}
}

// tcpSeg is a TCP data segment found in a capture: its record's index and the innermost fields.
type tcpSeg struct {
	rec        int
	src, dst   netip.Addr
	sport      uint16
	seq        uint32
	payload    []byte
	tcp, ihdrs int // innermost TCP header's offset, and where its payload starts
}

// tcpSegOf returns the TCP data segment frame d carries (ok false when none).
func tcpSegOf(d []byte, raw bool, rec int) (tcpSeg, bool) {
	ips, _, tcp, ok := tcpLayers(d, raw)
	if !ok {
		return tcpSeg{}, false
	}
	ip := ips[len(ips)-1]
	end := ip + int(binary.BigEndian.Uint16(d[ip+2:]))
	pl := tcp + int(d[tcp+12]>>4)*4
	if end > len(d) || pl >= end {
		return tcpSeg{}, false
	}
	src, _ := netip.AddrFromSlice(d[ip+12 : ip+16])
	dst, _ := netip.AddrFromSlice(d[ip+16 : ip+20])
	return tcpSeg{rec: rec, src: src, dst: dst, sport: binary.BigEndian.Uint16(d[tcp:]),
		seq: binary.BigEndian.Uint32(d[tcp+4:]), payload: d[pl:end], tcp: tcp, ihdrs: pl}, true
}

// superFrame joins the TCP data segments segs (in sequence, of one flow direction, in frames of one
// link type) into one frame, as segmentation offload holds them before splitting or GRO after merging:
// the first segment's headers (its IP ids and sequence number), the payloads one after another, every
// IPv4 and UDP length grown by the added bytes, the TCP flags OR'ed, the IPv4 and TCP checksums
// computed again (the VXLAN UDP checksum left 0).
func superFrame(frames [][]byte, raw bool, segs []tcpSeg) []byte {
	first := frames[0]
	out := append([]byte(nil), first[:segs[0].ihdrs]...)
	flags := byte(0)
	for i, s := range segs {
		out = append(out, s.payload...)
		flags |= frames[i][s.tcp+13]
	}
	grow := len(out) - segs[0].ihdrs - len(segs[0].payload)
	ips, udps, tcp, _ := tcpLayers(out, raw)
	for _, ip := range ips {
		binary.BigEndian.PutUint16(out[ip+2:], binary.BigEndian.Uint16(out[ip+2:])+uint16(grow))
		out[ip+10], out[ip+11] = 0, 0
		binary.BigEndian.PutUint16(out[ip+10:], csum(out[ip:ip+int(out[ip]&15)*4]))
	}
	for _, u := range udps {
		binary.BigEndian.PutUint16(out[u+4:], binary.BigEndian.Uint16(out[u+4:])+uint16(grow))
		out[u+6], out[u+7] = 0, 0
	}
	out[tcp+13] = flags
	ip := ips[len(ips)-1]
	tl := len(out) - tcp
	pseudo := make([]byte, 12, 12+tl)
	copy(pseudo, out[ip+12:ip+20])
	pseudo[9] = 6
	binary.BigEndian.PutUint16(pseudo[10:], uint16(tl))
	out[tcp+16], out[tcp+17] = 0, 0
	binary.BigEndian.PutUint16(out[tcp+16:], csum(append(pseudo, out[tcp:]...)))
	return out
}

// superEdit says where to join segments into super-frames: in the capture files whose names contain
// one of files, the n consecutive TCP data segments of the flow direction from src:sport that begin
// with the from-th (0: the first; counted in each file) are one frame, written at the first one's
// time (gso: the frame before the kernel split it) or at the last one's (a GRO merge).
type superEdit struct {
	files []string
	skip  bool // leave these files out instead
	split int  // split the from-th segment into segments of split bytes instead (n unused)
	src   string
	sport uint16
	from  int
	n     int
	gso   bool
}

// superLab copies a lab scenario's per-interface captures (no -i any file) into a temporary
// directory with edits applied, less the frames drop rejects (nil: none), and returns their paths.
func superLab(t *testing.T, sc string, edits []superEdit, drop func(name string, d []byte) bool) []string {
	t.Helper()
	all, _ := filepath.Glob("../testdata/lab/scenarios/" + sc + "/*.pcap")
	out := t.TempDir()
	var paths []string
	joined := 0
	for _, p := range all {
		if strings.HasSuffix(p, "-any.pcap") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		if slices.ContainsFunc(edits, func(e superEdit) bool { return e.skip && containsAny(name, e.files) }) {
			continue
		}
		hdr, recs, unit := readPcapRecs(t, b)
		raw := binary.LittleEndian.Uint32(hdr[20:]) != 1
		for _, e := range edits {
			if e.skip || !containsAny(name, e.files) {
				continue
			}
			var segs []tcpSeg
			for i, r := range recs {
				if s, ok := tcpSegOf(r.data[16:], raw, i); ok && s.src.String() == e.src && s.sport == e.sport {
					segs = append(segs, s)
				}
			}
			if e.split > 0 {
				if len(segs) <= e.from {
					t.Fatalf("%s: %d data segments from %s:%d", name, len(segs), e.src, e.sport)
				}
				recs = splitRec(t, recs, raw, segs[e.from], e.split)
				joined++
				continue
			}
			if len(segs) < e.from+e.n {
				t.Fatalf("%s: %d data segments from %s:%d", name, len(segs), e.src, e.sport)
			}
			segs = segs[e.from : e.from+e.n]
			var frames [][]byte
			for k, s := range segs {
				frames = append(frames, recs[s.rec].data[16:])
				if k > 0 && s.seq != segs[k-1].seq+uint32(len(segs[k-1].payload)) {
					t.Fatalf("%s: segments %d and %d not in sequence", name, segs[k-1].rec, s.rec)
				}
			}
			f := superFrame(frames, raw, segs)
			at := recs[segs[len(segs)-1].rec].ts
			if e.gso {
				at = recs[segs[0].rec].ts
			}
			rec := make([]byte, 16, 16+len(f))
			binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
			binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
			gone := map[int]bool{}
			for _, s := range segs {
				gone[s.rec] = true
			}
			var kept []pcapRec
			for i, r := range recs {
				if i == segs[0].rec && e.gso || i == segs[len(segs)-1].rec && !e.gso {
					kept = append(kept, pcapRec{at, append(rec, f...)})
				}
				if !gone[i] {
					kept = append(kept, r)
				}
			}
			recs = kept
			joined++
		}
		if drop != nil {
			var kept []pcapRec
			for _, r := range recs {
				if !drop(name, r.data[16:]) {
					kept = append(kept, r)
				}
			}
			recs = kept
		}
		paths = append(paths, filepath.Join(out, name))
		if err := os.WriteFile(paths[len(paths)-1], writePcapRecs(hdr, recs, unit), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if joined == 0 {
		t.Fatalf("%s: no super-frame made", sc)
	}
	return paths
}

// splitRec replaces record s.rec of recs (TCP data segment s) by its pieces of mss payload bytes each,
// as segmentation offload makes them: the headers copied, each piece's IPv4 ids (every layer's) the
// frame's plus its index, its sequence number advanced, PSH and FIN on the last piece only, the
// lengths and checksums as for superFrame; 10 µs apart from the frame's time on.
func splitRec(t *testing.T, recs []pcapRec, raw bool, s tcpSeg, mss int) []pcapRec {
	t.Helper()
	d := recs[s.rec].data[16:]
	var out []pcapRec
	out = append(out, recs[:s.rec]...)
	for i, k := 0, 0; k < len(s.payload); i, k = i+1, k+mss {
		pl := s.payload[k:min(k+mss, len(s.payload))]
		f := append(append([]byte(nil), d[:s.ihdrs]...), pl...)
		ips, udps, tcp, _ := tcpLayers(f, raw)
		shrink := len(s.payload) - len(pl)
		for _, ip := range ips {
			binary.BigEndian.PutUint16(f[ip+2:], binary.BigEndian.Uint16(f[ip+2:])-uint16(shrink))
			binary.BigEndian.PutUint16(f[ip+4:], binary.BigEndian.Uint16(f[ip+4:])+uint16(i))
			f[ip+10], f[ip+11] = 0, 0
			binary.BigEndian.PutUint16(f[ip+10:], csum(f[ip:ip+int(f[ip]&15)*4]))
		}
		for _, u := range udps {
			binary.BigEndian.PutUint16(f[u+4:], binary.BigEndian.Uint16(f[u+4:])-uint16(shrink))
			f[u+6], f[u+7] = 0, 0
		}
		binary.BigEndian.PutUint32(f[tcp+4:], s.seq+uint32(k))
		if k+mss < len(s.payload) {
			f[tcp+13] &^= 0x09 // PSH, FIN
		}
		ip := ips[len(ips)-1]
		pseudo := make([]byte, 12, 12+len(f)-tcp)
		copy(pseudo, f[ip+12:ip+20])
		pseudo[9] = 6
		binary.BigEndian.PutUint16(pseudo[10:], uint16(len(f)-tcp))
		f[tcp+16], f[tcp+17] = 0, 0
		binary.BigEndian.PutUint16(f[tcp+16:], csum(append(pseudo, f[tcp:]...)))
		rec := make([]byte, 16, 16+len(f))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
		out = append(out, pcapRec{recs[s.rec].ts + int64(i)*10_000, append(rec, f...)})
	}
	out = append(out, recs[s.rec+1:]...)
	slices.SortStableFunc(out, func(x, y pcapRec) int { return int(x.ts - y.ts) })
	return out
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// offloadVerdicts correlates files and returns the summary and the anomalies, one line each.
func offloadVerdicts(files []string) (*Result, []string) {
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	var lines []string
	for _, a := range r.Anomalies {
		lines = append(lines, fmt.Sprintf("%s %s %s: %.150s", a.Severity, a.Kind, a.Where.Point, a.Message))
	}
	return r, lines
}

// offloadCase is a lab scenario with super-frames made where the kernel makes them, and what the
// report must then say: the truth's packet counts (sent as the pods sent them), and no finding
// other than info (no loss, no pmtu-blackhole, no retransmission that was none).
type offloadCase struct {
	name  string
	sc    string
	edits []superEdit
}

func checkOffloadCases(t *testing.T, cases []offloadCase) {
	t.Helper()
	for _, c := range cases {
		tr, _ := truthPods(t, c.sc)
		sent, delivered := 0, 0
		for _, f := range tr.Flows {
			sent, delivered = sent+f.Sent, delivered+f.Delivered
		}
		r, lines := offloadVerdicts(superLab(t, c.sc, c.edits, nil))
		if s := r.Summary; s.Journeys != sent || s.Delivered != delivered || s.Lost != 0 || s.NotCaptured != 0 {
			t.Errorf("%s: %d sent, %d delivered, %d lost, %d not captured; truth %d sent, %d delivered", c.name,
				s.Journeys, s.Delivered, s.Lost, s.NotCaptured, sent, delivered)
		}
		for i, a := range r.Anomalies {
			if a.Severity != "info" {
				t.Errorf("%s: %s", c.name, lines[i])
			}
		}
	}
}

// A super-frame on one node and its wire-size pieces on another (TSO/GSO on the sender, GRO on the
// receiver or a router) is one packet: the pieces continue it, or it continues them, across nodes.
// The server's 4,000-byte answer of the IP-in-IP and VXLAN labs: before, each case counted the
// super-frame as lost where the pieces began (1 to 2 false losses, 1 to 3 false retransmissions), and
// healthy-vxlan with GRO on node-a, or with pieces on node-b and GRO on the router, said ERROR
// pmtu-blackhole (a 4,148-byte frame "lost" where a 95-byte one passed).
func TestOffloadAcrossNodes(t *testing.T) {
	checkOffloadCases(t, []offloadCase{
		// GRO on node-a merged the first two of the three segments at each of its points.
		{"ipip GRO node-a", "healthy-ipip", []superEdit{{files: []string{"node-a-"}, src: "10.244.2.7", sport: 8080, n: 2}}},
		// TSO: node-b's tunnel and eth0 hold the whole frame; the router and node-a the segments.
		{"ipip TSO node-b", "healthy-ipip", []superEdit{{files: []string{"node-b-tunl0", "node-b-eth0"}, src: "10.244.2.7", sport: 8080, n: 3, gso: true}}},
		{"vxlan GRO node-a", "healthy-vxlan", []superEdit{{files: []string{"node-a-"}, src: "10.244.2.7", sport: 8080, n: 2}}},
		// node-b sent its GSO frame whole; the router and node-a saw it as segments.
		{"vxlan GSO node-b", "healthy-vxlan", []superEdit{{files: []string{"router-1-", "node-a-"}, src: "10.244.2.7", sport: 8080, split: 1448}}},
		// Segmented on node-b, merged again by GRO on the router into the very same frame.
		{"vxlan GRO router", "healthy-vxlan", []superEdit{{files: []string{"node-b-vxlan", "node-b-eth0"}, src: "10.244.2.7", sport: 8080, split: 1448}}},
		{"vxlan-offload GRO node-a", "healthy-vxlan-offload", []superEdit{{files: []string{"node-b-vxlan", "node-b-eth0", "router-1-"}, src: "10.244.2.7", sport: 8080, split: 1448}}},
	})
}

// Across NAT: a super-frame carries the tuple before the rewrite, its pieces the one after (or the
// other way round); the connection's rewrite, learned from its other packets, joins them. Before:
// one false loss each where the rewrite is (and up to 3 false retransmissions).
func TestOffloadAcrossNAT(t *testing.T) {
	checkOffloadCases(t, []offloadCase{
		// GRO on pod-a's veth merged two segments of the answer, seen there from the ClusterIP.
		{"dnat GRO cali", "clusterip-dnat", []superEdit{{files: []string{"node-a-cali"}, src: "10.96.0.10", sport: 80, n: 2}}},
		// The whole frame up to node-a's tunnel (from the pod), its segments at pod-a's veth (from the ClusterIP).
		{"dnat GSO to cali", "clusterip-dnat", []superEdit{{files: []string{"node-b-tunl0", "node-b-eth0", "router-1-", "node-a-eth0", "node-a-tunl0"},
			src: "10.244.2.7", sport: 8080, n: 3, gso: true}}},
		// The external server's GSO frame, segmented past it: the segments cross node-a's un-SNAT.
		{"snat GSO ext", "snat-external", []superEdit{{files: []string{"router-1-eth2", "router-1-eth0", "node-a-eth0", "node-a-cali"},
			src: "203.0.113.10", sport: 8080, split: 1448}}},
		{"snat GSO to cali", "snat-external", []superEdit{{files: []string{"node-a-cali"}, src: "203.0.113.10", sport: 8080, split: 1448}}},
	})
}

// lossesOf returns a Result's loss findings as "kind from→to n" (n: the packets its message counts).
func lossesOf(r *Result) []string {
	var out []string
	for _, a := range r.Anomalies {
		if a.Severity != "info" && a.Where.From != "" {
			n := strings.Fields(a.Message)[0]
			out = append(out, fmt.Sprintf("%s %s→%s %s", a.Kind, a.Where.From, a.Where.To, n))
		}
	}
	return out
}

// A piece really lost past the point where the super-frame was segmented is lost, and only it:
// healthy-ipip with TSO on node-b (the whole frame at its tunnel and eth0), the second segment
// dropped between the router and node-a. Before, the frame itself was lost too (2 losses, on two
// segments).
func TestOffloadPieceLost(t *testing.T) {
	var second uint32
	// The second segment: the one after the first 1448 bytes, dropped at node-a's points.
	files := superLab(t, "healthy-ipip", []superEdit{{files: []string{"node-b-tunl0", "node-b-eth0"}, src: "10.244.2.7", sport: 8080, n: 3, gso: true}},
		func(name string, d []byte) bool {
			if !strings.HasPrefix(name, "node-a-") {
				return false
			}
			s, ok := tcpSegOf(d, name == "node-a-tunl0.pcap", 0)
			if !ok || s.src.String() != "10.244.2.7" || len(s.payload) == 0 {
				return false
			}
			if second == 0 {
				second = s.seq + uint32(len(s.payload)) // node-a's first data segment is the first piece
			}
			return s.seq == second
		})
	r, lines := offloadVerdicts(files)
	want := []string{"loss router-1/eth0→node-a/eth0 1"}
	if got := lossesOf(r); !slices.Equal(got, want) || r.Summary.Lost != 1 {
		t.Errorf("%d lost, findings %q; want 1 lost: %q\n%s", r.Summary.Lost, got, want, strings.Join(lines, "\n"))
	}
}

// tcp-retransmission: the router dropped the first segment of the server's answer; the server resent
// it 0.85 ms later, well within the offload window. With GRO on the router's eth1 (the first two
// segments one frame there, holding the resent bytes) or TSO on node-b (the whole frame at its tunnel
// and eth0), the resend, first seen at the server's own veth upstream of the super-frame (a higher
// TTL), is a packet of its own, not a piece: exactly one loss, where the router dropped it
// (truth.json). Before: a second, false loss between node-b and the router. (Without the TTL rule the
// resend was taken for a piece of the router's frame: 27 sent.)
func TestOffloadRetransNotPiece(t *testing.T) {
	for _, e := range []superEdit{
		{files: []string{"router-1-eth1"}, src: "10.244.2.7", sport: 8080, n: 2},
		{files: []string{"node-b-tunl0", "node-b-eth0"}, src: "10.244.2.7", sport: 8080, n: 3, gso: true},
	} {
		r, lines := offloadVerdicts(superLab(t, "tcp-retransmission", []superEdit{e}, nil))
		want := []string{"loss router-1/eth1→router-1/eth0 1"}
		if got := lossesOf(r); !slices.Equal(got, want) || r.Summary.Lost != 1 || r.Summary.Journeys != 28 {
			t.Errorf("%v: %d sent, %d lost, findings %q; want 28 sent (truth), 1 lost: %q\n%s", e.files, r.Summary.Journeys,
				r.Summary.Lost, got, want, strings.Join(lines, "\n"))
		}
	}
}

// mtu-blackhole with TSO on node-b (the server's 4,148-byte frame whole up to node-b's eth0): the
// router's MTU really stops the two full-size segments, and every resend. The ERROR stays, with the
// truth's 6 lost; before, the frame itself was also lost between node-b and the router (7 of 19 in
// the ERROR, and a false loss warning beside it).
//
// The same with the frame whole up to the router's eth1 (GRO there), split at the router, where only
// the third segment went on: the two segments that vanished inside the frame are the frame's loss,
// and a piece's size, not the frame's, is what was lost (1,480 bytes where 1,292 passed, as in the lab
// run). Before, the frame counted as passed (its third piece did) and as passing 4,148 bytes: 5 lost,
// a mere loss warning.
func TestOffloadBlackholeKeepsError(t *testing.T) {
	for _, files := range [][]string{{"node-b-tunl0", "node-b-eth0"}, {"node-b-tunl0", "node-b-eth0", "router-1-eth1"}} {
		r, lines := offloadVerdicts(superLab(t, "mtu-blackhole",
			[]superEdit{{files: files, src: "10.244.2.7", sport: 8080, n: 3, gso: true}}, nil))
		want := []string{"pmtu-blackhole router-1/eth1→router-1/eth0 6"}
		if got := lossesOf(r); !slices.Equal(got, want) || r.Summary.Lost != 6 || r.Summary.Journeys != 30 {
			t.Errorf("%v: %d sent, %d lost, findings %q; want 30 sent, 6 lost: %q\n%s", files, r.Summary.Journeys, r.Summary.Lost,
				got, want, strings.Join(lines, "\n"))
		}
		for _, a := range r.Anomalies {
			if a.Kind == "pmtu-blackhole" && !strings.Contains(a.Message, "up to 1480 bytes with DF; the largest that passed was 1292") {
				t.Errorf("%v: %s", files, a.Message)
			}
		}
	}
}

// A piece lost right where its frame was split is no journey at all: tcp-retransmission with the
// server's frame whole up to the router's eth1 (TSO on node-b, GRO on the router), where the router
// dropped its first segment (truth.json: 1 lost there) and passed the other two. The bytes of the
// frame that no piece seen holds are that loss. Before: nothing lost (the frame went on as two of its
// pieces, so it was "delivered").
func TestOffloadPieceLostAtSplit(t *testing.T) {
	r, lines := offloadVerdicts(superLab(t, "tcp-retransmission",
		[]superEdit{{files: []string{"node-b-tunl0", "node-b-eth0", "router-1-eth1"}, src: "10.244.2.7", sport: 8080, n: 3, gso: true}}, nil))
	want := []string{"loss router-1/eth1→router-1/eth0 1"}
	if got := lossesOf(r); !slices.Equal(got, want) || r.Summary.Lost != 1 || r.Summary.Journeys != 28 {
		t.Errorf("%d sent, %d lost, findings %q; want 28 sent, 1 lost: %q\n%s", r.Summary.Journeys, r.Summary.Lost, got, want,
			strings.Join(lines, "\n"))
	}
}
