package tui

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// The packet screen of an ICMP error that may have crossed a NAT the captures do not show
// (nat-error-late: pod-b's port-unreachable, un-NATed on node-a, its quoted datagram captured after
// the DNAT only) says its status is uncertain and why, not "delivered".
func TestPacketUncertainICMPError(t *testing.T) {
	files, _ := filepath.Glob("../testdata/lab/scenarios/nat-error-late/*.pcap")
	if len(files) == 0 {
		t.Fatal("no nat-error-late captures")
	}
	res := correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{Journeys: true})
	var j *correlate.Journey
	for i := range res.Journeys {
		if res.Journeys[i].Status == "uncertain" {
			j = &res.Journeys[i]
			break
		}
	}
	if j == nil {
		t.Fatal("no uncertain journey")
	}
	m := newTest(t, res, 160, 48)
	m.pk = packetView{has: true, j: *j}
	v := ansi.Strip(m.pk.view(m.c, 160, 40))
	if !strings.Contains(v, "· uncertain") || !strings.Contains(v, "Uncertain: followed as delivered") ||
		!strings.Contains(v, "icmp-error-nat-unknown") {
		t.Errorf("packet screen:\n%s", v)
	}
}

// The timeline of nat-error-late's flow f4 marks the ICMP error that may have crossed a NAT unseen
// "? uncertain" where it was expected next (pod-a's veth) and, selected, says why on the status line:
// before, it was drawn as any packet not delivered ("?" before its row), its reason on the packet
// screen only.
func TestTimelineUncertainICMPError(t *testing.T) {
	files, _ := filepath.Glob("../testdata/lab/scenarios/nat-error-late/*.pcap")
	if len(files) == 0 {
		t.Fatal("no nat-error-late captures")
	}
	res := correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{Journeys: true})
	var j *correlate.Journey
	for i := range res.Journeys {
		if res.Journeys[i].Status == "uncertain" && res.Journeys[i].NextExpected != "" {
			j = &res.Journeys[i]
			break
		}
	}
	if j == nil {
		t.Fatal("no uncertain journey with a point expected next")
	}
	tl, row := timelineRow(t, res, j)
	lines := strings.Split(tl, "\n")
	col := func(l, s string) int { // in runes
		if i := strings.Index(l, s); i >= 0 {
			return utf8.RuneCountInString(l[:i])
		}
		return -1
	}
	cali := col(lines[2], "cali")
	if at := col(row, "? uncertain"); at < 0 || cali < 0 || at != cali {
		t.Errorf("the selected row does not say ? uncertain under %s (column %d):\n%s", j.NextExpected, cali, tl)
	}
	if st := lines[len(lines)-1]; !strings.Contains(st, "· Uncertain: followed as delivered where it was last seen, at node-a/tunl0") {
		t.Errorf("the status line does not say why: %q", st)
	}
}

// The packet screen of a packet whose fate was not captured says where it was last seen and where it
// was expected next, as it does for a lost one, and its timeline row says "? not captured" where it
// was expected next, as "✕ lost" for a lost one: before, the screen said "not-captured" alone and
// the row nothing. Generated
// captures (seed 25 of correlate's TestWindowTooSmallGenerated): the first packet is lost on the
// underlay just before node-1's captures start, so its loss cannot be told from a capture not yet
// running.
func TestPacketNotCapturedSaysWhere(t *testing.T) {
	g := testtool.LossySet(t, 25, 3000, 20, 0.01)
	res := correlate.Correlate(decode.Load(g.Files, decode.Options{}, decode.PointConfig{}), correlate.Options{Journeys: true})
	n := 0
	for i := range res.Journeys {
		j := &res.Journeys[i]
		if j.Status != "not-captured" || j.LastSeen == "" || j.NextExpected == "" {
			continue
		}
		n++
		m := newTest(t, res, 200, 48)
		m.pk = packetView{has: true, j: *j}
		v := ansi.Strip(m.pk.view(m.c, 200, 40))
		want := "· not-captured after " + j.LastSeen + " (next expected " + j.NextExpected + ", not captured there)"
		if !strings.Contains(v, want) {
			t.Errorf("journey %d: packet screen without %q:\n%s", j.ID, want, v)
		}
		if tl, row := timelineRow(t, res, j); !strings.Contains(row, "? not captured") {
			t.Errorf("journey %d: its timeline row %q does not say ? not captured:\n%s", j.ID, row, tl)
		}
	}
	if n == 0 {
		t.Fatal("no not-captured journey with a last and a next point")
	}
}

// timelineRow opens journey j's flow on the Timeline (200 columns wide), selects j and returns the
// screen and j's row, without colours.
func timelineRow(t *testing.T, res *correlate.Result, j *correlate.Journey) (string, string) {
	t.Helper()
	km := DefaultKeyMap()
	m := press(newTest(t, res, 200, 48), km.Flows)
	for i := 0; i < len(res.Flows) && res.Flows[m.fl.selectedFlow()].ID != j.Flow; i++ {
		m = press(m, km.Down)
	}
	if res.Flows[m.fl.selectedFlow()].ID != j.Flow {
		t.Fatalf("flow %s not in the list", j.Flow)
	}
	m = press(m, km.Enter)
	for i := 0; i < m.tl.len(); i++ {
		if sj, ok := m.tl.selectedJourney(); ok && sj.ID == j.ID {
			break
		}
		m = press(m, km.Down)
	}
	if sj, ok := m.tl.selectedJourney(); !ok || sj.ID != j.ID {
		t.Fatalf("journey %d not in the timeline", j.ID)
	}
	tl := ansi.Strip(m.tl.view(m.c, 200, m.bodyHeight()))
	row := ""
	for _, l := range strings.Split(tl, "\n") {
		if strings.HasPrefix(l, strings.TrimSpace(cursorMark(true))) {
			row = l
		}
	}
	return tl, row
}
