package correlate

import (
	"reflect"
	"runtime"
	"testing"
)

// The clock sample's edge frames read in two halves (the second on a goroutine of its own) are the
// ones one pass reads, in the same order, before and after their sort, on 1, 2 and 4 cores: the
// second half's frames come after the first's.
func TestSampleRefsHalves(t *testing.T) {
	w, edge, total := clockSampleWorld(t, 7, 40000)
	if total < refsSplit {
		t.Fatalf("%d edge frames, fewer than the %d that split the work: the test says nothing", total, refsSplit)
	}
	one := w.edgeRefs(edge, 1, false)
	two := w.edgeRefs(edge, 1, true)
	if len(one) == 0 || !reflect.DeepEqual(one, two) {
		t.Fatalf("%d edge frames in one pass, %d in halves, or they differ in order", len(one), len(two))
	}
	if files := one[0].f != one[len(one)-1].f; !files {
		t.Fatalf("the sampled frames are all of file %d: the halves' order is not tested", one[0].f)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	want := w.sampleRefs(edge, 1)
	for _, procs := range []int{2, 4} {
		runtime.GOMAXPROCS(procs)
		if got := w.sampleRefs(edge, 1); !reflect.DeepEqual(got, want) {
			t.Fatalf("GOMAXPROCS %d: %d sorted edge frames, %d on one core, or they differ", procs, len(got), len(want))
		}
	}
}
