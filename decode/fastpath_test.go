package decode

import (
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"math/rand"
	"path/filepath"
	"reflect"
	"testing"
)

// fastPair decodes the same frames four times: as the scan does (decodeReused, which takes the fast
// path where it can, then Observe), the same with the lean Packet (Options.leanPacket, as Load scans),
// the same with the lean Packet and what the merged probe reads of it (Decoder.leanShape, as Load
// scans while the probe reads its frames), and always by the usual path (decodePacket, then Observe),
// each with its own Decoder, Tables and Traffic, and compares the results: the probe's account of the
// frames (probeState) on the lean Packet with its account on the full one.
type fastPair struct {
	fast, slow, lean, probe     *Decoder
	tFast, tSlow, tLean, tProbe *Tables
	trFast, trSlow              map[uint16]*Traffic
	trLean, trProbe             map[uint16]*Traffic
	pFast, pSlow, pLean, pProbe Packet
	sFast, sProbe               *probeState // the merged probe's accounts of pFast and pProbe
	nFast, n                    int         // frames that took the fast path; frames in all
}

func newFastPair(opts Options) *fastPair {
	fp := &fastPair{tFast: NewTables(), tSlow: NewTables(), tLean: NewTables(), tProbe: NewTables(),
		trFast: map[uint16]*Traffic{}, trSlow: map[uint16]*Traffic{}, trLean: map[uint16]*Traffic{},
		trProbe: map[uint16]*Traffic{}, sFast: newProbeState(), sProbe: newProbeState()}
	lean := opts
	lean.leanPacket = true
	fp.fast, fp.slow, fp.lean = NewDecoder(opts, fp.tFast, 0), NewDecoder(opts, fp.tSlow, 0), NewDecoder(lean, fp.tLean, 0)
	fp.probe = NewDecoder(lean, fp.tProbe, 0)
	fp.probe.leanShape = shapeLean | shapeProbe // as lookMerged sets it while the probe reads (its account kept here: sProbe)
	// As the scan leaves them once it has looked for merged captures: the source cache is used.
	fp.fast.mergeChecked, fp.slow.mergeChecked, fp.lean.mergeChecked, fp.probe.mergeChecked = true, true, true, true
	return fp
}

// stepLean decodes rec as the scan does with the lean Packet (into p by d, counted in trs) and fails t
// unless what the scan and Load keeps of it (the Observation, the fingerprint, whether the fast path
// took it, the errors, encapsulation, link type and fragment fields the scan tests, what
// Traffic.addFast or add count and return) is what the full Packet gave: oFast, bFast. With s (the
// probe Decoder's), the merged probe's account takes the frame too, as inScan's frame gives it.
func (fp *fastPair) stepLean(t testing.TB, where string, d *Decoder, p *Packet, trs map[uint16]*Traffic, s *probeState,
	rec *Record, took bool, oFast Observation, bFast uint64) {
	t.Helper()
	var o Observation
	poisonLeanOuter(p)
	d.decodeReusedObs(rec, p)
	if d.fastDone != took {
		t.Fatalf("%s frame %d: lean fast path %v, full %v", where, rec.Frame, d.fastDone, took)
	}
	checkCtxCells(t, where+" (lean)", rec, d, took) // (fastUsual switches among the recent contexts itself)
	if s != nil {
		probeStep(s, d, rec, p)
		if a, b := probeView(&fp.pFast), probeView(p); a != b {
			t.Fatalf("%s frame %d (fast path %v): the merged probe reads of the lean Packet\n%+v\nwant\n%+v", where,
				rec.Frame, took, b, a)
		}
	}
	d.Observe(rec, p, &o)
	checkFastClean(t, where+" (lean)", rec, d, p, took)
	if o != oFast || p.Loose != fp.pFast.Loose {
		t.Fatalf("%s frame %d (fast path %v): lean Observation\n%+v (fingerprint %x)\nwant\n%+v (%x)", where, rec.Frame,
			took, o, p.Loose, oFast, fp.pFast.Loose)
	}
	f := &fp.pFast
	if p.Errs != f.Errs || p.Encap != f.Encap || p.LinkType != f.LinkType || p.Inner.MF != f.Inner.MF ||
		p.Inner.FragOff != f.Inner.FragOff {
		t.Fatalf("%s frame %d (fast path %v): lean Packet errors %v, encapsulation %v, link type %v, MF %v, offset %d; "+
			"want %v, %v, %v, %v, %d", where, rec.Frame, took, p.Errs, p.Encap, p.LinkType, p.Inner.MF, p.Inner.FragOff,
			f.Errs, f.Encap, f.LinkType, f.Inner.MF, f.Inner.FragOff)
	}
	tr := traffic(trs, o.Source)
	b, hot := tr.addFast(d.fastShape, rec, p)
	if b == noFast {
		b = tr.add(rec.Frame, rec.Ts, rec.FracOver, p, p.Loose)
	}
	if b != bFast {
		t.Fatalf("%s frame %d: lean Traffic.add returned %d, want %d", where, rec.Frame, b, bFast)
	}
	checkHot(t, where, rec, tr, b, hot)
	if !hot && (b != 0 || rec.FracOver || tr.cur != tr.main) { // as the scan does
		p.Errs |= ErrTimestamp
	}
}

// poisonLeanOuter sets the fields of a lean encapsulated Packet's outer header that fastUsual does
// not write (it writes the addresses and the TTL: Options.leanPacket) to values no frame of the usual
// shape has, before the next frame is decoded into it. A frame fastUsual takes leaves them so, and
// stepLean's and check's comparisons with the full Packet (the Observation, the Traffic, the header
// contexts, the merged probe's account) then show that nothing reads them; any other frame writes
// them (fastFrame: putIPv4) or has them reset (resetDecoded, partOuter).
func poisonLeanOuter(p *Packet) {
	if p.Encap == EncapNone {
		return
	}
	o := &p.Outer
	o.TOS, o.TotalLen, o.ID, o.DF, o.Checksum, o.CapLen = 0xa5, 0xfffe, 1<<20, !o.DF, 0x5a5a, -1
}

// checkHot fails t when addFast said hot (the frame taken in its range: the scan then does not test
// the time's flag) for a frame the scan would flag for its time: back (what the scan's Traffic
// returned) not 0, its fraction field overflowed, or tr's current stretch of time not the main one.
func checkHot(t testing.TB, where string, rec *Record, tr *Traffic, back uint64, hot bool) {
	t.Helper()
	if hot && (back != 0 || rec.FracOver || tr.cur != tr.main) {
		t.Fatalf("%s frame %d: Traffic.addFast took it in its range (hot), but back %d, fraction overflow %v, "+
			"stretch %d of main %d", where, rec.Frame, back, rec.FracOver, tr.cur, tr.main)
	}
}

// checkFastClean fails t unless d's fastShape, after Observe, says whether the fast path took the
// frame rec (took), and a frame it took has no error and is no fragment (the scan tests a frame's
// fragment and errors only when fastShape is 0), and its shape holds its encapsulation and link type.
func checkFastClean(t testing.TB, where string, rec *Record, d *Decoder, p *Packet, took bool) {
	t.Helper()
	if (d.fastShape != 0) != took {
		t.Fatalf("%s frame %d (fast path %v): fastShape %#x after Observe", where, rec.Frame, took, d.fastShape)
	}
	if took && (p.Errs != 0 || p.Inner.MF || p.Inner.FragOff != 0) {
		t.Fatalf("%s frame %d: the fast path took a frame with errors %v, MF %v, offset %d", where, rec.Frame,
			p.Errs, p.Inner.MF, p.Inner.FragOff)
	}
	// Traffic.addFast keys its runs with the shape's encapsulation and link type (shapeRunKey).
	if k := d.fastShape & shapeRunKey; took && k != uint32(p.Encap)<<shapeEncapShift|uint32(p.LinkType)<<shapeLinkShift {
		t.Fatalf("%s frame %d: fastShape %#x holds encapsulation and link type %#x, want those of %v, %v", where,
			rec.Frame, d.fastShape, k, p.Encap, p.LinkType)
	}
}

// checkCtxCells fails t unless d's last header context (the one the fast path compares and takes) is
// its cell's, and its cells are the last one's and the three recent ones' (the frame rec just decoded,
// took: by the fast path).
func checkCtxCells(t testing.TB, where string, rec *Record, d *Decoder, took bool) {
	t.Helper()
	if !d.haveCtx {
		return
	}
	last := &d.ctxs[d.cur]
	if d.lastKey != ctxKeyOf(&last.c) || d.ctxIdx != last.idx {
		t.Fatalf("%s frame %d (fast path %v): header-context key %x and index %d, want %x and %d", where, rec.Frame,
			took, d.lastKey, d.ctxIdx, ctxKeyOf(&last.c), last.idx)
	}
	if c := d.recent; d.cur+c[0]+c[1]+c[2] != 6 || d.cur == c[0] || d.cur == c[1] || d.cur == c[2] || c[0] == c[1] ||
		c[0] == c[2] || c[1] == c[2] {
		t.Fatalf("%s frame %d: header-context cells %d and %v", where, rec.Frame, d.cur, c)
	}
}

// traffic returns m's Traffic of source src, made if need be.
func traffic(m map[uint16]*Traffic, src uint16) *Traffic {
	tr := m[src]
	if tr == nil {
		tr = &Traffic{}
		m[src] = tr
	}
	return tr
}

// step decodes rec both ways and fails t at the first difference: Packet, Observation, fingerprint,
// what Traffic.add returns (on the fast side, Traffic.addFast where the fast path took the frame, as
// the scan counts it). It reports whether the fast path took the frame.
func (fp *fastPair) step(t testing.TB, where string, rec *Record) bool {
	t.Helper()
	var oFast, oSlow Observation
	fp.fast.decodeReusedObs(rec, &fp.pFast)
	took := fp.fast.fastDone
	probeStep(fp.sFast, fp.fast, rec, &fp.pFast)
	fp.fast.Observe(rec, &fp.pFast, &oFast)
	checkFastClean(t, where, rec, fp.fast, &fp.pFast, took)
	fp.slow.decodePacket(rec, &fp.pSlow)
	fp.slow.Observe(rec, &fp.pSlow, &oSlow)
	fp.n++
	if took {
		fp.nFast++
	}
	if !reflect.DeepEqual(fp.pFast, fp.pSlow) {
		t.Fatalf("%s frame %d (fast path %v): Packet\n%+v\nwant\n%+v", where, rec.Frame, took, fp.pFast, fp.pSlow)
	}
	checkCtxCells(t, where, rec, fp.fast, took)
	if oFast != oSlow {
		t.Fatalf("%s frame %d (fast path %v): Observation\n%+v\nwant\n%+v", where, rec.Frame, took, oFast, oSlow)
	}
	trFast, trSlow := traffic(fp.trFast, oFast.Source), traffic(fp.trSlow, oSlow.Source)
	bFast, hot := trFast.addFast(fp.fast.fastShape, rec, &fp.pFast) // as the scan counts
	if (bFast != noFast) != took || hot && !took {
		t.Fatalf("%s frame %d (fast path %v): Traffic.addFast returned %d", where, rec.Frame, took, bFast)
	}
	if bFast == noFast {
		bFast = trFast.add(rec.Frame, rec.Ts, rec.FracOver, &fp.pFast, fp.pFast.Loose)
	}
	bSlow := trSlow.add(rec.Frame, rec.Ts, rec.FracOver, &fp.pSlow, fp.pSlow.Loose)
	if bFast != bSlow {
		t.Fatalf("%s frame %d: Traffic.add returned %d, want %d", where, rec.Frame, bFast, bSlow)
	}
	checkHot(t, where, rec, trFast, bFast, hot)
	fp.stepLean(t, where, fp.lean, &fp.pLean, fp.trLean, nil, rec, took, oFast, bFast)
	fp.stepLean(t, where+" (probe)", fp.probe, &fp.pProbe, fp.trProbe, fp.sProbe, rec, took, oFast, bFast)
	if bFast != 0 || rec.FracOver || trFast.cur != trFast.main { // as the scan does
		fp.pFast.Errs |= ErrTimestamp
		fp.pSlow.Errs |= ErrTimestamp
	}
	return took
}

// check fails t unless both ways' Traffic and Tables are alike.
func (fp *fastPair) check(t testing.TB, where string) {
	t.Helper()
	for _, m := range []map[uint16]*Traffic{fp.trFast, fp.trLean, fp.trProbe} {
		for _, tr := range m {
			tr.endRuns() // as the scan ends
		}
	}
	if !reflect.DeepEqual(fp.trFast, fp.trSlow) {
		t.Fatalf("%s: Traffic differs between the fast and the usual path", where)
	}
	if !reflect.DeepEqual(fp.tFast, fp.tSlow) {
		t.Fatalf("%s: Tables differ between the fast and the usual path", where)
	}
	if !reflect.DeepEqual(fp.trLean, fp.trFast) {
		t.Fatalf("%s: Traffic differs between the lean and the full Packet", where)
	}
	if !reflect.DeepEqual(fp.tLean, fp.tFast) {
		t.Fatalf("%s: Tables differ between the lean and the full Packet", where)
	}
	if !reflect.DeepEqual(fp.trProbe, fp.trFast) || !reflect.DeepEqual(fp.tProbe, fp.tFast) {
		t.Fatalf("%s: Traffic or Tables differ between the lean Packet with the probe's fields and the full Packet", where)
	}
	if !reflect.DeepEqual(fp.sProbe, fp.sFast) {
		t.Fatalf("%s: the merged probe's account differs between the lean Packet with its fields and the full Packet:\n%+v\nwant\n%+v",
			where, fp.sProbe, fp.sFast)
	}
}

// probeStep gives the merged probe's account s the frame rec decoded by d into p (before Observe, while
// the fast path's fingerprint is d's), as scanProbe.frame does.
func probeStep(s *probeState, d *Decoder, rec *Record, p *Packet) {
	if rec.LinkType != LinkEthernet {
		return // (the probe ends at such a frame)
	}
	fp := d.fastLoose
	if !d.fastDone {
		fp, _ = Fingerprint(p)
	}
	s.add(p, fp)
	s.hop(p, rec.Ts, fp)
}

// probeFieldsOf is what the merged probe (probeState.add and hop, mergedKind) reads of a frame's
// Packet.
type probeFieldsOf struct {
	HasEth, HasARP, HasWG, HasICMP bool
	Src, Dst                       [6]byte
	Encap                          Encap
	Errs                           Err
	Version, TTL, OuterTTL         uint8
	InSrc, InDst                   [16]byte
	Kind                           int
	Pod                            [6]byte
	Link6                          bool
}

// probeView returns what the merged probe reads of p.
func probeView(p *Packet) probeFieldsOf {
	v := probeFieldsOf{HasEth: p.HasEth, HasARP: p.HasARP, HasWG: p.HasWG, HasICMP: p.HasICMP && p.Inner.Version == 6,
		Src: p.SrcMAC, Dst: p.DstMAC, Encap: p.Encap, Errs: p.Errs, Version: p.Inner.Version, TTL: p.Inner.TTL,
		OuterTTL: p.Outer.TTL, InSrc: p.Inner.Src, InDst: p.Inner.Dst, Link6: linkScope6(p) || gatewayND(p)}
	v.Kind, v.Pod = mergedKind(p)
	return v
}

// labRecords calls fn with every record of the lab capture at path.
func labRecords(t testing.TB, path string, fn func(rec *Record)) {
	t.Helper()
	r, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rec Record
	for {
		err := r.Next(&rec)
		var re *RecordError
		switch {
		case errors.As(err, &re):
			continue
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			t.Fatalf("%s: %v", path, err)
		}
		fn(&rec)
	}
}

// TestFastPathLikeSlow decodes every frame of every lab capture both ways, frame after frame with one
// pair of Decoders per file (so that the source and header-context caches carry over as in the scan):
// the fast path must give what the usual one gives, and take most frames of the usual shape.
func TestFastPathLikeSlow(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/*/*.pcap*")
	if len(paths) < 100 {
		t.Fatalf("%d lab captures", len(paths))
	}
	nFast, n := 0, 0
	encapFast, vxlanFast, cookedFast := 0, 0, 0
	for _, path := range paths {
		fp := newFastPair(Options{})
		labRecords(t, path, func(rec *Record) {
			if !fp.step(t, path, rec) {
				return
			}
			switch {
			case fp.pFast.Encap == EncapIPIP:
				encapFast++
			case fp.pFast.Encap == EncapVXLAN:
				vxlanFast++
			}
			if rec.LinkType == LinkSLL2 {
				cookedFast++
			}
		})
		fp.check(t, path)
		nFast += fp.nFast
		n += fp.n
	}
	t.Logf("%d of %d lab frames took the fast path", nFast, n)
	// The lab's frames are mostly of the usual shape; many are not (WireGuard, ARP, IPv6, checksums left
	// for offload).
	if nFast < n/4 || nFast == n {
		t.Fatalf("%d of %d lab frames took the fast path", nFast, n)
	}
	if encapFast == 0 {
		t.Fatalf("no IP-in-IP frame took the fast path")
	}
	// The lab's -i any captures (cooked v2) and VXLAN packets (TestFastPathOtherShapes tries cooked v1
	// and VLAN tags, which the lab does not capture).
	t.Logf("%d VXLAN and %d cooked v2 frames took the fast path", vxlanFast, cookedFast)
	if vxlanFast < 40 || cookedFast < 1000 {
		t.Fatalf("%d VXLAN and %d cooked v2 lab frames took the fast path", vxlanFast, cookedFast)
	}
}

// fastLinks are the link types FuzzFastPath tries.
var fastLinks = [...]LinkType{LinkEthernet, LinkRaw, LinkIPv4, LinkSLL2, LinkLinuxSLL}

// fixChecksums rewrites, in place, the checksums of the IPv4 headers (an IP-in-IP or VXLAN outer
// one's too) and of the innermost TCP, UDP or ICMP segment of frame b of link type link (Ethernet with
// VLAN tags, cooked v1 or v2, raw IPv4), and a VXLAN packet's outer UDP checksum when it is not zero,
// so that mutated frames still reach the fast path.
func fixChecksums(link LinkType, b []byte) {
	switch link {
	case LinkEthernet:
		fixEthernet(b)
	case LinkLinuxSLL:
		if len(b) >= 16 && binary.BigEndian.Uint16(b[14:16]) == 0x0800 {
			fixIPv4(b[16:])
		}
	case LinkSLL2:
		if len(b) >= 20 && binary.BigEndian.Uint16(b[0:2]) == 0x0800 {
			fixIPv4(b[20:])
		}
	case LinkRaw, LinkIPv4:
		fixIPv4(b)
	}
}

// fixEthernet is fixChecksums of an Ethernet frame.
func fixEthernet(b []byte) {
	if len(b) < 14 {
		return
	}
	et, rest, ok := vlans(b[12:], nil)
	if ok && et == 0x0800 {
		fixIPv4(rest)
	}
}

// fixIPv4 is fixChecksums of the IPv4 packet at the start of b.
func fixIPv4(b []byte) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || len(b) < ihl {
		return
	}
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:12], ^fold(sum16(0, b[:ihl])))
	tl := int(binary.BigEndian.Uint16(b[2:4]))
	if tl < ihl || tl > len(b) {
		return
	}
	seg := b[ihl:tl]
	proto := b[9]
	var off int
	switch proto {
	case 4:
		fixIPv4(seg)
		return
	case 6:
		off = 16
	case 17:
		off = 6
		if len(seg) >= 30 && binary.BigEndian.Uint16(seg[2:4]) == DefaultVXLANPort {
			fixEthernet(seg[16:])
			if seg[6] == 0 && seg[7] == 0 {
				return // no outer checksum: keep it so
			}
		}
	case 1:
		off = 2
	default:
		return
	}
	if len(seg) < off+2 {
		return
	}
	var s uint64
	if proto != 1 {
		s = uint64(binary.BigEndian.Uint32(b[12:16])) + uint64(binary.BigEndian.Uint32(b[16:20])) +
			uint64(proto) + uint64(len(seg))
	}
	seg[off], seg[off+1] = 0, 0
	c := ^fold(sum16(s, seg))
	if c == 0 && proto == 17 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(seg[off:], c)
}

// FuzzFastPath decodes arbitrary frames (the lab's, mutated; with their checksums made right again when
// fix is set) both ways, one after the other as the scan does: the frame, the frame with byte flip
// changed, the frame again (the second and third through the Decoders' caches and, when they keep
// their shape, into a Packet the fast path does not reset). The fast path must give what the usual
// one gives.
func FuzzFastPath(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/*/*.pcap*")
	for _, path := range paths {
		k := 0
		labRecords(f, path, func(rec *Record) {
			if k++; k <= 6 {
				for i, l := range fastLinks {
					if l == rec.LinkType {
						f.Add(uint8(i), k%2 == 0, append([]byte(nil), rec.Data...), uint16(k*7))
					}
				}
			}
		})
	}
	// The lab's first Ethernet frames, made into the other shapes the fast path takes (and the ones
	// next to them).
	for _, path := range paths[:min(len(paths), 12)] {
		k := 0
		labRecords(f, path, func(rec *Record) {
			if rec.LinkType != LinkEthernet || len(rec.Data) < 14 || len(rec.Data) < rec.OrigLen || k >= 4 {
				return
			}
			k++
			for _, sh := range otherShapes() {
				for i, l := range fastLinks {
					if l == sh.link {
						f.Add(uint8(i), k%2 == 0, sh.f(rec.Data, k), uint16(k*13))
					}
				}
			}
		})
	}
	for _, b := range vxlanSeeds(f) {
		for i, l := range fastLinks {
			if l == b.link {
				f.Add(uint8(i), b.k%2 == 0, b.data, uint16(b.k*11))
			}
		}
	}
	for _, fr := range fxFrames(f) {
		for i, l := range fastLinks {
			if l == fr.link {
				f.Add(uint8(i), true, fr.data, uint16(40))
			}
		}
	}
	f.Fuzz(func(t *testing.T, link uint8, fix bool, data []byte, flip uint16) {
		lt := fastLinks[int(link&0x7f)%len(fastLinks)]
		other := append([]byte(nil), data...)
		if len(other) > 0 {
			other[int(flip)%len(other)] ^= uint8(flip>>8) | 1
		}
		if fix {
			fixChecksums(lt, data)
			fixChecksums(lt, other)
		}
		orig := len(data)
		if link&0x80 != 0 {
			orig++ // snapped
		}
		// The frame whose timestamp is odd (the scan marks its Packet, ErrTimestamp): the first (a new
		// stretch of time), then the second (in order: addFast's own case).
		for odd := range 2 {
			fp := newFastPair(Options{})
			for i, b := range [][]byte{data, other, data} {
				rec := Record{Frame: uint32(i + 1), Ts: int64(i), LinkType: lt, Data: b, CapLen: len(b),
					OrigLen: max(orig, len(b)), FracOver: i == odd}
				fp.step(t, "fuzz", &rec)
			}
			fp.check(t, "fuzz")
		}
	})
}

// Nothing reads a lean Packet's TCP options, so a frame with options (well formed) stays on fastUsual,
// which does not write them: after a frame of its shape, it is not handed to fastFrame (which writes
// them, tcpOptions). The lab's SYNs and timestamped segments of the shapes fastUsual takes (written
// lean), each decoded twice in a row, the options written by the first decode (if any) cleared before
// the second.
func TestFastUsualTCPOptions(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/*/*.pcap")
	n := 0
	for _, path := range paths {
		d := NewDecoder(Options{leanPacket: true}, NewTables(), 0)
		d.mergeChecked = true
		var p Packet
		var o Observation
		labRecords(t, path, func(rec *Record) {
			d.decodeReusedObs(rec, &p)
			d.Observe(rec, &p, &o)
			p.TCP = TCP{}            // (no part of a lean Packet's shape)
			early := d.sumFirst != 0 // (after a failed checksum, the next frames are fastFrame's: sumEarly)
			d.decodeReusedObs(rec, &p)
			took := d.fastDone
			d.Observe(rec, &p, &o)
			if !took || early || o.Proto != 6 || o.HdrLen <= 40 || d.fastShape&shapeLean == 0 { // (a cooked, VLAN-tagged or VXLAN frame is fastFrame's)
				return
			}
			n++
			if p.TCP != (TCP{}) {
				t.Fatalf("%s frame %d: a TCP segment with options (header %d bytes) after one of its shape went to fastFrame: %+v",
					path, rec.Frame, o.HdrLen-20, p.TCP)
			}
		})
	}
	if n < 100 {
		t.Fatalf("%d lab TCP segments with options took the fast path", n)
	}
}

// payloadTail returns the payload words of fastFingerprint (the first min(payloadHashBytes, n) bytes
// of the payload, zero-padded) of a payload of n < payloadHashBytes bytes at the end of w (at least 16
// bytes long), without a copy: the window is the last 16 bytes of w, shifted down.
func payloadTail(w []byte, n int) (lo, hi uint64) {
	q := w[len(w)-16:]
	lo, hi = binary.LittleEndian.Uint64(q[0:8]), binary.LittleEndian.Uint64(q[8:16])
	s := uint(16-n) * 8 // 8 to 128: a shift of 64 or more gives 0
	return lo>>s | hi<<(64-s) | hi>>(s-64), hi >> s
}

// TestPayloadShort holds payloadShort (fastUsual's payload words for fewer than payloadHashBytes
// bytes) to payloadTail (its model, the last 16 bytes shifted down) and to the payload zero-padded,
// for every length of the payload from 0 to 15 at the end of buffers of 8 to 64 bytes, random bytes.
func TestPayloadShort(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for l := 8; l <= 64; l++ {
		for n := 0; n < payloadHashBytes && n <= l; n++ {
			for range 20 {
				w := make([]byte, l)
				rng.Read(w)
				var pad [16]byte
				copy(pad[:], w[l-n:])
				wantLo, wantHi := binary.LittleEndian.Uint64(pad[:8]), binary.LittleEndian.Uint64(pad[8:])
				lo, hi := payloadShort(w, l-n, n)
				if lo != wantLo || hi != wantHi {
					t.Fatalf("payloadShort(% x, %d, %d) = %#x, %#x, want %#x, %#x", w, l-n, n, lo, hi, wantLo, wantHi)
				}
				if l >= 16 {
					if lo, hi := payloadTail(w, n); lo != wantLo || hi != wantHi {
						t.Fatalf("payloadTail(% x, %d) = %#x, %#x, want %#x, %#x", w, n, lo, hi, wantLo, wantHi)
					}
				}
			}
		}
	}
}

// TestFastUsualTunnelPorts: fastUsual hands a UDP datagram from or to the WireGuard port, or to the
// VXLAN port (here not a VXLAN packet), to the usual path, and takes one between other ports (each
// with its checksums right), with the default ports and with others (Options.VXLANPort,
// WireGuardPort), which it compares in network order (Decoder.vxlanWire, wgWire).
func TestFastUsualTunnelPorts(t *testing.T) {
	frame := func(sp, dp uint16) []byte {
		b := make([]byte, 14+20+8+40)
		b[12], b[13] = 0x08, 0x00
		ip := b[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:4], uint16(len(ip)))
		copy(ip[12:20], []byte{10, 0, 0, 1, 10, 0, 1, 2})
		binary.BigEndian.PutUint16(ip[20:22], sp)
		binary.BigEndian.PutUint16(ip[22:24], dp)
		binary.BigEndian.PutUint16(ip[24:26], uint16(len(ip)-20))
		for i := 28; i < len(ip); i++ {
			ip[i] = byte(i * 7)
		}
		fixEthernet(b)
		return b
	}
	for _, ports := range [][2]uint16{{0, 0}, {DefaultVXLANPort, DefaultWireGuardPort}, {8472, 51821}, {0x1234, 0x3412}} {
		opts := Options{VXLANPort: ports[0], WireGuardPort: ports[1], leanPacket: true}
		vx, wg := opts.tunnelPorts()
		for _, c := range []struct {
			sp, dp uint16
			take   bool
		}{
			{40000, 53, true}, {53, 40000, true}, {wg, 40000, false}, {40000, wg, false}, {40000, vx, false},
			{vx, 40000, true}, {bits.ReverseBytes16(wg), 40000, true}, {40000, bits.ReverseBytes16(vx), true},
			{40000, bits.ReverseBytes16(wg), true},
		} {
			if c.sp == wg || c.dp == wg || c.dp == vx { // (a port byte-swapped may be the other's)
				c.take = false
			}
			d := NewDecoder(opts, NewTables(), 0)
			d.mergeChecked = true
			data := frame(c.sp, c.dp)
			rec := &Record{LinkType: LinkEthernet, Data: data, OrigLen: len(data)}
			var p Packet
			d.decodeReusedObs(rec, &p) // the first frame sets the shape; the second is fastUsual's own
			if took := d.fastUsual(rec, &p, &d.fastObs); took != c.take {
				t.Errorf("ports %v: UDP %d > %d: fastUsual took it %v, want %v", ports, c.sp, c.dp, took, c.take)
			}
		}
	}
}
