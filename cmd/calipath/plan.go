package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/internal/errw"
	"github.com/calipath/calipath/internal/safetext"
)

// calipath plan prints the commands that capture the next incident between two pods (or a pod and a
// service) so that calipath reads the result without flags: on every node involved, tcpdump on the
// pods' cali interfaces (named by Calico's rule), on the tunnel device of the IP pools' mode and on
// the underlay filtered to the peer nodes, each written to <node>-<iface>.pcap; or one -i any capture
// and the node's `ip` dumps. The plan is built in two steps: resolvePlan reads the cluster metadata
// into a planSpec, and buildPlan turns a planSpec into commands (tested with hand-built specs).

// planPod is one end of the conversation, or one backend of a service.
type planPod struct {
	key     string // "namespace/name"; "" for a backend the metadata names by address only
	ip      netip.Addr
	node    string
	hostNet bool
	iface   string // its cali interface ("" on the host network or when its name is unknown)
}

// planSpec is what a plan is made from.
type planSpec struct {
	from     planPod
	to       []planPod // the pod, or the service's ready backends
	toLabel  string    // how the plan names the destination
	nodeIP   map[string]netip.Addr
	tunnels  []string // tunnel devices of the pools' modes, in order
	modeWhy  []string // why those tunnels, one line each
	notes    []string // what the metadata could not say
	underlay string   // the underlay interface
	any      bool     // one -i any capture and the ip dumps instead of one capture per interface
	ring     int      // ring buffer files per capture (tcpdump -W); 0: one file
	ringMB   int      // size of each ring file in MB (tcpdump -C)
	image    string   // the kubectl debug image
	k8s      []string // the --k8s arguments, repeated in the report command
}

// captureCmd is one tcpdump of a node plan.
type captureCmd struct {
	iface, file, filter string
}

// nodePlan is what to run on one node.
type nodePlan struct {
	node     string
	about    string // which pods are there and which peers it talks to
	captures []captureCmd
	dumps    []string // ip dump commands (-i any)
}

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plan", "", stdout, stderr)
	var k8sPaths pathsFlag
	k8s := (*[]string)(&k8sPaths)
	fs.Var(&k8sPaths, "k8s", "cluster metadata, a file or a directory (kubectl get pods,services,endpointslices,nodes -A -o json; calicoctl get ippools,workloadendpoints,nodes -o yaml); repeatable")
	from := fs.String("from", "", "the client `POD`, as namespace/name")
	to := fs.String("to", "", "the server, a pod or a service, as namespace/name (a service also by its `NAME` alone when only one namespace has it)")
	prefix := fs.String("iface-prefix", cluster.DefaultIfacePrefix, "Calico's interface `PREFIX` for pod veths (Felix's InterfacePrefix)")
	underlay := fs.String("underlay", "eth0", "the nodes' underlay `IFACE` (the interface that carries traffic between nodes)")
	anyIface := fs.Bool("any", false, "one tcpdump -i any per node plus its ip link, route, neighbour and address dumps, instead of one capture per interface")
	wg := fs.Bool("wireguard", false, "WireGuard is on (capture wireguard.cali too)")
	ring := fs.Int("ring", 0, "keep a ring of `N` files per capture (tcpdump -C/-W), for a long wait; 0 writes one file")
	ringMB := fs.Int("ring-size", 100, "size of each ring file in `MB`")
	image := fs.String("image", "nicolaka/netshoot", "the `IMAGE` of the kubectl debug variant (needs tcpdump and ip)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case len(*k8s) == 0:
		return usageErr(fs, stderr, "--k8s PATH is needed: the plan names interfaces and nodes from cluster metadata")
	case *from == "" || *to == "":
		return usageErr(fs, stderr, "--from NAMESPACE/POD and --to NAMESPACE/POD|NAMESPACE/SERVICE are needed")
	case fs.NArg() > 0:
		return usageErr(fs, stderr, "plan takes no files (got %q): give metadata with --k8s", fs.Arg(0))
	case *ring < 0 || *ringMB < 1:
		return usageErr(fs, stderr, "--ring N needs N ≥ 0 and --ring-size MB ≥ 1")
	case !safeWord(*underlay) || !safeWord(*prefix) || !safeWord(*image):
		return usageErr(fs, stderr, "--underlay, --iface-prefix and --image take a plain name (letters, digits, . _ - / : @)")
	}
	meta, probs, err := cluster.Load(*k8s)
	for _, p := range probs {
		fmt.Fprintf(stderr, "calipath plan: %s\n", sanitize(p.String()))
	}
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	spec, err := resolvePlan(meta, *from, *to, *prefix, *wg)
	if err != nil {
		return usageErr(fs, stderr, "%s", err.Error())
	}
	spec.underlay, spec.any, spec.ring, spec.ringMB, spec.image, spec.k8s = *underlay, *anyIface, *ring, *ringMB, *image, *k8s
	return writePlan(stdout, spec, buildPlan(spec))
}

// safeWord reports whether s can be pasted into a shell command unquoted.
func safeWord(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:@", r)) {
			return false
		}
	}
	return s != ""
}

// resolvePlan finds the pods, nodes and IP pools of a plan in cluster metadata.
func resolvePlan(m *cluster.Meta, from, to, prefix string, wireguard bool) (planSpec, error) {
	spec := planSpec{nodeIP: map[string]netip.Addr{}}
	src, ok := findPod(m, from, prefix)
	if !ok {
		return spec, fmt.Errorf("--from %s: no such pod in the metadata (want NS/POD as kubectl get pods -A lists it)", from)
	}
	if !src.ip.IsValid() || src.node == "" {
		return spec, fmt.Errorf("--from %s: the metadata gives the pod no address or node (not running?)", from)
	}
	spec.from = src
	if dst, ok := findPod(m, to, prefix); ok {
		if !dst.ip.IsValid() || dst.node == "" {
			return spec, fmt.Errorf("--to %s: the metadata gives the pod no address or node (not running?)", to)
		}
		spec.to, spec.toLabel = []planPod{dst}, dst.key
	} else {
		svc, err := findService(m, to)
		if err != nil {
			return spec, err
		}
		var ips []string
		for _, ip := range svc.ClusterIPs {
			ips = append(ips, ip.String())
		}
		spec.to = serviceBackends(m, svc, prefix)
		spec.toLabel = "service " + svc.Key()
		if len(ips) > 0 {
			spec.toLabel += " (" + strings.Join(ips, ", ") + ")"
		}
		if len(spec.to) == 0 {
			return spec, fmt.Errorf("--to %s: the service has no ready backend in the metadata's endpoint slices", to)
		}
	}
	for _, n := range m.Nodes {
		if ips := n.HostIPs(); len(ips) > 0 {
			spec.nodeIP[n.Name] = ips[0].IP
		}
	}
	for _, p := range append([]planPod{spec.from}, spec.to...) {
		if p.key == "" {
			spec.notes = append(spec.notes, fmt.Sprintf("backend %s on %s is not a pod the metadata lists: its cali interface is not known", p.ip, p.node))
		}
		if _, ok := spec.nodeIP[p.node]; !ok {
			spec.notes = append(spec.notes, fmt.Sprintf("node %s has no address in the metadata: its underlay capture is not filtered to it", p.node))
		}
	}
	spec.tunnels, spec.modeWhy = planTunnels(m, append([]planPod{spec.from}, spec.to...), wireguard)
	return spec, nil
}

// findPod finds "ns/name" among the metadata's pods.
func findPod(m *cluster.Meta, key, prefix string) (planPod, bool) {
	for i := range m.Pods {
		p := &m.Pods[i]
		if p.Key() == key {
			return podOf(p, prefix), true
		}
	}
	return planPod{}, false
}

// podOf is a metadata pod as a plan uses it.
func podOf(p *cluster.Pod, prefix string) planPod {
	pp := planPod{key: p.Key(), node: p.Node, hostNet: p.HostNetwork}
	if len(p.IPs) > 0 {
		pp.ip = p.IPs[0]
	}
	if !p.HostNetwork {
		pp.iface = cluster.IfaceName(prefix, p.Namespace, p.Name)
	}
	return pp
}

// findService finds a service by "ns/name", or by its name when one namespace alone has it.
func findService(m *cluster.Meta, key string) (*cluster.Service, error) {
	var found []*cluster.Service
	for i := range m.Services {
		s := &m.Services[i]
		if s.Key() == key || !strings.Contains(key, "/") && s.Name == key {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("--to %s: no such pod or service in the metadata", key)
	case 1:
		return found[0], nil
	}
	var keys []string
	for _, s := range found {
		keys = append(keys, s.Key())
	}
	return nil, fmt.Errorf("--to %s: several services have that name (%s): give NS/NAME", key, strings.Join(keys, ", "))
}

// serviceBackends returns the ready backends of a service from its endpoint slices, each once.
func serviceBackends(m *cluster.Meta, svc *cluster.Service, prefix string) []planPod {
	var out []planPod
	seen := map[netip.Addr]bool{}
	for _, es := range m.EndpointSlices {
		if es.Namespace != svc.Namespace || es.Service != svc.Name {
			continue
		}
		for _, ep := range es.Endpoints {
			if !ep.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				if seen[a] {
					continue
				}
				seen[a] = true
				b := planPod{ip: a, node: ep.Node}
				if p, ok := findPod(m, ep.Pod, prefix); ok && ep.Pod != "" {
					b = p
				} else if p, ok := podByIP(m, a, prefix); ok {
					b = p
				}
				if b.node == "" {
					b.node = ep.Node
				}
				out = append(out, b)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ip.Less(out[j].ip) })
	return out
}

// podByIP finds the pod that has address a.
func podByIP(m *cluster.Meta, a netip.Addr, prefix string) (planPod, bool) {
	for i := range m.Pods {
		for _, ip := range m.Pods[i].IPs {
			if ip == a && !m.Pods[i].HostNetwork {
				return podOf(&m.Pods[i], prefix), true
			}
		}
	}
	return planPod{}, false
}

// planTunnels returns the tunnel devices the pods' traffic crosses, by the encapsulation of the IP
// pools their addresses are in (a packet is encapsulated by the mode of its destination's pool, so
// both ends' pools count), and why.
func planTunnels(m *cluster.Meta, pods []planPod, wireguard bool) (tunnels, why []string) {
	has := map[string]bool{}
	add := func(t string) {
		if !has[t] {
			has[t] = true
			tunnels = append(tunnels, t)
		}
	}
	pools := map[string]bool{}
	for _, p := range pods {
		if p.hostNet || !p.ip.IsValid() {
			continue
		}
		var pool *cluster.Pool
		for i := range m.Pools {
			if m.Pools[i].CIDR.Contains(p.ip) && (pool == nil || m.Pools[i].CIDR.Bits() > pool.CIDR.Bits()) {
				pool = &m.Pools[i]
			}
		}
		if pool == nil {
			if !pools[""] {
				pools[""] = true
				why = append(why, fmt.Sprintf("no IP pool in the metadata holds %s (calicoctl get ippools -o yaml): capturing both tunnel devices", p.ip))
			}
			add("tunl0")
			add("vxlan.calico")
			continue
		}
		if pools[pool.Name] {
			continue
		}
		pools[pool.Name] = true
		line := fmt.Sprintf("pool %s (%s): ipipMode %s, vxlanMode %s", pool.Name, pool.CIDR, pool.IPIPMode, pool.VXLANMode)
		switch {
		case pool.IPIPMode == "Always" || pool.IPIPMode == "CrossSubnet":
			add("tunl0")
			line += ": tunl0"
		case pool.VXLANMode == "Always" || pool.VXLANMode == "CrossSubnet":
			add("vxlan.calico")
			line += ": vxlan.calico"
		default:
			line += ": no tunnel (BGP)"
		}
		if pool.IPIPMode == "CrossSubnet" || pool.VXLANMode == "CrossSubnet" {
			line += " between subnets, routed within one"
		}
		why = append(why, line)
	}
	if wireguard {
		add("wireguard.cali")
		why = append(why, "WireGuard: wireguard.cali")
	} else if planCrossNode(pods) {
		why = append(why, "if WireGuard is on (calicoctl get felixconfiguration default -o yaml: wireguardEnabled), "+
			"add --wireguard to capture wireguard.cali too: without it calipath ties the pods' packets to their "+
			"encrypted messages only by order and size, and cannot tell where inside a node one died")
	}
	return tunnels, why
}

// planCrossNode reports whether the pods are on more than one node (their traffic crosses nodes).
func planCrossNode(pods []planPod) bool {
	for _, p := range pods {
		if p.node != pods[0].node {
			return true
		}
	}
	return false
}

// buildPlan turns a spec into what to run on each node: the client's node first, then the backends'
// nodes by name.
func buildPlan(s planSpec) []nodePlan {
	local := map[string][]planPod{}
	var nodes []string
	for _, p := range append([]planPod{s.from}, s.to...) {
		if _, ok := local[p.node]; !ok {
			nodes = append(nodes, p.node)
		}
		dup := false
		for _, q := range local[p.node] {
			dup = dup || q.ip == p.ip
		}
		if !dup {
			local[p.node] = append(local[p.node], p)
		}
	}
	sort.Strings(nodes[1:])
	var out []nodePlan
	for _, node := range nodes {
		// The client's node talks to every backend's node; a backend's node to the client's.
		var peers []string
		var remote []planPod
		if node == s.from.node {
			peers = append(peers, nodes[1:]...)
			for _, p := range s.to {
				if p.node != node {
					remote = append(remote, p)
				}
			}
		} else {
			peers = []string{s.from.node}
			remote = []planPod{s.from}
		}
		np := nodePlan{node: node}
		var about []string
		for _, p := range local[node] {
			about = append(about, podLabel(p))
		}
		np.about = strings.Join(about, ", ")
		if len(peers) > 0 {
			var ps []string
			for _, n := range peers {
				if ip, ok := s.nodeIP[n]; ok {
					ps = append(ps, n+" ("+ip.String()+")")
				} else {
					ps = append(ps, n)
				}
			}
			np.about += "; peer " + strings.Join(ps, ", ")
		}
		var localHosts, remoteHosts []string
		for _, p := range local[node] {
			if !p.hostNet {
				localHosts = append(localHosts, "host "+p.ip.String())
			}
		}
		for _, n := range peers {
			if ip, ok := s.nodeIP[n]; ok {
				remoteHosts = append(remoteHosts, "host "+ip.String())
			}
		}
		for _, p := range remote {
			if !p.hostNet {
				remoteHosts = append(remoteHosts, "host "+p.ip.String())
			}
		}
		remoteHosts = dedupe(remoteHosts)
		file := func(iface string) string { return node + "-" + iface + ".pcap" }
		if s.any {
			np.captures = []captureCmd{{iface: "any", file: file("any"), filter: strings.Join(dedupe(append(localHosts, remoteHosts...)), " or ")}}
			np.dumps = []string{
				"ip -o link > " + node + "-links.txt",
				"ip route > " + node + "-routes.txt",
				"ip -j neigh > " + node + "-neigh.json",
				"ip -d -j addr > " + node + "-addr.json",
			}
			out = append(out, np)
			continue
		}
		for _, p := range local[node] {
			if p.iface != "" {
				np.captures = append(np.captures, captureCmd{iface: p.iface, file: file(p.iface)})
			}
		}
		if len(peers) > 0 {
			for _, t := range s.tunnels {
				np.captures = append(np.captures, captureCmd{iface: t, file: file(t), filter: strings.Join(localHosts, " or ")})
			}
			np.captures = append(np.captures, captureCmd{iface: s.underlay, file: file(s.underlay), filter: strings.Join(remoteHosts, " or ")})
		}
		out = append(out, np)
	}
	return out
}

// podLabel names a pod in a plan's comments.
func podLabel(p planPod) string {
	name := p.key
	if name == "" {
		name = "backend"
	}
	s := name + " (" + p.ip.String() + ")"
	if p.hostNet {
		s += " on the host network: no pod veth, its packets are on the node's own interfaces"
	}
	return s
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// tcpdumpLine is the tcpdump command of one capture.
func (s planSpec) tcpdumpLine(c captureCmd) string {
	line := "tcpdump -i " + c.iface + " -s 0 -U --immediate-mode"
	if s.ring > 0 {
		line += fmt.Sprintf(" -Z root -C %d -W %d", s.ringMB, s.ring) // -Z root: tcpdump reopens files after dropping privileges
	}
	line += " -w " + c.file
	if c.filter != "" {
		line += " '" + c.filter + "'"
	}
	return line
}

// writePlan prints the plan: per node the commands to run there, then the kubectl debug variant,
// then how to read the result.
func writePlan(w io.Writer, s planSpec, plan []nodePlan) error {
	ew := &errw.Writer{W: w}
	p := func(format string, a ...any) { fmt.Fprintf(ew, format+"\n", a...) }
	p("# calipath plan: %s → %s", safetext.Clean(s.from.key), safetext.Clean(s.toLabel))
	for _, l := range s.modeWhy {
		p("# %s", safetext.Clean(l))
	}
	for _, l := range s.notes {
		p("# note: %s", safetext.Clean(l))
	}
	if s.ring > 0 {
		p("# ring buffers: each capture keeps its last %d files of %d MB (tcpdump -C/-W), for a long wait", s.ring, s.ringMB)
	}
	var files []string
	for _, np := range plan {
		p("")
		p("## %s: %s", safetext.Clean(np.node), safetext.Clean(np.about))
		p("# as root on the node; stop the captures after the incident with: kill %s", jobs(len(np.captures)))
		p("mkdir -p /tmp/calipath && cd /tmp/calipath")
		for _, d := range np.dumps {
			p("%s", safetext.Clean(d))
		}
		for _, c := range np.captures {
			p("%s &", safetext.Clean(s.tcpdumpLine(c)))
			files = append(files, c.file)
		}
	}
	p("")
	p("## or from a workstation, without logging in to the nodes: one kubectl debug per node (ctrl-c stops its captures)")
	for _, np := range plan {
		var cmds []string
		for _, d := range np.dumps {
			cmds = append(cmds, d+";")
		}
		for _, c := range np.captures {
			cmds = append(cmds, strings.ReplaceAll(s.tcpdumpLine(c), "'", `"`)+" &")
		}
		p("kubectl debug node/%s -it --profile=sysadmin --image=%s -- sh -c 'mkdir -p /host/tmp/calipath && cd /host/tmp/calipath && trap \"kill 0\" INT TERM; %s wait'",
			safetext.Clean(np.node), s.image, safetext.Clean(strings.Join(cmds, " ")))
	}
	p("# then fetch each node's files (they are in /tmp/calipath on the node):")
	for _, np := range plan {
		p("kubectl debug node/%s -i --profile=sysadmin --image=%s -- tar -C /host/tmp/calipath -cf - . | tar -xf -", safetext.Clean(np.node), s.image)
	}
	p("")
	p("## then, with every node's files in one directory:")
	if s.ring > 0 {
		p("# a ring's pieces (FILE.pcap0, FILE.pcap1, …) go one directory each, under their capture's name:")
		p(`for f in *.pcap[0-9]*; do n=${f##*.pcap}; mkdir -p "ring$n" && mv "$f" "ring$n/${f%%$n}"; done`)
	}
	var args []string
	for _, k := range s.k8s {
		args = append(args, "--k8s "+shellQuote(k))
	}
	if s.any {
		for _, np := range plan {
			args = append(args, "--links "+shellQuote(np.node+"="+np.node+"-links.txt"))
			for _, f := range []string{"-routes.txt", "-neigh.json", "-addr.json"} {
				args = append(args, "--k8s "+shellQuote(np.node+"="+np.node+f))
			}
		}
	}
	glob := strings.Join(files, " ")
	if s.ring > 0 {
		glob = "ring*/*.pcap"
	}
	p("calipath report %s %s", safetext.Clean(strings.Join(args, " ")), safetext.Clean(glob))
	return ew.Err
}

// jobs lists the shell's job numbers 1..n: "%1 %2 %3".
func jobs(n int) string {
	var s []string
	for i := 1; i <= n; i++ {
		s = append(s, fmt.Sprintf("%%%d", i))
	}
	return strings.Join(s, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if safeWord(strings.ReplaceAll(s, "=", "")) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
