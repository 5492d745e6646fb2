package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
	"github.com/charmbracelet/x/ansi"
)

// TestTimelinePathUnordered: router-three-ifaces-drop's node files, router-1's eth2 and ext-1's eth0
// without ext-1's echo replies, so that nothing orders router-1/eth2 and ext-1/eth0 (their clocks each
// bounded from node-a only; report's TestPathUnorderedDrawn). The timeline of the flow across them
// draws their columns in an order nothing confirms: it says so under its head, as it says of a
// clock whose limits jump; before, nothing said it.
func TestTimelinePathUnordered(t *testing.T) {
	in := testtool.LabWithout(t, filepath.Join("../testdata/lab/scenarios", "router-three-ifaces-drop"), []string{"node-a-cali5e1c4d6c68c.pcap",
		"node-a-eth0.pcap", "node-b-cali2f5353dd8c5.pcap", "node-b-eth0.pcap", "router-1-eth2.pcap", "ext-1-eth0.pcap"},
		func(f []byte) bool { return testtool.EchoReplyFrom(f, [4]byte{203, 0, 113, 10}) })
	res := correlate.Correlate(decode.Load(in, decode.Options{}, decode.PointConfig{}), correlate.Options{})
	km := DefaultKeyMap()
	marked := 0
	for k := range res.Flows {
		m := press(newTest(t, res, 200, 48), km.Flows)
		for range k {
			m = press(m, km.Down)
		}
		m = press(m, km.Enter)
		if m.tl.flow == nil || m.tl.loading {
			t.Fatalf("flow %d: no timeline", k)
		}
		view := ansi.Strip(m.tl.view(m.c, 200, m.bodyHeight()))
		said := strings.Contains(view, "! order of router-1/eth2 and ext-1/eth0 not known") ||
			strings.Contains(view, "! order of ext-1/eth0 and router-1/eth2 not known")
		if unordered := len(m.tl.flow.PathUnordered) > 0; said != unordered {
			t.Errorf("%s (path %q, unordered at %v): the timeline says the order is not known: %v\n%s",
				m.tl.flow.ID, m.tl.flow.Path, m.tl.flow.PathUnordered, said, view)
		}
		if said {
			marked++
		}
	}
	if marked == 0 {
		t.Error("no flow's timeline says the order of router-1/eth2 and ext-1/eth0 is not known")
	}
}
