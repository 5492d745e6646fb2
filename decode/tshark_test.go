package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/calipath/calipath/internal/testtool"
)

// The tshark differential test: every capture under testdata/ (except testdata/broken) and a pcapng
// of every fixture frame are decoded by tshark, by DecodeSlow and by the fast Decoder, and the header
// fields all three know are compared frame by frame. tshark lists a field once per occurrence in the
// frame, outer first (tunnel outer header, inner header, then the headers quoted by an ICMP error);
// the list a decoder gives must be a prefix of tshark's (tshark may decode layers calipath does not,
// such as the acknowledgement number in a long ICMP quote).

// tsFields are the tshark fields compared. tcp.seq (made absolute) stands in for tcp.seq_raw, which
// tshark 4.0 leaves out of the TCP header quoted by an ICMP error.
var tsFields = []string{"ip.src", "ip.dst", "ip.id", "ip.ttl", "ip.proto",
	"ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.ack_raw",
	"udp.srcport", "udp.dstport", "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
	"arp.opcode", "vxlan.vni"}

// tsOptions are tshark's settings for the comparison: no reassembly, absolute sequence numbers, VXLAN
// on its port, checksums verified.
var tsOptions = []string{"-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
	"-o", "tcp.relative_sequence_numbers:FALSE", "-d", "udp.port==4789,vxlan",
	"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"}

// tsCsumFields are tshark's verdicts on the checksums it verifies (with the -o options tshark sets):
// 0 bad, 1 good, 2 unverified, 3 not present, 4 illegal. They are not compared field by field: see
// tsCsumCompare.
var tsCsumFields = []string{"ip.checksum.status", "udp.checksum.status", "tcp.checksum.status",
	"icmp.checksum.status", "icmpv6.checksum.status"}

// tsFrame is one frame as tshark decoded it: field → occurrences.
type tsFrame = testtool.TsharkFrame

// tsExpect lists, for each compared field, the occurrences a decoded Packet implies, outer first.
func tsExpect(p *Packet) tsFrame {
	e := tsFrame{}
	add := func(k, v string) { e[k] = append(e[k], v) }
	ip := func(h *IPHdr) {
		switch h.Version {
		case 4:
			add("ip.src", h.SrcAddr().String())
			add("ip.dst", h.DstAddr().String())
			add("ip.id", fmt.Sprintf("0x%04x", h.ID))
			add("ip.ttl", strconv.Itoa(int(h.TTL)))
			add("ip.proto", strconv.Itoa(int(h.Proto)))
		case 6:
			add("ipv6.src", h.SrcAddr().String())
			add("ipv6.dst", h.DstAddr().String())
		}
	}
	ports := func(proto uint8, sp, dp uint16) {
		switch proto {
		case 6:
			add("tcp.srcport", strconv.Itoa(int(sp)))
			add("tcp.dstport", strconv.Itoa(int(dp)))
		case 17:
			add("udp.srcport", strconv.Itoa(int(sp)))
			add("udp.dstport", strconv.Itoa(int(dp)))
		}
	}
	if p.HasARP {
		add("arp.opcode", strconv.Itoa(int(p.ARP.Op)))
	}
	if p.Encap != EncapNone {
		ip(&p.Outer)
	}
	if p.Encap == EncapVXLAN {
		ports(17, p.OuterSprt, p.OuterDprt)
		add("vxlan.vni", strconv.Itoa(int(p.VNI)))
	}
	if !p.HasARP {
		ip(&p.Inner)
	}
	switch {
	case p.HasTCP:
		ports(6, p.Sport, p.Dport)
		add("tcp.seq", strconv.FormatUint(uint64(p.TCP.Seq), 10))
		add("tcp.ack_raw", strconv.FormatUint(uint64(p.TCP.Ack), 10))
	case p.HasUDP:
		ports(17, p.Sport, p.Dport)
	case (p.Inner.Proto == 6 || p.Inner.Proto == 17) && (p.Sport != 0 || p.Dport != 0):
		ports(p.Inner.Proto, p.Sport, p.Dport) // header cut by the snaplen after the ports
	case p.HasICMP:
		c := &p.ICMP
		v6 := p.Inner.Proto == 58
		if v6 {
			add("icmpv6.type", strconv.Itoa(int(c.Type)))
			add("icmpv6.code", strconv.Itoa(int(c.Code)))
		} else {
			add("icmp.type", strconv.Itoa(int(c.Type)))
			add("icmp.code", strconv.Itoa(int(c.Code)))
		}
		if c.IsError(v6) && c.HasQuote {
			ip(&c.Quoted)
			q := &c.Quoted
			if c.QVXLAN {
				ports(17, c.QOuterSport, c.QOuterDport)
				add("vxlan.vni", strconv.Itoa(int(c.QVNI)))
			}
			if c.QuotedInner.Version != 0 {
				ip(&c.QuotedInner)
				q = &c.QuotedInner
			}
			if c.QSport != 0 || c.QDport != 0 {
				ports(q.Proto, c.QSport, c.QDport)
				// tshark 4.0 stops after the ports of a quoted TCP header unless ICMPv4 quotes it
				// directly (not inside IP-in-IP).
				if q.Proto == 6 && c.QSeq != 0 && !v6 && c.QuotedInner.Version == 0 {
					add("tcp.seq", strconv.FormatUint(uint64(c.QSeq), 10))
				}
			}
		}
	}
	return e
}

// tsMust are the fields a decoder must give whenever tshark does (the others may be missing from a
// short ICMP quote).
var tsMust = map[string]bool{"ip.src": true, "ip.dst": true, "ip.id": true, "ip.ttl": true, "ip.proto": true,
	"ipv6.src": true, "ipv6.dst": true, "tcp.srcport": true, "tcp.dstport": true, "udp.srcport": true,
	"udp.dstport": true, "icmp.type": true, "icmp.code": true, "icmpv6.type": true, "icmpv6.code": true,
	"arp.opcode": true, "vxlan.vni": true}

// tsCompare returns the fields on which the decoder's occurrences are not a prefix of tshark's, or
// are missing although tshark has them (a decoder that decodes nothing must not pass).
func tsCompare(ts, dec tsFrame) []string {
	var bad []string
	for _, k := range tsFields {
		t, d := ts[k], dec[k]
		if tsMust[k] && len(t) > 0 && len(d) == 0 {
			bad = append(bad, fmt.Sprintf("%s: tshark %v, decoder nothing", k, t))
			continue
		}
		if len(d) > len(t) {
			bad = append(bad, fmt.Sprintf("%s: tshark %v, decoder %v", k, t, d))
			continue
		}
		for i := range d {
			if d[i] != t[i] {
				bad = append(bad, fmt.Sprintf("%s: tshark %v, decoder %v", k, t, d))
				break
			}
		}
	}
	return bad
}

// tsCsumCompare returns why a decoded Packet's checksum verdict contradicts tshark's, or "". It looks
// at the checksums both verify, as tshark lists them outer first: the IPv4 headers (outer, inner), the
// VXLAN outer UDP checksum and the innermost transport checksum (not the headers an ICMP error quotes).
// A verdict of ok needs none of them bad in tshark; bad needs one of them bad. Unverifiable agrees
// with anything: tshark calls offload placeholders bad, and cannot know them for what they are.
func tsCsumCompare(ts tsFrame, p *Packet) string {
	if p.Checksum != CsumOK && p.Checksum != CsumBad {
		return ""
	}
	var v4, udp, tcp, icmp, icmp6 int // occurrences of each that the decoder verified
	if p.Encap != EncapNone && p.Outer.Version == 4 {
		v4++
	}
	if p.Inner.Version == 4 {
		v4++
	}
	if p.Encap == EncapVXLAN {
		udp++
	}
	switch {
	case p.HasTCP:
		tcp++
	case p.HasUDP:
		udp++
	case p.HasICMP && p.Inner.Proto == 58:
		icmp6++
	case p.HasICMP:
		icmp++
	}
	var bad []string
	for _, c := range []struct {
		field string
		n     int
	}{{"ip.checksum.status", v4}, {"udp.checksum.status", udp}, {"tcp.checksum.status", tcp},
		{"icmp.checksum.status", icmp}, {"icmpv6.checksum.status", icmp6}} {
		st := ts[c.field]
		for i := 0; i < c.n && i < len(st); i++ {
			if st[i] == "0" {
				bad = append(bad, fmt.Sprintf("%s[%d]", c.field, i))
			}
		}
	}
	switch {
	case p.Checksum == CsumOK && len(bad) > 0:
		return fmt.Sprintf("decoder ok (%v), tshark bad: %s", p.Errs.Strings(), strings.Join(bad, " "))
	case p.Checksum == CsumBad && len(bad) == 0:
		return fmt.Sprintf("decoder bad (%v), tshark finds no bad checksum among %v", p.Errs.Strings(), ts)
	}
	return ""
}

// tsWriteOffload writes the offload frames of lcoVariants to a pcap.
func tsWriteOffload(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(MaxCapLen, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1764086400, 0)
	for i, v := range lcoVariants(t) {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond),
			CaptureLength: len(v.frame), Length: len(v.frame)}
		if err := w.WritePacket(ci, v.frame); err != nil {
			t.Fatalf("write %s: %v", v.name, err)
		}
	}
}

// tsWriteFixtures writes every fixture frame to a pcapng, one interface per link type, in name order.
func tsWriteFixtures(t *testing.T, path string) {
	frames := fxFrames(t)
	names := make([]string, 0, len(frames))
	for n := range frames {
		names = append(names, n)
	}
	sort.Strings(names)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	links := []LinkType{LinkEthernet, LinkRaw, LinkLinuxSLL, LinkSLL2}
	intf := pcapgo.DefaultNgInterface
	intf.LinkType = layers.LinkType(links[0])
	w, err := pcapgo.NewNgWriterInterface(f, intf, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	idx := map[LinkType]int{links[0]: 0}
	for _, l := range links[1:] {
		intf.LinkType = layers.LinkType(l)
		if idx[l], err = w.AddInterface(intf); err != nil {
			t.Fatal(err)
		}
	}
	ts := time.Unix(1764086400, 0)
	for i, n := range names {
		fr := frames[n]
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond),
			CaptureLength: len(fr.data), Length: fr.origLen(), InterfaceIndex: idx[fr.link]}
		if err := w.WritePacket(ci, fr.data); err != nil {
			t.Fatalf("write %s: %v", n, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// gopacket's layers.LinkType is a uint8, so pcapgo wrote LINUX_SLL2 (276) as 20: patch the IDBs.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	id := 0
	for off := 0; off+12 <= len(b); {
		typ, n := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
		if n < 12 || off+n > len(b) {
			t.Fatalf("pcapng block at %d: length %d", off, n)
		}
		if typ == 1 { // interface description block
			binary.LittleEndian.PutUint16(b[off+8:], uint16(links[id]))
			id++
		}
		off += n
	}
	if id != len(links) {
		t.Fatalf("%d interface blocks written, want %d", id, len(links))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTshark runs tshark once per hundred captures (see testtool.TsharkFields), not once per capture.
func TestTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("tshark differential test skipped in -short mode")
	}
	testtool.Path(t, testtool.Tshark) // before the captures are generated
	testtool.Path(t, testtool.Mergecap)
	fixtures := filepath.Join(t.TempDir(), "fixtures.pcapng")
	tsWriteFixtures(t, fixtures)
	offload := filepath.Join(t.TempDir(), "offload.pcap")
	tsWriteOffload(t, offload)
	files := []string{fixtures, offload}
	for _, f := range diffCaptureFiles(t, filepath.Join("..", "testdata"), "testdata") {
		if !strings.Contains(filepath.ToSlash(f), "testdata/broken/") {
			files = append(files, f)
		}
	}
	generated := diffGenerated(t)
	files = append(files, generated...)
	want := testtool.TsharkFields(t, files, tsOptions, append(append([]string(nil), tsFields...), tsCsumFields...))
	for i, path := range files {
		name := strings.TrimPrefix(filepath.ToSlash(path), "../")
		switch {
		case path == fixtures:
			name = "fixtures"
		case path == offload:
			name = "offload"
		case i >= len(files)-len(generated):
			name = "gen/" + filepath.Base(path)
		}
		t.Run(name, func(t *testing.T) {
			tsCheckFile(t, want[i], path)
		})
	}
}

// tsCheckFile compares every frame of one capture across tshark and both decoders.
func tsCheckFile(t *testing.T, want map[uint32]tsFrame, path string) {
	r, c, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer c.Close()
	var (
		rec        Record
		slow, fast Packet
		o          Observation
		n, bad     int
	)
	dec := NewDecoder(Options{}, NewTables(), 0)
	for {
		err := r.Next(&rec)
		var re *RecordError
		if errors.As(err, &re) {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read after %d frames: %v", n, err)
		}
		n++
		ts, ok := want[rec.Frame]
		if !ok {
			t.Errorf("frame %d: tshark does not list it", rec.Frame)
			continue
		}
		DecodeSlow(rec.LinkType, rec.Data, rec.OrigLen, 0, &slow)
		dec.Decode(&rec, &fast, &o)
		for _, d := range []struct {
			name string
			p    *Packet
		}{{"DecodeSlow", &slow}, {"Decoder", &fast}} {
			m := tsCompare(ts, tsExpect(d.p))
			if c := tsCsumCompare(ts, d.p); c != "" {
				m = append(m, "checksum: "+c)
			}
			if len(m) > 0 {
				if bad++; bad <= 5 {
					t.Errorf("frame %d (%s): %s disagrees with tshark:\n  %s", rec.Frame, rec.LinkType, d.name,
						strings.Join(m, "\n  "))
				}
			}
		}
	}
	if bad > 5 {
		t.Errorf("%d disagreements with tshark in %d frames", bad, n)
	}
	if n != len(want) {
		t.Errorf("%d frames read; tshark lists %d", n, len(want))
	}
}
