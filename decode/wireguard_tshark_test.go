package decode

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// wgTsharkFields are tshark's WireGuard fields (receiver and sender indexes as it shows them, the
// little-endian value in hex) and the UDP length that gives the message length.
var wgTsharkFields = []string{"wg.type", "wg.receiver", "wg.sender", "wg.counter", "udp.length"}

// TestTsharkWireGuard holds the WireGuard decoding to tshark's on every eth0 capture of the lab's
// WireGuard scenarios (handshakes, transport data, keepalives, first fragments of large messages):
// the same frames are WireGuard, with the same type, indexes and counter, and the Observation keeps
// the counter. Skipped without tshark or without the scenarios.
func TestTsharkWireGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("tshark differential test skipped in -short mode")
	}
	files, err := filepath.Glob(filepath.Join("..", "testdata", "lab", "scenarios*", "*wireguard*", "*-eth0.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no WireGuard lab scenarios under testdata/lab")
	}
	want := testtool.TsharkFields(t, files, tsOptions, wgTsharkFields)
	total := 0
	for i, path := range files {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			total += wgCheckFile(t, want[i], path)
		})
	}
	if total == 0 {
		t.Error("no WireGuard message in the scenarios' eth0 captures")
	}
	t.Logf("%d WireGuard messages in %d captures agree with tshark", total, len(files))
}

// wgCheckFile compares one capture's WireGuard messages with tshark's and returns how many there were.
func wgCheckFile(t *testing.T, want map[uint32]testtool.TsharkFrame, path string) int {
	r, c, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer c.Close()
	tb := NewTables()
	dec := NewDecoder(Options{}, tb, 0)
	var (
		rec    Record
		p      Packet
		o      Observation
		n, bad int
	)
	num := func(f testtool.TsharkFrame, k string) string {
		if v := f[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	for {
		err := r.Next(&rec)
		var re *RecordError
		if errors.As(err, &re) {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		dec.Decode(&rec, &p, &o)
		ts := want[rec.Frame]
		var got, exp string
		if typ := num(ts, "wg.type"); typ != "" {
			ul, _ := strconv.Atoi(num(ts, "udp.length"))
			exp = fmt.Sprintf("type %s receiver %s sender %s counter %s length %d", typ, hexOrEmpty(num(ts, "wg.receiver")),
				hexOrEmpty(num(ts, "wg.sender")), num(ts, "wg.counter"), ul-8)
		}
		if p.HasWG {
			n++
			w := &p.WG
			var recv, send, ctr string
			switch w.Type {
			case WGInitiation:
				send = fmt.Sprintf("%#08x", w.Sender)
			case WGResponse:
				send, recv = fmt.Sprintf("%#08x", w.Sender), fmt.Sprintf("%#08x", w.Receiver)
			case WGCookie:
				recv = fmt.Sprintf("%#08x", w.Receiver)
			case WGTransport:
				recv, ctr = fmt.Sprintf("%#08x", w.Receiver), strconv.FormatUint(w.Counter, 10)
				if cx := tb.Ctx(o.Ctx); o.Flags&FlagFragment == 0 && cx.WGCounter(o.Seq) != w.Counter {
					t.Errorf("frame %d: the Observation's counter %d, the packet's %d", rec.Frame, cx.WGCounter(o.Seq), w.Counter)
				}
			}
			got = fmt.Sprintf("type %d receiver %s sender %s counter %s length %d", w.Type, recv, send, ctr, w.Len)
		}
		if got != exp {
			if bad++; bad <= 5 {
				t.Errorf("frame %d: decoded %q, tshark %q", rec.Frame, got, exp)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%d disagreements with tshark", bad)
	}
	return n
}

// hexOrEmpty normalises tshark's hex index to %#08x ("" stays "").
func hexOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return "unparsable " + s
	}
	return fmt.Sprintf("%#08x", v)
}
