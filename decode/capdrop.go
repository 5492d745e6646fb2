package decode

import "sort"

// CaptureDrop is what a capture said it lost itself: packets that crossed its interface but that the
// capture never wrote (the kernel's capture buffer overflowed). Such packets are missing from the
// capture without having been lost on the network.
type CaptureDrop struct {
	Path  string // the capture file
	File  int    // its index in Capture.Files (-1 until IdentifyFiles resolves Path)
	Iface int    // the pcapng interface (Record.Iface) it counts; -1 for every interface of the file
	// Start and End bound, in the capture's own clock (ns), when the drops happened; 0 for the
	// capture's first or last frame.
	Start, End int64
	Dropped    int64
	From       string // where it was said: a pcapng interface statistics block, a tcpdump log
}

// statsDrops turns each file's pcapng interface statistics into drops: between two statistics
// blocks of an interface whose drop counters (ifdrop + osdrop) grew, the growth, in that interval
// (the first block's from isb_starttime, or from the capture's start).
func statsDrops(files []*FileInfo) []CaptureDrop {
	var out []CaptureDrop
	for fi, f := range files {
		ifaces := make([]int, 0, len(f.IfStats))
		for k := range f.IfStats {
			ifaces = append(ifaces, k)
		}
		sort.Ints(ifaces)
		for _, k := range ifaces {
			st := append([]IfStats(nil), f.IfStats[k]...)
			sort.SliceStable(st, func(a, b int) bool { return st[a].Ts < st[b].Ts })
			var prev int64
			var prevTs int64
			for i, s := range st {
				start := prevTs
				if i == 0 {
					start = s.Start
				}
				if d := s.Dropped(); d > prev {
					out = append(out, CaptureDrop{Path: f.Path, File: fi, Iface: k, Start: start, End: s.Ts, Dropped: d - prev,
						From: "pcapng interface statistics (isb_ifdrop + isb_osdrop)"})
					prev = d
				}
				prevTs = s.Ts
			}
		}
	}
	return out
}

// resolveDrops gives each drop of cfg its file index (by path); drops of files not read are left out.
func resolveDrops(files []*FileInfo, given []CaptureDrop) []CaptureDrop {
	idx := map[string]int{}
	for i, f := range files {
		idx[f.Path] = i
	}
	var out []CaptureDrop
	for _, d := range given {
		if i, ok := idx[d.Path]; ok {
			d.File = i
			out = append(out, d)
		}
	}
	return out
}
