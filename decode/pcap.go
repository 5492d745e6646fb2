package decode

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"unsafe"
)

// pcapReader streams a classic pcap file (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html).
type pcapReader struct {
	*rdInput
	endian
	nano bool
	// fracNs is what a unit of a record's fraction field is worth in ns (1 or 1,000), fracMax the
	// first value of it that says a second or more
	fracNs, fracMax int64
	snaplen         int // effective: the header's snaplen, or MaxCapLen when that is 0 or larger
	iface           Interface
	frame           uint32
	prevTs          int64
	havePrev        bool
}

const pcapHdrLen, pcapRecHdrLen = 24, 16

func newPcapReader(in *rdInput) (*pcapReader, error) {
	h, err := in.peek(pcapHdrLen)
	if err != nil {
		return nil, err
	}
	if len(h) < pcapHdrLen {
		return nil, fmt.Errorf("truncated pcap file header (%d of %d bytes)", len(h), pcapHdrLen)
	}
	r := &pcapReader{rdInput: in}
	switch binary.LittleEndian.Uint32(h) {
	case 0xa1b23c4d:
		r.nano = true
	case 0xd4c3b2a1:
		r.be = true
	case 0x4d3cb2a1:
		r.be, r.nano = true, true
	}
	r.fracNs, r.fracMax = 1e3, 1e6
	if r.nano {
		r.fracNs, r.fracMax = 1, 1e9
	}
	if major, minor := r.u16(h[4:]), r.u16(h[6:]); major != 2 {
		return nil, fmt.Errorf("unsupported pcap version %d.%d", major, minor)
	}
	snap := r.u32(h[16:])
	r.snaplen = MaxCapLen
	if snap != 0 && snap < MaxCapLen {
		r.snaplen = int(snap)
	}
	// The upper bits of the link-type field carry the FCS length and reserved flags.
	r.iface = Interface{LinkType: LinkType(r.u32(h[20:]) & 0xffff), SnapLen: snap, TsResol: 6}
	if r.nano {
		r.iface.TsResol = 9
	}
	if _, err := in.discard(pcapHdrLen); err != nil {
		return nil, err
	}
	return r, nil
}

// Format reports FormatPcap.
func (r *pcapReader) Format() Format { return FormatPcap }

// Interfaces returns the file's single interface.
func (r *pcapReader) Interfaces() []Interface { return []Interface{r.iface} }

// ts converts a record header's timestamp to ns since the epoch, and reports a fraction field of a
// second or more (whose excess is carried into the seconds: no overflow, as both fields are 32 bits).
func (r *pcapReader) ts(h []byte) (int64, bool) {
	sec, frac := int64(r.u32(h)), int64(r.u32(h[4:]))
	return sec*1e9 + frac*r.fracNs, frac >= r.fracMax
}

// Next reads the next record; see Reader.
func (r *pcapReader) Next(rec *Record) error {
	if r.done == nil && r.nextBuffered(rec) {
		return nil
	}
	return r.next(rec)
}

// nextBuffered is Next for the common record, whole in the window that is already buffered and
// sound (a length from 1 to the snaplen, no more than the original length, within the record
// limit): it reads it from the window without a call, and reports whether it did. Any other record
// is next's.
func (r *pcapReader) nextBuffered(rec *Record) bool {
	in, frame := r.rdInput, r.frame // (each loaded once: the stores below could alias them)
	win, pend := in.win, in.pend
	if len(win)-pend < pcapRecHdrLen || frame >= in.maxFrames {
		return false
	}
	// The window from the record on, its capacity its length (at least 16: its pointer not masked, as
	// that of win[pend:] would be); the header's four 32-bit fields in two loads, with one test of the
	// byte order (as ts reads them).
	w := win[pend:len(win):len(win)]
	h := (*[pcapRecHdrLen]byte)(w)
	var h0, h1 uint64
	// (the test on the loads' line: their inline marks take its instructions, not NOPs of their own)
	if h0, h1 = binary.LittleEndian.Uint64(h[0:8]), binary.LittleEndian.Uint64(h[8:16]); r.be {
		h0, h1 = bits.RotateLeft64(bits.ReverseBytes64(h0), 32), bits.RotateLeft64(bits.ReverseBytes64(h1), 32)
	}
	caplen, origlen := int(uint32(h1)), int(h1>>32)
	if caplen == 0 || caplen > origlen || caplen > r.snaplen || caplen > len(w)-pcapRecHdrLen {
		return false
	}
	sec, frac := int64(uint32(h0)), int64(h0>>32)
	ts, fracOver := sec*1e9+frac*r.fracNs, frac >= r.fracMax
	frame++
	r.frame = frame
	n := pcapRecHdrLen + caplen
	in.pend = pend + n // (and the read position: rdInput.offset)
	r.prevTs, r.havePrev = ts, true
	// (the frame's slice: its capacity caplen, not 0 (tested above): its pointer not masked either)
	rec.set(frame, ts, fracOver, caplen, origlen, r.iface.LinkType, 0, w[pcapRecHdrLen:n:n])
	return true
}

// skipBuffered consumes up to n records that Next would read without error, as long as each is whole
// in the buffered window and sound (nextBuffered's test), without making a Record of any, and
// returns how many it consumed: the reader is then as if Next had read them (frame number, offsets,
// the time the next record's resynchronisation compares with). A record of any other kind is left
// for Next. For the readers that read records without looking at most of them (EstimateFrames counts
// them, ReadAcks passes over those not asked for): nextBuffered's record (its time, its stores, its
// call) cost about 90 instructions a record where this takes about 15.
func (r *pcapReader) skipBuffered(n int) int {
	in := r.rdInput
	if r.done != nil || n <= 0 || r.frame >= in.maxFrames {
		return 0
	}
	// The frame limit bounds n once, and the byte order and the snaplen are read once: the loop keeps
	// to the window and the record's lengths (caplen from 1 to the snaplen: one unsigned compare).
	n = min(n, int(in.maxFrames-r.frame))
	w := in.win[in.pend:]
	snap, be := uint32(r.snaplen), r.be
	left, pos, last := skipRecords(w, n, snap, be)
	k := n - left
	if k == 0 {
		return 0
	}
	h0 := binary.LittleEndian.Uint64(w[last:])
	if be {
		h0 = bits.RotateLeft64(bits.ReverseBytes64(h0), 32)
	}
	r.prevTs, r.havePrev = int64(uint32(h0))*1e9+int64(h0>>32)*r.fracNs, true
	r.frame += uint32(k)
	in.pend += pos
	return k
}

// skipRecords is skipBuffered's loop over the window w: it passes over up to n whole, sound records
// (caplen from 1 to snap, no more than origlen; be: big-endian headers) and returns how many it was
// asked for that it did not pass over (left), where the first of those starts (pos) and where the last
// it passed over starts (last). It is not inlined: in skipBuffered the reader and its input, live past
// the loop, were loaded again from the stack on every record (two instructions).
// The headers are read at base+pos, pos <= end (the header whole in w): no bounds test a record (the
// slice w[pos+8:pos+16] took six instructions a record to test and make); left counts down.
//
//go:noinline
func skipRecords(w []byte, n int, snap uint32, be bool) (left, pos, last int) {
	end := len(w) - pcapRecHdrLen // the last record header's place
	base := unsafe.Pointer(unsafe.SliceData(w))
	for left = n; left > 0 && pos <= end; left-- {
		h1 := binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(base, pos+8))[:])
		if be {
			h1 = bits.RotateLeft64(bits.ReverseBytes64(h1), 32)
		}
		caplen, origlen := uint32(h1), uint32(h1>>32)
		next := pos + pcapRecHdrLen + int(caplen)
		if caplen-1 >= snap || caplen > origlen || next > len(w) {
			break
		}
		last, pos = pos, next
	}
	return left, pos, last
}

// next is Next for any record: read through the buffer, with every check.
func (r *pcapReader) next(rec *Record) error {
	if r.done != nil {
		return r.done
	}
	h, err := r.peek(pcapRecHdrLen)
	if err != nil {
		return r.fail(err)
	}
	if len(h) == 0 {
		return r.fail(io.EOF)
	}
	r.frame++
	if r.frame > r.maxFrames && nonZero(h) < len(h) { // zeros may still be a tail
		return r.overFrames(r.frame)
	}
	if len(h) < pcapRecHdrLen {
		if nonZero(h) == len(h) {
			return r.zeroTail(r.offset(), len(h))
		}
		return r.truncated(r.frame, "record header", len(h), pcapRecHdrLen)
	}
	ts, fracOver := r.ts(h)
	caplen, origlen := r.u32(h[8:]), r.u32(h[12:])
	if caplen-1 >= MaxCapLen { // 0, or more than MaxCapLen
		if caplen == 0 {
			return r.empty()
		}
		return r.resync(caplen)
	}
	n := pcapRecHdrLen + int(caplen)
	b, err := r.peek(n)
	if err != nil {
		return r.fail(err)
	}
	if len(b) < n {
		return r.truncated(r.frame, "record", len(b), n)
	}
	off := r.offset()
	r.prevTs, r.havePrev = ts, true
	if _, err := r.discard(n); err != nil {
		return r.fail(err)
	}
	switch {
	case caplen > origlen:
		return r.skip(r.frame, off, "caplen %d exceeds original length %d", caplen, origlen)
	case int(caplen) > r.snaplen:
		return r.skip(r.frame, off, "caplen %d exceeds snaplen %d", caplen, r.snaplen)
	}
	rec.set(r.frame, ts, fracOver, int(caplen), int(origlen), r.iface.LinkType, 0, b[pcapRecHdrLen:n:n])
	return nil
}

// empty skips a run of empty records (captured length 0), the first of them (frame r.frame) at the
// read position, and reports it as one *RecordError. A run of all-zero headers is skipped in bulk,
// and zeros to the end of the file are a zero-filled tail: not records at all.
func (r *pcapReader) empty() error {
	first, start := r.frame, r.offset()
	n := uint32(0) // records of the run consumed
	for n == 0 || first+n <= r.maxFrames {
		h, err := r.peek(pcapRecHdrLen)
		if err != nil {
			if n > 0 { // report the run; the next Next meets the error again
				break
			}
			return r.fail(err)
		}
		if len(h) < pcapRecHdrLen || r.u32(h[8:]) != 0 {
			break
		}
		if nonZero(h) == pcapRecHdrLen {
			if n > 0 { // the zeros are a run (or a tail) of their own
				break
			}
			return r.zeroRun()
		}
		if _, err := r.discard(pcapRecHdrLen); err != nil {
			return r.fail(err)
		}
		n++
	}
	r.frame = first + n - 1
	if n == 1 {
		return r.skip(first, start, "empty record (captured length 0)")
	}
	return r.skipN(first, start, int(n), "%d empty records (captured length 0)", n)
}

// zeroRun skips the all-zero record headers from the read position (frame r.frame) on, up to the
// record limit (the next Next then stops there).
func (r *pcapReader) zeroRun() error {
	first, start := r.frame, r.offset()
	z, tail, err := r.zeros(pcapRecHdrLen, max(int64(r.maxFrames)-int64(first)+1, 0))
	if err != nil {
		return r.fail(err)
	}
	if tail {
		return r.zeroTail(start, 0)
	}
	n := uint32(z / pcapRecHdrLen)
	if n == 0 { // past the record limit, and not a tail within the next read buffer
		return r.overFrames(first)
	}
	r.frame = first + n - 1
	return r.skipN(first, start, int(n), "%d empty records (all-zero headers)", n)
}

// plausible reports whether h (at least 16 bytes) looks like a record header following a record
// with timestamp prev, and returns the record's caplen.
func (r *pcapReader) plausible(h []byte, prev int64, havePrev bool) (int, int64, bool) {
	frac, caplen, origlen := r.u32(h[4:]), r.u32(h[8:]), r.u32(h[12:])
	if r.nano && frac >= 1e9 || !r.nano && frac >= 1e6 {
		return 0, 0, false
	}
	if int(caplen) > r.snaplen || caplen > origlen || origlen == 0 || origlen >= maxBlockLen {
		return 0, 0, false
	}
	ts, _ := r.ts(h)
	if havePrev && (ts-prev > 86400e9 || prev-ts > 86400e9) {
		return 0, 0, false
	}
	return int(caplen), ts, true
}

// resync skips a record whose caplen cannot be trusted by scanning forward for the next plausible
// record header: one that is plausible itself and is followed by another plausible header (or by
// the end of the file).
func (r *pcapReader) resync(caplen uint32) error {
	start, frame := r.offset(), r.frame
	pos := pcapRecHdrLen // candidates start after the corrupt header
	for {
		if r.offset()-start > resyncLimit {
			return r.fail(fmt.Errorf("frame %d (offset %d): caplen %d exceeds %d and no plausible record header follows within %d bytes",
				frame, start, caplen, MaxCapLen, resyncLimit))
		}
		b, err := r.peek(readBufSize)
		if err != nil {
			return r.fail(err)
		}
		eof := len(b) < readBufSize
		found, more := -1, false
		for i := pos; i+pcapRecHdrLen <= len(b); i++ {
			c, ts, ok := r.plausible(b[i:], r.prevTs, r.havePrev)
			if !ok {
				continue
			}
			next := i + pcapRecHdrLen + c
			if next+pcapRecHdrLen <= len(b) {
				if _, _, ok := r.plausible(b[next:], ts, true); ok {
					found = i
					break
				}
				continue
			}
			if eof {
				found = i
				break
			}
			// The follow-on header is beyond the buffer: move the candidate to the front and look again.
			found, more = i, true
			break
		}
		switch {
		case found >= 0 && more:
			if _, err := r.discard(found); err != nil {
				return r.fail(err)
			}
			pos = 0
			continue
		case found >= 0:
			if _, err := r.discard(found); err != nil {
				return r.fail(err)
			}
			return r.skip(frame, start, "caplen %d exceeds %d: skipped bytes %d-%d to the next plausible record header",
				caplen, MaxCapLen, start, r.offset()-1)
		case eof:
			if _, err := r.discard(len(b)); err != nil {
				return r.fail(err)
			}
			r.done = io.EOF
			return r.skip(frame, start, "caplen %d exceeds %d: skipped bytes %d-%d to the end of the file (no plausible record header)",
				caplen, MaxCapLen, start, r.offset()-1)
		}
		// Keep the last partial header's bytes and read on.
		adv := len(b) - pcapRecHdrLen
		if adv < pos {
			adv = pos
		}
		if _, err := r.discard(adv); err != nil {
			return r.fail(err)
		}
		pos = 0
	}
}
