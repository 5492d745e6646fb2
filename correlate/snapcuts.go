package correlate

import (
	"fmt"
	"slices"
	"time"

	"github.com/calipath/calipath/decode"
)

// A capture whose snaplen cut frames before their inner ports (decode.SnapHeaders: VXLAN over IPv6
// at -s 96, say) holds sightings no fingerprint can match: a packet that vanished before such a point
// when a cut frame crossed it may be that frame, so it is not captured there, not lost ("capture-cut"
// says how many and asks for whole frames). Without this, a dual-stack pair's IPv6 packets lost at a
// router were an encap-drop on the sending node.

// snapCuts is, per point, the corrected times of its frames cut before their inner ports (sorted),
// and how many packets that vanished before it were counted as not captured for them.
type snapCuts struct {
	at       [][]int64
	used     [][]bool // per point, per frame of at: it already accounts for a vanished packet
	vanished []int
	snapLen  []int   // per point: the largest snaplen of its files that cut such frames
	bound    []int64 // per point: its node's clock bound (how far before a packet's sighting its frame may lie)
}

// cutLead is how long after a packet's last sighting a cut frame at the next point may be its own.
const cutLead = int64(10 * time.Millisecond)

// newSnapCuts finds the frames cut before their inner ports in the files whose decoding counted some
// (FileInfo.SnapBlind), their times corrected with their nodes' clocks.
func newSnapCuts(w *world, clocks []clockModel, jo *journeysOut) snapCuts {
	sc := snapCuts{}
	for f, fi := range w.c.Files {
		if fi.SnapBlind == 0 || f >= len(w.c.Obs) {
			continue
		}
		if sc.at == nil {
			n := len(w.c.Points)
			sc.at, sc.vanished, sc.snapLen, sc.bound = make([][]int64, n), make([]int, n), make([]int, n), make([]int64, n)
			sc.used = make([][]bool, n)
			for p := range sc.bound {
				sc.bound[p] = max(clocks[w.pointNode[p]].bound, int64(time.Millisecond))
			}
		}
		for i := range w.c.Obs[f] {
			w.trimAt(i)
			if o := &w.c.Obs[f][i]; cutBeforePorts(o) {
				p := w.srcPoint[o.Source]
				sc.at[p] = append(sc.at[p], jo.corrected(o, f, i))
				sc.snapLen[p] = max(sc.snapLen[p], fi.SnapLen)
			}
		}
	}
	for p, ts := range sc.at {
		slices.Sort(ts)
		if len(ts) > 0 {
			sc.used[p] = make([]bool, len(ts))
		}
	}
	return sc
}

// cutBeforePorts says whether an Observation of a frame the snaplen cut (a file with such frames) is
// one cut before its inner ports: no IP header could be read whole, or a first TCP or UDP piece
// without its ports.
func cutBeforePorts(o *decode.Observation) bool {
	if o.Flags&decode.FlagTruncated == 0 || o.Flags&decode.FlagARP != 0 {
		return false
	}
	return o.Flags&decode.FlagNotIP != 0 ||
		(o.Proto == 6 || o.Proto == 17) && o.Sport|o.Dport == 0 && o.Flags&decode.FlagLaterFragment == 0
}

// cut reports whether a frame cut before its inner ports, not yet taken for another packet, crossed
// point p from a little before corrected time t (its node's clock bound, at least a millisecond) to
// cutLead after it; if so the frame is taken, and the packet last seen then counts as vanished before
// p. One cut frame stands for one packet at most: a single cut frame of another flow made every loss
// within its window "not captured" (review10 #2: one cut UDP frame at each router interface of
// underlay-loss took 3 of its 9 losses).
func (sc *snapCuts) cut(p int, t int64) bool {
	if sc.at == nil || len(sc.at[p]) == 0 {
		return false
	}
	ts := sc.at[p]
	i, _ := slices.BinarySearch(ts, t-sc.bound[p])
	for ; i < len(ts) && ts[i] <= t+cutLead; i++ {
		if !sc.used[p][i] {
			sc.used[p][i] = true
			sc.vanished[p]++
			return true
		}
	}
	return false
}

// detectCaptureCuts says, for each point before which packets vanished when frames it could not match
// crossed it, how many are therefore counted as not captured.
func detectCaptureCuts(f *findings, k *kindRow) []Anomaly {
	sc := &f.a.capDrop.cuts
	var out []Anomaly
	for p, v := range sc.vanished {
		if v == 0 {
			continue
		}
		detail := fmt.Sprintf("%d frame%s there %s cut to %d bytes; %d packet%s that vanished before it then: not captured.",
			len(sc.at[p]), plural(len(sc.at[p])), map[bool]string{true: "was", false: "were"}[len(sc.at[p]) == 1], sc.snapLen[p], v, plural(v))
		out = append(out, k.anomaly(k.severity, Where{Point: f.a.w.c.Points[p].ID}, nil, f.ids, v, nil, detail))
	}
	return out
}
