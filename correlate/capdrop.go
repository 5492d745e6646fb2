package correlate

import (
	"fmt"
	"sort"
	"strings"
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
}

// dropSpan is one statement of drops at a point: how many, when (corrected time), and who said it.
type dropSpan struct {
	from, to int64
	n        int64
	what     string
}

// newCapDrops places c.Drops on the points of the sources they count, their times corrected with the
// node's clock; a drop without times spans the capture's own frames.
func newCapDrops(w *world, clocks []clockModel) capDrops {
	cd := capDrops{}
	if len(w.c.Drops) == 0 {
		return cd
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
				what: fmt.Sprintf("%s says %d dropped", d.From, d.Dropped)})
		}
	}
	return cd
}

// dropping reports whether point p's capture was dropping at corrected time t (within the window a
// packet takes to get there), and counts the packet that vanished before it.
func (cd *capDrops) dropping(p int, t, window int64) bool {
	if cd.spans == nil {
		return false
	}
	for _, s := range cd.spans[p] {
		if t+window >= s.from && t <= s.to {
			cd.vanished[p]++
			return true
		}
	}
	return false
}

// detectCaptureDrops says, for each point whose capture dropped packets, how many and how many
// vanished packets are therefore counted as not captured.
func detectCaptureDrops(f *findings, k *kindRow) []Anomaly {
	cd := &f.a.capDrop
	var out []Anomaly
	for p, spans := range cd.spans {
		if len(spans) == 0 {
			continue
		}
		var n int64
		var said []string
		for _, s := range spans {
			n += s.n
			said = append(said, s.what)
		}
		if n == 0 {
			continue
		}
		sort.Strings(said)
		detail := fmt.Sprintf("The capture itself lost %d packets (%s).", n, strings.Join(said, "; "))
		switch v := cd.vanished[p]; v {
		case 0:
			detail += " No packet vanished before it while it dropped."
		case 1:
			detail += " 1 packet that vanished before it then is counted as not captured, not lost."
		default:
			detail += fmt.Sprintf(" %d packets that vanished before it then are counted as not captured, not lost.", v)
		}
		out = append(out, k.anomaly(k.severity, Where{Point: f.a.w.c.Points[p].ID}, nil, f.ids, int(n), nil, detail))
	}
	return out
}
