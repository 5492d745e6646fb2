package correlate

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// identicalTruth counts the packets of one generated flow: sent, delivered and lost.
func identicalTruth(tr *gen.Truth, flow int) (sent, delivered, lost int) {
	for i := range tr.Packets {
		p := &tr.Packets[i]
		if p.Flow != flow {
			continue
		}
		sent++
		if p.Lost {
			lost++
		} else {
			delivered++
		}
	}
	return
}

// flowOf finds the Result's flow of a generated flow by its endpoints.
func flowOf(t *testing.T, r *Result, ft gen.FlowTruth) *Flow {
	t.Helper()
	dst, dport := ft.ServerIP, ft.Dport
	if ft.DNAT != nil {
		dst, dport = ft.DNAT.ServiceIP, ft.DNAT.ServicePort
	}
	for i := range r.Flows {
		f := &r.Flows[i]
		if f.Src.IP == ft.ClientIP.String() && f.Src.Port == ft.Sport && f.Dst.IP == dst.String() && f.Dst.Port == dport {
			return f
		}
	}
	t.Fatalf("no flow %v:%d → %v:%d in %d flows", ft.ClientIP, ft.Sport, ft.ServerIP, ft.Dport, len(r.Flows))
	return nil
}

// Byte-identical packets (the same IP id, ports and payload) at a high rate, with other traffic beside
// them and a node clock 3 ms off: counted by position in order, every count is the truth's, no latency
// is negative, node-2's clock is estimated within its bound from the other flows, and the
// ambiguous-packets warning names the flow. Before, 200 k packets/s came out as a few hundred delivered
// (the rest taken for duplicate copies), with negative latencies and a skewed clock.
func TestIdenticalPackets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rate    float64
		packets int
		dnat    float64
	}{
		{"in-flight-together", 200000, 20000, 0}, // 5 µs apart on a path of 0.1-0.6 ms: dozens in flight at once
		{"one-after-another", 300, 3000, 0},      // 3 ms apart: one at a time, but hundreds within the window
		{"service-dnat", 200000, 20000, 1},       // to a ClusterIP: another fingerprint from the pod's veth on
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gen.DefaultConfig()
			cfg.Packets, cfg.Flows, cfg.Identical, cfg.Rate = tc.packets, 3, 1, tc.rate
			cfg.LossPerHop, cfg.DNAT = 0.002, tc.dnat
			cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Millisecond}
			g, r := runGen(t, cfg)
			sent, delivered, lost := identicalTruth(g.Truth, 0)
			if sent < tc.packets/10 || lost == 0 {
				t.Fatalf("generated %d identical packets, %d lost: too few to test", sent, lost)
			}
			f := flowOf(t, r, g.Truth.Flows[0])
			if f.Packets != sent || f.Delivered != delivered || f.Lost != lost || f.NotCaptured != 0 {
				t.Errorf("identical flow %s: %d sent, %d delivered, %d lost, %d not captured; truth %d, %d, %d",
					f.ID, f.Packets, f.Delivered, f.Lost, f.NotCaptured, sent, delivered, lost)
			}
			if tc.dnat > 0 && (len(f.NAT) != 1 || f.NAT[0].Kind != "dnat" || f.NAT[0].Count != sent-f.Lost+lostAfterNAT(g.Truth, 0)) {
				t.Errorf("identical flow %s: NAT %+v, want one dnat of every packet that reached the tunnel", f.ID, f.NAT)
			}
			if f.LatencyNs.Min < 0 {
				t.Errorf("identical flow %s: end-to-end latency min %d", f.ID, f.LatencyNs.Min)
			}
			for _, s := range r.Segments {
				if s.LatencyNs.N > 0 && s.LatencyNs.Min < 0 {
					t.Errorf("segment %s → %s: latency min %d", s.From, s.To, s.LatencyNs.Min)
				}
			}
			c := clockOf(r, "node-2")
			if d := abs64(c.OffsetNs - int64(3*time.Millisecond)); c.BoundNs < 0 || d > c.BoundNs || d > int64(time.Millisecond/2) {
				t.Errorf("node-2 clock %+v, true offset 3ms", c)
			}
			var an *Anomaly
			for i := range r.Anomalies {
				switch r.Anomalies[i].Kind {
				case "ambiguous-packets":
					an = &r.Anomalies[i]
				case "clock-inconsistent":
					t.Errorf("anomaly %+v", r.Anomalies[i])
				}
			}
			if an == nil || an.Severity != "warning" || len(an.Flows) != 1 || an.Flows[0] != f.ID || an.Count != sent {
				t.Fatalf("ambiguous-packets anomaly %+v, want flow %s and %d packets", an, f.ID, sent)
			}
			// The other flows' packets differ from one another: followed one by one as before.
			if n := r.Summary.Journeys - sent; n != g.Truth.Flows[1].Packets+g.Truth.Flows[2].Packets {
				t.Errorf("%d other journeys, truth %d", n, g.Truth.Flows[1].Packets+g.Truth.Flows[2].Packets)
			}
		})
	}
}

// Duplicated captures (one frame written twice) and flows with IP id 0 are not byte-identical packets:
// no packet is counted by position, and the ambiguous-packets warning names no flow but those that
// sent byte-identical packets (IP id 0 with DF, and the same sequence number and length: duplicate
// ACKs of the set, 3 µs and 36 µs apart, which were counted as one before review9 #1).
func TestDuplicatesNotAmbiguous(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Packets, cfg.Flows, cfg.DupRate, cfg.IPID0DF, cfg.LossPerHop = 5000, 20, 0.05, 0.5, 0.01
	g, r := runGen(t, cfg)
	same := map[string]bool{} // flows that sent byte-identical packets within 10 ms
	type key struct {
		flow int
		dir  uint8
		id   uint16
		seq  uint32
		len  int
	}
	last := map[key]int64{}
	for i := range g.Truth.Packets {
		p := &g.Truth.Packets[i]
		k := key{p.Flow, p.Dir, p.IPID, p.Seq, p.Len}
		if t0, ok := last[k]; ok && g.Truth.Flows[p.Flow].IPID0DF && p.Captures[0].True-t0 < int64(10*time.Millisecond) {
			same[flowOf(t, r, g.Truth.Flows[p.Flow]).ID] = true
		}
		last[k] = p.Captures[0].True
	}
	for _, a := range r.Anomalies {
		for _, f := range a.Flows {
			if a.Kind == "ambiguous-packets" && !same[f] {
				t.Errorf("ambiguous-packets names flow %s, which sent no byte-identical packets: %+v", f, a)
			}
		}
	}
}

// BenchmarkIdentical correlates 20,000 byte-identical packets (120,000 frames) sent at a rate that puts
// about 1,000 or 100,000 of their frames in one matching window (1 s): the time per frame stays flat
// (it grew with the frames per window before: each sighting scanned every open journey of the
// fingerprint). CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkIdentical(b *testing.B) {
	for _, perWindow := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("frames-per-window=%d", perWindow), func(b *testing.B) {
			dir := os.Getenv("CALIPATH_BENCH_DIR")
			if dir == "" {
				dir = b.TempDir()
			} else {
				dir = filepath.Join(dir, fmt.Sprintf("identical-%d", perWindow))
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			if len(files) == 0 {
				cfg := gen.DefaultConfig()
				cfg.Packets, cfg.Flows, cfg.Identical = 20000, 1, 1
				cfg.Rate = float64(perWindow) / 6 // six frames per packet
				cfg.KeepTruth, cfg.Dir = false, dir
				g, err := gen.Generate(cfg)
				if err != nil {
					b.Fatal(err)
				}
				files = g.Files
			}
			c := decode.Load(files, decode.Options{}, decode.PointConfig{})
			frames := 0
			for _, obs := range c.Obs {
				frames += len(obs)
			}
			b.ResetTimer()
			for range b.N {
				Correlate(c, Options{})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(frames), "ns/frame")
		})
	}
}

// lostAfterNAT counts a flow's lost packets that passed the NAT (the second point) before they were lost.
func lostAfterNAT(tr *gen.Truth, flow int) int {
	n := 0
	for i := range tr.Packets {
		if p := &tr.Packets[i]; p.Flow == flow && p.Lost && p.LostAfter >= 1 {
			n++
		}
	}
	return n
}

// Identical packets to a Service (DNAT on the sending node), several such flows, in each mode, with
// duplicated captures and rates from one at a time to many in flight: each identical flow's counts
// are the truth's within its duplicated captures (each counts as one more packet among identical
// ones) and one packet (the first ones, before the fingerprint shows it is ambiguous, are matched
// nearest in time as before). Before, a fingerprint that turned ambiguous took along journeys
// already rewritten to the other one, and path order came from journeys matched before it turned
// ambiguous: whole flows split into packets lost at the pod's veth and as many more that began after.
func TestIdenticalPacketsNAT(t *testing.T) {
	for _, tc := range []struct {
		seed      uint64
		mode      gen.Mode
		rate, dup float64
		identical int
	}{
		{9, gen.ModeIPIP, 5000, 0, 2},
		{1, gen.ModeVXLAN, 5000, 0.02, 2},
		{11, gen.ModeBGP, 300000, 0.04, 4},
	} {
		cfg := gen.DefaultConfig()
		cfg.Seed, cfg.Mode, cfg.Rate, cfg.DupRate, cfg.Identical = tc.seed, tc.mode, tc.rate, tc.dup, tc.identical
		cfg.Packets, cfg.Flows, cfg.LossPerHop, cfg.DNAT, cfg.RetransRate = 4000, 6, 0.01, 1, 0.01
		cfg.ClockOffset = map[string]time.Duration{"node-2": time.Duration(tc.seed) * time.Millisecond}
		t.Run(fmt.Sprintf("seed-%d-%v-%v", tc.seed, cfg.Mode, cfg.Rate), func(t *testing.T) {
			g, r := runGen(t, cfg)
			for i := 0; i < cfg.Identical; i++ {
				sent, delivered, _ := identicalTruth(g.Truth, i)
				dups := 0
				for k := range g.Truth.Packets {
					for _, c := range g.Truth.Packets[k].Captures {
						if c.Dup && g.Truth.Packets[k].Flow == i {
							dups++
						}
					}
				}
				f := flowOf(t, r, g.Truth.Flows[i])
				if f.Packets < sent || f.Packets > sent+dups+1 || f.Delivered < delivered-1 || f.Delivered > delivered+dups+1 {
					t.Errorf("identical flow %s: %d sent, %d delivered; truth %d, %d (%d duplicated captures)",
						f.ID, f.Packets, f.Delivered, sent, delivered, dups)
				}
			}
		})
	}
}
