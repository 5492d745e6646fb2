package correlate

import (
	"context"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// BenchmarkWireGuardJoin runs the WireGuard passes over generated WireGuard captures (four nodes,
// 50,000 packets, one router, 0.1% loss), decoded and matched once per iteration with the timer
// stopped: learning the node IPs from the messages, then joining each message to the packet it
// carried.
func BenchmarkWireGuardJoin(b *testing.B) {
	cfg := gen.DefaultConfig()
	cfg.Mode = gen.ModeWireGuard
	cfg.Nodes, cfg.Routers = 4, 1
	cfg.Packets, cfg.Flows, cfg.Rate = 50000, 200, 20000
	cfg.LossPerHop = 0.001
	cfg.Dir = b.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
	opts := Options{}
	frames := 0
	for _, obs := range c.Obs {
		frames += len(obs)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		w := worldOf(c)
		clocks, _ := w.clocksFor(opts)
		m, err := matchJourneys(context.Background(), c, w, clocks, opts)
		if err != nil {
			b.Fatal(err)
		}
		// Forget what the messages taught the world, to learn it again below.
		for _, ip := range w.wgIPs {
			n := w.nodeIdx[ip.Node]
			a := ip4(ip.IP)
			delete(w.nodeOfIP, a)
			for i, x := range w.ipsOf[n] {
				if x == a {
					w.ipsOf[n] = append(w.ipsOf[n][:i], w.ipsOf[n][i+1:]...)
					break
				}
			}
		}
		w.wgIPs, w.wgPeer = nil, nil
		b.StartTimer()
		w.wgLearnNodeIPs()
		if joinWireGuard(w, m, opts) == nil {
			b.Fatal("no WireGuard device")
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}
