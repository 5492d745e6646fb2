package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// misnamedInputs returns the per-interface node files of lab scenario src (not the -any ones) and
// router-1's two captures renamed as the nodes' (router-1-eth0.pcap, on node-a's side, as
// node-b-eth1.pcap; router-1-eth1.pcap as node-a-eth1.pcap), copied into dir.
func misnamedInputs(t *testing.T, src, dir string, renamed map[string]string) []string {
	t.Helper()
	nodes, _ := filepath.Glob(filepath.Join(src, "node-*-*.pcap"))
	var files []string
	for _, f := range nodes {
		if !strings.HasSuffix(f, "-any.pcap") {
			files = append(files, f)
		}
	}
	for from, to := range renamed {
		b, err := os.ReadFile(filepath.Join(src, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.Join(dir, to))
	}
	return files
}

// A router's captures renamed as the nodes' in IP-in-IP (over the lab's TUN ipipd), VXLAN and VXLAN
// over IPv6 were read as the nodes' interfaces: the node's pods' packets there are encapsulated, and
// only the unencapsulated ones (BGP over IPv4) were looked at. healthy-ipip and healthy-vxlan then
// said clock-inconsistent and clock-step warnings at node-b, and mtu-blackhole6 "ERROR pmtu-blackhole
// at node-a/eth1 → node-a/eth0" (inside node-a, where router-1 dropped them). The node's own outer
// header's TTL (hop limit) is now compared with what its other files show: one lower is past a
// router, and the file is read as a router's, with a problem naming --point; mtu-blackhole6's
// blackhole is then between the two renamed files, router-1's eth1 → eth0 as in its truth.
func TestMisnamedRouterOuter(t *testing.T) {
	renamed := map[string]string{"router-1-eth0.pcap": "node-b-eth1.pcap", "router-1-eth1.pcap": "node-a-eth1.pcap"}
	for _, tc := range []struct {
		scenario, kind, where string
	}{
		{"healthy-ipip", "", ""},
		{"healthy-vxlan", "", ""},
		{"mtu-blackhole6", "pmtu-blackhole", "node-a-eth1/eth1→node-b-eth1/eth1"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			dir := t.TempDir()
			in := misnamedInputs(t, filepath.Join("../testdata/lab/scenarios", tc.scenario), dir, renamed)
			c := decode.Load(in, decode.Options{}, decode.PointConfig{})
			r := Correlate(c, Options{})
			var got []string
			for _, a := range r.Anomalies {
				switch a.Kind {
				case "host-drop", "clock-step", "clock-inconsistent", "decap-drop", "encap-drop", "loss":
					t.Errorf("%s %s at %s → %s", a.Severity, a.Kind, a.Where.From, a.Where.To)
				case tc.kind:
					got = append(got, a.Where.From+"→"+a.Where.To)
				}
			}
			if tc.kind != "" && (len(got) != 1 || got[0] != tc.where) {
				t.Errorf("%s at %q, want %s", tc.kind, got, tc.where)
			}
			checkMisnamedSaid(t, c, dir)
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

// checkMisnamedSaid checks that the files of c in dir (the renamed ones), and only they, have a
// problem naming --point.
func checkMisnamedSaid(t *testing.T, c *decode.Capture, dir string) {
	t.Helper()
	for _, fi := range c.Files {
		said := strings.Contains(strings.Join(fi.Problems, "\n"), "--point ROUTER:IFACE=")
		if renamed := filepath.Dir(fi.Path) == dir; said != renamed {
			t.Errorf("%s: problem naming --point %v, want %v: %q", fi.Path, said, renamed, fi.Problems)
		}
	}
}
