package cluster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// nudStates are the neighbour states `ip neigh` prints.
var nudStates = map[string]bool{"REACHABLE": true, "STALE": true, "DELAY": true, "PROBE": true, "FAILED": true,
	"INCOMPLETE": true, "PERMANENT": true, "NOARP": true, "NONE": true}

// detectNeighText recognises `ip neigh` text: its first line is an address, then "dev", and ends with
// a neighbour state.
func detectNeighText(data []byte) bool {
	fs := strings.Fields(firstLine(data))
	if len(fs) < 3 || fs[1] != "dev" || !nudStates[fs[len(fs)-1]] {
		return false
	}
	_, err := netip.ParseAddr(fs[0])
	return err == nil
}

// parseNeighText reads `ip neigh` text; a line that is no neighbour is a problem, and the rest is
// read.
func parseNeighText(file string, data []byte, ns *Netns) []Problem {
	var probs []Problem
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fs := strings.Fields(text)
		a, err := netip.ParseAddr(fs[0])
		if err != nil {
			probs = append(probs, lineProblem(file, line, "not a neighbour: %q", trimText(text)))
			continue
		}
		n := Neigh{IP: a.Unmap(), Source: Source{File: file, Line: line, Text: text}}
		for i := 1; i < len(fs); i++ {
			switch k := fs[i]; {
			case (k == "dev" || k == "lladdr") && i+1 < len(fs):
				if k == "dev" {
					n.Dev = fs[i+1]
				} else {
					n.LLAddr = fs[i+1]
				}
				i++
			case k == "router":
				n.Router = true
			case k == "proxy":
				n.Proxy = true
			case nudStates[k]:
				n.States = append(n.States, k)
			}
		}
		ns.Neighs = append(ns.Neighs, n)
	}
	if err := sc.Err(); err != nil {
		probs = append(probs, lineProblem(file, line+1, "%v (the rest is not read)", err))
	}
	return probs
}

// jsonNeigh is one entry of `ip -j neigh`. "router" and "proxy" are present (as null) when set.
type jsonNeigh struct {
	Dst    string          `json:"dst"`
	Dev    string          `json:"dev"`
	LLAddr string          `json:"lladdr"`
	State  []string        `json:"state"`
	Router json.RawMessage `json:"router"`
	Proxy  json.RawMessage `json:"proxy"`
}

// detectNeighJSON recognises `ip -j neigh`: a list whose entries have a "dst" and a "state".
func detectNeighJSON(data []byte) bool {
	m, ok := firstEntry(data)
	return ok && has(m, "dst", "state")
}

// parseNeighJSON reads `ip -j neigh`; each neighbour's Text is the entry as `ip neigh` prints it.
func parseNeighJSON(file string, data []byte, ns *Netns) []Problem {
	return jsonEntries(file, data, func(entry, line int, raw json.RawMessage) error {
		var jn jsonNeigh
		if err := json.Unmarshal(raw, &jn); err != nil {
			return fmt.Errorf("not a neighbour: %v", err)
		}
		a, err := netip.ParseAddr(jn.Dst)
		if err != nil {
			return fmt.Errorf("not a neighbour address: %q", trimText(jn.Dst))
		}
		n := Neigh{IP: a.Unmap(), Dev: jn.Dev, LLAddr: jn.LLAddr, Router: jn.Router != nil, Proxy: jn.Proxy != nil}
		for _, s := range jn.State {
			n.States = append(n.States, strings.ToUpper(s))
		}
		text := jn.Dst
		if n.Dev != "" {
			text += " dev " + n.Dev
		}
		if n.LLAddr != "" {
			text += " lladdr " + n.LLAddr
		}
		if n.Router {
			text += " router"
		}
		if n.Proxy {
			text += " proxy"
		}
		if len(n.States) > 0 {
			text += " " + strings.Join(n.States, " ")
		}
		n.Source = Source{File: file, Line: line, Entry: entry, Text: text}
		ns.Neighs = append(ns.Neighs, n)
		return nil
	})
}
