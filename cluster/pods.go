package cluster

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

// kubePod is the part of a Kubernetes Pod calipath reads.
type kubePod struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		NodeName    string `json:"nodeName"`
		HostNetwork bool   `json:"hostNetwork"`
	} `json:"spec"`
	Status struct {
		Phase  string `json:"phase"`
		PodIP  string `json:"podIP"`
		PodIPs []struct {
			IP string `json:"ip"`
		} `json:"podIPs"`
	} `json:"status"`
}

// objectMeta is the part of every object's metadata calipath reads.
type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// parsePod reads a Pod: its name, node and addresses (status.podIPs, or status.podIP when an older
// API server gave only that).
func parsePod(obj []byte, src *source, m *Meta) error {
	var p kubePod
	if err := json.Unmarshal(obj, &p); err != nil {
		return err
	}
	if p.Metadata.Name == "" {
		return fmt.Errorf("no metadata.name")
	}
	pod := Pod{Namespace: orDefault(p.Metadata.Namespace), Name: p.Metadata.Name, Node: p.Spec.NodeName,
		HostNetwork: p.Spec.HostNetwork, Phase: p.Status.Phase, Source: src.path}
	ips := []string{}
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = append(ips, p.Status.PodIP)
	}
	for _, s := range ips {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("%s: status.podIPs: %v", pod.Key(), err)
		}
		pod.IPs = appendAddr(pod.IPs, ip.Unmap())
	}
	m.Pods = append(m.Pods, pod)
	return nil
}

// appendAddr appends ip unless it is there already.
func appendAddr(ips []netip.Addr, ip netip.Addr) []netip.Addr {
	for _, x := range ips {
		if x == ip {
			return ips
		}
	}
	return append(ips, ip)
}
