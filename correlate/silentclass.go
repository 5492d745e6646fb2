package correlate

import "github.com/calipath/calipath/decode"

// A file that lacks frames another capture of the same interface holds may have dropped them, or may
// never have been meant to hold them: a capture filter (a host or protocol filter, -Q in or out)
// leaves whole kinds of frames out. A capture that drops frames drops every kind it carries, so a
// lacking frame counts as dropped only when the lacking file carries frames of its kind at that
// point: the same addresses and protocol the same way, and the same source or destination port (an
// ARP frame: any ARP frame). A file that never carries a kind was filtered, not dropping, for it.

// silentClass is a kind of frame at a point, for silentCarried: an ARP frame (all alike), or a
// direction's addresses and protocol with one of its ports (which: 1 source, 2 destination).
type silentClass struct {
	src, dst uint32
	flags    decode.Flags
	proto    uint8
	which    uint8
	port     uint16
}

// silentClasses returns the two classes of frame o (the same one twice for ARP).
func silentClasses(o *decode.Observation) [2]silentClass {
	if o.Flags&decode.FlagARP != 0 {
		c := silentClass{flags: decode.FlagARP}
		return [2]silentClass{c, c}
	}
	c := silentClass{src: o.Src, dst: o.Dst, proto: o.Proto,
		flags: o.Flags & (decode.FlagICMPError | decode.FlagIPv6 | decode.FlagLaterFragment)}
	s, d := c, c
	s.which, s.port = 1, o.Sport
	d.which, d.port = 2, o.Dport
	return [2]silentClass{s, d}
}

// silentCarried keeps, of the frames ms[from:] that file g lacks, those of a class g's frames at
// their point (lack) carry; the others were left out by a filter. The classes are gathered only when
// some frame is lacking.
func silentCarried(w *world, ms []silentMiss, from int, lack []silentFrame, g int) []silentMiss {
	if len(ms) == from {
		return ms
	}
	carried := map[silentClass]bool{}
	for _, y := range lack {
		for _, c := range silentClasses(&w.c.Obs[g][y.i]) {
			carried[c] = true
		}
	}
	out := ms[:from]
	for _, m := range ms[from:] {
		cs := silentClasses(&w.c.Obs[m.f][m.i])
		if carried[cs[0]] || carried[cs[1]] {
			out = append(out, m)
		}
	}
	return out
}
