package decode

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// The -update flag may be registered by another test file of this package too: share it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files and fixtures")
	}
}

func rdUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// rdFrame builds an Ethernet/IPv4/UDP frame of size bytes (at least 42) whose payload depends on i.
func rdFrame(i, size int) []byte {
	b := make([]byte, size)
	copy(b, []byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0x02, 0x42, 0x0a, 0x00, 0x00, 0x05, 0x08, 0x00})
	ip := b[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(size-14))
	binary.BigEndian.PutUint16(ip[4:], uint16(i))
	copy(ip[12:], []byte{10, 0, 0, 5, 10, 0, 1, 7})
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], 53)
	binary.BigEndian.PutUint16(udp[4:], uint16(size-34))
	for j := 42; j < size; j++ {
		b[j] = byte(i + j)
	}
	return b
}

// rdPcap hand-builds a pcap file.
type rdPcap struct {
	be, nano bool
	b        []byte
}

func newRdPcap(be, nano bool, snaplen, link uint32) *rdPcap {
	w := &rdPcap{be: be, nano: nano}
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	w.u32(magic)
	w.u16(2)
	w.u16(4)
	w.u32(0)
	w.u32(0)
	w.u32(snaplen)
	w.u32(link)
	return w
}

func (w *rdPcap) order() binary.AppendByteOrder {
	if w.be {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (w *rdPcap) u16(v uint16) { w.b = w.order().AppendUint16(w.b, v) }
func (w *rdPcap) u32(v uint32) { w.b = w.order().AppendUint32(w.b, v) }

// rec appends a record header with the given fields followed by data (whose length may disagree).
func (w *rdPcap) rec(sec, frac, caplen, origlen uint32, data []byte) *rdPcap {
	w.u32(sec)
	w.u32(frac)
	w.u32(caplen)
	w.u32(origlen)
	w.b = append(w.b, data...)
	return w
}

// frame appends a well-formed record of frame rdFrame(i, size) at time sec + i ms.
func (w *rdPcap) frame(sec uint32, i, size int) *rdPcap {
	frac := uint32(i) * 1000
	if w.nano {
		frac *= 1000
	}
	return w.rec(sec, frac, uint32(size), uint32(size), rdFrame(i, size))
}

func rdGzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// rdRec is a Record with its data copied.
type rdRec struct {
	Frame    uint32
	Ts       int64
	CapLen   int
	OrigLen  int
	LinkType LinkType
	Iface    int
	Data     []byte
}

// rdReadAll reads every record of a good file, failing on any error.
func rdReadAll(t testing.TB, data []byte) ([]rdRec, Reader) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out []rdRec
	for {
		var rec Record
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			return out, r
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(out), err)
		}
		if rec.CapLen != len(rec.Data) {
			t.Fatalf("frame %d: CapLen %d, len(Data) %d", rec.Frame, rec.CapLen, len(rec.Data))
		}
		out = append(out, rdRec{rec.Frame, rec.Ts, rec.CapLen, rec.OrigLen, rec.LinkType, rec.Iface, bytes.Clone(rec.Data)})
	}
}

// rdEvents logs everything a reader reports for data, one line per call to Next.
func rdEvents(t testing.TB, data []byte) []string {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	return rdEventsOf(t, r, err)
}

// rdEventsOf is rdEvents for a reader already opened (err: NewReader's error).
func rdEventsOf(t testing.TB, r Reader, err error) []string {
	t.Helper()
	if err != nil {
		return []string{"open: " + err.Error()}
	}
	var ev []string
	for range 100000 {
		var rec Record
		err := r.Next(&rec)
		var re *RecordError
		switch {
		case err == nil:
			ev = append(ev, fmt.Sprintf("frame %d if %d %s ts %d len %d/%d", rec.Frame, rec.Iface, rec.LinkType, rec.Ts, rec.CapLen, rec.OrigLen))
		case errors.As(err, &re):
			ev = append(ev, "skip: "+err.Error())
		default:
			if !errors.Is(err, io.EOF) {
				ev = append(ev, "fatal: "+err.Error())
			}
			return append(ev, fmt.Sprintf("end skipped=%d", r.Skipped()))
		}
	}
	t.Fatal("reader did not terminate")
	return nil
}

// pcapgoRecords reads a pcap file with pcapgo, as the reference.
func pcapgoRecords(t *testing.T, data []byte) []rdRec {
	t.Helper()
	pr, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("pcapgo.NewReader: %v", err)
	}
	var out []rdRec
	for {
		d, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("pcapgo: %v", err)
		}
		out = append(out, rdRec{uint32(len(out) + 1), ci.Timestamp.UnixNano(), ci.CaptureLength, ci.Length, LinkType(pr.LinkType()), 0, d})
	}
}

// rdMask8 truncates link types as gopacket's uint8 layers.LinkType does.
func rdMask8(recs []rdRec) []rdRec {
	out := append([]rdRec(nil), recs...)
	for i := range out {
		out[i].LinkType = LinkType(uint8(out[i].LinkType))
	}
	return out
}

func pcapgoWritten(t *testing.T, nano bool, link layers.LinkType, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nano {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)
	for i := range n {
		d := rdFrame(i, 42+i%200)
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * 1234567), CaptureLength: len(d), Length: len(d) + i%3}
		if err := w.WritePacket(ci, d); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestPcapMatchesPcapgo(t *testing.T) {
	const sec = 1764086400
	be := newRdPcap(true, false, 65535, 1)
	beNano := newRdPcap(true, true, 65535, 101)
	fcs := newRdPcap(false, false, 0, 0x04000001) // FCS bits set, snaplen 0
	for i := range 20 {
		be.frame(sec, i, 60+i)
		beNano.frame(sec, i, 42+3*i)
		fcs.frame(sec, i, 100)
	}
	cases := []struct {
		name string
		data []byte
		n    int
		link LinkType
		nano bool
	}{
		{"us", pcapgoWritten(t, false, layers.LinkTypeEthernet, 300), 300, LinkEthernet, false},
		{"ns", pcapgoWritten(t, true, layers.LinkTypeLinuxSLL, 300), 300, LinkLinuxSLL, true},
		{"us-gzip", rdGzip(pcapgoWritten(t, false, layers.LinkTypeEthernet, 300)), 300, LinkEthernet, false},
		{"big-endian", be.b, 20, LinkEthernet, false},
		{"big-endian-ns-raw", beNano.b, 20, LinkRaw, true},
		{"fcs-bits-snaplen-0", fcs.b, 20, LinkEthernet, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, r := rdReadAll(t, c.data)
			if len(got) != c.n {
				t.Fatalf("got %d records, want %d", len(got), c.n)
			}
			for _, rec := range got {
				if rec.LinkType != c.link {
					t.Fatalf("frame %d: link type %v, want %v", rec.Frame, rec.LinkType, c.link)
				}
			}
			ref := c.data
			if c.name == "fcs-bits-snaplen-0" {
				// pcapgo rejects every record when snaplen is 0 (unlimited): give it the real limit.
				ref = bytes.Clone(c.data)
				binary.LittleEndian.PutUint32(ref[16:], MaxCapLen)
			}
			if diff := cmp.Diff(rdMask8(pcapgoRecords(t, ref)), rdMask8(got)); diff != "" {
				t.Errorf("records differ from pcapgo (-pcapgo +ours):\n%s", diff)
			}
			if r.Format() != FormatPcap || r.Compressed() != strings.HasSuffix(c.name, "gzip") {
				t.Errorf("Format %v Compressed %v", r.Format(), r.Compressed())
			}
			ifs := r.Interfaces()
			wantRes := uint8(6)
			if c.nano {
				wantRes = 9
			}
			if len(ifs) != 1 || ifs[0].LinkType != c.link || ifs[0].TsResol != wantRes {
				t.Errorf("Interfaces() = %+v", ifs)
			}
			if r.Offset() != int64(len(c.data)) || r.Skipped() != 0 {
				t.Errorf("Offset %d (file %d bytes), Skipped %d", r.Offset(), len(c.data), r.Skipped())
			}
		})
	}
}

func TestSniff(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"html", []byte("<html><body>"), "not a pcap or pcapng file (first bytes 3c 68 74 6d)"},
		{"short", []byte{0xa1, 0xb2}, "not a pcap or pcapng file (first bytes a1 b2)"},
		{"gzip-garbage", []byte{0x1f, 0x8b, 0, 0}, "gzip: unexpected EOF"},
		{"gzip-html", rdGzip([]byte("<html>")), "not a pcap or pcapng file (first bytes 3c 68 74 6d)"},
		{"pcap-version", newRdPcap(false, false, 100, 1).b[:4:4], "truncated pcap file header (4 of 24 bytes)"},
		{"pcap-v1", append([]byte{0xd4, 0xc3, 0xb2, 0xa1, 1, 0, 0, 0}, make([]byte, 16)...), "unsupported pcap version 1.0"},
		{"pcapng-bom", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4}, "pcapng section header has a bad byte-order magic 01 02 03 04"},
		{"pcapng-short", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0}, "truncated pcapng section header (6 of at least 28 bytes)"},
		{"pcapng-version", (&ngBuf{}).block(ngSHB, []byte{0x4d, 0x3c, 0x2b, 0x1a, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}).b, "unsupported pcapng version 2.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(c.data))
			if err == nil || err.Error() != c.want {
				t.Fatalf("NewReader error %v, want %q", err, c.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	data := rdGzip(pcapgoWritten(t, false, layers.LinkTypeEthernet, 10))
	p := filepath.Join(dir, "capture.bin") // the name says nothing: the magic decides
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, c, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !r.Compressed() || r.Format() != FormatPcap {
		t.Fatalf("Compressed %v Format %v", r.Compressed(), r.Format())
	}
	var rec Record
	n := 0
	for r.Next(&rec) == nil {
		n++
	}
	if n != 10 || r.Offset() != int64(len(data)) {
		t.Fatalf("%d records, Offset %d of %d", n, r.Offset(), len(data))
	}
	if _, _, err := Open(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("Open of a missing file succeeded")
	}
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(p); err == nil || !strings.Contains(err.Error(), "capture.bin: not a pcap") {
		t.Fatalf("Open of a text file: %v", err)
	}
}

// TestReaderNoAllocs checks that Next allocates nothing per record, for both formats.
func TestReaderNoAllocs(t *testing.T) {
	ng := (&ngBuf{}).shb().idb(1, 0)
	for i := range 2000 {
		ng.epb(0, uint64(i)*1000, 100, rdFrame(i, 100))
	}
	for name, data := range map[string][]byte{
		"pcap":   pcapgoWritten(t, false, layers.LinkTypeEthernet, 2000),
		"pcapng": ng.b,
	} {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var rec Record
		allocs := testing.AllocsPerRun(1000, func() {
			if err := r.Next(&rec); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per record", name, allocs)
		}
	}
}

// TestDataAliasesBuffer checks that Data points into the reader's buffer, not into a copy.
func TestDataAliasesBuffer(t *testing.T) {
	r, err := NewReader(bytes.NewReader(pcapgoWritten(t, false, layers.LinkTypeEthernet, 3)))
	if err != nil {
		t.Fatal(err)
	}
	var a, b Record
	if err := r.Next(&a); err != nil {
		t.Fatal(err)
	}
	if err := r.Next(&b); err != nil {
		t.Fatal(err)
	}
	// Records are adjacent in the buffer: the second record's header follows the first's data.
	if uintptr(unsafe.Pointer(&b.Data[0]))-uintptr(unsafe.Pointer(&a.Data[0])) != uintptr(len(a.Data)+pcapRecHdrLen) {
		t.Error("Data of consecutive records are not adjacent in one buffer")
	}
	if cap(a.Data) != len(a.Data) {
		t.Errorf("Data capacity %d exceeds its length %d", cap(a.Data), len(a.Data))
	}
}

// brokenFixtures builds the files of testdata/broken. Each is small and documented by its expected events.
func brokenFixtures() map[string][]byte {
	const sec = 1764086400
	good := func() *rdPcap { return newRdPcap(false, false, 65535, 1) }
	fx := map[string][]byte{}

	fx["truncated-header.pcap"] = good().b[:10]

	p := good().frame(sec, 0, 60).frame(sec, 1, 60)
	p.rec(sec, 2000, 100, 100, rdFrame(2, 100)[:40])
	fx["truncated-record.pcap"] = p.b

	p = newRdPcap(false, false, 128, 1).frame(sec, 0, 60)
	p.rec(sec, 1000, 200, 200, rdFrame(1, 200))
	fx["caplen-gt-snaplen.pcap"] = p.frame(sec, 2, 60).b

	p = good().frame(sec, 0, 60)
	p.rec(sec, 1000, 60, 50, rdFrame(1, 60))
	fx["caplen-gt-origlen.pcap"] = p.frame(sec, 2, 60).b

	// A header claiming 300000 bytes followed by 37 bytes of junk, then good records.
	p = good().frame(sec, 0, 60).frame(sec, 1, 60)
	p.rec(sec, 2000, 300000, 300000, bytes.Repeat([]byte{0xa5}, 37))
	fx["caplen-huge.pcap"] = p.frame(sec, 3, 60).frame(sec, 4, 70).frame(sec, 5, 80).b

	p = good().frame(sec, 0, 60)
	p.rec(sec, 1000, 0, 60, nil)
	fx["zero-length.pcap"] = p.frame(sec, 2, 60).b

	fx["garbage.txt"] = []byte("<html><head><title>404 Not Found</title></head></html>\n")

	fx["unknown-linktype.pcap"] = newRdPcap(false, false, 65535, 147).frame(sec, 0, 60).frame(sec, 1, 61).b

	ng := (&ngBuf{}).shb().idb(1, 0).epb(0, sec*1e6, 60, rdFrame(0, 60))
	at := len(ng.b)
	ng.epb(0, sec*1e6+1, 60, rdFrame(1, 60))
	binary.LittleEndian.PutUint32(ng.b[at+4:], 13) // total length not a multiple of 4
	fx["bad-block-length.pcapng"] = ng.epb(0, sec*1e6+2, 60, rdFrame(2, 60)).epb(0, sec*1e6+3, 60, rdFrame(3, 60)).b

	ng = (&ngBuf{}).shb().idb(1, 0).epb(0, sec*1e6, 60, rdFrame(0, 60))
	ng.epb(0, sec*1e6+1, 60, rdFrame(1, 60))
	binary.LittleEndian.PutUint32(ng.b[len(ng.b)-4:], 200) // trailing length disagrees
	fx["trailer-mismatch.pcapng"] = ng.epb(0, sec*1e6+2, 60, rdFrame(2, 60)).b

	fx["unknown-interface.pcapng"] = (&ngBuf{}).shb().idb(1, 0).epb(0, sec*1e6, 60, rdFrame(0, 60)).
		epb(3, sec*1e6+1, 60, rdFrame(1, 60)).epb(0, sec*1e6+2, 60, rdFrame(2, 60)).b

	ng = (&ngBuf{}).shb().idb(1, 0).epb(0, sec*1e6, 60, rdFrame(0, 60)).epb(0, sec*1e6+1, 60, rdFrame(1, 60))
	fx["truncated-block.pcapng"] = ng.b[:len(ng.b)-30]

	fx["truncated.pcap.gz"] = rdGzip(good().frame(sec, 0, 60).frame(sec, 1, 60).frame(sec, 2, 60).b)[:80]

	// What a crash or a preallocated file leaves: zeros after the last record.
	fx["zero-tail.pcap"] = append(good().frame(sec, 0, 60).frame(sec, 1, 60).b, make([]byte, 100)...)
	fx["zero-tail.pcapng"] = append((&ngBuf{}).shb().idb(1, 0).epb(0, sec*1e6, 60, rdFrame(0, 60)).b, make([]byte, 64)...)

	// Runs of empty records: with timestamps, then all-zero headers.
	p = good().frame(sec, 0, 60)
	for i := range 3 {
		p.rec(sec, uint32(1000+i), 0, 0, nil)
	}
	p.b = append(p.b, make([]byte, 2*pcapRecHdrLen)...)
	fx["empty-records.pcap"] = p.frame(sec, 6, 60).b
	ng = (&ngBuf{}).shb().idb(1, 0).epb(0, sec*1e6, 60, rdFrame(0, 60)).epb(0, sec*1e6+1, 60, nil).epb(0, sec*1e6+2, 60, nil)
	fx["empty-blocks.pcapng"] = ng.spb(0, nil).epb(0, sec*1e6+3, 60, rdFrame(3, 60)).b

	// Timestamps that lie: a microsecond field of 1.5 s, one frame in 1970, one in 2106, then the
	// clock an hour back.
	p = good().frame(sec, 0, 60)
	p.rec(sec, 1500000, 60, 60, rdFrame(1, 60))
	p.rec(0, 2000, 60, 60, rdFrame(2, 60))
	p.rec(1<<32-1, 3000, 60, 60, rdFrame(3, 60))
	p.rec(sec-3600, 4000, 60, 60, rdFrame(4, 60))
	fx["lying-times.pcap"] = p.frame(sec-3600, 5, 60).b
	return fx
}

// brokenWant is the exact outcome of reading each broken fixture.
var brokenWant = map[string][]string{
	"truncated-header.pcap": {"open: truncated pcap file header (10 of 24 bytes)"},
	"truncated-record.pcap": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"frame 2 if 0 EN10MB ts 1764086400001000000 len 60/60",
		"skip: frame 3 (offset 176): truncated record: 56 of 116 bytes before end of file",
		"end skipped=1",
	},
	"caplen-gt-snaplen.pcap": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frame 2 (offset 100): caplen 200 exceeds snaplen 128",
		"frame 3 if 0 EN10MB ts 1764086400002000000 len 60/60",
		"end skipped=1",
	},
	"caplen-gt-origlen.pcap": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frame 2 (offset 100): caplen 60 exceeds original length 50",
		"frame 3 if 0 EN10MB ts 1764086400002000000 len 60/60",
		"end skipped=1",
	},
	"caplen-huge.pcap": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"frame 2 if 0 EN10MB ts 1764086400001000000 len 60/60",
		"skip: frame 3 (offset 176): caplen 300000 exceeds 262144: skipped bytes 176-228 to the next plausible record header",
		"frame 4 if 0 EN10MB ts 1764086400003000000 len 60/60",
		"frame 5 if 0 EN10MB ts 1764086400004000000 len 70/70",
		"frame 6 if 0 EN10MB ts 1764086400005000000 len 80/80",
		"end skipped=1",
	},
	"zero-length.pcap": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frame 2 (offset 100): empty record (captured length 0)",
		"frame 3 if 0 EN10MB ts 1764086400002000000 len 60/60",
		"end skipped=1",
	},
	"garbage.txt": {"open: not a pcap or pcapng file (first bytes 3c 68 74 6d)"},
	"unknown-linktype.pcap": {
		"frame 1 if 0 LINKTYPE_147 ts 1764086400000000000 len 60/60",
		"frame 2 if 0 LINKTYPE_147 ts 1764086400001000000 len 61/61",
		"end skipped=0",
	},
	"bad-block-length.pcapng": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frame 2 (offset 140): block type 0x6 has a bad total length 13: skipped bytes 140-231 to the next valid block",
		"frame 3 if 0 EN10MB ts 1764086400000002000 len 60/60",
		"frame 4 if 0 EN10MB ts 1764086400000003000 len 60/60",
		"end skipped=1",
	},
	"trailer-mismatch.pcapng": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frame 2 (offset 140): block type 0x6 length 92 does not match its trailing length 200: skipped bytes 140-231 to the next valid block",
		"frame 3 if 0 EN10MB ts 1764086400000002000 len 60/60",
		"end skipped=1",
	},
	"unknown-interface.pcapng": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frame 2 (offset 140): interface id 3 is not defined in this section (1 interfaces)",
		"frame 3 if 0 EN10MB ts 1764086400000002000 len 60/60",
		"end skipped=1",
	},
	"truncated-block.pcapng": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frame 2 (offset 140): truncated block: 62 of 92 bytes before end of file",
		"end skipped=1",
	},
	"truncated.pcap.gz": {
		"fatal: read compressed stream at offset 90: unexpected EOF",
		"end skipped=0",
	},
	"zero-tail.pcap": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"frame 2 if 0 EN10MB ts 1764086400001000000 len 60/60",
		"skip: offset 176: zero-filled tail: the last 100 bytes are zeros, not records (as a crash or a preallocated file leaves): ignored",
		"end skipped=1",
	},
	"zero-tail.pcapng": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: offset 140: zero-filled tail: the last 64 bytes are zeros, not records (as a crash or a preallocated file leaves): ignored",
		"end skipped=1",
	},
	"empty-records.pcap": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frames 2-4 (offset 100): 3 empty records (captured length 0)",
		"skip: frames 5-6 (offset 148): 2 empty records (all-zero headers)",
		"frame 7 if 0 EN10MB ts 1764086400006000000 len 60/60",
		"end skipped=5",
	},
	"empty-blocks.pcapng": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"skip: frames 2-4 (offset 140): 3 empty packet blocks (captured length 0)",
		"frame 5 if 0 EN10MB ts 1764086400000003000 len 60/60",
		"end skipped=3",
	},
	"lying-times.pcap": {
		"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
		"frame 2 if 0 EN10MB ts 1764086401500000000 len 60/60",
		"frame 3 if 0 EN10MB ts 2000000 len 60/60",
		"frame 4 if 0 EN10MB ts 4294967295003000000 len 60/60",
		"frame 5 if 0 EN10MB ts 1764082800004000000 len 60/60",
		"frame 6 if 0 EN10MB ts 1764082800005000000 len 60/60",
		"end skipped=0",
	},
}

// TestBrokenFixtures reads each committed fixture of testdata/broken and checks the exact outcome.
// With -update it rewrites the fixtures (and the fuzz seed corpus) from brokenFixtures.
func TestBrokenFixtures(t *testing.T) {
	dir := filepath.Join("..", "testdata", "broken")
	fx := brokenFixtures()
	if rdUpdate() {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range fx {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rdWriteSeeds(t)
	}
	names := make([]string, 0, len(fx))
	for name := range fx {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(data, fx[name]) {
				t.Fatalf("committed fixture differs from brokenFixtures (run with -update)")
			}
			want, ok := brokenWant[name]
			if !ok {
				t.Fatalf("no expected outcome for %s", name)
			}
			if diff := cmp.Diff(want, rdEvents(t, data)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// rdWriteSeeds writes the fuzz seed corpus: every good and broken fixture.
func rdWriteSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range rdSeeds() {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rdSeeds are small inputs covering every path of both readers.
func rdSeeds() map[string][]byte {
	seeds := brokenFixtures()
	for name, data := range rdGoodNg() {
		seeds["good-"+name] = data
	}
	be := newRdPcap(true, true, 65535, 276).frame(1764086400, 0, 60).frame(1764086400, 1, 42)
	seeds["good-be-ns.pcap"] = be.b
	seeds["good-be-ns.pcap.gz"] = rdGzip(be.b)
	return seeds
}

var rdBench struct {
	once   sync.Once
	data   []byte
	frames int
}

// BenchmarkReadPcap reads an in-memory pcap of 1 M 100-byte Ethernet/IPv4 frames; one op is one record.
func BenchmarkReadPcap(b *testing.B) {
	rdBench.once.Do(func() {
		const n = 1 << 20
		w := newRdPcap(false, false, 65535, 1)
		w.b = append(make([]byte, 0, 24+n*116), w.b...)
		frame := rdFrame(7, 100)
		for i := range n {
			binary.BigEndian.PutUint16(frame[18:], uint16(i))
			w.rec(1764086400+uint32(i/1000000), uint32(i%1000000), 100, 100, frame)
		}
		rdBench.data, rdBench.frames = w.b, n
	})
	r, err := NewReader(bytes.NewReader(rdBench.data))
	if err != nil {
		b.Fatal(err)
	}
	var rec Record
	var sum int
	b.ReportAllocs()
	b.SetBytes(116)
	b.ResetTimer()
	for range b.N {
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			if r, err = NewReader(bytes.NewReader(rdBench.data)); err == nil {
				err = r.Next(&rec)
			}
		}
		if err != nil {
			b.Fatal(err)
		}
		sum += int(rec.Data[18])
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	if sum < 0 {
		b.Fatal(sum)
	}
}

// TestResyncAcrossBuffer puts the next good record at many places around the end of the first
// read-buffer window after a corrupt header, in both formats, and checks that reading resumes on it.
func TestResyncAcrossBuffer(t *testing.T) {
	const sec = 1764086400
	for _, junk := range []int{readBufSize - 300, readBufSize - 130, readBufSize - 101, readBufSize - 60, readBufSize - 17, readBufSize, readBufSize + 5, 2*readBufSize + 3} {
		p := newRdPcap(false, false, 65535, 1).frame(sec, 0, 100)
		p.rec(sec, 1000, MaxCapLen+1, MaxCapLen+1, bytes.Repeat([]byte{0xff}, junk))
		p.frame(sec, 2, 100).frame(sec, 3, 100)
		start := 24 + 116
		want := []string{
			"frame 1 if 0 EN10MB ts 1764086400000000000 len 100/100",
			fmt.Sprintf("skip: frame 2 (offset %d): caplen 262145 exceeds 262144: skipped bytes %d-%d to the next plausible record header", start, start, start+16+junk-1),
			"frame 3 if 0 EN10MB ts 1764086400002000000 len 100/100",
			"frame 4 if 0 EN10MB ts 1764086400003000000 len 100/100",
			"end skipped=1",
		}
		if diff := cmp.Diff(want, rdEvents(t, p.b)); diff != "" {
			t.Errorf("pcap, %d junk bytes: events (-want +got):\n%s", junk, diff)
		}

		ng := (&ngBuf{}).shb().idb(1, 0).epb(0, 1, 100, rdFrame(0, 100))
		start = len(ng.b)
		ng.b = append(ng.b, bytes.Repeat([]byte{0xff}, junk)...)
		ng.epb(0, 2, 100, rdFrame(1, 100)).epb(0, 3, 100, rdFrame(2, 100))
		want = []string{
			"frame 1 if 0 EN10MB ts 1000 len 100/100",
			fmt.Sprintf("skip: offset %d: block type 0xffffffff has a bad total length 4294967295: skipped bytes %d-%d to the next valid block", start, start, start+junk-1),
			"frame 2 if 0 EN10MB ts 2000 len 100/100",
			"frame 3 if 0 EN10MB ts 3000 len 100/100",
			"end skipped=1",
		}
		if diff := cmp.Diff(want, rdEvents(t, ng.b)); diff != "" {
			t.Errorf("pcapng, %d junk bytes: events (-want +got):\n%s", junk, diff)
		}
	}
}

// TestResyncGivesUp checks the fatal error when no record follows a corrupt one within resyncLimit,
// and the report when the file ends first.
func TestResyncGivesUp(t *testing.T) {
	const sec = 1764086400
	junk := bytes.Repeat([]byte{0xff}, resyncLimit+readBufSize)
	p := newRdPcap(false, false, 65535, 1).frame(sec, 0, 60)
	p.rec(sec, 0, 1<<30, 1<<30, junk)
	ng := (&ngBuf{}).shb().idb(1, 0)
	ng.b = append(ng.b, junk...)
	short := newRdPcap(false, false, 65535, 1).frame(sec, 0, 60)
	short.rec(sec, 0, 1<<30, 1<<30, junk[:5000])
	for name, c := range map[string]struct {
		data []byte
		want []string
	}{
		"pcap": {p.b, []string{
			"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
			"fatal: frame 2 (offset 100): caplen 1073741824 exceeds 262144 and no plausible record header follows within 4194304 bytes",
			"end skipped=0",
		}},
		"pcapng": {ng.b, []string{
			"fatal: offset 48: block type 0xffffffff has a bad total length 4294967295, and no valid block follows within 4194304 bytes",
			"end skipped=0",
		}},
		"pcap-eof": {short.b, []string{
			"frame 1 if 0 EN10MB ts 1764086400000000000 len 60/60",
			"skip: frame 2 (offset 100): caplen 1073741824 exceeds 262144: skipped bytes 100-5115 to the end of the file (no plausible record header)",
			"end skipped=1",
		}},
	} {
		if diff := cmp.Diff(c.want, rdEvents(t, c.data)); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", name, diff)
		}
	}
}

// TestGzipMultistream reads a pcap split across two concatenated gzip members.
func TestGzipMultistream(t *testing.T) {
	plain := pcapgoWritten(t, true, layers.LinkTypeEthernet, 50)
	data := append(rdGzip(plain[:1001]), rdGzip(plain[1001:])...)
	got, r := rdReadAll(t, data)
	if diff := cmp.Diff(pcapgoRecords(t, plain), got); diff != "" {
		t.Errorf("records (-pcapgo +ours):\n%s", diff)
	}
	if !r.Compressed() || r.Offset() != int64(len(data)) {
		t.Errorf("Compressed %v, Offset %d of %d", r.Compressed(), r.Offset(), len(data))
	}
}
