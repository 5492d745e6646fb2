package correlate

import (
	"os"
	"path/filepath"
	"slices"
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

// With --k8s, a path that leaves the captures headed for an address the metadata places (a node's
// InternalIP, a pod's address) said "(whose node none of the captures shows)" and "Capture on the
// receiving node too … (--node-ip NODE=IP says which node an address is …)": oneway without node-a's
// eth0 (packets at router-1's eth2 to node-a's 192.168.10.2), and nodeport-cluster without pod-b's
// cali (packets at node-b's tunl0 to pod-b's 10.244.2.7, on node-b itself). They now name the node,
// and the pod's interface; without --k8s the words stay.
func TestPathIncompleteNamesNode(t *testing.T) {
	for _, tc := range []struct {
		scenario, out, point string
		msg, next            string
	}{
		{"oneway", "node-a-eth0.pcap", "router-1/eth2", "192.168.10.2 (node-a's own address: no capture of node-a shows them)",
			"Capture on node-a too — its eth0"},
		{"nodeport-cluster", "node-b-cali2f5353dd8c5.pcap", "node-b/tunl0", "10.244.2.7 on node-b (the destination's node, by the cluster's metadata)",
			"default/pod-b's interface cali2f5353dd8c5"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			dir := filepath.Join("../testdata/lab/scenarios", tc.scenario)
			files := slices.DeleteFunc(perIfaceFiles(tc.scenario), func(f string) bool { return filepath.Base(f) == tc.out })
			kcfg, m := labK8sConfig(t, dir, decode.PointConfig{})
			for _, k8s := range []bool{false, true} {
				r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
				if k8s {
					r = Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m})
				}
				var said, unsaid int
				for _, an := range r.Anomalies {
					if an.Kind != "path-incomplete" || an.Where.Point != tc.point {
						continue
					}
					msg := strings.Join(strings.Fields(an.Message), " ")
					if strings.Contains(msg, tc.msg) && strings.Contains(an.Next, tc.next) {
						said++
					}
					if strings.Contains(msg, "whose node none of the captures shows") {
						unsaid++
					}
				}
				if k8s && (said == 0 || unsaid > 0) || !k8s && said > 0 {
					t.Errorf("k8s %v: %d path-incomplete at %s naming the node, %d saying none shows it: %+v", k8s, said, tc.point, unsaid, r.Anomalies)
				}
			}
		})
	}
}

// Packets first seen on a node with a source the metadata gives that node's tunnel device (the node's
// own packets to a pod): the next step asks for no pod's cali interface, which they never crossed. The
// node and its tunnel address come from the scenario's truth. (nodeport-cluster-drop without node-a's
// eth0, whose masqueraded requests were first seen at node-a/tunl0 so, is joined whole since npc12:
// TestOnNodeTextOwn holds the tunnel device's case.)
func TestPathIncompleteTunnelAddressOwn(t *testing.T) {
	for _, tc := range []struct {
		scenario, out, point, next string
	}{
		{"host-to-pod", "node-a-tunl0.pcap", "node-a/eth0", "its tunnel device"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			dir := filepath.Join("../testdata/lab/scenarios", tc.scenario)
			var nt struct {
				Nodes []struct {
					Name     string `json:"name"`
					TunnelIP string `json:"tunnel_ip"`
				} `json:"nodes"`
			}
			truthInto(t, tc.scenario, &nt)
			node, _, _ := strings.Cut(tc.point, "/")
			tunnel := ""
			for _, n := range nt.Nodes {
				if n.Name == node {
					tunnel = n.TunnelIP
				}
			}
			files := slices.DeleteFunc(perIfaceFiles(tc.scenario), func(f string) bool { return filepath.Base(f) == tc.out })
			kcfg, m := labK8sConfig(t, dir, decode.PointConfig{})
			r := Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m})
			found := 0
			for _, an := range r.Anomalies {
				msg := strings.Join(strings.Fields(an.Message), " ")
				if an.Kind != "path-incomplete" || an.Where.Point != tc.point || !strings.Contains(msg, " "+tunnel+" ") && !strings.Contains(msg, "("+tunnel+")") {
					continue
				}
				found++
				next := strings.Join(strings.Fields(an.Next), " ")
				if strings.Contains(next, "cali") && !strings.Contains(next, "wireguard.cali") ||
					!strings.Contains(next, tc.next) || !strings.Contains(next, node+"'s own address, not a pod's") {
					t.Errorf("next %q: want %q and %s's own address, no pod's cali", next, tc.next, node)
				}
			}
			if found == 0 {
				t.Errorf("no path-incomplete at %s from %s: %+v", tc.point, tunnel, r.Anomalies)
			}
		})
	}
}

// An open end at an address the metadata places outside the cluster (in no IP pool, no node's, pod's
// or Service's address: the scenario's external host, by its truth) asks for a capture at that host,
// not at a "receiving node" or a "source pod's cali"; without --k8s nothing says so.
func TestPathIncompleteOutsideCluster(t *testing.T) {
	sc := "router-three-ifaces-any"
	dir := filepath.Join("../testdata/lab/scenarios", sc)
	var nt struct {
		External []struct {
			Name string `json:"name"`
			IP   string `json:"ip"`
		} `json:"external"`
	}
	truthInto(t, sc, &nt)
	if len(nt.External) != 1 {
		t.Fatalf("truth's external hosts: %v", nt.External)
	}
	ext := nt.External[0]
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	for _, f := range all {
		if !strings.HasPrefix(filepath.Base(f), ext.Name+"-") {
			files = append(files, f)
		}
	}
	lf, err := os.Open(filepath.Join(dir, "router-1-links.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	links, err := decode.ParseIPLink(lf)
	if err != nil {
		t.Fatal(err)
	}
	pc := decode.PointConfig{Links: map[string]map[int32]string{"router-1": links}}
	kcfg, m := labK8sConfig(t, dir, pc)
	for _, k8s := range []bool{false, true} {
		r := Correlate(decode.Load(files, decode.Options{}, pc), Options{})
		if k8s {
			r = Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m})
		}
		said, ends := 0, 0
		for _, an := range r.Anomalies {
			msg := strings.Join(strings.Fields(an.Message), " ")
			if an.Kind != "path-incomplete" || !strings.Contains(msg, " "+ext.IP+" (") {
				continue
			}
			ends++
			if strings.Contains(msg, ext.IP+" (outside the cluster by its metadata") &&
				strings.Contains(an.Next, "Capture at the host that ") && strings.Contains(an.Next, ext.IP) &&
				!strings.Contains(an.Next, "node") && !strings.Contains(an.Next, "cali") {
				said++
			}
		}
		if ends == 0 || k8s && said != ends || !k8s && said > 0 {
			t.Errorf("k8s %v: %d of %d open ends at %s say it is outside the cluster: %+v", k8s, said, ends, ext.IP, r.Anomalies)
		}
	}
}

// At the tunnel device itself, packets from or to the node's own address ask for the node's eth0 or
// -i any (what sent them there, or what takes them in), never a pod's interface or the tunnel device
// again; elsewhere on the node, for the tunnel device. Not own: the pods' interfaces, as before.
func TestOnNodeTextOwn(t *testing.T) {
	g := &openEndGroup{n: 3, addrs: map[string]bool{"10.244.1.0": true}}
	pods := []localPod{{pod: "default/pod-a", iface: "cali5e1c4d6c68c", ip: "10.244.1.5"}}
	for _, tc := range []struct {
		left, atTunnel, own bool
		want, not           string
	}{
		{false, true, true, "its eth0, or tcpdump -i any there (the source is node-a's own address", "cali"},
		{true, true, true, "tcpdump -i any there (the destination is node-a's own address", "cali"},
		{false, false, true, "its tunnel device (tunl0, vxlan.calico or wireguard.cali; the source is node-a's own address", "cali5e"},
		{true, false, true, "its tunnel device (tunl0, vxlan.calico or wireguard.cali; the destination is node-a's own address", "cali5e"},
		{false, false, false, "default/pod-a's interface cali5e1c4d6c68c and the tunnel device", "own address"},
		{true, true, false, "default/pod-a's interface cali5e1c4d6c68c, or tcpdump -i any there", "own address"},
	} {
		_, next := g.onNodeText(tc.left, "node-a/tunl0", "node-a", tc.atTunnel, pods, false, tc.own)
		if !strings.Contains(next, tc.want) || strings.Contains(next, tc.not) {
			t.Errorf("left %v, at the tunnel %v, own %v: next %q, want %q and no %q", tc.left, tc.atTunnel, tc.own, next, tc.want, tc.not)
		}
	}
}
