package correlate

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

// TestLabIPv6LinkScope follows healthy-vxlan6, the lab's IPv6 scenario, from its per-interface files:
// its neighbour solicitations and advertisements (pod-a's for its gateway fe80::ecee:eeff:feee:eeee,
// node-b's for pod-b, the nodes' and router-1's on the underlay) and pod-a's router solicitation
// never leave their link, so they are no flows and no losses: calipath 7bdaded followed them as
// routed packets and said underlay-drop at router-1 and host-drop at both pods' veths, all ERRORs,
// on a healthy run.
func TestLabIPv6LinkScope(t *testing.T) {
	dir := "../testdata/lab/scenarios/healthy-vxlan6"
	var files []string
	for _, g := range []string{"node-?-cali*.pcap", "node-?-vxlan-v6.calico.pcap", "node-?-eth0.pcap", "router-1-eth?.pcap"} {
		m, _ := filepath.Glob(filepath.Join(dir, g))
		files = append(files, m...)
	}
	if len(files) != 8 {
		t.Fatalf("%d capture files, want 8", len(files))
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	linkOnly := func(s string) bool {
		a, err := netip.ParseAddr(s)
		return err != nil || a.IsLinkLocalUnicast() || a.IsMulticast()
	}
	for _, f := range r.Flows {
		if linkOnly(f.Src.IP) || linkOnly(f.Dst.IP) {
			t.Errorf("flow %s %s %s → %s: a message of one link followed as a flow", f.ID, f.Proto, f.Src.IP, f.Dst.IP)
		}
	}
	if len(r.Flows) != 3 {
		t.Errorf("%d flows, want 3 (ping6, HTTP, UDP)", len(r.Flows))
	}
	for _, an := range r.Anomalies {
		if an.Severity == "error" {
			t.Errorf("%s %s at %+v: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
	}
}

// TestLabIPv6PodNotLinkLocal: in vxlan6-underlay-drop pod-b's veth holds one frame, pod-b's router
// solicitation from its link-local address to ff02::2: that address is no pod's (calipath 7bdaded
// named pod-b's veth "pod fe80::…"); a link-local or multicast address never is.
func TestLabIPv6PodNotLinkLocal(t *testing.T) {
	dir := "../testdata/lab/scenarios/vxlan6-underlay-drop/"
	files, _ := filepath.Glob(dir + "node-?-*.pcap")
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	seen := 0
	for _, p := range r.Points {
		if p.Role != "pod-veth" {
			continue
		}
		seen++
		for _, s := range strings.Split(p.PodIP, ", ") {
			if a, err := netip.ParseAddr(s); err == nil && (a.IsLinkLocalUnicast() || a.IsMulticast()) {
				t.Errorf("%s: pod %s", p.ID, s)
			}
		}
	}
	if seen != 2 {
		t.Errorf("%d pod veths, want 2", seen)
	}
}

// TestLabIPv6OrphanPod: in vxlan6-underlay-drop pod-b sent nothing but its router solicitation, and
// every packet to it died at router-1, so only the inner destination of the VXLAN datagrams encapsulated
// to node-b's IP (fd00:20::2) says who lives behind node-b's only pod-veth: fd00:244::47, placed there
// as an IPv4 pod's address is (calipath before this placed IPv4 only, and the paths ended at node-b's
// vxlan-v6.calico). With a second pod-veth on node-b that saw nothing, either could be pod-b's: then
// neither is named (no guess).
func TestLabIPv6OrphanPod(t *testing.T) {
	dir := "../testdata/lab/scenarios/vxlan6-underlay-drop/"
	var files []string
	for _, g := range []string{"node-?-cali*.pcap", "node-?-vxlan-v6.calico.pcap", "node-?-eth0.pcap", "router-1-eth?.pcap"} {
		m, _ := filepath.Glob(dir + g)
		files = append(files, m...)
	}
	pods := func(files []string) map[string]string {
		r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		out := map[string]string{}
		for _, p := range r.Points {
			if p.Role == "pod-veth" {
				out[p.ID] = p.PodIP
			}
		}
		return out
	}
	got := pods(files)
	want := map[string]string{"node-a/cali5e1c4d6c68c": "fd00:244::5", "node-b/cali2f5353dd8c5": "fd00:244::47"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pods (-want +got):\n%s", diff)
	}

	// A second, silent pod-veth on node-b: a copy of pod-b's veth file under another veth's name.
	b, err := os.ReadFile(dir + "node-b-cali2f5353dd8c5.pcap")
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "node-b-cali0123456789a.pcap")
	if err := os.WriteFile(other, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got = pods(append(files, other))
	want = map[string]string{"node-a/cali5e1c4d6c68c": "fd00:244::5", "node-b/cali2f5353dd8c5": "", "node-b/cali0123456789a": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("two silent pod-veths on node-b: pods (-want +got):\n%s", diff)
	}
}

// TestLabAnyPodByMAC: in vxlan6-underlay-drop's -i any shape (each node's -i any file and router-1's
// captures) node-b's pod veth (any#3) holds one frame, pod-b's router solicitation from its MAC: no
// Calico signature, so calipath had no role for it and the paths ended at router-1/eth1. Pod-b's
// workload endpoint gives that MAC (spec.mac), so with the metadata the interface is pod-b's veth,
// named after the endpoint's interfaceName (cali2f5353dd8c5, as the per-interface file is) and its
// pod, and the paths end there as with the per-interface files; the loss stays where the truth has
// it. Without the metadata nothing changes.
func TestLabAnyPodByMAC(t *testing.T) {
	dir := "../testdata/lab/scenarios/vxlan6-underlay-drop/"
	files, _ := filepath.Glob(dir + "node-?-any.pcap")
	routers, _ := filepath.Glob(dir + "router-1-eth?.pcap")
	files = append(files, routers...)
	if len(files) != 4 {
		t.Fatalf("%d capture files, want 4", len(files))
	}
	cfg, m := labK8sConfig(t, dir, decode.PointConfig{})
	r := Correlate(decode.Load(files, decode.Options{}, cfg), Options{Cluster: m})
	var pb *Point
	for i := range r.Points {
		if r.Points[i].ID == "node-b/cali2f5353dd8c5" {
			pb = &r.Points[i]
		}
	}
	if pb == nil {
		t.Fatalf("no node-b/cali2f5353dd8c5 (node-b's any#3) among %+v", r.Points)
	}
	if pb.Role != "pod-veth" || pb.Pod != "default/pod-b" ||
		!strings.Contains(pb.Reason, "role inferred: frames from pod default/pod-b's MAC 16:ad:a9:4b:87:bb (WorkloadEndpoint default/node--b-k8s-pod--b-eth0 in ") {
		t.Errorf("node-b/cali2f5353dd8c5: role %q, pod %q, reason %q; want pod-veth of default/pod-b, inferred from its MAC", pb.Role, pb.Pod, pb.Reason)
	}
	lost := 0
	for _, f := range r.Flows {
		if n := len(f.Path); n == 0 || f.Path[n-1] != "node-b/cali2f5353dd8c5" {
			t.Errorf("flow %s: path %v, want it to end at pod-b's veth node-b/cali2f5353dd8c5", f.ID, f.Path)
		}
		for _, j := range r.FlowJourneys(f.ID) {
			if j.Status == statusLost && j.LastSeen+"→"+j.NextExpected == "router-1/eth0→router-1/eth1" {
				lost++
			}
		}
	}
	if len(r.Flows) != 3 || lost != 9 {
		t.Errorf("%d flows, %d packets lost at router-1/eth0→router-1/eth1; want 3 and 9 (truth.json)", len(r.Flows), lost)
	}
	r = Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	for _, p := range r.Points {
		if p.ID == "node-b/any#3" && (p.Role != "unknown" || p.Pod != "") {
			t.Errorf("without the metadata node-b/any#3 is %s of %q: nothing else says whose it is", p.Role, p.Pod)
		}
	}
}
