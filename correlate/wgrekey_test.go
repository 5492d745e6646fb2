package correlate

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/internal/gen"
)

// Generated WireGuard captures whose sessions rekey every 1,000 messages: every packet is still
// followed (the join runs over a node pair's sessions together), and each direction's new sessions
// are one wireguard-rekey at its sender's eth0, counted, with each new session's first message.
func TestWireGuardRekey(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed = 5
	cfg.Mode = gen.ModeWireGuard
	cfg.Packets, cfg.Flows, cfg.Rate = 6000, 20, 1000
	cfg.LossPerHop = 0.005
	cfg.WGRekeyAfter = 1000
	g, res := runGen(t, cfg)
	if frac := checkTruth(t, g, res); frac != 1 {
		t.Errorf("only %.3f%% of journeys recovered exactly, want all", frac*100)
	}
	got := map[string]Anomaly{}
	for _, a := range res.Anomalies {
		if a.Kind == "wireguard-rekey" {
			got[a.Where.Point] = a
		}
	}
	if len(got) != 2 {
		t.Fatalf("wireguard-rekey at %d points, want node-1/eth0 and node-2/eth0: %v", len(got), res.Anomalies)
	}
	for _, p := range []string{"node-1/eth0", "node-2/eth0"} {
		a, ok := got[p]
		if !ok {
			t.Errorf("no wireguard-rekey at %s", p)
			continue
		}
		// About 3,000 messages each way: 2 new sessions (a third when more than 3,000).
		if a.Count < 2 || a.Count > 3 || a.Severity != "info" || len(a.Evidence) != a.Count ||
			strings.Count(a.Message, "0x") != a.Count+1 {
			t.Errorf("%s: %+v", p, a)
		}
	}
}
