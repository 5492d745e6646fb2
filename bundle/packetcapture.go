package bundle

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/calipath/calipath/decode"
)

// Calico's PacketCapture resource (projectcalico.org/v3) has Felix write, under its capture directory,
// "<namespace>/<packet capture name>/<workload endpoint name>_<host interface>.pcap" for each selected
// workload endpoint, and rotate it by size and time into files whose names add an index (Calico's
// "Packet capture" guide, "Access packet capture files"). A workload endpoint's name is
// "<node>-k8s-<pod>-<endpoint>", each part with its dashes doubled (libcalico-go's
// names.WorkloadEndpointIdentifiers.CalculateWorkloadEndpointName), so node and pod come back out of it.
var pcapName = regexp.MustCompile(`^(.+)_([^_]+?)(\.\d+)?\.pcap(\.\d+)?$`)

// packetCapturePath recognises a PacketCapture file under root: it returns the capture point (node,
// host interface), the pod ("namespace/name") and the reason. Rotated pieces of one endpoint get the
// same point, so they are read as one capture point.
func packetCapturePath(root, p string) (decode.Identity, string, string, bool) {
	m := pcapName.FindStringSubmatch(filepath.Base(p))
	if m == nil || !strings.HasPrefix(m[2], "cali") {
		return decode.Identity{}, "", "", false
	}
	node, pod, ok := splitWEP(m[1])
	if !ok {
		return decode.Identity{}, "", "", false
	}
	capDir := filepath.Dir(p)
	ns := filepath.Base(filepath.Dir(capDir))
	if rel, err := filepath.Rel(root, capDir); err != nil || rel == "." || ns == "." || ns == "/" {
		ns = "" // the namespace directory is not part of what was given
	}
	full := pod
	if ns != "" {
		full = ns + "/" + pod
	}
	why := fmt.Sprintf("Calico PacketCapture file %s: workload endpoint %s (node %s, pod %s), host interface %s",
		filepath.Join(filepath.Base(capDir), filepath.Base(p)), m[1], node, full, m[2])
	if m[3] != "" || m[4] != "" {
		why += ", a rotated piece"
	}
	return decode.Identity{Node: node, Iface: m[2]}, full, why, true
}

// splitWEP splits a Kubernetes workload endpoint name "<node>-k8s-<pod>-<endpoint>" (dashes in each
// part doubled) into node and pod. The "k8s" sought is the first after the node's part, so that a node
// named k8s is read too.
func splitWEP(name string) (node, pod string, ok bool) {
	const mark = "\x00"
	esc := strings.ReplaceAll(name, "--", mark)
	parts := strings.Split(esc, "-")
	k := -1
	for i, p := range parts {
		if i > 0 && p == "k8s" {
			k = i
			break
		}
	}
	if k < 1 || len(parts) < k+3 {
		return "", "", false
	}
	un := func(s []string) string { return strings.ReplaceAll(strings.Join(s, "-"), mark, "-") }
	node, pod = un(parts[:k]), un(parts[k+1:len(parts)-1])
	return node, pod, node != "" && pod != ""
}
