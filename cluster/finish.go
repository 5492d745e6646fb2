package cluster

import "fmt"

// Finish puts the lists in order and drops duplicates (the same object given twice, as in a List and
// in a file of its own), saying so. Load calls it; a Meta built with Add needs it once at the end.
func (m *Meta) Finish() []Problem {
	var probs []Problem
	m.sortAll()
	seen := map[string]string{}
	out := m.Pods[:0]
	for _, p := range m.Pods {
		if first, dup := seen[p.Key()]; dup {
			if first != p.Source {
				probs = append(probs, Problem{File: p.Source, Msg: fmt.Sprintf("pod %s given again (first in %s): the first kept", p.Key(), first)})
			} else {
				probs = append(probs, Problem{File: p.Source, Msg: fmt.Sprintf("pod %s given twice: the first kept", p.Key())})
			}
			continue
		}
		seen[p.Key()] = p.Source
		out = append(out, p)
	}
	m.Pods = out
	return probs
}
