package correlate

import (
	"math/rand/v2"
	"testing"
)

// TestHeadHeapOrder checks the heap's merge order against the scan of every head it replaces: the
// earliest head first, the lowest file on equal times (many ties, files running out at different
// points, empty files).
func TestHeadHeapOrder(t *testing.T) {
	const done = int64(1<<63 - 1)
	rng := rand.New(rand.NewPCG(17, 1))
	for round := range 200 {
		nf := 1 + rng.IntN(40)
		files := make([][]int64, nf)
		for f := range files {
			n := rng.IntN(30)
			if f%7 == 3 {
				n = 0
			}
			ts := int64(rng.IntN(5))
			for range n {
				ts += int64(rng.IntN(3)) // equal times within and across files
				files[f] = append(files[f], ts)
			}
		}
		// The linear scan's order.
		var want []int
		pos := make([]int, nf)
		heads := make([]int64, nf)
		for f := range files {
			heads[f] = done
			if len(files[f]) > 0 {
				heads[f] = files[f][0]
			}
		}
		for {
			f := -1
			for i, h := range heads {
				if h != done && (f < 0 || h < heads[f]) {
					f = i
				}
			}
			if f < 0 {
				break
			}
			want = append(want, f)
			if pos[f]++; pos[f] < len(files[f]) {
				heads[f] = files[f][pos[f]]
			} else {
				heads[f] = done
			}
		}
		// The heap's.
		var got []int
		hh := startHeads(files, heads, pos, done)
		for f := hh.top(); f >= 0; f = hh.top() {
			got = append(got, f)
			if pos[f]++; pos[f] < len(files[f]) {
				hh.advanced(files[f][pos[f]])
			} else {
				hh.drop()
			}
		}
		checkMergeOrder(t, round, "heap", want, got)
		// The heap's in runs, as matcher.merge takes it: the top file's heads up to its rival's.
		got = got[:0]
		mergeRuns(files, heads, pos, done, func(f int) { got = append(got, f) })
		checkMergeOrder(t, round, "runs", want, got)
	}
}

// startHeads sets each file's position to its start and its head to its first time (done when it has
// none), and returns the heap of the heads.
func startHeads(files [][]int64, heads []int64, pos []int, done int64) *headHeap {
	clear(pos)
	for f := range files {
		heads[f] = done
		if len(files[f]) > 0 {
			heads[f] = files[f][0]
		}
	}
	return newHeadHeap(heads, done)
}

// mergeRuns merges the files' times with a headHeap in runs, as matcher.merge takes them (the top
// file's times up to its rival's), calling visit with the file of each time in merged order; heads and
// pos are scratch of one entry a file.
func mergeRuns(files [][]int64, heads []int64, pos []int, done int64, visit func(f int)) {
	hh := startHeads(files, heads, pos, done)
	for f := hh.top(); f >= 0; f = hh.top() {
		rt, rf := hh.rival()
		for {
			visit(f)
			if pos[f]++; pos[f] == len(files[f]) {
				hh.drop()
				break
			}
			if ts := files[f][pos[f]]; ts > rt || (ts == rt && int32(f) > rf) {
				hh.advanced(ts)
				break
			}
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

// BenchmarkHeadHeap merges 36 files of interleaved times in runs, as matcher.merge takes them: short
// runs (about one sighting each), so the cost is the heap's.
func BenchmarkHeadHeap(b *testing.B) {
	const done, nf, per = int64(1<<63 - 1), 36, 20000
	rng := rand.New(rand.NewPCG(17, 2))
	files := make([][]int64, nf)
	for f := range files {
		ts := int64(0)
		for range per {
			ts += 1 + int64(rng.IntN(2*nf))
			files[f] = append(files[f], ts)
		}
	}
	heads, pos := make([]int64, nf), make([]int, nf)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n := 0
		mergeRuns(files, heads, pos, done, func(int) { n++ })
		if n != nf*per {
			b.Fatalf("%d merged, want %d", n, nf*per)
		}
	}
}
