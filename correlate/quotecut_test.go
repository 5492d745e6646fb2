package correlate

import (
	"path/filepath"
	"strings"
	"testing"
)

// ICMP errors whose quote a -s 64 capture cut before the quoted packet's ports (review8 #6): the
// router's "fragmentation needed" quoting an IP-in-IP packet keeps only its outer header, and a
// node's error to its pod keeps 2 bytes of the quoted TCP, UDP or ICMP header. Each attaches to the
// flow the quoted addresses, protocol and length name alone, as with whole frames: pmtu-discovery
// has its 3 flows (not 5), df-ping-refused its encap-drop of the refused ping (not "not captured"),
// and the truth of each scenario holds (checkLab). state-missing-route's port-unreachable quotes a
// UDP packet of the length of two flows' packets: it joins neither, starts no flow of its own (3
// flows, not 4), and its anomaly says why and how to name it.
func TestSnaplenCutQuote(t *testing.T) {
	for _, sc := range []string{"pmtu-discovery", "df-ping-refused", "state-missing-route"} {
		t.Run(sc, func(t *testing.T) {
			anys, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "*-any.pcap"))
			var drop []string
			for _, p := range anys {
				drop = append(drop, filepath.Base(p))
			}
			_, whole := labSubset(t, sc, drop, nil)
			cut := snapScenario(t, sc, 64, true, false)
			if len(cut.Flows) != len(whole.Flows) {
				var ids []string
				for _, f := range cut.Flows {
					ids = append(ids, f.Proto+" "+f.Src.IP+"→"+f.Dst.IP)
				}
				t.Errorf("%d flows cut to 64 bytes, %d with whole frames: %v", len(cut.Flows), len(whole.Flows), ids)
			}
			if a, b := verdicts(cut), verdicts(whole); strings.Join(a, "|") != strings.Join(b, "|") {
				t.Errorf("cut to 64 bytes %q, whole frames %q", a, b)
			}
			for _, e := range cut.ICMP {
				if e.Flow != "" {
					continue
				}
				said := false
				for _, an := range cut.Anomalies {
					said = said || strings.HasPrefix(an.Kind, "icmp-") && strings.Contains(an.Message, "in no flow") &&
						strings.Contains(an.Message, "-s 0")
				}
				if !said {
					t.Errorf("ICMP error at %s quoting %s names no flow, and no anomaly says why", e.Point, e.Quoted)
				}
			}
		})
	}
}
