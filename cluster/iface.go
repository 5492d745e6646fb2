package cluster

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
)

// DefaultIfacePrefix is the prefix of Calico's host-side pod interfaces (Felix's InterfacePrefix).
const DefaultIfacePrefix = "cali"

// IfaceName returns the name Calico gives the host side of a pod's veth: the prefix and the first 11
// hex digits of sha1("<namespace>.<pod>"). prefix "" is "cali"; a list ("cali,tap", as Felix takes it)
// uses its first entry.
func IfaceName(prefix, namespace, pod string) string {
	prefix, _, _ = strings.Cut(prefix, ",")
	if prefix == "" {
		prefix = DefaultIfacePrefix
	}
	sum := sha1.Sum([]byte(namespace + "." + pod))
	return prefix + hex.EncodeToString(sum[:])[:11]
}

// Ifaces maps host-side interface names to the "namespace/name" of the pod behind them: by Calico's
// rule for every pod not on the host network, and as each workload endpoint's spec.interfaceName
// says. Interface names are cluster-wide (the hash makes them so), so the map is too.
func (m *Meta) Ifaces(prefix string) map[string]string {
	out := map[string]string{}
	for i := range m.Pods {
		p := &m.Pods[i]
		if !p.HostNetwork {
			out[IfaceName(prefix, p.Namespace, p.Name)] = p.Key()
		}
	}
	for i := range m.WorkloadEndpoints {
		w := &m.WorkloadEndpoints[i]
		if w.InterfaceName != "" && w.Pod != "" {
			out[w.InterfaceName] = w.Namespace + "/" + w.Pod
		}
	}
	return out
}

// CheckIfaces compares each workload endpoint's spec.interfaceName with the name Calico's rule gives
// its pod under prefix: a difference means the prefix is not the cluster's (--iface-prefix) or the
// endpoint is not what it seems, and is a problem naming the endpoint's file.
func (m *Meta) CheckIfaces(prefix string) []Problem {
	var probs []Problem
	for i := range m.WorkloadEndpoints {
		w := &m.WorkloadEndpoints[i]
		if w.InterfaceName == "" || w.Pod == "" {
			continue
		}
		if want := IfaceName(prefix, w.Namespace, w.Pod); want != w.InterfaceName {
			probs = append(probs, Problem{File: w.Source, Msg: fmt.Sprintf(
				"workload endpoint %s/%s: interface %s, but pod %s/%s's is %s by Calico's rule with prefix %q (is --iface-prefix the cluster's?)",
				w.Namespace, w.Name, w.InterfaceName, w.Namespace, w.Pod, want, prefixOr(prefix))})
		}
	}
	return probs
}

func prefixOr(p string) string {
	p, _, _ = strings.Cut(p, ",")
	if p == "" {
		return DefaultIfacePrefix
	}
	return p
}

// HostIPs returns the node's own addresses a packet between nodes carries: InternalIP and Calico's
// node address (annotation, BGP or spec.addresses), not tunnel device addresses nor ExternalIP (an
// address outside the cluster network, as a cloud's public one). Each once, first source kept.
func (n *Node) HostIPs() []NodeAddr {
	var out []NodeAddr
	seen := map[string]bool{}
	for _, a := range n.Addresses {
		if a.Tunnel || a.Kind == "ExternalIP" || seen[a.IP.String()] {
			continue
		}
		seen[a.IP.String()] = true
		out = append(out, a)
	}
	return out
}
