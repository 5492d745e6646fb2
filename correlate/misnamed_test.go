package correlate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// router-any-drop's router-1 drops pod-a's UDP to pod-b between its eth0 and eth1 (the truth's
// segment). Its per-interface captures renamed as a Calico node's (router-1-eth0.pcap as
// node-b-eth1.pcap, router-1-eth1.pcap as node-a-eth1.pcap) were read as those nodes' underlays: the
// drop became "WARNING host-drop at node-b/eth1 → node-b/eth0" with clock-step and
// clock-inconsistent warnings. node-b's pods' packets cross such a file two hops from the pod (TTL
// 62), never one (63) as on node-b's own interfaces, so each is now read as a router of its own,
// named after the file, with a problem that names the fix (--point): the drop is an underlay drop
// between the two, as with the files' own names, and no host drop or clock warning is left. The
// nodes' own files (and every lab scenario) are read as named.
func TestMisnamedRouter(t *testing.T) {
	src := "../testdata/lab/scenarios/router-any-drop"
	dir := t.TempDir()
	nodes, _ := filepath.Glob(filepath.Join(src, "node-*-*.pcap"))
	var files []string
	for _, f := range nodes {
		if !strings.HasSuffix(f, "-any.pcap") {
			files = append(files, f)
		}
	}
	for from, to := range map[string]string{"router-1-eth0.pcap": "node-b-eth1.pcap", "router-1-eth1.pcap": "node-a-eth1.pcap"} {
		b, err := os.ReadFile(filepath.Join(src, "truth-captures", from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		extra []string
		drop  string
	}{
		{"both", []string{"node-b-eth1.pcap", "node-a-eth1.pcap"}, "node-b-eth1/eth1→node-a-eth1/eth1"},
		{"eth0 only", []string{"node-b-eth1.pcap"}, "node-b-eth1/eth1→node-b/eth0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(files)
			for _, e := range tc.extra {
				in = append(in, filepath.Join(dir, e))
			}
			c := decode.Load(in, decode.Options{}, decode.PointConfig{})
			r := Correlate(c, Options{})
			var drops []string
			for _, a := range r.Anomalies {
				switch a.Kind {
				case "host-drop", "clock-step", "clock-inconsistent":
					t.Errorf("%s %s at %s → %s", a.Severity, a.Kind, a.Where.From, a.Where.To)
				case "underlay-drop":
					drops = append(drops, a.Where.From+"→"+a.Where.To)
				}
			}
			if len(drops) != 1 || drops[0] != tc.drop {
				t.Errorf("underlay-drop at %q, want %s", drops, tc.drop)
			}
			for _, fi := range c.Files {
				said := strings.Contains(strings.Join(fi.Problems, "\n"), "--point ROUTER:IFACE=")
				if renamed := filepath.Dir(fi.Path) == dir; said != renamed {
					t.Errorf("%s: problem naming --point %v, want %v: %q", fi.Path, said, renamed, fi.Problems)
				}
			}
			// calipath points (ScanPoints, which keeps no frames) says the same.
			sc := decode.ScanPoints(in, decode.Options{}, decode.NewTables(), decode.PointConfig{})
			for _, cc := range []*decode.Capture{c, sc} {
				for _, p := range cc.Points {
					if (p.Node == "node-a" || p.Node == "node-b") && p.Iface == "eth1" {
						t.Errorf("point %s: a router's capture read as the node's", p.ID)
					}
				}
			}
		})
	}
}
