package cluster

import (
	"fmt"
	"net/netip"
)

// Finish puts the lists in order and drops duplicates (the same object given twice, as in a List and
// in a file of its own), and node addresses that are pods' (dropPodNodeAddrs), saying so. Load calls it; a Meta built with Add needs it once at the end.
func (m *Meta) Finish() []Problem {
	var probs []Problem
	m.sortAll()
	m.nodeIdx = nil // sorting moved the nodes
	m.Pods = dedupe(m.Pods, "pod", func(p *Pod) (string, string) { return p.Key(), p.Source }, &probs)
	m.Services = dedupe(m.Services, "service", func(s *Service) (string, string) { return s.Key(), s.Source }, &probs)
	m.EndpointSlices = dedupe(m.EndpointSlices, "endpoint slice", func(e *EndpointSlice) (string, string) {
		return e.Namespace + "/" + e.Name, e.Source
	}, &probs)
	m.Pools = dedupe(m.Pools, "IP pool", func(p *Pool) (string, string) { return p.Name, p.Source }, &probs)
	m.WorkloadEndpoints = dedupe(m.WorkloadEndpoints, "workload endpoint", func(w *WorkloadEndpoint) (string, string) {
		return w.Namespace + "/" + w.Name, w.Source
	}, &probs)
	for i := range m.Nodes {
		n := &m.Nodes[i]
		n.Addresses = dedupe(n.Addresses, "", func(a *NodeAddr) (string, string) { return a.IP.String() + " " + a.Kind, a.Source }, nil)
		n.PodCIDRs = dedupe(n.PodCIDRs, "", func(p *netip.Prefix) (string, string) { return p.String(), "" }, nil)
	}
	return append(probs, m.dropPodNodeAddrs()...)
}

// dedupe keeps the first of the items with the same key (the list is sorted by key, stably), and
// says which were dropped when probs is not nil.
func dedupe[T any](list []T, what string, key func(*T) (k, source string), probs *[]Problem) []T {
	seen := map[string]string{}
	out := list[:0]
	for i := range list {
		k, src := key(&list[i])
		if first, dup := seen[k]; dup {
			if probs != nil {
				msg := fmt.Sprintf("%s %s given twice: the first kept", what, k)
				if first != src {
					msg = fmt.Sprintf("%s %s given again (first in %s): the first kept", what, k, first)
				}
				*probs = append(*probs, Problem{File: src, Msg: msg})
			}
			continue
		}
		seen[k] = src
		out = append(out, list[i])
	}
	return out
}
