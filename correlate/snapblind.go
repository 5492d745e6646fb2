package correlate

import "github.com/calipath/calipath/decode"

// cutBlind reports whether every sighting of a journey (hops h) is a frame the capture's snaplen cut
// before its inner ports (or ICMP echo identifier): such a sighting cannot be told apart from the
// other packets between the same addresses, and a copy of a packet seen whole elsewhere at the same
// point (another capture of the interface) makes a journey of its own that goes nowhere. Where it
// stopped is then unknown, never a loss (review7 #1: healthy-ipip cut to 64 bytes, -i any files
// included). False at once when no input has such frames.
func (w *world) cutBlind(h []uint32) bool {
	some := false
	for _, f := range w.c.Files {
		some = some || f.SnapBlind > 0
	}
	if !some {
		return false
	}
	for _, g := range h {
		if o, _ := w.obsAt(g); !blindObs(o) {
			return false
		}
	}
	return len(h) > 0
}

// blindObs reports whether Observation o is of a frame cut before its inner transport ports (TCP,
// UDP) or its ICMP echo identifier: truncated, with none of them read.
func blindObs(o *decode.Observation) bool {
	if o.Flags&decode.FlagTruncated == 0 || o.Flags&(decode.FlagICMPError|decode.FlagLaterFragment|decode.FlagARP|decode.FlagNotIP) != 0 {
		return false
	}
	switch o.Proto {
	case 1, 6, 17, 58:
		return o.Sport == 0 && o.Dport == 0 && o.Seq == 0
	}
	return false
}
