package correlate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// any-bgp-underlay-drop with node-b's -i any capture started only after pod-a's last packet to pod-b
// left node-a: the metadata still puts pod-b on node-b, but that node was not capturing when the
// packets would have arrived, so none of them is called lost.
func TestK8sDstNodeNotCapturing(t *testing.T) {
	dir := "../testdata/lab/scenarios/any-bgp-underlay-drop"
	m, probs, err := cluster.Load([]string{filepath.Join(dir, "k8s")})
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	cfg := decode.PointConfig{Links: labLinksIn(t, dir)}
	read := func(name string) ([]byte, []pcapRec, int64) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return readPcapRecs(t, b)
	}
	_, aRecs, _ := read("node-a-any.pcap")
	var last int64
	podB := []byte{10, 244, 2, 7}
	for _, r := range aRecs {
		if d := r.data[16:]; len(d) > 40 && string(d[20+16:20+20]) == string(podB) { // SLL2 (20 bytes), then IPv4's dst
			last = r.ts
		}
	}
	if last == 0 {
		t.Fatal("no frame to pod-b in node-a's capture")
	}
	hdr, bRecs, unit := read("node-b-any.pcap")
	var kept []pcapRec
	for _, r := range bRecs {
		if r.ts > last+int64(1e6) {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 || len(kept) == len(bRecs) {
		t.Fatalf("kept %d of node-b's %d frames", len(kept), len(bRecs))
	}
	out := t.TempDir()
	pb := filepath.Join(out, "node-b-any.pcap")
	if err := os.WriteFile(pb, writePcapRecs(hdr, kept, unit), 0o644); err != nil {
		t.Fatal(err)
	}
	r := Correlate(decode.Load([]string{filepath.Join(dir, "node-a-any.pcap"), pb}, decode.Options{}, cfg), Options{Cluster: m})
	for _, an := range r.Anomalies {
		t.Logf("%s %s %+v: %s", an.Severity, an.Kind, an.Where, an.Message)
	}
	for _, an := range r.Anomalies {
		if an.Severity == "error" {
			t.Errorf("%s %s at %+v though node-b was not capturing then", an.Severity, an.Kind, an.Where)
		}
	}
	if r.Summary.Lost != 0 {
		t.Errorf("%d lost", r.Summary.Lost)
	}
}
