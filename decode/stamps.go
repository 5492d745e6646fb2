package decode

import "sort"

// Stamps holds, beside one file's Observations, their capture times and frame numbers, which the
// 32-byte Observation does not: an Observation keeps the low 32 bits of its time (TsLo), counted from
// a base time, and its frame number is its index plus one, plus the records skipped before it (read
// errors). A block (stampBlock Observations in frame order) has a base time, about 2.1 s before its
// first; a time that does not fit in 32 bits from it (a gap in the traffic, a clock step) starts a
// new base from its Observation on, to the block's end (rebase): a file in time order, frames less
// than 4 s apart, has none.
type Stamps struct {
	base   []int64     // per block: the base of its first Observations (even), plus one when it has a rebase
	rebase []stampBase // by index: where a base starts within a block
	skips  []frameSkip // by index: where the frame numbers pass over records that gave no Observation
	skip   uint32      // the last skip's add (0 before the first): add compares each frame's with it
	cur    int64       // the base of the Observation stamped last
	last   int64       // the time of the Observation stamped last
	back   bool        // some Observation's time is earlier than the one stamped before it
	// want is the frame number after the last stamped (0 before the first), stop the frame number that
	// the first Observation of the next block has unless records are skipped before it: the usual
	// Observation's frame is want and below stop (the frame after the last, not a block's first). The
	// Observations stamped are want-1-skip (stamped).
	want, stop uint64
}

// stampBase is a base time that starts at Observation i.
type stampBase struct {
	i    uint32
	base int64
}

// frameSkip says that from Observation i on, the frame numbers are the index plus one plus add.
type frameSkip struct {
	i, add uint32
}

const (
	// stampBlock is how many Observations share a base time (a power of two).
	stampBlock = 1 << stampShift
	stampShift = 8
	// stampHalf puts a base this far before the time it starts at: a frame up to 2.1 s earlier fits
	// too (frames slightly out of order).
	stampHalf = 1 << 31
)

// add stamps the next Observation with time ts and frame number frame, returning its TsLo. The sums
// wrap (int64 two's complement), so that any time comes back exactly.
func (s *Stamps) add(ts int64, frame uint32) uint32 {
	// The usual Observation, here (inlined in the scan): not the first of its block, its time not
	// before the last one's nor 2^32 ns past its base, its frame number the one after the last's.
	// Any other is addSlow's, whose tests (with what they change) were made for every Observation.
	// (The frame's tests are two compares with want and stop, and a store of want, where the count
	// of Observations stamped was loaded, tested for a block's start, taken from the frame number and
	// compared with skip, and stored.)
	if d := uint64(ts - s.cur); d < 1<<32 && ts >= s.last && uint64(frame) == s.want && uint64(frame) < s.stop {
		s.want, s.last = uint64(frame)+1, ts
		return uint32(d)
	}
	return s.addSlow(ts, frame)
}

// stamped returns how many Observations were stamped: the last one's index plus one, its frame
// number less the skip (as add's test of the skip took them, modulo 2^32).
func (s *Stamps) stamped() int {
	if s.want == 0 {
		return 0
	}
	return int(uint32(s.want-1) - s.skip)
}

// addSlow is add for any Observation.
func (s *Stamps) addSlow(ts int64, frame uint32) uint32 {
	i := s.stamped()
	// The next frame is the usual one when it is this one's next and its Observation not a block's
	// first (its index a multiple of stampBlock, that many frames on when none is skipped).
	s.want, s.stop = uint64(frame)+1, uint64(frame)+uint64(stampBlock-i&(stampBlock-1))
	if ts < s.last && i > 0 {
		s.back = true
	}
	s.last = ts
	if add := frame - uint32(i) - 1; add != s.skip {
		s.skips = append(s.skips, frameSkip{uint32(i), add})
		s.skip = add
	}
	if i&(stampBlock-1) == 0 {
		s.cur = (ts - stampHalf) &^ 1 // even: the low bit marks a block with a rebase
		s.base = append(s.base, s.cur)
		return uint32(ts - s.cur)
	}
	if d := uint64(ts - s.cur); d < 1<<32 {
		return uint32(d)
	}
	s.base[i>>stampShift] |= 1
	s.cur = ts - stampHalf
	s.rebase = append(s.rebase, stampBase{uint32(i), s.cur})
	return stampHalf
}

// Ts returns the capture time of Observation o, the file's i-th: its block's base and TsLo, unless
// the block has a rebase.
func (s *Stamps) Ts(i int, o *Observation) int64 {
	if base := s.base[i>>stampShift]; base&1 == 0 {
		return base + int64(o.TsLo)
	}
	return s.tsRebased(i, o)
}

// TsPlain is Ts for a loop over many Observations, small enough to be inlined there: it returns the
// time of Observation o, the file's i-th, and true, unless its block has a rebase; then false (and a
// time to ignore), and Ts gives it.
func (s *Stamps) TsPlain(i int, o *Observation) (int64, bool) {
	base := s.base[i>>stampShift]
	return base + int64(o.TsLo), base&1 == 0
}

// Base returns the base of the times of the file's Observations i to j-1 (i < j): each one's time
// is the base plus its TsLo. False when they are not all in one block, or their block has a rebase;
// then Ts gives their times.
func (s *Stamps) Base(i, j int) (int64, bool) {
	base := s.base[i>>stampShift]
	return base, base&1 == 0 && (j-1)>>stampShift == i>>stampShift
}

// tsRebased is Ts in a block with a rebase.
func (s *Stamps) tsRebased(i int, o *Observation) int64 {
	base := s.base[i>>stampShift] &^ 1
	k := sort.Search(len(s.rebase), func(k int) bool { return s.rebase[k].i > uint32(i) })
	if k > 0 && s.rebase[k-1].i>>stampShift == uint32(i)>>stampShift {
		base = s.rebase[k-1].base
	}
	return base + int64(o.TsLo)
}

// InOrder reports whether the Observations' times never go back from one to the next, in the order
// they were stamped (the file's): what Ts gives them, noted as they were stamped, so that a file in
// time order needs no pass over its times to be known so.
func (s *Stamps) InOrder() bool { return !s.back }

// Frame returns the 1-based frame number of the file's i-th Observation.
func (s *Stamps) Frame(i int) uint32 { return uint32(i) + 1 + s.skipAt(i) }

// skipAt returns the frame numbers' skip at Observation i.
func (s *Stamps) skipAt(i int) uint32 {
	if len(s.skips) == 0 {
		return 0
	}
	k := sort.Search(len(s.skips), func(k int) bool { return s.skips[k].i > uint32(i) })
	if k == 0 {
		return 0
	}
	return s.skips[k-1].add
}

// trim gives back the room the side slices were grown with.
func (s *Stamps) trim() {
	s.base = append([]int64(nil), s.base...)
	if cap(s.rebase) > len(s.rebase) {
		s.rebase = append([]stampBase(nil), s.rebase...)
	}
	if cap(s.skips) > len(s.skips) {
		s.skips = append([]frameSkip(nil), s.skips...)
	}
}

// NewStamps stamps obs with capture times ts and frame numbers frames (one each), returning their
// Stamps: for a Capture made other than by Load.
func NewStamps(obs []Observation, ts []int64, frames []uint32) Stamps {
	var s Stamps
	for i := range obs {
		obs[i].TsLo = s.add(ts[i], frames[i])
	}
	s.trim()
	return s
}
