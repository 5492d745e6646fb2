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
// directory and router-1's eth2, renamed node-b-eth1.pcap (read as a router of its own, TestMisnamedRouterBGPDelivered),
// into another, made first when renamedFirst (its path then sorts first), and returns them all.
// Each file of the copies is passed to edit (its base name and bytes) before it is written.
func openOrderInputs(t *testing.T, renamedFirst bool, edit func(name string, b []byte) []byte) []string {
	t.Helper()
	src := "../testdata/lab/scenarios/router-three-ifaces-drop"
	var own, other string
	if renamedFirst {
		other, own = t.TempDir(), t.TempDir()
	} else {
		own, other = t.TempDir(), t.TempDir()
	}
	copies := map[string]string{"router-1-eth2.pcap": filepath.Join(other, "node-b-eth1.pcap"), "ext-1-eth0.pcap": filepath.Join(own, "ext-1-eth0.pcap")}
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
				in := openOrderInputs(t, renamedFirst, func(name string, b []byte) []byte {
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
				r := Correlate(decode.Load(in, decode.Options{}, decode.PointConfig{}), Options{})
				var errs, hedged []string
				for _, a := range r.Anomalies {
					where := a.Where.From + " → " + a.Where.To
					switch {
					case a.Severity == sevError:
						errs = append(errs, a.Kind+" at "+where)
					case a.Kind == "loss-order-unknown":
						hedged = append(hedged, where)
						for _, want := range []string{right, wrong, "--offset node-b-eth1=DURATION", "--offset ext-1=DURATION"} {
							if !strings.Contains(a.Message+a.Next, want) {
								t.Errorf("loss-order-unknown does not name %s: %s (next: %s)", want, a.Message, a.Next)
							}
						}
					}
				}
				said := 0 // segments between the two whose clock note says their order is not known
				for _, s := range r.Segments {
					if strings.Contains(s.ClockNote, "which of the two the packets crossed first") {
						said++
					}
				}
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
