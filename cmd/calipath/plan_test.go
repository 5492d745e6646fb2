package main

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

var updatePlan = flag.Bool("update-plan", false, "rewrite the plan golden files")

// planDir holds the plan goldens; planMeta is the lab's clusterip-dnat metadata they are made from.
const (
	planDir  = "testdata/plan"
	planMeta = lab + "/clusterip-dnat/k8s"
)

// TestPlanGolden prints plans for the lab's clusterip-dnat metadata (testdata/lab/scenarios/clusterip-dnat/k8s): to the service, to the pod,
// with -i any, and with ring buffers; compared with testdata/plan/<case>.golden.
func TestPlanGolden(t *testing.T) {
	meta := []string{"--k8s", filepath.Join(planMeta, "kubectl.json"), "--k8s", filepath.Join(planMeta, "calicoctl-ippools.yaml")}
	for name, args := range map[string][]string{
		"service":   {"--from", "default/pod-a", "--to", "pod-b-svc"},
		"pod":       {"--from", "default/pod-b", "--to", "default/pod-a"},
		"any":       {"--from", "default/pod-a", "--to", "default/pod-b-svc", "--any"},
		"ring":      {"--from", "default/pod-a", "--to", "default/pod-b", "--ring", "10", "--ring-size", "50", "--underlay", "ens5"},
		"wireguard": {"--from", "default/pod-a", "--to", "default/pod-b", "--wireguard"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCLI(append(append([]string{"plan"}, meta...), args...)...)
			if code != exitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			p := filepath.Join(planDir, name+".golden")
			if *updatePlan {
				if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/calipath -run TestPlanGolden -update-plan)", err)
			}
			if d := cmp.Diff(string(want), out); d != "" {
				t.Errorf("plan %s (-want +got):\n%s", name, d)
			}
		})
	}
}

// TestPlanFilesReadWithoutFlags: every file the plan writes is named so that calipath finds its node
// and interface, with the interface's role, from the name alone; and for the lab's scenario they are
// the names of the lab's own per-interface captures (which the lab took on the same pods).
func TestPlanFilesReadWithoutFlags(t *testing.T) {
	code, out, errs := runCLI("plan", "--k8s", planMeta, "--from", "default/pod-a", "--to", "default/pod-b-svc")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var files []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "tcpdump ") {
			_, rest, _ := strings.Cut(l, " -w ")
			f, _, _ := strings.Cut(rest, " ")
			files = append(files, f)
			node, iface := decode.SplitFileName(f)
			if node == "" || iface == "" || decode.RoleOfIface(iface) == decode.RoleUnknown {
				t.Errorf("%s: calipath reads node %q interface %q (role %v) from its name", f, node, iface, decode.RoleOfIface(iface))
			}
		}
	}
	var lab []string
	for _, f := range labCaptures(t, "clusterip-dnat") {
		if !strings.HasPrefix(f, "router-") {
			lab = append(lab, f)
		}
	}
	got := append([]string{}, files...)
	sort.Strings(got)
	if d := cmp.Diff(lab, got); d != "" {
		t.Errorf("the plan's files are not the lab's captures of the same pods (-lab +plan):\n%s", d)
	}
}

// TestBuildPlan checks plans built from hand-made specs: pods on one node (no tunnel, no underlay),
// a host-network backend (no veth), a BGP pool (no tunnel) and a node without an address.
func TestBuildPlan(t *testing.T) {
	a := planPod{key: "default/a", ip: netip.MustParseAddr("10.244.1.5"), node: "n1", iface: "caliaaaaaaaaaaa"}
	b := planPod{key: "default/b", ip: netip.MustParseAddr("10.244.1.6"), node: "n1", iface: "calibbbbbbbbbbb"}
	h := planPod{key: "kube-system/h", ip: netip.MustParseAddr("192.168.0.3"), node: "n3", hostNet: true}
	c := planPod{key: "default/c", ip: netip.MustParseAddr("10.244.2.9"), node: "n2", iface: "caliccccccccccc"}
	ips := map[string]netip.Addr{"n1": netip.MustParseAddr("192.168.0.1"), "n3": netip.MustParseAddr("192.168.0.3")}
	summary := func(plan []nodePlan) []string {
		var out []string
		for _, np := range plan {
			for _, c := range np.captures {
				out = append(out, np.node+" "+c.iface+" "+c.file+" ["+c.filter+"]")
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		spec planSpec
		want []string
	}{
		{"same node", planSpec{from: a, to: []planPod{b}, tunnels: []string{"tunl0"}, underlay: "eth0", nodeIP: ips},
			[]string{"n1 caliaaaaaaaaaaa n1-caliaaaaaaaaaaa.pcap []", "n1 calibbbbbbbbbbb n1-calibbbbbbbbbbb.pcap []"}},
		{"host network backend", planSpec{from: a, to: []planPod{h}, tunnels: []string{"vxlan.calico"}, underlay: "eth0", nodeIP: ips},
			[]string{"n1 caliaaaaaaaaaaa n1-caliaaaaaaaaaaa.pcap []",
				"n1 vxlan.calico n1-vxlan.calico.pcap [host 10.244.1.5]",
				"n1 eth0 n1-eth0.pcap [host 192.168.0.3]",
				"n3 vxlan.calico n3-vxlan.calico.pcap []",
				"n3 eth0 n3-eth0.pcap [host 192.168.0.1 or host 10.244.1.5]"}},
		{"bgp, peer without address", planSpec{from: a, to: []planPod{c}, underlay: "eth0", nodeIP: ips},
			[]string{"n1 caliaaaaaaaaaaa n1-caliaaaaaaaaaaa.pcap []",
				"n1 eth0 n1-eth0.pcap [host 10.244.2.9]",
				"n2 caliccccccccccc n2-caliccccccccccc.pcap []",
				"n2 eth0 n2-eth0.pcap [host 192.168.0.1 or host 10.244.1.5]"}},
		{"service backends on two nodes, one beside the client", planSpec{from: a, to: []planPod{c, b}, tunnels: []string{"tunl0"}, underlay: "eth0", nodeIP: ips},
			[]string{"n1 caliaaaaaaaaaaa n1-caliaaaaaaaaaaa.pcap []", "n1 calibbbbbbbbbbb n1-calibbbbbbbbbbb.pcap []",
				"n1 tunl0 n1-tunl0.pcap [host 10.244.1.5 or host 10.244.1.6]",
				"n1 eth0 n1-eth0.pcap [host 10.244.2.9]",
				"n2 caliccccccccccc n2-caliccccccccccc.pcap []",
				"n2 tunl0 n2-tunl0.pcap [host 10.244.2.9]",
				"n2 eth0 n2-eth0.pcap [host 192.168.0.1 or host 10.244.1.5]"}},
	} {
		if d := cmp.Diff(c.want, summary(buildPlan(c.spec))); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, d)
		}
	}
}

func TestPlanUsage(t *testing.T) {
	meta := filepath.Join(planMeta, "kubectl.json")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"plan", "--from", "default/pod-a", "--to", "pod-b-svc"}, "--k8s PATH is needed"},
		{[]string{"plan", "--k8s", meta, "--to", "pod-b-svc"}, "--from NAMESPACE/POD and --to"},
		{[]string{"plan", "--k8s", meta, "--from", "default/nobody", "--to", "pod-b-svc"}, "no such pod"},
		{[]string{"plan", "--k8s", meta, "--from", "default/pod-a", "--to", "nothing"}, "no such pod or service"},
		{[]string{"plan", "--k8s", meta, "--from", "default/pod-a", "--to", "pod-b-svc", "--underlay", "eth0;rm"}, "plain name"},
		{[]string{"plan", "--k8s", meta, "--from", "default/pod-a", "--to", "pod-b-svc", "x.pcap"}, "takes no files"},
	} {
		code, _, errs := runCLI(c.args...)
		if code != exitUsage || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, exitUsage, c.msg)
		}
	}
}
