package decode

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/gopacket/layers"
)

// TestCloseHandsOnBuffers checks that closing an opened input hands its read buffers on to the next
// input opened (files are opened twice, and a fresh 1 MiB buffer faults in 256 pages), that the next
// input still reads its own records, plain or gzip-compressed, and that the closed Reader fails
// rather than reading from a buffer it gave away.
func TestCloseHandsOnBuffers(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"a.pcap":    pcapgoWritten(t, false, layers.LinkTypeEthernet, 300),
		"b.pcap":    pcapgoWritten(t, true, layers.LinkTypeEthernet, 200),
		"c.pcap.gz": rdGzip(pcapgoWritten(t, false, layers.LinkTypeEthernet, 100)),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wants := map[string][]rdRec{}
	for name, data := range files {
		wants[name], _ = rdReadAll(t, data)
	}
	read := func(name string) {
		t.Helper()
		r, c, err := Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want := wants[name]
		var rec Record
		n := 0
		for {
			err := r.Next(&rec)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: Next: %v", name, err)
			}
			if n >= len(want) || !bytes.Equal(rec.Data, want[n].Data) || rec.Ts != want[n].Ts {
				t.Fatalf("%s: record %d differs from the one read apart", name, n)
			}
			n++
		}
		if n != len(want) {
			t.Fatalf("%s: %d records, want %d", name, n, len(want))
		}
		off := r.Offset()
		if err := c.Close(); err != nil {
			t.Fatalf("%s: Close: %v", name, err)
		}
		c.Close() // the file says it is closed already; the buffers are not handed on twice
		if err := r.Next(&rec); err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%s: Next after Close: %v, want an error", name, err)
		}
		if r.Offset() != off {
			t.Errorf("%s: Offset after Close %d, before %d", name, r.Offset(), off)
		}
	}
	for _, name := range []string{"a.pcap", "b.pcap", "c.pcap.gz"} {
		read(name) // the first may take fresh buffers
	}
	// Two inputs open at once never share a buffer (a Close that handed its buffers on twice would
	// give both the same): read them interleaved.
	ra, ca, errA := Open(filepath.Join(dir, "a.pcap"))
	rb, cb, errB := Open(filepath.Join(dir, "b.pcap"))
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	for i := range len(wants["b.pcap"]) {
		var a, b Record
		if ea, eb := ra.Next(&a), rb.Next(&b); ea != nil || eb != nil {
			t.Fatalf("record %d: %v, %v", i, ea, eb)
		}
		if !bytes.Equal(a.Data, wants["a.pcap"][i].Data) || !bytes.Equal(b.Data, wants["b.pcap"][i].Data) {
			t.Fatalf("record %d of two inputs read side by side differs from the one read apart", i)
		}
	}
	ca.Close()
	cb.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const rounds = 8
	for range rounds {
		for _, name := range []string{"a.pcap", "b.pcap", "c.pcap.gz"} {
			read(name)
		}
	}
	runtime.ReadMemStats(&after)
	// Without the hand-on, each round takes four fresh buffers (one each, two for the gzip file).
	if got := after.TotalAlloc - before.TotalAlloc; got > readBufSize {
		t.Errorf("%d rounds of opening and reading three files allocated %d bytes, want under one buffer's %d", rounds, got, readBufSize)
	}
}
