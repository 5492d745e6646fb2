package testtool

import (
	"testing"

	"github.com/calipath/calipath/internal/gen"
)

// LossySet generates, into a temporary directory, the small IP-in-IP set with loss the window tests
// use (2% loss a hop, 30% of flows DNAT'd, 2,000 packets a second of true time), with its truth:
// seed, packets, flows and the share of packets with a duplicate frame as given.
func LossySet(tb testing.TB, seed uint64, packets, flows int, dup float64) *gen.Result {
	tb.Helper()
	cfg := gen.DefaultConfig()
	cfg.Seed = seed
	cfg.Packets, cfg.Flows, cfg.LossPerHop, cfg.DupRate, cfg.DNAT, cfg.Rate = packets, flows, 0.02, dup, 0.3, 2000
	cfg.Dir = tb.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}
