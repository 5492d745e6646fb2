package correlate

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/calipath/calipath/internal/hugepage"
)

// TestBigSlicesAdvised checks that the per-hop and per-journey slices filled once and kept (here the
// hop times and the matcher's table) ask for huge pages when large, as hugepage.Make does: their
// first writes then take a page fault per 2 MiB, not per 4 KiB.
func TestBigSlicesAdvised(t *testing.T) {
	defer hugepage.Enable(true)() // off by default (CALIPATH_HUGEPAGES)
	var t0 times
	ht := newHopTimes(nil, 4<<20, &t0)
	m := &multimap{}
	m.init(1 << 20)
	fs := &flowStage{}
	fs.flows = make([]*flowAcc, 100_000)
	fs.refill()
	// The block: its first window (refill maps the block in a window at a time) and the rest.
	slab := unsafe.Slice(&fs.slab[0], len(fs.slab)+len(fs.slabRest))
	vslab := unsafe.Slice(&fs.vslab[0], len(fs.vslab)+len(fs.vslabRest))
	if len(slab) > flowBlock || len(slab) != len(vslab) {
		t.Errorf("a flow block of %d accumulators and %d votes, want as many, at most %d", len(slab), len(vslab), flowBlock)
	}
	for name, advised := range map[string]func() (bool, error){
		"hop times": func() (bool, error) { return hugepage.Advised(ht.dt) },
		"multimap":  func() (bool, error) { return hugepage.Advised(m.head) },
		"flows":     func() (bool, error) { return hugepage.Advised(slab) },
		"votes":     func() (bool, error) { return hugepage.Advised(vslab) },
	} {
		if name == "votes" && uintptr(cap(vslab))*unsafe.Sizeof(vslab[0]) < 2*hugepage.Size {
			continue // a block of votes smaller than two huge pages is not advised (hugepage.Advise)
		}
		ok, err := advised()
		if err != nil {
			t.Skipf("no huge page advice here: %v", err)
		}
		if !ok {
			t.Errorf("%s: the slice is not advised for huge pages", name)
		}
	}
}

// TestFlowBlockSmall checks that without huge pages the flow stage's blocks hold at most
// flowBlockSmall flows, however many were found: the room the last block's flows do not take is
// scanned by each collection while the flows live. With huge pages they grow to flowBlock.
func TestFlowBlockSmall(t *testing.T) {
	for _, huge := range []bool{false, true} {
		restore := hugepage.Enable(huge)
		fs := &flowStage{}
		fs.flows = make([]*flowAcc, 100_000)
		fs.refill()
		restore()
		want := flowBlockSmall
		if huge {
			want = flowBlock
		}
		if n := len(fs.slab) + len(fs.slabRest); n != want {
			t.Errorf("huge pages %v: a block of %d flows after 100,000 found, want %d", huge, n, want)
		}
	}
}

// TestFlowAccPointers checks how many pointer words a flow's accumulator holds: each collection while
// the flows live (three in Lean mode) reads every one of them in every flow, and follows each that is
// set. A flow's journeys are an offset into flowsOut.jAll (jAt, dirJourneys) and its paths indexes
// into flowsOut.paths (pathOf), not pointers.
func TestFlowAccPointers(t *testing.T) {
	if n := pointerWords(reflect.TypeFor[flowAcc]()); n > 7 {
		t.Errorf("flowAcc holds %d pointer words, want at most 7", n)
	}
}

// pointerWords counts the words of a value of type typ that hold pointers (a slice or string its
// data pointer, a map, channel, function or interface value one or two).
func pointerWords(typ reflect.Type) int {
	switch typ.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Slice, reflect.String:
		return 1
	case reflect.Interface:
		return 2
	case reflect.Array:
		return typ.Len() * pointerWords(typ.Elem())
	case reflect.Struct:
		n := 0
		for i := range typ.NumField() {
			n += pointerWords(typ.Field(i).Type)
		}
		return n
	}
	return 0
}
