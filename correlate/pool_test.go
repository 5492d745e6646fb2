package correlate

import (
	"testing"
	"time"
)

// TestStartPool: the chunks a filler takes from a pool's free list and passes over are worked in
// the order passed, the same chunks (no copy: the pool's k chunks, each back on the free list once
// worked), every item once; a panic of the worker is raised by wait, and the filler, which takes its
// chunks from the free list, is not left waiting for one after it.
func TestStartPool(t *testing.T) {
	const k = 3
	var worked []*[]int // the worker's, read after wait
	var got []int
	run := func(total int, work func(c *[]int)) *pipe[[]int] {
		worked, got = nil, nil
		made := map[*[]int]bool{}
		p := startPool(k, func() *[]int { c := make([]int, 0, 4); made[&c] = true; return &c }, func(c *[]int) {
			worked = append(worked, c)
			got = append(got, *c...)
			work(c)
		})
		if len(made) != k {
			t.Fatalf("%d chunks made, want %d", len(made), k)
		}
		for from := 0; from < total; from += 4 {
			c := <-p.free
			if !made[c] {
				t.Fatal("a chunk not of the pool")
			}
			*c = (*c)[:0]
			for i := from; i < min(from+4, total); i++ {
				*c = append(*c, i)
			}
			p.pass(c)
		}
		return p
	}
	for _, total := range []int{0, 1, 4, 5, 100} {
		p := run(total, func(*[]int) {})
		p.wait()
		if len(got) != total {
			t.Fatalf("total %d: %d items worked", total, len(got))
		}
		for i, x := range got {
			if x != i {
				t.Fatalf("total %d: item %d is %d", total, i, x)
			}
		}
		if len(worked) != (total+3)/4 {
			t.Errorf("total %d: %d chunks worked", total, len(worked))
		}
		if len(p.free) != k {
			t.Errorf("total %d: %d chunks back in the pool, want %d", total, len(p.free), k)
		}
	}
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		p := run(100, func(c *[]int) {
			if (*c)[0] >= 8 {
				panic("work failed")
			}
		})
		p.wait()
	}()
	select {
	case v := <-done:
		if v != "work failed" {
			t.Errorf("recovered %v, want the worker's panic", v)
		}
	case <-time.After(time.Minute):
		t.Fatal("the filler or wait blocked after the worker's panic")
	}
}
