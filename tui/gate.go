package tui

import (
	"runtime"
	"sync"
)

// A key's work off the UI loop goes first. Once a Result shows, the flow list's orders and widths are
// computed one after another off the UI loop (sortNext); an order a key asks for meanwhile is sorted
// in a Cmd of its own (sortOne), and on one core the two would share it, the key's order landing
// late by as long as the step under way takes. So the steps a key waits for run urgent: while one
// does, the steps of the chain pause at their next yield (a fraction of a millisecond), and go on
// once no urgent step runs.

// gate counts the urgent steps running for one flowOrders; the chain's steps wait on it.
type gate struct {
	mu     sync.Mutex
	idle   sync.Cond // signalled when urgent falls to zero
	urgent int
	waited int // the waits that found an urgent step running (tests check that the chain waits)
}

func newGate() *gate {
	g := &gate{}
	g.idle.L = &g.mu
	return g
}

// begin marks an urgent step running; end marks it done.
func (g *gate) begin() {
	g.mu.Lock()
	g.urgent++
	g.mu.Unlock()
}

func (g *gate) end() {
	g.mu.Lock()
	if g.urgent--; g.urgent == 0 {
		g.idle.Broadcast()
	}
	g.mu.Unlock()
}

// wait returns once no urgent step runs; at once on a nil gate (work that does not pause: the UI
// loop's, an urgent step's).
func (g *gate) wait() {
	if g == nil {
		return
	}
	g.mu.Lock()
	if g.urgent > 0 {
		g.waited++
	}
	for g.urgent > 0 {
		g.idle.Wait()
	}
	g.mu.Unlock()
}

// yieldEvery is how many flows the work off the UI loop handles between two yields (yield).
const yieldEvery = 4096

// yield lets other goroutines run at every yieldEvery-th flow i, and there waits for g (a chain's
// step: while a key's step runs). On one core the work off the UI loop (sorting, measuring,
// matching 200,000 flows: tens of milliseconds each) then holds a key back for a fraction of a
// millisecond at a time rather than for the scheduler's 10 ms slices.
func yield(g *gate, i int) {
	if i%yieldEvery == yieldEvery-1 {
		pass(g)
	}
}

// pass lets other goroutines run, and waits for g.
func pass(g *gate) {
	runtime.Gosched()
	g.wait()
}
