package correlate

import (
	"encoding/binary"
	"encoding/json"
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
	le := binary.LittleEndian
	switch le.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		unit := int64(time.Microsecond)
		if le.Uint32(b) == 0xa1b23c4d {
			unit = 1
		}
		for off := 24; off+16 <= len(b); off += 16 + int(le.Uint32(b[off+8:])) {
			ts := int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))*unit + int64(d)
			le.PutUint32(b[off:], uint32(ts/1e9))
			le.PutUint32(b[off+4:], uint32(ts%1e9/unit))
		}
	case 0x0a0d0d0a:
		shiftNg(t, b, d)
	default:
		t.Fatalf("not a little-endian capture file")
	}
}

// shiftNg is shiftCapture for a pcapng file: interface description blocks give each interface's
// resolution, enhanced packet blocks the times.
func shiftNg(t *testing.T, b []byte, d time.Duration) {
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
			ts := int64(uint64(le.Uint32(body[4:]))<<32|uint64(le.Uint32(body[8:])))*u + int64(d)
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
	Nodes []struct {
		Name string `json:"name"`
		IP   string `json:"ip"`
	} `json:"nodes"`
	Flows []struct {
		Sent      int `json:"sent"`
		Delivered int `json:"delivered"`
	} `json:"flows"`
}

func readTruth(t *testing.T, scenario string) natTruth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/lab/scenarios", scenario, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr natTruth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// snat-external (BGP, pod-a SNATed to node-a's address on its way to ext-1, no encapsulation): no
// capture names node-a's address, yet its pods' packets leave with it. calipath learns it from the
// source NAT, so the clocks are estimated from the packets crossing node-a, router-1 and ext-1, and
// node-a's clock 100 µs or 1 ms off changes nothing: every packet delivered, no error (before: node IPs
// unknown, every clock "no packets cross to or from this node", and at +100 µs "ERROR host-drop" and
// 36 packets as sent instead of 24).
func TestSNATNodeIPClocks(t *testing.T) {
	tr := readTruth(t, "snat-external")
	delivered := 0
	for _, f := range tr.Flows {
		delivered += f.Delivered
	}
	var nodeA string
	for _, n := range tr.Nodes {
		if n.Name == "node-a" {
			nodeA = n.IP
		}
	}
	for _, d := range []time.Duration{0, 100 * time.Microsecond, time.Millisecond, -time.Millisecond} {
		t.Run(d.String(), func(t *testing.T) {
			r := Correlate(labShifted(t, "snat-external", nil, "node-a", d, decode.PointConfig{}), Options{})
			found := false
			for _, ip := range r.NodeIPs {
				found = found || ip.Node == "node-a" && ip.IP == nodeA && strings.Contains(ip.Reason, "source NAT")
			}
			if !found {
				t.Errorf("node IPs %+v: want node-a %s from its source NAT", r.NodeIPs, nodeA)
			}
			if s := r.Summary; s.Journeys != delivered || s.Delivered != delivered || s.Lost != 0 || s.NotCaptured != 0 {
				t.Errorf("summary %+v: want the truth's %d delivered", s, delivered)
			}
			for _, an := range r.Anomalies {
				if an.Severity == sevError || an.Kind == "clock-inconsistent" {
					t.Errorf("%s %s at %v: %s", an.Severity, an.Kind, an.Where, an.Message)
				}
			}
			for _, node := range []string{"router-1", "ext-1"} {
				if c := clockOf(r, node); c.Samples == 0 || strings.Contains(c.Method, "not corrected") {
					t.Errorf("%s clock %+v: want an estimate", node, c)
				}
			}
		})
	}
}

// The same with node-a captured by -i any only, without --links: its uplink is an interface without a
// name or a Calico signature (any#2). It is node-a's way out all the same: the source NAT there gives
// node-a's address, and the clocks are estimated from it (before: ERROR underlay-drop at node-a/any#3
// → router-1/eth0, every clock "no packets cross").
func TestSNATNodeIPAnyOnly(t *testing.T) {
	tr := readTruth(t, "snat-external")
	var nodeA string
	for _, n := range tr.Nodes {
		if n.Name == "node-a" {
			nodeA = n.IP
		}
	}
	keep := func(name string) bool { return !strings.HasPrefix(name, "node-") || name == "node-a-any.pcap" }
	r := Correlate(labShifted(t, "snat-external", keep, "node-a", 100*time.Microsecond, decode.PointConfig{}), Options{})
	found := false
	for _, ip := range r.NodeIPs {
		found = found || ip.Node == "node-a" && ip.IP == nodeA && strings.Contains(ip.Reason, "any#2")
	}
	if !found {
		t.Errorf("node IPs %+v: want node-a %s from its source NAT at node-a/any#2", r.NodeIPs, nodeA)
	}
	for _, an := range r.Anomalies {
		if an.Severity == sevError {
			t.Errorf("%s %s at %v: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
	}
	if c := clockOf(r, "router-1"); c.Samples == 0 || strings.Contains(c.Method, "not corrected") {
		t.Errorf("router-1 clock %+v: want an estimate", c)
	}
}
