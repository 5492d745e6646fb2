//go:build linux

package decode

import (
	"bytes"
	"os"
	"runtime/debug"
	"syscall"
	"testing"

	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

// BenchmarkLoad is Load (read, decode and keep every frame) of generated captures: "many-flows", 12
// files of the many-flow mix (20,000 flows, 200,000 packets, about 1.2 M frames, about 100,000 a file,
// so that each file's Observations outgrow their first chunk), and "arp-heavy", 12 files of the
// ARP-heavy mix (1,000 flows, 100,000 packets and 400,000 proxy ARP exchanges a second). Besides B/op
// and allocs/op it reports the minor page faults per frame (the first touches of memory taken from
// the system, which the garbage collector's reuse between iterations hides in part; -benchtime 1x
// gives a fresh process's figure). CALIPATH_BENCH_DIR keeps the captures between runs.
func BenchmarkLoad(b *testing.B) {
	manyFlows := gen.DefaultConfig()
	manyFlows.Mix = gen.MixManyFlows
	manyFlows.Nodes, manyFlows.PodsPerNode = 2, 4
	manyFlows.Flows, manyFlows.Packets = 20000, 200000
	arpHeavy := gen.DefaultConfig()
	arpHeavy.Mix = gen.MixARPHeavy
	arpHeavy.Nodes, arpHeavy.PodsPerNode = 2, 4
	arpHeavy.Flows, arpHeavy.Packets, arpHeavy.ARPRate = 1000, 100000, 400000
	for _, set := range []struct {
		name string
		cfg  gen.Config
	}{{"many-flows", manyFlows}, {"arp-heavy", arpHeavy}} {
		b.Run(set.name, func(b *testing.B) {
			files := testtool.BenchCaptures(b, "load-"+set.name, testtool.Impaired(set.cfg))
			benchLoad(b, files)
		})
	}
}

func benchLoad(b *testing.B, files []string) {
	defer debug.SetGCPercent(debug.SetGCPercent(10)) // as calipath runs
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	frames := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c := Load(files, Options{}, PointConfig{})
		for _, obs := range c.Obs {
			frames += len(obs)
		}
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	b.ReportMetric(float64(after.Minflt-before.Minflt)/float64(frames), "faults/frame")
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}

// BenchmarkScanKeep is the per-frame work of Load on the many-flow captures of BenchmarkLoad read
// from memory: reading records, decoding, the traffic accounting and keeping each frame's Observation
// and fingerprint, without the file system (one core: the files one after another).
func BenchmarkScanKeep(b *testing.B) {
	cfg := gen.DefaultConfig()
	cfg.Mix = gen.MixManyFlows
	cfg.Nodes, cfg.PodsPerNode = 2, 4
	cfg.Flows, cfg.Packets = 20000, 200000
	files := testtool.BenchCaptures(b, "load-many-flows", testtool.Impaired(cfg))
	data := make([][]byte, len(files))
	for i, f := range files {
		var err error
		if data[i], err = os.ReadFile(f); err != nil {
			b.Fatal(err)
		}
	}
	frames := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t := NewTables()
		for i, d := range data {
			r, err := NewReader(bytes.NewReader(d))
			if err != nil {
				b.Fatal(err)
			}
			var c obsCollector
			var fp fpCollector
			fi := &FileInfo{Index: uint16(i), Traffic: map[uint16]*Traffic{}}
			scan(r, fi, Options{}, t, nil, &frameKeeper{&c, &fp, &Stamps{}}, nil)
			frames += len(c.finish())
			fp.finish()
		}
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}
