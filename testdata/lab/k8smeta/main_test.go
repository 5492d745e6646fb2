package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/cluster"
)

// labDirs are the committed scenarios calipath follows.
func labDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../scenarios/*/lab.log")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no committed scenarios: %v", err)
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

// Each scenario's k8s/ is what k8smeta writes from its lab.log, and nothing else: rerun
// `go run ./testdata/lab/k8smeta testdata/lab/scenarios/*/` after re-capturing.
func TestCommittedUpToDate(t *testing.T) {
	for _, dir := range labDirs(t) {
		l, err := readLab(filepath.Join(dir, "lab.log"))
		if err != nil {
			t.Fatal(err)
		}
		if err := podMACs(dir, l); err != nil {
			t.Fatal(err)
		}
		files, err := render(l)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		ents, err := os.ReadDir(filepath.Join(dir, "k8s"))
		if err != nil {
			t.Errorf("%s: %v (run go run ./testdata/lab/k8smeta on it)", dir, err)
			continue
		}
		if len(ents) != len(files) {
			t.Errorf("%s/k8s: %d files, k8smeta writes %d", dir, len(ents), len(files))
		}
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(dir, "k8s", name))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s/k8s/%s is stale (%v): rerun go run ./testdata/lab/k8smeta %s", dir, name, err, dir)
			}
		}
	}
}

// calipath reads every scenario's metadata without a problem, and Calico's rule for interface names
// gives the names lab.sh gave the pods' interfaces (the endpoints carry lab.sh's).
func TestReadByCalipath(t *testing.T) {
	for _, dir := range labDirs(t) {
		m, probs, err := cluster.Load([]string{filepath.Join(dir, "k8s")})
		if err != nil {
			t.Fatal(err)
		}
		probs = append(probs, m.CheckIfaces("")...)
		for _, p := range probs {
			t.Errorf("%s: %s", dir, p)
		}
		l, _ := readLab(filepath.Join(dir, "lab.log"))
		if len(m.Pods) != len(l.pods)+len(l.nodes) || len(m.Nodes) != len(l.nodes) || len(m.Pools) != 1 ||
			len(m.WorkloadEndpoints) != len(l.pods) || len(m.Services) != len(m.EndpointSlices) {
			t.Errorf("%s: %d pods, %d nodes, %d pools, %d endpoints, %d services, %d slices", dir, len(m.Pods), len(m.Nodes),
				len(m.Pools), len(m.WorkloadEndpoints), len(m.Services), len(m.EndpointSlices))
		}
	}
}

// Each workload endpoint's spec.mac is its pod's real MAC: lab.log's mac= when the pod line has it, or
// the one link address of the pod's cali capture besides ee:ee:ee:ee:ee:ee; the two must agree, and a
// pod with neither gets none (healthy-vxlan6: pod-b sent its router solicitation from 16:ad:…, read
// with tshark; any-underlay-drop: pod-b's cali saw no frame).
func TestPodMACs(t *testing.T) {
	read := func(dir string) *lab {
		t.Helper()
		l, err := readLab(filepath.Join(dir, "lab.log"))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	dir := "../scenarios/vxlan6-underlay-drop"
	l := read(dir)
	if err := podMACs(dir, l); err != nil {
		t.Fatal(err)
	}
	if got := l.pods[1].mac; l.pods[1].name != "pod-b" || got != "16:ad:a9:4b:87:bb" {
		t.Errorf("%s: %s's MAC %q, want 16:ad:a9:4b:87:bb", dir, l.pods[1].name, got)
	}
	l = read(dir)
	l.pods[1].mac = "02:00:00:00:00:01"
	if err := podMACs(dir, l); err == nil || !strings.Contains(err.Error(), "16:ad:a9:4b:87:bb") {
		t.Errorf("lab.log and the capture disagree: error %v", err)
	}
	dir = "../scenarios/any-underlay-drop"
	l = read(dir)
	if err := podMACs(dir, l); err != nil || l.pods[1].mac != "" {
		t.Errorf("%s: pod-b's cali saw no frame: MAC %q, error %v", dir, l.pods[1].mac, err)
	}
	l = read(dir)
	l.pods[1].mac = "02:00:00:00:00:01" // as lab.sh logs it since k8smac
	if err := podMACs(dir, l); err != nil || l.pods[1].mac != "02:00:00:00:00:01" {
		t.Errorf("%s: lab.log's MAC: %q, error %v", dir, l.pods[1].mac, err)
	}
}

// A service address the lab DNATs to several pods (clusterip-two-nodes: pod-b on node-b and pod-c on
// node-a, one per connection) is one Service, its ports once each, and its EndpointSlice lists both
// pods with their nodes, as kube-proxy's endpoints are. Before, the Service listed each port once per
// DNAT rule and its EndpointSlice the first rule's pod only.
func TestServiceTwoEndpoints(t *testing.T) {
	m, probs, err := cluster.Load([]string{filepath.Join("../scenarios/clusterip-two-nodes", "k8s")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Error(p)
	}
	if len(m.Services) != 1 || len(m.EndpointSlices) != 1 {
		t.Fatalf("%d services and %d slices, want one of each", len(m.Services), len(m.EndpointSlices))
	}
	svc, sl := m.Services[0], m.EndpointSlices[0]
	if svc.Key() != "default/pod-b-pod-c-svc" || len(svc.ClusterIPs) != 1 || svc.ClusterIPs[0].String() != "10.96.0.10" ||
		len(svc.Ports) != 2 || sl.Service != svc.Name || len(sl.Ports) != 2 {
		t.Errorf("service %+v, slice %+v: want default/pod-b-pod-c-svc at 10.96.0.10, two ports", svc, sl)
	}
	var eps []string
	for _, e := range sl.Endpoints {
		eps = append(eps, fmt.Sprint(e.Pod, " ", e.Node, " ", e.Addresses))
	}
	if got, want := strings.Join(eps, "; "), "default/pod-b node-b [10.244.2.7]; default/pod-c node-a [10.244.1.9]"; got != want {
		t.Errorf("endpoints %s, want %s", got, want)
	}
}
