package cluster

import (
	"net/netip"
	"sort"
)

// Meta is what cluster metadata says about a cluster: its pods, services and their backends, nodes,
// Calico's IP pools and workload endpoints, and per-node state. Every item names the file it came
// from (Source), so a conclusion drawn from it can cite that file.
type Meta struct {
	Pods              []Pod
	Services          []Service
	EndpointSlices    []EndpointSlice
	Nodes             []Node
	Pools             []Pool
	WorkloadEndpoints []WorkloadEndpoint
	// NodeState is each node's own state (links, routes, neighbours, addresses), by node name.
	NodeState map[string]*NodeState
	// Files are the files read, with the format each was read as, in the order read.
	Files []File
	// Skipped are the files of directories given that are not cluster metadata (skipped, counted).
	Skipped []string
	// Refused are the node addresses Finish dropped: a running pod's address or in an IP pool.
	Refused []RefusedAddr

	nodeIdx map[string]int // Nodes by name
}

// RefusedAddr is a node address the metadata gives and contradicts: Why says what else it is.
type RefusedAddr struct {
	Node string
	Addr NodeAddr
	Why  string
}

// File is one metadata file read and the format it was recognised as.
type File struct {
	Path   string
	Node   string // from a NODE=FILE prefix, when given
	Format string
}

// Problem is something wrong in a metadata file that did not stop the rest of it from being read.
type Problem struct {
	File string
	Msg  string
}

func (p Problem) String() string { return p.File + ": " + p.Msg }

// Pod is one pod and its addresses.
type Pod struct {
	Namespace   string
	Name        string
	Node        string // spec.nodeName
	IPs         []netip.Addr
	HostNetwork bool   // the pod uses its node's addresses
	Phase       string // status.phase: Pending, Running, Succeeded, Failed, Unknown
	Source      string
}

// Done reports whether the pod has ended (Succeeded or Failed): its addresses may be another pod's now.
func (p *Pod) Done() bool { return p.Phase == "Succeeded" || p.Phase == "Failed" }

// Key returns "namespace/name".
func (p *Pod) Key() string { return p.Namespace + "/" + p.Name }

// Service is one Kubernetes service: the addresses and ports a DNAT rewrites.
type Service struct {
	Namespace   string
	Name        string
	Type        string // ClusterIP, NodePort, LoadBalancer, ExternalName
	ClusterIPs  []netip.Addr
	ExternalIPs []netip.Addr // spec.externalIPs and status.loadBalancer.ingress
	Ports       []ServicePort
	Source      string
}

// Key returns "namespace/name".
func (s *Service) Key() string { return s.Namespace + "/" + s.Name }

// ServicePort is one port of a service.
type ServicePort struct {
	Name       string
	Protocol   string // TCP, UDP, SCTP
	Port       uint16
	TargetPort string // a number or a named port
	NodePort   uint16
}

// EndpointSlice is one slice of a service's backends.
type EndpointSlice struct {
	Namespace   string
	Name        string
	Service     string // from the kubernetes.io/service-name label
	AddressType string // IPv4, IPv6, FQDN
	Endpoints   []Endpoint
	Ports       []EndpointPort
	Source      string
}

// Endpoint is one backend of a service.
type Endpoint struct {
	Addresses []netip.Addr
	Ready     bool   // conditions.ready; absent means ready
	Node      string // nodeName
	Pod       string // "namespace/name" of a Pod targetRef
}

// EndpointPort is one port the backends listen on.
type EndpointPort struct {
	Name     string
	Protocol string
	Port     uint16
}

// Node is one node, merged from its Kubernetes Node and its Calico Node.
type Node struct {
	Name      string
	Addresses []NodeAddr
	PodCIDRs  []netip.Prefix
	// VXLANMAC is the MAC of the node's vxlan.calico device (projectcalico.org/VXLANTunnelMACAddr or
	// the Calico node's spec.vxlanTunnelMACAddr).
	VXLANMAC string
	Sources  []string
}

// NodeAddr is one address of a node and where it was said.
type NodeAddr struct {
	IP     netip.Addr
	Kind   string // InternalIP, ExternalIP, Hostname, projectcalico.org/IPv4Address, bgp.ipv4Address, …
	Prefix int    // the mask given with it (Calico's IPv4Address "192.168.0.10/24"), or -1
	Tunnel bool   // a tunnel device's address (IPIP or VXLAN), not the node's own
	Source string
}

// Pool is one Calico IP pool.
type Pool struct {
	Name        string
	CIDR        netip.Prefix
	IPIPMode    string // Always, CrossSubnet, Never
	VXLANMode   string // Always, CrossSubnet, Never
	NATOutgoing bool
	Disabled    bool
	BlockSize   int
	Source      string
}

// WorkloadEndpoint is one Calico workload endpoint: a pod's interface as Calico sees it.
type WorkloadEndpoint struct {
	Namespace     string
	Name          string
	Node          string
	Pod           string // spec.pod (Kubernetes) or spec.workload
	InterfaceName string
	MAC           string
	IPNetworks    []netip.Prefix
	Source        string
}

// sortAll puts every list in a stable order (by source order is not stable across directory walks
// on every system; names are).
func (m *Meta) sortAll() {
	sort.SliceStable(m.Pods, func(i, j int) bool { return m.Pods[i].Key() < m.Pods[j].Key() })
	sort.SliceStable(m.Services, func(i, j int) bool { return m.Services[i].Key() < m.Services[j].Key() })
	sort.SliceStable(m.EndpointSlices, func(i, j int) bool {
		a, b := &m.EndpointSlices[i], &m.EndpointSlices[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	sort.SliceStable(m.Nodes, func(i, j int) bool { return m.Nodes[i].Name < m.Nodes[j].Name })
	sort.SliceStable(m.Pools, func(i, j int) bool { return m.Pools[i].Name < m.Pools[j].Name })
	sort.SliceStable(m.WorkloadEndpoints, func(i, j int) bool {
		a, b := &m.WorkloadEndpoints[i], &m.WorkloadEndpoints[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}
