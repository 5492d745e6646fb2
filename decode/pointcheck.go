package decode

import (
	"fmt"
	"net"
	"sort"
	"strings"
)

// PointConflicts lists what the captures say against --point: a file given one interface
// (NODE:IFACE=FILE, IFACE not "any") whose frames come from several, as its records say (the
// interface indexes of a -i any capture's LINUX_SLL2 headers, or several pcapng interfaces). Taken
// as given, every interface's frames would be one point's: each packet seen there once per
// interface it crossed (false retransmissions, more packets sent than were), and its hops between
// them lost. The caller refuses it with the message.
func PointConflicts(files []*FileInfo, sources []Source, cfg PointConfig) []string {
	var out []string
	for _, f := range files {
		ex, ok := cfg.Explicit[f.Path]
		if !ok || cfg.Why[f.Path] != "" || ex.Iface == "any" {
			continue
		}
		idx, ifs := fileIfaces(f, sources)
		var what, fix string
		switch {
		case len(idx) > 1:
			what = fmt.Sprintf("a -i any capture: LINUX_SLL2 interface indexes %s", joinInts(idx))
			fix = fmt.Sprintf("give --point %s:any=%s (calipath tells its interfaces apart; --links NODE=FILE names them)", ex.Node, f.Path)
		case len(ifs) > 1 && strings.HasPrefix(ifs[0], "merged stage "):
			what = "a merged capture's stages " + strings.ReplaceAll(strings.Join(ifs, ", "), "merged stage ", "")
			fix = "drop this --point and name the file NODE.pcap (calipath splits a merged capture into its stages)"
		case len(ifs) > 1:
			what = fmt.Sprintf("pcapng interfaces %s", strings.Join(ifs, ", "))
			fix = "drop this --point and name the file NODE.pcapng (calipath takes each interface's point from its pcapng name)"
		default:
			continue
		}
		out = append(out, fmt.Sprintf("--point %s:%s=%s: the file holds the frames of %d interfaces (%s), not of %s alone: "+
			"%s, or give a capture of %s alone", ex.Node, ex.Iface, f.Path, max(len(idx), len(ifs)), what, ex.Iface, fix, ex.Iface))
	}
	return out
}

// fileIfaces returns the LINUX_SLL2 interface indexes and the pcapng interfaces (by name, or
// number) that f's frames came from.
func fileIfaces(f *FileInfo, sources []Source) ([]int, []string) {
	idx, ifs := map[int]bool{}, map[string]bool{}
	for si, tr := range f.Traffic {
		if int(si) >= len(sources) || tr.Frames == 0 {
			continue
		}
		s := sources[si]
		if s.IfIndex >= 0 {
			idx[int(s.IfIndex)] = true
		}
		name := fmt.Sprintf("#%d", s.Iface)
		if int(s.Iface) < len(f.Interfaces) && f.Interfaces[s.Iface].Name != "" {
			name = f.Interfaces[s.Iface].Name
		}
		if stage, _, _, ok := MergedStage(s.Iface); ok {
			name = "merged stage " + stage
		}
		ifs[name] = true
	}
	var is []int
	for i := range idx {
		is = append(is, i)
	}
	sort.Ints(is)
	var ns []string
	for n := range ifs {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return is, ns
}

func joinInts(is []int) string {
	s := make([]string, len(is))
	for i, n := range is {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// PointFileDoubts says, by point ID, which files of one point cannot be captures of one interface:
// two of them that share no frame (none of the sampled frames of either at the same moment in the
// other) and no link address (both with some), as a --point naming another node's file, or the
// wrong interface, gives. Their frames are one point's all the same; the warning (point-files-
// disagree) names both.
func PointFileDoubts(files []*FileInfo, sources []Source, points []Point) map[string]string {
	var out map[string]string
	for i := range points {
		p := &points[i]
		byFile := map[uint16]*Traffic{}
		var order []uint16
		for _, si := range p.Sources {
			f := sources[si].File
			tr := files[f].Traffic[si]
			if tr == nil {
				continue
			}
			if byFile[f] == nil {
				byFile[f] = &Traffic{}
				order = append(order, f)
			}
			byFile[f].Merge(tr)
		}
		sort.Slice(order, func(a, b int) bool { return order[a] < order[b] })
		if msg := disjointFiles(files, order, byFile, p.ID); msg != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[p.ID] = msg
		}
	}
	return out
}

// disjointFiles describes the first two files of order whose traffic shares no frame and no MAC.
func disjointFiles(files []*FileInfo, order []uint16, by map[uint16]*Traffic, id string) string {
	for a := 0; a < len(order); a++ {
		for b := a + 1; b < len(order); b++ {
			t, u := by[order[a]], by[order[b]]
			if t.NMACs == 0 || u.NMACs == 0 || t.SameFrames(u) > 0 || u.SameFrames(t) > 0 || sharesMAC(t, u) {
				continue
			}
			return fmt.Sprintf("%s and %s are both taken as %s, but they share no frame and no link address "+
				"(%s: %s; %s: %s): they are not captures of one interface.", files[order[a]].Path, files[order[b]].Path, id,
				files[order[a]].Path, macList(t), files[order[b]].Path, macList(u))
		}
	}
	return ""
}

func sharesMAC(t, u *Traffic) bool {
	for i := 0; i < t.NMACs; i++ {
		for j := 0; j < u.NMACs; j++ {
			if t.MACs[i] == u.MACs[j] {
				return true
			}
		}
	}
	return false
}

func macList(t *Traffic) string {
	s := make([]string, t.NMACs)
	for i := range s {
		s[i] = net.HardwareAddr(t.MACs[i][:]).String()
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
