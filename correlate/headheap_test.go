package correlate

import (
	"math/rand/v2"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestHeadTreeOrder checks the head tree's merge order against the scan of every head it replaces:
// the earliest head first, the lowest file on equal times (many ties, files running out at different
// points, empty files, times at the largest int64, every number of files from 0 to 40).
func TestHeadTreeOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 1))
	for round := range 400 {
		nf := round % 41
		files := make([][]int64, nf)
		for f := range files {
			n := rng.IntN(30)
			if f%7 == 3 {
				n = 0
			}
			ts := int64(rng.IntN(5))
			if f%5 == 4 && round%2 == 1 {
				ts = 1<<63 - 3 // up to the largest time: not taken for a done file
			}
			for range n {
				ts = min(ts+int64(rng.IntN(3)), 1<<63-1) // equal times within and across files
				files[f] = append(files[f], ts)
			}
		}
		checkMergeOrder(t, round, "tree", scanMerge(files), treeMerge(files))
	}
}

// scanMerge merges the files' times by scanning every file's head for the earliest (the lowest file
// on equal times), and returns the file of each time in merged order.
func scanMerge(files [][]int64) []int {
	var order []int
	pos := make([]int, len(files))
	for {
		f := -1
		for i := range files {
			if pos[i] < len(files[i]) && (f < 0 || files[i][pos[i]] < files[f][pos[f]]) {
				f = i
			}
		}
		if f < 0 {
			return order
		}
		order = append(order, f)
		pos[f]++
	}
}

// treeMerge merges the files' times with a headTree, as matcher.merge does, and returns the file of
// each time in merged order.
func treeMerge(files [][]int64) []int {
	var order []int
	mergeTree(files, make([]int, len(files)), func(f int) { order = append(order, f) })
	return order
}

// mergeTree merges the files' times with a headTree, as matcher.merge takes them, calling visit with
// the file of each time in merged order; pos is scratch of one entry a file.
func mergeTree(files [][]int64, pos []int, visit func(f int)) {
	heads, empty := make([]int64, len(files)), make([]bool, len(files))
	for f := range files {
		pos[f], empty[f] = 0, len(files[f]) == 0
		if !empty[f] {
			heads[f] = files[f][0]
		}
	}
	ht := newHeadTree(heads, empty)
	for f := ht.top(); f >= 0; f = ht.top() {
		visit(f)
		if pos[f]++; pos[f] < len(files[f]) {
			ht.advanced(files[f][pos[f]])
		} else {
			ht.drop()
		}
	}
}

func checkMergeOrder(t *testing.T, round int, how string, want, got []int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("round %d, %s: %d sightings merged, want %d", round, how, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("round %d, %s: sighting %d from file %d, want file %d (-want +got:\n%v\n%v)", round, how, i, got[i], want[i], want, got)
		}
	}
}

// BenchmarkHeadTree merges 36 files of interleaved times, as matcher.merge takes them: the earliest
// file changes nearly every time, so the cost is the tree's.
func BenchmarkHeadTree(b *testing.B) {
	const nf, per = 36, 20000
	rng := rand.New(rand.NewPCG(17, 2))
	files := make([][]int64, nf)
	for f := range files {
		ts := int64(0)
		for range per {
			ts += 1 + int64(rng.IntN(2*nf))
			files[f] = append(files[f], ts)
		}
	}
	pos := make([]int, nf)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n := 0
		mergeTree(files, pos, func(int) { n++ })
		if n != nf*per {
			b.Fatalf("%d merged, want %d", n, nf*per)
		}
	}
}

// The packed tree merges as the scan does, and turns into entries of their own, in the middle of a
// merge, when a time is out of its reach: times going back below the first heads' earliest (a file
// not in time order), jumping far ahead (a timestamp years off), negative, or at the int64 extremes;
// with 1 to 70 files. Times within reach keep it packed to the end.
func TestHeadTreePacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 5))
	for round := range 600 {
		nf := 1 + round%70
		jump := round % 6 // 0, 1: within reach; 2: back below the base; 3: far ahead; 4: extremes; 5: negative
		files := make([][]int64, nf)
		for f := range files {
			ts := int64(1_700_000_000_000_000_000) + int64(rng.IntN(1000))
			if jump == 5 {
				ts = -ts
			}
			for i := range rng.IntN(25) {
				ts += int64(rng.IntN(4))
				v := ts
				switch {
				case jump == 2 && i == 5 && f == nf/2:
					v = ts - 1_000_000 // back: below every first head
				case jump == 3 && i == 7 && f%3 == 0:
					v = ts + 1<<62 // ahead of any key's reach
				case jump == 4 && i == 3 && f == 0:
					v = -1 << 63
				case jump == 4 && i == 4 && f == nf-1:
					v = 1<<63 - 1
				}
				files[f] = append(files[f], v)
			}
		}
		checkMergeOrder(t, round, "packed tree", scanMerge(files), treeMerge(files))
		if jump < 2 {
			heads, empty := make([]int64, nf), make([]bool, nf)
			for f := range files {
				if empty[f] = len(files[f]) == 0; !empty[f] {
					heads[f] = files[f][0]
				}
			}
			ht := newHeadTree(heads, empty)
			for f := ht.top(); f >= 0; f = ht.top() {
				if ht.key == nil {
					t.Fatalf("round %d: times within reach, the tree unpacked", round)
				}
				ht.drop()
			}
		}
	}
}

// A merge file's slot is the fingerprint's slot in its Fingerprints (Slot), taken in order across
// chunk boundaries, at random (a file merged in an order of its own), and at a chunk's edges.
func TestMergeFileSlot(t *testing.T) {
	const n = 3*decode.FingerprintChunk + 100
	fp := decode.Fingerprints{}
	for left := n; left > 0; left -= decode.FingerprintChunk {
		fp.Chunks = append(fp.Chunks, make([]uint64, min(left, decode.FingerprintChunk)))
	}
	mf := &mergeFile{fp: &fp}
	rng := rand.New(rand.NewPCG(7, 7))
	check := func(idx int) {
		t.Helper()
		if got, want := mf.slot(idx), fp.Slot(idx); got != want {
			t.Fatalf("Observation %d: slot %p, want %p", idx, got, want)
		}
	}
	for idx := range n {
		check(idx)
	}
	for range 10000 {
		check(rng.IntN(n))
	}
	for _, idx := range []int{decode.FingerprintChunk - 1, decode.FingerprintChunk, 0, n - 1, 2 * decode.FingerprintChunk, 2*decode.FingerprintChunk - 1} {
		check(idx)
	}
}
