package cluster

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
)

// kubeService is the part of a Kubernetes Service calipath reads.
type kubeService struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Type        string   `json:"type"`
		ClusterIP   string   `json:"clusterIP"`
		ClusterIPs  []string `json:"clusterIPs"`
		ExternalIPs []string `json:"externalIPs"`
		Ports       []struct {
			Name       string          `json:"name"`
			Protocol   string          `json:"protocol"`
			Port       int             `json:"port"`
			TargetPort json.RawMessage `json:"targetPort"` // a number or a port name
			NodePort   int             `json:"nodePort"`
		} `json:"ports"`
	} `json:"spec"`
	Status struct {
		LoadBalancer struct {
			Ingress []struct {
				IP string `json:"ip"`
			} `json:"ingress"`
		} `json:"loadBalancer"`
	} `json:"status"`
}

// parseService reads a Service: its cluster IPs ("None" for a headless one is no address), external
// and load-balancer addresses, and ports with their node ports.
func parseService(obj []byte, src *source, m *Meta) error {
	var s kubeService
	if err := json.Unmarshal(obj, &s); err != nil {
		return err
	}
	if s.Metadata.Name == "" {
		return fmt.Errorf("no metadata.name")
	}
	svc := Service{Namespace: orDefault(s.Metadata.Namespace), Name: s.Metadata.Name, Type: s.Spec.Type, Source: src.path}
	if svc.Type == "" {
		svc.Type = "ClusterIP"
	}
	cips := s.Spec.ClusterIPs
	if len(cips) == 0 && s.Spec.ClusterIP != "" {
		cips = []string{s.Spec.ClusterIP}
	}
	for _, c := range cips {
		if c == "None" || c == "" {
			continue
		}
		ip, err := netip.ParseAddr(c)
		if err != nil {
			return fmt.Errorf("%s: spec.clusterIPs: %v", svc.Key(), err)
		}
		svc.ClusterIPs = appendAddr(svc.ClusterIPs, ip.Unmap())
	}
	ext := append([]string(nil), s.Spec.ExternalIPs...)
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			ext = append(ext, in.IP)
		}
	}
	for _, e := range ext {
		ip, err := netip.ParseAddr(e)
		if err != nil {
			return fmt.Errorf("%s: external address: %v", svc.Key(), err)
		}
		svc.ExternalIPs = appendAddr(svc.ExternalIPs, ip.Unmap())
	}
	for _, p := range s.Spec.Ports {
		if p.Port < 0 || p.Port > 65535 || p.NodePort < 0 || p.NodePort > 65535 {
			return fmt.Errorf("%s: port %d/%d out of range", svc.Key(), p.Port, p.NodePort)
		}
		sp := ServicePort{Name: p.Name, Protocol: p.Protocol, Port: uint16(p.Port), NodePort: uint16(p.NodePort)}
		if sp.Protocol == "" {
			sp.Protocol = "TCP"
		}
		sp.TargetPort = intOrString(p.TargetPort)
		if sp.TargetPort == "" || sp.TargetPort == "0" {
			sp.TargetPort = strconv.Itoa(p.Port) // Kubernetes' default: the service port
		}
		svc.Ports = append(svc.Ports, sp)
	}
	m.Services = append(m.Services, svc)
	return nil
}

// intOrString renders a Kubernetes IntOrString as text: 8080 or "http".
func intOrString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return strconv.FormatInt(n, 10)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// orDefault returns ns, or "default" for an object printed without a namespace.
func orDefault(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}
