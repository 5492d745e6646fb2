package bundle

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// Retina (microsoft/retina) names a capture's tarball after file.CaptureFilename
// (pkg/capture/file/filename.go): "<capture name>-<node hostname>-<YYYYmmddHHMMSS><zone>", plus
// ".tar.gz"; inside are the capture "<same name>.pcap" (tcpdump -i any by default:
// pkg/capture/provider/network_capture_unix.go constructTcpdumpCommand), ip-resources.txt (the output
// of `ip -d -j addr show`, `ip -d -j neighbor show`, `ip rule list`, `ip route show table all`, each
// after its command line), iptables-rules.txt, socket-stats.txt, proc-net/ and proc-sys-net/ copies,
// and tcpdump.log (tcpdump's own output, with its closing "N packets dropped by kernel").
var retinaName = regexp.MustCompile(`(?s)^(.+)-(\d{14})([A-Za-z]{1,5})$`) // (?s): any byte of a file name, a newline too

// retinaMeta are the entries of a Retina tarball calipath knows and does not use.
func retinaMeta(name string) bool {
	base := filepath.Base(name)
	return strings.HasPrefix(name, "proc-net/") || strings.HasPrefix(name, "proc-sys-net/") ||
		strings.Contains(name, "/proc-net/") || strings.Contains(name, "/proc-sys-net/") ||
		base == "iptables-rules.txt" || base == "socket-stats.txt" || strings.HasSuffix(base, ".etl") ||
		base == "netsh.log" || strings.HasPrefix(name, "metadata/")
}

// tarballStem is a tarball's file name without its suffix.
func tarballStem(p string) string {
	b := filepath.Base(p)
	for _, suf := range []string{".tar.gz", ".tgz", ".tar", ".TAR.GZ", ".TGZ", ".TAR"} {
		if s, ok := strings.CutSuffix(b, suf); ok {
			return s
		}
	}
	return b
}

// tarball is what one tarball holds for calipath.
type tarball struct {
	path      string
	caps      []string             // its captures, as TARBALL!/ENTRY
	links     []cluster.IPAddrLink // its node's interfaces (ip-resources.txt)
	linksFrom string
	resources []byte // its ip-resources.txt, for the node's routes and neighbours
	dropped   int64  // tcpdump.log's count; -1 without one
	dropFrom  string
}

// tarballNodes works out each tarball's node, in this order: --point naming the tarball; the node
// whose address (from cluster metadata) the tarball's own address dump holds; its name, less Retina's
// trailing timestamp, "<capture>-<node>" (both may hold dashes), ending in a node name known from
// cluster metadata, other inputs or flags; with several tarballs left, the capture name as their
// longest common dash-separated prefix (a hint says so: node names that share a prefix too lose it);
// a lone tarball keeps "<capture>-<node>" as its node, with a hint. A tarball whose name ends in
// another known node than the one its address gives keeps the address's, and is a warning (warns)
// naming both: the metadata's names or the tarball's name are wrong, and which cannot be told.
func tarballNodes(tbs []*tarball, opts Options) (nodes, why map[string]string, hints, warns []string) {
	nodes, why = map[string]string{}, map[string]string{}
	rest := map[string]string{}
	var open []string
	for _, t := range tbs {
		tb := t.path
		if id, ok := opts.Explicit[tb]; ok {
			nodes[tb], why[tb] = id.Node, "--point"
			continue
		}
		r := tarballStem(tb)
		if m := retinaName.FindStringSubmatch(r); m != nil {
			r = m[1]
		}
		named := knownSuffix(r, opts.Nodes)
		if n, ip := nodeByAddr(t.links, opts.NodeIPs); n != "" {
			nodes[tb], why[tb] = n, fmt.Sprintf("Retina tarball %s: its address dump holds %s, node %s's address in the cluster metadata", filepath.Base(tb), ip, n)
			if named != "" && named != n {
				w := fmt.Sprintf("%s: its name ends in node %s, but its address dump holds %s, which the cluster metadata gives node %s: taken as %s's capture, by its address; the metadata's node names or the tarball's name are wrong. Check the nodes' list is this cluster's (kubectl get nodes -o wide), or say the node with --point NODE:any=%s",
					tb, named, ip, n, n, tb)
				warns = append(warns, w)
				why[tb] += fmt.Sprintf(" (CONTRADICTED: its name says node %s)", named)
			}
			continue
		}
		rest[tb] = r
		if named != "" {
			nodes[tb], why[tb] = named, fmt.Sprintf("Retina tarball name %s: node %s, a node name known from the other inputs", filepath.Base(tb), named)
			continue
		}
		open = append(open, tb)
	}
	if len(open) == 0 {
		return nodes, why, nil, warns
	}
	if len(open) == 1 {
		tb := open[0]
		nodes[tb], why[tb] = rest[tb], "Retina tarball name "+filepath.Base(tb)+" (its capture name cannot be told apart: kept with the node)"
		hints = append(hints, fmt.Sprintf("%s: one Retina tarball, so its capture name cannot be told from its node's: calipath took node %q; say the node with --point NODE:any=%s, or give the cluster's nodes (kubectl get nodes -o json) beside it", tb, rest[tb], tb))
		return nodes, why, hints, warns
	}
	parts := make([][]string, len(open))
	for i, tb := range open {
		parts[i] = strings.Split(rest[tb], "-")
	}
	common := len(parts[0]) - 1
	for _, p := range parts[1:] {
		k := 0
		for k < common && k < len(p)-1 && p[k] == parts[0][k] {
			k++
		}
		common = min(common, k)
	}
	capName := strings.Join(parts[0][:common], "-")
	var got []string
	for i, tb := range open {
		n := strings.Join(parts[i][common:], "-")
		nodes[tb] = n
		why[tb] = fmt.Sprintf("Retina tarball name %s: node after the capture name %q all the tarballs share", filepath.Base(tb), capName)
		got = append(got, n)
	}
	hints = append(hints, fmt.Sprintf("Retina tarballs: capture name %q (the prefix their names share), nodes %s; if the node names share a prefix too, give the cluster's nodes (kubectl get nodes -o json) beside them or say each with --point NODE:any=TARBALL",
		capName, strings.Join(got, ", ")))
	return nodes, why, hints, warns
}

// knownSuffix returns the longest of nodes that name ends in, after a dash; "" when none.
func knownSuffix(name string, nodes []string) string {
	best := ""
	for _, n := range nodes {
		if strings.HasSuffix(name, "-"+n) && len(n) > len(best) {
			best = n
		}
	}
	return best
}

// nodeByAddr returns the node one of whose addresses an interface of links holds.
func nodeByAddr(links []cluster.IPAddrLink, nodeIPs map[netip.Addr]string) (string, netip.Addr) {
	for _, l := range links {
		for _, a := range l.Addrs {
			if n, ok := nodeIPs[a.Addr()]; ok {
				return n, a.Addr()
			}
		}
	}
	return "", netip.Addr{}
}

// readTarballs reads each tarball: its captures are listed as TARBALL!/ENTRY with the tarball's node
// and interface "any" (the interface indexes named from its address dump), its tcpdump.log gives the
// capture's drops, and what is left is counted.
func (s *Set) readTarballs(paths []string, opts Options) {
	var tbs []*tarball
	for _, p := range paths {
		if t := s.readTarball(p, opts); t != nil {
			tbs = append(tbs, t)
		}
	}
	nodes, why, hints, warns := tarballNodes(tbs, opts)
	s.Hints = append(s.Hints, hints...)
	s.Problems = append(s.Problems, warns...)
	for _, t := range tbs {
		node := nodes[t.path]
		for _, c := range t.caps {
			s.Paths = append(s.Paths, c)
			s.identify(c, decode.Identity{Node: node, Iface: "any"}, why[t.path], "")
		}
		if t.links != nil {
			s.addLinks(node, t.linksFrom, cluster.IfNames(t.links))
			s.NodeDumps = append(s.NodeDumps, NodeDump{Node: node, File: t.linksFrom, Data: t.resources})
		}
		if t.dropped >= 0 {
			if len(t.caps) == 1 {
				s.Drops = append(s.Drops, Drop{Path: t.caps[0], Dropped: t.dropped, From: t.dropFrom})
			} else {
				s.problem("%s: tcpdump.log says %d packets dropped, but the tarball holds %d captures: not used", t.path, t.dropped, len(t.caps))
			}
		}
	}
}

// readTarball walks one tarball, or returns nil when it holds no capture (said in Problems).
func (s *Set) readTarball(tb string, opts Options) *tarball {
	f, err := Open(tb)
	if err != nil {
		s.problem("%s: %v (skipped)", tb, err)
		s.Skipped++
		return nil
	}
	defer f.Close()
	s.Read = append(s.Read, tb)
	t := &tarball{path: tb, dropped: -1}
	known, other := 0, 0
	problems, err := walkTar(f, opts.Limits.MaxBytes, func(e *entry) bool {
		p := tb + Sep + e.name
		switch k := sniff(e.head); {
		case k == kindCapture:
			t.caps = append(t.caps, p)
		case k == kindText && isIPResources(e.head, e.name):
			b, err := io.ReadAll(io.LimitReader(e.r, maxText))
			var links []cluster.IPAddrLink
			if err == nil {
				links, err = ipResourcesLinks(b)
			}
			if err != nil {
				s.problem("%s: %v (its interface names are not used)", p, err)
				s.Skipped++
				return true
			}
			if t.links == nil {
				t.links, t.linksFrom, t.resources = links, p, b
			}
		case k == kindText && filepath.Base(e.name) == "tcpdump.log":
			if n, ok := parseDrops(e.r); ok {
				t.dropped, t.dropFrom = n, p
			}
		case retinaMeta(e.name):
			known++
		default:
			s.problem("%s: neither a capture nor a dump or log calipath reads (skipped)", p)
			other++
		}
		return true
	})
	for _, pr := range problems {
		s.problem("%s: %s", tb, pr)
		s.Skipped++
	}
	s.Skipped += other
	if err != nil {
		s.problem("%s: %v", tb, err)
		s.Skipped++
	}
	if known > 0 {
		s.Hints = append(s.Hints, fmt.Sprintf("%s: %d entries calipath does not read (iptables rules, socket statistics, /proc copies)", tb, known))
	}
	if len(t.caps) == 0 {
		s.problem("%s: no capture in the tarball", tb)
		s.Skipped++
		return nil
	}
	return t
}

// isIPResources reports whether an entry is Retina's ip-resources.txt (or another file holding
// `ip -d -j addr show` output after its command line, or that JSON alone).
func isIPResources(head []byte, name string) bool {
	return filepath.Base(name) == "ip-resources.txt" || bytes.Contains(head, []byte("-j addr show")) ||
		bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte(`[{"ifindex"`))
}

// ipResourcesLinks reads the interfaces from an ip-resources.txt: the JSON array after the line that
// ends with "ip -d -j addr show" (Retina's processMetadataFile writes each command line, a blank
// line, then its output), or a JSON array the file starts with.
func ipResourcesLinks(b []byte) ([]cluster.IPAddrLink, error) {
	if t := bytes.TrimLeft(b, " \t\r\n"); bytes.HasPrefix(t, []byte("[")) {
		return cluster.ParseIPAddr(bytes.NewReader(t))
	}
	rest := b
	if k := bytes.Index(rest, []byte("\nExecute:")); k >= 0 {
		rest = rest[k:] // past the summary, which names the commands too
	}
	if k := bytes.Index(rest, []byte("-j addr show")); k >= 0 {
		if nl := bytes.IndexByte(rest[k:], '\n'); nl >= 0 {
			return cluster.ParseIPAddr(bytes.NewReader(rest[k+nl:]))
		}
	}
	return nil, fmt.Errorf("no `ip -d -j addr show` output in it")
}
