// Package bundle turns calipath's arguments into the captures to read when they are bundles as the
// tools that make them leave them: a directory (read recursively, files told apart by content), a
// Retina capture tarball (read in place, streamed), a Calico PacketCapture tree, beside plain capture
// files, which pass through untouched. It says where each capture was taken when the bundle's layout
// does (decode.PointConfig's Explicit), names a -i any capture's interface indexes from the node's
// own address dump (PointConfig.Links), and collects what the capture tools said they dropped.
//
//	set := bundle.Expand([]string{"retina/"}, bundle.Options{})
//	cfg := decode.PointConfig{Explicit: set.Explicit, Links: set.Links}
//	c := decode.Load(set.Paths, decode.Options{Open: bundle.Open}, cfg)
package bundle

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// Options tune Expand.
type Options struct {
	// Limits bound every tarball's decompressed stream (MaxBytes), as they bound every capture.
	Limits decode.Limits
	// Explicit is what --point said: a tarball named there gets that node.
	Explicit map[string]decode.Identity
	// Nodes are node names known from elsewhere (other inputs, flags): a Retina tarball whose name ends
	// in one of them takes it as its node.
	Nodes []string
	// NodeIPs are node addresses known from elsewhere (--node-ip): a Retina tarball whose address dump
	// holds one is that node's.
	NodeIPs map[netip.Addr]string
}

// Set is what Expand found.
type Set struct {
	// Paths are the captures to read, in argument order (a directory's files in lexical order, a
	// tarball's captures in archive order as TARBALL!/ENTRY).
	Paths []string
	// Explicit and Why say where a capture of a bundle was taken and how calipath knows it.
	Explicit map[string]decode.Identity
	Why      map[string]string
	// Pods holds the Kubernetes pod ("namespace/name") a capture's layout names.
	Pods map[string]string
	// Links maps a node's interface indexes to names, from address or link dumps found in bundles;
	// LinksFrom says which file gave them.
	Links     map[string]map[int32]string
	LinksFrom map[string]string
	// Drops are what capture tools said they lost, per capture.
	Drops []Drop
	// NodeDumps are nodes' own `ip` dumps found in bundles (Retina's ip-resources.txt), for the
	// node state that explains drops (cluster.ReadIPResources).
	NodeDumps []NodeDump
	// Meta are files that hold cluster metadata (Kubernetes or Calico objects), found by content
	// (cluster.Detect): calipath hands them to the cluster loader, as --k8s.
	Meta []string
	// Problems are the messages about what was skipped or could not be read, each naming the file
	// (and entry); Skipped counts the files and entries that were not used.
	Problems []string
	Skipped  int
	// Hints say what calipath guessed and how to correct it.
	Hints []string
	// Read are the other files the bundles' reading uses (tarballs, dumps, logs, metadata): never an
	// output.
	Read []string
}

// NodeDump is one node's ip-resources.txt: its routes and neighbours, and where it was read.
type NodeDump struct {
	Node string
	File string // TARBALL!/ENTRY
	Data []byte
}

// Drop is a capture tool's own count of the packets it did not capture.
type Drop struct {
	Path    string // the capture
	Dropped int64  // packets the kernel dropped before the capture tool read them
	From    string // where calipath read it (a log file, an entry)
}

// Any reports whether the set holds anything but plain files passed through.
func (s *Set) Any() bool {
	return len(s.Explicit) > 0 || len(s.Links) > 0 || len(s.Drops) > 0 || len(s.Meta) > 0 || len(s.NodeDumps) > 0 ||
		len(s.Problems) > 0 || len(s.Hints) > 0 || s.Skipped > 0
}

func (s *Set) problem(format string, args ...any) {
	s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
}

func (s *Set) identify(p string, id decode.Identity, why, pod string) {
	if s.Explicit == nil {
		s.Explicit, s.Why, s.Pods = map[string]decode.Identity{}, map[string]string{}, map[string]string{}
	}
	s.Explicit[p] = id
	s.Why[p] = why
	if pod != "" {
		s.Pods[p] = pod
	}
}

func (s *Set) addLinks(node, from string, m map[int32]string) {
	if s.Links == nil {
		s.Links, s.LinksFrom = map[string]map[int32]string{}, map[string]string{}
	}
	if _, ok := s.Links[node]; ok {
		return
	}
	s.Links[node], s.LinksFrom[node] = m, from
}

// IsTarball reports whether an argument names a tarball by its suffix.
func IsTarball(p string) bool {
	l := strings.ToLower(p)
	return strings.HasSuffix(l, ".tar.gz") || strings.HasSuffix(l, ".tgz") || strings.HasSuffix(l, ".tar")
}

// Expand looks at every argument: a directory is walked, a tarball (by its suffix) is read, anything
// else is a capture and passes through as it is.
func Expand(args []string, opts Options) *Set {
	s := &Set{}
	var tarballs []string
	for _, a := range args {
		st, err := os.Stat(a)
		switch {
		case a != "-" && err == nil && st.IsDir():
			n := len(s.Paths)
			tbs := s.walkDir(a)
			tarballs = append(tarballs, tbs...)
			if len(s.Paths) == n && len(tbs) == 0 {
				// Nothing to read in it: the directory stays an input, which cannot be read (as before
				// directories were read), so that it is named among the inputs.
				s.problem("%s: no capture in the directory", a)
				s.Paths = append(s.Paths, a)
			}
		case a != "-" && IsTarball(a):
			tarballs = append(tarballs, a)
		default:
			s.Paths = append(s.Paths, a)
		}
	}
	if len(s.Meta) > 0 {
		opts = s.metaNodes(opts)
	}
	s.readTarballs(tarballs, opts)
	return s
}

// walkDir reads a directory tree: captures go to Paths, tarballs are returned to be read, dumps and
// logs are used, metadata is listed, and the rest is counted.
func (s *Set) walkDir(root string) (tarballs []string) {
	type capFile struct{ path, dir, stem string }
	var caps []capFile
	type logFile struct {
		path, dir, stem string
		drops           int64
	}
	var logs []logFile
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			s.problem("%s: %v (skipped)", p, err)
			s.Skipped++
			if d != nil && d.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			s.problem("%s: not a regular file (skipped)", p)
			s.Skipped++
			return nil
		}
		head, err := readHead(p)
		if err != nil {
			s.problem("%s: %v (skipped)", p, err)
			s.Skipped++
			return nil
		}
		switch sniff(head) {
		case kindCapture:
			s.Paths = append(s.Paths, p)
			caps = append(caps, capFile{p, filepath.Dir(p), captureStem(p)})
			if id, pod, why, ok := packetCapturePath(root, p); ok {
				s.identify(p, id, why, pod)
			}
			return nil
		case kindTar:
			tarballs = append(tarballs, p)
			return nil
		case kindText:
			if s.textFile(p, head) {
				return nil
			}
			if n, ok := tcpdumpDrops(p); ok {
				logs = append(logs, logFile{p, filepath.Dir(p), logStem(p), n})
				return nil
			}
		}
		s.problem("%s: neither a capture nor a dump, log or metadata calipath reads (skipped)", p)
		s.Skipped++
		return nil
	})
	// A tcpdump log goes with the capture of the same stem in its directory (node-a-any.pcap and
	// node-a-any-tcpdump.log or node-a-any.log), or with the only capture there.
	for _, l := range logs {
		var match []string
		var inDir []string
		for _, c := range caps {
			if c.dir != l.dir {
				continue
			}
			inDir = append(inDir, c.path)
			if c.stem == l.stem {
				match = append(match, c.path)
			}
		}
		if len(match) == 0 && len(inDir) == 1 {
			match = inDir
		}
		if len(match) != 1 {
			s.problem("%s: a tcpdump log, but no capture of its name beside it (skipped)", l.path)
			s.Skipped++
			continue
		}
		s.Drops = append(s.Drops, Drop{Path: match[0], Dropped: l.drops, From: l.path})
		s.Read = append(s.Read, l.path)
	}
	return tarballs
}

// readHead returns the first bytes of a file.
func readHead(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, sniffLen)
	n, err := io.ReadFull(f, b)
	if n == 0 && err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("empty file")
		}
		return nil, err
	}
	return b[:n], nil
}

// captureStem is a capture's file name without its capture suffixes.
func captureStem(p string) string {
	b := filepath.Base(p)
	for {
		ext := strings.ToLower(filepath.Ext(b))
		if ext != ".gz" && ext != ".pcap" && ext != ".pcapng" && ext != ".cap" {
			return b
		}
		b = b[:len(b)-len(ext)]
	}
}

// logStem is a log's file name without ".log", "-tcpdump", "_tcpdump" or ".tcpdump".
func logStem(p string) string {
	b := strings.TrimSuffix(filepath.Base(p), ".log")
	for _, s := range []string{"-tcpdump", "_tcpdump", ".tcpdump"} {
		b = strings.TrimSuffix(b, s)
	}
	return b
}

// textFile uses a text file that is a node's interface dump (`ip -d -j addr`, `ip -o link`: the node
// from the file name, <node>-<anything>.<ext>) or cluster metadata, and reports whether it was one.
func (s *Set) textFile(p string, head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case bytes.HasPrefix(t, []byte(`[{"ifindex"`)):
		f, err := os.Open(p)
		if err != nil {
			return false
		}
		defer f.Close()
		links, err := cluster.ParseIPAddr(f)
		if err != nil {
			s.problem("%s: looks like `ip -j addr` output but: %v (skipped)", p, err)
			s.Skipped++
			return true
		}
		s.addLinks(dumpNode(p), p, cluster.IfNames(links))
		s.Read = append(s.Read, p)
		return true
	case ipLinkLine.Match(t):
		f, err := os.Open(p)
		if err != nil {
			return false
		}
		defer f.Close()
		m, err := decode.ParseIPLink(f)
		if err != nil {
			s.problem("%s: looks like `ip -o link` output but: %v (skipped)", p, err)
			s.Skipped++
			return true
		}
		s.addLinks(dumpNode(p), p, m)
		s.Read = append(s.Read, p)
		return true
	}
	if cluster.Detect(readHeadN(p, metaHead)) != "" {
		s.Meta = append(s.Meta, p)
		s.Read = append(s.Read, p)
		return true
	}
	return false
}

// metaHead is how much of a file the cluster metadata detector sees.
const metaHead = 64 << 10

// readHeadN returns up to n first bytes of a file (nothing when it cannot be read).
func readHeadN(p string, n int) []byte {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	k, _ := io.ReadFull(f, b)
	return b[:k]
}

var (
	ipLinkLine = regexp.MustCompile(`^\d+: [^ :]+(@[^ :]+)?: <`)
	dropsLine  = regexp.MustCompile(`(?m)^(\d+) packets? dropped by kernel`)
)

// dumpNode is the node a dump's file name gives: node-a-links.txt → node-a.
func dumpNode(p string) string {
	b := filepath.Base(p)
	b = strings.TrimSuffix(b, filepath.Ext(b))
	if i := strings.LastIndexByte(b, '-'); i > 0 {
		return b[:i]
	}
	return b
}

// tcpdumpDrops reads tcpdump's closing statistics from a log: "N packets dropped by kernel".
func tcpdumpDrops(p string) (int64, bool) {
	f, err := os.Open(p)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	return parseDrops(f)
}

// parseDrops finds tcpdump's "N packets dropped by kernel" (the last one, if a log holds several runs).
func parseDrops(r io.Reader) (int64, bool) {
	b, _ := io.ReadAll(io.LimitReader(r, maxText))
	m := dropsLine.FindAllSubmatch(b, -1)
	if len(m) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(m[len(m)-1][1]), 10, 64)
	return n, err == nil
}

// Open opens a capture Expand listed: a file, or TARBALL!/ENTRY, the entry streamed out of its
// tarball (read again from its start; nothing is extracted). "-" is not handled here.
func Open(p string) (io.ReadCloser, error) {
	if _, err := os.Lstat(p); err == nil {
		return os.Open(p)
	}
	i := strings.Index(p, Sep)
	for i >= 0 {
		tb, name := p[:i], p[i+len(Sep):]
		if st, err := os.Stat(tb); err == nil && st.Mode().IsRegular() {
			return openEntry(tb, name)
		}
		j := strings.Index(p[i+1:], Sep)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return os.Open(p) // the error os.Open gives
}

// entryReader reads one tarball entry and closes the tarball.
type entryReader struct {
	io.Reader
	f *os.File
}

func (e *entryReader) Close() error { return e.f.Close() }

// openEntry streams entry name out of tarball tb.
func openEntry(tb, name string) (io.ReadCloser, error) {
	f, err := os.Open(tb)
	if err != nil {
		return nil, err
	}
	tr, err := tarStream(f, 0)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", tb, err)
	}
	for {
		h, err := tr.Next()
		if err != nil {
			f.Close()
			if err == io.EOF {
				return nil, fmt.Errorf("%s: no entry %q", tb, name)
			}
			return nil, fmt.Errorf("%s: looking for entry %q: %w", tb, name, err)
		}
		if (h.Typeflag == '0' || h.Typeflag == 0) && badName(h.Name) == "" && cleanName(h.Name) == name {
			return &entryReader{Reader: tr, f: f}, nil
		}
	}
}

func cleanName(n string) string { return path.Clean(n) }
