package correlate

// votes counts how often each small integer (a node, a point) was seen: a short list, searched
// linearly (a flow has a handful of candidates; cheaper than a map per flow).
type votes []vote

type vote struct{ key, n int }

func (v *votes) add(k int) { v.addN(k, 1) }

// addN counts key k n times.
func (v *votes) addN(k, n int) {
	for i := range *v {
		if (*v)[i].key == k {
			(*v)[i].n += n
			return
		}
	}
	*v = append(*v, vote{k, n})
}

// top returns the most frequent key, the lowest on a tie; -1 when there is none.
func (v votes) top() int {
	best, bn := -1, 0
	for _, c := range v {
		if c.n > bn || (c.n == bn && c.key < best) {
			best, bn = c.key, c.n
		}
	}
	return best
}

// topWhere is top among the keys for which keep holds.
func (v votes) topWhere(keep func(int) bool) int {
	best, bn := -1, 0
	for _, c := range v {
		if keep(c.key) && (c.n > bn || (c.n == bn && c.key < best)) {
			best, bn = c.key, c.n
		}
	}
	return best
}
