package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func TestShiftKeepsNanosAndAppliesDrift(t *testing.T) {
	name := filepath.Join(t.TempDir(), "x.pcap")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(65536, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	t0 := int64(1_700_000_000_000_000_001)
	in := []int64{t0, t0 + 1_000_000_000, t0 + 10_000_000_007}
	for _, ts := range in {
		data := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(0, ts), CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := shift(name, 2500*time.Millisecond, 200, t0); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(name); err != nil || len(b) < 4 || b[0] != 0x4d || b[3] != 0xa1 {
		t.Fatalf("shifted file lost its little-endian nanosecond magic: %v", err)
	}
	g, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	r, err := pcapgo.NewReader(g)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeRaw {
		t.Errorf("link type %v, want raw", r.LinkType())
	}
	// 200 ppm of 1 s is 200 µs; of 10.000000007 s, 2000.0000014 µs.
	want := []int64{t0 + 2_500_000_000, t0 + 1_000_000_000 + 2_500_000_000 + 200_000, t0 + 10_000_000_007 + 2_500_000_000 + 2_000_000}
	for i, wt := range want {
		_, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatal(err)
		}
		if got := ci.Timestamp.UnixNano(); got != wt {
			t.Errorf("packet %d: %d, want %d (diff %d ns)", i, got, wt, got-wt)
		}
	}
}

func TestShiftKeepsSLL2LinkType(t *testing.T) {
	name := filepath.Join(t.TempDir(), "any.pcap")
	// Little-endian microsecond pcap, snaplen 65535, link type 276, then one
	// record at 1000.000001 s holding 2 bytes.
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0x14, 0x01, 0, 0,
		0xe8, 0x03, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0xab, 0xcd}
	if err := os.WriteFile(name, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := shift(name, time.Second+5*time.Microsecond, 0, 0); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != len(hdr) || b[20] != 0x14 || b[21] != 0x01 {
		t.Fatalf("header changed: % x", b)
	}
	if sec, usec := b[24], b[28]; sec != 0xe9 || usec != 6 {
		t.Errorf("timestamp bytes %x/%x, want e9/06 (1001 s, 6 µs)", sec, usec)
	}
	if err := shift(name[:len(name)-4]+"-missing.pcap", 0, 0, 0); err == nil {
		t.Error("shift of a missing file succeeded")
	}
}

// TestClockStepAndSlew: a step moves every time from its moment on by its size; a slew moves the
// times during it by its rate and every later one by its whole amount; both count from -t0 in true
// time, with the offset and drift added.
func TestClockStepAndSlew(t *testing.T) {
	const t0 = int64(1_700_000_000_000_000_000)
	s := int64(time.Second)
	step := clock{t0: t0, step: -2 * time.Millisecond, stepAt: 2 * time.Second, offset: time.Millisecond}
	slew := clock{t0: t0, slewPPM: 20000, slewAt: time.Second, slewFor: 100 * time.Millisecond, driftPPM: 100}
	for _, c := range []struct {
		name string
		c    clock
		t    int64
		want int64
	}{
		{"before the step", step, t0 + 2*s - 1, t0 + 2*s - 1 + 1e6},
		{"at the step", step, t0 + 2*s, t0 + 2*s + 1e6 - 2e6},
		{"after the step", step, t0 + 5*s, t0 + 5*s - 1e6},
		{"before the slew", slew, t0 + s, t0 + s + 100e3},                 // 100 ppm of 1 s
		{"in the slew", slew, t0 + s + 50e6, t0 + s + 50e6 + 105e3 + 1e6}, // 20000 ppm of 50 ms
		{"after the slew", slew, t0 + 3*s, t0 + 3*s + 300e3 + 2e6},        // 20000 ppm of 100 ms
		{"before t0", slew, t0 - s, t0 - s - 100e3},
	} {
		if got := c.c.at(c.t); got != c.want {
			t.Errorf("%s: %d, want %d (diff %d ns)", c.name, got, c.want, got-c.want)
		}
	}
}
