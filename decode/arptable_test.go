package decode

import "testing"

// TestARPTableShares checks that identical ARP packets share one entry of the table (an ARP storm
// does not grow it), that distinct ones keep their own, and that past arpInterned distinct packets
// every index still reads back its packet.
func TestARPTableShares(t *testing.T) {
	tb := NewTables()
	req := ARP{Op: 1, SHA: [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}, SPA: [4]byte{10, 0, 0, 1}, TPA: CalicoGateway}
	rep := ARP{Op: 2, SHA: CalicoMAC, SPA: CalicoGateway, THA: req.SHA, TPA: req.SPA}
	d1, d2 := NewDecoder(Options{}, tb, 0), NewDecoder(Options{}, tb, 1)
	var idx []uint32
	for range 1000 {
		idx = append(idx, d1.internARP(req), d2.internARP(rep), tb.AddARP(req))
	}
	if got := len(tb.ARPAll()); got != 3 { // the zero entry, the request and the reply
		t.Errorf("after 3,000 copies of two packets the table holds %d entries, want 3", got)
	}
	for k, i := range idx {
		want := req
		if k%3 == 1 {
			want = rep
		}
		if tb.ARP(i) != want {
			t.Fatalf("index %d (packet %d) reads %+v, want %+v", i, k, tb.ARP(i), want)
		}
	}
	var many []uint32
	for n := range arpInterned + 10 {
		many = append(many, tb.AddARP(ARP{Op: 1, SPA: [4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}}))
	}
	for n, i := range many {
		if a := tb.ARP(i); a.SPA != [4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)} {
			t.Fatalf("distinct packet %d reads back %+v", n, a)
		}
	}
	if tb.AddARP(req) != idx[0] {
		t.Error("a packet stored before the table was full got a new index")
	}
}

// TestDecodeARPStorm decodes many copies of one ARP frame: every Observation reads its packet back,
// and the table holds one entry for them.
func TestDecodeARPStorm(t *testing.T) {
	frame := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0x08, 0x06, // Ethernet, ARP
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // Ethernet/IPv4, request
		0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 10, 0, 0, 1, // sender
		0, 0, 0, 0, 0, 0, 169, 254, 1, 1, // target: Calico's gateway
	}
	tb := NewTables()
	d := NewDecoder(Options{}, tb, 0)
	var p Packet
	var o Observation
	for k := range 500 {
		rec := Record{Data: frame, CapLen: len(frame), OrigLen: len(frame), LinkType: LinkEthernet, Frame: uint32(k + 1)}
		d.Decode(&rec, &p, &o)
		if o.Flags&FlagARP == 0 || tb.ARP(o.Seq) != p.ARP || p.ARP.TPA != CalicoGateway {
			t.Fatalf("frame %d: flags %#x, ARP %+v, table %+v", k+1, o.Flags, p.ARP, tb.ARP(o.Seq))
		}
	}
	if n := len(tb.ARPAll()); n != 2 {
		t.Errorf("500 copies of one ARP frame take %d table entries, want 2 (the zero one and it)", n)
	}
}
