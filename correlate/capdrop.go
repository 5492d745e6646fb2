package correlate

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// capDrops is what the captures said they lost themselves (decode.Capture.Drops: pcapng interface
// statistics, tcpdump's "N packets dropped by kernel" from a bundle's log), per point, in corrected
// time. A packet that vanished before a point whose capture was dropping then is not counted as lost:
// it may have crossed the point unseen (placeStatus asks dropping).
type capDrops struct {
	spans [][]dropSpan // per point
	// vanished counts, per point, the journeys that vanished before it while it dropped: not captured
	// instead of lost.
	vanished []int
	// files lists, per point that several files hold frames of, those files: such a point was dropping
	// only while each of them was (another may have written what one lost). Nil for the others.
	files [][]int
	// cuts are the frames the snaplen cut before their inner ports (snapcuts.go): a packet that
	// vanished before one of them may be it, as if the capture had dropped it.
	cuts snapCuts
	// wgLoose are the WireGuard messages no packet was tied to (wgstand.go): a packet last seen leaving
	// its sender's WireGuard device may be one of them, as if the next capture had dropped it.
	wgLoose *wgStand
}

// dropSpan is one statement of drops at a point: how many, when (corrected time), and who said it.
// A silent one was found, not said: another capture of one of its file's points holds frames its file
// lacks (silentdrop.go); its n is those frames, a floor.
type dropSpan struct {
	from, to int64
	n        int64
	what     string
	file     int // the file whose capture dropped
	silent   bool
	shown    bool // silent: the point where the frames were found missing
}

// silentLead bounds how long before a silent gap a packet may have been last seen and still have
// reached the point in it: the gap's ends are the file's own frames, not a tool's coarse interval.
const silentLead = int64(10 * time.Millisecond)

// newCapDrops places c.Drops on the points of the sources they count, their times corrected with the
// node's clock; a drop without times spans the capture's own frames. The drops a capture did not say
// are found too (addSilent).
func newCapDrops(w *world, clocks []clockModel, jo *journeysOut) capDrops {
	cd := capDrops{}
	cd.addSaid(w, clocks)
	cd.addSilent(w, jo)
	cd.cuts = newSnapCuts(w, clocks, jo)
	return cd
}

// addSaid places what the captures said they dropped (c.Drops).
func (cd *capDrops) addSaid(w *world, clocks []clockModel) {
	if len(w.c.Drops) == 0 {
		return
	}
	np := len(w.c.Points)
	cd.spans, cd.vanished = make([][]dropSpan, np), make([]int, np)
	for _, d := range w.c.Drops {
		if d.Dropped <= 0 { // "0 packets dropped by kernel": the capture is complete
			continue
		}
		seen := map[int]bool{}
		for si, s := range w.c.Sources {
			if int(s.File) != d.File || (d.Iface >= 0 && int(s.Iface) != d.Iface) || si >= len(w.c.PointOf) {
				continue
			}
			p := w.c.PointOf[si]
			if seen[p] {
				continue
			}
			seen[p] = true
			pt := &w.c.Points[p]
			from, to := d.Start, d.End
			if from == 0 {
				from = pt.Traffic.First
			}
			if to == 0 {
				to = pt.Traffic.Last
			}
			cm := &clocks[w.pointNode[p]]
			cd.spans[p] = append(cd.spans[p], dropSpan{from: cm.correct(from), to: cm.correct(to), n: d.Dropped,
				what: fmt.Sprintf("%s says %d dropped", d.From, d.Dropped), file: d.File})
		}
	}
}

// dropping reports whether point p's capture was dropping at corrected time t (within the window a
// packet takes to get there), or holds a frame it could not match then that may be the packet (fits:
// snapCuts.cut), and counts the packet that vanished before it.
func (cd *capDrops) dropping(p int, t, window int64, fits func(*cutFrame) bool) bool {
	if cd.spans == nil {
		return cd.cuts.cut(p, t, fits)
	}
	if cd.all(p, func(s *dropSpan) bool {
		lead := window
		if s.silent {
			lead = min(window, silentLead)
		}
		return t+lead >= s.from && t <= s.to
	}) {
		cd.vanished[p]++
		return true
	}
	return cd.cuts.cut(p, t, fits)
}

// droppedIn reports whether point p's capture dropped frames between corrected times from and to. It
// counts nothing (the ARP check asks it beside placement).
func (cd *capDrops) droppedIn(p int, from, to int64) bool {
	return cd.spans != nil && cd.all(p, func(s *dropSpan) bool { return s.to >= from && s.from <= to })
}

// all reports whether a span of p's capture matches, for each of the files holding p's frames when
// there are several.
func (cd *capDrops) all(p int, match func(s *dropSpan) bool) bool {
	var files []int
	if cd.files != nil {
		files = cd.files[p]
	}
	if len(files) < 2 {
		files = []int{-1}
	}
	for _, f := range files {
		ok := false
		for i := range cd.spans[p] {
			if s := &cd.spans[p][i]; (f < 0 || s.file == f) && match(s) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// detectCaptureDrops says, for each point whose capture dropped packets, how many and how many
// vanished packets are therefore counted as not captured. A point whose capture's drops were only
// found (silent), and before which no packet vanished, is info, and said only at the point where the
// frames were found missing: nothing was judged by it.
func detectCaptureDrops(f *findings, k *kindRow) []Anomaly {
	cd := &f.a.capDrop
	var out []Anomaly
	for p, spans := range cd.spans {
		var said, found int64
		var what []string
		shown := false
		for _, s := range spans {
			shown = shown || s.shown
			if s.silent {
				found += s.n
			} else {
				said += s.n
			}
			if s.what != "" {
				what = append(what, s.what)
			}
		}
		if said+found == 0 || said == 0 && cd.vanished[p] == 0 && !shown && f.a.side.arp.notCaptured[p] == 0 && f.a.side.nd.notCapturedAt(p) == 0 {
			continue // only found, and nothing judged by it: said once, where the frames were missing
		}
		sort.Strings(what)
		detail := fmt.Sprintf("The capture itself lost %d packets (%s).", said, strings.Join(what, "; "))
		if said == 0 {
			detail = fmt.Sprintf("The capture lost at least %d packet%s without saying so (%s).", found, plural(int(found)),
				strings.Join(what, "; "))
		} else if found > 0 {
			detail = fmt.Sprintf("The capture itself lost %d packets, and at least %d more without saying so (%s).", said, found,
				strings.Join(what, "; "))
		}
		sev := k.severity
		switch v := cd.vanished[p]; v {
		case 0:
			detail += " No packet vanished before it while it dropped."
			if said == 0 {
				sev = sevInfo
			}
		case 1:
			detail += " 1 packet that vanished before it then is counted as not captured, not lost."
		default:
			detail += fmt.Sprintf(" %d packets that vanished before it then are counted as not captured, not lost.", v)
		}
		if n := f.a.side.arp.notCaptured[p]; n > 0 {
			sev = k.severity
			what := "1 ARP request"
			if n > 1 {
				what = fmt.Sprintf("%d ARP requests", n)
			}
			detail += fmt.Sprintf(" %s got no reply it captured while it dropped: not called unanswered.", what)
		}
		if n := f.a.side.nd.notCapturedAt(p); n > 0 {
			sev = k.severity
			detail += fmt.Sprintf(" %d IPv6 neighbour solicitation%s got no advertisement it captured while it dropped: not called unanswered.",
				n, plural(n))
		}
		out = append(out, k.anomaly(sev, Where{Point: f.a.w.c.Points[p].ID}, nil, f.ids, int(said+found), nil, detail))
	}
	return arpMissedDrops(f, k, ackedDrops(f, k, out)) // acked.go, arpproof.go
}
