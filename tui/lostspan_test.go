package tui

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// A loss the captures cannot place on its segment (correlate.Journey.LostUncaptured, LostAt.Uncaptured,
// Segment.LostUncaptured: last seen at a pod's cali, not at its node's tunl0, the node's underlay not
// captured; state-missing-route without node-b's eth0) is not said to be on cali → tunl0: the packet
// screen's head and the overview's note below the segments say where it may have been, the flow list's
// lost column ends in "?" instead of the tunnel device, the timeline's cell there is "✕ lost?".
func TestLossPastUncapturedUnderlay(t *testing.T) {
	unc := []string{"node-b underlay"}
	j := &correlate.Journey{ID: 1, Flow: "f1", Dir: "s2c", Status: "lost", LastSeen: "node-b/cali2f5353dd8c5",
		NextExpected: "node-b/tunl0", LostUncaptured: unc}
	head := packetHead(j)
	if !strings.Contains(head, "last seen at node-b/cali2f5353dd8c5, not at node-b/tunl0, and node-b underlay was not captured") ||
		strings.Contains(head, "next expected node-b/tunl0") {
		t.Errorf("packet head: %q", head)
	}
	if c := unarrivedCell(j); c != "✕ lost?" {
		t.Errorf("timeline cell at node-b/tunl0: %q, want ✕ lost?", c)
	}
	j.LostUncaptured = nil
	if c := unarrivedCell(j); c != "✕ lost" {
		t.Errorf("timeline cell of a placed loss: %q, want ✕ lost", c)
	}
	if head := packetHead(j); !strings.Contains(head, "after node-b/cali2f5353dd8c5 (next expected node-b/tunl0)") {
		t.Errorf("packet head of a placed loss: %q", head)
	}
	f := &correlate.Flow{ID: "f1", LostAt: []correlate.LostAt{{From: "node-b/cali2f5353dd8c5", To: "node-b/tunl0", Count: 3, Uncaptured: unc}}}
	if got := lostWhere(f); strings.Contains(got, "tunl0") || !strings.HasSuffix(got, "→?") {
		t.Errorf("lost column: %q", got)
	}
	f.LostAt[0].Uncaptured = nil
	if got := lostWhere(f); !strings.Contains(got, "tunl0") {
		t.Errorf("lost column of a placed loss: %q", got)
	}
	res := &correlate.Result{Segments: []correlate.Segment{{From: "node-b/cali2f5353dd8c5", To: "node-b/tunl0", Kind: "encap",
		Packets: 6, Lost: 6, LostUncaptured: unc}}}
	got := strings.Join(strings.Fields(strings.Join(segClockLines(res, 100), " ")), " ")
	if !strings.Contains(got, "! node-b/cali2f5353dd8c5 → node-b/tunl0: the 6 lost were last seen at node-b/cali2f5353dd8c5") {
		t.Errorf("overview's segment notes: %q", got)
	}
	res.Segments[0].LostUncaptured = nil
	if lines := segClockLines(res, 100); len(lines) != 0 {
		t.Errorf("overview's segment notes of a placed loss: %q", lines)
	}
}
