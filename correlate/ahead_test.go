package correlate

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestAhead: ahead hands over every item once, in order, for totals around the batch size; a take
// that says stop ends it early, with the filling goroutine stopped; a panic while filling is raised
// on the caller.
func TestAhead(t *testing.T) {
	batches := func() []*[]int {
		b := make([]*[]int, 3)
		for i := range b {
			b[i] = new([]int)
		}
		return b
	}
	fill := func(b *[]int, from, to int) {
		*b = (*b)[:0]
		for i := from; i < to; i++ {
			*b = append(*b, i)
		}
	}
	for _, total := range []int{0, 1, 6, 7, 8, 100} {
		var got []int
		ahead(batches(), total, 7, fill, func(b *[]int) bool { got = append(got, *b...); return true })
		if len(got) != total || !slices.IsSorted(got) || (total > 0 && got[total-1] != total-1) {
			t.Errorf("total %d: got %v", total, got)
		}
	}
	before := runtime.NumGoroutine()
	taken := 0
	ahead(batches(), 1000, 7, fill, func(b *[]int) bool { taken++; return taken < 2 })
	if taken != 2 {
		t.Errorf("took %d batches after a stop at the second", taken)
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left running after a stop, %d before", n, before)
	}
	defer func() {
		if p := recover(); p != "fill failed" {
			t.Errorf("recovered %v, want the filler's panic", p)
		}
	}()
	ahead(batches(), 100, 7, func(b *[]int, from, to int) {
		if from >= 14 {
			panic("fill failed")
		}
		fill(b, from, to)
	}, func(*[]int) bool { return true })
	t.Error("no panic")
}
