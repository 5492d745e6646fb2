package correlate

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// On more than one core the free memory left after the flows goes back to the system beside the paths
// (releaseFreeBeside), and result waits for it before the collection after the paths: the pages are
// returned before placement allocates, as when it was done in place, and as often. The Result is the
// same on one goroutine and on several. The return after the flows is made slow here, so that a
// collection not waiting for it would come first.
func TestReleaseFreeBesidePaths(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed = 19
	cfg.Packets = 20000
	cfg.Flows = 40
	cfg.LossPerHop = 0.01
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func(f, c func()) { freeOSMemory, collect = f, c }(freeOSMemory, collect)
	var mu sync.Mutex
	var events []string
	note := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	var out [2][]byte
	for i, chunk := range []int{-1, 64} {
		events = nil
		frees := 0
		freeOSMemory = func() {
			mu.Lock()
			frees++
			n := frees
			mu.Unlock()
			if n == 2 { // the return after the flows
				time.Sleep(100 * time.Millisecond)
			}
			note("free")
		}
		collect = func() { note("collect") }
		c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
		b, err := json.Marshal(Correlate(c, Options{Lean: true, chunk: chunk}))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
		mu.Lock()
		got := slices.Clone(events)
		mu.Unlock()
		if want := []string{"free", "free", "collect", "collect"}; !slices.Equal(got, want) {
			t.Errorf("chunk %d: the returns of free memory and the collections came as %v, want %v", chunk, got, want)
		}
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Fatal("the free memory returned beside the paths gave another Result")
	}
}
