package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// clockBases are the methods the clock tables name short, with a legend line below the table for
// each name shown: the methods that say nothing else. A method that starts with one and says more
// (a step, a disagreement, the node it was set through) takes its name, and is said whole below the
// table.
var clockBases = []struct{ method, name string }{
	{"minimum delays both ways, fitted against every neighbour, with drift", "two-way fit + drift"},
	{"minimum delays both ways, fitted against every neighbour", "two-way fit"},
	{methodUncrossed, "not crossed"},
	{"two-way minimum delay", "two-way minimum delay"},
	{"reference", "reference"},
	{"--offset", "--offset"},
}

// clockNameMax is the longest method name a clock table shows; a method no name is known for is
// cut there ("…") and said whole below the table.
const clockNameMax = 24

// MethodName is a clock's method as the clock tables name it, short enough for a column (a clock
// bounded on one side only: "one-way ≤", or "≥"), with whole the method to say below the table
// when the name leaves something out ("" when it does not, or when a legend line says it: legend).
func (c *Clock) MethodName() (name, note string, legend bool) {
	m := c.Method
	for _, b := range clockBases {
		if m == b.method {
			return b.name, "", b.name != b.method
		}
	}
	for _, b := range clockBases {
		if strings.HasPrefix(m, b.method) {
			return b.name, m, false
		}
	}
	switch {
	case strings.HasPrefix(m, "one-way (") && strings.Contains(m, "): offset ≥"):
		return "one-way ≥", m, false
	case strings.HasPrefix(m, "one-way ("):
		return "one-way ≤", m, false
	case strings.Contains(m, "not corrected"):
		return "not corrected", m, false
	}
	name = m
	if i := strings.IndexAny(m, ":;("); i > 0 {
		name = strings.TrimSpace(m[:i])
	}
	if r := []rune(name); len(r) > clockNameMax {
		name = string(r[:clockNameMax-1]) + "…"
	}
	if name == m {
		return name, "", false
	}
	return name, m, false
}

// OrderNote says, for a clock whose corrected times may be off beyond its bound (OrderUnsureNs: its
// one-sided limits jump, or those of a clock it is bounded through), that the order of a packet's
// sightings across the node is uncertain and by how much; "" for every other clock. The clock table's
// notes, the HTML ladders and the TUI timeline of journeys crossing the node say it.
func (c *Clock) OrderNote() string {
	if c.OrderUnsureNs <= 0 {
		return ""
	}
	jump := fmt.Sprintf("limits jump (a step or a slew faster than %g ppm?), not corrected", maxDrift*1e6)
	why := "its clock's " + jump
	if c.OrderUnsureBy != "" && c.OrderUnsureBy != c.Node {
		why = "its clock is bounded through " + c.OrderUnsureBy + "'s, whose " + jump
	}
	return "order across " + c.Node + " uncertain by up to " + time.Duration(c.OrderUnsureNs).Round(time.Microsecond).String() + ": " + why
}

// PathOrderNotes says, for each two adjacent points of flow f's path that nothing ordered
// (Flow.PathUnordered), that the path draws them in an order nothing confirms, as OrderNotes says
// of a clock whose limits jump: "order of router-1/eth2 and ext-1/eth0 not known: …".
func PathOrderNotes(f *Flow) []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, i := range f.PathUnordered {
		if i < 0 || i+1 >= len(f.Path) {
			continue
		}
		out = append(out, "order of "+f.Path[i]+" and "+f.Path[i+1]+" not known: their clocks say nothing of each other and "+
			"no packets both ways between them told which the packets crossed first; drawn as their times (or files) put them")
	}
	return out
}

// DriftMeasured reports whether a clock's drift is a measurement: not for a clock bounded on one side
// only (the slope between its first and last limits) nor for one not corrected (none at all); the
// tables show "—" for those.
func (c *Clock) DriftMeasured() bool {
	if c.BoundNs < 0 {
		return false
	}
	name, _, _ := c.MethodName()
	return name != "not crossed" && name != "not corrected"
}

// ClockNotes are the lines below a clock table: each method named short whole ("node-b: one-way
// (node-a→node-b only): …"), each clock's OrderNote, a legend line for each short name that stands
// for a whole method, and why a drift is "—".
func ClockNotes(clocks []Clock) []string {
	var notes, legend []string
	seen := map[string]bool{}
	oneSided, uncorrected := false, false
	for i := range clocks {
		c := &clocks[i]
		name, note, leg := c.MethodName()
		if note != "" {
			notes = append(notes, c.Node+": "+note)
		}
		if o := c.OrderNote(); o != "" {
			notes = append(notes, o+".")
		}
		if leg && !seen[name] {
			seen[name] = true
			for _, b := range clockBases {
				if b.name == name {
					legend = append(legend, name+": "+b.method+".")
				}
			}
		}
		switch {
		case c.BoundNs < 0:
			oneSided = true
		case !c.DriftMeasured():
			uncorrected = true
		}
	}
	var why []string
	if oneSided {
		why = append(why, "a clock bounded on one side only is taken at the limits its packets set, whose slope is no "+
			"measurement")
	}
	if uncorrected {
		why = append(why, "a clock not corrected has none")
	}
	if len(why) > 0 {
		legend = append(legend, "— no drift measured: "+strings.Join(why, "; ")+".")
	}
	return append(notes, legend...)
}

// OrderNotes are the OrderNote of each clock of a node that some point of path is on ("node/iface"),
// in path order, each once: what a timeline or ladder of journeys along path says below it.
func OrderNotes(clocks []Clock, path []string) []string {
	var out []string
	var seen []string
	for _, p := range path {
		node, _, _ := strings.Cut(p, "/")
		if slices.Contains(seen, node) {
			continue
		}
		seen = append(seen, node)
		for i := range clocks {
			if clocks[i].Node == node {
				if o := clocks[i].OrderNote(); o != "" {
					out = append(out, o)
				}
			}
		}
	}
	return out
}
