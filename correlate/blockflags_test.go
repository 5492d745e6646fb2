package correlate

import (
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestBlockFlags: learnFragments gathers each flagBlock of a file's frames' flags (blockHas false only
// for a block with none of those asked), and nextARP, from any frame of a piece on, finds the next ARP
// frame as a look at every frame does, passing over the blocks without one: ARP frames at the first
// and last frame of a block, in the middle of one, in the file's short last block, none in two whole
// blocks; a first fragment's ports learnt in a block with one.
func TestBlockFlags(t *testing.T) {
	n := 4*flagBlock + 100
	obs := make([]decode.Observation, n)
	arp := []int{0, flagBlock - 1, 3*flagBlock + 17, 4*flagBlock + 99}
	for _, i := range arp {
		obs[i].Flags = decode.FlagARP
	}
	obs[3*flagBlock+5] = decode.Observation{Src: 1, Dst: 2, Proto: 17, Seq: 9, Sport: 53, Dport: 99, Flags: decode.FlagFragment}
	w := &world{c: &decode.Capture{Obs: [][]decode.Observation{obs, nil}}}
	w.learnFragments()
	if p, ok := w.fragPorts[fragKey{1, 2, 17, 9}]; !ok || p != [2]uint16{53, 99} {
		t.Errorf("the first fragment's ports: %v %v", p, ok)
	}
	for lo, want := range map[int]bool{0: true, flagBlock: false, 2 * flagBlock: false, 3 * flagBlock: true, 4 * flagBlock: true} {
		if got := w.blockHas(0, lo, decode.FlagARP); got != want {
			t.Errorf("block from frame %d: blockHas ARP %v, want %v", lo, got, want)
		}
	}
	if w.blockHas(0, 3*flagBlock, decode.FlagDF) || !w.blockHas(0, 3*flagBlock, decode.FlagFragment) {
		t.Error("block 3's flags: DF, or not a fragment")
	}
	if !w.blockHas(2, 0, decode.FlagARP) || !(&world{}).blockHas(0, 0, decode.FlagARP) {
		t.Error("a file without gathered flags has none")
	}
	for lo := 0; lo < n; lo += trimRun {
		chunk := trimChunk(obs, lo)
		for from := 0; from < len(chunk); from += 997 {
			want := len(chunk) - from
			for k := from; k < len(chunk); k++ {
				if chunk[k].Flags&decode.FlagARP != 0 {
					want = k - from
					break
				}
			}
			if got := nextARP(w, 0, lo+from, chunk[from:]); got != want {
				t.Fatalf("from frame %d: next ARP frame %d on, want %d", lo+from, got, want)
			}
		}
	}
}
