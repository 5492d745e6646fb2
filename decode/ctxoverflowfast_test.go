package decode

import (
	"encoding/binary"
	"path/filepath"
	"testing"
)

// fillCtx interns filler header contexts into t until room are left.
func fillCtx(t *Tables, room int) {
	for i := len(t.ctx); i < ctxOverflow-room; i++ {
		t.InternCtx(HdrCtx{Encap: EncapIPIP, OuterV: 4, OuterSrc: [16]byte{10, 0, byte(i >> 8), byte(i)}})
	}
}

// TestFastPathCtxOverflow holds the fast paths to the usual one with a header-context table that is
// full or nearly: no fast path takes a frame whose context did not fit (ctxOverflow), as the scan
// tests for it on the usual path's frames alone, and the Observations, the Packets, the counts of
// contexts that overflowed and the Traffic are the usual path's (fastPair.step, check). The frames:
// a frame whose context overflows, one without a context of the same shape, and the first one's
// context again (fastUsual's last context, found by its key: it took such a frame before), then the
// lab's IP-in-IP and VXLAN captures (one context kept, the others not).
func TestFastPathCtxOverflow(t *testing.T) {
	frame := func(tos byte, sport uint16) []byte {
		b := make([]byte, 14+20+8+40)
		b[12], b[13] = 0x08, 0x00
		ip := b[14:]
		ip[0], ip[1], ip[8], ip[9] = 0x45, tos, 64, 17
		binary.BigEndian.PutUint16(ip[2:4], uint16(len(ip)))
		copy(ip[12:20], []byte{10, 0, 0, 1, 10, 0, 1, 2})
		binary.BigEndian.PutUint16(ip[20:22], sport)
		binary.BigEndian.PutUint16(ip[22:24], 53)
		binary.BigEndian.PutUint16(ip[24:26], uint16(len(ip)-20))
		for i := 28; i < len(ip); i++ {
			ip[i] = byte(i * 7)
		}
		fixEthernet(b)
		return b
	}
	newPair := func(room int) *fastPair {
		fp := newFastPair(Options{})
		for _, tb := range []*Tables{fp.tFast, fp.tSlow, fp.tLean, fp.tProbe} {
			fillCtx(tb, room)
		}
		return fp
	}
	// step is fp.step, failing t when the fast path took a frame whose context overflowed.
	step := func(fp *fastPair, where string, rec *Record) {
		t.Helper()
		if fp.step(t, where, rec) && fp.fast.fastObs.Ctx == ctxOverflow {
			t.Fatalf("%s frame %d: the fast path took a frame whose context did not fit", where, rec.Frame)
		}
	}
	fp := newPair(0)
	for i, tos := range []byte{4, 0, 4, 0, 4, 4, 8, 4, 0, 8, 0, 0} {
		data := frame(tos, uint16(40000+i%3))
		rec := &Record{Frame: uint32(i + 1), Ts: int64(i+1) * 1e6, LinkType: LinkEthernet, Data: data, CapLen: len(data), OrigLen: len(data)}
		step(fp, "synthetic", rec)
	}
	fp.check(t, "synthetic")
	if fp.tFast.CtxOverflow < 4 || fp.nFast < 4 {
		t.Fatalf("synthetic: %d contexts overflowed, %d frames fast", fp.tFast.CtxOverflow, fp.nFast)
	}
	for _, path := range []string{
		filepath.Join("..", "testdata", "lab", "scenarios", "healthy-ipip", "node-a-eth0.pcap"),
		filepath.Join("..", "testdata", "lab", "scenarios", "healthy-vxlan", "node-a-eth0.pcap"),
	} {
		fp := newPair(1)
		labRecords(t, path, func(rec *Record) { step(fp, path, rec) })
		fp.check(t, path)
		if fp.tFast.CtxOverflow == 0 || fp.nFast == 0 {
			t.Fatalf("%s: %d contexts overflowed, %d of %d frames fast", path, fp.tFast.CtxOverflow, fp.nFast, fp.n)
		}
	}
}
