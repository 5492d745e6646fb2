package tui

import (
	"fmt"
	"github.com/calipath/calipath/internal/safetext"
	"github.com/calipath/calipath/internal/units"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// styles are the lipgloss styles of every screen, built from one renderer so that tests and NO_COLOR
// can pin the colour profile.
type styles struct {
	r        *lipgloss.Renderer
	title    lipgloss.Style
	tab      lipgloss.Style
	tabOn    lipgloss.Style
	header   lipgloss.Style
	selected lipgloss.Style
	dim      lipgloss.Style
	bad      lipgloss.Style
	warn     lipgloss.Style
	good     lipgloss.Style
	changed  lipgloss.Style
	box      lipgloss.Style
	status   lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	return styles{
		r:        r,
		title:    r.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		tab:      r.NewStyle().Foreground(lipgloss.Color("8")),
		tabOn:    r.NewStyle().Bold(true).Underline(true),
		header:   r.NewStyle().Bold(true),
		selected: r.NewStyle().Reverse(true),
		dim:      r.NewStyle().Foreground(lipgloss.Color("8")),
		bad:      r.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		warn:     r.NewStyle().Foreground(lipgloss.Color("11")),
		good:     r.NewStyle().Foreground(lipgloss.Color("10")),
		changed:  r.NewStyle().Foreground(lipgloss.Color("13")).Bold(true),
		box:      r.NewStyle().Border(lipgloss.RoundedBorder()),
		status:   r.NewStyle().Foreground(lipgloss.Color("8")),
	}
}

// noColor reports whether the NO_COLOR convention (https://no-color.org) asks for no colour.
func noColor(getenv func(string) string) bool { return getenv("NO_COLOR") != "" }

// asciiProfile is the profile used under NO_COLOR and in tests.
const asciiProfile = termenv.Ascii

// clean makes a string taken from a capture safe to print (see safetext.Clean).
func clean(s string) string { return safetext.Clean(s) }

// fit pads or truncates the plain string s to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// fitRight right-aligns the plain string s in w cells.
func fitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-sw) + s
}

// fmtDur formats ns compactly: 850ns, 12.5µs, 3.40ms, 1.234s.
func fmtDur(ns int64) string {
	neg := ns < 0
	if neg {
		ns = -ns
	}
	var s string
	switch {
	case ns < 1000:
		s = fmt.Sprintf("%dns", ns)
	case ns < 10_000:
		s = fmt.Sprintf("%.2fµs", float64(ns)/1e3)
	case ns < 1_000_000:
		s = fmt.Sprintf("%.1fµs", float64(ns)/1e3)
	case ns < 1_000_000_000:
		s = fmt.Sprintf("%.2fms", float64(ns)/1e6)
	default:
		s = fmt.Sprintf("%.3fs", float64(ns)/1e9)
	}
	if neg {
		return "-" + s
	}
	return s
}

// fmtClock formats corrected ns since the epoch as a UTC time of day with µs.
func fmtClock(ns int64) string {
	return time.Unix(0, ns).UTC().Format("15:04:05.000000")
}

// fmtCount formats n with thousands separators (units.Count, as the reports do).
func fmtCount(n int) string { return units.Count(n) }

// shortPoint drops a point ID's node when the point is on the given node.
func shortPoint(id, node string) string {
	if node != "" && strings.HasPrefix(id, node+"/") {
		return id[len(node)+1:]
	}
	return id
}

// window returns the first row to draw so that cursor is visible in a list of n rows of height h,
// keeping the previous offset when possible.
func window(offset, cursor, n, h int) int {
	if h <= 0 || n <= h {
		return 0
	}
	if cursor < offset {
		offset = cursor
	}
	if cursor >= offset+h {
		offset = cursor - h + 1
	}
	if offset > n-h {
		offset = n - h
	}
	if offset < 0 {
		offset = 0
	}
	return offset
}

// clamp limits v to [lo, hi]; hi < lo gives lo.
func clamp(v, lo, hi int) int {
	if v > hi {
		v = hi
	}
	if v < lo {
		v = lo
	}
	return v
}

// cursorMark is the column that marks the selected row, so the selection shows without colour.
func cursorMark(on bool) string {
	if on {
		return "›"
	}
	return " "
}

// ansiTruncate cuts a styled string to w cells, keeping its escape sequences balanced.
func ansiTruncate(s string, w int) string { return ansi.Truncate(s, w, "") }

// scrollKey moves a cursor over n rows for the navigation keys and reports whether it handled the key.
func scrollKey(msg tea.KeyMsg, km KeyMap, cursor *int, n, page int) bool {
	page = max(1, page)
	switch {
	case key.Matches(msg, km.Up):
		*cursor--
	case key.Matches(msg, km.Down):
		*cursor++
	case key.Matches(msg, km.PageUp):
		*cursor -= page
	case key.Matches(msg, km.PageDown):
		*cursor += page
	case key.Matches(msg, km.Home):
		*cursor = 0
	case key.Matches(msg, km.End):
		*cursor = n - 1
	default:
		return false
	}
	*cursor = clamp(*cursor, 0, n-1)
	return true
}

// unreliableTag is what a status line that shows lost or sent counts appends when the summary says
// those counts are unreliable (the matcher forgot late sightings: --window too small), else "".
// The overview says why and what to re-run with.
func unreliableTag(c *common) string {
	if c.res == nil || c.res.Summary.Unreliable == "" {
		return ""
	}
	return " · UNRELIABLE counts: see overview"
}

// withTag is the status line s followed by tag as a warning; s gives way to the width, the tag does not.
func withTag(c *common, s, tag string, w int) string {
	tw := ansi.StringWidth(tag)
	if sw := ansi.StringWidth(s); sw+tw > w {
		s = ansi.Truncate(s, max(0, w-tw), "…")
	}
	return c.st.status.Render(s) + c.st.bad.Render(tag)
}
