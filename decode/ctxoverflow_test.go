package decode

import (
	"strings"
	"testing"
)

// When the header-context table is full, the frames whose context is not kept are reported: the
// first by frame number, then a count.
func TestHeaderContextOverflowIsReported(t *testing.T) {
	tb := NewTables()
	for i := 0; i < ctxOverflow; i++ {
		tb.InternCtx(HdrCtx{Encap: EncapIPIP, OuterV: 4, OuterSrc: [16]byte{10, 0, byte(i >> 8), byte(i)}})
	}
	if tb.InternCtx(HdrCtx{Encap: EncapIPIP, OuterV: 4, OuterSrc: [16]byte{11}}) != ctxOverflow || tb.CtxOverflow == 0 {
		t.Fatalf("a full table did not overflow: %d", tb.CtxOverflow)
	}
	fi := ScanFile("../testdata/lab/scenarios/healthy-ipip/node-a-eth0.pcap", 0, Options{}, tb, nil)
	if fi.Err != nil || fi.Records == 0 {
		t.Fatalf("scan: %v, %d records", fi.Err, fi.Records)
	}
	all := strings.Join(fi.Problems, "\n")
	if !strings.Contains(all, "65,535 distinct header contexts") || !strings.Contains(all, "frames in all have an outer header that was not kept") {
		t.Fatalf("overflow not reported:\n%s", all)
	}
}
