package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// underlay-loss loses 6 packets before router-1/eth1 and 3 before router-1/eth0. When router-1/eth1's
// capture says (an Interface Statistics Block) that it dropped 6 packets itself, the 6 are not
// captured, not lost, and the report says the capture lost them; the other 3 stay lost.
func TestCaptureDropped(t *testing.T) {
	lab := "../testdata/lab/scenarios/underlay-loss/"
	all, err := filepath.Glob(lab + "*.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var withISB []string
	for _, p := range all {
		if filepath.Base(p) == "router-1-eth1.pcap" {
			p = "../testdata/bundles/capture-loss/router-1-eth1.pcapng" // the same frames, and the ISB
		}
		withISB = append(withISB, p)
	}
	plain := Correlate(decode.Load(all, decode.Options{}, decode.PointConfig{}), Options{})
	// (The nodes' -i any files lack frames their per-interface files hold: an info capture-dropped on
	// a node, which judged nothing. None is said at router-1.)
	routerDrop := func(r *Result) *Anomaly {
		for i, a := range r.Anomalies {
			if a.Kind == "capture-dropped" && (strings.HasPrefix(a.Where.Point, "router-1/") || a.Severity != sevInfo) {
				return &r.Anomalies[i]
			}
		}
		return nil
	}
	if plain.Summary.Lost != 9 || plain.Summary.NotCaptured != 0 || routerDrop(plain) != nil {
		t.Fatalf("plain captures: %+v", plain.Summary)
	}
	r := Correlate(decode.Load(withISB, decode.Options{}, decode.PointConfig{}), Options{})
	if r.Summary.Lost != 3 || r.Summary.NotCaptured != 6 || r.Summary.Journeys != plain.Summary.Journeys {
		t.Errorf("with the ISB: %+v", r.Summary)
	}
	an := routerDrop(r)
	if an == nil || an.Where.Point != "router-1/eth1" || an.Count != 6 || an.Severity != sevWarning ||
		!strings.Contains(an.Message, "6 packets that vanished before it then are counted as not captured") {
		t.Errorf("capture-dropped: %+v", an)
	}
	for _, a := range r.Anomalies {
		if a.Kind == "loss" && a.Where.To == "router-1/eth1" {
			t.Errorf("a loss is still said before router-1/eth1: %+v", a)
		}
	}
	// A capture that says it dropped nothing changes nothing.
	zero := decode.PointConfig{Drops: []decode.CaptureDrop{{Path: lab + "router-1-eth1.pcap", Iface: -1, Dropped: 0, From: "router-1-eth1.log"}}}
	r = Correlate(decode.Load(all, decode.Options{}, zero), Options{})
	if r.Summary.Lost != plain.Summary.Lost || r.Summary.NotCaptured != 0 || routerDrop(r) != nil {
		t.Errorf("with a log of 0 drops: %+v", r.Summary)
	}
	// A tcpdump log's count (no times: the capture's span) does the same.
	cfg := decode.PointConfig{Drops: []decode.CaptureDrop{{Path: lab + "router-1-eth1.pcap", Iface: -1, Dropped: 6, From: "router-1-eth1.log"}}}
	r = Correlate(decode.Load(all, decode.Options{}, cfg), Options{})
	if r.Summary.Lost != 3 || r.Summary.NotCaptured != 6 || routerDrop(r) == nil {
		t.Errorf("with a tcpdump log: %+v", r.Summary)
	}
}

// findKind returns r's first anomaly of kind, or nil.
func findKind(r *Result, kind string) *Anomaly {
	for i := range r.Anomalies {
		if r.Anomalies[i].Kind == kind {
			return &r.Anomalies[i]
		}
	}
	return nil
}
