package tui

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/charmbracelet/x/ansi"
)

var (
	demoOnce sync.Once
	demo     *correlate.Result
)

// demoRes is the Result of the bundled mtu-blackhole demo (large DF packets lost between the nodes).
func demoRes(t *testing.T) *correlate.Result {
	t.Helper()
	demoOnce.Do(func() {
		files, _ := filepath.Glob(filepath.Join("..", "cmd", "calipath", "demo", "mtu-blackhole", "*.pcap"))
		if len(files) == 0 {
			return
		}
		c := decode.Load(files, decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{})
		demo = correlate.Correlate(c, correlate.Options{})
	})
	if demo == nil || len(demo.Flows) == 0 {
		t.Fatal("the mtu-blackhole demo captures did not load")
	}
	return demo
}

// openWorst opens the timeline of the flow list's first (worst) flow.
func openWorst(t *testing.T, res *correlate.Result, w, h int) Model {
	t.Helper()
	km := DefaultKeyMap()
	m := press(newTest(t, res, w, h), km.Flows, km.Enter)
	if m.Screen() != screenTimeline || m.tl.loading || m.tl.len() == 0 {
		t.Fatalf("no timeline: screen %v loading %v rows %d", m.Screen(), m.tl.loading, m.tl.len())
	}
	return m
}

// Timeline rows show each packet's TCP flags and IP length as sent, at 80 columns too.
func TestTimelineFlagsAndSizes(t *testing.T) {
	res := demoRes(t)
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		m := openWorst(t, res, sz[0], sz[1])
		if m.tl.flow.Proto != "tcp" {
			t.Fatalf("the demo's worst flow is %s, want tcp", m.tl.flow.Proto)
		}
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		j, _ := m.tl.selectedJourney()
		if want := fmt.Sprintf(" · flags [%s] · %d bytes · ", j.Hops[0].TCPFlags, j.Hops[0].Len); !strings.Contains(lines[len(lines)-2], want) {
			t.Fatalf("%v: the status line does not describe the selected packet (%q):\n%s", sz, want, strings.Join(lines, "\n"))
		}
		if !strings.Contains(lines[3], "tcp   len") {
			if sz[0] > 80 {
				t.Fatalf("%v: no flags and length column:\n%s", sz, strings.Join(lines, "\n"))
			}
			continue // at 80 columns the eight capture points take the room: the status line says it
		}
		big := false
		off, end := m.tl.rows(m.tl.listHeight(m.width, m.bodyHeight()))
		for r := off; r < end; r++ {
			row := m.tl.row(r)
			if row.kind != rowJourney {
				continue
			}
			j := &m.tl.all[row.j]
			want := fmt.Sprintf("%s %5d", fit(j.Hops[0].TCPFlags, 3), j.Hops[0].Len)
			line := lines[4+r-off]
			if j.Hops[0].Len == 0 || !strings.Contains(line, want) {
				t.Fatalf("%v: row %d does not show %q:\n%s", sz, r, want, line)
			}
			big = big || j.Hops[0].Len > 1400
		}
		if !big {
			t.Fatalf("%v: no large packet on the worst flow's first screen of the mtu-blackhole demo", sz)
		}
	}
}

// The packet screen shows the DF bit and the outer IP length of an encapsulated hop.
func TestPacketDFAndOuterLength(t *testing.T) {
	km := DefaultKeyMap()
	m := openWorst(t, demoRes(t), 160, 48)
	var outer, inner string
	// The first lost packet that crossed the tunnel (the first ones were lost before it).
	for k := 0; k < 10 && outer == ""; k++ {
		m = press(m, km.NextLoss, km.Enter)
		if m.Screen() != screenPacket || len(m.pk.frames) == 0 {
			t.Fatalf("no packet screen: %v", m.Screen())
		}
		for i := range m.pk.frames {
			pk := &m.pk.frames[i].pkt
			if pk.Encap != decode.EncapNone && outer == "" {
				outer, inner = fmt.Sprint(pk.Outer.TotalLen), ""
				if pk.Inner.DF {
					inner = fmt.Sprintf("%d [DF]", pk.Inner.TotalLen)
				}
			}
		}
		if outer == "" {
			m = press(m, km.Back)
		}
	}
	if outer == "" || inner == "" {
		t.Fatal("no lost packet crossed the tunnel with DF set: the demo changed")
	}
	v := ansi.Strip(m.View())
	var outerRow, lenRow string
	for _, l := range strings.Split(v, "\n") {
		switch {
		case strings.HasPrefix(l, "outer len"):
			outerRow = l
		case strings.HasPrefix(l, "length"):
			lenRow = l
		}
	}
	if !strings.Contains(outerRow, outer) || !strings.Contains(lenRow, inner) {
		t.Fatalf("outer len row %q (want %s), length row %q (want %s):\n%s", outerRow, outer, lenRow, inner, v)
	}
}

// n with no loss left says so, and says whether the flow has none at all.
func TestNoLossLeftSaysSo(t *testing.T) {
	km := DefaultKeyMap()
	m := openWorst(t, demoRes(t), 160, 48)
	m = press(m, km.End, km.NextLoss)
	if v := ansi.Strip(m.View()); !strings.Contains(v, "no lost packet below this row") {
		t.Fatalf("n at the end says nothing:\n%s", v)
	}
	res := *labRes
	for i, f := range res.Flows {
		if f.Lost == 0 {
			m = press(newTest(t, &res, 160, 48), km.Flows)
			m.fl.seek(func(item int) bool { return item == i })
			m = press(m, km.Enter, km.NextLoss)
			if v := ansi.Strip(m.View()); !strings.Contains(v, "no lost packet in this flow") {
				t.Fatalf("n on flow %s without loss:\n%s", f.ID, v)
			}
			return
		}
	}
	t.Fatal("the generated capture has no flow without loss")
}
