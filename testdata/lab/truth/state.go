package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// StateDump is one node's `ip` dumps, written by lab.sh at the end of the traffic.
type StateDump struct {
	Node  string   `json:"node"`
	Files []string `json:"files"`
}

// ExpectedExplanation is the line of a node's dump that explains the drops a rule of the scenario
// caused: calipath must cite it (kind as docs/anomalies.md names it, the file, its line, and for a
// JSON dump the entry).
type ExpectedExplanation struct {
	Kind  string `json:"kind"`
	Node  string `json:"node"`
	File  string `json:"file"`
	Line  int    `json:"line"`
	Entry int    `json:"entry,omitempty"`
	Text  string `json:"text"`
}

// stateExplanations works out, for each rule that breaks a node's own state, the dump line that
// shows it: the blackhole route a "route replace blackhole" installed, the default route left when a
// "route del" removed the peer's block route, the unresolved neighbour of a "route replace … via"
// next hop (IPv4 or, "ip -6 route", IPv6), and the interface an "ip link set … mtu" lowered. It reads the dumps as text and JSON on
// its own (not with calipath's reader), and fails when the dump does not show what the rule did.
func (l *lab) stateExplanations() error {
	if len(l.t.State) == 0 {
		return nil
	}
	for _, r := range l.t.Rules {
		f := strings.Fields(r.Cmd)
		if len(f) >= 2 && f[0] == "ip" && f[1] == "-6" { // an IPv6 rule (state-neigh-failed6): the same forms
			f = append(f[:1:1], f[2:]...)
		}
		var (
			e   ExpectedExplanation
			err error
		)
		switch {
		case len(f) >= 5 && f[0] == "ip" && f[1] == "route" && f[2] == "replace" && f[3] == "blackhole":
			e, err = l.textLine(r.Node, "routes.txt", "blackhole-route", func(fs []string) bool {
				return len(fs) >= 2 && fs[0] == "blackhole" && fs[1] == f[4]
			})
		case len(f) == 4 && f[0] == "ip" && f[1] == "route" && f[2] == "del" && f[3] == "default":
			// No route covers 169.254.1.1 any more: proxy ARP fails, which the file's lack of a
			// default route shows (cited without a line), and so does the pod's unresolved gateway.
			l.t.ExpectedExplanations = append(l.t.ExpectedExplanations,
				ExpectedExplanation{Kind: "no-route", Node: r.Node, File: r.Node + "-routes.txt"})
			e, err = l.podGateway(r.Node)
		case len(f) >= 4 && f[0] == "ip" && f[1] == "route" && f[2] == "del":
			e, err = l.textLine(r.Node, "routes.txt", "no-block-route", func(fs []string) bool {
				return len(fs) >= 1 && fs[0] == "default"
			})
		case len(f) >= 6 && f[0] == "ip" && f[1] == "route" && f[2] == "replace" && f[4] == "via":
			e, err = l.neighEntry(r.Node, f[5])
		case len(f) >= 6 && f[0] == "ip" && f[1] == "link" && f[2] == "set" && f[4] == "mtu":
			e, err = l.textLine(r.Node, "links.txt", "mtu-too-small", func(fs []string) bool {
				name, _, _ := strings.Cut(strings.TrimSuffix(fs[1], ":"), "@")
				return len(fs) >= 5 && name == f[3] && strings.Contains(strings.Join(fs, " "), " mtu "+f[5]+" ")
			})
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("rule %q on %s: %w", r.Cmd, r.Node, err)
		}
		l.t.ExpectedExplanations = append(l.t.ExpectedExplanations, e)
	}
	return nil
}

// textLine finds the line of node's text dump <node>-<suffix> that match says is the one.
func (l *lab) textLine(node, suffix, kind string, match func([]string) bool) (ExpectedExplanation, error) {
	file := node + "-" + suffix
	b, err := os.ReadFile(filepath.Join(l.dir, file))
	if err != nil {
		return ExpectedExplanation{}, err
	}
	for i, line := range strings.Split(string(b), "\n") {
		if fs := strings.Fields(line); len(fs) > 0 && match(fs) {
			text, _, _ := strings.Cut(line, "\\")
			return ExpectedExplanation{Kind: kind, Node: node, File: file, Line: i + 1, Text: strings.TrimSpace(text)}, nil
		}
	}
	return ExpectedExplanation{}, fmt.Errorf("%s shows no line for it", file)
}

// podGateway finds the entry for 169.254.1.1 in the `ip -j neigh` dump of node's pod (the file of its
// state line named <node>-cali…-neigh.json); it must be unresolved.
func (l *lab) podGateway(node string) (ExpectedExplanation, error) {
	for _, s := range l.t.State {
		if s.Node != node {
			continue
		}
		for _, f := range s.Files {
			if strings.HasPrefix(f, node+"-cali") && strings.HasSuffix(f, "-neigh.json") {
				return l.neighIn(node, f, "169.254.1.1")
			}
		}
	}
	return ExpectedExplanation{}, fmt.Errorf("no pod neighbour dump for %s", node)
}

// neighEntry finds the entry of node's `ip -j neigh` dump for the next hop ip; it must be unresolved.
func (l *lab) neighEntry(node, ip string) (ExpectedExplanation, error) {
	return l.neighIn(node, node+"-neigh.json", ip)
}

// neighIn finds the entry for ip in the `ip -j neigh` dump file of node; it must be unresolved.
func (l *lab) neighIn(node, file, ip string) (ExpectedExplanation, error) {
	b, err := os.ReadFile(filepath.Join(l.dir, file))
	if err != nil {
		return ExpectedExplanation{}, err
	}
	var entries []struct {
		Dst   string   `json:"dst"`
		Dev   string   `json:"dev"`
		State []string `json:"state"`
	}
	if strings.Contains(strings.TrimSpace(string(b)), "\n") {
		return ExpectedExplanation{}, fmt.Errorf("%s: not `ip -j neigh` output (one line)", file)
	}
	if err := json.Unmarshal(b, &entries); err != nil {
		return ExpectedExplanation{}, fmt.Errorf("%s: %w", file, err)
	}
	for i, e := range entries {
		if e.Dst != ip {
			continue
		}
		for _, s := range e.State {
			if s == "FAILED" || s == "INCOMPLETE" {
				return ExpectedExplanation{Kind: "neighbour-failed", Node: node, File: file, Line: 1, Entry: i + 1,
					Text: ip + " dev " + e.Dev + " " + strings.Join(e.State, " ")}, nil
			}
		}
		return ExpectedExplanation{}, fmt.Errorf("%s: %s is %v, not unresolved", file, ip, e.State)
	}
	return ExpectedExplanation{}, fmt.Errorf("%s has no entry for %s", file, ip)
}
