package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

// BenchmarkPacketsJSON runs `calipath packets --format json` (both passes: the capture points, then
// every frame printed) over a generated VXLAN capture of 20,000 packets (about 120,000 frames, with
// ICMP, duplicates and loss), output discarded, and reports frames/s. CALIPATH_BENCH_DIR keeps the
// captures between runs.
func BenchmarkPacketsJSON(b *testing.B) { benchPackets(b, "json") }

// BenchmarkPacketsText is BenchmarkPacketsJSON for the text format.
func BenchmarkPacketsText(b *testing.B) { benchPackets(b, "text") }

func benchPackets(b *testing.B, format string) {
	cfg := gen.DefaultConfig()
	cfg.Mode, cfg.Nodes, cfg.PodsPerNode = gen.ModeVXLAN, 2, 2
	cfg.Flows, cfg.Packets = 500, 20000
	files := testtool.BenchCaptures(b, "packets", testtool.Impaired(cfg))
	var out countWriter
	args := append([]string{"--format", format}, files...)
	if err := runPackets(context.Background(), args, &out, io.Discard); err != nil {
		b.Fatal(err)
	}
	frames := out.lines
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := runPackets(context.Background(), args, io.Discard, io.Discard); err != nil {
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

// BenchmarkFrameJSON writes the JSON lines of the frames of BenchmarkPacketsJSON's capture, decoded
// beforehand and held in memory, to a reused buffer: the cost of the JSON alone, per frame.
func BenchmarkFrameJSON(b *testing.B) {
	dir := os.Getenv("CALIPATH_BENCH_DIR")
	if dir == "" {
		b.Skip("set CALIPATH_BENCH_DIR and run BenchmarkPacketsJSON first, which generates the capture")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "packets", "*.pcap"))
	if len(files) == 0 {
		b.Skip("no capture: run BenchmarkPacketsJSON first")
	}
	type frame struct {
		rec  decode.Record
		p    decode.Packet
		file string
	}
	var frames []frame
	for i, f := range files {
		decode.ScanFile(f, uint16(i), decode.Options{}, decode.NewTables(), func(rec *decode.Record, p *decode.Packet, _ *decode.Observation) {
			r := *rec
			r.Data = nil
			frames = append(frames, frame{rec: r, p: *p, file: f})
		})
	}
	var fj frameJSON
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range frames {
			buf = fj.append(buf[:0], frames[i].file, "node-1/eth0", &frames[i].rec, &frames[i].p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(frames)), "ns/frame")
}
