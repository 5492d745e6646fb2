package decode

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/internal/gen"
)

// TestEstimateFrames: the estimate from each file's first records and size is within 15% of the
// frames a generated capture holds (TCP and UDP of varied sizes, pcap and pcapng, gzip-compressed
// too), exact for files read to the end in the sample, and stdin or a missing file is unsized.
func TestEstimateFrames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ng, gz bool
	}{{"pcap", false, false}, {"pcapng", true, false}, {"gzip", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gen.DefaultConfig()
			cfg.Dir, cfg.Packets, cfg.Flows = t.TempDir(), 6000, 40
			cfg.Gzip = tc.gz
			if tc.ng {
				cfg.Format = gen.FormatPcapNG
			}
			g, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := Load(g.Files, Options{}, PointConfig{})
			var want int64
			for _, o := range c.Obs {
				want += int64(len(o))
			}
			got, unsized := EstimateFrames(g.Files, Options{})
			if len(unsized) != 0 {
				t.Fatalf("unsized: %v", unsized)
			}
			if want < 4*estimateSample {
				t.Fatalf("only %d frames: the sample reads them all", want)
			}
			if r := float64(got) / float64(want); r < 0.85 || r > 1.15 {
				t.Errorf("estimated %d frames, the files hold %d", got, want)
			}
		})
	}
	small, _ := filepath.Glob("../testdata/lab/scenarios/healthy-ipip/node-a-eth0.pcap")
	c := Load(small, Options{}, PointConfig{})
	if got, _ := EstimateFrames(small, Options{}); got != int64(len(c.Obs[0])) || got == 0 {
		t.Errorf("small file: estimated %d frames, it holds %d", got, len(c.Obs[0]))
	}
	missing := filepath.Join(t.TempDir(), "missing.pcap")
	if got, unsized := EstimateFrames([]string{"-", missing}, Options{}); got != 0 || len(unsized) != 2 {
		t.Errorf("stdin and a missing file: %d frames, unsized %v", got, unsized)
	}
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	_ = os.WriteFile(empty, nil, 0o644)
	if got, unsized := EstimateFrames([]string{empty}, Options{}); got != 0 || len(unsized) != 0 {
		t.Errorf("an empty file: %d frames, unsized %v", got, unsized)
	}
}
