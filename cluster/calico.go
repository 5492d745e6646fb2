package cluster

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Calico's objects, as calicoctl prints them (projectcalico.org/v3) and as `kubectl get
// ippools.crd.projectcalico.org` prints the stored ones (crd.projectcalico.org/v1): same spec.

// calicoNode is the part of a Calico Node calipath reads.
type calicoNode struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		BGP *struct {
			IPv4Address        string `json:"ipv4Address"`
			IPv6Address        string `json:"ipv6Address"`
			IPv4IPIPTunnelAddr string `json:"ipv4IPIPTunnelAddr"`
		} `json:"bgp"`
		IPv4VXLANTunnelAddr string `json:"ipv4VXLANTunnelAddr"`
		IPv6VXLANTunnelAddr string `json:"ipv6VXLANTunnelAddr"`
		VXLANTunnelMACAddr  string `json:"vxlanTunnelMACAddr"`
		Addresses           []struct {
			Address string `json:"address"`
			Type    string `json:"type"`
		} `json:"addresses"`
		OrchRefs []struct {
			NodeName     string `json:"nodeName"`
			Orchestrator string `json:"orchestrator"`
		} `json:"orchRefs"`
	} `json:"spec"`
}

// parseCalicoNode reads a Calico Node: spec.bgp's addresses, the tunnel addresses and VXLAN MAC, and
// spec.addresses. Its Kubernetes node name (orchRefs) is the node's name when given.
func parseCalicoNode(obj []byte, src *source, m *Meta) error {
	var c calicoNode
	if err := json.Unmarshal(obj, &c); err != nil {
		return err
	}
	name := c.Metadata.Name
	for _, o := range c.Spec.OrchRefs {
		if o.NodeName != "" && (o.Orchestrator == "k8s" || o.Orchestrator == "") {
			name = o.NodeName
			break
		}
	}
	if name == "" {
		return fmt.Errorf("no metadata.name")
	}
	var addrs []NodeAddr
	add := func(v, kind string, tunnel bool) error {
		if v == "" {
			return nil
		}
		na, err := nodeAddr(v, kind, tunnel, src.path)
		if err != nil {
			return fmt.Errorf("node %s: %s: %v", name, kind, err)
		}
		addrs = append(addrs, na)
		return nil
	}
	if b := c.Spec.BGP; b != nil {
		for _, a := range []struct {
			v, kind string
			tunnel  bool
		}{{b.IPv4Address, "bgp.ipv4Address", false}, {b.IPv6Address, "bgp.ipv6Address", false},
			{b.IPv4IPIPTunnelAddr, "bgp.ipv4IPIPTunnelAddr", true}} {
			if err := add(a.v, a.kind, a.tunnel); err != nil {
				return err
			}
		}
	}
	if err := add(c.Spec.IPv4VXLANTunnelAddr, "ipv4VXLANTunnelAddr", true); err != nil {
		return err
	}
	if err := add(c.Spec.IPv6VXLANTunnelAddr, "ipv6VXLANTunnelAddr", true); err != nil {
		return err
	}
	for _, a := range c.Spec.Addresses {
		kind := "addresses"
		if a.Type != "" {
			kind += " " + a.Type
		}
		if err := add(a.Address, kind, false); err != nil {
			return err
		}
	}
	n := m.node(name)
	n.Addresses = append(n.Addresses, addrs...)
	if mac := c.Spec.VXLANTunnelMACAddr; mac != "" && n.VXLANMAC == "" {
		n.VXLANMAC = strings.ToLower(mac)
	}
	n.Sources = appendString(n.Sources, src.path)
	return nil
}

// calicoPool is the part of a Calico IPPool calipath reads.
type calicoPool struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		CIDR        string `json:"cidr"`
		IPIPMode    string `json:"ipipMode"`
		VXLANMode   string `json:"vxlanMode"`
		NATOutgoing bool   `json:"natOutgoing"`
		Disabled    bool   `json:"disabled"`
		BlockSize   int    `json:"blockSize"`
		// IPIP is the v1 API's form ({enabled, mode}), still found in old CRDs.
		IPIP *struct {
			Enabled *bool  `json:"enabled"`
			Mode    string `json:"mode"`
		} `json:"ipip"`
	} `json:"spec"`
}

// parsePool reads an IPPool: its CIDR, encapsulation modes (Never when not set, as Calico reads it)
// and natOutgoing.
func parsePool(obj []byte, src *source, m *Meta) error {
	var c calicoPool
	if err := json.Unmarshal(obj, &c); err != nil {
		return err
	}
	if c.Metadata.Name == "" {
		return fmt.Errorf("no metadata.name")
	}
	cidr, err := netip.ParsePrefix(c.Spec.CIDR)
	if err != nil {
		return fmt.Errorf("pool %s: spec.cidr: %v", c.Metadata.Name, err)
	}
	p := Pool{Name: c.Metadata.Name, CIDR: cidr.Masked(), NATOutgoing: c.Spec.NATOutgoing, Disabled: c.Spec.Disabled,
		BlockSize: c.Spec.BlockSize, Source: src.path}
	ipip := c.Spec.IPIPMode
	if ipip == "" && c.Spec.IPIP != nil && (c.Spec.IPIP.Enabled == nil || *c.Spec.IPIP.Enabled) {
		ipip = c.Spec.IPIP.Mode
		if ipip == "" || strings.EqualFold(ipip, "always") {
			ipip = "Always"
		} else if strings.EqualFold(ipip, "cross-subnet") {
			ipip = "CrossSubnet"
		}
	}
	if p.IPIPMode, err = encapMode(ipip); err != nil {
		return fmt.Errorf("pool %s: ipipMode: %v", p.Name, err)
	}
	if p.VXLANMode, err = encapMode(c.Spec.VXLANMode); err != nil {
		return fmt.Errorf("pool %s: vxlanMode: %v", p.Name, err)
	}
	m.Pools = append(m.Pools, p)
	return nil
}

// encapMode checks an IPIP or VXLAN mode: Always, CrossSubnet or Never ("" is Never).
func encapMode(s string) (string, error) {
	switch s {
	case "":
		return "Never", nil
	case "Always", "CrossSubnet", "Never":
		return s, nil
	}
	return "", fmt.Errorf("%q is not Always, CrossSubnet or Never", s)
}

// calicoWEP is the part of a Calico WorkloadEndpoint calipath reads.
type calicoWEP struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Orchestrator  string   `json:"orchestrator"`
		Workload      string   `json:"workload"`
		Node          string   `json:"node"`
		Pod           string   `json:"pod"`
		Endpoint      string   `json:"endpoint"`
		InterfaceName string   `json:"interfaceName"`
		MAC           string   `json:"mac"`
		IPNetworks    []string `json:"ipNetworks"`
	} `json:"spec"`
}

// parseWEP reads a WorkloadEndpoint: the pod behind a host-side interface, its node and addresses.
func parseWEP(obj []byte, src *source, m *Meta) error {
	var c calicoWEP
	if err := json.Unmarshal(obj, &c); err != nil {
		return err
	}
	if c.Metadata.Name == "" {
		return fmt.Errorf("no metadata.name")
	}
	w := WorkloadEndpoint{Namespace: orDefault(c.Metadata.Namespace), Name: c.Metadata.Name, Node: c.Spec.Node,
		Pod: c.Spec.Pod, InterfaceName: c.Spec.InterfaceName, Source: src.path}
	if w.Pod == "" {
		w.Pod = c.Spec.Workload
	}
	var macErr error
	w.MAC, macErr = wepMAC(c.Spec.MAC)
	for _, s := range c.Spec.IPNetworks {
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var ip netip.Addr
			ip, err = netip.ParseAddr(s)
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		if err != nil {
			return fmt.Errorf("%s/%s: spec.ipNetworks: %v", w.Namespace, w.Name, err)
		}
		w.IPNetworks = append(w.IPNetworks, p)
	}
	m.WorkloadEndpoints = append(m.WorkloadEndpoints, w)
	if macErr != nil {
		return readWithout{fmt.Errorf("%s/%s: spec.mac: %v: read without it (no interface is recognised by this pod's frames)",
			w.Namespace, w.Name, macErr)}
	}
	return nil
}

// wepMAC reads a workload endpoint's spec.mac, the MAC of the pod's end of its veth (Calico's CNI
// plugin writes the container veth's, net.HardwareAddr.String: "16:ad:a9:4b:87:bb"), as that form
// ("" when absent). Anything but a 6-byte MAC address is an error.
func wepMAC(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	hw, err := net.ParseMAC(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a MAC address (want six bytes, as 16:ad:a9:4b:87:bb)", trimForProblem(s))
	}
	if len(hw) != 6 {
		return "", fmt.Errorf("%q is a %d-byte address, not an Ethernet MAC (want six bytes, as 16:ad:a9:4b:87:bb)", trimForProblem(s), len(hw))
	}
	return hw.String(), nil
}

// trimForProblem cuts a value quoted in a problem to 40 bytes.
func trimForProblem(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
