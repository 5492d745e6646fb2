package decode

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// wgMsg builds a WireGuard message of n bytes (n ≥ 4): type typ, zero reserved bytes, then the
// indexes and counter little-endian as on the wire, then filler bytes.
//
// A transport message with receiver 0x11223344 and counter 7, padded inner length 16:
//
//	04 00 00 00 44 33 22 11  07 00 00 00 00 00 00 00   type, reserved, receiver, counter
//	…16 bytes of ciphertext… …16-byte tag…
func wgMsg(typ uint8, idx1, idx2 uint32, counter uint64, n int) []byte {
	b := make([]byte, max(n, 16))
	b[0] = typ
	switch typ {
	case WGInitiation:
		binary.LittleEndian.PutUint32(b[4:8], idx1)
	case WGResponse:
		binary.LittleEndian.PutUint32(b[4:8], idx1)
		binary.LittleEndian.PutUint32(b[8:12], idx2)
	default: // cookie reply, transport, unknown types
		binary.LittleEndian.PutUint32(b[4:8], idx1)
		binary.LittleEndian.PutUint64(b[8:16], counter)
	}
	for i := 16; i < len(b); i++ {
		b[i] = byte(i * 7)
	}
	return b[:n]
}

// wgFrame wraps msg in Ethernet, IPv4 (id, ttl) and UDP sport → dport between two nodes' eth0.
func wgFrame(tb testing.TB, sport, dport uint16, id uint16, ttl uint8, msg []byte) []byte {
	tb.Helper()
	ip := fxIPv4(fxNodeA, fxNodeB, layers.IPProtocolUDP, ttl, id)
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := u.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	return fxSerialize(tb, fxEth(fxNodeAMAC, fxNodeBMAC, layers.EthernetTypeIPv4), ip, u, gopacket.Payload(msg))
}

// wgDecode decodes frame (captured up to snap bytes; 0: whole) with opts.
func wgDecode(t *testing.T, opts Options, frame []byte, snap int) (Packet, Observation, *Tables) {
	t.Helper()
	data := frame
	if snap > 0 && snap < len(frame) {
		data = frame[:snap]
	}
	tb := NewTables()
	var p Packet
	var o Observation
	NewDecoder(opts, tb, 0).Decode(&Record{Frame: 1, LinkType: LinkEthernet, Data: data, CapLen: len(data),
		OrigLen: len(frame)}, &p, &o)
	return p, o, tb
}

func TestWireGuardMessages(t *testing.T) {
	const port = DefaultWireGuardPort
	for _, c := range []struct {
		name         string
		sport, dport uint16
		msg          []byte
		snap         int
		opts         Options
		want         WireGuard // HasWG when Type != 0
		padded       int
		keepalive    bool
		errs         Err
	}{
		{name: "initiation", sport: port, dport: port, msg: wgMsg(1, 0xb1b5912e, 0, 0, 148),
			want: WireGuard{Type: 1, Sender: 0xb1b5912e, Len: 148}},
		{name: "response", sport: port, dport: port, msg: wgMsg(2, 0xeb082c34, 0xb1b5912e, 0, 92),
			want: WireGuard{Type: 2, Sender: 0xeb082c34, Receiver: 0xb1b5912e, Len: 92}},
		{name: "cookie reply", sport: port, dport: port, msg: wgMsg(3, 0x01020304, 0, 0, 64),
			want: WireGuard{Type: 3, Receiver: 0x01020304, Len: 64}},
		{name: "transport", sport: port, dport: port, msg: wgMsg(4, 0xeb082c34, 0, 1<<40|7, 32+96),
			want: WireGuard{Type: 4, Receiver: 0xeb082c34, Counter: 1<<40 | 7, Len: 128}, padded: 96},
		{name: "keepalive", sport: port, dport: port, msg: wgMsg(4, 0xeb082c34, 0, 9, 32),
			want: WireGuard{Type: 4, Receiver: 0xeb082c34, Counter: 9, Len: 32}, keepalive: true},
		{name: "to the port only", sport: 40000, dport: port, msg: wgMsg(4, 5, 0, 6, 48),
			want: WireGuard{Type: 4, Receiver: 5, Counter: 6, Len: 48}, padded: 16},
		{name: "from the port only", sport: port, dport: 40000, msg: wgMsg(4, 5, 0, 6, 48),
			want: WireGuard{Type: 4, Receiver: 5, Counter: 6, Len: 48}, padded: 16},
		{name: "configured port", sport: 6000, dport: 6000, msg: wgMsg(4, 5, 0, 6, 48), opts: Options{WireGuardPort: 6000},
			want: WireGuard{Type: 4, Receiver: 5, Counter: 6, Len: 48}, padded: 16},
		{name: "default port when another is configured", sport: port, dport: port, msg: wgMsg(4, 5, 0, 6, 48),
			opts: Options{WireGuardPort: 6000}},
		{name: "other port", sport: 53000, dport: 53, msg: wgMsg(4, 5, 0, 6, 48)},
		// Captured up to the counter's 4th byte: header cut, the message still counted as sent.
		{name: "transport snapped in the header", sport: port, dport: port, msg: wgMsg(4, 5, 0, 6, 48),
			snap: 14 + 20 + 8 + 12, errs: ErrTruncated | ErrSnapped},
		{name: "transport snapped after the header", sport: port, dport: port, msg: wgMsg(4, 5, 0, 6, 48),
			snap: 14 + 20 + 8 + 16, errs: ErrSnapped, want: WireGuard{Type: 4, Receiver: 5, Counter: 6, Len: 48}, padded: 16},
		{name: "snapped in the type", sport: port, dport: port, msg: wgMsg(1, 5, 0, 0, 148),
			snap: 14 + 20 + 8 + 2, errs: ErrTruncated | ErrSnapped},
		{name: "transport not padded to 16", sport: port, dport: port, msg: wgMsg(4, 5, 0, 6, 40), errs: ErrBadWireGuard},
		{name: "transport shorter than a keepalive", sport: port, dport: port, msg: wgMsg(4, 5, 0, 6, 16), errs: ErrBadWireGuard},
		{name: "initiation of 100 bytes", sport: port, dport: port, msg: wgMsg(1, 5, 0, 0, 100), errs: ErrBadWireGuard},
		{name: "response of 148 bytes", sport: port, dport: port, msg: wgMsg(2, 5, 6, 0, 148), errs: ErrBadWireGuard},
		{name: "cookie reply of 65 bytes", sport: port, dport: port, msg: wgMsg(3, 5, 0, 0, 65), errs: ErrBadWireGuard},
		{name: "unknown type", sport: port, dport: port, msg: wgMsg(9, 5, 0, 6, 48), errs: ErrBadWireGuard},
		{name: "reserved bytes set", sport: port, dport: port, msg: append([]byte{4, 0, 1, 0}, wgMsg(4, 5, 0, 6, 48)[4:]...),
			errs: ErrBadWireGuard},
		{name: "three bytes", sport: port, dport: port, msg: []byte{4, 0, 0}, errs: ErrBadWireGuard},
		{name: "empty", sport: port, dport: port, msg: nil, errs: ErrBadWireGuard},
		{name: "bad message from the port only is plain UDP", sport: port, dport: 40000, msg: wgMsg(9, 5, 0, 6, 48)},
	} {
		t.Run(c.name, func(t *testing.T) {
			frame := wgFrame(t, c.sport, c.dport, 0x1234, 64, c.msg)
			p, o, tb := wgDecode(t, c.opts, frame, c.snap)
			if p.Errs != c.errs {
				t.Errorf("errors %v, want %v", p.Errs.Strings(), c.errs.Strings())
			}
			if !p.HasUDP {
				t.Fatal("no UDP")
			}
			if want := c.want.Type != 0; p.HasWG != want || p.WG != c.want {
				t.Fatalf("HasWG %v %+v, want %v %+v", p.HasWG, p.WG, want, c.want)
			}
			if got := p.WG.PaddedLen(); got != c.padded {
				t.Errorf("padded length %d, want %d", got, c.padded)
			}
			if got := p.WG.Keepalive(); got != c.keepalive {
				t.Errorf("keepalive %v, want %v", got, c.keepalive)
			}
			// The Observation: the message type, receiver index and counter.
			ctx := tb.Ctx(o.Ctx)
			if ctx.WGType != c.want.Type || ctx.WGReceiver != c.want.Receiver {
				t.Errorf("context %+v, want type %d receiver %#x", ctx, c.want.Type, c.want.Receiver)
			}
			switch c.want.Type {
			case WGTransport:
				if got := ctx.WGCounter(o.Seq); got != c.want.Counter {
					t.Errorf("counter %d from the Observation, want %d", got, c.want.Counter)
				}
			case WGInitiation, WGResponse:
				if o.Seq != c.want.Sender {
					t.Errorf("Seq %#x, want the sender index %#x", o.Seq, c.want.Sender)
				}
			}
			if c.want.Type != 0 && o.PayloadLen() != c.want.Len {
				t.Errorf("Observation payload length %d, want the message length %d", o.PayloadLen(), c.want.Len)
			}
			damaged := c.errs&(ErrTruncated|ErrBadWireGuard) != 0
			if got := o.Flags&(FlagTruncated|FlagError) != 0; got != damaged {
				t.Errorf("flags %#x: damaged %v, want %v", o.Flags, got, damaged)
			}
		})
	}
}

// A transport message's identity is (receiver index, counter): the same message on the sender's and
// the receiver's eth0 (other MACs and TTL) has one fingerprint, loose and exact; any other counter,
// receiver or length, and any non-WireGuard datagram with the same bytes, has another.
func TestWireGuardFingerprint(t *testing.T) {
	const port = DefaultWireGuardPort
	fp := func(frame []byte, snap int) (uint64, uint64, Observation) {
		p, o, _ := wgDecode(t, Options{}, frame, snap)
		return p.Loose, o.Exact(p.Loose), o
	}
	msg := wgMsg(4, 0xeb082c34, 0, 41, 128)
	sent := wgFrame(t, port, port, 0x1234, 64, msg)
	recv := wgFrame(t, port, port, 0x1234, 61, msg)
	copy(recv[0:12], append(append([]byte(nil), fxBcast...), fxNodeBMAC...)) // other MACs
	ls, es, os1 := fp(sent, 0)
	lr, er, _ := fp(recv, 0)
	if ls != lr || es != er {
		t.Fatalf("sender's and receiver's copies differ: loose %#x %#x, exact %#x %#x", ls, lr, es, er)
	}
	if os1.Flags&FlagNoPayloadHash != 0 {
		t.Errorf("a whole transport message is flagged without payload hash")
	}
	// Captured only to the end of the WireGuard header: still the same identity.
	if l, e, o := fp(sent, 14+20+8+16); l != ls || e != es || o.Flags&FlagNoPayloadHash != 0 {
		t.Errorf("snapped copy: loose %#x exact %#x flags %#x, want %#x %#x without FlagNoPayloadHash", l, e, o.Flags, ls, es)
	}
	others := map[string][]byte{
		"next counter":      wgFrame(t, port, port, 0x1234, 64, wgMsg(4, 0xeb082c34, 0, 42, 128)),
		"other receiver":    wgFrame(t, port, port, 0x1234, 64, wgMsg(4, 0xeb082c35, 0, 41, 128)),
		"other length":      wgFrame(t, port, port, 0x1234, 64, wgMsg(4, 0xeb082c34, 0, 41, 144)),
		"counter high bits": wgFrame(t, port, port, 0x1234, 64, wgMsg(4, 0xeb082c34, 0, 1<<32|41, 128)),
		"not WireGuard":     wgFrame(t, 40000, 40001, 0x1234, 64, msg),
		"initiation":        wgFrame(t, port, port, 0x1234, 64, wgMsg(1, 0xeb082c34, 0, 0, 148)),
	}
	seen := map[uint64]string{ls: "the message"}
	for name, f := range others {
		l, _, _ := fp(f, 0)
		if prev, ok := seen[l]; ok {
			t.Errorf("%s has the loose fingerprint of %s", name, prev)
		}
		seen[l] = name
	}
}

// Every WireGuard problem counts the frame as damaged in the scan's summary.
func TestWireGuardDamagedCounted(t *testing.T) {
	const port = DefaultWireGuardPort
	frames := [][]byte{
		wgFrame(t, port, port, 1, 64, wgMsg(4, 5, 0, 6, 48)),  // good
		wgFrame(t, port, port, 2, 64, wgMsg(4, 5, 0, 7, 40)),  // not padded
		wgFrame(t, port, port, 3, 64, wgMsg(1, 5, 0, 0, 100)), // absurd initiation length
		wgFrame(t, port, port, 4, 64, wgMsg(4, 5, 0, 8, 48)),  // good
	}
	path := filepath.Join(t.TempDir(), "node-a-eth0.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if err := w.WritePacket(gopacket.CaptureInfo{CaptureLength: len(fr), Length: len(fr)}, fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var counters []uint64
	tb := NewTables()
	fi := ScanFile(path, 0, Options{}, tb, func(_ *Record, p *Packet, _ *Observation) {
		if p.HasWG {
			counters = append(counters, p.WG.Counter)
		}
	})
	if fi.Err != nil {
		t.Fatal(fi.Err)
	}
	if fi.Records != 4 || fi.Damaged != 2 {
		t.Errorf("%d records, %d damaged; want 4, 2", fi.Records, fi.Damaged)
	}
	if !slices.Equal(counters, []uint64{6, 8}) {
		t.Errorf("counters %v, want [6 8]", counters)
	}
}

// wgSeeds are WireGuard frames for the fuzz tests' seed corpora: a transport message, a handshake
// initiation, a response, a cookie reply, a keepalive, a transport message cut inside its header and
// one of an impossible length.
func wgSeeds(tb testing.TB) []fxFrame {
	const port = DefaultWireGuardPort
	cut := wgFrame(tb, port, port, 0x5002, 64, wgMsg(WGTransport, 0xeb082c34, 0, 42, 128))
	return []fxFrame{
		{name: "wg-transport", link: LinkEthernet, data: wgFrame(tb, port, port, 0x5000, 64, wgMsg(WGTransport, 0xeb082c34, 0, 41, 128))},
		{name: "wg-initiation", link: LinkEthernet, data: wgFrame(tb, port, port, 0x5001, 64, wgMsg(WGInitiation, 0xb1b5912e, 0, 0, 148))},
		{name: "wg-response", link: LinkEthernet, data: wgFrame(tb, port, port, 0x5004, 64, wgMsg(WGResponse, 0xeb082c34, 0xb1b5912e, 0, 92))},
		{name: "wg-cookie", link: LinkEthernet, data: wgFrame(tb, port, port, 0x5005, 64, wgMsg(WGCookie, 0xb1b5912e, 0, 0, 64))},
		{name: "wg-keepalive", link: LinkEthernet, data: wgFrame(tb, port, port, 0x5006, 64, wgMsg(WGTransport, 0xeb082c34, 0, 44, 32))},
		{name: "wg-snapped", link: LinkEthernet, data: cut[:14+20+8+12], orig: len(cut)},
		{name: "wg-bad-length", link: LinkEthernet, data: wgFrame(tb, port, port, 0x5003, 64, wgMsg(WGTransport, 0xeb082c34, 0, 43, 40))},
	}
}

// A router that fragments a transport message (WireGuard sends without DF) passes its header in the
// first fragment: that fragment has the whole message's fingerprint, loose and exact, and is flagged a
// fragment with its IP id as Seq; the later fragment, without UDP header, has a fingerprint of its own.
func TestWireGuardFirstFragment(t *testing.T) {
	const port = DefaultWireGuardPort
	whole := wgFrame(t, port, port, 0x27bb, 64, wgMsg(4, 0xeb082c34, 0, 41, 1472))
	binary.BigEndian.PutUint16(whole[14+6:], 0) // no DF, as WireGuard sends
	fxIPv4Csum(whole[14:])
	first := append([]byte(nil), whole[:14+1396]...)
	binary.BigEndian.PutUint16(first[14+2:], 1396)
	binary.BigEndian.PutUint16(first[14+6:], 0x2000) // MF, offset 0
	fxIPv4Csum(first[14:])
	second := append(append([]byte(nil), whole[:14+20]...), whole[14+1396:]...)
	binary.BigEndian.PutUint16(second[14+2:], uint16(20+len(whole)-14-1396))
	binary.BigEndian.PutUint16(second[14+6:], 1376/8) // offset 1376, last fragment
	fxIPv4Csum(second[14:])

	pw, ow, tw := wgDecode(t, Options{}, whole, 0)
	pf, of, tb := wgDecode(t, Options{}, first, 0)
	ps, os2, _ := wgDecode(t, Options{}, second, 0)
	if pf.Loose != pw.Loose || of.Exact(pf.Loose) != ow.Exact(pw.Loose) {
		t.Errorf("first fragment: loose %#x exact %#x, the message's %#x %#x", pf.Loose, of.Exact(pf.Loose), pw.Loose, ow.Exact(pw.Loose))
	}
	if of.Flags&(FlagFragment|FlagLaterFragment) != FlagFragment || of.Seq != 0x27bb {
		t.Errorf("first fragment: flags %#x seq %#x, want FlagFragment and the IP id", of.Flags, of.Seq)
	}
	if c := tb.Ctx(of.Ctx); c.WGType != WGTransport || c.WGReceiver != 0xeb082c34 || pf.WG.Len != 1472 {
		t.Errorf("first fragment: context %+v, message length %d", c, pf.WG.Len)
	}
	c := tb.Ctx(of.Ctx)
	if n, ok := tb.WGFragCounter(&of, 1, &c); !ok || n != 41 {
		t.Errorf("first fragment: counter %d %v, want 41 kept by the tables", n, ok)
	}
	if _, ok := tw.WGFragCounter(&ow, 1, &c); ok {
		t.Error("the whole message has a fragment's counter")
	}
	if ps.Loose == pw.Loose || os2.Flags&FlagLaterFragment == 0 || ps.HasWG {
		t.Errorf("later fragment: loose %#x (message %#x), flags %#x, WireGuard %v", ps.Loose, pw.Loose, os2.Flags, ps.HasWG)
	}
}

// decodeFast given port 0 (what ReadFrame passes from zero Options) decodes WireGuard on the default
// port, and leaves other ports alone.
func TestWireGuardPortZero(t *testing.T) {
	msg := wgMsg(WGTransport, 5, 0, 6, 48)
	for _, c := range []struct {
		sport, dport uint16
		want         bool
	}{{DefaultWireGuardPort, 40000, true}, {40000, DefaultWireGuardPort, true}, {40000, 53, false}} {
		var p Packet
		frame := wgFrame(t, c.sport, c.dport, 1, 64, msg)
		decodeFast(LinkEthernet, frame, len(frame), 0, 0, &p)
		if p.HasWG != c.want || (c.want && p.WG.Counter != 6) {
			t.Errorf("%d → %d: HasWG %v (%+v), want %v", c.sport, c.dport, p.HasWG, p.WG, c.want)
		}
	}
}
