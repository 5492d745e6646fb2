package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// shiftCapture adds d to the time of every record of a little-endian capture file, classic pcap
// (microsecond or nanosecond) or pcapng (each interface's if_tsresol), as testdata/lab/pcapshift does
// to simulate a node's skewed clock.
func shiftCapture(t *testing.T, b []byte, d time.Duration) {
	t.Helper()
	shiftCaptureBy(t, b, func(ts int64) int64 { return ts + int64(d) })
}

// shiftCaptureBy rewrites the time of every record of a little-endian capture file as f gives it
// (shiftCapture adds a constant; a clock step adds one from a moment on).
func shiftCaptureBy(t *testing.T, b []byte, f func(ts int64) int64) {
	t.Helper()
	le := binary.LittleEndian
	switch le.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		unit := int64(time.Microsecond)
		if le.Uint32(b) == 0xa1b23c4d {
			unit = 1
		}
		for off := 24; off+16 <= len(b); off += 16 + int(le.Uint32(b[off+8:])) {
			ts := f(int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))*unit)
			le.PutUint32(b[off:], uint32(ts/1e9))
			le.PutUint32(b[off+4:], uint32(ts%1e9/unit))
		}
	case 0x0a0d0d0a:
		shiftNg(t, b, f)
	default:
		t.Fatalf("not a little-endian capture file")
	}
}

// shiftNg is shiftCapture for a pcapng file: interface description blocks give each interface's
// resolution, enhanced packet blocks the times.
func shiftNg(t *testing.T, b []byte, f func(ts int64) int64) {
	le := binary.LittleEndian
	var units []int64 // ns per tick, per interface of the current section
	for off := 0; off+12 <= len(b); {
		typ, n := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if n < 12 || off+n > len(b) {
			t.Fatalf("pcapng block at %d: length %d", off, n)
		}
		body := b[off+8 : off+n-4]
		switch typ {
		case 0x0a0d0d0a:
			if le.Uint32(body) != 0x1a2b3c4d {
				t.Fatalf("big-endian pcapng section")
			}
			units = nil
		case 1:
			units = append(units, ngUnit(body[8:]))
		case 6:
			u := units[le.Uint32(body)]
			ts := f(int64(uint64(le.Uint32(body[4:]))<<32|uint64(le.Uint32(body[8:]))) * u)
			ticks := uint64(ts / u)
			le.PutUint32(body[4:], uint32(ticks>>32))
			le.PutUint32(body[8:], uint32(ticks))
		}
		off += n
	}
}

// ngUnit reads an interface description block's options for if_tsresol: nanoseconds per tick.
func ngUnit(opts []byte) int64 {
	le := binary.LittleEndian
	for len(opts) >= 4 {
		code, n := le.Uint16(opts), int(le.Uint16(opts[2:]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		if code == 9 && n >= 1 && opts[4]&0x80 == 0 {
			u := int64(1e9)
			for i := 0; i < int(opts[4]) && u > 1; i++ {
				u /= 10
			}
			return u
		}
		opts = opts[4+(n+3)&^3:]
	}
	return int64(time.Microsecond)
}

// labShifted copies a lab scenario's .pcap files (those keep accepts by name; all when nil) into a
// temporary directory, the times of those whose name starts with node shifted by d, and loads them with
// cfg.
func labShifted(t *testing.T, scenario string, keep func(name string) bool, node string, d time.Duration,
	cfg decode.PointConfig) *decode.Capture {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", scenario, "*.pcap"))
	dir := t.TempDir()
	var paths []string
	for _, p := range all {
		if keep != nil && !keep(filepath.Base(p)) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(filepath.Base(p), node+"-") && d != 0 {
			shiftCapture(t, b, d)
		}
		out := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, out)
	}
	if len(paths) == 0 {
		t.Fatalf("no lab captures in %s", scenario)
	}
	return decode.Load(paths, decode.Options{}, cfg)
}

// natTruth is what the NAT tests read of a scenario's truth.json.
type natTruth struct {
	Flows []struct {
		Sent      int `json:"sent"`
		Delivered int `json:"delivered"`
	} `json:"flows"`
}

func readTruth(t *testing.T, scenario string) natTruth {
	t.Helper()
	var tr natTruth
	truthInto(t, scenario, &tr)
	return tr
}

// snat-external (BGP, pod-a SNATed to node-a's address on its way to ext-1, no encapsulation): no
// capture names a node's address, so no clock can be estimated. Node-a's clock 100 µs or 1 ms off must
// then not give a confident drop: every error of the drop kinds across a node whose clock could not be
// estimated is an uncertain warning, and the clocks say they could not be estimated (before:
// "no packets cross to or from this node", and at +100 µs "ERROR host-drop"). Also with node-a
// captured by -i any only (before: ERROR underlay-drop at node-a/any#3 → router-1/eth0).
func TestSNATUnknownClocksUncertain(t *testing.T) {
	anyOnly := func(name string) bool { return !strings.HasPrefix(name, "node-") || name == "node-a-any.pcap" }
	for _, c := range []struct {
		name string
		keep func(string) bool
		d    time.Duration
	}{{"0s", nil, 0}, {"100µs", nil, 100 * time.Microsecond}, {"1ms", nil, time.Millisecond},
		{"-1ms", nil, -time.Millisecond}, {"any-only 100µs", anyOnly, 100 * time.Microsecond}} {
		t.Run(c.name, func(t *testing.T) {
			r := Correlate(labShifted(t, "snat-external", c.keep, "node-a", c.d, decode.PointConfig{}), Options{})
			for _, an := range r.Anomalies {
				if an.Severity == sevError {
					t.Errorf("%s %s at %v: %s", an.Severity, an.Kind, an.Where, an.Message)
				}
			}
			if ck := clockOf(r, "node-a"); !strings.Contains(ck.Method, "could not be estimated") {
				t.Errorf("node-a clock %+v: want could not be estimated", ck)
			}
			if c.d == 0 && c.keep == nil { // the clocks, uncorrected, are right: the truth's counts
				delivered := 0
				for _, f := range readTruth(t, "snat-external").Flows {
					delivered += f.Delivered
				}
				if s := r.Summary; s.Journeys != delivered || s.Delivered != delivered {
					t.Errorf("summary %+v: want the truth's %d delivered", s, delivered)
				}
			}
		})
	}
}
