package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// router-three-ifaces-any: router-1, captured with -i any, has three interfaces; ext-1 (203.0.113.10)
// hangs off the third, directly attached, so its packets come in there with TTL 64. A host's own
// address is one it sends from (outgoing frames), not one that comes in with an undecremented TTL:
// before, router-1's any#2 and any#4 were its underlay because "router-1's own IP 203.0.113.10 sends
// or receives here" (ext-1's address) and any#3 stayed unknown. Now each interface is named for the
// router's own address on it (192.168.10.1, 192.168.20.1, 203.0.113.1), and no node takes ext-1's.
func TestAnyOwnAddressIsSent(t *testing.T) {
	files, _ := filepath.Glob("../testdata/lab/scenarios/router-three-ifaces-any/*-any.pcap")
	if len(files) < 3 {
		t.Fatalf("captures: %v", files)
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	want := map[string]string{"router-1/any#2": "192.168.10.1", "router-1/any#3": "192.168.20.1", "router-1/any#4": "203.0.113.1"}
	for _, p := range r.Points {
		if strings.Contains(p.Reason, "203.0.113.10") {
			t.Errorf("%s: %s", p.ID, p.Reason)
		}
		if p.Role != "unknown" && strings.Contains(p.Reason, "role unknown") {
			t.Errorf("%s: role %s, yet the reason says %q", p.ID, p.Role, p.Reason)
		}
		if a, ok := want[p.ID]; ok && (p.Role != "underlay" || !strings.Contains(p.Reason, "own IP "+a+" sends")) {
			t.Errorf("%s: role %s, %s; want underlay for %s", p.ID, p.Role, p.Reason, a)
		}
	}
	for _, n := range r.NodeIPs {
		if n.IP == "203.0.113.10" || n.Node == "router-1" {
			t.Errorf("node IP %+v", n)
		}
	}
}

func TestDropUnknownReason(t *testing.T) {
	for in, want := range map[string]string{
		"file name; ifindex 2; role unknown: no Calico signature in the traffic": "file name; ifindex 2",
		"file name; role unknown: x; role inferred: y":                           "file name; role inferred: y",
		"file name; role inferred: y":                                            "file name; role inferred: y",
	} {
		if got := dropUnknownReason(in); got != want {
			t.Errorf("dropUnknownReason(%q) = %q, want %q", in, got, want)
		}
	}
}
