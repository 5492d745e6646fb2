package main

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
	"github.com/spf13/pflag"
)

// clusterFlags are --k8s and --iface-prefix: cluster metadata and what it needs.
type clusterFlags struct {
	paths  pathsFlag
	prefix string
	meta   *cluster.Meta     // loaded by load, nil without --k8s
	probs  []cluster.Problem // what loading found wrong, printed by printProblems
}

func (c *clusterFlags) register(fs *pflag.FlagSet) {
	fs.Var(&c.paths, "k8s", "read cluster metadata from PATH, a file or a directory ("+cluster.Accepted()+", "+
		"read by content; repeatable; NODE=PATH for one node's files): pod, service and node names, node IPs, IP pools, "+
		"the nodes' routes, neighbours and links")
	fs.StringVar(&c.prefix, "iface-prefix", "", "the `PREFIX` of Calico's pod interfaces, Felix's InterfacePrefix (default cali): --k8s names the pod behind an interface by it")
}

// pathsFlag is a repeatable [NODE=]PATH flag.
type pathsFlag []string

func (p *pathsFlag) String() string { return strings.Join(*p, ",") }
func (p *pathsFlag) Type() string   { return "PATH" }
func (p *pathsFlag) Set(v string) error {
	if v == "" {
		return fmt.Errorf("want a file or directory, got nothing")
	}
	*p = append(*p, v)
	return nil
}

// load reads the --k8s paths once. A path that cannot be read, or a file named that is not
// metadata, is an error; problems within files are kept for printProblems.
func (c *clusterFlags) load() (*cluster.Meta, error) {
	if c.meta != nil || len(c.paths) == 0 {
		return c.meta, nil
	}
	m, probs, err := cluster.Load([]string(c.paths))
	if err != nil {
		return nil, fmt.Errorf("--k8s: %w", err)
	}
	c.meta, c.probs = m, append(probs, m.CheckIfaces(c.prefix)...)
	return m, nil
}

// maxClusterProblems is how many problems of one metadata file are printed; the rest are counted.
const maxClusterProblems = 10

// printProblems prints the metadata's problems, as many per file as maxClusterProblems, and a count
// of the rest.
func (c *clusterFlags) printProblems(stderr io.Writer) {
	perFile := map[string]int{}
	var order []string
	for _, p := range c.probs {
		if perFile[p.File] == 0 {
			order = append(order, p.File)
		}
		perFile[p.File]++
		if perFile[p.File] <= maxClusterProblems {
			fmt.Fprintf(stderr, "calipath: %s\n", sanitize(p.String()))
		}
	}
	for _, f := range order {
		if more := perFile[f] - maxClusterProblems; more > 0 {
			fmt.Fprintf(stderr, "calipath: %s: %d more problems not shown\n", sanitize(f), more)
		}
	}
}

// addNodeIPs gives cfg the node addresses the metadata holds, each with where it was said, for the
// nodes --node-ip did not name (what it says wins), and the pods' MACs its workload endpoints give. A metadata node whose name the captures give
// without its domain (or with one) takes the captures' name (cluster.MatchNodes).
func (c *clusterFlags) addNodeIPs(cfg *decode.PointConfig, captured []string) {
	if c.meta == nil {
		return
	}
	given := map[string]bool{}
	for n := range cfg.NodeIPs {
		given[n] = true
	}
	if cfg.NodeIPWhy == nil {
		cfg.NodeIPWhy = map[netip.Addr]string{}
	}
	alias := c.meta.MatchNodes(captured)
	cfg.PodMACs = c.meta.PodMACs(alias)
	for i := range c.meta.Nodes {
		n := &c.meta.Nodes[i]
		name, of := n.Name, ""
		if a, ok := alias[name]; ok {
			name, of = a, " of node "+n.Name
		}
		if given[name] {
			continue
		}
		for _, a := range n.HostIPs() {
			if _, dup := cfg.NodeIPWhy[a.IP]; dup {
				continue // two nodes claim it: the first (by name) keeps it
			}
			cfg.NodeIPs[name] = append(cfg.NodeIPs[name], a.IP)
			cfg.NodeIPWhy[a.IP] = fmt.Sprintf("%s%s in %s", a.Kind, of, a.Source)
		}
	}
}

// capturedNodes returns the node names the inputs' file names and --point give.
func (f *inputFlags) capturedNodes(paths []string) []string {
	var out []string
	for _, p := range paths {
		if id, ok := f.points.m[p]; ok {
			out = append(out, id.Node)
		} else if n, _ := decode.SplitFileName(p); n != "" {
			out = append(out, n)
		}
	}
	return out
}
