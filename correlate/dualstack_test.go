package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// Dual-stack VXLAN (testdata/generated/dualstack-vxlan, its gen.py the truth): the IPv6 flow's path
// also crosses node-b's vxlan.calico, which never carries IPv6. That device, having seen none of the
// IPv6 packets, was taken for a capture of one direction only ("capture-one-way" at three tunnel
// devices, taken out of the paths); a point is judged only by the families it carried. 38 packets
// sent, 36 delivered, the 2 IPv6 requests lost at router-1.
func TestDualStackNotOneWay(t *testing.T) {
	files, err := filepath.Glob("../testdata/generated/dualstack-vxlan/*.pcap")
	if err != nil || len(files) != 10 {
		t.Fatalf("%d files: %v", len(files), err)
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	if s := r.Summary; s.Journeys != 38 || s.Delivered != 36 || s.Lost != 2 {
		t.Errorf("summary %+v, want 38 sent, 36 delivered, 2 lost", s)
	}
	for _, a := range r.Anomalies {
		if a.Kind == "capture-one-way" || a.Severity == "error" {
			t.Errorf("%s %s at %s%s→%s: %s", a.Severity, a.Kind, a.Where.Point, a.Where.From, a.Where.To, a.Message)
		}
	}
}

// The enc variant (gen.py enc, in testdata/generated/dualstack-vxlan/enc): every IPv6 request is seen
// at pod-a's veth and at node-a/vxlan-v6.calico, then dropped before the underlay. A tunnel device
// carries one family, so the IPv6 path is cali → vxlan-v6.calico → eth0 and the IPv4 path never
// crosses vxlan-v6.calico. With both devices on both paths the drop was "host-drop at
// node-a/vxlan-v6.calico → node-a/vxlan.calico".
func TestDualStackEncapDropOwnTunnel(t *testing.T) {
	files, err := filepath.Glob("../testdata/generated/dualstack-vxlan/enc/*.pcap")
	if err != nil || len(files) != 10 {
		t.Fatalf("%d files: %v", len(files), err)
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	if s := r.Summary; s.Journeys != 30 || s.Delivered != 20 || s.Lost+s.NotCaptured != 10 || s.Lost == 0 {
		t.Errorf("summary %+v, want 30 sent, 20 delivered, 10 lost (some may be not captured)", s)
	}
	var errs []string
	for _, a := range r.Anomalies {
		if a.Severity == "error" {
			errs = append(errs, a.Kind+" "+a.Where.From+" → "+a.Where.To)
		}
	}
	if want := "encap-drop node-a/vxlan-v6.calico → node-a/eth0"; len(errs) != 1 || errs[0] != want {
		t.Errorf("errors %q, want only %q", errs, want)
	}
	for _, f := range r.Flows {
		v6 := strings.Contains(f.Src.IP, ":")
		for _, p := range f.Path {
			if v6 && strings.HasSuffix(p, "/vxlan.calico") || !v6 && strings.HasSuffix(p, "/vxlan-v6.calico") {
				t.Errorf("flow %s (%s) crosses %s: %v", f.ID, f.Src.IP, p, f.Path)
			}
		}
	}
}
