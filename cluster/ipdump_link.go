package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/calipath/calipath/decode"
)

// linkLine is the start of an `ip link` line: "2: eth0@if9: <BROADCAST,…".
var linkLine = regexp.MustCompile(`^[0-9]+: [^ :]+: <`)

// detectLinkText recognises `ip -o link` (or `ip link`) text by its first line.
func detectLinkText(data []byte) bool { return linkLine.MatchString(firstLine(data)) }

// parseLinkText reads `ip -o link` (or `ip link`) text with decode's reader of it.
func parseLinkText(file string, data []byte, ns *Netns) []Problem {
	rows, bad, err := decode.ParseIPLinkRows(bytes.NewReader(data))
	var probs []Problem
	for _, e := range bad {
		if le, ok := e.(*decode.LineError); ok {
			probs = append(probs, lineProblem(file, le.Line, "%s", le.Msg))
		}
	}
	if err != nil && len(bad) == 0 {
		probs = append(probs, Problem{File: file, Msg: err.Error()})
	}
	for _, r := range rows {
		ns.Links = append(ns.Links, Link{Index: int(r.Index), Name: r.Name, MTU: r.MTU, State: r.State, Flags: r.Flags,
			Source: Source{File: file, Line: r.Line, Text: r.Text}})
	}
	return probs
}

// jsonLink is one entry of `ip -j link`.
type jsonLink struct {
	Index     int      `json:"ifindex"`
	Name      string   `json:"ifname"`
	Flags     []string `json:"flags"`
	MTU       int      `json:"mtu"`
	OperState string   `json:"operstate"`
}

// detectLinkJSON recognises `ip -j link`: entries with an "ifindex", an "ifname", "flags" and an
// "mtu", and no addresses (an `ip -j addr` dump is detectAddrJSON's).
func detectLinkJSON(data []byte) bool {
	m, ok := firstEntry(data)
	return ok && has(m, "ifindex", "ifname", "flags", "mtu") && !has(m, "addr_info")
}

// addrDump is the kind of an `ip -d -j addr` (or `ip -j addr`) dump: its entries are links with
// their addresses, read as the links alone.
const addrDump = "ip -d -j addr"

// detectAddrJSON recognises `ip -d -j addr`: link entries (as detectLinkJSON's) with "addr_info".
func detectAddrJSON(data []byte) bool {
	m, ok := firstEntry(data)
	return ok && has(m, "ifindex", "ifname", "flags", "mtu", "addr_info")
}

// parseLinkJSON reads `ip -j link`; each link's Text is the entry as `ip -o link` starts it.
func parseLinkJSON(file string, data []byte, ns *Netns) []Problem {
	return jsonEntries(file, data, func(entry, line int, raw json.RawMessage) error {
		var jl jsonLink
		if err := json.Unmarshal(raw, &jl); err != nil {
			return fmt.Errorf("not a link: %v", err)
		}
		if jl.Index <= 0 || jl.Name == "" {
			return fmt.Errorf("a link without an index or a name")
		}
		text := strconv.Itoa(jl.Index) + ": " + jl.Name + ": <" + strings.Join(jl.Flags, ",") + ">"
		if jl.MTU > 0 {
			text += " mtu " + strconv.Itoa(jl.MTU)
		}
		if jl.OperState != "" {
			text += " state " + jl.OperState
		}
		ns.Links = append(ns.Links, Link{Index: jl.Index, Name: jl.Name, MTU: max(jl.MTU, 0), State: jl.OperState,
			Flags: jl.Flags, Source: Source{File: file, Line: line, Entry: entry, Text: text}})
		return nil
	})
}
