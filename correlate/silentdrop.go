package correlate

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/calipath/calipath/decode"
)

// silentTol is how far apart two captures of one interface may stamp the same frame.
const silentTol = int64(time.Millisecond)

// silentMaxFrames bounds the frames of the files compared (each holds 32 bytes on the heap while they
// are): past it, as in bounded-memory runs of very large captures, no silent drop is looked for.
const silentMaxFrames = 1 << 24

// silentFrame is one frame at a point shared by several files: its header fields' key, its corrected
// time and its index in its file.
type silentFrame struct {
	key uint64
	t   int64
	i   int
}

// silentMiss is a frame that file g lacks: its time, and where the other file holds it.
type silentMiss struct {
	t    int64
	f, i int // the file that holds it, and its index there
	p    int
}

// silentKey is what two captures of one interface agree on for one frame: the innermost header's
// fields (not the flags a snap length changes, nor an ICMP error's quote).
func silentKey(o *decode.Observation) uint64 {
	seq := o.Seq
	if o.Flags&decode.FlagICMPError != 0 {
		seq = 0 // an index into the errors' table, which holds what each capture kept of the quote
	}
	dport := o.Dport
	if o.Flags&decode.FlagARP != 0 {
		dport = 0 // where the link layer sent it: a cooked capture's outgoing frame does not tell
	}
	k := uint64(o.Src)*0x9e3779b97f4a7c15 ^ uint64(o.Dst)*0xc2b2ae3d27d4eb4f ^ uint64(seq)*0x165667b19e3779f9
	k ^= uint64(o.Sport)<<48 | uint64(dport)<<32 | uint64(o.Len)<<16 | uint64(o.Proto)<<8 | uint64(o.TTL)
	k ^= uint64(o.TCPFlags)<<56 ^ uint64(o.Flags&(decode.FlagARP|decode.FlagICMPError|decode.FlagIPv6))<<40
	return k
}

// addSilent finds captures that dropped frames without saying so (a -i any capture whose kernel
// buffer overflowed writes no count of it into a pcap file): where two files hold frames of one
// point, a frame one of them holds that the other, running then, lacks (no frame of the same header
// fields at that point within silentTol) was dropped by the other's capture. The capture's buffer
// is shared by all it captured, so each of its points was dropping from its last frame before such a
// gap to its first frame after it (its frames at any point bound the gap): a packet that vanished
// there is not captured, not lost. Only frames of a kind the lacking file holds at that point count
// (silentCarried): a filtered capture lacks the kinds it never held. It does nothing unless two files
// hold frames of one point.
func (cd *capDrops) addSilent(w *world, jo *journeysOut) {
	filesOf := make([][]int, len(w.c.Points))
	multi := false
	for si, s := range w.c.Sources {
		if si >= len(w.c.PointOf) {
			continue
		}
		p := w.c.PointOf[si]
		if !slices.Contains(filesOf[p], int(s.File)) {
			filesOf[p] = append(filesOf[p], int(s.File))
			multi = multi || len(filesOf[p]) > 1
		}
	}
	if !multi {
		return
	}
	for _, fs := range filesOf {
		slices.Sort(fs) // sources are numbered as the files' scans met them: not in a fixed order
	}
	cd.files = filesOf
	at, times := silentFrames(w, jo, filesOf)
	missed := map[int][]silentMiss{} // file → the frames it lacks
	for p, fs := range filesOf {
		for _, f := range fs {
			for _, g := range fs {
				if f != g && len(times[g]) > 0 {
					n := len(missed[g])
					missed[g] = silentLacks(missed[g], at[[2]int{p, f}], at[[2]int{p, g}], times[g], f, p)
					missed[g] = silentCarried(w, missed[g], n, at[[2]int{p, g}], g) // silentclass.go
				}
			}
		}
	}
	for g := range w.c.Obs { // in file order: the spans' order does not depend on the map's
		if len(missed[g]) > 0 {
			cd.addGaps(w, jo, g, missed[g], times[g])
		}
	}
}

// silentLists returns an empty list, of the capacity its frames need, for each shared point and each
// involved file with frames there (a pass over the Sources' points: the Observations are not read).
func silentLists(w *world, involved, shared []bool) map[[2]int][]silentFrame {
	n := map[[2]int]int{}
	for f, obs := range w.c.Obs {
		if !involved[f] {
			continue
		}
		for i := range obs {
			w.trimAt(i)
			if p := w.srcPoint[obs[i].Source]; shared[p] {
				n[[2]int{p, f}]++
			}
		}
	}
	at := make(map[[2]int][]silentFrame, len(n))
	for k, c := range n {
		at[k] = make([]silentFrame, 0, c)
	}
	return at
}

// silentFrames collects, one pass over each file with frames at a point another file also holds,
// those frames by point and file (sorted by key, then time), and every frame time of those files
// (sorted).
func silentFrames(w *world, jo *journeysOut, filesOf [][]int) (map[[2]int][]silentFrame, [][]int64) {
	shared := make([]bool, len(w.c.Points))
	involved := make([]bool, len(w.c.Obs))
	for p, fs := range filesOf {
		if len(fs) > 1 {
			shared[p] = true
			for _, f := range fs {
				involved[f] = true
			}
		}
	}
	n := 0
	for f, in := range involved {
		if in {
			n += len(w.c.Obs[f])
		}
	}
	if n > silentMaxFrames {
		return nil, make([][]int64, len(w.c.Obs)) // no frame lists: nothing is found lacking
	}
	at := silentLists(w, involved, shared) // sized to hold them: no list grown by doubling
	times := make([][]int64, len(w.c.Obs))
	for f, obs := range w.c.Obs {
		if !involved[f] {
			continue
		}
		ts := make([]int64, len(obs))
		for i := range obs {
			w.trimAt(i)
			o := &obs[i]
			ts[i] = jo.corrected(o, f, i)
			if p := w.srcPoint[o.Source]; shared[p] {
				at[[2]int{p, f}] = append(at[[2]int{p, f}], silentFrame{key: silentKey(o), t: ts[i], i: i})
			}
		}
		slices.Sort(ts)
		times[f] = ts
	}
	for _, l := range at {
		slices.SortFunc(l, func(x, y silentFrame) int {
			if c := cmp.Compare(x.key, y.key); c != 0 {
				return c
			}
			if c := cmp.Compare(x.t, y.t); c != 0 {
				return c
			}
			return cmp.Compare(x.i, y.i)
		})
	}
	return at, times
}

// silentLacks adds to out the frames of have (file f's at point p) that lack (file g's there, g's
// frame times gts) does not hold, within g's own span.
func silentLacks(out []silentMiss, have, lack []silentFrame, gts []int64, f, p int) []silentMiss {
	first, last := gts[0], gts[len(gts)-1]
	j := 0
	for _, x := range have {
		for j < len(lack) && (lack[j].key < x.key || lack[j].key == x.key && lack[j].t < x.t-silentTol) {
			j++
		}
		if j < len(lack) && lack[j].key == x.key && lack[j].t <= x.t+silentTol {
			j++ // the same frame: each of g's frames stands for one of f's
			continue
		}
		if x.t > first && x.t < last {
			out = append(out, silentMiss{t: x.t, f: f, i: x.i, p: p})
		}
	}
	return out
}

// addGaps turns the frames file g lacks (ms) into drop spans on every point g holds frames of: each
// gap runs from g's last frame before a lacking frame to its first frame after it (gts, sorted).
func (cd *capDrops) addGaps(w *world, jo *journeysOut, g int, ms []silentMiss, gts []int64) {
	slices.SortFunc(ms, func(x, y silentMiss) int {
		if c := cmp.Compare(x.t, y.t); c != 0 {
			return c
		}
		if c := cmp.Compare(x.f, y.f); c != 0 {
			return c
		}
		return cmp.Compare(x.i, y.i)
	})
	type gap struct {
		from, to int64
		n        int64
	}
	var gaps []gap
	for _, m := range ms {
		k, _ := slices.BinarySearch(gts, m.t)
		lo, hi := gts[max(k-1, 0)], gts[min(k, len(gts)-1)]
		if hi <= m.t && k+1 < len(gts) {
			hi = gts[k+1]
		}
		if n := len(gaps); n > 0 && lo <= gaps[n-1].to {
			gaps[n-1].to, gaps[n-1].n = max(gaps[n-1].to, hi), gaps[n-1].n+1
			continue
		}
		gaps = append(gaps, gap{from: lo, to: hi, n: 1})
	}
	m0 := ms[0]
	what := fmt.Sprintf("%s lacks %d frame%s that %s holds at %s (the first: frame %d), in %d gap%s",
		filepath.Base(w.c.Files[g].Path), len(ms), plural(len(ms)), filepath.Base(w.c.Files[m0.f].Path), w.c.Points[m0.p].ID,
		jo.stamps[m0.f].Frame(m0.i), len(gaps), plural(len(gaps)))
	if len(cd.spans) == 0 {
		cd.spans, cd.vanished = make([][]dropSpan, len(w.c.Points)), make([]int, len(w.c.Points))
	}
	seen := map[int]bool{}
	for si, s := range w.c.Sources {
		if int(s.File) != g || si >= len(w.c.PointOf) || seen[w.c.PointOf[si]] {
			continue
		}
		p := w.c.PointOf[si]
		seen[p] = true
		for i, gp := range gaps {
			d := dropSpan{from: gp.from, to: gp.to, n: gp.n, file: g, silent: true, shown: p == m0.p}
			if i == 0 {
				d.what = what
			}
			cd.spans[p] = append(cd.spans[p], d)
		}
	}
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
