package correlate

import "runtime"

// refsSplit is how many edge frames make it worth reading them for the clock sample on two goroutines.
const refsSplit = 1 << 16

// sampleRefs returns the edge frames whose NAT-tolerant fingerprint the sampling rate keeps (the same
// packets at every point of their path), ordered by time, point, TTL and flags (frames equal in these
// are copies of one sighting, in any order alike). On more than one core the edge files' frames,
// taken end to end in file order, are read in two halves (clockRefs), the second on a goroutine of its
// own, and its frames are put after the first's: the same list, in the same order, as one pass gives,
// so that the sort (which is not stable) orders the same input into the same output.
func (w *world) sampleRefs(edge []bool, rate uint64) []clockRef {
	refs := w.edgeRefs(edge, rate, runtime.GOMAXPROCS(0) > 1)
	refs = w.sortRefs(refs)
	return refs
}

// edgeRefs returns the sampled edge frames in file order (clockRefs), read in two halves when split
// and there are enough of them (refsSplit).
func (w *world) edgeRefs(edge []bool, rate uint64, split bool) []clockRef {
	edgeFile := w.filesWith(func(p int) bool { return edge[p] })
	n := 0
	for f, obs := range w.c.Obs {
		if edgeFile[f] {
			n += len(obs)
		}
	}
	if !split || n < refsSplit {
		return w.clockRefs(edge, edgeFile, rate, 0, n)
	}
	var second []clockRef
	wait := beside(func() { second = w.clockRefs(edge, edgeFile, rate, n/2, n) })
	refs := w.clockRefs(edge, edgeFile, rate, 0, n/2)
	wait()
	return append(refs, second...)
}

// edgeRange returns which frames [lo, hi) of a file of n frames are among the edge frames [from, to)
// counted end to end, and counts the file's frames into *at (the first edge frame of the next file)
// when it is an edge file; none (lo >= hi) when it is not.
func edgeRange(isEdge bool, at *int, n, from, to int) (lo, hi int) {
	if !isEdge {
		return 0, 0
	}
	lo, hi = max(from-*at, 0), min(to-*at, n)
	*at += n
	return lo, hi
}
