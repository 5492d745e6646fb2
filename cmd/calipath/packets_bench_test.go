package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/gen"
)

// BenchmarkPacketsJSON runs `calipath packets --format json` (both passes: the capture points, then
// every frame printed) over a generated VXLAN capture of 20,000 packets (about 120,000 frames, with
// ICMP, duplicates and loss), output discarded, and reports frames/s. CALIPATH_BENCH_DIR keeps the
// captures between runs.
func BenchmarkPacketsJSON(b *testing.B) {
	dir := os.Getenv("CALIPATH_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		dir = filepath.Join(dir, "packets")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(files) == 0 {
		cfg := gen.DefaultConfig()
		cfg.Mode, cfg.Nodes, cfg.PodsPerNode = gen.ModeVXLAN, 2, 2
		cfg.Flows, cfg.Packets = 500, 20000
		cfg.LossPerHop, cfg.DupRate, cfg.Rate = 0.001, 0.01, 200000
		cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
		cfg.Dir, cfg.KeepTruth = dir, false
		g, err := gen.Generate(cfg)
		if err != nil {
			b.Fatal(err)
		}
		files = g.Files
	}
	var out countWriter
	if err := runPackets(context.Background(), append([]string{"--format", "json"}, files...), &out, io.Discard); err != nil {
		b.Fatal(err)
	}
	frames := out.lines
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := runPackets(context.Background(), append([]string{"--format", "json"}, files...), io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
	b.ReportMetric(float64(out.bytes)/float64(frames), "B/frame-out")
}

// countWriter counts the bytes and lines written to it.
type countWriter struct{ bytes, lines int }

func (c *countWriter) Write(b []byte) (int, error) {
	c.bytes += len(b)
	for _, x := range b {
		if x == '\n' {
			c.lines++
		}
	}
	return len(b), nil
}
