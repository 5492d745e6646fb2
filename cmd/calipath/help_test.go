package main

import (
	"io"
	"regexp"
	"strings"
	"testing"
)

// Help goes to stdout with exit 0 (calipath help report | less shows it); nothing on stderr.
func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"help", "report"}, {"report", "-h"},
		{"report", "--help"}, {"points", "-h"}, {"packets", "--help"}, {"tui", "-h"}, {"demo", "-h"},
		{"help", "version"}, {"completion", "-h"}} {
		code, out, errs := runBinary(t, "", args...)
		if code != exitOK || !strings.Contains(out, "Usage: calipath") || errs != "" {
			t.Errorf("calipath %s: exit %d, want 0 with the help on stdout and nothing on stderr\nstdout: %.300s\nstderr: %s",
				strings.Join(args, " "), code, out, errs)
		}
	}
}

// A usage error says what is wrong and where the help is, in two lines on stderr, exit 2: not every
// flag.
func TestUsageErrorPointsToHelp(t *testing.T) {
	capture := lab + "/healthy-ipip/node-a-eth0.pcap"
	for _, c := range []struct {
		args []string
		msg  string // in the first line
		help string // the second line
	}{
		{[]string{"report", "--bogus", capture}, "unknown flag: --bogus", "Try 'calipath report -h' for its flags."},
		{[]string{"report", "--format", "xml", capture}, "--format", "Try 'calipath report -h' for its flags."},
		{[]string{"report", "--window", "0s", capture}, "--window must be positive", "Try 'calipath report -h' for its flags."},
		{[]string{"points"}, "no capture files given", "Try 'calipath points -h' for its flags."},
		{[]string{"tui", "--offset", "node-b", capture}, "NODE=VALUE", "Try 'calipath tui -h' for its flags."},
		{[]string{"demo", "--scenario", "nope"}, `no scenario "nope"`, "Try 'calipath demo -h' for its flags."},
		{[]string{"completion", "tcsh"}, `no completion for shell "tcsh"`, "Try 'calipath completion -h' for its flags."},
		{[]string{"frobnicate"}, `unknown subcommand "frobnicate"` + "\n", "Try 'calipath -h' for the subcommands."},
		{[]string{"reprot"}, `unknown subcommand "reprot" (did you mean report?)`, "Try 'calipath -h' for the subcommands."},
		{[]string{"zork"}, `unknown subcommand "zork"` + "\n", "Try 'calipath -h' for the subcommands."},
		{[]string{"comp"}, `unknown subcommand "comp" (did you mean completion?)`, "Try 'calipath -h' for the subcommands."},
		{[]string{"Points"}, `unknown subcommand "Points" (did you mean points?)`, "Try 'calipath -h' for the subcommands."},
		{[]string{"--format", "json", capture}, "unknown flag --format before the subcommand", "Try 'calipath -h' for the subcommands."},
		{nil, "", ""}, // no arguments: the overview, on stderr
	} {
		code, out, errs := runBinary(t, "", c.args...)
		lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
		if c.args == nil {
			if code != exitUsage || out != "" || !strings.Contains(errs, "Subcommands:") {
				t.Errorf("calipath: exit %d, want %d with the overview on stderr\nstdout: %s\nstderr: %s", code, exitUsage, out, errs)
			}
			continue
		}
		if code != exitUsage || out != "" || len(lines) != 2 || !strings.Contains(lines[0]+"\n", c.msg) || lines[1] != c.help {
			t.Errorf("calipath %s: exit %d, want %d, nothing on stdout and on stderr\n  …%s…\n  %s\nstdout: %s\nstderr: %s",
				strings.Join(c.args, " "), code, exitUsage, c.msg, c.help, out, errs)
		}
	}
}

// Every flag's placeholder names its value (FILE, NODE=FILE, DURATION), never a Go type (string,
// duration, uint16) or a usage word; no Go zero value is shown as a default, and a boolean flag shows
// no "[=true|false]".
func TestFlagPlaceholders(t *testing.T) {
	flagLine := regexp.MustCompile(`^  (?:-\w, |    )--([a-z-]+)(?: (\S+))?  `)
	placeholder := regexp.MustCompile(`^[A-Z][A-Z0-9]*(?:[:=][A-Z][A-Z0-9]*)*$`)
	want := map[string]string{"links": "NODE=FILE", "offset": "NODE=DURATION", "node-ip": "NODE=IP", "output": "FILE",
		"point": "NODE:IFACE=FILE", "window": "DURATION", "format": "FORMAT", "vxlan-port": "PORT", "extract": "DIR",
		"quiet": "", "fail-on": "KINDS", "flow": "EXPR", "log-file": "FILE"}
	seen := map[string]bool{}
	for _, c := range commands() {
		if c.run == nil {
			continue
		}
		code, out, errs := runBinary(t, "", "help", c.name)
		if code != exitOK {
			t.Fatalf("help %s: exit %d: %s", c.name, code, errs)
		}
		out += errs // where the help goes is TestHelpGoesToStdout's
		for _, bad := range []string{"(default map[", "(default []", `(default "`, "[=true|false]", "(default false)", "(default 0)"} {
			if strings.Contains(out, bad) {
				t.Errorf("help %s shows %q:\n%s", c.name, bad, out)
			}
		}
		for _, line := range strings.Split(out, "\n") {
			m := flagLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			name, ph := m[1], m[2]
			seen[name] = true
			if w, ok := want[name]; ok && ph != w {
				t.Errorf("help %s: --%s shows %q, want %q:\n%s", c.name, name, ph, w, line)
			}
			if ph != "" && !placeholder.MatchString(ph) {
				t.Errorf("help %s: --%s's placeholder %q does not name its value:\n%s", c.name, name, ph, line)
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("no subcommand's help shows --%s", name)
		}
	}

	// A flag added without a back-quoted name still shows no Go type.
	fs := newFlagSet("x", "", &flagsOf{}, io.Discard)
	fs.Int("width", 0, "columns")
	fs.Duration("wait", 0, "how long")
	fs.String("name", "", "a name")
	fs.Bool("all", false, "everything")
	u := flagUsages(fs, helpWidth)
	for _, w := range []string{"--width N ", "--wait DURATION ", "--name VALUE ", "--all "} {
		if !strings.Contains(u, w) {
			t.Errorf("flag usages lack %q:\n%s", w, u)
		}
	}
}
