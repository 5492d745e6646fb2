package correlate

import "math"

// Steps of several nodes' clocks found one after another are each sized from the pairs that show it
// alone (findStep): a pair that shows two of them at once (node-a −40 ms and router-1 +500 µs at one
// moment, in their pair as one of −40.5 ms) is left out, as another node's step is not known yet then.
// Sized so, node-a's step was −39.988 ms (its pair with node-b alone bounds it to ±25 µs), router-1's,
// found next against node-a's times so corrected, +507 µs, and a packet between them had a negative
// latency. resizeSteps sizes them again together once all are found: each pair that shows a step of
// one or two stepped nodes at their moments bounds the difference of their sizes (the other, where it
// did not step then, is 0), and the bounds are narrowed through each other until they hold; each size
// is the middle of what is left.

// stepBound is what a pair's step says of two nodes' steps: b's size less a's is from lo to hi (a or
// b -1: a node that did not step then, size 0).
type stepBound struct {
	a, b   int
	lo, hi int64
}

// resizeSteps returns steps sized again together (resized: a copy of each; nil when there is nothing
// to do, or the pairs do not agree on sizes: a bound left empty), with the packets and pairs sampled
// again from refs (the samples without any step taken off) with them taken off. Only where each step
// is of a different node: a node's later step is found against its earlier one taken off, and its
// pairs' moments in the first samples do not say which they show.
func (w *world) resizeSteps(refs []clockRef, total int, orig map[[2]int][]delaySample, steps []*clockStep) (
	resized []*clockStep, pkts clockPkts, blind map[uint64]uint64, pairs map[[2]int][]delaySample) {
	if len(steps) < 2 {
		return nil, clockPkts{}, nil, nil
	}
	bounds := stepBounds(orig, steps)
	if bounds == nil {
		return nil, clockPkts{}, nil, nil
	}
	lo, hi := narrowSizes(bounds, len(steps))
	const far = math.MaxInt64 / 4
	moved := false
	resized = make([]*clockStep, len(steps))
	for i, st := range steps {
		if lo[i] > hi[i] {
			return nil, clockPkts{}, nil, nil
		}
		cp := *st
		if lo[i] > -far && hi[i] < far {
			cp.size = lo[i] + (hi[i]-lo[i])/2
			moved = moved || cp.size != st.size
		}
		cp.at = stepMoment(cp.size, cp.pre, cp.post)
		resized[i] = &cp
	}
	if !moved {
		return nil, clockPkts{}, nil, nil
	}
	for _, st := range resized {
		refs = w.unstepRefs(refs, st)
	}
	pkts, blind = w.clockPackets(refs, total)
	return resized, pkts, blind, delayPairs(pkts)
}

// worstApart returns by how much the samples of the node pair that fits one offset worst disagree (0
// when every pair with samples both ways fits one).
func worstApart(pairs map[[2]int][]delaySample) int64 {
	var worst int64
	for k, ab := range pairs {
		ba := pairs[[2]int{k[1], k[0]}]
		if k[0] < k[1] && len(ab) > 0 && len(ba) > 0 {
			worst = max(worst, -(minDelay(ab) + minDelay(ba)))
		}
	}
	return worst
}

// stepBounds returns what the pair steps of the first samples (orig) say of steps: each pair that shows
// a step of one or two of their nodes at its moment bounds the difference of their sizes. nil where two
// steps are of one node.
func stepBounds(orig map[[2]int][]delaySample, steps []*clockStep) []stepBound {
	of := map[int]int{} // node: index of its step
	for i, st := range steps {
		if _, ok := of[st.node]; ok {
			return nil
		}
		of[st.node] = i
	}
	// at returns the index of n's step when f shows it (its moment on n's clock meets the step's), else -1.
	at := func(f pairStep, n int) int {
		i, ok := of[n]
		if !ok {
			return -1
		}
		st := steps[i]
		_, pre, post, _, _ := f.of(n)
		if spansMeet(pre, post, st.pre, st.post) {
			return i
		}
		return -1
	}
	fs, _ := pairSteps(orig)
	bounds := []stepBound{}
	for _, f := range fs {
		a, b := at(f, f.key[0]), at(f, f.key[1])
		if a < 0 && b < 0 {
			continue
		}
		_, _, _, lo, hi := f.of(f.key[1]) // θ = key[1]'s clock − key[0]'s moved by from lo to hi
		bounds = append(bounds, stepBound{a, b, lo, hi})
	}
	return bounds
}

// narrowSizes returns the bounds on each of n steps' sizes that bounds leave, narrowed through each
// other (from ±MaxInt64/4: not bounded); an empty one (lo > hi) where they do not agree.
func narrowSizes(bounds []stepBound, n int) (lo, hi []int64) {
	const far = math.MaxInt64 / 4
	lo, hi = make([]int64, n), make([]int64, n)
	for i := range n {
		lo[i], hi[i] = -far, far
	}
	size := func(i int) (int64, int64) {
		if i < 0 {
			return 0, 0
		}
		return lo[i], hi[i]
	}
	narrow := func(i int, l, h int64) bool {
		if i < 0 || l <= lo[i] && h >= hi[i] {
			return false
		}
		lo[i], hi[i] = max(lo[i], l), min(hi[i], h)
		return true
	}
	for range 2 * n {
		changed := false
		for _, c := range bounds {
			al, ah := size(c.a)
			bl, bh := size(c.b)
			if c.a < 0 || al > -far && ah < far {
				changed = narrow(c.b, al+c.lo, ah+c.hi) || changed
			}
			if c.b < 0 || bl > -far && bh < far {
				changed = narrow(c.a, bl-c.hi, bh-c.lo) || changed
			}
		}
		if !changed {
			break
		}
	}
	return lo, hi
}
