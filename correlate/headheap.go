package correlate

// headHeap orders the files of a k-way merge by their next Observation's corrected time, the file's
// index breaking ties (the lowest first), so that taking the top gives the same order as scanning
// every file's head for the earliest: log2(files) comparisons a sighting instead of one per file.
// Each entry holds its file's head time beside the file, so a comparison reads neither through
// another slice.
type headHeap struct {
	h []headEntry // files with Observations left, heap-ordered by before
}

// headEntry is a file in the heap and the corrected time of its next Observation.
type headEntry struct {
	t int64
	f int32
}

// before reports whether a's head comes before b's: the earlier time, on equal times the lower file.
func (a headEntry) before(b headEntry) bool { return a.t < b.t || (a.t == b.t && a.f < b.f) }

// newHeadHeap makes the heap of the files whose head (heads[f]) is not done.
func newHeadHeap(heads []int64, done int64) *headHeap {
	hh := &headHeap{}
	for f, t := range heads {
		if t != done {
			hh.h = append(hh.h, headEntry{t: t, f: int32(f)})
		}
	}
	for i := len(hh.h)/2 - 1; i >= 0; i-- {
		hh.down(i)
	}
	return hh
}

// top returns the file whose head comes first, or -1 when every file is done.
func (hh *headHeap) top() int {
	if len(hh.h) == 0 {
		return -1
	}
	return int(hh.h[0].f)
}

// topTime returns the head time of the top file (the heap must not be empty).
func (hh *headHeap) topTime() int64 { return hh.h[0].t }

// rival returns the earliest head of the files other than the top one (its time and file), or the
// largest time and file when there is none: the top file's Observations before it come next, without
// the heap reordered between them.
func (hh *headHeap) rival() (int64, int32) {
	h := hh.h
	switch {
	case len(h) < 2:
		return 1<<63 - 1, 1<<31 - 1
	case len(h) > 2 && h[2].before(h[1]):
		return h[2].t, h[2].f
	}
	return h[1].t, h[1].f
}

// advanced restores the order after the top file's head moved on to time t.
func (hh *headHeap) advanced(t int64) {
	hh.h[0].t = t
	hh.down(0)
}

// drop removes the top file (it has no Observations left).
func (hh *headHeap) drop() {
	n := len(hh.h) - 1
	hh.h[0] = hh.h[n]
	hh.h = hh.h[:n]
	if n > 0 {
		hh.down(0)
	}
}

// down moves entry i down to its place: the earlier child moves up into the hole until neither
// child comes before the entry. A node with both children takes one bounds check for the two.
func (hh *headHeap) down(i int) {
	h := hh.h
	x := h[i]
	for {
		c := 2*i + 1
		if c < 0 || c >= len(h)-1 { // at most one child
			if c >= 0 && c < len(h) && h[c].before(x) {
				h[i] = h[c]
				i = c
			}
			break
		}
		two := h[c : c+2 : c+2]
		k := two[0]
		if two[1].before(k) {
			k, c = two[1], c+1
		}
		if !k.before(x) {
			break
		}
		h[i] = k
		i = c
	}
	h[i] = x
}
