package correlate

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// openOrderInputs copies router-three-ifaces-drop's node files and ext-1's eth0 into one temporary
// directory and router-1's eth2, as the file name eth2 (node-b-eth1.pcap: read as a router of its own,
// TestMisnamedRouterBGPDelivered), into another, made first when renamedFirst (its path then sorts
// first), and returns them all.
// Each file of the copies is passed to edit (its base name and bytes) before it is written.
func openOrderInputs(t *testing.T, eth2 string, renamedFirst bool, edit func(name string, b []byte) []byte) []string {
	t.Helper()
	src := "../testdata/lab/scenarios/router-three-ifaces-drop"
	var own, other string
	if renamedFirst {
		other, own = t.TempDir(), t.TempDir()
	} else {
		own, other = t.TempDir(), t.TempDir()
	}
	copies := map[string]string{"router-1-eth2.pcap": filepath.Join(other, eth2), "ext-1-eth0.pcap": filepath.Join(own, "ext-1-eth0.pcap")}
	for _, f := range []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-eth0.pcap", "node-b-cali2f5353dd8c5.pcap", "node-b-eth0.pcap"} {
		copies[f] = filepath.Join(own, f)
	}
	var in []string
	for from, to := range copies {
		b, err := os.ReadFile(filepath.Join(src, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, edit(filepath.Base(to), b), 0o644); err != nil {
			t.Fatal(err)
		}
		in = append(in, to)
	}
	return in
}

// router-three-ifaces-drop with router-1's eth2 given as a router of its own (node-b-eth1) and ext-1's
// eth0: both clocks are bounded on one side only, by node-a's, and taken at their limits, so the
// sightings at node-a/eth0 and at both took one corrected time, with equal TTLs: before, the hops
// kept the files' (sorted paths') order, and with ext-1's file first the drop inside router-1 was
// "ERROR underlay-drop at node-a/eth0 → ext-1/eth0", past the router's file that did not see the
// packets either. The pings both ways between the two order them whatever the clocks: the drop is at
// node-a/eth0 → node-b-eth1/eth1 in either file order, and with the two clocks moved apart (ext-1's
// 3 ms ahead, router-1's 2 ms behind: their limits move with them). Without the echo replies (no
// packet crosses them the other way) nothing orders them: no error, the loss is a loss-order-unknown
// warning naming both candidate segments and --offset for both nodes, and the segment between the two
// says in its clock note that their order is not known either.
func TestOpenOrder(t *testing.T) {
	const right, wrong = "node-a/eth0 → node-b-eth1/eth1", "node-a/eth0 → ext-1/eth0"
	ext := [4]byte{203, 0, 113, 10}
	for _, tc := range []struct {
		name    string
		shift   bool
		replies bool
	}{
		{"as-captured", false, true},
		{"clocks-apart", true, true},
		{"no-replies", false, false},
	} {
		for _, renamedFirst := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/renamed-first-%v", tc.name, renamedFirst), func(t *testing.T) {
				dropped := 0
				in := openOrderInputs(t, "node-b-eth1.pcap", renamedFirst, func(name string, b []byte) []byte {
					if tc.shift && name == "ext-1-eth0.pcap" {
						shiftCapture(t, b, 3*time.Millisecond)
					}
					if tc.shift && name == "node-b-eth1.pcap" {
						shiftCapture(t, b, -2*time.Millisecond)
					}
					if !tc.replies {
						var n int
						b, n = withoutFrames(t, b, func(f []byte) bool { // ICMP echo replies from ext-1
							return len(f) >= 35 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 1 &&
								[4]byte(f[26:30]) == ext && f[14+int(f[14]&0xf)*4] == 0
						})
						dropped += n
					}
					return b
				})
				if !tc.replies && dropped == 0 {
					t.Fatal("no echo reply to leave out")
				}
				errs, hedged, said := openOrderVerdict(t, in, right, wrong, "node-b-eth1")
				if want := map[bool]int{true: 0, false: 1}[tc.replies]; said != want {
					t.Errorf("%d segments say the order is not known, want %d", said, want)
				}
				if tc.replies {
					if len(errs) != 1 || errs[0] != "underlay-drop at "+right || len(hedged) > 0 {
						t.Errorf("errors %q, loss-order-unknown at %q: want underlay-drop at %s alone", errs, hedged, right)
					}
					return
				}
				if len(errs) > 0 || len(hedged) != 1 || hedged[0] != right && hedged[0] != wrong {
					t.Errorf("errors %q, loss-order-unknown at %q: want none, and one at %s or %s", errs, hedged, right, wrong)
				}
			})
		}
	}
}

// openOrderVerdict correlates in and returns its errors ("kind at from → to"), the segments of its
// loss-order-unknown warnings (each checked to name right and wrong, the two candidates, and --offset
// for ext-1 and router, the other node) and how many segments say in their clock note that their
// order is not known.
func openOrderVerdict(t *testing.T, in []string, right, wrong, router string) (errs, hedged []string, said int) {
	t.Helper()
	r := Correlate(decode.Load(in, decode.Options{}, decode.PointConfig{}), Options{})
	for _, a := range r.Anomalies {
		where := a.Where.From + " → " + a.Where.To
		switch {
		case a.Severity == sevError:
			errs = append(errs, a.Kind+" at "+where)
		case a.Kind == "loss-order-unknown":
			hedged = append(hedged, where)
			for _, want := range []string{right, wrong, "--offset " + router + "=DURATION", "--offset ext-1=DURATION"} {
				if !strings.Contains(a.Message+a.Next, want) {
					t.Errorf("loss-order-unknown does not name %s: %s (next: %s)", want, a.Message, a.Next)
				}
			}
		}
	}
	for _, s := range r.Segments {
		if strings.Contains(s.ClockNote, "which of the two the packets crossed first") {
			said++
		}
	}
	return errs, hedged, said
}

// withoutFrames returns the classic little-endian pcap file b without the frames drop says, and how
// many it left out.
func withoutFrames(t *testing.T, b []byte, drop func(frame []byte) bool) ([]byte, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	n := dropFrames(t, path, drop)
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return out, n
}

// echoOf returns an IPv4 Ethernet frame's ICMP echo type (8 request, 0 reply) and identifier, ok
// false for any other frame.
func echoOf(f []byte) (typ uint8, id uint16, ok bool) {
	if len(f) < 34 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[23] != 1 {
		return 0, 0, false
	}
	icmp := 14 + int(f[14]&0xf)*4
	if len(f) < icmp+8 || f[icmp] != 0 && f[icmp] != 8 {
		return 0, 0, false
	}
	return f[icmp], binary.BigEndian.Uint16(f[icmp+4:]), true
}

// editRecords passes each record of the little-endian nanosecond classic pcap file b to edit, its
// time (ns) to change and its frame to change in place.
func editRecords(t *testing.T, b []byte, edit func(ts *int64, f []byte)) {
	t.Helper()
	le := binary.LittleEndian
	if le.Uint32(b) != 0xa1b23c4d {
		t.Fatal("not a little-endian nanosecond classic pcap")
	}
	for off := 24; off+16 <= len(b); {
		end := off + 16 + int(le.Uint32(b[off+8:]))
		ts := int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))
		edit(&ts, b[off+16:end])
		le.PutUint32(b[off:], uint32(ts/1e9))
		le.PutUint32(b[off+4:], uint32(ts%1e9))
		off = end
	}
}

// setTTL sets an IPv4 Ethernet frame's TTL and its header checksum.
func setTTL(f []byte, ttl uint8) {
	h := f[14 : 14+int(f[14]&0xf)*4]
	h[8] = ttl
	h[10], h[11] = 0, 0
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
}

// The order TestOpenOrder finds by the pings both ways is one of raw capture times, and it holds only
// where each packet compared with one back is not moved by a clock step between the two, and where
// the packets back crossed the two points the other way. router-three-ifaces-drop's router-1/eth2
// (named so: router-1 and ext-1 are each bounded from node-a only) and ext-1/eth0, whose pings (ids
// 24363 at 997.6 s and 24458 at 1004.3 s) are cut and edited:
//
//   - step-apart: only the first ping's requests and the second's replies are kept (every file), and
//     ext-1's clock steps by +20 ms between them (at 1000 s): each request is compared with a reply
//     6.7 s on, across the step, which flips the sign (without the step neither clears the margin
//     for drift over 6.7 s). Before, that was a confident wrong order, "underlay-drop at
//     node-a/eth0 → ext-1/eth0"; now a verdict needs two comparisons that no one moment lies between
//     (one step can flip only those it lies between), and the loss is loss-order-unknown.
//   - step-between-pings: the same step with every ping kept: each request is compared with its own
//     reply, microseconds apart, no step between, and the order holds (the right drop).
//   - asymmetric-replies: router-1's eth2 sees ext-1's replies with TTL 65, one more than ext-1 does,
//     and ext-1 200 µs later (they crossed eth2, then a router, then ext-1: another way back): the
//     difference is then no longer two transit times, and before it gave the wrong order; the
//     replies' TTLs now say they did not cross the link between the two (not the same at both), so
//     they are not compared, and with no other packets back the loss is loss-order-unknown.
func TestOpenOrderLimits(t *testing.T) {
	const right, wrong = "node-a/eth0 → router-1/eth2", "node-a/eth0 → ext-1/eth0"
	const first, second = 24363, 24458
	stepAt, step := int64(1796435000*time.Second), int64(20*time.Millisecond)
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, name string, b []byte) []byte
		hedge bool
	}{
		{"step-apart", func(t *testing.T, name string, b []byte) []byte {
			b, _ = withoutFrames(t, b, func(f []byte) bool {
				typ, id, ok := echoOf(f)
				return ok && (typ == 0 && id == first || typ == 8 && id == second)
			})
			if name == "ext-1-eth0.pcap" {
				shiftCaptureBy(t, b, func(ts int64) int64 { return ts + map[bool]int64{true: step}[ts >= stepAt] })
			}
			return b
		}, true},
		{"step-between-pings", func(t *testing.T, name string, b []byte) []byte {
			if name == "ext-1-eth0.pcap" {
				shiftCaptureBy(t, b, func(ts int64) int64 { return ts + map[bool]int64{true: step}[ts >= stepAt] })
			}
			return b
		}, false},
		{"asymmetric-replies", func(t *testing.T, name string, b []byte) []byte {
			editRecords(t, b, func(ts *int64, f []byte) {
				if typ, _, ok := echoOf(f); ok && typ == 0 {
					switch name {
					case "router-1-eth2.pcap":
						setTTL(f, 65)
					case "ext-1-eth0.pcap":
						*ts += int64(200 * time.Microsecond)
					}
				}
			})
			return b
		}, true},
	} {
		for _, renamedFirst := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/renamed-first-%v", tc.name, renamedFirst), func(t *testing.T) {
				in := openOrderInputs(t, "router-1-eth2.pcap", renamedFirst, func(name string, b []byte) []byte { return tc.edit(t, name, b) })
				errs, hedged, said := openOrderVerdict(t, in, right, wrong, "router-1")
				if !tc.hedge {
					if len(errs) != 1 || errs[0] != "underlay-drop at "+right || len(hedged) > 0 || said != 0 {
						t.Errorf("errors %q, loss-order-unknown at %q, %d segments unordered: want underlay-drop at %s alone", errs, hedged, said, right)
					}
					return
				}
				if len(errs) > 0 || len(hedged) != 1 || hedged[0] != right && hedged[0] != wrong || said == 0 {
					t.Errorf("errors %q, loss-order-unknown at %q, %d segments unordered: want no error, one at %s or %s, a segment unordered",
						errs, hedged, said, right, wrong)
				}
			})
		}
	}
}
