package cluster

import (
	"bytes"
	"strings"
)

// ipResourcesSections are the commands of Retina's ip-resources.txt whose output ReadIPResources
// reads, each with the dump kind of its output. The address dump is read by package bundle (the
// interface names); `ip rule list` is not read.
var ipResourcesSections = []struct{ suffix, format string }{
	{"ip -d -j neighbor show", "ip -j neigh"},
	{"ip -d -j neigh show", "ip -j neigh"},
	{"ip -j neighbor show", "ip -j neigh"},
	{"ip route show table all", "ip route"},
	{"ip route show", "ip route"},
}

// ReadIPResources reads the neighbours and routes of a node from a Retina ip-resources.txt (microsoft/
// retina's processMetadataFile: a summary naming the commands, "Execute:", then each command line, a
// blank line and its output) into states. Each section is read as its own dump of file, its lines
// numbered as in the whole file, so that what is drawn from it cites file:LINE. `ip route show table
// all` holds the local table too ("table local", broadcast routes): those routes keep their table,
// and Lookup, which consults the main table only, passes them by.
func ReadIPResources(states map[string]*NodeState, file, node string, data []byte) []Problem {
	lines := bytes.SplitAfter(data, []byte{'\n'})
	start := 0 // past the summary, which names the commands too
	for i, l := range lines {
		if strings.TrimSpace(string(l)) == "Execute:" {
			start = i + 1
			break
		}
	}
	// Each command line starts a section, which runs to the next command line.
	type section struct {
		format      string // "" for a command not read here
		first, stop int    // the output's lines: [first, stop)
	}
	var secs []section
	for i := start; i < len(lines); i++ {
		l := strings.TrimSpace(string(lines[i]))
		if !isCommandLine(l) {
			continue
		}
		if n := len(secs); n > 0 {
			secs[n-1].stop = i
		}
		f := ""
		for _, c := range ipResourcesSections {
			if strings.HasSuffix(l, c.suffix) {
				f = c.format
				break
			}
		}
		secs = append(secs, section{format: f, first: i + 1, stop: len(lines)})
	}
	var probs []Problem
	for _, s := range secs {
		if s.format == "" {
			continue
		}
		// Blank lines stand for the lines before the section, so that the parsers count the file's lines.
		var b bytes.Buffer
		b.Write(bytes.Repeat([]byte{'\n'}, s.first))
		for _, l := range lines[s.first:s.stop] {
			b.Write(l)
		}
		if len(bytes.TrimSpace(b.Bytes())) == 0 {
			continue // no output at all (an empty routing table prints nothing)
		}
		probs = append(probs, readIPDumpAs(states, file, node, s.format, b.Bytes())...)
	}
	return probs
}

// isCommandLine reports whether a line of ip-resources.txt is a command line: "/usr/sbin/ip …" (or
// "ip …" run from the PATH).
func isCommandLine(l string) bool {
	if strings.HasPrefix(l, "/") {
		l = l[strings.LastIndexByte(strings.Fields(l)[0], '/')+1:]
	}
	return strings.HasPrefix(l, "ip ")
}
