package correlate

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// TestOpenerNotShown: Result.OpenerNotShown marks exactly the UDP flows without NAT whose opening no
// capture could have shown, by the test natOpeners makes of a NAT flow (openingSeen) on the listing of
// every source's flows (srcFlowsIn, cor16's srcFlows.late), which OpenerNotShown makes over the flow's
// own sightings alone (flowSources): the two agree on every such flow of lab scenarios whose UDP
// begins well after the captures (healthy-ipip, underlay-loss, same-node: opening shown) and of
// generated captures, whose traffic begins with them (not shown). Flows with NAT, TCP and ICMP
// flows are not marked.
func TestOpenerNotShown(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed, cfg.Packets, cfg.Flows, cfg.Mode = 5, 400, 12, gen.ModeIPIP
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]string{"generated": g.Files}
	for _, sc := range []string{"healthy-ipip", "underlay-loss", "same-node", "snat-external"} {
		inputs[sc] = labFiles(t, sc, func(n string) bool { return !strings.HasSuffix(n, "-any.pcap") })
	}
	shown, notShown := 0, 0
	for name, files := range inputs {
		r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		a := r.analysis
		for i := range r.Flows {
			f := &r.Flows[i]
			got := r.OpenerNotShown(f.ID)
			if f.Proto != "udp" || len(f.NAT) != 0 {
				if got != "" {
					t.Errorf("%s: %s flow %s %s → %s (NAT %d): marked %q", name, f.Proto, f.ID, f.Src, f.Dst, len(f.NAT), got)
				}
				continue
			}
			fl := a.flows[a.flowIndex(f.ID)]
			seen, _ := a.openingSeen(fl, map[uint16]*srcFlows{}) // every source's flows listed
			if seen == (got != "") {
				t.Errorf("%s: flow %s %s → %s: OpenerNotShown %q, the sources' listing says opening shown %v", name, f.ID,
					f.Src, f.Dst, got, seen)
			}
			if got != "" && got != firstSeenNote {
				t.Errorf("%s: flow %s: note %q", name, f.ID, got)
			}
			if seen {
				shown++
			} else {
				notShown++
			}
			if name != "generated" && !seen {
				t.Errorf("%s: UDP flow %s %s → %s, begun well after the captures, not shown opening", name, f.ID, f.Src, f.Dst)
			}
		}
	}
	t.Logf("UDP flows without NAT: %d opening shown, %d not", shown, notShown)
	if shown == 0 || notShown == 0 {
		t.Errorf("%d UDP flows without NAT with their opening shown, %d without: want some of each", shown, notShown)
	}
	if (&Result{}).OpenerNotShown("f1") != "" {
		t.Error("a Result without its analysis marks a flow")
	}
}
