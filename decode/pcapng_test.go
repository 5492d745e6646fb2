package decode

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// ngBuf hand-builds pcapng files in either byte order.
type ngBuf struct {
	be bool
	b  []byte
}

func (w *ngBuf) order() binary.AppendByteOrder {
	if w.be {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// block appends a block: type, total length, body padded to 4 bytes, total length.
func (w *ngBuf) block(typ uint32, body []byte) *ngBuf {
	pad := (4 - len(body)%4) % 4
	n := uint32(12 + len(body) + pad)
	o := w.order()
	w.b = o.AppendUint32(w.b, typ)
	w.b = o.AppendUint32(w.b, n)
	w.b = append(w.b, body...)
	w.b = append(w.b, make([]byte, pad)...)
	w.b = o.AppendUint32(w.b, n)
	return w
}

// opt encodes one option, padded.
func (w *ngBuf) opt(code uint16, v []byte) []byte {
	o := w.order()
	b := o.AppendUint16(nil, code)
	b = o.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	return append(b, make([]byte, (4-len(v)%4)%4)...)
}

func (w *ngBuf) withOpts(body []byte, opts [][]byte) []byte {
	for _, o := range opts {
		body = append(body, o...)
	}
	if len(opts) > 0 {
		body = append(body, 0, 0, 0, 0)
	}
	return body
}

func (w *ngBuf) shb() *ngBuf {
	o := w.order()
	body := o.AppendUint32(nil, ngByteOrderMagic)
	body = o.AppendUint16(body, 1)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint64(body, math.MaxUint64)
	return w.block(ngSHB, body)
}

func (w *ngBuf) idb(link uint16, snap uint32, opts ...[]byte) *ngBuf {
	o := w.order()
	body := o.AppendUint16(nil, link)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint32(body, snap)
	return w.block(ngIDB, w.withOpts(body, opts))
}

func (w *ngBuf) epb(iface uint32, ts uint64, orig uint32, data []byte, opts ...[]byte) *ngBuf {
	o := w.order()
	body := o.AppendUint32(nil, iface)
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(data)))
	body = o.AppendUint32(body, orig)
	body = append(body, data...)
	body = append(body, make([]byte, (4-len(data)%4)%4)...)
	return w.block(ngEPB, w.withOpts(body, opts))
}

func (w *ngBuf) pb(iface uint16, ts uint64, orig uint32, data []byte) *ngBuf {
	o := w.order()
	body := o.AppendUint16(nil, iface)
	body = o.AppendUint16(body, 0) // drops
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(data)))
	body = o.AppendUint32(body, orig)
	return w.block(ngPB, append(body, data...))
}

func (w *ngBuf) spb(orig uint32, data []byte) *ngBuf {
	return w.block(ngSPB, append(w.order().AppendUint32(nil, orig), data...))
}

func (w *ngBuf) u64(v uint64) []byte { return w.order().AppendUint64(nil, v) }

// rdGoodNg returns well-formed pcapng files covering the format's variants.
func rdGoodNg() map[string][]byte {
	const us = 1764086400 * 1000000
	fx := map[string][]byte{}
	for _, be := range []bool{false, true} {
		w := &ngBuf{be: be}
		w.shb()
		w.idb(1, 65535, w.opt(2, []byte("eth0")), w.opt(3, []byte("underlay")))
		w.idb(101, 0, w.opt(2, []byte("tunl0")))
		w.idb(276, 262144, w.opt(2, []byte("any")), w.opt(9, []byte{6}))
		w.block(ngNRB, []byte{1, 0, 8, 0, 10, 0, 0, 5, 'a', 'b', 'c', 0, 0, 0, 0, 0})
		w.block(0x1234, []byte("unknown block type"))
		for i := range 12 {
			d := rdFrame(i, 42+7*i)
			w.epb(uint32(i%3), us+uint64(i)*1500, uint32(len(d)+i%2), d, w.opt(2, []byte{1, 0, 0, 0}))
			if i == 5 {
				o := w.order()
				isb := o.AppendUint32(nil, 0)
				isb = o.AppendUint32(isb, 0)
				isb = o.AppendUint32(isb, 12345)
				w.block(ngISB, isb)
			}
		}
		name := "le.pcapng"
		if be {
			name = "be.pcapng"
		}
		fx[name] = w.b
	}

	w := &ngBuf{}
	w.shb()
	w.idb(1, 0, w.opt(9, []byte{3}))                                   // ms
	w.idb(1, 0, w.opt(9, []byte{1}), w.opt(14, w.u64(3600)))           // ds, +1 h
	w.idb(1, 0, w.opt(9, []byte{12}), w.opt(14, w.u64(uint64(1<<63)))) // ps, offset min int64 s: out of range
	w.idb(1, 0, w.opt(9, []byte{12}))                                  // ps
	w.idb(1, 0, w.opt(9, []byte{9}), w.opt(14, w.u64(^uint64(59))))    // ns, -60 s
	w.epb(0, 1764086400123, 60, rdFrame(0, 60))
	w.epb(1, 17640864001, 60, rdFrame(1, 60))
	w.epb(2, 1, 60, rdFrame(2, 60))
	w.epb(3, 17640864001234567890, 60, rdFrame(3, 60))
	w.epb(4, 1764086400123456789, 60, rdFrame(4, 60))
	fx["tsresol.pcapng"] = w.b

	w = &ngBuf{}
	w.shb()
	w.idb(1, 64, w.opt(2, []byte("cali0123456789a")))
	w.idb(113, 0)
	w.spb(100, rdFrame(0, 64))
	w.spb(42, rdFrame(1, 42))
	w.pb(1, us, 80, rdFrame(2, 80))
	w.epb(0, us+1, 60, rdFrame(3, 60))
	w.be = true
	w.shb()
	w.idb(101, 0, w.opt(2, []byte("tunl0")))
	w.epb(0, us+2, 50, rdFrame(4, 50))
	w.be = false
	w.shb()
	w.idb(228, 0)
	w.idb(1, 0)
	w.epb(1, us+3, 44, rdFrame(5, 44))
	fx["sections.pcapng"] = w.b
	fx["sections.pcapng.gz"] = rdGzip(w.b)
	return fx
}

// pcapgoNgRecords reads a pcapng file with pcapgo (mixed link types), as the reference.
func pcapgoNgRecords(t *testing.T, data []byte) []rdRec {
	t.Helper()
	if data[0] == 0x1f {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	nr, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatalf("pcapgo.NewNgReader: %v", err)
	}
	var out []rdRec
	for {
		d, ci, err := nr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("pcapgo after %d records: %v", len(out), err)
		}
		var ts int64
		if !ci.Timestamp.IsZero() { // pcapgo gives simple packet blocks the zero time
			ts = ci.Timestamp.UnixNano()
		}
		lt := LinkType(ci.AncillaryData[0].(layers.LinkType))
		out = append(out, rdRec{uint32(len(out) + 1), ts, ci.CaptureLength, ci.Length, lt, ci.InterfaceIndex, d})
	}
}

// rdSectionsIfaces are the interfaces of sections.pcapng's three sections, numbered across the file.
var rdSectionsIfaces = []Interface{
	{LinkType: 1, SnapLen: 64, Name: "cali0123456789a", TsResol: 6},
	{LinkType: 113, TsResol: 6},
	{LinkType: 101, Name: "tunl0", TsResol: 6},
	{LinkType: 228, TsResol: 6},
	{LinkType: 1, TsResol: 6},
}

func TestPcapNGMatchesPcapgo(t *testing.T) {
	fx := rdGoodNg()
	cases := []struct {
		name   string
		links  []LinkType
		ifaces []Interface // Interfaces() at the end
		ids    []int       // Record.Iface, numbered across sections (pcapgo numbers them per section)
		skip   []uint32    // frames pcapgo and ours deliver differently (checked in TestPcapNGVariants)
	}{
		{
			name:  "le.pcapng",
			links: []LinkType{1, 101, 276, 1, 101, 276, 1, 101, 276, 1, 101, 276},
			ifaces: []Interface{
				{LinkType: 1, SnapLen: 65535, Name: "eth0", Description: "underlay", TsResol: 6},
				{LinkType: 101, Name: "tunl0", TsResol: 6},
				{LinkType: 276, SnapLen: 262144, Name: "any", TsResol: 6},
			},
		},
		{
			name:  "be.pcapng",
			links: []LinkType{1, 101, 276, 1, 101, 276, 1, 101, 276, 1, 101, 276},
			ifaces: []Interface{
				{LinkType: 1, SnapLen: 65535, Name: "eth0", Description: "underlay", TsResol: 6},
				{LinkType: 101, Name: "tunl0", TsResol: 6},
				{LinkType: 276, SnapLen: 262144, Name: "any", TsResol: 6},
			},
		},
		{
			name:   "sections.pcapng",
			links:  []LinkType{1, 1, 113, 1, 101, 1},
			ifaces: rdSectionsIfaces,
			ids:    []int{0, 0, 1, 0, 2, 4},
		},
		{
			name:   "sections.pcapng.gz",
			links:  []LinkType{1, 1, 113, 1, 101, 1},
			ifaces: rdSectionsIfaces,
			ids:    []int{0, 0, 1, 0, 2, 4},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := fx[c.name]
			got, r := rdReadAll(t, data)
			var links []LinkType
			for _, rec := range got {
				links = append(links, rec.LinkType)
			}
			if diff := cmp.Diff(c.links, links); diff != "" {
				t.Errorf("link types (-want +got):\n%s", diff)
			}
			want := pcapgoNgRecords(t, data)
			if c.ids != nil {
				var ids []int
				for i := range got {
					ids = append(ids, got[i].Iface)
					got[i].Iface = want[i].Iface
				}
				if diff := cmp.Diff(c.ids, ids); diff != "" {
					t.Errorf("interface numbers (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(rdMask8(want), rdMask8(got)); diff != "" {
				t.Errorf("records differ from pcapgo (-pcapgo +ours):\n%s", diff)
			}
			if diff := cmp.Diff(c.ifaces, r.Interfaces()); diff != "" {
				t.Errorf("Interfaces (-want +got):\n%s", diff)
			}
			if r.Format() != FormatPcapNG || r.Compressed() != strings.HasSuffix(c.name, ".gz") {
				t.Errorf("Format %v Compressed %v", r.Format(), r.Compressed())
			}
			if r.Offset() != int64(len(data)) || r.Skipped() != 0 {
				t.Errorf("Offset %d of %d, Skipped %d", r.Offset(), len(data), r.Skipped())
			}
		})
	}
}

// TestPcapNGVariants checks what pcapgo cannot cross-check: if_tsresol variants (pcapgo treats 0 as
// 6 and rounds binary resolutions), if_tsoffset overflow, simple packet block lengths.
func TestPcapNGVariants(t *testing.T) {
	fx := rdGoodNg()
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"tsresol", fx["tsresol.pcapng"], []string{
			"frame 1 if 0 EN10MB ts 1764086400123000000 len 60/60",
			"frame 2 if 1 EN10MB ts 1764090000100000000 len 60/60",
			"skip: frame 3 (offset 408): timestamp out of range",
			"frame 4 if 3 EN10MB ts 17640864001234567 len 60/60",
			"frame 5 if 4 EN10MB ts 1764086340123456789 len 60/60",
			"end skipped=1",
		}},
		{"tsresol-offset-overflow", (&ngBuf{}).shb().idb(1, 0, (&ngBuf{}).opt(14, []byte{0, 0, 0, 0, 0, 0, 0, 0x80})).
			epb(0, 1, 60, rdFrame(0, 60)).b, []string{
			"skip: frame 1 (offset 64): timestamp out of range",
			"end skipped=1",
		}},
		{"tsresol-seconds-and-binary", func() []byte {
			w := &ngBuf{}
			w.shb().idb(1, 0, w.opt(9, []byte{0})).idb(1, 0, w.opt(9, []byte{0x80 | 20})).idb(1, 0, w.opt(9, []byte{0x80}))
			return w.epb(0, 1764086400, 60, rdFrame(0, 60)).epb(1, 1<<20*1764086400+1<<19+1, 60, rdFrame(1, 60)).
				epb(2, 1764086400, 60, rdFrame(2, 60)).epb(0, 1<<62, 60, rdFrame(3, 60)).b
		}(), []string{
			"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
			"frame 2 if 1 EN10MB ts 1764086400500000953 len 60/60",
			"frame 3 if 2 EN10MB ts 1764086400000000000 len 60/60",
			"skip: frame 4 (offset 400): timestamp out of range",
			"end skipped=1",
		}},
		{"spb", func() []byte {
			w := (&ngBuf{}).shb()
			w.spb(60, rdFrame(0, 60)) // before any IDB
			w.idb(1, 0)
			w.spb(100, rdFrame(1, 64))     // block space smaller than origlen, snaplen 0
			w.spb(20, rdFrame(2, 42)[:24]) // origlen smaller than block space
			w.shb().idb(1, 50)
			w.spb(100, rdFrame(3, 64)) // snaplen smallest
			return w.b
		}(), []string{
			"skip: frame 1 (offset 28): simple packet block before any interface description",
			"frame 2 if 0 EN10MB ts 0 len 64/100",
			"frame 3 if 0 EN10MB ts 0 len 20/20",
			"frame 4 if 1 EN10MB ts 0 len 50/100",
			"end skipped=1",
		}},
		{"epb-bad-lengths", func() []byte {
			w := (&ngBuf{}).shb().idb(1, 100)
			w.epb(0, 1, 50, rdFrame(0, 60))   // caplen > origlen
			w.epb(0, 2, 120, rdFrame(1, 120)) // caplen > snaplen
			at := len(w.b)
			w.epb(0, 3, 60, rdFrame(2, 60))
			binary.LittleEndian.PutUint32(w.b[at+20:], 64) // caplen beyond the block
			w.pb(1, 4, 60, rdFrame(3, 60))                 // PB on an unknown interface
			w.block(ngEPB, []byte{0, 0, 0, 0})             // too short for an EPB
			return w.epb(0, 5, 60, rdFrame(4, 60)).epb(0, 6, 60, nil).b
		}(), []string{
			"skip: frame 1 (offset 48): caplen 60 exceeds original length 50",
			"skip: frame 2 (offset 140): caplen 120 exceeds snaplen 100",
			"skip: frame 3 (offset 292): caplen 64 exceeds the 60 bytes of its block",
			"skip: frame 4 (offset 384): interface id 1 is not defined in this section (1 interfaces)",
			"skip: frame 5 (offset 476): packet block of 16 bytes is too short",
			"frame 6 if 0 EN10MB ts 5000 len 60/60",
			"skip: frame 7 (offset 584): empty packet block (captured length 0)",
			"end skipped=6",
		}},
		{"big-unknown-block", func() []byte {
			w := (&ngBuf{}).shb().idb(1, 0)
			w.block(0x1234, make([]byte, 3<<20))
			return w.epb(0, 7, 60, rdFrame(0, 60)).b
		}(), []string{
			"frame 1 if 0 EN10MB ts 7000 len 60/60",
			"end skipped=0",
		}},
		{"garbage-then-shb", func() []byte {
			w := (&ngBuf{}).shb().idb(1, 0).epb(0, 1, 60, rdFrame(0, 60))
			w.b = append(w.b, "some garbage of 31 bytes here.."...)
			w.be = true
			return w.shb().idb(101, 0).epb(0, 2, 60, rdFrame(1, 60)).b
		}(), []string{
			"frame 1 if 0 EN10MB ts 1000 len 60/60",
			"skip: offset 140: block type 0x656d6f73 has a bad total length 1918986016: skipped bytes 140-170 to the next valid block",
			"frame 2 if 1 RAW ts 2000 len 60/60",
			"end skipped=1",
		}},
		{"unsupported-version-section", func() []byte {
			w := (&ngBuf{}).shb().idb(1, 0).epb(0, 1, 60, rdFrame(0, 60))
			w.block(ngSHB, []byte{0x4d, 0x3c, 0x2b, 0x1a, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
			w.idb(1, 0).epb(0, 2, 60, rdFrame(1, 60))
			return w.shb().idb(101, 0).epb(0, 3, 60, rdFrame(2, 60)).b
		}(), []string{
			"frame 1 if 0 EN10MB ts 1000 len 60/60",
			"skip: offset 140: unsupported pcapng version 2.0: skipping the section",
			"frame 2 if 1 RAW ts 3000 len 60/60",
			"end skipped=1",
		}},
		{"garbage-to-eof", append((&ngBuf{}).shb().idb(1, 0).b, bytes.Repeat([]byte{0xff}, 4000)...), []string{
			"skip: offset 48: block type 0xffffffff has a bad total length 4294967295: skipped bytes 48-4047 to the end of the file (no valid block)",
			"end skipped=1",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, rdEvents(t, c.data)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestToNs checks timestamp conversion against exact big-integer arithmetic for every resolution.
func TestToNs(t *testing.T) {
	tss := []uint64{0, 1, 999, 1764086400, 1764086400123456789, 1 << 40, 1<<63 - 1, 1 << 63, math.MaxUint64}
	offsets := []int64{0, 3600, -3600, math.MaxInt64 / 1000000000, math.MinInt64/1000000000 - 1, math.MaxInt64, math.MinInt64}
	for res := range 256 {
		for _, off := range offsets {
			w := &ngBuf{}
			r := &ngReader{}
			_ = r.addIface(0, w.idb(1, 0, w.opt(9, []byte{byte(res)}), w.opt(14, w.u64(uint64(off)))).b)
			ifc := &r.ifaces[0]
			for _, ts := range tss {
				// want = floor(ts * 1e9 / unit) + off*1e9, where unit = 10^e or 2^e per second.
				num := new(big.Int).Mul(new(big.Int).SetUint64(ts), big.NewInt(1e9))
				den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(res&0x7f)), nil)
				if res&0x80 != 0 {
					den = new(big.Int).Lsh(big.NewInt(1), uint(res&0x7f))
				}
				want := new(big.Int).Quo(num, den)
				want.Add(want, new(big.Int).Mul(big.NewInt(off), big.NewInt(1e9)))
				got, ok := ifc.toNs(ts)
				if fits := want.IsInt64(); ok != fits || ok && got != want.Int64() {
					t.Fatalf("tsresol 0x%02x offset %d ts %d: got %d, %v; want %v (fits int64: %v)", res, off, ts, got, ok, want, fits)
				}
			}
		}
	}
}

// Wireshark numbers systemd journal and custom blocks as frames; calipath skips them (counted, with a
// message) but numbers them too, so that every later frame number still opens the right packet.
func TestPcapNGJournalAndCustomAreFrames(t *testing.T) {
	w := &ngBuf{}
	w.shb()
	w.idb(1, 65535)
	w.epb(0, 1764086400*1000000, 60, rdFrame(0, 60))
	w.block(ngJournal, []byte("__REALTIME_TIMESTAMP=1\nMESSAGE=hello\n\x00\x00\x00"))
	w.epb(0, 1764086400*1000000+1, 60, rdFrame(1, 60))
	w.block(ngCustom, []byte{0, 0, 0x7e, 0xd5, 'x', 0, 0, 0})
	w.block(0x1234, []byte("unknown block type")) // not a frame
	w.epb(0, 1764086400*1000000+2, 60, rdFrame(2, 60))
	r, err := NewReader(bytes.NewReader(w.b))
	if err != nil {
		t.Fatal(err)
	}
	var frames []uint32
	var skipped []uint32
	for {
		var rec Record
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RecordError
		if errors.As(err, &re) {
			skipped = append(skipped, re.Frame)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, rec.Frame)
	}
	if diff := cmp.Diff([]uint32{1, 3, 5}, frames); diff != "" {
		t.Errorf("packet frame numbers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint32{2, 4}, skipped); diff != "" || r.Skipped() != 2 {
		t.Errorf("skipped frames %v (Skipped() %d), want [2 4]", skipped, r.Skipped())
	}
}
