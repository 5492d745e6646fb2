package decode

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// settleTimes decides the time span of one scanned file. Its frames' stretches of time (see
// Traffic.addTime), over all its capture sources, are joined where they lie within spanGap of each
// other; the stretch with the most frames is the file's time. Every source's First..Last is cut to
// it, so that a few frames with timestamps that cannot be right (in 1970, in 2106, a day or more
// away from the rest) never stretch a capture's span to decades; they are counted in Outside and
// reported, with their frames, as a problem of the file.
func settleTimes(fi *FileInfo) {
	type span struct {
		tsSpan
		src uint16
	}
	var all []span
	srcs := make([]uint16, 0, len(fi.Traffic))
	for si := range fi.Traffic {
		srcs = append(srcs, si)
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i] < srcs[j] })
	evicted := 0
	for _, si := range srcs {
		t := fi.Traffic[si]
		for _, s := range t.spans[:t.nSpans] {
			all = append(all, span{s, si})
		}
		evicted += t.evicted
	}
	if len(all) == 0 {
		return
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].first != all[j].first {
			return all[i].first < all[j].first
		}
		return all[i].src < all[j].src
	})
	// Join overlapping and near stretches into clusters (all is sorted by first time).
	type cluster struct {
		first, last int64
		frames      int
		frame       uint32 // the earliest first frame of its stretches
		from, to    int    // its stretches: all[from:to]
	}
	var cs []cluster
	for i, s := range all {
		if n := len(cs); n > 0 && spanNear(s.first, cs[n-1].first, cs[n-1].last) {
			c := &cs[n-1]
			c.last = max(c.last, s.last)
			c.frames += s.frames
			c.frame = min(c.frame, s.frame)
			c.to = i + 1
			continue
		}
		cs = append(cs, cluster{first: s.first, last: s.last, frames: s.frames, frame: s.frame, from: i, to: i + 1})
	}
	m := 0
	for i := range cs {
		if cs[i].frames > cs[m].frames {
			m = i
		}
	}
	main := cs[m]
	for _, si := range srcs {
		t := fi.Traffic[si]
		first, last, in := int64(math.MaxInt64), int64(math.MinInt64), 0
		for _, s := range all[main.from:main.to] {
			if s.src == si {
				first, last, in = min(first, s.first), max(last, s.last), in+s.frames
			}
		}
		if in == 0 { // none of its frames in the file's time: it ran while the others did
			first, last = main.first, main.last
		}
		t.First, t.Last, t.Outside = first, last, t.Frames-in
		t.spans[0] = tsSpan{first: first, last: last, prev: last, frames: in, frame: t.spans[t.main].frame}
		t.nSpans, t.cur, t.main, t.evicted = 1, 0, 0, 0
	}
	if len(cs) == 1 && evicted == 0 {
		return
	}
	total := evicted
	for _, c := range cs {
		total += c.frames
	}
	shown := 0
	for i, c := range cs {
		if i == m {
			continue
		}
		if shown++; shown > maxTimeProblems {
			continue
		}
		dir, d := "before", uint64(main.first)-uint64(c.last)
		if i > m {
			dir, d = "after", uint64(c.first)-uint64(main.last)
		}
		what := fmt.Sprintf("frame %d has a timestamp (%s)", c.frame, fmtNs(c.first))
		if c.frames > 1 {
			what = fmt.Sprintf("%d frames from frame %d on have timestamps (%s to %s)", c.frames, c.frame,
				fmtNs(c.first), fmtNs(c.last))
		}
		fi.problem("%s %s %s the rest of this capture (%s to %s): not to be trusted, so kept out of its time span",
			what, fmtAgo(d), dir, fmtNs(main.first), fmtNs(main.last))
	}
	if more := shown - min(shown, maxTimeProblems); more > 0 || evicted > 0 {
		var parts []string
		if more > 0 {
			parts = append(parts, fmt.Sprintf("%d more stretches of time", more))
		}
		if evicted > 0 {
			parts = append(parts, fmt.Sprintf("%d frames in stretches not tracked", evicted))
		}
		fi.problem("and %s, also kept out of this capture's time span", strings.Join(parts, " and "))
	}
	if main.frames*2 < total {
		fi.problem("no stretch of time holds most of this capture's frames (the one taken as its time span "+
			"holds %d of %d): its timestamps are unreliable", main.frames, total)
	}
}

// maxTimeProblems is how many stretches of time outside a file's span are reported one by one.
const maxTimeProblems = 3

// fmtNs formats ns since the epoch as RFC 3339 in UTC.
func fmtNs(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// fmtAgo formats a time difference of d ns for a person: years, days, hours or a Go duration.
func fmtAgo(d uint64) string {
	const day = 24 * 3600 * 1e9
	switch {
	case d >= 2*365*day:
		return fmt.Sprintf("%.0f years", float64(d)/(365.25*day))
	case d >= 2*day:
		return fmt.Sprintf("%.1f days", float64(d)/day)
	case d >= 2*3600e9:
		return fmt.Sprintf("%.1f hours", float64(d)/3600e9)
	}
	return time.Duration(d).Round(time.Millisecond).String()
}
