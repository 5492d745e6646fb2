package cluster

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxFileBytes bounds what one metadata file may hold (decompressed): a `kubectl get -A` of a large
// cluster is tens of megabytes; more than this is not metadata.
const MaxFileBytes = 1 << 30

// format is one kind of metadata file: how to recognise it from its content, and how to read it.
type format struct {
	name string
	// detect reports whether the content is of this format, seeing only the file's first headBytes
	// (decompressed). It must be cheap and must not claim what another row reads.
	detect func(f *source) bool
	// parse reads the content into m. A problem in part of the file is returned and the rest read.
	parse func(f *source, m *Meta) []Problem
}

// formats is the table Load dispatches by: the first row whose detect says yes reads the file.
// One row per format; each format's parser lives in its own file.
var formats = []format{
	{name: "objects", detect: detectObjects, parse: parseObjects}, // kubectl/calicoctl JSON or YAML
	// A node's `ip` dumps (ipdump*.go), into Meta.NodeState.
	ipDumpFormat("ip -o link"), ipDumpFormat("ip -j link"), ipDumpFormat(addrDump), ipDumpFormat("ip -j neigh"), ipDumpFormat("ip neigh"),
	ipDumpFormat("ip -j route"), ipDumpFormat("ip route"),
}

// Accepted names every kind of file Load reads, for help texts and errors: the objects kubectl and
// calicoctl print, then each `ip` dump of the format table.
func Accepted() string {
	var dumps []string
	for _, f := range formats[1:] {
		dumps = append(dumps, f.name)
	}
	return "kubectl or calicoctl JSON/YAML, and a node's " + strings.Join(dumps, ", ") + " dumps"
}

// source is one file being read.
type source struct {
	path string
	node string // from a NODE=FILE prefix, "" when not given
	data []byte
}

// Load reads cluster metadata from files and directories (read recursively), recognising each file
// by its content. A path may be given as NODE=PATH to say which node its per-node files describe
// (a path that exists as given is read as a path, even with a '=' in it). A file in a directory that
// is not metadata is skipped and counted (Meta.Skipped); a file named explicitly that is not
// metadata is an error naming it. Problems within files are returned, each naming its file; the
// error is for a path that cannot be read or used at all.
func Load(paths []string) (*Meta, []Problem, error) {
	m := New()
	var probs []Problem
	for _, arg := range paths {
		node, path := SplitNode(arg)
		st, err := os.Stat(path)
		if err != nil {
			return nil, probs, fmt.Errorf("cluster metadata: %w", err)
		}
		if !st.IsDir() {
			p, ok, err := loadFile(m, path, node)
			probs = append(probs, p...)
			if err != nil {
				return nil, probs, err
			}
			if !ok {
				return nil, probs, fmt.Errorf("cluster metadata: %s: not a format calipath reads (it reads %s)", path, Accepted())
			}
			continue
		}
		var files []string
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case d.Type().IsRegular():
				files = append(files, p)
			case d.Type()&fs.ModeSymlink != 0: // a link to a file is read; one to a directory is not followed
				if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
					files = append(files, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, probs, fmt.Errorf("cluster metadata: %w", err)
		}
		sort.Strings(files)
		skipped := 0
		for _, p := range files {
			pr, ok, err := loadFile(m, p, node)
			probs = append(probs, pr...)
			if err != nil {
				return nil, probs, err
			}
			if !ok {
				m.Skipped = append(m.Skipped, p)
				skipped++
			}
		}
		if skipped > 0 {
			probs = append(probs, Problem{File: path, Msg: fmt.Sprintf("%d file(s) skipped: not cluster metadata", skipped)})
		}
	}
	probs = append(probs, m.Finish()...)
	return m, probs, nil
}

// New returns an empty Meta, for files read with Add rather than Load.
func New() *Meta { return &Meta{NodeState: map[string]*NodeState{}} }

// Add reads one metadata file whose content is already in memory (a member of an archive), recognised
// by its content like Load's. ok is false when it is not metadata. Call Finish after the last Add.
func (m *Meta) Add(path, node string, data []byte) (probs []Problem, ok bool) {
	src := &source{path: path, node: node, data: data}
	f := detect(src)
	if f == nil {
		return nil, false
	}
	m.Files = append(m.Files, File{Path: path, Node: node, Format: f.name})
	return f.parse(src, m), true
}

// Detect returns the name of the metadata format of a file that starts with head (its first 64 KiB,
// or all of it), "" when it is not metadata.
func Detect(head []byte) string {
	if f := detect(&source{data: head}); f != nil {
		return f.name
	}
	return ""
}

// SplitNode splits a Load argument NODE=PATH; a path that exists as given is taken whole.
func SplitNode(arg string) (node, path string) {
	if _, err := os.Stat(arg); err == nil {
		return "", arg
	}
	if n, p, ok := strings.Cut(arg, "="); ok && n != "" && p != "" && !strings.ContainsRune(n, filepath.Separator) {
		return n, p
	}
	return "", arg
}

// headBytes is how much of a file the detectors see: enough for the first lines of any format.
const headBytes = 64 << 10

// loadFile reads one file and parses it with the first format that recognises it. ok is false when
// none does. Only the file's first headBytes are read for a file no format recognises.
func loadFile(m *Meta, path, node string) ([]Problem, bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("cluster metadata: %w", err)
	}
	defer fh.Close()
	var r io.Reader = fh
	br := bufio.NewReader(fh)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, false, fmt.Errorf("cluster metadata: %s: %w", path, err)
		}
		r = zr
	} else {
		r = br
	}
	head := make([]byte, headBytes)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, false, fmt.Errorf("cluster metadata: %s: %w", path, err)
	}
	src := &source{path: path, node: node, data: head}
	f := detect(src)
	if f == nil {
		return nil, false, nil
	}
	if n == headBytes {
		rest, err := io.ReadAll(io.LimitReader(r, MaxFileBytes-headBytes+1))
		if err != nil {
			return nil, false, fmt.Errorf("cluster metadata: %s: %w", path, err)
		}
		if len(head)+len(rest) > MaxFileBytes {
			return nil, false, fmt.Errorf("cluster metadata: %s: larger than %d bytes: not cluster metadata", path, MaxFileBytes)
		}
		src.data = append(head, rest...)
	}
	m.Files = append(m.Files, File{Path: path, Node: node, Format: f.name})
	return f.parse(src, m), true, nil
}

// detect returns the first format that recognises the file, nil when none does.
func detect(src *source) *format {
	for i := range formats {
		if formats[i].detect(src) {
			return &formats[i]
		}
	}
	return nil
}
