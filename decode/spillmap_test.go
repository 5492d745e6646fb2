package decode

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/internal/gen"
)

// spilledGen loads a small generated capture spilled to a temporary directory.
func spilledGen(t *testing.T, dir string) *Spill {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Packets, cfg.Flows = t.TempDir(), 500, 5
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, sp, err := LoadSpilled(g.Files, Options{}, PointConfig{}, nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// TestSpillMap: Map gives zeroed, writable memory of the size asked, in a file already removed,
// counted in the Spill's bytes and resident in the process until a release drops it, its contents
// kept; smaller than a page it gives nothing.
func TestSpillMap(t *testing.T) {
	if !spillSupported {
		t.Skip("no mapped files on this system")
	}
	dir := t.TempDir()
	sp := spilledGen(t, dir)
	defer sp.Close()
	if b := sp.Map(MinMap - 1); b != nil {
		t.Errorf("Map(%d) gave %d bytes, want nil (on the heap)", MinMap-1, len(b))
	}
	before, n := sp.Bytes(), 16<<20
	b := sp.Map(n)
	if len(b) != n {
		t.Fatalf("Map(%d) gave %d bytes (%v)", n, len(b), sp.MapErr())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d temporary files left", len(left))
	}
	if sp.Bytes()-before != int64(n) || sp.Mapped() != int64(n) || sp.MapErr() != nil {
		t.Errorf("Bytes grew by %d, Mapped %d, MapErr %v; want %d, %d, nil", sp.Bytes()-before, sp.Mapped(), sp.MapErr(), n, n)
	}
	for i := range b {
		if b[i] != 0 {
			t.Fatalf("byte %d is %d, want 0", i, b[i])
		}
		b[i] = byte(i * 7)
	}
	touched, _ := residentMapped()
	release(b)
	after, _ := residentMapped()
	if touched-after < int64(n)*9/10 {
		t.Errorf("release dropped %d bytes of the %d written", touched-after, n)
	}
	for i := range b {
		if b[i] != byte(i*7) {
			t.Fatalf("byte %d is %d after the release, want %d", i, b[i], byte(i*7))
		}
	}
}

// TestSpillMapFails: when the temporary directory is gone, Map gives nil and says why, once.
func TestSpillMapFails(t *testing.T) {
	if !spillSupported {
		t.Skip("no mapped files on this system")
	}
	dir := filepath.Join(t.TempDir(), "spill")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sp := spilledGen(t, dir)
	defer sp.Close()
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if b := sp.Map(1 << 20); b != nil || sp.MapErr() == nil || sp.Mapped() != 0 {
		t.Errorf("Map in a removed directory: %d bytes, MapErr %v, Mapped %d; want nil, an error, 0", len(b), sp.MapErr(), sp.Mapped())
	}
	var none *Spill
	if none.Map(1<<20) != nil || none.MapErr() != nil || none.Mapped() != 0 {
		t.Error("a nil Spill maps something")
	}
}

// TestSpillTrim: Trim drops the mapped pages the process holds once they pass SpillResident, and
// leaves them below it.
func TestSpillTrim(t *testing.T) {
	if !spillSupported {
		t.Skip("no mapped files on this system")
	}
	sp := spilledGen(t, t.TempDir())
	defer sp.Close()
	// The release loop stopped (and Close left to end the mapping), so that only Trim drops pages.
	close(sp.stop)
	<-sp.done
	sp.stop = make(chan struct{})
	sp.done = make(chan struct{})
	close(sp.done)
	sp.Trim()
	small := sp.Map(1 << 20)
	for i := range small {
		small[i] = 1
	}
	before, _ := residentMapped()
	sp.Trim()
	if after, _ := residentMapped(); after < before-(256<<10) || before > SpillResident {
		t.Errorf("Trim below SpillResident: %d bytes mapped resident before, %d after", before, after)
	}
	b := sp.Map(SpillResident + 8<<20)
	if b == nil {
		t.Fatal(sp.MapErr())
	}
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	touched, _ := residentMapped()
	sp.Trim()
	after, _ := residentMapped()
	if touched <= SpillResident || touched-after < int64(len(b))*9/10 {
		t.Errorf("Trim past SpillResident: %d bytes mapped resident before, %d after", touched, after)
	}
	if b[0] != 1 || small[0] != 1 {
		t.Error("the contents are lost")
	}
}
