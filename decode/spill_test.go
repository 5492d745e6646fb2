package decode

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/calipath/calipath/internal/gen"
)

// TestLoadSpilled: a spilled Capture holds the same Observations and fingerprints as the in-memory
// one, file by file, on every lab scenario (pcap and pcapng files, an empty input among them), and
// the temporary files are gone once mapped. One file at a time, so that both number the shared
// tables' entries (sources, ARP records) alike.
func TestLoadSpilled(t *testing.T) {
	if !spillSupported {
		t.Skip("no mapped files on this system")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	if len(dirs) < 10 {
		t.Fatalf("only %d lab scenarios", len(dirs))
	}
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
		if len(paths) == 0 {
			continue
		}
		paths = append(paths, empty)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tmp := t.TempDir()
			want := Load(paths, Options{}, PointConfig{})
			got, sp, err := LoadSpilled(paths, Options{}, PointConfig{}, nil, tmp)
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Close()
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("%d temporary files left in the spill directory", len(left))
			}
			for _, b := range sp.maps { // the pages dropped from memory: still the same frames
				release(b)
			}
			runtime.GC()
			n := 0
			for f := range want.Obs {
				n += len(want.Obs[f])
				if !reflect.DeepEqual(got.Obs[f], want.Obs[f]) {
					for i := range want.Obs[f] {
						if got.Obs[f][i] != want.Obs[f][i] {
							t.Fatalf("file %s frame %d: %+v, want %+v", paths[f], i+1, got.Obs[f][i], want.Obs[f][i])
						}
					}
					t.Fatalf("file %s: Observations differ", paths[f])
				}
				for i := range want.Obs[f] {
					if got.Loose[f].At(i) != want.Loose[f].At(i) {
						t.Fatalf("file %s frame %d: fingerprint %x, want %x", paths[f], i+1, got.Loose[f].At(i), want.Loose[f].At(i))
					}
				}
			}
			if sp.Bytes() != int64(n*(obsSize+8)) {
				t.Errorf("spill holds %d bytes, want %d", sp.Bytes(), n*(obsSize+8))
			}
			if !reflect.DeepEqual(got.Points, want.Points) || !reflect.DeepEqual(got.Sources, want.Sources) {
				t.Error("points or sources differ")
			}
			if err := sp.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestLoadSpilledNoDir: a spill directory that cannot be written is an error, not a panic.
func TestLoadSpilledNoDir(t *testing.T) {
	if !spillSupported {
		t.Skip("no mapped files on this system")
	}
	paths, _ := filepath.Glob("../testdata/lab/scenarios/healthy-ipip/*.pcap")
	if _, _, err := LoadSpilled(paths, Options{}, PointConfig{}, nil, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("no error for a missing spill directory")
	}
}

// TestSpillRelease: reading a spilled Capture makes its pages resident in the process, and a release
// drops them (residentMapped counts them, as the release loop does).
func TestSpillRelease(t *testing.T) {
	if !spillSupported {
		t.Skip("no mapped files on this system")
	}
	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Packets, cfg.Flows = t.TempDir(), 20000, 40
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, sp, err := LoadSpilled(g.Files, Options{}, PointConfig{}, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var sum uint64
	for f := range c.Obs {
		for i := range c.Obs[f] {
			sum += uint64(c.Obs[f][i].TsLo) + c.Loose[f].At(i)
		}
	}
	touched, ok := residentMapped()
	if !ok {
		t.Fatal("cannot read the resident mapped memory")
	}
	for _, b := range sp.maps {
		release(b)
	}
	after, _ := residentMapped()
	if touched-after < sp.Bytes()*9/10 {
		t.Errorf("release dropped %d bytes of %d touched (%d spilled; sum %d)", touched-after, touched, sp.Bytes(), sum)
	}
}
