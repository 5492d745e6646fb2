package cluster

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

// kubeEndpointSlice is the part of a discovery.k8s.io/v1 EndpointSlice calipath reads.
type kubeEndpointSlice struct {
	Metadata    objectMeta `json:"metadata"`
	AddressType string     `json:"addressType"`
	Endpoints   []struct {
		Addresses  []string `json:"addresses"`
		Conditions struct {
			Ready *bool `json:"ready"`
		} `json:"conditions"`
		NodeName  string    `json:"nodeName"`
		TargetRef targetRef `json:"targetRef"`
	} `json:"endpoints"`
	Ports []struct {
		Name     string `json:"name"`
		Protocol string `json:"protocol"`
		Port     *int   `json:"port"`
	} `json:"ports"`
}

type targetRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// serviceLabel is the label that ties an EndpointSlice to its service.
const serviceLabel = "kubernetes.io/service-name"

// parseEndpointSlice reads an EndpointSlice: a service's backends (FQDN slices hold no addresses and
// are kept without them).
func parseEndpointSlice(obj []byte, src *source, m *Meta) error {
	var e kubeEndpointSlice
	if err := json.Unmarshal(obj, &e); err != nil {
		return err
	}
	if e.Metadata.Name == "" {
		return fmt.Errorf("no metadata.name")
	}
	es := EndpointSlice{Namespace: orDefault(e.Metadata.Namespace), Name: e.Metadata.Name,
		Service: e.Metadata.Labels[serviceLabel], AddressType: e.AddressType, Source: src.path}
	for _, ep := range e.Endpoints {
		out := Endpoint{Ready: ep.Conditions.Ready == nil || *ep.Conditions.Ready, Node: ep.NodeName}
		if ep.TargetRef.Kind == "Pod" && ep.TargetRef.Name != "" {
			out.Pod = orDefault(ep.TargetRef.Namespace) + "/" + ep.TargetRef.Name
		}
		if e.AddressType != "FQDN" {
			for _, a := range ep.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					return fmt.Errorf("%s/%s: endpoints: %v", es.Namespace, es.Name, err)
				}
				out.Addresses = appendAddr(out.Addresses, ip.Unmap())
			}
		}
		es.Endpoints = append(es.Endpoints, out)
	}
	for _, p := range e.Ports {
		ep := EndpointPort{Name: p.Name, Protocol: p.Protocol}
		if p.Port != nil {
			if *p.Port < 0 || *p.Port > 65535 {
				return fmt.Errorf("%s/%s: port %d out of range", es.Namespace, es.Name, *p.Port)
			}
			ep.Port = uint16(*p.Port)
		}
		if ep.Protocol == "" {
			ep.Protocol = "TCP"
		}
		es.Ports = append(es.Ports, ep)
	}
	m.EndpointSlices = append(m.EndpointSlices, es)
	return nil
}

// kubeEndpoints is the part of a core v1 Endpoints object (what `kubectl get endpoints` prints)
// calipath reads.
type kubeEndpoints struct {
	Metadata objectMeta `json:"metadata"`
	Subsets  []struct {
		Addresses         []endpointAddress `json:"addresses"`
		NotReadyAddresses []endpointAddress `json:"notReadyAddresses"`
		Ports             []struct {
			Name     string `json:"name"`
			Protocol string `json:"protocol"`
			Port     int    `json:"port"`
		} `json:"ports"`
	} `json:"subsets"`
}

type endpointAddress struct {
	IP        string    `json:"ip"`
	NodeName  string    `json:"nodeName"`
	TargetRef targetRef `json:"targetRef"`
}

// parseEndpoints reads a core v1 Endpoints object as one EndpointSlice per subset, named after the
// service (older clusters, or `kubectl get endpoints`).
func parseEndpoints(obj []byte, src *source, m *Meta) error {
	var e kubeEndpoints
	if err := json.Unmarshal(obj, &e); err != nil {
		return err
	}
	if e.Metadata.Name == "" {
		return fmt.Errorf("no metadata.name")
	}
	ns := orDefault(e.Metadata.Namespace)
	for i, ss := range e.Subsets {
		es := EndpointSlice{Namespace: ns, Name: fmt.Sprintf("%s (endpoints subset %d)", e.Metadata.Name, i+1),
			Service: e.Metadata.Name, Source: src.path}
		add := func(as []endpointAddress, ready bool) error {
			for _, a := range as {
				ip, err := netip.ParseAddr(a.IP)
				if err != nil {
					return fmt.Errorf("%s/%s: subsets: %v", ns, e.Metadata.Name, err)
				}
				ep := Endpoint{Addresses: []netip.Addr{ip.Unmap()}, Ready: ready, Node: a.NodeName}
				if a.TargetRef.Kind == "Pod" && a.TargetRef.Name != "" {
					ep.Pod = orDefault(a.TargetRef.Namespace) + "/" + a.TargetRef.Name
				}
				if es.AddressType == "" {
					es.AddressType = "IPv4"
					if ip.Unmap().Is6() {
						es.AddressType = "IPv6"
					}
				}
				es.Endpoints = append(es.Endpoints, ep)
			}
			return nil
		}
		if err := add(ss.Addresses, true); err != nil {
			return err
		}
		if err := add(ss.NotReadyAddresses, false); err != nil {
			return err
		}
		for _, p := range ss.Ports {
			if p.Port < 0 || p.Port > 65535 {
				return fmt.Errorf("%s/%s: port %d out of range", ns, e.Metadata.Name, p.Port)
			}
			ep := EndpointPort{Name: p.Name, Protocol: p.Protocol, Port: uint16(p.Port)}
			if ep.Protocol == "" {
				ep.Protocol = "TCP"
			}
			es.Ports = append(es.Ports, ep)
		}
		m.EndpointSlices = append(m.EndpointSlices, es)
	}
	return nil
}
