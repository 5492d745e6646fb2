package decode

import "testing"

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
				c.add(&r, &Observation{Frame: uint32(i + 1)})
			}
			if sized := cap(c.obs) > obsChunk; sized != tc.sized {
				t.Errorf("sized from the estimate: %v, want %v", sized, tc.sized)
			}
			grew := len(c.chunks) > 0
			obs := c.finish()
			if len(obs) != tc.n {
				t.Fatalf("%d Observations, want %d", len(obs), tc.n)
			}
			for i := range obs {
				if obs[i].Frame != uint32(i+1) {
					t.Fatalf("Observation %d is frame %d", i, obs[i].Frame)
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
