package report

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// TestFlowNATKindClient: the flows table names a flow's NAT by the mapping of the client's packets.
// clusterip-two-nodes' connections to the Service 10.96.0.10 are all DNATed on node-a, to pod-b on
// node-b or to pod-c on node-a; those to pod-c are un-NATed on their way back between pod-c's cali
// (cali3754…) and pod-a's (cali5e1…), a place named before the DNAT's, so their first mapping is the
// answers' SNAT: the table said "(snat)" for them and "(dnat)" for those to pod-b. Every shape.
func TestFlowNATKindClient(t *testing.T) {
	dir := filepath.Join(labDir, "clusterip-two-nodes")
	for _, glob := range []string{"*.pcap", "*-any.pcap", "*.pcapng"} {
		files, _ := filepath.Glob(filepath.Join(dir, glob))
		if len(files) == 0 {
			t.Fatalf("no %s in %s", glob, dir)
		}
		res := correlate.Correlate(decode.Load(files, decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{}),
			correlate.Options{})
		n := 0
		for _, line := range strings.Split(string(render(t, res, Text)), "\n") {
			if !strings.Contains(line, "→ 10.96.0.10:") {
				continue
			}
			n++
			if !strings.Contains(line, "(dnat)") {
				t.Errorf("%s: %s: want (dnat)", glob, strings.TrimSpace(line))
			}
		}
		if n != 8 {
			t.Errorf("%s: %d flows to the Service in the flows table, want 8", glob, n)
		}
	}
}
