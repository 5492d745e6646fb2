package main

import (
	"context"
	"embed"
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

// extractDemo writes the captures of the scenarios into dir/<scenario>/ and returns their paths.
func extractDemo(dir string, scenarios []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, sc := range scenarios {
		ents, err := fs.ReadDir(demoFS, path.Join("demo", sc))
		if err != nil {
			return nil, err
		}
		sd := filepath.Join(dir, sc)
		if err := os.MkdirAll(sd, 0o755); err != nil {
			return nil, err
		}
		for _, e := range ents {
			if e.IsDir() || !isCaptureName(e.Name()) {
				continue
			}
			b, err := demoFS.ReadFile(path.Join("demo", sc, e.Name()))
			if err != nil {
				return nil, err
			}
			p := filepath.Join(sd, e.Name())
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return nil, err
			}
			out[sc] = append(out[sc], p)
		}
	}
	return out, nil
}

func isCaptureName(n string) bool {
	n = strings.TrimSuffix(n, ".gz")
	return strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng")
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("demo", "", stderr)
	scs := demoScenarios()
	extract := fset.String("extract", "", "write the sample captures to DIR/<scenario>/ and exit")
	scenario := fset.String("scenario", demoDefault, "scenario to show: "+strings.Join(scs, ", "))
	format := fset.String("format", "text", "report format when stdout is not a terminal: text, markdown, html or json")
	noTUI := fset.Bool("no-tui", false, "print the report even when stdout is a terminal")
	if err := parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return usageErr(fset, stderr, "demo takes no files (it brings its own)")
	}
	if *extract != "" {
		paths, err := extractDemo(*extract, scs)
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
	dir, err := os.MkdirTemp("", "calipath-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	paths, err := extractDemo(dir, []string{*scenario})
	if err != nil {
		return err
	}
	ps := paths[*scenario]
	if report.IsTerminal(stdout) && !*noTUI {
		return tui.Run(ctx, ps, tui.Options{Decode: decode.Options{VXLANPort: decode.DefaultVXLANPort},
			Correlate: correlate.Options{Window: time.Second, Lean: true}})
	}
	fmt.Fprintf(stderr, "calipath demo: the %s captures, unpacked for this run only; `calipath demo --extract DIR` keeps them\n", *scenario)
	all, _ := correlate.ParseFilter("")
	ra := reportArgs{format: f, filter: all, quiet: true, window: time.Second}
	return reportFiles(ctx, ps, decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{}, ra, stdout, stderr)
}
