package correlate

import (
	"fmt"
	"sort"
	"time"

	"github.com/calipath/calipath/decode"
)

// TCP segments first seen past their source pod's veth (no capture of it) may be pieces of one larger
// frame the pod sent: Linux hands a veth GSO frames of many segments, split on the way (at the tunnel
// device, say). Seen only as pieces, each is counted as a packet sent; with the veth's capture the
// frame is counted once (healthy-ipip without node-b's cali file: 29 packets where the pod sent 27).
// Which pieces were one frame the captures cannot tell, so the count stands and the path-incomplete
// warning says how many may be such pieces.

// gsoPieceGap is how soon after a full-size segment the next one in sequence must be first seen to
// be taken as a possible piece of the same frame.
const gsoPieceGap = 100_000 // ns

// unseenPieces counts, per point where packets entered the captures (openEndKey, left false), the
// TCP segments first seen there that continue the segment of their flow direction first seen there
// just before them (in sequence, within gsoPieceGap, after a full-size one): possible pieces of a
// frame the source sent as one, each counted here as a packet sent.
func (a *analysis) unseenPieces() map[openEndKey]int {
	type seg struct {
		ts       int64
		seq, end uint32
		n        int
	}
	type runKey struct {
		k          openEndKey
		flow       int32
		src, sport uint32
	}
	runs := map[runKey][]seg{}
	for _, e := range a.openEnds {
		h := a.hops(int(e.j))
		if e.left || len(h) == 0 {
			continue
		}
		o, _ := a.obs(h[0])
		if o.Proto != 6 || o.Flags&(decode.FlagIPv6|decode.FlagGSO) != 0 || o.PayloadLen() == 0 {
			continue
		}
		k := runKey{openEndKey{e.point, false, e.inAny, 0}, a.jFlow[e.j], o.Src, uint32(o.Sport)}
		runs[k] = append(runs[k], seg{a.ts(h[0]), o.Seq, o.Seq + seqLen(o), int(o.PayloadLen())})
	}
	out := map[openEndKey]int{}
	for k, ss := range runs {
		sort.Slice(ss, func(i, j int) bool { return ss[i].ts < ss[j].ts })
		full := 0
		for _, s := range ss {
			full = max(full, s.n)
		}
		for i := 1; i < len(ss); i++ {
			p := ss[i-1]
			if p.n == full && ss[i].seq == p.end && ss[i].ts-p.ts <= gsoPieceGap {
				out[k.k]++
			}
		}
	}
	return out
}

// piecesNote is what the path-incomplete warning adds for n possible pieces entering at pt.
func piecesNote(n int, pt string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" %d of them continue, in sequence and within %s, a full-size TCP segment first seen there "+
		"just before: possibly pieces of a larger frame their source sent as one (segmentation offload) and that was "+
		"split before %s. Each is counted as a packet sent, so the packets as sent may count up to %d too many; the "+
		"source pod's cali capture tells.", n, time.Duration(gsoPieceGap), pt, n)
}
