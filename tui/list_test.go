package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// The shared list filters, sorts (ties in item order, desc reverses), keeps the cursor on its item
// across a rebuild, stays at its row when the item is gone, and scrolls to keep the cursor drawn.
func TestListComponent(t *testing.T) {
	km := DefaultKeyMap()
	vals := []int{5, 3, 9, 3, 7}
	var l list
	byVal := func(a, b int) int { return vals[a] - vals[b] }
	l.rebuild(len(vals), nil, byVal)
	if want := []int{1, 3, 0, 4, 2}; !equalInts(l.idx, want) {
		t.Fatalf("sorted %v, want %v", l.idx, want)
	}
	l.key(keyMsgOf(km.Down), km, 2)
	l.key(keyMsgOf(km.Down), km, 2)
	if i, _ := l.selected(); i != 0 || l.offset != 1 {
		t.Fatalf("after two downs: item %d offset %d, want item 0 offset 1", i, l.offset)
	}
	l.desc = true
	l.rebuild(len(vals), nil, byVal)
	if i, _ := l.selected(); i != 0 || l.cursor != 2 {
		t.Fatalf("after reversing: item %d at row %d, want item 0 at row 2 (%v)", i, l.cursor, l.idx)
	}
	l.rebuild(len(vals), func(i int) bool { return vals[i] != 5 }, byVal)
	if l.len() != 4 || l.cursor != 2 {
		t.Fatalf("item gone: %d rows, cursor %d, want 4 rows, cursor 2", l.len(), l.cursor)
	}
	if !l.next(-1, func(i int) bool { return vals[i] == 9 }) || l.cursor != 0 || l.next(-1, func(int) bool { return true }) {
		t.Fatalf("next: cursor %d", l.cursor)
	}
	l.rebuild(0, nil, nil)
	if _, ok := l.selected(); ok || l.cursor != 0 {
		t.Fatalf("empty list: cursor %d selected %v", l.cursor, ok)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The overview's text is built once per Result and width: scrolling keys and redraws reuse it, a new
// width builds it again.
func TestOverviewBuiltOncePerWidth(t *testing.T) {
	km := DefaultKeyMap()
	m := newTest(t, labRes, 80, 24)
	first := ansi.Strip(m.View())
	for i := 0; i < 5; i++ {
		m = press(m, km.Down)
		_ = m.View()
	}
	m = press(m, km.Home)
	if got := ansi.Strip(m.View()); got != first {
		t.Fatalf("the overview changed after scrolling back:\n%s\nwant:\n%s", got, first)
	}
	if n := m.ov.cache.builds; n != 1 {
		t.Fatalf("the overview was built %d times for one Result and width, want 1", n)
	}
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 24})
	_ = m.View()
	if n := m.ov.cache.builds; n != 2 {
		t.Fatalf("after a resize the overview was built %d times in all, want 2", n)
	}
}
