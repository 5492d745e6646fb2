package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// tcol is one column of a table laid out by layoutTable, which drops columns rather than cut a number.
type tcol struct {
	head  string
	right bool     // right-aligned (numbers)
	text  bool     // a name: may be cut with "…" down to min cells when the width runs short
	min   int      // a text column's narrowest
	drop  int      // 0: always shown; otherwise dropped, lowest first, while the table is too wide
	cells []string // one per row
}

// layoutTable lays the columns out in w cells, one space apart: each as wide as its widest cell (text
// columns at most 40), text columns shrinking to their minimum first, then droppable columns dropped,
// lowest drop first. It returns the header line and a line per row (plain text, to be styled).
func layoutTable(cols []tcol, w int) (string, []string) {
	widths, shown := fitColumns(cols, w)
	line := func(cell func(c tcol) string) string {
		var b strings.Builder
		first := true
		for i, c := range cols {
			if !shown[i] {
				continue
			}
			if !first {
				b.WriteByte(' ')
			}
			first = false
			if c.right {
				b.WriteString(fitRight(cell(c), widths[i]))
			} else {
				b.WriteString(fit(cell(c), widths[i]))
			}
		}
		return strings.TrimRight(b.String(), " ")
	}
	head := line(func(c tcol) string { return c.head })
	var rows []string
	if len(cols) > 0 {
		for r := range cols[0].cells {
			rows = append(rows, line(func(c tcol) string { return c.cells[r] }))
		}
	}
	return head, rows
}

// fitColumns returns each column's width and whether it is shown in w cells: text columns shrink to
// their minimum first, then the columns with a drop rank go, lowest rank first.
func fitColumns(cols []tcol, w int) ([]int, []bool) {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = ansi.StringWidth(c.head)
		for _, s := range c.cells {
			widths[i] = max(widths[i], ansi.StringWidth(s))
		}
		if c.text {
			widths[i] = max(min(widths[i], 40), c.min)
		}
	}
	shown := make([]bool, len(cols))
	total := func() int {
		t := -1
		for i := range cols {
			if shown[i] {
				t += widths[i] + 1
			}
		}
		return t
	}
	for i := range shown {
		shown[i] = true
	}
	shrink := func() {
		for over := total() - w; over > 0; {
			cut := false
			for i, c := range cols {
				if over > 0 && shown[i] && c.text && widths[i] > c.min {
					widths[i]--
					over--
					cut = true
				}
			}
			if !cut {
				return
			}
		}
	}
	shrink()
	for total() > w {
		next := -1
		for i, c := range cols {
			if shown[i] && c.drop > 0 && (next < 0 || c.drop < cols[next].drop) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		shown[next] = false
		shrink()
	}
	return widths, shown
}
