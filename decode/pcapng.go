package decode

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// pcapng block types (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html).
const (
	ngSHB          = 0x0a0d0d0a
	ngIDB          = 1
	ngPB           = 2 // obsolete Packet Block
	ngSPB          = 3
	ngNRB          = 4
	ngISB          = 5
	ngEPB          = 6
	ngJournal      = 9
	ngDSB          = 10
	ngCustom       = 0xbad
	ngCustomNoCopy = 0x40000bad
)

const ngByteOrderMagic = 0x1a2b3c4d

// ngIface is an IDB with its timestamp conversion prepared.
type ngIface struct {
	snaplen int   // effective snaplen: MaxCapLen when the IDB says 0 or more
	binary  bool  // resolution is 2^-exp seconds, else 10^-exp
	exp     uint8 // resolution exponent
	offset  int64 // if_tsoffset in seconds
}

// ngReader streams a pcapng file.
type ngReader struct {
	*rdInput
	endian
	ifaces      []ngIface   // the current section's interfaces, by their id in the section
	infos       []Interface // every section's interfaces, numbered across the file (see base)
	base        int         // the index in infos of the current section's interface 0
	extraIfaces int         // IDBs of the section beyond maxIfaces in the file, counted, not kept
	frame       uint32
	badSec      bool              // the current section has an unsupported version: skip its blocks
	names       []NameRecord      // from Name Resolution Blocks (see nrb)
	stats       map[int][]IfStats // Interface Statistics Blocks by file-wide interface number (see isb)
}

func newNgReader(in *rdInput) (*ngReader, error) {
	h, err := in.peek(12)
	if err != nil {
		return nil, err
	}
	if len(h) < 12 {
		return nil, fmt.Errorf("truncated pcapng section header (%d of at least 28 bytes)", len(h))
	}
	r := &ngReader{rdInput: in}
	switch {
	case binary.LittleEndian.Uint32(h[8:]) == ngByteOrderMagic:
	case binary.BigEndian.Uint32(h[8:]) == ngByteOrderMagic:
		r.be = true
	default:
		return nil, fmt.Errorf("pcapng section header has a bad byte-order magic % x", h[8:12])
	}
	n := r.u32(h[4:])
	if n < 28 || n%4 != 0 || n > readBufSize {
		return nil, fmt.Errorf("pcapng section header has a bad length %d", n)
	}
	b, err := in.peek(int(n))
	if err != nil {
		return nil, err
	}
	if len(b) < int(n) {
		return nil, fmt.Errorf("truncated pcapng section header (%d of %d bytes)", len(b), n)
	}
	if t := r.u32(b[n-4:]); t != n {
		return nil, fmt.Errorf("pcapng section header length %d does not match its trailing length %d", n, t)
	}
	if err := r.section(b); err != nil {
		return nil, err
	}
	if _, err := in.discard(int(n)); err != nil {
		return nil, err
	}
	return r, nil
}

// Format reports FormatPcapNG.
func (r *ngReader) Format() Format { return FormatPcapNG }

// Interfaces returns the IDBs of every section read so far, indexed as Record.Iface: a file of
// several sections (as `cat a.pcapng b.pcapng` makes) numbers its interfaces across the file, each
// section's after the previous ones', so that a frame of an earlier section keeps its own interface.
func (r *ngReader) Interfaces() []Interface { return append([]Interface(nil), r.infos...) }

// section starts a new section from a complete SHB (byte order already set).
func (r *ngReader) section(b []byte) error {
	r.ifaces, r.base, r.extraIfaces = r.ifaces[:0], len(r.infos), 0
	if major, minor := r.u16(b[12:]), r.u16(b[14:]); major != 1 {
		return fmt.Errorf("unsupported pcapng version %d.%d", major, minor)
	}
	return nil
}

// ngByteOrder reads the byte order of the SHB starting at b (at least 12 bytes).
func ngByteOrder(b []byte) (be, ok bool) {
	switch {
	case binary.LittleEndian.Uint32(b[8:]) == ngByteOrderMagic:
		return false, true
	case binary.BigEndian.Uint32(b[8:]) == ngByteOrderMagic:
		return true, true
	}
	return false, false
}

func ngKnownType(t uint32) bool {
	switch t {
	case ngSHB, ngIDB, ngPB, ngSPB, ngNRB, ngISB, ngEPB, ngJournal, ngDSB, ngCustom, ngCustomNoCopy:
		return true
	}
	return false
}

func ngPacketType(t uint32) bool { return t == ngEPB || t == ngSPB || t == ngPB }

// ngFrameType reports whether Wireshark numbers blocks of this type as frames: packets, and also
// systemd journal entries and custom blocks, which calipath does not decode but must count so that
// its frame numbers stay Wireshark's.
func ngFrameType(t uint32) bool {
	return ngPacketType(t) || t == ngJournal || t == ngCustom || t == ngCustomNoCopy
}

// Next reads the next packet record; see Reader.
func (r *ngReader) Next(rec *Record) error {
	for {
		if r.done != nil {
			return r.done
		}
		h, err := r.peek(12)
		if err != nil {
			return r.fail(err)
		}
		if len(h) == 0 {
			return r.fail(io.EOF)
		}
		if len(h) < 8 {
			return r.truncated(0, "block header", len(h), 8)
		}
		typ := r.u32(h)
		if typ == 0 && nonZero(h[:8]) == 8 {
			if err := r.zeroRun(); err != nil {
				return err
			}
			continue
		}
		var frame uint32
		if ngFrameType(typ) && !r.badSec { // blocks of an unsupported version are not frames
			r.frame++
			frame = r.frame
			if frame > r.maxFrames {
				return r.overFrames(frame)
			}
		}
		be := r.be
		if typ == ngSHB {
			if len(h) < 12 {
				return r.truncated(0, "section header", len(h), 28)
			}
			var ok bool
			if be, ok = ngByteOrder(h); !ok {
				return r.resync(frame, fmt.Sprintf("section header has a bad byte-order magic % x", h[8:12]))
			}
		}
		n := binary.LittleEndian.Uint32(h[4:])
		if be {
			n = binary.BigEndian.Uint32(h[4:])
		}
		minLen := uint32(12)
		if typ == ngSHB {
			minLen = 28
		}
		if n < minLen || n%4 != 0 || n > maxBlockLen {
			return r.resync(frame, fmt.Sprintf("block type 0x%x has a bad total length %d", typ, n))
		}
		want := min(int(n), readBufSize)
		b, err := r.peek(want)
		if err != nil {
			return r.fail(err)
		}
		if len(b) < want {
			return r.truncated(frame, "block", len(b), int(n))
		}
		if int(n) <= readBufSize {
			t := binary.LittleEndian.Uint32(b[n-4:])
			if be {
				t = binary.BigEndian.Uint32(b[n-4:])
			}
			if t != n {
				return r.resync(frame, fmt.Sprintf("block type 0x%x length %d does not match its trailing length %d", typ, n, t))
			}
		}
		if typ == ngSHB {
			r.be = be
			off := r.offset()
			err := r.section(b)
			if _, err := r.discard(int(n)); err != nil {
				return r.fail(err)
			}
			if r.badSec = err != nil; r.badSec {
				return r.skip(0, off, "%v: skipping the section", err)
			}
			continue
		}
		if r.badSec {
			if _, err := r.discard(int(n)); err != nil {
				return r.fail(err)
			}
			continue
		}
		if int(n) > readBufSize {
			// Only bulky non-packet blocks (name resolution, custom) get here in sane files.
			off := r.offset()
			if err := r.skipBig(frame, typ, n); err != nil {
				return err
			}
			if frame != 0 && !ngPacketType(typ) {
				return r.skip(frame, off, "block type 0x%x (a journal or custom block) is a frame to Wireshark; calipath does not decode it", typ)
			}
			continue
		}
		off := r.offset()
		if _, err := r.discard(int(n)); err != nil {
			return r.fail(err)
		}
		switch typ {
		case ngIDB:
			if err := r.addIface(off, b[:n]); err != nil {
				return err
			}
		case ngEPB, ngPB:
			return r.packet(rec, frame, off, typ, b[:n])
		case ngSPB:
			return r.simple(rec, frame, off, b[:n])
		case ngISB:
			r.isb(b[:n])
		case ngNRB:
			r.nrb(b[:n])
		case ngJournal, ngCustom, ngCustomNoCopy:
			return r.skip(frame, off, "block type 0x%x (a journal or custom block) is a frame to Wireshark; calipath does not decode it", typ)
		}
	}
}

// skipBig skips a block larger than the read buffer, checking its trailing length.
func (r *ngReader) skipBig(frame, typ, n uint32) error {
	off := r.offset()
	if d, err := r.discard(int(n) - 4); err != nil {
		return r.fail(err)
	} else if d < int(n)-4 {
		r.done = io.EOF
		return r.skip(frame, off, "truncated block: %d of %d bytes before end of file", d, n)
	}
	t, err := r.peek(4)
	if err != nil {
		return r.fail(err)
	}
	if len(t) < 4 {
		return r.truncated(frame, "block", int(n)-4+len(t), int(n))
	}
	if got := r.u32(t); got != n {
		return r.resync(frame, fmt.Sprintf("block type 0x%x at offset %d length %d does not match its trailing length %d", typ, off, n, got))
	}
	if _, err := r.discard(4); err != nil {
		return r.fail(err)
	}
	if frame != 0 {
		return r.skip(frame, off, "packet block of %d bytes exceeds the %d-byte limit", n, readBufSize)
	}
	return nil
}

// maxIfaces is how many interface descriptions of one file are kept: more than calipath tells
// apart (see IfOverflow), so that a flood of them cannot fill memory without a frame.
const maxIfaces = 1 << 16

// maxIfaceText is how many bytes of an interface's name or description are kept.
const maxIfaceText = 256

// addIface parses an IDB (a complete block of at least 12 bytes) at offset off. Past maxIfaces in
// the file the IDB is only counted, and the first such one of a section is reported as a skipped range.
func (r *ngReader) addIface(off int64, b []byte) error {
	if len(r.infos) >= maxIfaces {
		r.extraIfaces++
		if r.extraIfaces == 1 {
			return r.skip(0, off, "more than %d interface descriptions in this file: this one and later ones are not kept, and packets on them are skipped", maxIfaces)
		}
		return nil
	}
	info := Interface{TsResol: 6}
	if len(b) >= 20 {
		info.LinkType = LinkType(r.u16(b[8:]))
		info.SnapLen = r.u32(b[12:])
		r.options(b[16:len(b)-4], func(code uint16, v []byte) {
			switch {
			case code == 2:
				info.Name = string(v[:min(len(v), maxIfaceText)])
			case code == 3:
				info.Description = string(v[:min(len(v), maxIfaceText)])
			case code == 9 && len(v) >= 1:
				info.TsResol = v[0]
			case code == 14 && len(v) >= 8:
				info.TsOffset = int64(r.u64(v))
			}
		})
	}
	ifc := ngIface{snaplen: MaxCapLen, binary: info.TsResol&0x80 != 0, exp: info.TsResol & 0x7f, offset: info.TsOffset}
	if info.SnapLen != 0 && info.SnapLen < MaxCapLen {
		ifc.snaplen = int(info.SnapLen)
	}
	r.ifaces = append(r.ifaces, ifc)
	r.infos = append(r.infos, info)
	return nil
}

// options walks a pcapng option list, stopping at opt_endofopt or at the first malformed option.
func (r *ngReader) options(b []byte, fn func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, l := r.u16(b), int(r.u16(b[2:]))
		if code == 0 || 4+l > len(b) {
			return
		}
		fn(code, b[4:4+l])
		adv := 4 + (l+3)&^3
		if adv > len(b) {
			return
		}
		b = b[adv:]
	}
}

// mulAdd returns a*m+c, reporting false on int64 overflow.
func mulAdd(a, m, c int64) (int64, bool) {
	if a != 0 && (a > math.MaxInt64/m || a < math.MinInt64/m) {
		return 0, false
	}
	p := a * m
	s := p + c
	if (c > 0 && s < p) || (c < 0 && s > p) {
		return 0, false
	}
	return s, true
}

// ngPow10 holds 10^0 … 10^19, every power of ten a uint64 holds.
var ngPow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// toNs converts a raw timestamp of interface ifc to ns since the epoch, exactly (floor for
// resolutions finer than 1 ns). It reports false when the result does not fit an int64.
func (ifc *ngIface) toNs(ts uint64) (int64, bool) {
	// Split into whole seconds and ns within the second, so no intermediate overflows.
	var sec, frac uint64
	e := uint(ifc.exp)
	switch {
	case ifc.binary && e < 64:
		sec = ts >> e
		hi, lo := bits.Mul64(ts&(1<<e-1), 1e9)
		frac = lo
		if e > 0 {
			frac = hi<<(64-e) | lo>>e
		}
	case ifc.binary:
		hi, _ := bits.Mul64(ts, 1e9)
		frac = hi >> (e - 64)
	case e <= 9:
		sec, frac = ts/ngPow10[e], ts%ngPow10[e]*ngPow10[9-e]
	case e <= 19:
		sec, frac = ts/ngPow10[e], ts%ngPow10[e]/ngPow10[e-9]
	case e-9 <= 19:
		frac = ts / ngPow10[e-9]
	}
	s, ok := ngAddSec(sec, ifc.offset)
	if !ok {
		return 0, false
	}
	ns := int64(frac)
	if s < 0 && ns > 0 {
		s, ns = s+1, ns-1e9
	}
	return mulAdd(s, 1e9, ns)
}

// ngAddSec returns sec+off, reporting false when it does not fit an int64.
func ngAddSec(sec uint64, off int64) (int64, bool) {
	if off >= 0 {
		if sec > uint64(math.MaxInt64-off) {
			return 0, false
		}
		return int64(sec) + off, true
	}
	neg := uint64(-(off + 1)) + 1 // |off|, even for math.MinInt64
	if sec >= neg {
		if d := sec - neg; d <= math.MaxInt64 {
			return int64(d), true
		}
		return 0, false
	}
	return -int64(neg-sec-1) - 1, true
}

// packet delivers an EPB or obsolete PB (a complete block).
func (r *ngReader) packet(rec *Record, frame uint32, off int64, typ uint32, b []byte) error {
	const hdr = 28
	if len(b) < hdr+4 {
		return r.skip(frame, off, "packet block of %d bytes is too short", len(b))
	}
	id := r.u32(b[8:])
	if typ == ngPB {
		id = uint32(r.u16(b[8:]))
	}
	if id >= uint32(len(r.ifaces)) {
		if int64(id) < int64(len(r.ifaces))+int64(r.extraIfaces) {
			return r.skip(frame, off, "interface id %d is beyond the %d interface descriptions kept", id, maxIfaces)
		}
		return r.skip(frame, off, "interface id %d is not defined in this section (%d interfaces)", id, len(r.ifaces))
	}
	ifc := &r.ifaces[id]
	caplen, origlen := r.u32(b[20:]), r.u32(b[24:])
	switch {
	case caplen == 0:
		return r.empty(frame, off, "empty packet block (captured length 0)")
	case caplen > uint32(len(b)-hdr-4):
		return r.skip(frame, off, "caplen %d exceeds the %d bytes of its block", caplen, len(b)-hdr-4)
	case caplen > origlen:
		return r.skip(frame, off, "caplen %d exceeds original length %d", caplen, origlen)
	case int(caplen) > ifc.snaplen:
		return r.skip(frame, off, "caplen %d exceeds snaplen %d", caplen, ifc.snaplen)
	}
	ts, ok := ifc.toNs(uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:])))
	if !ok {
		return r.skip(frame, off, "timestamp out of range")
	}
	end := hdr + int(caplen)
	g := r.base + int(id)
	rec.set(frame, ts, false, int(caplen), int(origlen), r.infos[g].LinkType, g, b[hdr:end:end])
	return nil
}

// emptyPacket reports whether the complete block b of type typ is a packet block that captured
// nothing, on a known interface.
func (r *ngReader) emptyPacket(typ uint32, b []byte) bool {
	switch typ {
	case ngEPB, ngPB:
		if len(b) < 32 {
			return false
		}
		id := r.u32(b[8:])
		if typ == ngPB {
			id = uint32(r.u16(b[8:]))
		}
		return id < uint32(len(r.ifaces)) && r.u32(b[20:]) == 0
	case ngSPB:
		return len(b) >= 16 && len(r.ifaces) > 0 && (r.u32(b[8:]) == 0 || len(b) == 16)
	}
	return false
}

// empty skips a run of packet blocks that captured nothing, the first (frame, at offset off) already
// consumed, and reports it as one *RecordError (with reason when the run is that one block).
func (r *ngReader) empty(frame uint32, off int64, reason string) error {
	n := uint32(1)
	for frame+n <= r.maxFrames {
		h, err := r.peek(8)
		if err != nil || len(h) < 8 {
			break
		}
		typ, bl := r.u32(h), r.u32(h[4:])
		if !ngPacketType(typ) || bl < 12 || bl%4 != 0 || bl > readBufSize {
			break
		}
		b, err := r.peek(int(bl))
		if err != nil || len(b) < int(bl) || r.u32(b[bl-4:]) != bl || !r.emptyPacket(typ, b) {
			break
		}
		if _, err := r.discard(int(bl)); err != nil {
			return r.fail(err)
		}
		n++
	}
	r.frame = frame + n - 1
	if n == 1 {
		return r.skip(frame, off, "%s", reason)
	}
	return r.skipN(frame, off, int(n), "%d empty packet blocks (captured length 0)", n)
}

// zeroRun skips the zeros at the read position, where a block header should be: to the end of
// the file they are a zero-filled tail, else a skipped range.
func (r *ngReader) zeroRun() error {
	start := r.offset()
	z, tail, err := r.zeros(4, -1)
	if err != nil {
		return r.fail(err)
	}
	if tail {
		return r.zeroTail(start, 0)
	}
	return r.skip(0, start, "%d zero bytes where a block should start: skipped", z)
}

// simple delivers a Simple Packet Block: interface 0, no timestamp.
func (r *ngReader) simple(rec *Record, frame uint32, off int64, b []byte) error {
	const hdr = 12
	if len(b) < hdr+4 {
		return r.skip(frame, off, "simple packet block of %d bytes is too short", len(b))
	}
	if len(r.ifaces) == 0 {
		return r.skip(frame, off, "simple packet block before any interface description")
	}
	origlen := r.u32(b[8:])
	first := r.infos[r.base]
	caplen := min(int64(origlen), int64(first.SnapLen), int64(len(b)-hdr-4))
	if first.SnapLen == 0 {
		caplen = min(int64(origlen), int64(len(b)-hdr-4))
	}
	if caplen > MaxCapLen {
		return r.skip(frame, off, "caplen %d exceeds %d", caplen, MaxCapLen)
	}
	if caplen == 0 {
		return r.empty(frame, off, "empty simple packet block (captured length 0)")
	}
	end := hdr + int(caplen)
	rec.set(frame, 0, false, int(caplen), int(origlen), first.LinkType, r.base, b[hdr:end:end])
	return nil
}

// resync skips a block whose framing cannot be trusted: it scans forward for the next block of a
// known type whose leading and trailing lengths agree.
func (r *ngReader) resync(frame uint32, reason string) error {
	start := r.offset()
	pos := 4
	for {
		if r.offset()-start > resyncLimit {
			return r.fail(fmt.Errorf("offset %d: %s, and no valid block follows within %d bytes", start, reason, resyncLimit))
		}
		b, err := r.peek(readBufSize)
		if err != nil {
			return r.fail(err)
		}
		eof := len(b) < readBufSize
		found, more := -1, false
		for i := pos; i+12 <= len(b); i++ {
			n, ok := r.candidate(b[i:])
			if !ok {
				continue
			}
			if i+n > len(b) {
				if eof {
					continue
				}
				found, more = i, true
				break
			}
			if r.trailerOK(b[i:i+n], n) {
				found = i
				break
			}
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
			return r.skip(frame, start, "%s: skipped bytes %d-%d to the next valid block", reason, start, r.offset()-1)
		case eof:
			if _, err := r.discard(len(b)); err != nil {
				return r.fail(err)
			}
			r.done = io.EOF
			return r.skip(frame, start, "%s: skipped bytes %d-%d to the end of the file (no valid block)", reason, start, r.offset()-1)
		}
		adv := max(len(b)-12, pos)
		if _, err := r.discard(adv); err != nil {
			return r.fail(err)
		}
		pos = 0
	}
}

// candidate checks the header of a possible block at b (at least 12 bytes): known type and a
// sane length that fits the read buffer. It returns the length.
func (r *ngReader) candidate(b []byte) (int, bool) {
	typ := r.u32(b)
	be := r.be
	if typ == ngSHB {
		var ok bool
		if be, ok = ngByteOrder(b); !ok {
			return 0, false
		}
	} else if !ngKnownType(typ) {
		return 0, false
	}
	n := binary.LittleEndian.Uint32(b[4:])
	if be {
		n = binary.BigEndian.Uint32(b[4:])
	}
	if n < 12 || n%4 != 0 || n > readBufSize || typ == ngSHB && n < 28 {
		return 0, false
	}
	return int(n), true
}

// trailerOK reports whether the complete candidate block b ends with its own length.
func (r *ngReader) trailerOK(b []byte, n int) bool {
	be := r.be
	if r.u32(b) == ngSHB {
		be, _ = ngByteOrder(b)
	}
	t := binary.LittleEndian.Uint32(b[n-4:])
	if be {
		t = binary.BigEndian.Uint32(b[n-4:])
	}
	return int(t) == n
}
