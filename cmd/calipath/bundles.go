package main

import (
	"fmt"
	"io"
	"os"

	"github.com/calipath/calipath/bundle"
	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// expand reads the bundles among the inputs (directories, tarballs: see package bundle) and returns
// the captures to read. Inputs that are neither pass through untouched, and without any bundle
// nothing else changes.
func (f *inputFlags) expand(paths []string) []string {
	bundles := false
	for _, p := range paths {
		if p == "-" {
			continue
		}
		if st, err := os.Stat(p); (err == nil && st.IsDir()) || bundle.IsTarball(p) {
			bundles = true
		}
	}
	if !bundles {
		return paths
	}
	var nodes []string
	seen := map[string]bool{}
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			nodes = append(nodes, n)
		}
	}
	for _, kv := range append(append([][2]string(nil), f.links.kv...), f.nodeIPs.kv...) {
		add(kv[0])
	}
	for _, id := range f.points.m {
		add(id.Node)
	}
	for _, p := range paths {
		if n, iface := decode.SplitFileName(p); iface != "" && !bundle.IsTarball(p) {
			add(n)
		}
	}
	f.set = bundle.Expand(paths, bundle.Options{Limits: f.decodeOptions().Limits, Explicit: f.points.m, Nodes: nodes})
	return f.set.Paths
}

// bundleConfig adds what the bundles say to cfg: where their captures were taken (--point wins),
// their nodes' interface names (--links wins) and what their captures dropped; their cluster metadata
// goes to the --k8s loader.
func (f *inputFlags) bundleConfig(cfg *decode.PointConfig) {
	if f.set == nil {
		return
	}
	for p, id := range f.set.Explicit {
		if _, given := cfg.Explicit[p]; !given {
			cfg.Explicit[p] = id
			if cfg.Why == nil {
				cfg.Why = map[string]string{}
			}
			cfg.Why[p] = f.set.Why[p]
			if pod := f.set.Pods[p]; pod != "" {
				if cfg.Pods == nil {
					cfg.Pods = map[string]string{}
				}
				cfg.Pods[p] = pod
			}
		}
	}
	// Cluster metadata found in the bundles is read as --k8s reads it.
	f.cluster.paths = append(f.cluster.paths, f.set.Meta...)
	f.set.Meta = nil // handed over once (config may run more than once)
	for _, d := range f.set.Drops {
		cfg.Drops = append(cfg.Drops, decode.CaptureDrop{Path: d.Path, File: -1, Iface: -1, Dropped: d.Dropped,
			From: d.From + ": tcpdump's \"packets dropped by kernel\""})
	}
	for node, m := range f.set.Links {
		if _, given := cfg.Links[node]; !given {
			cfg.Links[node] = m
			if cfg.LinksFrom == nil {
				cfg.LinksFrom = map[string]string{}
			}
			cfg.LinksFrom[node] = f.set.LinksFrom[node]
		}
	}
}

// bundleNodeState reads the nodes' routes and neighbours the bundles hold (Retina's
// ip-resources.txt) into the cluster metadata's node state, as --k8s reads a node's `ip` dumps, so
// that drops are explained from a bundle alone; without --k8s the metadata holds only that.
func (f *inputFlags) bundleNodeState() {
	if f.set == nil || len(f.set.NodeDumps) == 0 {
		return
	}
	if f.cluster.meta == nil {
		f.cluster.meta = cluster.New()
	}
	m := f.cluster.meta
	if m.NodeState == nil {
		m.NodeState = map[string]*cluster.NodeState{}
	}
	for _, d := range f.set.NodeDumps {
		f.cluster.probs = append(f.cluster.probs, cluster.ReadIPResources(m.NodeState, d.File, d.Node, d.Data)...)
	}
	f.set.NodeDumps = nil // read once (config may run more than once)
}

// printBundle writes what reading the bundles skipped, and calipath's guesses, to stderr.
func (f *inputFlags) printBundle(stderr io.Writer) {
	if f.set == nil {
		return
	}
	for _, p := range f.set.Problems {
		fmt.Fprintf(stderr, "calipath: %s\n", sanitize(p))
	}
	for _, h := range f.set.Hints {
		fmt.Fprintf(stderr, "calipath: hint: %s\n", sanitize(h))
	}
}

// bundleSkipped reports whether reading the bundles skipped anything (exit code 1).
func (f *inputFlags) bundleSkipped() bool { return f.set != nil && f.set.Skipped > 0 }

// bundleErr is err, or errSkipped when err is nil and reading the bundles skipped something.
func bundleErr(err error, f *inputFlags) error {
	if err == nil && f.bundleSkipped() {
		return errSkipped
	}
	return err
}
