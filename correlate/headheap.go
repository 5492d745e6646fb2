package correlate

// headHeap orders the files of a k-way merge by their next Observation's corrected time, the file's
// index breaking ties (the lowest first), so that taking the top gives the same order as scanning
// every file's head for the earliest: log2(files) comparisons a sighting instead of one per file.
type headHeap struct {
	heads []int64 // each file's next corrected time
	h     []int32 // files with Observations left, heap-ordered by less
}

// newHeadHeap makes the heap of the files whose head is not done.
func newHeadHeap(heads []int64, done int64) *headHeap {
	hh := &headHeap{heads: heads}
	for f, t := range heads {
		if t != done {
			hh.h = append(hh.h, int32(f))
		}
	}
	for i := len(hh.h)/2 - 1; i >= 0; i-- {
		hh.down(i)
	}
	return hh
}

// less reports whether file a's head comes before file b's.
func (hh *headHeap) less(a, b int32) bool {
	ta, tb := hh.heads[a], hh.heads[b]
	return ta < tb || (ta == tb && a < b)
}

// top returns the file whose head comes first, or -1 when every file is done.
func (hh *headHeap) top() int {
	if len(hh.h) == 0 {
		return -1
	}
	return int(hh.h[0])
}

// rival returns the earliest head of the files other than the top one (its time and file), or the
// largest time and file when there is none: the top file's Observations before it come next, without
// the heap reordered between them.
func (hh *headHeap) rival() (int64, int32) {
	h := hh.h
	switch {
	case len(h) < 2:
		return 1<<63 - 1, 1<<31 - 1
	case len(h) > 2 && hh.less(h[2], h[1]):
		return hh.heads[h[2]], h[2]
	}
	return hh.heads[h[1]], h[1]
}

// advanced restores the order after the top file's head moved on to time t.
func (hh *headHeap) advanced(t int64) {
	hh.heads[hh.h[0]] = t
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

func (hh *headHeap) down(i int) {
	h := hh.h
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && hh.less(h[r], h[c]) {
			c = r
		}
		if !hh.less(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
