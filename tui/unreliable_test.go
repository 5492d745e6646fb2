package tui

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// unreliableRes is the lab Result with the summary correlate writes when the matcher forgot late
// sightings (--window too small; correlate's TestWindowTooSmallLateCap makes one).
func unreliableRes() (*correlate.Result, string) {
	res := *labRes
	why := "--window 5µs is shorter than the hops: 812 packets seen again past it were forgotten, so the lost and " +
		"sent counts are unreliable (some lost packets were delivered, and counted as sent twice); re-run with " +
		"--window 1ms or more"
	res.Summary.Unreliable = why
	return &res, why
}

// When the summary says the counts are unreliable, the overview says so under the counts, in the text
// report's words (wrapped, never cut, in the error style), and the status lines of the screens that show
// lost counts (flows, timeline) carry a warning; the lab Result, whose counts are sound, shows none of it.
func TestUnreliableSummaryShown(t *testing.T) {
	res, why := unreliableRes()
	km := DefaultKeyMap()
	fi := lossyFlow(t, res)
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		w, h := sz[0], sz[1]
		m := newTest(t, res, w, h)
		v := m.View()
		checkSize(t, v, w, h)
		plain := ansi.Strip(v)
		lines := strings.Split(plain, "\n")
		// The statement starts on the line after the summary counts (tabs, counts, maybe their wrap).
		start := -1
		for i, l := range lines {
			if strings.HasPrefix(l, "UNRELIABLE: ") {
				start = i
				break
			}
		}
		if start < 0 || start > 3 {
			t.Fatalf("%dx%d: the overview does not say the counts are unreliable under them:\n%s", w, h, plain)
		}
		var said []string
		for _, l := range lines[start:] {
			if strings.HasPrefix(l, "Anomalies: ") {
				break
			}
			said = append(said, strings.TrimSpace(l))
		}
		if got := strings.Join(said, " "); got != "UNRELIABLE: "+why {
			t.Errorf("%dx%d: the overview says\n%q\nwant\n%q", w, h, got, "UNRELIABLE: "+why)
		}

		m = press(m, km.Flows)
		v = m.View()
		checkSize(t, v, w, h)
		if tag := "· UNRELIABLE counts: see overview"; !strings.Contains(lastBodyLine(v), tag) {
			t.Errorf("%dx%d: the flows status line does not carry %q:\n%s", w, h, tag, ansi.Strip(v))
		}
		for m.fl.idx[m.fl.cursor] != fi {
			m = press(m, km.Down)
		}
		m = press(m, km.Enter)
		v = m.View()
		checkSize(t, v, w, h)
		if tag := "· UNRELIABLE counts: see overview"; !strings.Contains(lastBodyLine(v), tag) ||
			!strings.Contains(lastBodyLine(v), " lost") {
			t.Errorf("%dx%d: the timeline status line does not carry %q:\n%s", w, h, tag, ansi.Strip(v))
		}
	}

	// The error style: under a colour profile the statement and the tag are the bad style's.
	m := newTest(t, res, 120, 30)
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI256)
	m.c.st = newStyles(r)
	v := m.View()
	first := ansi.Strip(strings.Split(v, "\n")[2])
	if !strings.HasPrefix(first, "UNRELIABLE: ") || !strings.Contains(v, m.c.st.bad.Render(first)) {
		t.Errorf("the statement is not in the error style:\n%q", v)
	}
	m = press(m, km.Flows)
	if v := m.View(); !strings.Contains(v, m.c.st.bad.Render(" · UNRELIABLE counts: see overview")) {
		t.Errorf("the flows tag is not in the error style:\n%q", v)
	}

	// Sound counts: nothing new.
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		m := newTest(t, labRes, sz[0], sz[1])
		for _, v := range []string{m.View(), press(m, km.Flows).View()} {
			if strings.Contains(v, "UNRELIABLE") {
				t.Errorf("%dx%d: a sound Result is said to be unreliable:\n%s", sz[0], sz[1], ansi.Strip(v))
			}
		}
	}
}

// lastBodyLine is the view's line above the footer (the screen's status line), without styles.
func lastBodyLine(v string) string {
	lines := strings.Split(ansi.Strip(v), "\n")
	if len(lines) < 2 {
		return ""
	}
	return lines[len(lines)-2]
}
