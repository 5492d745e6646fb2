package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The documentation's examples: every command shown in a code block of README.md and docs/*.md as
// `$ calipath ARGS` (or `go run ./cmd/calipath ARGS`) is run, and so is every
// `go run ./internal/gen/gencap ARGS` (the generator of large captures), in the order shown, in a directory that
// looks like a fresh clone (the repository's top-level entries linked in, nothing else: the demo
// captures exist only once a shown `calipath demo --extract` has written them). Where the docs show
// the output, it must still match: the shown lines in order, each run of lines between two `…`
// lines contiguous, the first and last runs at the output's start and end unless a `…` stands
// before or after them. A command shown without output must exit 0.

// docCmd is one command shown in the docs, and the output shown after it.
type docCmd struct {
	where string   // file:line
	args  []string // after "calipath", globs not yet expanded (quoted words are kept apart)
	globs []bool   // args[i] is a glob pattern (an unquoted word with *, ? or [)
	shown []string // the lines shown after it, up to the next command or the end of the block
	gen   bool     // a go run ./internal/gen/gencap line: args are gencap's
}

// docCommands extracts the commands of one Markdown file. Only a `$ calipath` line is followed by
// shown output; `go run ./cmd/calipath` lines are lists of commands to type.
func docCommands(t *testing.T, path, name string) []docCmd {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docCmd
	cur := -1 // the command whose output is being read
	fenced := false
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced, cur = !fenced, -1
			continue
		}
		// A code line: inside a ``` fence, or indented by four spaces (an indented code block).
		code, isCode := line, fenced
		if !fenced {
			code, isCode = strings.CutPrefix(line, "    ")
		}
		if !isCode {
			if strings.TrimSpace(line) != "" {
				cur = -1 // prose ends an indented block
			} else if cur >= 0 {
				out[cur].shown = append(out[cur].shown, "") // a blank line inside it
			}
			continue
		}
		rest, transcript := strings.CutPrefix(code, "$ calipath")
		ok, gen := transcript, false
		if !ok {
			rest, ok = strings.CutPrefix(strings.TrimSpace(code), "go run ./cmd/calipath")
		}
		if !ok {
			rest, gen = strings.CutPrefix(strings.TrimSpace(code), "go run ./internal/gen/gencap")
			ok = gen
		}
		if ok && (rest == "" || rest[0] == ' ') {
			args, globs, err := shellWords(rest)
			if err != nil {
				t.Fatalf("%s:%d: %v", name, i+1, err)
			}
			out = append(out, docCmd{where: fmt.Sprintf("%s:%d", name, i+1), args: args, globs: globs, gen: gen})
			cur = -1
			if transcript {
				cur = len(out) - 1
			}
			continue
		}
		if cur >= 0 {
			out[cur].shown = append(out[cur].shown, strings.TrimRight(code, " "))
		}
	}
	for i := range out {
		s := out[i].shown
		for len(s) > 0 && s[len(s)-1] == "" {
			s = s[:len(s)-1]
		}
		out[i].shown = s
	}
	return out
}

// shellWords splits a command line as a POSIX shell would for the simple lines the docs show: words
// separated by spaces, '…' and "…" quoting, a # comment. Anything else a shell would interpret
// (pipes, redirections, variables, substitutions) is refused, so the docs show only what the test runs.
func shellWords(s string) (words []string, globs []bool, err error) {
	var w strings.Builder
	in, glob, quoted := false, false, false
	var q byte
	flush := func() {
		if in {
			words = append(words, w.String())
			globs = append(globs, glob && !quoted)
		}
		w.Reset()
		in, glob, quoted = false, false, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			} else {
				w.WriteByte(c)
			}
		case c == '\'' || c == '"':
			q, in, quoted = c, true, true
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !in:
			flush()
			return words, globs, nil
		case strings.IndexByte("|&;<>$`\\(){}", c) >= 0:
			return nil, nil, fmt.Errorf("command %q: %q is shell syntax the doc test does not run", s, c)
		default:
			if c == '*' || c == '?' || c == '[' {
				glob = true
			}
			w.WriteByte(c)
			in = true
		}
	}
	if q != 0 {
		return nil, nil, fmt.Errorf("command %q: unterminated quote", s)
	}
	flush()
	return words, globs, nil
}

// matchShown reports how output departs from the shown lines, or "".
func matchShown(shown []string, output string) string {
	got := strings.Split(strings.TrimRight(output, "\n"), "\n")
	for i := range got {
		got[i] = strings.TrimRight(got[i], " ")
	}
	// Runs of shown lines between elisions.
	var runs [][]string
	run := []string{}
	for _, l := range shown {
		if strings.TrimSpace(l) == "…" {
			runs = append(runs, run)
			run = []string{}
			continue
		}
		run = append(run, l)
	}
	runs = append(runs, run)
	pos := 0
	for k, r := range runs {
		if len(r) == 0 {
			continue
		}
		first, last := k == 0, k == len(runs)-1
		at := -1
		for i := pos; i+len(r) <= len(got); i++ {
			if equalLines(got[i:i+len(r)], r) {
				at = i
				break
			}
			if first {
				break // the first run starts the output
			}
		}
		if at < 0 {
			return fmt.Sprintf("shown lines not found in order%s:\n  %s", map[bool]string{true: " at the start"}[first],
				strings.Join(r, "\n  "))
		}
		pos = at + len(r)
		if last && pos != len(got) {
			return fmt.Sprintf("the output goes on after the last shown line (%q); show … if that is meant:\n  %s",
				r[len(r)-1], strings.Join(got[pos:min(pos+5, len(got))], "\n  "))
		}
	}
	return ""
}

func equalLines(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDocCommands(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append([]string{filepath.Join(root, "README.md")}, docs...)
	var cmds []docCmd
	for _, d := range docs {
		name, _ := filepath.Rel(root, d)
		cmds = append(cmds, docCommands(t, d, name)...)
	}
	if len(cmds) < 5 {
		t.Fatalf("only %d commands found in the docs: the extraction is broken", len(cmds))
	}
	// A fresh clone: the repository's top-level entries, linked.
	dir := t.TempDir()
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, e := range ents {
		switch e.Name() {
		case ".git", "demo", "caps": // the last two only exist once the docs' examples were run there
			continue
		}
		if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
		linked[e.Name()] = true
	}
	t.Chdir(dir)
	t.Setenv("NO_COLOR", "1")
	for _, c := range cmds {
		var args []string
		for i, a := range c.args {
			// The test runs in a temporary directory and must not touch anything outside it, nor
			// write through a link into the repository.
			writes := i > 0 && (c.args[i-1] == "-o" || c.args[i-1] == "--output" || c.args[i-1] == "--extract" ||
				c.gen && c.args[i-1] == "-out")
			for _, f := range []string{"-o=", "--output=", "--extract=", "-out="} {
				if v, ok := strings.CutPrefix(a, f); ok {
					a, writes = v, true
				}
			}
			first, _, _ := strings.Cut(filepath.ToSlash(filepath.Clean(a)), "/")
			if filepath.IsAbs(a) || first == ".." || (writes && linked[first]) {
				t.Errorf("%s: calipath %s: %s is outside the working directory or in the repository: show a new relative path",
					c.where, strings.Join(c.args, " "), a)
				args = nil
				break
			}
			a = c.args[i]
			if !c.globs[i] {
				args = append(args, a)
				continue
			}
			m, err := filepath.Glob(a)
			if err != nil || len(m) == 0 {
				m = []string{a} // as a shell leaves a pattern that matches nothing
			}
			args = append(args, m...)
		}
		if args == nil && len(c.args) > 0 {
			continue
		}
		if c.gen {
			if out, err := exec.Command("go", append([]string{"run", "./internal/gen/gencap"}, args...)...).CombinedOutput(); err != nil {
				t.Errorf("%s: go run ./internal/gen/gencap %s: %v\n%s", c.where, strings.Join(c.args, " "), err, out)
			}
			continue
		}
		var out bytes.Buffer // stdout and stderr interleaved, as on a terminal
		code := run(context.Background(), args, &out, &out)
		switch {
		case len(c.shown) == 0 && code != exitOK:
			t.Errorf("%s: calipath %s: exit %d, want 0:\n%s", c.where, strings.Join(c.args, " "), code, out.String())
		case len(c.shown) > 0:
			if m := matchShown(c.shown, out.String()); m != "" {
				t.Errorf("%s: calipath %s: %s\n--- the whole output:\n%s", c.where, strings.Join(c.args, " "), m, out.String())
			}
		}
	}
}

// The doc test's own parts: the elision rules and the shell-word splitting.
func TestDocMatching(t *testing.T) {
	out := "a\nb\nc\nd\ne\n"
	for _, c := range []struct {
		shown []string
		ok    bool
	}{
		{[]string{"a", "b", "c", "d", "e"}, true},
		{[]string{"a", "…", "e"}, true},
		{[]string{"a", "b", "…"}, true},
		{[]string{"…", "d", "e"}, true},
		{[]string{"…", "c", "…"}, true},
		{[]string{"a", "c", "…"}, false},      // not contiguous
		{[]string{"b", "…"}, false},           // the output starts with a
		{[]string{"a", "…", "d"}, false},      // the output goes on after d
		{[]string{"…", "d", "…", "b"}, false}, // out of order
		{[]string{"a", "…", "x", "…"}, false},
	} {
		if got := matchShown(c.shown, out) == ""; got != c.ok {
			t.Errorf("matchShown(%q): %v, want %v", c.shown, got, c.ok)
		}
	}
	w, g, err := shellWords(` report --flow 'proto tcp and not status delivered' demo/x/*.pcap "a b" # comment`)
	if err != nil || strings.Join(w, "|") != "report|--flow|proto tcp and not status delivered|demo/x/*.pcap|a b" ||
		fmt.Sprint(g) != "[false false false true false]" {
		t.Errorf("shellWords: %q %v %v", w, g, err)
	}
	for _, bad := range []string{" report x | head", " report > out", " report 'x", " report $X"} {
		if _, _, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q): no error", bad)
		}
	}
}
