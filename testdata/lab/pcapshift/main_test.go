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
	if nanos, err := isNano(name); err != nil || !nanos {
		t.Fatalf("isNano = %v, %v; want true", nanos, err)
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
