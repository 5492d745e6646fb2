package correlate

import (
	"path/filepath"
	"slices"
	"testing"
)

// One tcpdump -i any per node is the capture users make most: with only the -i any files of every lab
// scenario that has them, each ERROR is one truth.json expects. The kernel dropped bursts of frames
// from these captures (the per-interface files of the same runs hold them); on cc19f14
// six scenarios said "ERROR proxy-arp-missing" for replies the capture missed.
func TestAnyOnlyErrorsAreTrue(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	n := 0
	for _, dir := range dirs {
		if anys, _ := filepath.Glob(filepath.Join(dir, "*-any.pcap")); len(anys) == 0 {
			continue
		}
		n++
		sc := filepath.Base(dir)
		tr, _ := truthPods(t, sc)
		var want []string
		for _, e := range tr.Expected {
			want = append(want, e.Kind)
		}
		r := Correlate(labLoad(t, sc, "*-any.pcap", false), Options{})
		for _, a := range r.Anomalies {
			if a.Severity == sevError && !slices.Contains(want, a.Kind) {
				t.Errorf("%s, -i any files only: ERROR %s at %s%s (%d): truth.json expects %v", sc, a.Kind, a.Where.Point,
					a.Where.From, a.Count, want)
			}
		}
	}
	if n < 20 {
		t.Fatalf("%d lab scenarios with -i any captures, want the lab's 30 or so", n)
	}
}
