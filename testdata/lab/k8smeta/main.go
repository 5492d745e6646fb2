// Command k8smeta writes the Kubernetes and Calico metadata of a lab scenario, as kubectl and
// calicoctl would print it for a cluster built like the lab, from the scenario's lab.log:
//
//	k8s/kubectl.json                     kubectl get pods,services,endpointslices,nodes -A -o json
//	k8s/calicoctl-ippools.yaml           calicoctl get ippools -o yaml
//	k8s/calicoctl-workloadendpoints.yaml calicoctl get workloadendpoints -A -o yaml
//
// Pods, nodes and interfaces are the lab's (lab.sh names each pod's cali interface by Calico's rule
// with sha1sum; the names here are copied from lab.log, not recomputed). The IP pool is the /16 of
// the pods' blocks, its encapsulation the lab's mode (ipip: ipipMode Always; vxlan: vxlanMode Always;
// bgp and wireguard: both Never), natOutgoing true when the lab masqueraded the pool's traffic. Each
// DNAT rule of the lab is a ClusterIP service port, named after the pod it sends to, whose
// EndpointSlice lists that pod (a service address DNATed to several pods: one Service listing them all). Every node also runs a host-network calico-node pod. Each workload
// endpoint's spec.mac is its pod's real MAC (the pod end of its veth, random in every run): the
// pod line's mac= in lab.log (lab.sh logs it since k8smac), else read from the capture of the pod's
// cali (DIR/NODE-IFACE.pcap, or truth-captures/ in an any-only scenario: its one link address other
// than ee:ee:ee:ee:ee:ee, broadcast and multicast). A pod whose cali saw no frame and that lab.log
// gives no MAC gets no spec.mac (nothing invented); both sources disagreeing is an error. The output
// depends on lab.log and those captures only.
//
//	k8smeta testdata/lab/scenarios/*/
//
// It shares no code with calipath: its tests read what it writes with calipath's reader.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	log.SetFlags(0)
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: k8smeta SCENARIO-DIR...  (writes DIR/k8s/ from DIR/lab.log)")
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, dir := range flag.Args() {
		if err := writeDir(dir); err != nil {
			log.Fatalf("k8smeta: %s: %v", dir, err)
		}
	}
}

// writeDir writes dir/k8s/ from dir/lab.log.
func writeDir(dir string) error {
	lab, err := readLab(filepath.Join(dir, "lab.log"))
	if err != nil {
		return err
	}
	if err := podMACs(dir, lab); err != nil {
		return err
	}
	files, err := render(lab)
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "k8s")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, name := range sortedKeys(files) {
		if err := os.WriteFile(filepath.Join(out, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// lab is what lab.log says about the cluster.
type lab struct {
	mode  string
	v6    bool // an IPv6 cluster ("mode vxlan family=6": healthy-vxlan6)
	nodes []labNode
	pods  []labPod
	dnats []labDNAT
	masq  []netip.Prefix // sources of MASQUERADE rules
}

type labNode struct{ name, ip, block, tunnelIP, vtepMAC string }
type labPod struct{ name, namespace, node, ip, iface, mac string }

// labDNAT is a lab.log nat line of kind dnat; policy is a NodePort's externalTrafficPolicy (policy=,
// Cluster when not given: nodeport-cluster's rules masquerade).
type labDNAT struct{ node, from, to, proto, policy string }

// fields parses "key=value" words (values without spaces).
func fields(line string) map[string]string {
	m := map[string]string{}
	for _, w := range strings.Fields(line)[1:] {
		if k, v, ok := strings.Cut(w, "="); ok {
			m[k] = v
		}
	}
	return m
}

func readLab(path string) (*lab, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l := &lab{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		word, _, _ := strings.Cut(line, " ")
		f := fields(line)
		switch word {
		case "mode":
			l.mode, _, _ = strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "mode")), " ")
			l.v6 = f["family"] == "6"
		case "node":
			l.nodes = append(l.nodes, labNode{f["name"], f["ip"], f["block"], f["tunnel_ip"], f["vtep_mac"]})
		case "pod":
			l.pods = append(l.pods, labPod{f["name"], f["namespace"], f["node"], f["ip"], f["iface"], f["mac"]})
		case "nat":
			if f["kind"] == "dnat" {
				policy := f["policy"]
				if policy == "" {
					policy = "Cluster"
				}
				l.dnats = append(l.dnats, labDNAT{f["node"], f["from"], f["to"], f["proto"], policy})
			}
		case "rule":
			if i := strings.Index(line, " -s "); i >= 0 && strings.Contains(line, "-j MASQUERADE") {
				src, _, _ := strings.Cut(line[i+4:], " ")
				if p, err := netip.ParsePrefix(src); err == nil {
					l.masq = append(l.masq, p)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if l.mode == "" || len(l.nodes) == 0 || len(l.pods) == 0 {
		return nil, fmt.Errorf("%s: no mode, node or pod line", path)
	}
	return l, nil
}

// hash5 is a deterministic stand-in for the random suffix Kubernetes gives generated names.
func hash5(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])[:5]
}

// obj is a JSON object whose keys encoding/json sorts, as kubectl prints them.
type obj = map[string]any

func render(l *lab) (map[string][]byte, error) {
	pool, err := poolOf(l)
	if err != nil {
		return nil, err
	}
	natOut := false
	for _, m := range l.masq {
		if m.Overlaps(pool) {
			natOut = true
		}
	}
	nodeIP := map[string]string{}
	for _, n := range l.nodes {
		nodeIP[n.name] = n.ip
	}
	svcs, slices, svcOf, err := services(l)
	if err != nil {
		return nil, err
	}
	var items []any
	for _, p := range l.pods {
		labels := map[string]string{"app": p.name}
		if svc := svcOf[p.name]; svc != "" {
			labels["svc"] = svc // the selector of a Service with several endpoints
		}
		items = append(items, pod(p.namespace, p.name, p.node, p.ip, nodeIP[p.node], false, labels))
	}
	for _, n := range l.nodes {
		items = append(items, pod("calico-system", "calico-node-"+hash5(n.name), n.name, n.ip, n.ip, true,
			map[string]string{"k8s-app": "calico-node"}))
	}
	items = append(items, svcs...)
	items = append(items, slices...)
	for _, n := range l.nodes {
		ann := map[string]string{"projectcalico.org/IPv4Address": n.ip + "/24"}
		switch {
		case l.v6 && l.mode == "vxlan": // calico-node's IPv6 annotations
			ann = map[string]string{"projectcalico.org/IPv6Address": n.ip + "/64",
				"projectcalico.org/IPv6VXLANTunnelAddr": n.tunnelIP, "projectcalico.org/VXLANTunnelMACAddrV6": n.vtepMAC}
		case l.mode == "ipip":
			ann["projectcalico.org/IPv4IPIPTunnelAddr"] = n.tunnelIP
		case l.mode == "vxlan":
			ann["projectcalico.org/IPv4VXLANTunnelAddr"] = n.tunnelIP
			ann["projectcalico.org/VXLANTunnelMACAddr"] = n.vtepMAC
		}
		items = append(items, obj{"apiVersion": "v1", "kind": "Node",
			"metadata": obj{"name": n.name, "annotations": ann, "labels": obj{"kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux"}},
			"spec":     obj{},
			"status": obj{"addresses": []any{obj{"type": "InternalIP", "address": n.ip}, obj{"type": "Hostname", "address": n.name}},
				"conditions": []any{obj{"type": "Ready", "status": "True"}}},
		})
	}
	kubectl, err := json.MarshalIndent(obj{"apiVersion": "v1", "kind": "List", "items": items, "metadata": obj{"resourceVersion": ""}}, "", "    ")
	if err != nil {
		return nil, err
	}
	ipip, vxlan := "Never", "Never"
	switch l.mode {
	case "ipip":
		ipip = "Always"
	case "vxlan":
		vxlan = "Always"
	}
	// Calico's default pools: an IPv4 one of /26 blocks, an IPv6 one of /122 blocks.
	poolName, blockSize, podBits := "default-ipv4-ippool", 26, 32
	if l.v6 {
		poolName, blockSize, podBits = "default-ipv6-ippool", 122, 128
	}
	var pools bytes.Buffer
	fmt.Fprintf(&pools, `apiVersion: projectcalico.org/v3
items:
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata:
    name: %s
  spec:
    allowedUses:
    - Workload
    - Tunnel
    blockSize: %d
    cidr: %s
    ipipMode: %s
    natOutgoing: %t
    nodeSelector: all()
    vxlanMode: %s
kind: IPPoolList
metadata:
  resourceVersion: "1"
`, poolName, blockSize, pool, ipip, natOut, vxlan)
	var weps bytes.Buffer
	weps.WriteString("apiVersion: projectcalico.org/v3\nitems:\n")
	for _, p := range l.pods {
		fmt.Fprintf(&weps, `- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata:
    labels:
      app: %s
      projectcalico.org/namespace: %s
      projectcalico.org/orchestrator: k8s
      projectcalico.org/serviceaccount: default
    name: %s
    namespace: %s
  spec:
    endpoint: eth0
    interfaceName: %s
    ipNetworks:
    - %s/%d
%s    node: %s
    orchestrator: k8s
    pod: %s
    profiles:
    - kns.%s
    - ksa.%s.default
    serviceAccountName: default
`, p.name, p.namespace, wepName(p.node, p.name), p.namespace, p.iface, p.ip, podBits, macLine(p.mac), p.node, p.name, p.namespace, p.namespace)
	}
	weps.WriteString("kind: WorkloadEndpointList\nmetadata:\n  resourceVersion: \"1\"\n")
	return map[string][]byte{
		"kubectl.json":                     append(kubectl, '\n'),
		"calicoctl-ippools.yaml":           pools.Bytes(),
		"calicoctl-workloadendpoints.yaml": weps.Bytes(),
	}, nil
}

// poolOf returns the /16 holding the nodes' blocks (the lab's are 10.244.1.0/26 and 10.244.2.0/26),
// or for IPv6 blocks the /48 (healthy-vxlan6: fd00:244::/122 and fd00:244::40/122).
func poolOf(l *lab) (netip.Prefix, error) {
	var pool netip.Prefix
	for _, n := range l.nodes {
		b, err := netip.ParsePrefix(n.block)
		if err != nil {
			return pool, fmt.Errorf("node %s: block %q: %v", n.name, n.block, err)
		}
		bits := 16
		if b.Addr().Is6() {
			bits = 48
		}
		p, _ := b.Addr().Prefix(bits)
		if pool.IsValid() && p != pool {
			return pool, fmt.Errorf("blocks %s and %s are in different /%ds", pool, p, bits)
		}
		pool = p
	}
	return pool, nil
}

// wepName is Calico's workload endpoint name: node, orchestrator, pod and interface, each with its
// dashes doubled, joined by single dashes.
func wepName(node, pod string) string {
	esc := func(s string) string { return strings.ReplaceAll(s, "-", "--") }
	return esc(node) + "-k8s-" + esc(pod) + "-eth0"
}

func pod(ns, name, node, ip, hostIP string, hostNet bool, labels map[string]string) obj {
	spec := obj{"nodeName": node, "containers": []any{obj{"name": "main", "image": "calipath/lab"}}}
	if hostNet {
		spec["hostNetwork"] = true
	}
	return obj{"apiVersion": "v1", "kind": "Pod",
		"metadata": obj{"name": name, "namespace": ns, "labels": labels, "uid": "00000000-0000-4000-8000-" + hash5(ns+"/"+name) + "0000000"},
		"spec":     spec,
		"status": obj{"phase": "Running", "hostIP": hostIP, "hostIPs": []any{obj{"ip": hostIP}},
			"podIP": ip, "podIPs": []any{obj{"ip": ip}}},
	}
}

// services turns the lab's DNAT rules into ClusterIP services, one per service address, and their
// EndpointSlices. A DNAT from a node's own address is a NodePort service (externalTrafficPolicy
// Cluster, as nodeport-cluster's rules masquerade, or the nat lines' policy=: Local in nodeport-local,
// whose endpoint is on the node that DNATs and whose rules do not masquerade): its ports are node
// ports, and it has no cluster IP, since the lab made none. A service address DNATed to several pods (kube-proxy's choice of one
// endpoint per connection: clusterip-two-nodes) is one Service with one port per service port and
// every pod in its EndpointSlice, named after its pods (pod-b-pod-c-svc); its selector is the label
// svc=<name>, which svcOf gives those pods. A Service with one pod is named after it (pod-b-svc) and
// selects it by its app label.
func services(l *lab) (svcs, slices []any, svcOf map[string]string, err error) {
	podOf := map[string]labPod{}
	for _, p := range l.pods {
		podOf[p.ip] = p
	}
	svcOf = map[string]string{}
	byIP := map[string][]labDNAT{}
	var ips []string
	for _, d := range l.dnats {
		ip, _, ok := strings.Cut(d.from, ":")
		if !ok {
			return nil, nil, nil, fmt.Errorf("dnat from %q: no port", d.from)
		}
		if byIP[ip] == nil {
			ips = append(ips, ip)
		}
		byIP[ip] = append(byIP[ip], d)
	}
	nodeIP := map[string]bool{}
	for _, n := range l.nodes {
		nodeIP[n.ip] = true
	}
	for _, ip := range ips {
		ds := byIP[ip]
		var backends []labPod // in the order of the rules
		for _, d := range ds {
			backend, _, _ := strings.Cut(d.to, ":")
			bp, ok := podOf[backend]
			if !ok {
				return nil, nil, nil, fmt.Errorf("dnat to %s: no pod has that address", backend)
			}
			known := false
			for _, b := range backends {
				known = known || b.ip == bp.ip
			}
			if !known {
				backends = append(backends, bp)
			}
		}
		bp := backends[0]
		name := bp.name + "-svc"
		selector := obj{"app": bp.name}
		if len(backends) > 1 {
			name = ""
			for _, b := range backends {
				if b.namespace != bp.namespace {
					return nil, nil, nil, fmt.Errorf("service %s: pods in namespaces %s and %s", ip, bp.namespace, b.namespace)
				}
				name += b.name + "-"
			}
			name += "svc"
			selector = obj{"svc": name}
			for _, b := range backends {
				svcOf[b.name] = name
			}
		}
		var ports, eports []any
		target := map[string]string{} // service port name → target port: one per service port
		for _, d := range ds {
			_, fp, _ := strings.Cut(d.from, ":")
			_, tp, _ := strings.Cut(d.to, ":")
			fpn, err1 := strconv.Atoi(fp)
			tpn, err2 := strconv.Atoi(tp)
			if err1 != nil || err2 != nil {
				return nil, nil, nil, fmt.Errorf("dnat %s → %s: bad port", d.from, d.to)
			}
			pname := d.proto + "-" + fp
			if t, ok := target[pname]; ok {
				if t != tp {
					return nil, nil, nil, fmt.Errorf("dnat %s/%s: target ports %s and %s", d.from, d.proto, t, tp)
				}
				continue // another endpoint of the same port
			}
			target[pname] = tp
			proto := strings.ToUpper(d.proto)
			port := obj{"name": pname, "port": fpn, "protocol": proto, "targetPort": tpn}
			if nodeIP[ip] {
				port["nodePort"] = fpn
			}
			ports = append(ports, port)
			eports = append(eports, obj{"name": pname, "port": tpn, "protocol": proto})
		}
		spec := obj{"type": "ClusterIP", "clusterIP": ip, "clusterIPs": []any{ip}, "ports": ports,
			"selector": selector, "ipFamilies": []any{"IPv4"}}
		if nodeIP[ip] {
			spec = obj{"type": "NodePort", "externalTrafficPolicy": ds[0].policy, "ports": ports,
				"selector": selector, "ipFamilies": []any{"IPv4"}}
		}
		svcs = append(svcs, obj{"apiVersion": "v1", "kind": "Service",
			"metadata": obj{"name": name, "namespace": bp.namespace},
			"spec":     spec,
			"status":   obj{"loadBalancer": obj{}},
		})
		var eps []any
		for _, b := range backends {
			eps = append(eps, obj{"addresses": []any{b.ip}, "nodeName": b.node,
				"conditions": obj{"ready": true, "serving": true, "terminating": false},
				"targetRef":  obj{"kind": "Pod", "name": b.name, "namespace": b.namespace}})
		}
		slices = append(slices, obj{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
			"metadata": obj{"name": name + "-" + hash5(name), "namespace": bp.namespace,
				"labels": obj{"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
			"endpoints": eps,
			"ports":     eports,
		})
	}
	return svcs, slices, svcOf, nil
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
