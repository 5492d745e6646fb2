package decode

import (
	"maps"
	"slices"
	"testing"
)

// FuzzObserve runs the whole per-frame path — decode, Observation, side tables, traffic accounting —
// on arbitrary frames of every link type: no panic, and the Observation points only at table entries
// that exist.
func FuzzObserve(f *testing.F) {
	for _, fr := range append(slices.Collect(maps.Values(fxFrames(f))), wgSeeds(f)...) {
		f.Add(uint16(fr.link), fr.data)
	}
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		tb := NewTables()
		d := NewDecoder(Options{}, tb, 0)
		var p Packet
		var o Observation
		var tr Traffic
		rec := Record{Frame: 1, LinkType: LinkType(link), Data: data, CapLen: len(data), OrigLen: len(data) + int(link%3)}
		d.Decode(&rec, &p, &o)
		tr.Add(rec.Ts, &p, p.Loose)
		if int(o.Source) >= len(tb.Sources()) {
			t.Fatalf("source %d of %d", o.Source, len(tb.Sources()))
		}
		if o.Flags&FlagIPv6 != 0 && (!tb.V6(o.Src).IsValid() || !tb.V6(o.Dst).IsValid()) {
			t.Fatalf("IPv6 addresses %d, %d not in the table", o.Src, o.Dst)
		}
		if o.Flags&FlagARP != 0 && tb.ARP(o.Seq) != p.ARP {
			t.Fatalf("ARP entry %d is not the frame's", o.Seq)
		}
		if o.Flags&FlagICMPError != 0 && tb.ICMPErr(o.Seq).Type != p.ICMP.Type {
			t.Fatalf("ICMP error entry %d is not the frame's", o.Seq)
		}
		if c := tb.Ctx(o.Ctx); c.Encap != p.Encap || (o.Ctx != 0 && c.VNI != p.VNI) {
			t.Fatalf("header context %d (%+v) is not the frame's", o.Ctx, c)
		}
		if c := tb.Ctx(o.Ctx); o.Ctx != ctxOverflow && (c.WGType != p.WG.Type || c.WGReceiver != p.WG.Receiver) {
			t.Fatalf("header context %d (%+v) does not hold the frame's WireGuard message %+v", o.Ctx, c, p.WG)
		}
		if c := tb.Ctx(o.Ctx); p.HasWG && p.WG.Type == WGTransport && o.Flags&FlagFragment == 0 && c.WGCounter(o.Seq) != p.WG.Counter {
			t.Fatalf("counter %d from the Observation, want %d", c.WGCounter(o.Seq), p.WG.Counter)
		}
		_ = o.Exact(p.Loose)
		_ = o.PayloadLen()
	})
}
