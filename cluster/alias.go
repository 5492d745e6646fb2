package cluster

import "strings"

// MatchNodes maps the metadata's node names that the captures do not use to the capture's name of
// the same node, where the two differ only by a domain: a Kubernetes node
// "ip-10-0-1-5.eu-west-1.compute.internal" captured as "ip-10-0-1-5" (or the reverse). A name is
// mapped only when exactly one captured name, itself no metadata node's, matches it, and no other
// metadata name matches that one. captured are the
// node names the captures use.
func (m *Meta) MatchNodes(captured []string) map[string]string {
	known := map[string]bool{}
	for i := range m.Nodes {
		known[m.Nodes[i].Name] = true
	}
	have := map[string]bool{}
	for _, c := range captured {
		have[c] = true
	}
	out := map[string]string{}
	for i := range m.Nodes {
		n := m.Nodes[i].Name
		if have[n] {
			continue
		}
		match := ""
		count := 0
		for c := range have {
			if !known[c] && c != "" && firstLabel(c) == firstLabel(n) {
				match = c
				count++
			}
		}
		if count == 1 {
			out[n] = match
		}
	}
	// A captured name two metadata names match is neither's.
	taken := map[string]int{}
	for _, c := range out {
		taken[c]++
	}
	for n, c := range out {
		if taken[c] > 1 {
			delete(out, n)
		}
	}
	return out
}

func firstLabel(s string) string {
	l, _, _ := strings.Cut(s, ".")
	return l
}
