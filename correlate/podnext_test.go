package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// clock-drift's per-interface files without pod-a's cali (node-a-cali5e1c4d6c68c.pcap), with --k8s:
// pod-a's packets start, and pod-b's answers stop, at node-a's tunl0, on the source's (destination's)
// node, and the next step said "the source pod's cali interface" (and "the destination pod's") where
// the metadata names the pod, default/pod-a, and its interface. It now names them; without --k8s the
// words stay.
func TestPathIncompleteNamesPod(t *testing.T) {
	dir := filepath.Join("../testdata/lab/scenarios", "clock-drift")
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	for _, f := range all {
		if !strings.HasSuffix(f, "-any.pcap") && !strings.HasSuffix(f, "-cali5e1c4d6c68c.pcap") {
			files = append(files, f)
		}
	}
	kcfg, m := labK8sConfig(t, dir, decode.PointConfig{})
	for _, k8s := range []bool{false, true} {
		r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		want := []string{"the source pod's cali interface", "the destination pod's cali interface"}
		if k8s {
			r = Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m})
			want = []string{"default/pod-a's interface cali5e1c4d6c68c", "default/pod-a's interface cali5e1c4d6c68c"}
		}
		var got []string
		for _, an := range r.Anomalies {
			if an.Kind == "path-incomplete" && an.Where.Point == "node-a/tunl0" {
				got = append(got, an.Next)
			}
		}
		if len(got) != 2 {
			t.Fatalf("k8s %v: %d path-incomplete at node-a/tunl0, want 2: %q", k8s, len(got), got)
		}
		for _, w := range want {
			n := 0
			for _, g := range got {
				if strings.Contains(g, w) {
					n++
				}
			}
			if want := 1 + btoi(k8s); n != want {
				t.Errorf("k8s %v: next %q\nwant %d with %q", k8s, got, want, w)
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
