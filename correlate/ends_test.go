package correlate

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// Captures of one node only: a packet last seen at the sender's eth0, with no capture of the node it
// was encapsulated to, left the captures (neither delivered nor lost), and one first seen at the
// receiving node's eth0 was not captured upstream; a path-incomplete warning says where and what to
// capture. With both nodes captured, neither appears.
func TestCapturesStopShort(t *testing.T) {
	type want struct {
		delivered, left int    // packets delivered, packets that left the captures
		leftAt, enterAt string // path-incomplete points ("" none)
	}
	for _, tc := range []struct {
		name, glob string
		want       want
	}{
		{"sender only", "node-a-*.pcap", want{14, 15, "node-a/eth0", "node-a/eth0"}},
		{"receiver only", "node-b-*.pcap", want{15, 12, "node-b/eth0", "node-b/eth0"}},
		{"both nodes", "node-*.pcap", want{27, 0, "", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Correlate(labLoad(t, "healthy-ipip", tc.glob, true), Options{Journeys: true})
			checkSums(t, tc.name, r)
			for _, j := range r.Journeys {
				if len(j.Hops) == 0 || j.Flow == "" {
					continue
				}
				last := j.Hops[len(j.Hops)-1].Point
				switch j.Status {
				case statusDelivered:
					if !strings.Contains(last, "/cali") {
						t.Errorf("journey %d delivered at %s, not at a pod's veth", j.ID, last)
					}
				case "left-captures":
					if j.LastSeen == "" || j.NextExpected != "" {
						t.Errorf("journey %d left the captures: last seen %q, next %q, last hop %s", j.ID, j.LastSeen,
							j.NextExpected, last)
					}
				}
			}
			s := r.Summary
			if s.Delivered != tc.want.delivered || s.NotCaptured != tc.want.left || s.Lost != 0 ||
				s.Delivered+s.NotCaptured != s.Journeys {
				t.Errorf("summary %+v, want %d delivered and %d not captured (left the captures)", s,
					tc.want.delivered, tc.want.left)
			}
			var leftAt, enterAt string
			for _, an := range r.Anomalies {
				if an.Kind != "path-incomplete" {
					continue
				}
				if an.Severity != "warning" || len(an.Flows) != 3 || len(an.Evidence) == 0 || an.Next == "" {
					t.Errorf("path-incomplete: %+v", an)
				}
				switch {
				case strings.Contains(an.Message, "last seen at"):
					leftAt = an.Where.Point
					if an.Count != s.NotCaptured || !strings.Contains(an.Message, "encapsulated to ") ||
						!strings.Contains(an.Next, "Capture on the receiving node") {
						t.Errorf("path-incomplete (left) counts %d of %d: %+v", an.Count, s.NotCaptured, an)
					}
				case strings.Contains(an.Message, "first seen at"):
					enterAt = an.Where.Point
					if !strings.Contains(an.Next, "Capture on the sending node") {
						t.Errorf("path-incomplete (entered): %+v", an)
					}
				}
			}
			if leftAt != tc.want.leftAt || enterAt != tc.want.enterAt {
				t.Errorf("path-incomplete at %q (left) and %q (entered), want %q and %q; anomalies %v", leftAt, enterAt,
					tc.want.leftAt, tc.want.enterAt, kinds(r))
			}
		})
	}
}

// The -i any capture of the sending node alone covers that node only: what it sent to the other node
// left the captures there, and is not "delivered".
func TestCapturesStopShortAny(t *testing.T) {
	r := Correlate(decode.Load([]string{"../testdata/lab/scenarios/healthy-ipip/node-a-any.pcap"}, decode.Options{},
		decode.PointConfig{}), Options{})
	checkSums(t, "node-a-any", r)
	for _, f := range r.Flows {
		if f.NotCaptured == 0 || f.Delivered+f.Lost+f.NotCaptured != f.Packets {
			t.Errorf("flow %s: %d packets, %d delivered, %d lost, %d not captured", f.ID, f.Packets, f.Delivered, f.Lost,
				f.NotCaptured)
		}
	}
	if kinds(r)["path-incomplete"] != 2 {
		t.Errorf("anomalies %v, want two path-incomplete", kinds(r))
	}
}
