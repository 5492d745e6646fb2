package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/report"
	"github.com/calipath/calipath/tui"
)

// demoFS holds the sample captures: one directory per scenario (see demo/README.md).
//
//go:embed demo
var demoFS embed.FS

// demoMetaDir is a scenario's cluster metadata directory, beside its captures.
const demoMetaDir = "k8s"

// demoDefault is the scenario the demo opens: the broken one.
const demoDefault = "mtu-blackhole"

// demoScenarios lists the embedded scenarios, sorted.
func demoScenarios() []string {
	ents, err := fs.ReadDir(demoFS, "demo")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// extractDemo writes the captures of the scenarios into dir/<scenario>/ and returns their paths. It
// never follows a symbolic link below dir (a link where a scenario directory or a capture should be
// is an error, and --force replaces the link itself, never its target), and it overwrites an existing
// file only with force. Nothing is written when any file is in the way.
func extractDemo(dir string, scenarios []string, force bool) (map[string][]string, error) {
	type file struct{ sc, name, path string }
	var files []file
	var inTheWay []string
	for _, sc := range scenarios {
		ents, err := fs.ReadDir(demoFS, path.Join("demo", sc))
		if err != nil {
			return nil, err
		}
		sd := filepath.Join(dir, sc)
		if st, err := os.Lstat(sd); err == nil && !st.IsDir() {
			return nil, fmt.Errorf("%s is not a directory (a %s): calipath does not follow links there or write over it", sd, kindOf(st))
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		var names []string
		for _, e := range ents {
			if !e.IsDir() && isCaptureName(e.Name()) {
				names = append(names, e.Name())
			}
		}
		// The scenario's cluster metadata (k8s/: kubectl and calicoctl output), for --k8s.
		meta, _ := fs.ReadDir(demoFS, path.Join("demo", sc, demoMetaDir))
		for _, e := range meta {
			if !e.IsDir() {
				names = append(names, path.Join(demoMetaDir, e.Name()))
			}
		}
		for _, name := range names {
			p := filepath.Join(sd, filepath.FromSlash(name))
			files = append(files, file{sc, name, p})
			st, err := os.Lstat(p)
			switch {
			case err == nil && st.IsDir():
				return nil, fmt.Errorf("%s is a directory", p)
			case err == nil && !force:
				inTheWay = append(inTheWay, p)
			case err != nil && !errors.Is(err, fs.ErrNotExist):
				return nil, err
			}
		}
	}
	if len(inTheWay) > 0 {
		what := inTheWay[0]
		if len(inTheWay) > 1 {
			what = fmt.Sprintf("%s and %d more", what, len(inTheWay)-1)
		}
		return nil, fmt.Errorf("%s exists (--force overwrites)", what)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, f := range files {
		sd := filepath.Join(dir, f.sc)
		for _, d := range []string{sd, filepath.Dir(f.path)} { // the scenario's directory, then k8s/ in it
			if err := os.Mkdir(d, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, err
			}
			if st, err := os.Lstat(d); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("%s is not a directory", d)
			}
		}
		b, err := demoFS.ReadFile(path.Join("demo", f.sc, f.name))
		if err != nil {
			return nil, err
		}
		if err := placeFile(f.path, b, force); err != nil {
			return nil, err
		}
		if isCaptureName(f.name) && !strings.Contains(f.name, "/") {
			out[f.sc] = append(out[f.sc], f.path)
		}
	}
	return out, nil
}

// placeFile writes b to a new file at p without following a link there: created exclusively (failing
// if anything is at p) or, with replace, written beside it and renamed over whatever p is.
func placeFile(p string, b []byte, replace bool) (err error) {
	var f *os.File
	name := p
	if replace {
		f, name, err = createTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp", 0o666)
	} else {
		temps.add(p)
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o666)
		if errors.Is(err, fs.ErrExist) {
			temps.remove(p)
			return fmt.Errorf("%s exists (--force overwrites)", p)
		}
	}
	if err != nil {
		temps.remove(p)
		return err
	}
	defer func() {
		f.Close()
		if err != nil || replace {
			os.Remove(name) // after the rename, the temporary name is gone already
		}
		temps.remove(name)
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if replace {
		return os.Rename(name, p)
	}
	return nil
}

// kindOf names the type of a file that is not a regular file or a directory.
func kindOf(st fs.FileInfo) string {
	switch m := st.Mode(); {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsRegular():
		return "regular file"
	}
	return "special file"
}

func isCaptureName(n string) bool {
	n = strings.TrimSuffix(n, ".gz")
	return strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng")
}

// demoDirEnv names, in the environment of the guarded child showing the demo's TUI, the directory
// its parent made for the captures: the parent removes it when the child has gone, however the child
// ended (a child killed by SIGKILL or dying on SIGQUIT runs none of its own clean-up).
const demoDirEnv = "CALIPATH_DEMO_DIR"

// demoDir returns the directory for the demo's captures: the parent's in a guarded child (own false),
// else a new temporary directory that the caller owns and removes.
func demoDir() (dir string, own bool, err error) {
	if isGuardedChild {
		if d := os.Getenv(demoDirEnv); d != "" {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				return d, false, nil
			}
		}
	}
	dir, err = os.MkdirTemp("", "calipath-demo-")
	return dir, err == nil, err
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("demo", "", stdout, stderr)
	scs := demoScenarios()
	extract := fset.String("extract", "", "write the sample captures to `DIR`/<scenario>/ and exit")
	force := fset.Bool("force", false, "with --extract: overwrite captures already there (links are replaced, never followed)")
	scenario := fset.String("scenario", demoDefault, "`SCENARIO` to show: "+strings.Join(scs, ", "))
	format := fset.String("format", "text", "report `FORMAT` when stdout is not a terminal: text, markdown, html or json")
	noTUI := fset.Bool("no-tui", false, "print the report even when stdout is a terminal")
	if err := parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return usageErr(fset, stderr, "demo takes no files (it brings its own)")
	}
	if *extract != "" {
		paths, err := extractDemo(*extract, scs, *force)
		if err != nil {
			return err
		}
		for _, sc := range scs {
			fmt.Fprintf(stdout, "%s: %d captures in %s\n", sc, len(paths[sc]), filepath.Join(*extract, sc))
		}
		fmt.Fprintf(stdout, "\nTry: calipath report %s\n", filepath.Join(*extract, demoDefault, "*.pcap"))
		return nil
	}
	found := false
	for _, sc := range scs {
		found = found || sc == *scenario
	}
	if !found {
		return usageErr(fset, stderr, "no scenario %q (have %s)", *scenario, strings.Join(scs, ", "))
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return usageErr(fset, stderr, "--format: %v", err)
	}
	tuiOn := report.IsTerminal(stdout) && !*noTUI
	dir, own, err := demoDir()
	if err != nil {
		return err
	}
	if own {
		defer os.RemoveAll(dir)
		atForcedExit(func() { os.RemoveAll(dir) })
	}
	if tuiOn {
		os.Setenv(demoDirEnv, dir)
		code, ok := guardTUI(ctx, stdout, stderr)
		os.Unsetenv(demoDirEnv)
		if ok {
			return exitCode(code)
		}
	}
	paths, err := extractDemo(dir, []string{*scenario}, false)
	if err != nil {
		return err
	}
	ps := paths[*scenario]
	// The scenario's cluster metadata, as --k8s reads it: pod, service and node names, node IPs.
	var in inputFlags
	if _, err := fs.Stat(demoFS, path.Join("demo", *scenario, demoMetaDir)); err == nil {
		in.cluster.paths = pathsFlag{filepath.Join(dir, *scenario, demoMetaDir)}
	}
	cfg, err := in.config(ps)
	if err != nil {
		return err
	}
	copts := correlate.Options{Window: time.Second, Lean: true, Cluster: in.cluster.meta}
	if tuiOn {
		return tuiErr(ctx, tui.Run(ctx, ps, tui.Options{Decode: decode.Options{VXLANPort: decode.DefaultVXLANPort},
			Points: cfg, Correlate: copts}), stderr)
	}
	fmt.Fprintf(stderr, "calipath demo: the %s captures, unpacked for this run only; `calipath demo --extract DIR` keeps them\n", *scenario)
	in.cluster.printProblems(stderr)
	all, _ := correlate.ParseFilter("")
	ra := reportArgs{format: f, filter: all, quiet: true, window: time.Second, cluster: in.cluster.meta}
	return reportFiles(ctx, ps, decode.Options{VXLANPort: decode.DefaultVXLANPort}, cfg, ra, stdout, stderr)
}
