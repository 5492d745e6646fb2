package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/calipath/calipath/bundle"
	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/safetext"
	"github.com/spf13/pflag"
)

// inputFlags are the flags every subcommand that reads captures takes.
type inputFlags struct {
	points    pointFlag
	links     kvFlag
	nodeIPs   kvFlag
	vxlanPort uint16
	wgPort    uint16
	maxBytes  sizeFlag
	maxFrames countFlag
	set       *bundle.Set // the bundles among the inputs (see expand); nil without any
	// framesOnly says the subcommand lists frames and judges nothing (packets): a port the captures
	// contradict is a warning on stderr there, not a usage error (its frames are shown as decoded).
	framesOnly bool
	cluster    clusterFlags
}

func (f *inputFlags) register(fs *pflag.FlagSet) {
	f.points.m = map[string]decode.Identity{}
	fs.Var(&f.points, "point", "name a file's capture point (repeatable; FILE is also read)")
	f.links.typ = "NODE=FILE"
	fs.Var(&f.links, "links", "map a -i any capture's interface indexes to names: FILE holds what 'ip -o link' printed on NODE (repeatable)")
	f.nodeIPs.check = func(v string) error { _, err := netip.ParseAddr(v); return err }
	f.nodeIPs.typ = "NODE=IP"
	fs.Var(&f.nodeIPs, "node-ip", "give a node's IP (repeatable)")
	fs.Uint16Var(&f.vxlanPort, "vxlan-port", decode.DefaultVXLANPort, "UDP `PORT` that carries VXLAN")
	fs.Uint16Var(&f.wgPort, "wireguard-port", decode.DefaultWireGuardPort, "UDP `PORT` that carries WireGuard")
	f.maxBytes = decode.DefaultMaxBytes
	fs.Var(&f.maxBytes, "max-bytes", "stop reading an input after this many bytes, decompressed (suffixes K, M, G, T: powers of 1024)")
	f.maxFrames = decode.DefaultMaxFrames
	fs.Var(&f.maxFrames, "max-frames", "stop reading an input after this many records (each kept frame takes about 62 bytes of memory)")
	f.cluster.register(fs)
}

// decodeOptions returns the decoding options the flags ask for.
func (f *inputFlags) decodeOptions() decode.Options {
	o := decode.Options{VXLANPort: f.vxlanPort, WireGuardPort: f.wgPort, Limits: decode.Limits{MaxBytes: int64(f.maxBytes), MaxFrames: int64(f.maxFrames)}}
	if f.set != nil {
		o.Open = bundle.Open
	}
	return o
}

// sizeFlag is a byte count with an optional binary suffix: 64G, 512M, 1T, 4096.
type sizeFlag int64

func (s *sizeFlag) String() string {
	n, i := int64(*s), 0
	for ; i < 4 && n >= 1024 && n%1024 == 0; i++ {
		n /= 1024
	}
	return strconv.FormatInt(n, 10) + strings.TrimSpace(" KMGT"[i:i+1])
}
func (s *sizeFlag) Type() string { return "SIZE" }
func (s *sizeFlag) Set(v string) error {
	num, shift := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(v), "B"), "I"), 0
	if n := len(num); n > 0 {
		if i := strings.IndexByte("KMGT", num[n-1]); i >= 0 {
			num, shift = num[:n-1], 10*(i+1)
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64>>shift {
		return fmt.Errorf("want a positive size such as 64G or 1048576, got %q", v)
	}
	*s = sizeFlag(n << shift)
	return nil
}

// countFlag is a record count from 1 to 4,294,967,294 (frame numbers are 32 bits).
type countFlag int64

func (c *countFlag) String() string { return strconv.FormatInt(int64(*c), 10) }
func (c *countFlag) Type() string   { return "N" }
func (c *countFlag) Set(v string) error {
	n, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 10, 64)
	if err != nil || n <= 0 || n >= math.MaxUint32 {
		return fmt.Errorf("want a count from 1 to 4294967294, got %q", v)
	}
	*c = countFlag(n)
	return nil
}

// pointFlag collects --point NODE:IFACE=FILE.
type pointFlag struct {
	m     map[string]decode.Identity
	files []string
}

func (p *pointFlag) String() string { return strings.Join(p.files, ",") }
func (p *pointFlag) Type() string   { return "NODE:IFACE=FILE" }
func (p *pointFlag) Set(s string) error {
	id, file, ok := strings.Cut(s, "=")
	node, iface, ok2 := strings.Cut(id, ":")
	if !ok || !ok2 || node == "" || iface == "" || file == "" {
		return fmt.Errorf("want NODE:IFACE=FILE, got %q", s)
	}
	if _, dup := p.m[file]; dup {
		return fmt.Errorf("file %s named twice", file)
	}
	p.m[file] = decode.Identity{Node: node, Iface: iface}
	p.files = append(p.files, file)
	return nil
}

// kvFlag is a repeatable NODE=VALUE flag; typ names it in the help (NODE=FILE), check, if set,
// rejects a bad VALUE while flags are parsed (a usage error).
type kvFlag struct {
	kv    [][2]string
	typ   string
	check func(v string) error
}

func (k *kvFlag) String() string {
	var s []string
	for _, e := range k.kv {
		s = append(s, e[0]+"="+e[1])
	}
	return strings.Join(s, ",")
}
func (k *kvFlag) Type() string {
	if k.typ == "" {
		return "NODE=VALUE"
	}
	return k.typ
}
func (k *kvFlag) Set(s string) error {
	key, v, ok := strings.Cut(s, "=")
	if !ok || key == "" || v == "" {
		return fmt.Errorf("want %s, got %q", k.Type(), s)
	}
	if k.check != nil {
		if err := k.check(v); err != nil {
			return err
		}
	}
	k.kv = append(k.kv, [2]string{key, v})
	return nil
}

// files returns the input files: --point files first, then positional ones not named already.
func (f *inputFlags) files(args []string) []string {
	out := append([]string(nil), f.points.files...)
	seen := map[string]bool{}
	for _, p := range out {
		seen[p] = true
	}
	for _, a := range args {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return f.expand(out)
}

// config builds the point configuration for the inputs paths, reading --links and --k8s files.
func (f *inputFlags) config(paths []string) (decode.PointConfig, error) {
	cfg := decode.PointConfig{Explicit: f.points.m, Links: map[string]map[int32]string{},
		NodeIPs: map[string][]netip.Addr{}}
	for _, kv := range f.links.kv {
		b, err := os.ReadFile(kv[1])
		if err != nil {
			return cfg, fmt.Errorf("--links %s=%s: %w", kv[0], kv[1], err)
		}
		m, err := decode.ParseIPLink(bytes.NewReader(b))
		if err != nil {
			return cfg, fmt.Errorf("--links %s=%s: %w", kv[0], kv[1], err)
		}
		cfg.Links[kv[0]] = m
		if rows, _, err := decode.ParseIPLinkRows(bytes.NewReader(b)); err == nil {
			if cfg.LinkMACs == nil {
				cfg.LinkMACs = map[string]map[[6]byte]string{}
			}
			cfg.LinkMACs[kv[0]] = decode.IPLinkMACs(rows)
		}
	}
	for _, kv := range f.nodeIPs.kv {
		ip := netip.MustParseAddr(kv[1]) // checked when the flag was set
		cfg.NodeIPs[kv[0]] = append(cfg.NodeIPs[kv[0]], ip)
	}
	f.bundleConfig(&cfg)
	if _, err := f.cluster.load(); err != nil {
		return cfg, err
	}
	f.bundleNodeState()
	f.cluster.addNodeIPs(&cfg, f.capturedNodes(paths))
	return cfg, nil
}

// load scans the files and identifies their capture points. Problems are printed to stderr.
func (f *inputFlags) load(paths []string, stderr io.Writer) (*decode.Capture, error) {
	cfg, err := f.config(paths)
	if err != nil {
		return nil, err
	}
	f.cluster.printProblems(stderr)
	f.printBundle(stderr)
	t := decode.NewTables()
	c := decode.ScanPoints(paths, f.decodeOptions(), t, cfg)
	files := c.Files
	if ports := decode.PortConflicts(c, f.decodeOptions()); f.framesOnly {
		for _, p := range ports {
			fmt.Fprintf(stderr, "calipath: warning: %s\n", sanitize(p))
		}
	} else {
		c.PortConflicts = ports
	}
	if err := checkFit(c, correlate.Options{}, stderr); err != nil {
		return nil, err
	}
	printProblems(files, stderr)
	for _, u := range c.Unsearched {
		fmt.Fprintf(stderr, "calipath: warning: %s\n", sanitize(u))
	}
	for _, h := range correlate.NamingHints(c) {
		fmt.Fprintf(stderr, "calipath: hint: %s\n", sanitize(h))
	}
	return c, nil
}

// checkFit stops a subcommand, before it prints anything else, when its input gives nothing to show
// (correlate.Check): every input unreadable, or an option naming a node no input has. It prints one
// line per problem and returns errUsage (exit 2).
func checkFit(c *decode.Capture, opts correlate.Options, stderr io.Writer) error {
	return printUnfit(correlate.Check(c, opts), stderr)
}

// printUnfit prints a correlate.UnfitError one line per problem and returns errUsage; other errors
// are returned as they are.
func printUnfit(err error, stderr io.Writer) error {
	var ue *correlate.UnfitError
	if !errors.As(err, &ue) {
		return err
	}
	for _, p := range ue.Problems {
		fmt.Fprintf(stderr, "calipath: %s\n", sanitize(p))
	}
	return errUsage
}

// warnFit prints on stderr the anomalies that say the input or the options do not fit the traffic
// (correlate.FitKinds): the report has them too, but they change how all of it reads.
func warnFit(res *correlate.Result, stderr io.Writer) {
	kinds := map[string]bool{}
	for _, k := range correlate.FitKinds() {
		kinds[k] = true
	}
	for _, an := range res.Anomalies {
		if !kinds[an.Kind] {
			continue
		}
		place := an.Where.Point
		switch {
		case an.Where.From != "":
			place = an.Where.From + " → " + an.Where.To
		case an.Where.Node != "":
			place = an.Where.Node
		}
		fmt.Fprintf(stderr, "calipath: %s: %s at %s: %s\ncalipath:   next: %s\n", an.Severity, an.Kind, sanitize(place),
			sanitize(an.Message), sanitize(an.Next))
	}
}

// printProblems writes every kept problem message and the count of those not kept.
func printProblems(files []*decode.FileInfo, stderr io.Writer) {
	for _, fi := range files {
		for _, p := range fi.Problems {
			fmt.Fprintf(stderr, "calipath: %s\n", sanitize(p))
		}
		if more := fi.NProblems - len(fi.Problems); more > 0 {
			fmt.Fprintf(stderr, "calipath: %s: %d more problems not shown\n", sanitize(fi.Path), more)
		}
	}
}

// anyProblem reports whether any input was skipped or could not be read in full.
func anyProblem(files []*decode.FileInfo) bool {
	for _, fi := range files {
		if fi.NProblems > 0 || fi.Skipped > 0 {
			return true
		}
	}
	return false
}

// sanitize makes a string from a capture safe to print (see safetext.Clean).
func sanitize(s string) string { return safetext.Clean(s) }

// fmtTime formats ns since the epoch as RFC 3339 with nanoseconds, in UTC.
func fmtTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format(timeLayout)
}

// pointNames returns, for a file, its points in order with the frames each holds.
func filePoints(c *decode.Capture, fi *decode.FileInfo) []filePoint {
	byPoint := map[int]*filePoint{}
	for si, tr := range fi.Traffic {
		pi := c.PointOf[si]
		fp := byPoint[pi]
		if fp == nil {
			fp = &filePoint{point: &c.Points[pi], k: -1}
			byPoint[pi] = fp
		}
		// The file's own reason (the point's is its first capture's, perhaps another file's): its
		// first source's in the point, whatever the map's order.
		if k := slices.Index(c.Points[pi].Sources, si); k >= 0 && (fp.k < 0 || k < fp.k) {
			fp.k = k
		}
		fp.traffic.Merge(tr)
	}
	var out []filePoint
	for _, fp := range byPoint {
		fp.reason = fp.point.Reason
		if fp.k > 0 && fp.k < len(fp.point.SourceReasons) {
			fp.reason = fp.point.SourceReasons[fp.k]
		}
		out = append(out, *fp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].point.ID < out[j].point.ID })
	return out
}

type filePoint struct {
	point   *decode.Point
	reason  string // why the file's frames are of point: its own capture's reason
	k       int    // the index in point.Sources of the file's first source in it
	traffic decode.Traffic
}

// parseTextJSON parses a subcommand that reads captures and prints text or JSON, and returns the
// input files. The --format flag must exist on fs.
func parseTextJSON(fs *pflag.FlagSet, in *inputFlags, args []string, stderr io.Writer) ([]string, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if f := strings.ToLower(fs.Lookup("format").Value.String()); f != "text" && f != "json" {
		return nil, usageErr(fs, stderr, "--format must be text or json, not %q", fs.Lookup("format").Value)
	} else if err := fs.Set("format", f); err != nil {
		return nil, err
	}
	paths := in.files(fs.Args())
	if len(paths) == 0 {
		return nil, usageErr(fs, stderr, "no capture files given")
	}
	return paths, nil
}

// checkOutputs refuses (a usage error) an output that is a file calipath reads: an input capture
// (stdin, when "-" is one) or a --links file, by name or by inode (a link to it, a hard link).
// outs are flag and path pairs; empty paths and "-" (stdout) are skipped.
func (f *inputFlags) checkOutputs(fs *pflag.FlagSet, stderr io.Writer, paths []string, outs ...string) error {
	type read struct{ path, what string }
	var reads []read
	for _, p := range paths {
		what := "one of the inputs"
		if p == "-" {
			what = "stdin, one of the inputs"
		}
		reads = append(reads, read{p, what})
	}
	for _, kv := range f.links.kv {
		reads = append(reads, read{kv[1], "the --links file of " + kv[0]})
	}
	if f.set != nil {
		for _, p := range f.set.Read {
			reads = append(reads, read{p, "a file of a bundle calipath reads"})
		}
	}
	for _, p := range f.cluster.paths {
		_, path := cluster.SplitNode(p)
		reads = append(reads, read{path, "a --k8s input"})
	}
	for i := 0; i+1 < len(outs); i += 2 {
		flag, out := outs[i], outs[i+1]
		if out == "" || out == "-" {
			continue
		}
		for _, r := range reads {
			if samePath(out, r.path) {
				return usageErr(fs, stderr, "%s %s is %s: calipath never writes a file it reads", flag, out, r.what)
			}
		}
	}
	return nil
}
