package bundle

import (
	"encoding/json"
	"io"
	"net/netip"
	"os"
)

// nodeObject is the part of a Kubernetes Node (or a List of objects) that names nodes and their
// addresses, as `kubectl get nodes -o json` prints it.
type nodeObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Status struct {
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
	} `json:"status"`
	Items []nodeObject `json:"items"`
}

// metaNodes adds to opts the nodes (names, and InternalIP/ExternalIP addresses) that the JSON
// cluster metadata files among s.Meta list, so that Retina tarballs can be told apart by them. Files
// that are not JSON, or hold no Node, add nothing (the cluster loader reads them in full).
func (s *Set) metaNodes(opts Options) Options {
	nodes := append([]string(nil), opts.Nodes...)
	ips := map[netip.Addr]string{}
	for ip, n := range opts.NodeIPs {
		ips[ip] = n
	}
	var add func(o *nodeObject)
	add = func(o *nodeObject) {
		if o.Kind == "Node" && o.Metadata.Name != "" {
			nodes = append(nodes, o.Metadata.Name)
			for _, a := range o.Status.Addresses {
				if ip, err := netip.ParseAddr(a.Address); err == nil && (a.Type == "InternalIP" || a.Type == "ExternalIP") {
					if _, taken := ips[ip]; !taken {
						ips[ip] = o.Metadata.Name
					}
				}
			}
		}
		for i := range o.Items {
			add(&o.Items[i])
		}
	}
	for _, p := range s.Meta {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		var o nodeObject
		err = json.NewDecoder(io.LimitReader(f, 256<<20)).Decode(&o)
		f.Close()
		if err == nil {
			add(&o)
		}
	}
	opts.Nodes, opts.NodeIPs = nodes, ips
	return opts
}
