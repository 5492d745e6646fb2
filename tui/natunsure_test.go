package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
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
