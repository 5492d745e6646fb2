package lab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// truth holds the fields of a truth file that do not change from run to
// run: no timestamps, packet totals, ephemeral ports or ICMP identifiers.
type truth struct {
	Scenario string `json:"scenario"`
	Mode     string `json:"mode"`
	Nodes    []struct {
		Name, IP, Block string
		TunnelIP        string `json:"tunnel_ip"`
		Pods            []struct{ Name, Namespace, IP, Iface string }
	} `json:"nodes"`
	Points []struct {
		Node, Iface, Role, File string
		LinkType                int `json:"link_type"`
	} `json:"points"`
	MultiInterface []struct {
		Node, File string
		Ifaces     []string
	} `json:"multi_interface"`
	Flows []flow `json:"flows"`
	NAT   []struct {
		Kind, Proto, From, To, Where string
	} `json:"nat"`
	Traffic []struct {
		Kind, From, Dst string
		Sent, Received  int
		Status          int
		Bytes           int64
	} `json:"traffic"`
	ExpectedAnomalies []struct{ Kind, Where string } `json:"expected_anomalies"`
	PortReuse         []struct {
		Ends        [2]string
		Connections []struct {
			Client, Server string
			Answered       bool
		}
	} `json:"port_reuse"`
}

type flow struct {
	Proto     string `json:"proto"`
	Src       string `json:"src"`
	Dst       string `json:"dst"`
	Sport     int    `json:"sport"`
	Dport     int    `json:"dport"`
	Sent      int    `json:"sent"`
	Delivered int    `json:"delivered"`
	LostAt    string `json:"lost_at"`
	Path      []string
}

func load(t *testing.T, name string) truth {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var tr truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	masq := map[string]bool{} // the nodes' tunnel addresses: a NodePort's masquerade picks their ports
	for _, n := range tr.Nodes {
		masq[n.TunnelIP] = n.TunnelIP != ""
	}
	for i := range tr.NAT {
		if n := &tr.NAT[i]; n.Kind == "snat" { // MASQUERADE --random-fully: both ports vary between runs
			n.From, n.To = noPort(n.From), noPort(n.To)
			masq[n.To] = true // and so does the port of the address it picked (a hairpin's: the node's)
		}
	}
	for i := range tr.Flows {
		f := &tr.Flows[i]
		if masq[f.Src] {
			f.Sport = 0
		}
		if masq[f.Dst] {
			f.Dport = 0
		}
		if f.Proto == "icmp" {
			f.Sport = 0 // echo identifier: the client's pid
		}
		if f.Sport >= 32768 {
			f.Sport = 0
		}
		if f.Dport >= 32768 {
			f.Dport = 0
		}
		if f.Proto == "tcp" {
			// The number of segments depends on ACK timing and offload;
			// whether all of them arrived does not.
			f.Sent, f.Delivered = f.Sent-f.Delivered, 0
		}
	}
	// Flows that differ only by their ephemeral ports (zeroed above) are listed in the order of those
	// ports, which vary between runs: clusterip-two-nodes' connections to one Service, some to pod-b and
	// some to pod-c, would pair with each other in another order. Sort them by everything compared.
	sort.SliceStable(tr.Flows, func(i, j int) bool { return fmt.Sprint(tr.Flows[i]) < fmt.Sprint(tr.Flows[j]) })
	return tr
}

// noPort is address:port without its port.
func noPort(ap string) string {
	if i := strings.LastIndexByte(ap, ':'); i >= 0 {
		return ap[:i]
	}
	return ap
}

// TestHealthyIPIP rebuilds the healthy-ipip scenario on this kernel and
// checks that its truth agrees with the committed one. It needs root,
// network namespaces, tcpdump, dumpcap, nft, iptables and the go tool.
//
//	sudo go test ./testdata/lab/ -run HealthyIPIP -v
func TestHealthyIPIP(t *testing.T) {
	rerun(t, "scenarios", "healthy-ipip")
}

// TestRouterAnyBGP does the same for router-any-bgp: router-1 captured with one tcpdump -i any, its
// interfaces read from the cooked v2 file and its links file and checked against its per-interface
// captures, and the cooked v1 file of the same moments holding as many frames.
//
//	sudo go test ./testdata/lab/ -run RouterAnyBGP -v
func TestRouterAnyBGP(t *testing.T) {
	rerun(t, "scenarios", "router-any-bgp")
}

// TestNodePortCluster does the same for nodeport-cluster: ext-1 to node-a's node ports, DNATed and
// masqueraded on node-a to pod-b on node-b (the masquerade's ports vary between runs), and pod-a's
// pings to pod-b before and after: eight flows, each delivered whole.
//
//	sudo go test ./testdata/lab/ -run NodePortCluster -v
func TestNodePortCluster(t *testing.T) {
	rerunFlows(t, "scenarios", "nodeport-cluster", 8, nil)
}

// TestNodePortClusterDrop does the same for nodeport-cluster-drop: nodeport-cluster with router-1
// dropping the node port's UDP on its second way through (in IP-in-IP, toward node-b), after its eth0
// saw it twice. Seven flows: the UDP's three datagrams lost between router-1's eth0 and eth1 (no reply),
// every other flow delivered whole.
//
//	sudo go test ./testdata/lab/ -run NodePortClusterDrop -v
func TestNodePortClusterDrop(t *testing.T) {
	rerunFlows(t, "scenarios", "nodeport-cluster-drop", 7, map[string]string{"udp": "router-1/eth0→router-1/eth1"})
}

// TestNodePortLocal does the same for nodeport-local: ext-1 to node-a's node ports
// (externalTrafficPolicy Local), DNATed on node-a to pod-a on node-a itself and not masqueraded, and
// pod-a's pings to pod-b before and after: eight flows, each delivered whole.
//
//	sudo go test ./testdata/lab/ -run NodePortLocal -v
func TestNodePortLocal(t *testing.T) {
	rerunFlows(t, "scenarios", "nodeport-local", 8, nil)
}

// TestHairpinClusterIP does the same for hairpin-clusterip: pod-a to a Service whose only endpoint is
// pod-a itself, DNATed and masqueraded (to node-a's address, its port varying between runs) back into
// pod-a's cali, and pod-a's pings to pod-b before and after: eight flows, each delivered whole.
//
//	sudo go test ./testdata/lab/ -run HairpinClusterIP -v
func TestHairpinClusterIP(t *testing.T) {
	rerunFlows(t, "scenarios", "hairpin-clusterip", 8, nil)
}

// TestClusterIPTwoNodes does the same for clusterip-two-nodes: pod-a to a Service with an endpoint on
// each node, which node-a DNATs to pod-b (node-b) and pod-c (node-a) in turn per connection: four HTTP
// and four UDP connections, two of each to each endpoint, each way, and pod-a's pings to pod-b before
// and after: twenty flows, each delivered whole, on the path of the endpoint it went to.
//
//	sudo go test ./testdata/lab/ -run ClusterIPTwoNodes -v
func TestClusterIPTwoNodes(t *testing.T) {
	rerunFlows(t, "scenarios", "clusterip-two-nodes", 20, nil)
}

// TestPortReuse rebuilds port-reuse: four TCP connections on one 5-tuple, pod-a's three from its port
// 20000 to pod-b:8080 and pod-b's one back from 8080 to pod-a's 20000, each answered; with the pings
// before and after, six flows, all delivered.
//
//	sudo go test ./testdata/lab/ -count=1 -run PortReuse -v
func TestPortReuse(t *testing.T) {
	rerunFlows(t, "scenarios", "port-reuse", 6, nil)
	tr := load(t, filepath.Join("scenarios", "port-reuse", "truth.json"))
	if len(tr.PortReuse) != 1 || len(tr.PortReuse[0].Connections) != 4 {
		t.Fatalf("port_reuse %+v: want one tuple of four connections", tr.PortReuse)
	}
	for i, c := range tr.PortReuse[0].Connections {
		client := "10.244.1.5:20000"
		if i == 3 {
			client = "10.244.2.7:8080"
		}
		if c.Client != client || !c.Answered {
			t.Errorf("connection %d %+v: want opened by %s and answered", i, c, client)
		}
	}
}

// TestPortReuseNAT rebuilds port-reuse-nat: three TCP connections on one tuple through node-a's NAT,
// pod-a's two from its port 20000 to ext-1:8080, masqueraded keeping the port, and ext-1's one back
// from 8080 to node-a's 20000, DNATed to pod-a's, each answered; with the pings before and after, six
// flows (the truth's, by their tuple at their origin), all delivered.
//
//	sudo go test ./testdata/lab/ -count=1 -run PortReuseNAT -v
func TestPortReuseNAT(t *testing.T) {
	rerunFlows(t, "scenarios", "port-reuse-nat", 6, nil)
	tr := load(t, filepath.Join("scenarios", "port-reuse-nat", "truth.json"))
	if len(tr.PortReuse) != 1 || len(tr.PortReuse[0].Connections) != 3 {
		t.Fatalf("port_reuse %+v: want one tuple of three connections", tr.PortReuse)
	}
	for i, c := range tr.PortReuse[0].Connections {
		client := "10.244.1.5:20000"
		if i == 2 {
			client = "203.0.113.10:8080"
		}
		if c.Client != client || !c.Answered {
			t.Errorf("connection %d %+v: want opened by %s and answered", i, c, client)
		}
	}
}

// TestHostToPod does the same for host-to-pod: a host-networked client on node-a (node-a's own stack,
// from tunl0's address) to pod-b, and pod-a's pings to pod-b before and after: ten flows (ping, HTTP
// and UDP each way from node-a, two ping flows each way from pod-a), each delivered whole.
//
//	sudo go test ./testdata/lab/ -run HostToPod -v
func TestHostToPod(t *testing.T) {
	rerunFlows(t, "scenarios", "host-to-pod", 10, nil)
}

// TestHealthyWireGuard does the same for healthy-wireguard (issue 18).
// Its daemon, testdata/lab/wgd, is a module of its own: the test skips, saying so, when its
// modules cannot be downloaded.
//
//	sudo go test ./testdata/lab/ -run HealthyWireGuard -v
func TestHealthyWireGuard(t *testing.T) {
	labTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "download")
	cmd.Dir = "wgd"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("testdata/lab/wgd's modules cannot be downloaded: %v\n%s", err, out)
	}
	rerun(t, "scenarios", "healthy-wireguard")
}

// labTools skips unless the lab can run here.
func labTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the namespace lab in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root to create network namespaces")
	}
	for _, tool := range []string{"bash", "ip", "tcpdump", "dumpcap", "nft", "iptables", "bridge", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the lab needs %s: %v", tool, err)
		}
	}
	probe := "cplprobe" + strconv.Itoa(os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("network namespaces do not work here: %v: %s", err, out)
	}
	if out, err := exec.Command("ip", "netns", "del", probe).CombinedOutput(); err != nil {
		t.Fatalf("ip netns del %s: %v: %s", probe, err, out)
	}
}

// rerun runs one healthy scenario into a temporary directory and compares the stable fields of
// its truth with the committed one in dir/scenario.
func rerun(t *testing.T, dir, scenario string) { rerunFlows(t, dir, scenario, 6, nil) }

// rerunFlows is rerun for a scenario of n flows (6: ping, HTTP and UDP, both directions), each delivered
// whole but those of a protocol in lost, each of whose packets must be lost at its segment.
func rerunFlows(t *testing.T, dir, scenario string, n int, lost map[string]string) {
	labTools(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "lab.sh", "-o", out, scenario)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lab.sh: %v\n%s", err, b)
	}
	want := load(t, filepath.Join(dir, scenario, "truth.json"))
	got := load(t, filepath.Join(out, scenario, "truth.json"))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("truth mismatch (-committed +rerun):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, f := range got.Flows {
		if at, ok := lost[f.Proto]; ok && f.LostAt != "" {
			// The flow the scenario drops: every packet lost there.
			seen[f.Proto] = true
			if f.LostAt != at || f.Delivered != 0 {
				t.Errorf("flow %+v: want every packet lost at %s", f, at)
			}
			continue
		}
		// load left a TCP flow's undelivered count in Sent (its packet counts vary between runs).
		if f.LostAt != "" || (f.Proto == "tcp" && f.Sent != 0) || (f.Proto != "tcp" && f.Sent != f.Delivered) {
			t.Errorf("healthy flow %+v lost packets", f)
		}
	}
	for proto, at := range lost {
		if !seen[proto] {
			t.Errorf("no %s flow lost at %s", proto, at)
		}
	}
	if len(got.Flows) != n {
		t.Errorf("got %d flows, want %d", len(got.Flows), n)
	}
	for _, p := range got.Points {
		st, err := os.Stat(filepath.Join(out, scenario, p.File))
		if err != nil || st.Size() <= 24 {
			t.Errorf("capture %s missing or empty: %v", p.File, err)
		}
	}
}

// stateTruth is what a state-* scenario's truth expects calipath to cite from the nodes' dumps.
type stateTruth struct {
	Expected []struct {
		Kind, Node, File, Text string
		Line, Entry            int
	} `json:"expected_explanations"`
}

// TestStateScenarios reproduces the state-* scenarios (a node's route, neighbour or interface MTU
// broken; its `ip` dumps written in the same run as the captures) and runs calipath report --k8s on
// each, the directory given as metadata: every line the truth expects (computed by the lab's own code
// from the rules and the dumps) is cited by an anomaly with its kind, and nothing else is. It needs
// what TestHealthyIPIP needs; about 4 minutes.
//
//	sudo go test ./testdata/lab/ -run StateScenarios -v
func TestStateScenarios(t *testing.T) {
	labTools(t)
	scenarios := []string{"state-blackhole-route", "state-missing-route", "state-neigh-failed", "state-low-mtu",
		"state-no-default-route", "state-neigh-failed6"}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := filepath.Join(out, "calipath")
	if b, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/calipath").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	cmd := exec.CommandContext(ctx, "bash", append([]string{"lab.sh", "-o", out}, scenarios...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lab.sh: %v\n%s", err, b)
	}
	for _, sc := range scenarios {
		t.Run(sc, func(t *testing.T) {
			dir := filepath.Join(out, sc)
			var tr stateTruth
			b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &tr); err != nil {
				t.Fatal(err)
			}
			if len(tr.Expected) == 0 {
				t.Fatal("the truth expects no explanation")
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			args := append([]string{"report", "--format", "json", "--k8s", dir}, files...)
			js, err := exec.CommandContext(ctx, bin, args...).Output()
			if err != nil {
				t.Fatalf("calipath %v: %v", args, err)
			}
			var res struct {
				Anomalies []struct {
					Kind        string
					ExplainedBy []struct {
						Kind, Node, File string
						Line, Entry      int
					} `json:"explained_by"`
				}
			}
			if err := json.Unmarshal(js, &res); err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, an := range res.Anomalies {
				for _, e := range an.ExplainedBy {
					k := e.Kind + " " + e.Node + " " + filepath.Base(e.File) + ":" + strconv.Itoa(e.Line) + "#" + strconv.Itoa(e.Entry)
					got[k] = append(got[k], an.Kind)
				}
			}
			want := map[string]bool{}
			for _, e := range tr.Expected {
				k := e.Kind + " " + e.Node + " " + e.File + ":" + strconv.Itoa(e.Line) + "#" + strconv.Itoa(e.Entry)
				want[k] = true
				if len(got[k]) == 0 {
					t.Errorf("no anomaly cites %s (%q); cited: %v", k, e.Text, got)
				}
			}
			for k, kinds := range got {
				if !want[k] {
					t.Errorf("%v cite %s, which the truth does not expect", kinds, k)
				}
			}
		})
	}
}
