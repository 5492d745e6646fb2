package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
)

// errCopy is an ICMP error sighting (global observation g) that the matcher took for a copy of journey
// j's frame at a point (copyWin): at the sole capture of the point within copyGap, at a point with
// several captures within dupWin, from either.
type errCopy struct {
	j int32
	g uint32
}

// detectICMPErrorCopies says, per point, how many ICMP errors were taken for a frame written twice by
// its capture (Hop.Dup): a byte-identical error shortly after another from the same capture (in the
// point's only capture, less than copyGap after it; at a point with several captures, within dupWin).
// A duplicated capture writes a frame twice within microseconds, but a sender can send two identical
// errors that fast (a router answering two identical packets back to back): the captures cannot tell,
// and each such error was counted once where it may be two. A copy from the point's other capture
// (a -i any file beside the interface's own) is that capture's sighting, not said.
func detectICMPErrorCopies(f *findings, k *kindRow) []Anomaly {
	a := f.a
	type group struct {
		n      int
		flows  map[int32]bool
		ev     []Evidence
		gapMax int64
		files  []string
	}
	groups := map[int]*group{}
	var order []int
	for _, cs := range a.errCopySets() {
		for _, pr := range a.sameCaptureCopies(cs) {
			p := a.point(pr[1])
			gr := groups[p]
			if gr == nil {
				gr = &group{flows: map[int32]bool{}}
				groups[p] = gr
				order = append(order, p)
			}
			gr.n++
			gr.gapMax = max(gr.gapMax, a.ts(pr[1])-a.ts(pr[0]))
			gr.flows[a.jFlow[cs.j]] = true
			ev := a.evidence(pr[1])
			if len(gr.ev) < 10 {
				gr.ev = append(gr.ev, a.evidence(pr[0]), ev)
			}
			if !slices.Contains(gr.files, ev.File) {
				gr.files = append(gr.files, ev.File)
			}
		}
	}
	var out []Anomaly
	for _, p := range order {
		gr := groups[p]
		id := a.w.c.Points[p].ID
		detail := fmt.Sprintf("%d ICMP errors at %s were each followed, at most %s later and in the same capture (%s), "+
			"by an error identical to it byte for byte: each pair was counted as one error whose frame the capture "+
			"wrote twice (Hop.Dup).", gr.n, id, time.Duration(gr.gapMax), strings.Join(gr.files, ", "))
		out = append(out, k.anomaly(k.severity, Where{Point: id}, gr.flows, f.ids, gr.n, gr.ev, detail))
	}
	return out
}

// errCopySet is a journey's sighting at a stage (orig, one of its hops) and the ICMP error sightings
// taken for copies of it there (errCopies), in the order matched.
type errCopySet struct {
	j      int32
	orig   uint32
	copies []uint32
}

// errCopySets groups the ICMP errors taken for copies (journeysOut.errCopies) by the journey's hop
// they copy: the hop at the same stage (point, and for a point of every interface the same
// encapsulation and TTL). A copy whose journey has no such hop (a capture placed at no point) is left
// out.
func (a *analysis) errCopySets() []*errCopySet {
	var sets []*errCopySet
	at := map[uint32]*errCopySet{} // by the hop copied
	for _, c := range a.journeys.errCopies {
		p := a.point(c.g)
		if p < 0 || int(c.j) >= a.nJ {
			continue
		}
		orig, found := uint32(0), false
		for _, h := range a.hops(int(c.j)) {
			if a.sameStage(h, c.g) {
				orig, found = h, true
				break
			}
		}
		if !found {
			continue
		}
		s := at[orig]
		if s == nil {
			s = &errCopySet{j: c.j, orig: orig}
			at[orig] = s
			sets = append(sets, s)
		}
		s.copies = append(s.copies, c.g)
	}
	return sets
}

// sameStage reports whether global observations g and h were seen at one stage: the same point, and at
// a point for every interface (-i any without indexes) with the same encapsulation and TTL.
func (a *analysis) sameStage(g, h uint32) bool {
	p := a.point(g)
	if p < 0 || p != a.point(h) {
		return false
	}
	if a.w.pointRole[p] != decode.RoleAny {
		return true
	}
	og, _ := a.obs(g)
	oh, _ := a.obs(h)
	return og.Encap() == oh.Encap() && og.TTL == oh.TTL
}

// sameCaptureCopies returns, for each copy of set s from a capture that had seen the frame there
// before (the hop itself or an earlier copy), that earlier sighting and the copy: the frames one
// capture holds twice. A copy from a capture that had not is that capture's own sighting of the frame
// (a point with several captures).
func (a *analysis) sameCaptureCopies(s *errCopySet) [][2]uint32 {
	all := append([]uint32{s.orig}, s.copies...)
	slices.SortStableFunc(all, func(x, y uint32) int {
		if tx, ty := a.ts(x), a.ts(y); tx != ty {
			if tx < ty {
				return -1
			}
			return 1
		}
		return int(int64(x) - int64(y))
	})
	var out [][2]uint32
	last := map[uint16]uint32{} // by capture source: its latest sighting so far
	for _, g := range all {
		o, _ := a.obs(g)
		if prev, ok := last[o.Source]; ok {
			out = append(out, [2]uint32{prev, g})
		}
		last[o.Source] = g
	}
	return out
}
