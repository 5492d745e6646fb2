package testtool

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/gen"
)

// BenchCaptures returns the files of the capture cfg describes, for a benchmark: generated once into a
// temporary directory, or, with CALIPATH_BENCH_DIR set, into its subdirectory sub (the directory
// itself when sub is empty), where they are kept and found again by later runs. No truth is written.
func BenchCaptures(tb testing.TB, sub string, cfg gen.Config) []string {
	tb.Helper()
	dir := os.Getenv("CALIPATH_BENCH_DIR")
	if dir == "" {
		dir = tb.TempDir()
	} else {
		dir = filepath.Join(dir, sub)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.pcap")); len(files) > 0 {
		return files
	}
	cfg.Dir, cfg.KeepTruth = dir, false
	g, err := gen.Generate(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return g.Files
}

// Impaired returns cfg with the impairments the benchmarks share: 0.1% loss on each hop, 1% duplicated
// frames, 200,000 packets a second, and node-2's clock 3 s off.
func Impaired(cfg gen.Config) gen.Config {
	cfg.LossPerHop, cfg.DupRate, cfg.Rate = 0.001, 0.01, 200000
	cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
	return cfg
}
