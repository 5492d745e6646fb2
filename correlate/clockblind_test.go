package correlate

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// Node-a's address given, but not the one its pods are masqueraded to (a node with two interfaces):
// the packets crossing the nodes come from no address calipath can put down to a node, so no clock
// can be estimated. The clocks say so (not "no packets cross"), and with node-a's clock 100 µs off the
// drop its NAT join shows (packets matched out of order) is a warning that says it is uncertain and
// how to settle it, not an ERROR.
func TestClockBlindUncertain(t *testing.T) {
	cfg := decode.PointConfig{NodeIPs: map[string][]netip.Addr{"node-a": {netip.MustParseAddr("192.168.30.2")}}}
	r := Correlate(labShifted(t, "snat-external", nil, "node-a", 100*time.Microsecond, cfg), Options{})
	for _, node := range []string{"node-a", "router-1", "ext-1"} {
		if c := clockOf(r, node); !strings.Contains(c.Method, "could not be estimated") || strings.Contains(c.Method, "no packets cross") {
			t.Errorf("%s clock %+v: want could not be estimated", node, c)
		}
	}
	if c := clockOf(r, "node-b"); c.Method != methodUncrossed {
		t.Errorf("node-b (no frame) clock %+v", c)
	}
	uncertain := 0
	for _, an := range r.Anomalies {
		if an.Severity == sevError {
			t.Errorf("ERROR %s at %v: %s", an.Kind, an.Where, an.Message)
		}
		if blindKinds[an.Kind] {
			uncertain++
			if !strings.HasPrefix(an.Message, "Uncertain: the clock of node-a could not be estimated") ||
				!strings.Contains(an.Next, "--node-ip") || !strings.Contains(an.Next, "--offset node-a=") {
				t.Errorf("%s %s at %v: %s (next: %s)", an.Severity, an.Kind, an.Where, an.Message, an.Next)
			}
		}
	}
	if uncertain == 0 {
		t.Errorf("no drop said to be uncertain: %v", kinds(r))
	}
}
