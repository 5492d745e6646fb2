package decode

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/calipath/calipath/internal/hugepage"
)

// The collector returns every Observation once, in order, whether the file fits its estimate, outgrows
// it (records growing smaller, so more of them than the first ones predicted), has no known size, or
// is small.
func TestObsCollector(t *testing.T) {
	cases := []struct {
		name  string
		size  int64
		n     int
		small int  // record size from this index on (0: always 100 bytes)
		sized bool // one slice sized from the first records
	}{
		{"fits its estimate", 116 * 200000, 200000, 0, true},
		{"outgrows its estimate", 116 * 200000, 400000, 100000, true},
		{"unknown size", 0, 150000, 0, false},
		{"small file", 116 * 1000, 1000, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := obsCollector{size: tc.size}
			for i := 0; i < tc.n; i++ {
				r := Record{CapLen: 100}
				if tc.small > 0 && i >= tc.small {
					r.CapLen = 10
				}
				c.add(&r, &Observation{Seq: uint32(i + 1)})
			}
			if sized := cap(c.whole) > obsChunk; sized != tc.sized {
				t.Errorf("sized from the estimate: %v, want %v", sized, tc.sized)
			}
			grew := len(c.chunks) > 0
			obs := c.finish()
			if len(obs) != tc.n {
				t.Fatalf("%d Observations, want %d", len(obs), tc.n)
			}
			for i := range obs {
				if obs[i].Seq != uint32(i+1) {
					t.Fatalf("Observation %d is frame %d", i, obs[i].Seq)
				}
			}
			if tc.name == "outgrows its estimate" && !grew {
				t.Error("the estimate was not outgrown: the fallback went untested")
			}
			if tc.name == "fits its estimate" && grew {
				t.Error("a file that fits its estimate spilled into chunks")
			}
			if cap(obs) > len(obs)+len(obs)/4+4096 {
				t.Errorf("capacity %d for %d Observations", cap(obs), len(obs))
			}
		})
	}
}

// Fingerprints keep every value in order across chunks (full ones, and the rest in the last), at their
// slots; a small file takes a small first chunk; a file of exactly one chunk has one; a clone shares
// nothing.
func TestFingerprints(t *testing.T) {
	var sc fpCollector
	for i := 0; i < 10; i++ {
		sc.add(uint64(i))
	}
	small := sc.finish()
	if len(small.Chunks) != 1 || cap(small.Chunks[0]) > 1024 || small.At(9) != 9 {
		t.Errorf("a 10-value file: %d chunks, first of capacity %d", len(small.Chunks), cap(small.Chunks[0]))
	}
	var fc fpCollector
	n := 3*FingerprintChunk + 5
	for i := 0; i < n; i++ {
		fc.add(uint64(i) * 7)
	}
	f := fc.finish()
	if len(f.Chunks) != 4 || len(f.Chunks[3]) != 5 {
		t.Fatalf("%d chunks for %d values", len(f.Chunks), n)
	}
	var one fpCollector
	for i := 0; i < FingerprintChunk; i++ {
		one.add(uint64(i))
	}
	if o := one.finish(); len(o.Chunks) != 1 || o.At(FingerprintChunk-1) != FingerprintChunk-1 {
		t.Errorf("one full chunk: %d chunks", len(o.Chunks))
	}
	c := f.Clone()
	for i := 0; i < n; i++ {
		if f.At(i) != uint64(i)*7 || *f.Slot(i) != uint64(i)*7 {
			t.Fatalf("At(%d) = %d, slot %d", i, f.At(i), *f.Slot(i))
		}
		*f.Slot(i) = 1
	}
	for i := 0; i < n; i++ {
		if f.At(i) != 1 || c.At(i) != uint64(i)*7 {
			t.Fatalf("after writing the slots: At(%d) = %d, the clone's %d", i, f.At(i), c.At(i))
		}
	}
}

// The collector trusts a file's size for a bounded reservation only, and then grows from the
// records it has read: a 10 GiB file whose first records are real (a sparse file, a zero-filled
// tail) gets room for at most 4 Mi Observations, not for 28 GB worth (which ended in "fatal error:
// out of memory"). A file that does hold what its size says is collected in a few steps.
func TestObsCollectorSizeNotRead(t *testing.T) {
	c := obsCollector{size: 10 << 30}
	for i := range obsChunk + 1 {
		c.add(&Record{CapLen: 100}, &Observation{Seq: uint32(i + 1)})
	}
	if n := cap(c.whole); n > 1<<22 {
		t.Errorf("%d Observations read: room for %d, want at most %d", obsChunk+1, n, 1<<22)
	}
	if obs := c.finish(); len(obs) != obsChunk+1 || cap(obs) > len(obs)+len(obs)/4+4096 {
		t.Errorf("finish: %d Observations, capacity %d", len(obs), cap(obs))
	}

	// A file that holds what its size says reaches it in a few steps, none more than 8 times.
	for _, est := range []int{1 << 20, 1<<22 + 1, 10 << 20, 100 << 20, min(1<<31, math.MaxInt)} {
		caps := []int{obsChunk}
		for n := obsChunk; n < est; n = caps[len(caps)-1] {
			next := obsNext(n, est)
			if next <= n || next > est || next > 8*n && next > 1<<22 {
				t.Fatalf("estimate %d: capacities %v, then %d", est, caps, next)
			}
			caps = append(caps, next)
		}
		if len(caps) > 7 {
			t.Errorf("estimate %d: capacities %v", est, caps)
		}
	}
}

// A capture followed by a large hole (a sparse file: its size claims far more than it holds) is
// loaded in memory for the frames it holds: the hole is one zero-filled tail, and nothing is sized
// from the file's size.
func TestSparseFile(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a 64 MiB hole")
	}
	w := newRdPcap(false, false, 65535, 1)
	const n = 70000
	for i := range n {
		w.rec(1764086400+uint32(i/1000), uint32(i%1000)*1000, 60, 60, rdFrame(i, 60))
	}
	path := filepath.Join(t.TempDir(), "node-a-eth0.pcap")
	if err := os.WriteFile(path, w.b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(len(w.b))+64<<20); err != nil {
		t.Fatal(err)
	}
	var c *Capture
	alloc := allocated(func() { c = Load([]string{path}, Options{}, PointConfig{}) })
	fi := c.Files[0]
	want := []string{fmt.Sprintf("%s: offset %d: zero-filled tail: the last %d bytes are zeros, not records (as a crash or a preallocated file leaves): ignored",
		path, len(w.b), 64<<20)}
	if diff := cmp.Diff(want, fi.Problems); diff != "" || fi.Records != n || fi.Skipped != 1 || len(c.Obs[0]) != n {
		t.Errorf("%d records, %d skipped, %d Observations; problems (-want +got):\n%s", fi.Records, fi.Skipped, len(c.Obs[0]), diff)
	}
	if alloc > 100<<20 {
		t.Errorf("loading %d frames allocated %d MiB", n, alloc>>20)
	}
}

// A large file's fingerprint chunks come out of a Load's slabs that ask for huge pages: each chunk
// is full length with no room to grow into the next, the values stay in order, and a slab's chunks
// lie side by side in memory advised for huge pages.
func TestFingerprintSlabs(t *testing.T) {
	defer hugepage.Enable(true)() // off by default (CALIPATH_HUGEPAGES)
	fc := fpCollector{slabs: &chunkSlabs[uint64]{size: FingerprintChunk, perSlab: fpSlabChunks}}
	n := 40*FingerprintChunk + 3
	for i := 0; i < n; i++ {
		fc.add(uint64(i))
	}
	f := fc.finish()
	if len(f.Chunks) != 41 {
		t.Fatalf("%d chunks for %d values", len(f.Chunks), n)
	}
	for k, ch := range f.Chunks[:40] {
		if len(ch) != FingerprintChunk || cap(ch) != FingerprintChunk {
			t.Fatalf("chunk %d: len %d cap %d", k, len(ch), cap(ch))
		}
	}
	for i := 0; i < n; i += 997 {
		if f.At(i) != uint64(i) {
			t.Fatalf("At(%d) = %d", i, f.At(i))
		}
	}
	// Chunks 16 to 31 are the second slab's: side by side.
	first := f.Chunks[16]
	for k := 17; k < 32; k++ {
		if &f.Chunks[k][0] != &unsafe.Slice(&first[0], fpSlabChunks*FingerprintChunk)[(k-16)*FingerprintChunk] {
			t.Fatalf("chunk %d does not follow chunk %d in memory", k, k-1)
		}
	}
	ok, err := hugepage.Advised(unsafe.Slice(&first[0], fpSlabChunks*FingerprintChunk))
	if err != nil {
		t.Skipf("no huge page advice here: %v", err)
	}
	if !ok {
		t.Error("a slab of fingerprint chunks is not advised for huge pages")
	}
}

// The first chunks of a Load's collectors come side by side out of slabs that ask for huge pages: a
// small file's Observations stay there, and the chunk of a file that outgrows it goes to the next
// file. Every file still gets its own Observations, in order.
func TestObsFirsts(t *testing.T) {
	defer hugepage.Enable(true)() // off by default (CALIPATH_HUGEPAGES)
	p := newObsFirsts(1)          // with huge pages asked for, a slab of obsFirstsSlab chunks all the same
	collect := func(n int, base uint32) []Observation {
		c := obsCollector{size: int64(n) * 116, firsts: p}
		for i := range n {
			c.add(&Record{CapLen: 100}, &Observation{Seq: base + uint32(i)})
		}
		return c.finish()
	}
	a := collect(60_000, 0)               // stays in its first chunk
	big := collect(3*obsChunk, 1_000_000) // moves to a slice of its own
	b := collect(60_000, 2_000_000)       // takes the chunk big gave back
	tiny := collect(10, 3_000_000)        // copied out of its chunk, which goes back
	c := collect(60_000, 4_000_000)       // takes that one
	for _, f := range []struct {
		obs  []Observation
		n    int
		base uint32
	}{{a, 60_000, 0}, {big, 3 * obsChunk, 1_000_000}, {b, 60_000, 2_000_000}, {tiny, 10, 3_000_000}, {c, 60_000, 4_000_000}} {
		if len(f.obs) != f.n {
			t.Fatalf("file from %d: %d Observations, want %d", f.base, len(f.obs), f.n)
		}
		for i, o := range f.obs {
			if o.Seq != f.base+uint32(i) {
				t.Fatalf("file from %d: Observation %d is frame %d", f.base, i, o.Seq)
			}
		}
	}
	slab := unsafe.Slice(&a[0], obsFirstsSlab*obsChunk)
	if &b[0] != &slab[obsChunk] || &c[0] != &slab[2*obsChunk] {
		t.Errorf("the chunks given back were not taken by the next files")
	}
	ok, err := hugepage.Advised(slab)
	if err != nil {
		t.Skipf("no huge page advice here: %v", err)
	}
	if !ok {
		t.Error("the first chunks' slab is not advised for huge pages")
	}
}

// Without huge pages, a Load reading one file at a time makes its first chunks one at a time: a
// slab of more, unused while each reader gives its chunk back, was zeroed whole when made (16 MiB
// faulted in a page at a time where 2 MiB were filled). The chunk given back goes to the next file.
func TestObsFirstsOneWorker(t *testing.T) {
	defer hugepage.Enable(false)()
	p := newObsFirsts(1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ch := p.take(obsChunk)
	runtime.ReadMemStats(&after)
	if got, want := after.TotalAlloc-before.TotalAlloc, uint64(obsChunk)*uint64(unsafe.Sizeof(Observation{})); got > want+4096 {
		t.Errorf("the first chunk of a Load reading one file at a time allocated %d bytes, want %d: chunks no reader takes were made (and zeroed) with it",
			got, want)
	}
	if len(ch) != 0 || cap(ch) != obsChunk {
		t.Fatalf("take: len %d cap %d", len(ch), cap(ch))
	}
	p.give(ch)
	if next := p.take(obsChunk); &next[:1][0] != &ch[:1][0] {
		t.Error("the chunk given back was not taken by the next file")
	}
	if two := newObsFirsts(2); two.perSlab != 2 {
		t.Errorf("two files at a time: slabs of %d chunks, want 2", two.perSlab)
	}
}

// The files' fingerprint chunks, from the first full-size one on, come side by side out of the
// Load's slabs; a small file's first chunk stays smaller and its own.
func TestFingerprintFirsts(t *testing.T) {
	defer hugepage.Enable(true)() // off by default (CALIPATH_HUGEPAGES)
	p := &chunkSlabs[uint64]{size: FingerprintChunk, perSlab: fpSlabChunks}
	collect := func(n int, base uint64) Fingerprints {
		c := fpCollector{slabs: p}
		for i := range n {
			c.add(base + uint64(i))
		}
		return c.finish()
	}
	small := collect(1000, 0)
	a := collect(50_000, 1_000_000)
	b := collect(FingerprintChunk+10, 2_000_000)
	for _, f := range []struct {
		fp   Fingerprints
		n    int
		base uint64
	}{{small, 1000, 0}, {a, 50_000, 1_000_000}, {b, FingerprintChunk + 10, 2_000_000}} {
		for i := range f.n {
			if f.fp.At(i) != f.base+uint64(i) {
				t.Fatalf("file from %d: fingerprint %d is %d", f.base, i, f.fp.At(i))
			}
		}
	}
	if cap(small.Chunks[0]) > 1024 {
		t.Errorf("a 1,000-value file's chunk has room for %d", cap(small.Chunks[0]))
	}
	slab := unsafe.Slice(&a.Chunks[0][0], fpSlabChunks*FingerprintChunk)
	if &b.Chunks[0][0] != &slab[FingerprintChunk] {
		t.Errorf("the second file's first chunk does not follow the first's in the slab")
	}
	ok, err := hugepage.Advised(slab)
	if err != nil {
		t.Skipf("no huge page advice here: %v", err)
	}
	if !ok {
		t.Error("the first chunks' slab is not advised for huge pages")
	}
}

// A file that holds fewer frames than its size promised gives back the room its slice was sized
// with, also when that is less than a quarter (which the copy of a small file out of its first chunk
// covers): the Observations are kept to the end of the run, the room with them.
func TestObsCollectorTrimmed(t *testing.T) {
	const n = 20 * obsChunk
	c := obsCollector{size: n * 116 * 11 / 10} // a tenth more than the records take
	for i := range n {
		c.add(&Record{CapLen: 100}, &Observation{Seq: uint32(i)})
	}
	if cap(c.whole) < n+n/obsSlack {
		t.Fatalf("room for %d Observations of %d: the case went untested", cap(c.whole), n)
	}
	obs := c.finish()
	if len(obs) != n || cap(obs) != n {
		t.Errorf("%d Observations, room for %d", len(obs), cap(obs))
	}
	for i := range obs {
		if obs[i].Seq != uint32(i) {
			t.Fatalf("Observation %d is %d", i, obs[i].Seq)
		}
	}
}

// A file that outgrew its first chunk into a slice sized from its size, and holds a quarter or more
// fewer frames than that size promised (the estimate's first chunk of slack on top of a few hundred
// thousand Observations), keeps its Observations where they were made, the room past them given back:
// only a first chunk is copied out (it goes back to the slabs), where the copy of a whole grown
// slice cost a memmove of every Observation and both slices at once.
func TestObsCollectorGrownNotCopied(t *testing.T) {
	const n = 3 * obsChunk
	c := obsCollector{size: n * 116 * 3 / 2} // half again what the records take
	for i := range n {
		c.add(&Record{CapLen: 100}, &Observation{Seq: uint32(i)})
	}
	if cap(c.whole) <= obsChunk || cap(c.whole)-n <= n/4+4096 || len(c.chunks) > 0 {
		t.Fatalf("room for %d Observations of %d (%d chunks): the case went untested", cap(c.whole), n, len(c.chunks))
	}
	whole := unsafe.SliceData(c.whole)
	obs := c.finish()
	if len(obs) != n || cap(obs) != n {
		t.Errorf("%d Observations, room for %d", len(obs), cap(obs))
	}
	if unsafe.SliceData(obs) != whole {
		t.Error("the Observations were copied out of the slice they were made in")
	}
	for i := range obs {
		if obs[i].Seq != uint32(i) {
			t.Fatalf("Observation %d is %d", i, obs[i].Seq)
		}
	}
}

// add keeps o, the Observation of record r, in c (the scan makes its Observations in c.slot itself).
func (c *obsCollector) add(r *Record, o *Observation) {
	*c.slot(r) = *o
}
