package tui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// cutNumber matches a number cut short by an ellipsis: "+196.…", "1,23…", "192.168.0…", "12.3µ…".
// A value cut away whole leaves "…" alone at the end of the line.
var cutNumber = regexp.MustCompile(`(^|[\s(\[●✕─┄◆→←:=/])[+-]?\d[\d.,:µa-z%]*…|\s…$`)

// bodyViews renders each screen's body (before the frame cuts it to the terminal) for a Result at
// w×h: the overview, the flow list, the worst flow's timeline, its first lost packet, ARP and the
// anomalies.
func bodyViews(t *testing.T, res *correlate.Result, w, h int) map[string]string {
	t.Helper()
	km := DefaultKeyMap()
	m := newTest(t, res, w, h)
	bh := m.bodyHeight()
	out := map[string]string{"overview": m.ov.view(m.c, w, bh)}
	m = press(m, km.Flows)
	out["flows"] = m.fl.view(m.c, w, bh)
	m = press(m, km.Enter, km.NextLoss)
	out["timeline"] = m.tl.view(m.c, w, bh)
	m = press(m, km.Enter)
	out["packet"] = m.pk.view(m.c, w, bh)
	m = press(m, km.ARP)
	out["arp"] = m.arp.view(m.c, w, bh)
	m = press(m, km.Anomalies)
	out["anomalies"] = m.anom.view(m.c, w, bh)
	return out
}

// At 80×24 and 160×48 no screen cuts a number: columns are dropped and values shortened instead.
// A line wider than the terminal would be cut at its end, so none may be.
func TestNoNumberCut(t *testing.T) {
	for _, rc := range []struct {
		name string
		res  *correlate.Result
	}{{"generated", labRes}, {"mtu-blackhole", demoRes(t)}} {
		for _, sz := range [][2]int{{80, 24}, {160, 48}} {
			for screen, v := range bodyViews(t, rc.res, sz[0], sz[1]) {
				for _, l := range strings.Split(v, "\n") {
					plain := ansi.Strip(l)
					if lipgloss.Width(l) > sz[0] {
						t.Errorf("%s %dx%d %s: a line wider than the terminal would be cut: %q", rc.name, sz[0], sz[1], screen, plain)
					} else if m := cutNumber.FindString(plain); m != "" {
						t.Errorf("%s %dx%d %s: a number is cut (%q): %q", rc.name, sz[0], sz[1], screen, m, plain)
					}
				}
			}
		}
	}
}
