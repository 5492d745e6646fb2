package correlate

import (
	"math"
	"math/rand"
	"reflect"
	"slices"
	"testing"
)

// pdqsortRefs is sortRefs' sort before orderRefs: pdqsort by refCmp in place.
func pdqsortRefs(refs []clockRef) []clockRef {
	slices.SortFunc(refs, func(a, b clockRef) int { return refCmp(&a, &b) })
	return refs
}

// The sampled edge frames put in order by orderRefs (merged, each file's few frames out of time order
// moved back) give the clocks' packets pdqsort's order gives, sighting for sighting: the same frames
// in refCmp's order, each packet's frames in the same order. Checked on a generated capture's frames
// as they come, without the frames of a packet seen twice at one point and time (none there: equal
// frames of different packets alone, which orderRefs orders), with one frame twice (two equal frames
// of one packet: orderRefs gives up), with frames moved out of order within their files, and cut into
// more files than orderRefs merges.
func TestOrderRefsAsPdqsort(t *testing.T) {
	w, edge, total := clockSampleWorld(t, 11, 30000)
	refs := w.edgeRefs(edge, 1, false)
	if refs[0].f == refs[len(refs)-1].f {
		t.Fatalf("the sampled frames are all of file %d: no merge is tested", refs[0].f)
	}
	dup := slices.Clone(refs) // a frame twice (two equal frames of one packet): left to pdqsort
	dup = slices.Insert(dup, len(dup)/3, dup[len(dup)/3])
	// Without the duplicates: the frames of one packet at one point and time but the first.
	var uniq []clockRef
	seen := map[[2]uint64]bool{}
	for _, r := range refs {
		o := &w.c.Obs[r.f][r.i]
		k := [2]uint64{w.exactOf(o, w.c.Loose[r.f].At(int(r.i))), uint64(r.ts)<<16 ^ refKey(&r)}
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, r)
		}
	}
	rng := rand.New(rand.NewSource(3))
	shuffled := slices.Clone(uniq) // frames moved out of time order within their files
	for k := 0; k < 200; k++ {
		i := 1 + rng.Intn(len(shuffled)-40)
		j := i + rng.Intn(30)
		if shuffled[i].f == shuffled[j].f {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		}
	}
	many := slices.Clone(uniq) // more files than orderFiles
	for k := range many {
		many[k].f = uint32(k / (len(many)/(2*orderFiles) + 1))
	}
	ties, ordered := 0, 0
	for name, in := range map[string][]clockRef{"as captured": refs, "no duplicates": uniq, "a frame twice": dup, "shuffled": shuffled, "many files": many} {
		before := slices.Clone(in)
		got := w.sortRefs(slices.Clone(in))
		if !reflect.DeepEqual(in, before) {
			t.Fatalf("%s: sortRefs changed its input", name)
		}
		if o := w.orderRefs(in); o != nil {
			ordered++
			if name == "many files" || name == "a frame twice" {
				t.Errorf("%s: orderRefs ordered them", name)
			}
		}
		if name == "many files" { // the files' numbers were made up: Obs holds none of them
			continue
		}
		want := pdqsortRefs(slices.Clone(in))
		for i := range got {
			if refCmp(&got[i], &want[i]) != 0 {
				t.Fatalf("%s: frame %d of %d out of refCmp's order", name, i, len(got))
			}
			if i > 0 && refCmp(&got[i-1], &got[i]) == 0 {
				ties++
			}
		}
		if g, p := w.samplePackets(got, total), w.samplePackets(want, total); !reflect.DeepEqual(byFingerprint(t, g), byFingerprint(t, p)) {
			t.Fatalf("%s: the clocks' packets differ from pdqsort's order's", name)
		}
	}
	if ordered != 3 || ties == 0 {
		t.Errorf("orderRefs ordered %d lists of 5 (want 3: as captured, no duplicates, shuffled), %d equal frames: the test does not exercise it", ordered, ties)
	}
}

// fpOrder returns the packets in the order of their fingerprints, with fingerprints spread as
// hashes are and with many sharing their top bits (pdqsort then), for lists of every small length.
func TestFpOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for n := 0; n < 300; n++ {
		for _, top := range []bool{false, true} {
			list := make([]fpPkt, n)
			used := map[uint64]bool{}
			for i := range list {
				fp := rng.Uint64()
				if top {
					fp >>= 20 // most in bucket 0
				}
				for used[fp] {
					fp++
				}
				used[fp] = true
				list[i] = fpPkt{fp, &clockPkt{sender: i}}
			}
			in := slices.Clone(list)
			got := fpOrder(list)
			if !reflect.DeepEqual(list, in) {
				t.Fatalf("n %d: fpOrder changed its input", n)
			}
			slices.SortFunc(in, func(x, y fpPkt) int {
				if x.fp < y.fp {
					return -1
				}
				return 1
			})
			if !reflect.DeepEqual(got, in) {
				t.Fatalf("n %d (top bits shared: %v): not in the fingerprints' order", n, top)
			}
		}
	}
}

// A plain clock model (no step, drift or hull) corrects a time and gives its offset on a line as
// jointFit's written-out loops take them: t − (offset + t0) and the offset, bit for bit.
func TestPlainModel(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for c := 0; c < 10000; c++ {
		m := clockModel{offset: rng.Int63n(2e10) - 1e10}
		if c%3 == 0 {
			m.offset = 0
		}
		t0, ts := rng.Int63n(4e18), rng.Int63n(4e18)
		if !m.plain() {
			t.Fatal("a model of an offset alone is not plain")
		}
		x := float64(m.correct(ts) - t0)
		if got := float64(ts - (m.offset + t0)); math.Float64bits(got) != math.Float64bits(x) {
			t.Fatalf("offset %d, t0 %d, t %d: x %v, written out %v", m.offset, t0, ts, x, got)
		}
		if th := m.theta(x); math.Float64bits(th) != math.Float64bits(float64(m.offset)) {
			t.Fatalf("offset %d at x %v: theta %v, written out %v", m.offset, x, th, float64(m.offset))
		}
	}
	for _, m := range []clockModel{{drift: 1e-6}, {steps: []*clockStep{{}}}, {hull: []hullPt{{}}}} {
		if m.plain() {
			t.Errorf("%+v taken for plain", m)
		}
	}
}
