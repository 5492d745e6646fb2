package tui

import (
	"cmp"
	"slices"

	tea "github.com/charmbracelet/bubbletea"
)

// list is the state the four lists (flows, timeline rows, ARP, anomalies) share: which of the screen's
// items are shown and in what order (filter and sort), the cursor and the scroll offset. The items
// themselves stay with the screen; the list holds their indexes.
type list struct {
	idx     []int // the items shown, filtered and sorted: indexes into the screen's items
	cursor  int   // index into idx
	offset  int   // first row drawn
	sortCol int   // the screen's sort column (only the flow list sorts)
	desc    bool  // sort descending
}

// len is the number of rows shown.
func (l *list) len() int { return len(l.idx) }

// selected returns the item under the cursor.
func (l *list) selected() (int, bool) {
	if l.cursor >= 0 && l.cursor < len(l.idx) {
		return l.idx[l.cursor], true
	}
	return 0, false
}

// rebuild shows the items 0..n-1 that keep accepts (nil: all), ordered by order (nil: as they are;
// desc reverses it, ties stay in item order). The cursor follows the item it was on; when that item
// is gone it stays at its row, within the new length.
func (l *list) rebuild(n int, keep func(i int) bool, order func(a, b int) int) {
	was, had := l.selected()
	l.idx = l.idx[:0]
	for i := 0; i < n; i++ {
		if keep == nil || keep(i) {
			l.idx = append(l.idx, i)
		}
	}
	if order != nil {
		slices.SortStableFunc(l.idx, func(a, b int) int {
			r := order(a, b)
			if r == 0 {
				return cmp.Compare(a, b)
			}
			if l.desc {
				return -r
			}
			return r
		})
	}
	l.follow(was, had)
}

// follow keeps the cursor on item was (if had) after a rebuild; when it is gone the cursor stays at
// its row, within the new length.
func (l *list) follow(was int, had bool) {
	l.cursor = clamp(l.cursor, 0, len(l.idx)-1)
	if had {
		l.seek(func(i int) bool { return i == was })
	}
}

// seek puts the cursor on the first row whose item matches and reports whether there was one.
func (l *list) seek(match func(item int) bool) bool {
	for r, i := range l.idx {
		if match(i) {
			l.cursor = r
			return true
		}
	}
	return false
}

// next moves the cursor to the next (d = 1) or previous (d = -1) row whose item matches and reports
// whether there was one.
func (l *list) next(d int, match func(item int) bool) bool {
	for r := l.cursor + d; r >= 0 && r < len(l.idx); r += d {
		if match(l.idx[r]) {
			l.cursor = r
			return true
		}
	}
	return false
}

// key moves the cursor for the navigation keys in a list of page rows, and reports whether it was one.
func (l *list) key(msg tea.KeyMsg, km KeyMap, page int) bool {
	ok := scrollKey(msg, km, &l.cursor, len(l.idx), page)
	l.scroll(page)
	return ok
}

// scroll keeps the cursor within the page rows drawn.
func (l *list) scroll(page int) { l.offset = window(l.offset, l.cursor, len(l.idx), page) }

// rows returns the rows to draw in page rows: from off to end.
func (l *list) rows(page int) (off, end int) {
	off = window(l.offset, l.cursor, len(l.idx), page)
	return off, min(len(l.idx), off+page)
}
