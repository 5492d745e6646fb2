package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// Regression tests for what FuzzGenPipeline (cmd/calipath/genfuzz_test.go) found: crashes and
// impossible outputs on generated captures damaged as incidents do.

// A VXLAN capture whose underlay frames the snaplen cut before their inner ports gives the clocks no
// packet to sample: every clock is "not crossed", not corrected. The tunnel devices still show the
// packets, so journeys cross from node to node, and their latencies there are the clocks' offset (node-2
// runs 100 ms ahead): not measurements, but not known (BoundNone), with a note that says why. Before,
// the flows' end-to-end latencies were given as measured, 100 ms off.
func TestUncrossedClockLatencyNotKnown(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.Mode = gen.ModeVXLAN
	cfg.Snaplen = 68
	cfg.Packets = 400
	cfg.Flows = 4
	cfg.ClockOffset = map[string]time.Duration{"node-2": 100 * time.Millisecond}
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	r := Correlate(c, Options{Journeys: true})
	for _, cl := range r.Clocks {
		if cl.Method != methodUncrossed {
			t.Fatalf("clock %s: %q, want %q (the premise: no packet sampled)", cl.Node, cl.Method, methodUncrossed)
		}
	}
	crossed := 0
	for _, f := range r.Flows {
		if f.LatencyNs.N == 0 && f.ClockBound == "" {
			continue
		}
		crossed++
		if f.ClockBound != BoundNone || f.LatencyNs.N != 0 || f.ClockNote == "" {
			t.Errorf("flow %s: latency %+v, clock bound %q, note %q: want none given, bound %q, and a note", f.ID, f.LatencyNs,
				f.ClockBound, f.ClockNote, BoundNone)
		}
	}
	if crossed == 0 {
		t.Fatal("no flow crosses between the nodes (the premise)")
	}
	for _, j := range r.Journeys {
		for k, h := range j.Hops {
			node, _, _ := strings.Cut(h.Point, "/")
			prev, _, _ := strings.Cut(j.Hops[max(k-1, 0)].Point, "/")
			if node != prev && h.ClockBound != BoundNone {
				t.Fatalf("journey %d: %s → %s: latency %d ns, clock bound %q, want %q", j.ID, j.Hops[k-1].Point, h.Point,
					h.DeltaNs, h.ClockBound, BoundNone)
			}
		}
	}
}

// The same on real packets: the lab's healthy-vxlan captures (no -i any, no pcapng), its underlay and
// router files cut to 68 bytes as `tcpdump -s 68` or `editcap -s 68` leaves them (the inner ports
// gone) and node-b's files 30 ms ahead, as pcapshift -offset 30ms makes them. Before, every flow's
// latency was given as measured: ±30 ms, some of it negative.
func TestUncrossedClockLatencyNotKnownLab(t *testing.T) {
	files := labFiles(t, "healthy-vxlan", func(n string) bool { return !strings.HasSuffix(n, "-any.pcap") && strings.HasSuffix(n, ".pcap") })
	for _, p := range files {
		n := filepath.Base(p)
		snap := 0
		if strings.HasSuffix(n, "-eth0.pcap") || strings.HasPrefix(n, "router-") {
			snap = 68
		}
		var shift time.Duration
		if strings.HasPrefix(n, "node-b-") {
			shift = 30 * time.Millisecond
		}
		rewritePcap(t, p, snap, shift)
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	for _, cl := range r.Clocks {
		if cl.Method != methodUncrossed {
			t.Fatalf("clock %s: %q, want %q (the premise: no packet sampled)", cl.Node, cl.Method, methodUncrossed)
		}
	}
	if len(r.Flows) == 0 {
		t.Fatal("no flows")
	}
	for _, f := range r.Flows {
		if f.ClockBound != BoundNone || f.LatencyNs.N != 0 || !strings.Contains(f.ClockNote, "not corrected") {
			t.Errorf("flow %s: latency %+v, clock bound %q, note %q: want none given, bound %q, and a note", f.ID, f.LatencyNs,
				f.ClockBound, f.ClockNote, BoundNone)
		}
	}
}

// rewritePcap rewrites the classic pcap file p (either byte order, µs or ns) in place: each record
// cut to snap bytes (0: as it is), its time moved by shift.
func rewritePcap(t *testing.T, p string, snap int, shift time.Duration) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var o binary.ByteOrder = binary.LittleEndian
	magic := o.Uint32(b)
	if magic != 0xa1b2c3d4 && magic != 0xa1b23c4d {
		o = binary.BigEndian
		magic = o.Uint32(b)
	}
	unit := int64(1000) // ns per fraction unit
	if magic == 0xa1b23c4d {
		unit = 1
	}
	out := append([]byte(nil), b[:24]...)
	if snap > 0 {
		o.PutUint32(out[16:], uint32(snap))
	}
	for b = b[24:]; len(b) >= 16; {
		cl := int(o.Uint32(b[8:]))
		ts := int64(o.Uint32(b))*1e9 + int64(o.Uint32(b[4:]))*unit + int64(shift)
		data := b[16 : 16+cl]
		if snap > 0 && cl > snap {
			data = data[:snap]
		}
		var h [16]byte
		o.PutUint32(h[0:], uint32(ts/1e9))
		o.PutUint32(h[4:], uint32(ts%1e9/unit))
		o.PutUint32(h[8:], uint32(len(data)))
		o.PutUint32(h[12:], o.Uint32(b[12:]))
		out = append(append(out, h[:]...), data...)
		b = b[16+cl:]
	}
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
