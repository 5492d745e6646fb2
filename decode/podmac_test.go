package decode

import (
	"net"
	"slices"
	"strings"
	"testing"
)

func hw(t *testing.T, s string) [6]byte {
	t.Helper()
	m, err := net.ParseMAC(s)
	if err != nil || len(m) != 6 {
		t.Fatalf("%s: %v", s, err)
	}
	return [6]byte(m)
}

// A -i any capture's senders are the link addresses frames came in from: at node-a's pod veth (any#3
// of vxlan6-underlay-drop) pod-a's MAC, never ee:ee:ee:ee:ee:ee, the host's own on the frames it sent
// (packet type outgoing); at node-b's, pod-b's router solicitation, a frame without a fingerprint.
func TestSenders(t *testing.T) {
	dir := "../testdata/lab/scenarios/vxlan6-underlay-drop/"
	c := Load([]string{dir + "node-a-any.pcap", dir + "node-b-any.pcap"}, Options{}, PointConfig{})
	want := map[string][][6]byte{
		"node-a/any#3": {hw(t, "e2:3c:6c:9f:89:66")},
		"node-b/any#3": {hw(t, "16:ad:a9:4b:87:bb")},
	}
	for _, p := range c.Points {
		w, ok := want[p.ID]
		if !ok {
			continue
		}
		if got := p.Traffic.Senders(); !slices.Equal(got, w) {
			t.Errorf("%s: senders %x, want %x", p.ID, got, w)
		}
		delete(want, p.ID)
	}
	if len(want) > 0 {
		t.Errorf("points not found: %v", want)
	}
}

// The pods' MACs (PointConfig.PodMACs, from workload endpoints) give an interface no role the traffic
// shows to the one pod whose MAC its frames came from, on that pod's node only; frames from several
// pods' MACs give it to none; and a role the traffic proves is never changed.
func TestPodByMAC(t *testing.T) {
	podA, podB, podC := hw(t, "02:00:00:00:00:0a"), hw(t, "02:00:00:00:00:0b"), hw(t, "02:00:00:00:00:0c")
	macs := map[[6]byte]PodMAC{
		podA: {Node: "node-a", Pod: "default/pod-a", Why: "WorkloadEndpoint default/a in weps.yaml"},
		podB: {Node: "node-b", Pod: "default/pod-b", Why: "WorkloadEndpoint default/b in weps.yaml"},
		podC: {Node: "node-a", Pod: "default/pod-c", Why: "WorkloadEndpoint default/c in weps.yaml"},
	}
	cases := []struct {
		name     string
		senders  [][6]byte
		arp      [6]byte // an ARP sender's, zero for none
		macs     map[[6]byte]PodMAC
		role     Role
		pod, why string
	}{
		{"pod-a's", [][6]byte{podA}, [6]byte{}, macs, RolePodVeth, "default/pod-a",
			"frames from pod default/pod-a's MAC 02:00:00:00:00:0a (WorkloadEndpoint default/a in weps.yaml)"},
		{"pod-a's ARP", nil, podA, macs, RolePodVeth, "default/pod-a", "frames from pod default/pod-a's MAC"},
		{"no metadata", [][6]byte{podA}, [6]byte{}, nil, RoleUnknown, "", "no Calico signature"},
		{"another node's pod", [][6]byte{podB}, [6]byte{}, macs, RoleUnknown, "",
			"frames from pod default/pod-b's MAC 02:00:00:00:00:0b, but the metadata puts that pod on node node-b"},
		{"two pods", [][6]byte{podA, podC}, [6]byte{}, macs, RoleUnknown, "", "frames from the MACs of 2 pods"},
		{"no pod's", [][6]byte{hw(t, "02:00:00:00:00:ff")}, [6]byte{}, macs, RoleUnknown, "", "no Calico signature"},
	}
	for _, c := range cases {
		var tr Traffic
		for _, m := range c.senders {
			tr.addSender(mac48(m))
		}
		if c.arp != ([6]byte{}) {
			tr.addARP(ARPFact{Op: 2, SHA: c.arp})
		}
		role, why, pm := podByMAC(&tr, c.macs, "node-a", "no Calico signature in the traffic")
		if role != c.role || pm.Pod != c.pod || !strings.Contains(why, c.why) {
			t.Errorf("%s: %v %q %q, want %v %q %q", c.name, role, pm.Pod, why, c.role, c.pod, c.why)
		}
	}

	// The pod's interface names an unnamed interface index, never one a name was given.
	named := PodMAC{Pod: "default/pod-a", Iface: "cali5e1c4d6c68c"}
	for _, c := range []struct {
		iface string
		pm    PodMAC
		want  string
	}{
		{"any#3", named, "cali5e1c4d6c68c"},
		{"any#3", PodMAC{Pod: "default/pod-a"}, "any#3"},
		{"veth12", named, "veth12"},
		{"calideadbeef01", named, "calideadbeef01"},
	} {
		if got, why := podIface(c.iface, "w", c.pm); got != c.want || (got != c.iface) != strings.Contains(why, "the endpoint's interfaceName") {
			t.Errorf("%s with %+v: %s (%s), want %s", c.iface, c.pm, got, why, c.want)
		}
	}

	// node-a's eth0 (any#2) carries VXLAN: its sender's MAC given to a pod of node-a changes nothing.
	dir := "../testdata/lab/scenarios/vxlan6-underlay-drop/"
	c0 := Load([]string{dir + "node-a-any.pcap"}, Options{}, PointConfig{})
	var eth0 []([6]byte)
	for _, p := range c0.Points {
		if p.ID == "node-a/any#2" {
			eth0 = p.Traffic.Senders()
		}
	}
	if len(eth0) == 0 {
		t.Fatal("node-a/any#2: no sender")
	}
	cfg := PointConfig{PodMACs: map[[6]byte]PodMAC{eth0[0]: {Node: "node-a", Pod: "default/pod-x", Why: "test"}}}
	for _, p := range Load([]string{dir + "node-a-any.pcap"}, Options{}, cfg).Points {
		if p.ID == "node-a/any#2" && (p.Role != RoleUnderlay || p.Pod != "" || strings.Contains(p.Reason, "pod-x")) {
			t.Errorf("node-a/any#2: %v, pod %q (%s): the traffic proves it is the underlay", p.Role, p.Pod, p.Reason)
		}
	}
}
