package correlate

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// ndRecords splits a little-endian classic pcap file into its header and its records (each with its
// 16-byte record header).
func ndRecords(t *testing.T, b []byte) (head []byte, recs [][]byte) {
	t.Helper()
	head = b[:24]
	for off := 24; off < len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		recs = append(recs, append([]byte(nil), b[off:off+16+n]...))
		off += 16 + n
	}
	return head, recs
}

// icmp6Sum sets the ICMPv6 checksum of an Ethernet/IPv6/ICMPv6 frame after a change.
func icmp6Sum(f []byte) {
	ip := f[14:]
	plen := int(binary.BigEndian.Uint16(ip[4:6]))
	m := ip[40 : 40+plen]
	m[2], m[3] = 0, 0
	var s uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
	}
	add(ip[8:40])
	s += uint32(plen) + 58
	add(m)
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	binary.BigEndian.PutUint16(m[2:], ^uint16(s))
}

// ndCali correlates healthy-vxlan6's capture of pod-a's veth (frame 2: pod-a's solicitation for its
// gateway to the solicited-node multicast address, frame 3: node-a's advertisement of
// fe80::ecee:eeff:feee:eeee at ee:ee:ee:ee:ee:ee, frame 4 on: pod-a's pings to pod-b) after change,
// which may edit the frames (their ICMPv6 checksums are set again) and returns the frames to keep.
func ndCali(t *testing.T, change func(recs [][]byte) [][]byte) *Result {
	t.Helper()
	paths := labFiles(t, "healthy-vxlan6", func(name string) bool { return name == "node-a-cali5e1c4d6c68c.pcap" })
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	head, recs := ndRecords(t, b)
	if change != nil {
		recs = change(recs)
	}
	out := append([]byte(nil), head...)
	for _, r := range recs {
		if f := r[16:]; len(f) > 54 && binary.BigEndian.Uint16(f[12:]) == 0x86dd && f[14+6] == 58 {
			icmp6Sum(f)
		}
		out = append(out, r...)
	}
	if err := os.WriteFile(paths[0], out, 0o644); err != nil {
		t.Fatal(err)
	}
	return Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
}

// ndAnomalies lists the nd-* anomalies of r as "kind severity point count".
func ndAnomalies(r *Result) []string {
	var out []string
	for _, a := range r.Anomalies {
		if strings.HasPrefix(a.Kind, "nd-") {
			out = append(out, a.Kind+" "+a.Severity+" "+a.Where.Point+" "+strconv.Itoa(a.Count))
		}
	}
	return out
}

const ndCaliPoint = "node-a/cali5e1c4d6c68c"

func ndPointOf(t *testing.T, r *Result) NDPoint {
	t.Helper()
	for _, p := range r.ND {
		if p.Point == ndCaliPoint {
			return p
		}
	}
	t.Fatalf("no ND at %s: %+v", ndCaliPoint, r.ND)
	return NDPoint{}
}

// ndNoOption drops the target link-layer address option (its last 8 bytes) and the override flag from
// record rec, an advertisement, as Linux sends one answering a unicast solicitation (ndisc_recv_ns:
// the option and O only for a multicast one).
func ndNoOption(t *testing.T, rec []byte) []byte {
	t.Helper()
	f := rec[16:]
	if m := f[14+40:]; m[0] != 136 || len(m) != 32 || m[24] != 2 || m[25] != 1 {
		t.Fatalf("not an advertisement with one target link-layer address option: %x", m)
	}
	rec = rec[:len(rec)-8]
	f = rec[16:]
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
	binary.BigEndian.PutUint16(f[14+4:], 24)
	f[14+40+4] &^= decode.NAOverride
	return rec
}

// The neighbour discovery rule, on healthy-vxlan6's capture of pod-a's veth changed one way at a time.
func TestNDRule(t *testing.T) {
	dropNA := func(recs [][]byte) [][]byte { return append(recs[:2:2], recs[3:]...) }
	cases := []struct {
		name   string
		change func(recs [][]byte) [][]byte
		want   []string // nd-* anomalies
		nd     NDPoint  // the counts at the veth (Point and LatencyNs not compared)
	}{
		// As captured: the solicitation answered at ee:ee:ee:ee:ee:ee.
		{"healthy", nil, nil, NDPoint{Solicitations: 1, Advertisements: 1, GatewayOK: 1, AdvertFlags: "RSO 1"}},
		// The advertisement without its target link-layer address option, as Linux answers a unicast
		// solicitation (R and S, no O): solicited, from ee:ee:ee:ee:ee:ee, so the gateway answered at
		// that MAC (before, such an advertisement was not counted as the gateway's answer).
		{"no-option", func(recs [][]byte) [][]byte {
			recs[2] = ndNoOption(t, recs[2])
			return recs
		}, nil, NDPoint{Solicitations: 1, Advertisements: 1, GatewayOK: 1, AdvertFlags: "RS 1"}},
		// The same sent from another MAC: the gateway advertised there.
		{"no-option-wrong-source", func(recs [][]byte) [][]byte {
			recs[2] = ndNoOption(t, recs[2])
			copy(recs[2][16+6:16+12], []byte{2, 0, 0, 0, 0, 1})
			return recs
		}, []string{"nd-unexpected-mac error " + ndCaliPoint + " 1"}, NDPoint{Solicitations: 1, Advertisements: 1, UnexpectedMAC: 1, AdvertFlags: "RS 1"}},
		// The advertisement not captured: the ping pod-a sent 11 µs later proves it answered (its
		// kernel held the ping until then), so it is no finding; capture-dropped says so.
		{"advertisement-missed", dropNA, nil, NDPoint{Solicitations: 1}},
		// The same with the solicitation sent unicast to the gateway (a probe of an entry the pod keeps
		// using): the ping proves nothing.
		{"unicast-unanswered", func(recs [][]byte) [][]byte {
			recs = dropNA(recs)
			f := recs[1][16:]
			copy(f[0:6], decode.CalicoMAC[:])
			copy(f[14+24:14+40], decode.CalicoGateway6[:])
			return recs
		}, []string{"nd-gateway-unanswered error " + ndCaliPoint + " 1"}, NDPoint{Solicitations: 1, Unanswered: 1}},
		// The gateway advertised at another MAC (its target link-layer address option).
		{"wrong-mac", func(recs [][]byte) [][]byte {
			f := recs[2][16:]
			opt := f[14+40+24:]
			if opt[0] != 2 || opt[1] != 1 {
				t.Fatalf("frame 3's option: %x", opt[:8])
			}
			copy(opt[2:8], []byte{2, 0, 0, 0, 0, 1})
			return recs
		}, []string{"nd-unexpected-mac error " + ndCaliPoint + " 1"}, NDPoint{Solicitations: 1, Advertisements: 1, UnexpectedMAC: 1, AdvertFlags: "RSO 1"}},
		// Duplicate address detection (from ::) expects no answer.
		{"dad", func(recs [][]byte) [][]byte {
			recs = dropNA(recs)
			clear(recs[1][16+14+8 : 16+14+24])
			return recs
		}, nil, NDPoint{DAD: 1}},
		// A solicitation for another address, unanswered: a warning, whatever the pod sent after it.
		{"other-target", func(recs [][]byte) [][]byte {
			recs = dropNA(recs)
			f := recs[1][16:]
			a := netip.MustParseAddr("fd00:244::99").As16()
			copy(f[14+40+8:14+40+24], a[:])
			return recs
		}, []string{"nd-unanswered warning " + ndCaliPoint + " 1"}, NDPoint{Solicitations: 1, Unanswered: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ndCali(t, c.change)
			if got := strings.Join(ndAnomalies(r), "; "); got != strings.Join(c.want, "; ") {
				t.Errorf("nd anomalies %q, want %q", got, strings.Join(c.want, "; "))
			}
			got := ndPointOf(t, r)
			got.Point, got.LatencyNs = "", Latency{}
			if got != c.nd {
				t.Errorf("ND %+v, want %+v", got, c.nd)
			}
			missed := false
			for _, a := range r.Anomalies {
				missed = missed || a.Kind == "capture-dropped" && a.Where.Point == ndCaliPoint &&
					strings.Contains(a.Message, "missed the advertisement answering 1 multicast neighbour solicitation")
			}
			if missed != (c.name == "advertisement-missed") {
				t.Errorf("capture-dropped saying the advertisement was missed: %v", missed)
			}
		})
	}
}

// ndLabFlags checks the ND table of scenario sc's per-interface captures: its advertisements' flags as
// the kernels sent them (the host answers its pod's multicast solicitation with R, S, O; a pod
// answers its host's with S, O: no router; a unicast probe is answered without O), and the gateway's
// counted at pod-a's veth.
func ndLabFlags(t *testing.T, sc string, r *Result) {
	t.Helper()
	want := map[string]NDPoint{ndCaliPoint: {AdvertFlags: "RSO 1", GatewayOK: 1}, "node-b/cali2f5353dd8c5": {AdvertFlags: "SO 1"}}
	switch sc {
	case "ndp-gateway-off6":
		want = map[string]NDPoint{ndCaliPoint: {}}
	case "vxlan6-underlay-drop":
		// And pod-a's answer to node-a's unicast probe of pod-a: solicited, no O and no option.
		want[ndCaliPoint] = NDPoint{AdvertFlags: "RSO 1, S 1", GatewayOK: 1}
	}
	for _, p := range r.ND {
		if w, ok := want[p.Point]; ok && (p.AdvertFlags != w.AdvertFlags || p.GatewayOK != w.GatewayOK) {
			t.Errorf("%s: ND at %s: flags %q, gateway OK %d; want %q, %d", sc, p.Point, p.AdvertFlags, p.GatewayOK, w.AdvertFlags, w.GatewayOK)
		}
	}
}

// ndp-gateway-off6 (IPv6 off on pod-a's cali): pod-a's six solicitations for its gateway go
// unanswered, an error at its veth, with the veth's own capture (node-a's -i any capture is named after
// it by the solicitations both hold). From the -i any captures alone it is a warning: every frame of
// node-a's is incoming, as a capture of one direction only would hold them, so the advertisements might
// be missing from it (the message says both). healthy-vxlan6 and vxlan6-underlay-drop, whose
// solicitations are answered, have no nd-* finding at all (of any severity). The advertisements' flags
// are in the ND table (ndLabFlags).
func TestNDLab(t *testing.T) {
	all := func(string) bool { return true }
	for _, sc := range []string{"ndp-gateway-off6", "healthy-vxlan6", "vxlan6-underlay-drop"} {
		for _, shape := range []struct {
			name string
			keep func(string) bool
		}{
			{"all", all},
			{"per-interface", func(n string) bool { return !strings.Contains(n, "any") && filepath.Ext(n) == ".pcap" }},
			{"any-only", func(n string) bool { return strings.HasSuffix(n, "-any.pcap") }},
		} {
			r := Correlate(decode.Load(labFiles(t, sc, shape.keep), decode.Options{}, decode.PointConfig{}), Options{})
			got := strings.Join(ndAnomalies(r), "; ")
			want := ""
			if sc == "ndp-gateway-off6" {
				want = "nd-gateway-unanswered error " + ndCaliPoint + " 6"
				if shape.name == "any-only" {
					want = "nd-gateway-unanswered warning node-a/any#3 6"
				}
			}
			if got != want {
				t.Errorf("%s (%s): nd anomalies %q, want %q", sc, shape.name, got, want)
			}
			if shape.name == "per-interface" {
				ndLabFlags(t, sc, r)
			}
		}
	}
}
