package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const k8sNodes = `{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"},
   "status": {"addresses": [{"type": "InternalIP", "address": "192.168.10.2"}, {"type": "Hostname", "address": "node-a"}]}},
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-b",
   "annotations": {"projectcalico.org/IPv4Address": "192.168.20.2/24", "projectcalico.org/IPv4IPIPTunnelAddr": "10.244.2.0"}}},
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-c"},
   "status": {"addresses": [{"type": "InternalIP", "address": "192.168.40.2"}]}}
]}
`

// --k8s gives the node IPs --node-ip would: node-a's own capture, and node-b's, whose address an
// outer header carries; node-c (no capture, no frame to or from it) stays out. --node-ip wins.
func TestK8sNodeIPs(t *testing.T) {
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes.json")
	os.WriteFile(nodes, []byte(k8sNodes), 0o644)
	points := func(args ...string) pointsJSON {
		t.Helper()
		code, out, errs := runCLI(append([]string{"points", "--format", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var doc pointsJSON
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	caps := []string{lab + "/healthy-ipip/node-a-eth0.pcap", lab + "/healthy-ipip/node-a-cali5e1c4d6c68c.pcap"}
	doc := points(append([]string{"--k8s", nodes}, caps...)...)
	want := []nodeIPJSON{
		{Node: "node-a", IP: "192.168.10.2", Reason: "InternalIP in " + nodes},
		{Node: "node-b", IP: "192.168.20.2", Reason: "projectcalico.org/IPv4Address in " + nodes},
	}
	if diff := cmp.Diff(want, doc.NodeIPs); diff != "" {
		t.Errorf("node IPs (-want +got):\n%s", diff)
	}
	doc = points(append([]string{"--k8s", nodes, "--node-ip", "node-a=192.168.10.2"}, caps...)...)
	want[0].Reason = "--node-ip"
	if diff := cmp.Diff(want, doc.NodeIPs); diff != "" {
		t.Errorf("with --node-ip, node IPs (-want +got):\n%s", diff)
	}
}

// Metadata problems are printed naming the file; an unknown file named is a usage of the wrong file:
// an error naming it.
func TestK8sProblems(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nstatus: {podIP: 10.0.0.300}\n"), 0o644)
	code, _, errs := runCLI("points", "--k8s", bad, lab+"/healthy-ipip/node-a-eth0.pcap")
	if code != exitOK || !strings.Contains(errs, "calipath: "+bad+": document 1: Pod: default/x: status.podIPs") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("hello\n"), 0o644)
	code, _, errs = runCLI("points", "--k8s", txt, lab+"/healthy-ipip/node-a-eth0.pcap")
	if code != 1 || !strings.Contains(errs, txt+": not a format calipath reads") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	code, _, errs = runCLI("report", "--k8s", txt, "-o", txt, lab+"/healthy-ipip/node-a-eth0.pcap")
	if code != exitUsage || !strings.Contains(errs, "is a --k8s input") {
		t.Errorf("-o onto a --k8s file: exit %d, stderr:\n%s", code, errs)
	}
}

// The lab's metadata end to end: report's JSON names the pods, gives the pod veths their pods, and
// has node-b's address from the metadata, though only node-a was captured and no --node-ip given.
func TestK8sReportLab(t *testing.T) {
	dir := lab + "/clusterip-dnat"
	code, out, errs := runCLI("report", "--format", "json", "-q", "--k8s", dir+"/k8s",
		dir+"/node-a-eth0.pcap", dir+"/node-a-cali5e1c4d6c68c.pcap", dir+"/node-a-tunl0.pcap")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Names []struct{ IP, Kind, Namespace, Name, Source string }
		Nodes []nodeIPJSON               `json:"node_ips"`
		Pts   []struct{ ID, Pod string } `json:"points"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	k := dir + "/k8s/kubectl.json"
	names := map[string]string{}
	for _, n := range res.Names {
		names[n.IP] = n.Kind + " " + n.Namespace + "/" + n.Name + " " + n.Source
	}
	for ip, want := range map[string]string{
		"10.244.1.5":   "pod default/pod-a " + k,
		"10.244.2.7":   "pod default/pod-b " + k,
		"10.96.0.10":   "service default/pod-b-svc " + k,
		"192.168.20.2": "node /node-b " + k,
	} {
		if names[ip] != want {
			t.Errorf("name of %s: %q, want %q", ip, names[ip], want)
		}
	}
	wantIPs := []nodeIPJSON{
		{Node: "node-a", IP: "192.168.10.2", Reason: "InternalIP in " + k},
		{Node: "node-b", IP: "192.168.20.2", Reason: "InternalIP in " + k},
	}
	if diff := cmp.Diff(wantIPs, res.Nodes); diff != "" {
		t.Errorf("node IPs (-want +got):\n%s", diff)
	}
	for _, p := range res.Pts {
		if p.ID == "node-a/cali5e1c4d6c68c" && p.Pod != "default/pod-a" {
			t.Errorf("%s: pod %q", p.ID, p.Pod)
		}
	}
	// Without --k8s, none of it.
	_, out, _ = runCLI("report", "--format", "json", "-q", dir+"/node-a-eth0.pcap", dir+"/node-a-cali5e1c4d6c68c.pcap")
	if strings.Contains(out, `"names"`) || strings.Contains(out, `"pod":`) || strings.Contains(out, "kubectl.json") {
		t.Errorf("without --k8s the JSON has names, pods or the metadata file")
	}
}

// A metadata node named with a domain the capture file names lack gives its address to the captured
// node, the reason naming both.
func TestK8sNodeAlias(t *testing.T) {
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes.json")
	os.WriteFile(nodes, []byte(strings.ReplaceAll(k8sNodes, `"name": "node-a"`, `"name": "node-a.lab.internal"`)), 0o644)
	code, out, errs := runCLI("points", "--format", "json", "--k8s", nodes, lab+"/healthy-ipip/node-a-eth0.pcap")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc pointsJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	want := nodeIPJSON{Node: "node-a", IP: "192.168.10.2", Reason: "InternalIP of node node-a.lab.internal in " + nodes}
	if len(doc.NodeIPs) == 0 || doc.NodeIPs[0] != want {
		t.Errorf("node IPs %+v, want first %+v", doc.NodeIPs, want)
	}
}

// --k8s's help names every kind of file it reads: the nodes' `ip` dumps too, not only kubectl's and
// calicoctl's objects (those are what a node-state explanation needs, and nobody guesses them).
func TestK8sHelpNamesEveryKind(t *testing.T) {
	for _, cmd := range []string{"report", "tui", "points"} {
		code, out, _ := runCLI(cmd, "-h")
		if code != exitOK {
			t.Fatalf("%s -h: exit %d", cmd, code)
		}
		flat := strings.Join(strings.Fields(out), " ")
		for _, kind := range []string{"kubectl or calicoctl JSON/YAML", "ip -o link", "ip -j link", "ip -d -j addr", "ip -j neigh", "ip neigh", "ip -j route", "ip route"} {
			if !strings.Contains(flat, kind) {
				t.Errorf("%s -h does not name %q:\n%s", cmd, kind, out)
			}
		}
	}
}
