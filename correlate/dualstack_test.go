package correlate

import (
	"path/filepath"
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
