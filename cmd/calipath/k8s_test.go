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
