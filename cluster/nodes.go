package cluster

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// kubeNode is the part of a Kubernetes Node calipath reads.
type kubeNode struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		PodCIDR  string   `json:"podCIDR"`
		PodCIDRs []string `json:"podCIDRs"`
	} `json:"spec"`
	Status struct {
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
	} `json:"status"`
}

// Calico's annotations on a Kubernetes Node. The address ones may carry a mask ("192.168.0.10/24").
const (
	annIPv4     = "projectcalico.org/IPv4Address"
	annIPv6     = "projectcalico.org/IPv6Address"
	annIPIP     = "projectcalico.org/IPv4IPIPTunnelAddr"
	annVXLAN    = "projectcalico.org/IPv4VXLANTunnelAddr"
	annVXLAN6   = "projectcalico.org/IPv6VXLANTunnelAddr"
	annVXLANMAC = "projectcalico.org/VXLANTunnelMACAddr"
)

// parseNode reads a Kubernetes Node: its InternalIP and ExternalIP addresses, Calico's annotations
// (the node address Calico uses, its tunnel addresses and VXLAN MAC) and its pod CIDRs.
func parseNode(obj []byte, src *source, m *Meta) error {
	var k kubeNode
	if err := json.Unmarshal(obj, &k); err != nil {
		return err
	}
	if k.Metadata.Name == "" {
		return fmt.Errorf("no metadata.name")
	}
	var addrs []NodeAddr
	for _, a := range k.Status.Addresses {
		if a.Type != "InternalIP" && a.Type != "ExternalIP" {
			continue // Hostname, InternalDNS, ExternalDNS: names, not addresses
		}
		na, err := nodeAddr(a.Address, a.Type, false, src.path)
		if err != nil {
			return fmt.Errorf("node %s: status.addresses: %v", k.Metadata.Name, err)
		}
		addrs = append(addrs, na)
	}
	for _, a := range []struct {
		ann    string
		tunnel bool
	}{{annIPv4, false}, {annIPv6, false}, {annIPIP, true}, {annVXLAN, true}, {annVXLAN6, true}} {
		v, ok := k.Metadata.Annotations[a.ann]
		if !ok || v == "" {
			continue
		}
		na, err := nodeAddr(v, a.ann, a.tunnel, src.path)
		if err != nil {
			return fmt.Errorf("node %s: annotation %s: %v", k.Metadata.Name, a.ann, err)
		}
		addrs = append(addrs, na)
	}
	var cidrs []netip.Prefix
	pcs := k.Spec.PodCIDRs
	if len(pcs) == 0 && k.Spec.PodCIDR != "" {
		pcs = []string{k.Spec.PodCIDR}
	}
	for _, c := range pcs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return fmt.Errorf("node %s: spec.podCIDRs: %v", k.Metadata.Name, err)
		}
		cidrs = append(cidrs, p.Masked())
	}
	n := m.node(k.Metadata.Name)
	n.Addresses = append(n.Addresses, addrs...)
	n.PodCIDRs = append(n.PodCIDRs, cidrs...)
	if mac := k.Metadata.Annotations[annVXLANMAC]; mac != "" && n.VXLANMAC == "" {
		n.VXLANMAC = strings.ToLower(mac)
	}
	n.Sources = appendString(n.Sources, src.path)
	return nil
}

// nodeAddr parses an address that may carry a mask.
func nodeAddr(s, kind string, tunnel bool, source string) (NodeAddr, error) {
	na := NodeAddr{Kind: kind, Prefix: -1, Tunnel: tunnel, Source: source}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return na, err
		}
		na.IP, na.Prefix = p.Addr().Unmap(), p.Bits()
		return na, nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return na, err
	}
	na.IP = ip.Unmap()
	return na, nil
}

// node returns the node called name, adding it when new: a Kubernetes Node and a Calico Node of the
// same name are one node.
func (m *Meta) node(name string) *Node {
	if m.nodeIdx == nil {
		m.nodeIdx = map[string]int{}
		for i := range m.Nodes {
			m.nodeIdx[m.Nodes[i].Name] = i
		}
	}
	if i, ok := m.nodeIdx[name]; ok {
		return &m.Nodes[i]
	}
	m.nodeIdx[name] = len(m.Nodes)
	m.Nodes = append(m.Nodes, Node{Name: name})
	return &m.Nodes[len(m.Nodes)-1]
}

// appendString appends s unless it is there already.
func appendString(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
