package gen

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// frame is one record read back from a written file.
type frame struct {
	ts      int64
	data    []byte
	origLen int
}

type capFileRead struct {
	link   layers.LinkType
	frames []frame
	ng     bool
}

// readCapture reads a file with pcapgo (an implementation independent of the writer).
func readCapture(t *testing.T, path string) capFileRead {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r = gz
	}
	var out capFileRead
	type src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var s src
	if strings.Contains(path, ".pcapng") {
		ng, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out.link, out.ng, s = ng.LinkType(), true, ng
	} else {
		pr, err := pcapgo.NewReader(r)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out.link, s = pr.LinkType(), pr
	}
	for {
		data, ci, err := s.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: frame %d: %v", path, len(out.frames)+1, err)
		}
		out.frames = append(out.frames, frame{ts: ci.Timestamp.UnixNano(), data: data, origLen: ci.Length})
	}
	return out
}

// onesSum is a straightforward RFC 1071 sum, independent of the generator's prefix sums.
func onesSum(parts ...[]byte) uint16 {
	var s uint32
	var odd bool
	var carry byte
	for _, p := range parts {
		for _, b := range p {
			if odd {
				s += uint32(carry)<<8 | uint32(b)
			} else {
				carry = b
			}
			odd = !odd
		}
	}
	if odd {
		s += uint32(carry) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// noChecksum returns a copy of the transport bytes with the checksum field zeroed.
func noChecksum(ip *layers.IPv4) []byte {
	b := append([]byte(nil), ip.Payload...)
	off := map[layers.IPProtocol]int{layers.IPProtocolTCP: 16, layers.IPProtocolUDP: 6, layers.IPProtocolICMPv4: 2}[ip.Protocol]
	b[off], b[off+1] = 0, 0
	return b
}

func ipHeaderOK(ip *layers.IPv4) bool { return onesSum(ip.Contents) == 0xffff }

// l4Checksum checks a TCP/UDP/ICMP checksum; with partial it expects the folded pseudo-header sum.
func l4Checksum(ip *layers.IPv4, partial bool) (ok bool, field uint16) {
	l4 := ip.Payload
	if ip.Protocol == layers.IPProtocolICMPv4 {
		return onesSum(l4) == 0xffff, binary.BigEndian.Uint16(l4[2:])
	}
	pseudo := make([]byte, 12)
	copy(pseudo, ip.SrcIP.To4())
	copy(pseudo[4:], ip.DstIP.To4())
	pseudo[9] = byte(ip.Protocol)
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(l4)))
	off := 16
	if ip.Protocol == layers.IPProtocolUDP {
		off = 6
	}
	field = binary.BigEndian.Uint16(l4[off:])
	if partial {
		return field == onesSum(pseudo), field
	}
	return onesSum(pseudo, l4) == 0xffff, field
}

// decoded is what a test needs from one frame.
type decoded struct {
	eth      []*layers.Ethernet
	ips      []*layers.IPv4 // outermost first
	udpOuter *layers.UDP
	vxlan    *layers.VXLAN
	tcp      *layers.TCP
	udp      *layers.UDP
	icmp     *layers.ICMPv4
	arp      *layers.ARP
}

// dnsPayload reports a UDP packet to or from port 53, whose payload gopacket decodes as DNS: the
// many-flow mix's DNS-like payloads are the pool's random bytes, not DNS messages.
func dnsPayload(p gopacket.Packet) bool {
	for _, l := range p.Layers() {
		if u, ok := l.(*layers.UDP); ok && (u.DstPort == 53 || u.SrcPort == 53) {
			return true
		}
	}
	return false
}

func decodeFrame(t *testing.T, link layers.LinkType, data []byte) decoded {
	t.Helper()
	p := gopacket.NewPacket(data, link, gopacket.Default)
	if el := p.ErrorLayer(); el != nil && !dnsPayload(p) {
		t.Fatalf("decode error: %v", el.Error())
	}
	var d decoded
	for _, l := range p.Layers() {
		switch l := l.(type) {
		case *layers.Ethernet:
			d.eth = append(d.eth, l)
		case *layers.IPv4:
			d.ips = append(d.ips, l)
		case *layers.VXLAN:
			d.vxlan = l
		case *layers.UDP:
			if l.DstPort == vxlanPort && d.vxlan == nil && len(d.ips) == 1 && d.udpOuter == nil && len(d.eth) == 1 {
				d.udpOuter = l
			} else {
				d.udp = l
			}
		case *layers.TCP:
			d.tcp = l
		case *layers.ICMPv4:
			d.icmp = l
		case *layers.ARP:
			d.arp = l
		}
	}
	return d
}

func smallConfig(t *testing.T) Config {
	c := DefaultConfig()
	c.Dir = t.TempDir()
	c.Packets = 3000
	c.Flows = 12
	c.Protos = Protos{TCP: 1, UDP: 1, ICMP: 1}
	return c
}

func generate(t *testing.T, c Config) *Result {
	t.Helper()
	res, err := Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"pcap", func(c *Config) {}},
		{"pcapng-gzip-ns", func(c *Config) { c.Format, c.Gzip, c.Nanosecond = FormatPcapNG, true, true }},
		{"vxlan-knobs", func(c *Config) {
			c.Mode, c.LossPerHop, c.DupRate, c.RetransRate, c.DNAT = ModeVXLAN, 0.02, 0.05, 0.05, 0.5
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := smallConfig(t), smallConfig(t)
			tc.set(&a)
			tc.set(&b)
			ra, rb := generate(t, a), generate(t, b)
			if len(ra.Files) != len(rb.Files) {
				t.Fatalf("file counts differ: %d vs %d", len(ra.Files), len(rb.Files))
			}
			for i := range ra.Files {
				x, _ := os.ReadFile(ra.Files[i])
				y, _ := os.ReadFile(rb.Files[i])
				if len(x) == 0 || !bytes.Equal(x, y) {
					t.Errorf("%s: not byte-identical (%d vs %d bytes)", filepath.Base(ra.Files[i]), len(x), len(y))
				}
			}
			ja, _ := json.Marshal(ra.Truth)
			jb, _ := json.Marshal(rb.Truth)
			if !bytes.Equal(ja, jb) {
				t.Error("truths differ")
			}
			c := smallConfig(t)
			tc.set(&c)
			c.Seed = 2
			rc := generate(t, c)
			x, _ := os.ReadFile(ra.Files[0])
			y, _ := os.ReadFile(rc.Files[0])
			if bytes.Equal(x, y) {
				t.Error("seed 2 wrote the same bytes as seed 1")
			}
		})
	}
}

// checker verifies a run's files against its truth.
type checker struct {
	t     *testing.T
	cfg   Config
	res   *Result
	files []capFileRead
	used  [][]bool // per file, per frame: accounted for by the truth
	nodes map[string]NodeTruth
}

func newChecker(t *testing.T, cfg Config, res *Result) *checker {
	ck := &checker{t: t, cfg: cfg, res: res, nodes: map[string]NodeTruth{}}
	for _, n := range res.Truth.Nodes {
		ck.nodes[n.Name] = n
	}
	for i, ft := range res.Truth.Files {
		fr := readCapture(t, res.Files[i])
		if int(fr.link) != ft.LinkType {
			t.Errorf("%s: link type %d, truth %d", ft.Name, fr.link, ft.LinkType)
		}
		if len(fr.frames) != ft.Frames {
			t.Errorf("%s: %d frames, truth %d", ft.Name, len(fr.frames), ft.Frames)
		}
		back := int64(0) // a step back of the node's clock: its files' times go back once, by up to its size
		if st := ck.nodes[ft.Node].Step; st != nil && st.Size < 0 {
			back = -int64(st.Size)
		}
		for k := 1; k < len(fr.frames); k++ {
			if d := fr.frames[k-1].ts - fr.frames[k].ts; d > back {
				t.Errorf("%s: frame %d goes back in time", ft.Name, k+1)
				break
			} else if d > 0 {
				back = 0
			}
		}
		ck.files = append(ck.files, fr)
		ck.used = append(ck.used, make([]bool, len(fr.frames)))
	}
	return ck
}

func (ck *checker) frame(file int, n uint32) frame {
	f := ck.files[file].frames
	if n < 1 || int(n) > len(f) {
		ck.t.Fatalf("%s: no frame %d", ck.res.Truth.Files[file].Name, n)
	}
	if ck.used[file][n-1] {
		ck.t.Errorf("%s: frame %d claimed twice", ck.res.Truth.Files[file].Name, n)
	}
	ck.used[file][n-1] = true
	return f[n-1]
}

func ip4(a [4]byte) net.IP { return net.IP(a[:]) }

// checkAll verifies every packet capture and ARP exchange, and that nothing in the files is unexplained.
func (ck *checker) checkAll() {
	t, tr := ck.t, ck.res.Truth
	if int64(len(tr.Packets)) != ck.res.Packets || len(tr.Packets) != ck.cfg.Packets {
		t.Fatalf("truth has %d packets, result %d, config %d", len(tr.Packets), ck.res.Packets, ck.cfg.Packets)
	}
	for i := range tr.Packets {
		ck.checkPacket(&tr.Packets[i])
		if t.Failed() {
			return
		}
	}
	for _, a := range tr.ARP {
		req := decodeFrame(t, layers.LinkTypeEthernet, ck.frame(a.File, a.RequestFrame).data)
		rep := decodeFrame(t, layers.LinkTypeEthernet, ck.frame(a.File, a.ReplyFrame).data)
		if req.arp == nil || rep.arp == nil || req.arp.Operation != 1 || rep.arp.Operation != 2 {
			t.Fatalf("ARP %+v: frames are not request and reply", a)
		}
		if !net.IP(req.arp.DstProtAddress).Equal(net.IPv4(169, 254, 1, 1)) ||
			!bytes.Equal(rep.arp.SourceHwAddress, caliMAC[:]) || !bytes.Equal(req.eth[0].DstMAC, broadcast[:]) {
			t.Errorf("ARP %+v: want who-has 169.254.1.1 and is-at ee:ee:ee:ee:ee:ee", a)
		}
		if a.ReplyTime < a.RequestTime {
			t.Errorf("ARP %+v: reply before request", a)
		}
	}
	for i, u := range ck.used {
		for k, ok := range u {
			if !ok {
				t.Errorf("%s: frame %d is in no truth record", tr.Files[i].Name, k+1)
				return
			}
		}
	}
}

func (ck *checker) checkPacket(p *PacketTruth) {
	t, tr, cfg := ck.t, ck.res.Truth, ck.cfg
	fl := tr.Flows[p.Flow]
	src, dst := fl.ClientIP, fl.ServerIP
	if p.Dir == 1 {
		src, dst = dst, src
	}
	hops := 6
	if cfg.Mode == ModeBGP {
		hops = 4
	}
	if p.Hops != hops {
		t.Fatalf("packet %d: %d hops, want %d", p.ID, p.Hops, hops)
	}
	seen := 0
	var first []byte
	for _, c := range p.Captures {
		if !c.Dup {
			if c.Hop != seen {
				t.Fatalf("packet %d: capture at hop %d, want %d", p.ID, c.Hop, seen)
			}
			seen++
		}
	}
	if p.Lost != (seen < hops) || p.Lost && p.LostAfter != seen-1 || !p.Lost && p.LostAfter != -1 {
		t.Fatalf("packet %d: lost=%v after %d but seen at %d hops", p.ID, p.Lost, p.LostAfter, seen)
	}
	if p.Lost && !strings.Contains(p.Segment, " -> ") {
		t.Fatalf("packet %d: lost without a segment", p.ID)
	}
	var prevTrue int64
	orig := map[int][]byte{}
	for _, c := range p.Captures {
		ft := tr.Files[c.File]
		fr := ck.frame(c.File, c.Frame)
		if fr.ts != c.Recorded {
			t.Fatalf("packet %d hop %d: %s frame %d at %d, truth %d", p.ID, c.Hop, ft.Name, c.Frame, fr.ts, c.Recorded)
		}
		if c.True < prevTrue {
			t.Fatalf("packet %d: captures out of time order", p.ID)
		}
		prevTrue = c.True
		if c.Dup {
			if !bytes.Equal(orig[c.Hop], fr.data) {
				t.Fatalf("packet %d: duplicate at hop %d differs from the original", p.ID, c.Hop)
			}
			continue
		}
		orig[c.Hop] = fr.data
		n := ck.nodes[ft.Node]
		ck.checkClock(n, c, p.ID)
		receiving := c.Hop > (hops-1)/2
		wantPoint := []string{kindCali, kindTunnel, kindEth0, kindEth0, kindTunnel, kindCali}[c.Hop]
		if hops == 4 {
			wantPoint = []string{kindCali, kindEth0, kindEth0, kindCali}[c.Hop]
		}
		if ft.Point != wantPoint {
			t.Fatalf("packet %d hop %d captured at %s (%s)", p.ID, c.Hop, ft.Point, ft.Name)
		}
		d := decodeFrame(t, layers.LinkType(ck.files[c.File].link), fr.data)
		if len(d.ips) == 0 {
			t.Fatalf("packet %d hop %d: no IPv4 in %s frame %d", p.ID, c.Hop, ft.Name, c.Frame)
		}
		if fr.origLen > len(fr.data) {
			continue // snapped: headers checked by the snaplen test
		}
		for _, ip := range d.ips {
			if !ipHeaderOK(ip) {
				t.Fatalf("packet %d hop %d: bad IPv4 header checksum", p.ID, c.Hop)
			}
		}
		in := d.ips[len(d.ips)-1]
		wsrc, wdst := ip4(src.As4()), ip4(dst.As4())
		if fl.DNAT != nil && p.Dir == 0 && c.Hop == 0 {
			wdst = ip4(fl.DNAT.ServiceIP.As4())
		}
		if fl.DNAT != nil && p.Dir == 1 && c.Hop == hops-1 {
			wsrc = ip4(fl.DNAT.ServiceIP.As4())
		}
		if !in.SrcIP.Equal(wsrc) || !in.DstIP.Equal(wdst) {
			t.Fatalf("packet %d hop %d (%s): inner %v > %v, want %v > %v", p.ID, c.Hop, ft.Name, in.SrcIP, in.DstIP, wsrc, wdst)
		}
		wttl := 64
		switch {
		case c.Hop == 0:
		case hops == 4 && c.Hop == 2:
			wttl = 63 - cfg.Routers
		case c.Hop == hops-1:
			wttl = 62
			if hops == 4 {
				wttl -= cfg.Routers
			}
		default:
			wttl = 63
		}
		if int(in.TTL) != wttl {
			t.Fatalf("packet %d hop %d (%s): inner TTL %d, want %d", p.ID, c.Hop, ft.Name, in.TTL, wttl)
		}
		if in.Id != p.IPID || int(in.Length) != p.Len {
			t.Fatalf("packet %d hop %d: IP id %d len %d, truth %d %d", p.ID, c.Hop, in.Id, in.Length, p.IPID, p.Len)
		}
		if fl.IPID0DF && (in.Id != 0 || in.Flags&layers.IPv4DontFragment == 0) {
			t.Fatalf("packet %d: IPID0DF flow sent id %d flags %v", p.ID, in.Id, in.Flags)
		}
		if ok, field := l4Checksum(in, c.Partial); !ok {
			t.Fatalf("packet %d hop %d (%s): L4 checksum %#04x wrong (partial=%v)", p.ID, c.Hop, ft.Name, field, c.Partial)
		}
		if c.Partial != (cfg.PartialCsum && !receiving && fl.Proto != protoICMP) {
			t.Fatalf("packet %d hop %d: partial=%v", p.ID, c.Hop, c.Partial)
		}
		// Ports as the hop sees them: the service's where the client sees the service address.
		wsp, wdp := fl.Sport, fl.Dport
		if p.Dir == 1 {
			wsp, wdp = wdp, wsp
		}
		if fl.DNAT != nil && p.Dir == 0 && c.Hop == 0 {
			wdp = fl.DNAT.ServicePort
		}
		if fl.DNAT != nil && p.Dir == 1 && c.Hop == hops-1 {
			wsp = fl.DNAT.ServicePort
		}
		var sp, dp uint16
		switch {
		case d.tcp != nil:
			sp, dp = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
		case d.udp != nil:
			sp, dp = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
		default:
			sp, dp = wsp, wdp // ICMP: the identifier is checked with the sequence below
		}
		if sp != wsp || dp != wdp {
			t.Fatalf("packet %d hop %d (%s): ports %d > %d, want %d > %d", p.ID, c.Hop, ft.Name, sp, dp, wsp, wdp)
		}
		switch fl.Proto {
		case protoTCP:
			if d.tcp == nil || d.tcp.Seq != p.Seq {
				t.Fatalf("packet %d hop %d: want TCP seq %d", p.ID, c.Hop, p.Seq)
			}
		case protoUDP:
			if d.udp == nil {
				t.Fatalf("packet %d hop %d: no UDP", p.ID, c.Hop)
			}
		case protoICMP:
			if d.icmp == nil || uint32(d.icmp.Id)<<16|uint32(d.icmp.Seq) != p.Seq {
				t.Fatalf("packet %d hop %d: want ICMP echo %#x", p.ID, c.Hop, p.Seq)
			}
		}
		l4 := noChecksum(in)
		if c.Hop == 0 {
			first = l4
		} else if fl.DNAT == nil && !bytes.Equal(first, l4) {
			t.Fatalf("packet %d hop %d: transport bytes changed along the path", p.ID, c.Hop)
		}
		ck.checkLink(p, c, d, ft, receiving)
	}
}

// checkLink verifies MACs and outer headers.
func (ck *checker) checkLink(p *PacketTruth, c Capture, d decoded, ft FileTruth, receiving bool) {
	t, tr, cfg := ck.t, ck.res.Truth, ck.cfg
	fl := tr.Flows[p.Flow]
	sNode, rNode := podNode(fl.Client), podNode(fl.Server)
	if p.Dir == 1 {
		sNode, rNode = rNode, sNode
	}
	sn, rn := ck.nodes[sNode], ck.nodes[rNode]
	in := d.ips[len(d.ips)-1]
	switch ft.Point {
	case kindCali:
		if len(d.eth) != 1 || len(d.ips) != 1 {
			t.Fatalf("packet %d: cali frame is not Ethernet/IPv4", p.ID)
		}
		if receiving && d.eth[0].SrcMAC.String() != "ee:ee:ee:ee:ee:ee" ||
			!receiving && d.eth[0].DstMAC.String() != "ee:ee:ee:ee:ee:ee" {
			t.Fatalf("packet %d: cali MACs %v > %v", p.ID, d.eth[0].SrcMAC, d.eth[0].DstMAC)
		}
	case kindTunnel:
		if len(d.ips) != 1 {
			t.Fatalf("packet %d: tunnel frame has %d IP headers", p.ID, len(d.ips))
		}
		if cfg.Mode == ModeVXLAN {
			if len(d.eth) != 1 || d.eth[0].SrcMAC.String() != sn.VTEPMAC || d.eth[0].DstMAC.String() != rn.VTEPMAC {
				t.Fatalf("packet %d: vxlan.calico MACs wrong", p.ID)
			}
		} else if len(d.eth) != 0 {
			t.Fatalf("packet %d: tunl0 frame has an Ethernet header", p.ID)
		}
	case kindEth0:
		hop := 1
		if receiving {
			hop = 1 + cfg.Routers
		}
		switch cfg.Mode {
		case ModeBGP:
			if len(d.ips) != 1 {
				t.Fatalf("packet %d: BGP underlay frame encapsulated", p.ID)
			}
		case ModeIPIP:
			if len(d.ips) != 2 {
				t.Fatalf("packet %d: IPIP underlay frame has %d IP headers", p.ID, len(d.ips))
			}
			o := d.ips[0]
			if o.Protocol != layers.IPProtocolIPv4 || int(o.TTL) != 64-hop ||
				o.Flags&layers.IPv4DontFragment != in.Flags&layers.IPv4DontFragment {
				t.Fatalf("packet %d: outer IPIP header proto %v TTL %d flags %v", p.ID, o.Protocol, o.TTL, o.Flags)
			}
		case ModeVXLAN:
			if len(d.ips) != 2 || d.vxlan == nil || d.udpOuter == nil {
				t.Fatalf("packet %d: not VXLAN on the underlay", p.ID)
			}
			o := d.ips[0]
			if int(o.TTL) != 65-hop || o.Flags&layers.IPv4DontFragment != 0 || d.vxlan.VNI != vxlanVNI ||
				d.udpOuter.Checksum != 0 || d.udpOuter.SrcPort < 32768 || d.udpOuter.SrcPort > 60999 {
				t.Fatalf("packet %d: outer VXLAN TTL %d flags %v VNI %d csum %#x sport %d", p.ID, o.TTL, o.Flags,
					d.vxlan.VNI, d.udpOuter.Checksum, d.udpOuter.SrcPort)
			}
			if d.eth[1].SrcMAC.String() != sn.VTEPMAC || d.eth[1].DstMAC.String() != rn.VTEPMAC {
				t.Fatalf("packet %d: inner VXLAN MACs wrong", p.ID)
			}
		}
		if cfg.Mode != ModeBGP {
			o := d.ips[0]
			if !o.SrcIP.Equal(ip4(sn.IP.As4())) || !o.DstIP.Equal(ip4(rn.IP.As4())) {
				t.Fatalf("packet %d: outer %v > %v, want %v > %v", p.ID, o.SrcIP, o.DstIP, sn.IP, rn.IP)
			}
		}
		if receiving && d.eth[0].DstMAC.String() != rn.MAC || !receiving && d.eth[0].SrcMAC.String() != sn.MAC {
			t.Fatalf("packet %d: eth0 MACs %v > %v", p.ID, d.eth[0].SrcMAC, d.eth[0].DstMAC)
		}
	}
}

func podNode(pod string) string {
	var n, k int
	fmt.Sscanf(pod, "pod-%d-%d", &n, &k)
	return fmt.Sprintf("node-%d", n)
}

// checkClock verifies recorded = true + offset + drift (+ the step from its moment on), rounded down
// to the file's resolution.
func (ck *checker) checkClock(n NodeTruth, c Capture, id int64) {
	want := c.True + int64(n.Offset) + int64(float64(c.True-ck.res.Truth.Start)*n.DriftPPM/1e6)
	if n.Step != nil && c.True-ck.res.Truth.Start >= int64(n.Step.At) {
		want += int64(n.Step.Size)
	}
	if !ck.cfg.Nanosecond {
		want -= want % 1000
	}
	if c.Recorded < want || c.Recorded > want+1000 { // a later clamp keeps a file in order
		ck.t.Fatalf("packet %d hop %d: recorded %d, want %d", id, c.Hop, c.Recorded, want)
	}
}

func TestTruthMatchesFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"ipip", func(c *Config) {}},
		{"ipip-knobs", func(c *Config) {
			c.LossPerHop, c.DupRate, c.RetransRate, c.DNAT, c.IPID0DF = 0.03, 0.1, 0.05, 0.5, 0.3
			c.ClockOffset = map[string]time.Duration{"node-2": 5 * time.Second}
			c.DriftPPM = map[string]float64{"node-1": -50, "node-2": 100}
		}},
		{"vxlan-pcapng-ns-gzip", func(c *Config) {
			c.Mode, c.Format, c.Nanosecond, c.Gzip, c.DNAT, c.DupRate = ModeVXLAN, FormatPcapNG, true, true, 0.5, 0.1
			c.PartialCsum = true
		}},
		// Clocks that step (back, and forward), one drifting too: a file's times go back at a step back,
		// as a real capture's do, rather than being held at the last one.
		{"ipip-steps", func(c *Config) {
			c.DriftPPM = map[string]float64{"node-2": 100}
			c.ClockStep = map[string]ClockStep{"node-2": {At: 100 * time.Millisecond, Size: -3 * time.Millisecond},
				"node-1": {At: 150 * time.Millisecond, Size: 2 * time.Millisecond}}
		}},
		{"bgp-3nodes", func(c *Config) {
			c.Mode, c.Nodes, c.PodsPerNode, c.Routers, c.LossPerHop = ModeBGP, 3, 2, 2, 0.02
			c.ClockOffset = map[string]time.Duration{"node-3": -1500 * time.Millisecond}
		}},
		{"ipip-no-routers-partial", func(c *Config) {
			c.Routers, c.PartialCsum, c.Nanosecond, c.PodsPerNode = 0, true, true, 3
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig(t)
			tc.set(&c)
			res := generate(t, c)
			ck := newChecker(t, c, res)
			ck.checkAll()
			held := checkTCPProgression(t, res.Truth, ck)
			if c.LossPerHop > 0 && held == 0 {
				t.Errorf("loss %v: no ACK held back by a lost segment; the test proves nothing", c.LossPerHop)
			}
		})
	}
}

// checkTCPProgression verifies seq/ack progression of each TCP flow from the hop-0 frames: each
// direction's segments follow each other in sequence space (a retransmission resends its packet's
// range), and every acknowledgement number is what the truth says its sender had received, in order,
// before it sent the segment: the end of the contiguous bytes of the peer's segments that were
// delivered (not lost) and captured at the last point of their path strictly before the segment's
// first capture. It returns how many ACKs stop short of what the peer had sent (held back by a loss).
func checkTCPProgression(t *testing.T, tr *Truth, ck *checker) (heldBack int) {
	t.Helper()
	type seg struct {
		seq, ack, n uint32
		flags       bool // ACK set
		sent, arr   int64
		delivered   bool
	}
	per := map[int][]*PacketTruth{}
	for i := range tr.Packets {
		p := &tr.Packets[i]
		if tr.Flows[p.Flow].Proto == protoTCP {
			per[p.Flow] = append(per[p.Flow], p)
		}
	}
	for id, ps := range per {
		var next [2]uint32
		var started [2]bool
		var isn [2]uint32
		var bySide [2][]seg
		segs := map[int64]seg{}
		for _, p := range ps {
			c := p.Captures[0]
			d := decodeFrame(t, layers.LinkTypeEthernet, ck.files[c.File].frames[c.Frame-1].data)
			s := seg{seq: d.tcp.Seq, ack: d.tcp.Ack, n: uint32(len(d.tcp.Payload)), flags: d.tcp.ACK, sent: c.True,
				delivered: !p.Lost}
			if d.tcp.SYN {
				s.n++
			}
			if d.tcp.FIN {
				s.n++
			}
			for _, k := range p.Captures {
				if k.Hop == p.Hops-1 && !k.Dup {
					s.arr = k.True
				}
			}
			if s.delivered != (s.arr != 0) {
				t.Fatalf("flow %d packet %d: lost %v, yet captured at the last hop: %v", id, p.ID, p.Lost, s.arr != 0)
			}
			if !started[p.Dir] {
				isn[p.Dir] = s.seq
			}
			if s.flags {
				// What the sender had received: the peer's delivered segments that arrived before s was
				// sent, in sequence order from the peer's first sequence number, up to the first hole.
				var got []seg
				for _, o := range bySide[1-p.Dir] {
					if o.delivered && o.arr < s.sent {
						got = append(got, o)
					}
				}
				sort.Slice(got, func(a, b int) bool { return got[a].seq-isn[1-p.Dir] < got[b].seq-isn[1-p.Dir] })
				want := isn[1-p.Dir]
				for _, o := range got {
					if o.seq-isn[1-p.Dir] > want-isn[1-p.Dir] {
						break // a hole
					}
					if e := o.seq + o.n; e-isn[1-p.Dir] > want-isn[1-p.Dir] {
						want = e
					}
				}
				if s.ack != want {
					t.Fatalf("flow %d packet %d (sent at %d): ack %d, want %d (received in order by then)", id, p.ID,
						s.sent, s.ack, want)
				}
				if started[1-p.Dir] && s.ack != next[1-p.Dir] {
					heldBack++
				}
			} else if s.ack != 0 {
				t.Fatalf("flow %d packet %d: ack %d without the ACK flag", id, p.ID, s.ack)
			}
			bySide[p.Dir] = append(bySide[p.Dir], s)
			if p.Retrans {
				o := segs[p.RetransOf]
				if o.seq != s.seq || o.n != s.n {
					t.Fatalf("flow %d: retransmission %d differs from packet %d", id, p.ID, p.RetransOf)
				}
				if !tr.Flows[id].IPID0DF && tr.Packets[p.RetransOf].IPID == p.IPID {
					t.Fatalf("flow %d: retransmission %d kept the IP id", id, p.ID)
				}
				segs[p.ID] = s
				continue
			}
			segs[p.ID] = s
			if started[p.Dir] && s.seq != next[p.Dir] {
				t.Fatalf("flow %d packet %d: seq %d, want %d", id, p.ID, s.seq, next[p.Dir])
			}
			started[p.Dir] = true
			next[p.Dir] = s.seq + s.n
		}
	}
	return heldBack
}

// run generates with one knob changed and returns the truth.
func runWith(t *testing.T, set func(*Config)) (Config, *Result) {
	c := smallConfig(t)
	set(&c)
	return c, generate(t, c)
}

func TestKnobs(t *testing.T) {
	count := func(tr *Truth, f func(*PacketTruth) bool) int {
		n := 0
		for i := range tr.Packets {
			if f(&tr.Packets[i]) {
				n++
			}
		}
		return n
	}
	lost := func(p *PacketTruth) bool { return p.Lost }
	dup := func(p *PacketTruth) bool {
		for _, c := range p.Captures {
			if c.Dup {
				return true
			}
		}
		return false
	}
	retrans := func(p *PacketTruth) bool { return p.Retrans }
	_, base := runWith(t, func(c *Config) {})
	if n := count(base.Truth, lost) + count(base.Truth, dup) + count(base.Truth, retrans); n != 0 {
		t.Fatalf("default run has %d lost/dup/retransmitted packets", n)
	}
	if base.Frames != int64(6*3000+2*len(base.Truth.ARP)) {
		t.Errorf("default run: %d frames, want 6×packets + ARP", base.Frames)
	}

	t.Run("loss", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.LossPerHop = 0.05; c.Protos = Protos{UDP: 1} })
		frac := float64(count(r.Truth, lost)) / 3000
		want := 1 - math.Pow(0.95, 5)
		if math.Abs(frac-want) > 0.05 {
			t.Errorf("lost fraction %.3f, want about %.3f", frac, want)
		}
	})
	t.Run("dup", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.DupRate = 0.2 })
		if frac := float64(count(r.Truth, dup)) / 3000; math.Abs(frac-0.2) > 0.04 {
			t.Errorf("duplicated fraction %.3f, want about 0.2", frac)
		}
	})
	t.Run("retrans", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.RetransRate = 0.1; c.Protos = Protos{TCP: 1} })
		if n := count(r.Truth, retrans); n < 100 || n > 450 {
			t.Errorf("%d retransmissions in 3000 TCP packets at 10%%", n)
		}
		if len(r.Truth.Packets) != 3000 {
			t.Errorf("%d packets, want 3000", len(r.Truth.Packets))
		}
	})
	t.Run("loss-causes-retrans", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.LossPerHop = 0.05; c.Protos = Protos{TCP: 1} })
		if count(r.Truth, retrans) == 0 {
			t.Error("lost TCP segments were never retransmitted")
		}
	})
	t.Run("dnat-ipid0", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.DNAT, c.IPID0DF, c.Flows = 0.5, 0.5, 40 })
		var nat, id0 int
		for _, f := range r.Truth.Flows {
			if f.DNAT != nil {
				nat++
				if f.Proto == protoICMP || !strings.HasPrefix(f.DNAT.ServiceIP.String(), "10.96.") {
					t.Errorf("flow %d: DNAT %+v", f.ID, f.DNAT)
				}
			}
			if f.IPID0DF {
				id0++
			}
		}
		if nat < 5 || id0 < 8 {
			t.Errorf("%d DNAT and %d IPID0DF flows of 40", nat, id0)
		}
		for _, f := range base.Truth.Flows {
			if f.DNAT != nil || f.IPID0DF {
				t.Errorf("default flow %d has DNAT or IPID0DF", f.ID)
			}
		}
	})
	t.Run("clock", func(t *testing.T) {
		c, r := runWith(t, func(c *Config) {
			c.ClockOffset = map[string]time.Duration{"node-2": 5 * time.Second}
			c.DriftPPM = map[string]float64{"node-2": 1000}
		})
		ck := newChecker(t, c, r)
		for i := range r.Truth.Packets {
			for _, cp := range r.Truth.Packets[i].Captures {
				node := r.Truth.Files[cp.File].Node
				skew := cp.Recorded - cp.True
				if node == "node-1" && (skew > 0 || skew < -1000) {
					t.Fatalf("node-1 skew %d", skew)
				}
				want := int64(5*time.Second) + (cp.True-r.Truth.Start)/1000
				if node == "node-2" && (skew < want-1000 || skew > want+1) {
					t.Fatalf("node-2 skew %d, want %d", skew, want)
				}
				if ck.files[cp.File].frames[cp.Frame-1].ts != cp.Recorded {
					t.Fatal("recorded time not in the file")
				}
			}
		}
	})
	t.Run("protos", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.Protos = Protos{ICMP: 1} })
		for _, f := range r.Truth.Flows {
			if f.Proto != protoICMP {
				t.Fatalf("flow %d proto %d with ICMP only", f.ID, f.Proto)
			}
		}
	})
	t.Run("flows-rate", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.Flows, c.Rate = 50, 1000 })
		if len(r.Truth.Flows) != 50 {
			t.Errorf("%d flows, want 50", len(r.Truth.Flows))
		}
		var last int64
		for _, p := range r.Truth.Packets {
			last = max(last, p.Captures[0].True)
		}
		// 3000 packets at 1000/s take about 3 s.
		if d := time.Duration(last - r.Truth.Start); d < 2*time.Second || d > 5*time.Second {
			t.Errorf("run lasted %v, want about 3s", d)
		}
	})
	t.Run("latency", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.Latency.Wire = Span{time.Millisecond, time.Millisecond} })
		for _, p := range r.Truth.Packets {
			if d := p.Captures[3].True - p.Captures[2].True; d != int64(time.Millisecond) {
				t.Fatalf("wire latency %d, want 1ms", d)
			}
			if d := p.Captures[1].True - p.Captures[0].True; d < 10000 || d > 30000 {
				t.Fatalf("cali→tunnel latency %d outside 10-30µs", d)
			}
		}
	})
	t.Run("snaplen-payload", func(t *testing.T) {
		c, r := runWith(t, func(c *Config) { c.Snaplen, c.PayloadMax = 96, 1000; c.Protos = Protos{UDP: 1} })
		var big, cut bool
		for i, path := range r.Files {
			fr := readCapture(t, path)
			for _, f := range fr.frames {
				if len(f.data) > c.Snaplen {
					t.Fatalf("%s: frame of %d bytes above snaplen", r.Truth.Files[i].Name, len(f.data))
				}
				cut = cut || f.origLen > len(f.data)
				big = big || f.origLen > 600
			}
		}
		if !cut || !big {
			t.Errorf("snaplen/payload had no effect (cut %v big %v)", cut, big)
		}
	})
	t.Run("timestamps", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.Nanosecond = true })
		sub := 0
		for _, p := range r.Truth.Packets {
			if p.Captures[0].Recorded%1000 != 0 {
				sub++
			}
		}
		if sub == 0 {
			t.Error("nanosecond run has only whole-µs timestamps")
		}
		for _, p := range base.Truth.Packets {
			if p.Captures[0].Recorded%1000 != 0 {
				t.Fatal("µs run has sub-µs timestamps")
			}
		}
	})
	t.Run("gzip-pcapng", func(t *testing.T) {
		_, r := runWith(t, func(c *Config) { c.Gzip, c.Format = true, FormatPcapNG })
		for _, p := range r.Files {
			b, _ := os.ReadFile(p)
			if !strings.HasSuffix(p, ".pcapng.gz") || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
				t.Fatalf("%s is not a gzip file", p)
			}
			if fr := readCapture(t, p); !fr.ng || len(fr.frames) == 0 {
				t.Fatalf("%s: not pcapng", p)
			}
		}
	})
}

func TestNames(t *testing.T) {
	if got := CaliName("default", "nginx"); got != "calic440f455693" {
		t.Errorf("CaliName = %s", got)
	}
	if got := macString(VTEPMAC("node-1")); got != "66:b3:68:28:39:8e" {
		t.Errorf("VTEPMAC(node-1) = %s", got)
	}
	for _, tc := range []struct {
		name string
		n, i int
	}{{"node-1", 2, 0}, {"node-2", 2, 1}, {"node-3", 2, -1}, {"node-01", 2, -1}, {"node-0", 2, -1}, {"x", 2, -1}} {
		if got := nodeIndex(tc.name, tc.n); got != tc.i {
			t.Errorf("nodeIndex(%q, %d) = %d, want %d", tc.name, tc.n, got, tc.i)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"nodes", func(c *Config) { c.Nodes = 1 }},
		{"pods", func(c *Config) { c.PodsPerNode = 0 }},
		{"packets", func(c *Config) { c.Packets = 0 }},
		{"loss", func(c *Config) { c.LossPerHop = 1.5 }},
		{"nan", func(c *Config) { c.DupRate = math.NaN() }},
		{"offset-node", func(c *Config) { c.ClockOffset = map[string]time.Duration{"node-9": 1} }},
		{"drift", func(c *Config) { c.DriftPPM = map[string]float64{"node-1": 1e6} }},
		{"step-node", func(c *Config) { c.ClockStep = map[string]ClockStep{"node-9": {Size: 1}} }},
		{"step-at", func(c *Config) { c.ClockStep = map[string]ClockStep{"node-1": {At: -1, Size: 1}} }},
		{"protos", func(c *Config) { c.Protos = Protos{} }},
		{"latency", func(c *Config) { c.Latency.Wire = Span{2, 1} }},
		{"snaplen", func(c *Config) { c.Snaplen = 10 }},
		{"rate", func(c *Config) { c.Rate = 0 }},
		{"dir", func(c *Config) { c.Dir = "" }},
	} {
		c := DefaultConfig()
		c.Dir = "x"
		tc.set(&c)
		if _, err := Generate(c); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestJSONLAgreesWithMemory(t *testing.T) {
	c := smallConfig(t)
	c.TruthJSONL = "truth.jsonl"
	c.LossPerHop, c.DupRate, c.RetransRate = 0.02, 0.05, 0.05
	res := generate(t, c)
	b, err := os.ReadFile(filepath.Join(c.Dir, "truth.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) != c.Packets {
		t.Fatalf("%d lines, want %d", len(lines), c.Packets)
	}
	for _, l := range lines {
		var p PacketTruth
		if err := json.Unmarshal(l, &p); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		want, _ := json.Marshal(res.Truth.Packets[p.ID])
		got, _ := json.Marshal(p)
		if !bytes.Equal(want, got) {
			t.Fatalf("line for packet %d:\n%s\nmemory:\n%s", p.ID, got, want)
		}
	}
	var buf bytes.Buffer
	if err := res.Truth.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Truth
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Packets) != c.Packets {
		t.Fatalf("truth.json round trip: %v", err)
	}
}

// BenchmarkGenerate measures generation speed (pcap, no gzip, no truth) in frames per second.
func BenchmarkGenerate(b *testing.B) {
	c := DefaultConfig()
	c.Dir = b.TempDir()
	c.Packets = 200000
	c.Flows = 200
	c.KeepTruth = false
	var frames, bytes int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Generate(c)
		if err != nil {
			b.Fatal(err)
		}
		frames += res.Frames
		bytes += res.Bytes
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
	b.SetBytes(bytes / int64(b.N))
}

// TestRandomConfigs is a property test: for random knob settings the files always agree with the truth.
func TestRandomConfigs(t *testing.T) {
	n := 8
	if testing.Short() {
		n = 3
	}
	r := newRNG(99, 0)
	for i := 0; i < n; i++ {
		c := DefaultConfig()
		c.Dir = t.TempDir()
		c.Seed = r.next()
		c.Packets = 200 + r.intn(1500)
		c.Flows = 1 + r.intn(30)
		c.Nodes = 2 + r.intn(3)
		c.PodsPerNode = 1 + r.intn(3)
		c.Mode = Mode(r.intn(3))
		c.Format = Format(r.intn(2))
		c.Nanosecond = r.intn(2) == 0
		c.Gzip = r.intn(4) == 0
		c.Routers = r.intn(3)
		c.Protos = Protos{TCP: r.float(), UDP: r.float(), ICMP: r.float()}
		c.LossPerHop = r.float() * 0.1
		c.DupRate = r.float() * 0.2
		c.RetransRate = r.float() * 0.2
		c.DNAT = r.float()
		c.IPID0DF = r.float()
		c.PartialCsum = r.intn(2) == 0
		c.PayloadMax = 1 + r.intn(1500)
		c.Rate = 1000 + r.float()*1e6
		c.ClockOffset = map[string]time.Duration{"node-2": time.Duration(r.int64n(20e9)) - 10e9}
		c.DriftPPM = map[string]float64{"node-1": r.float()*400 - 200}
		t.Run(fmt.Sprintf("%d-%s-%s", i, c.Mode, c.Format), func(t *testing.T) {
			res := generate(t, c)
			ck := newChecker(t, c, res)
			ck.checkAll()
			checkTCPProgression(t, res.Truth, ck)
		})
	}
}

// TestIdentical checks Config.Identical: the first flows send one way only, and every frame of such a
// flow at one capture point is byte-identical (IP ids, ports, payload, checksums, outer header), while
// the other flows are as before.
func TestIdentical(t *testing.T) {
	c, res := runWith(t, func(c *Config) { c.Flows, c.Identical, c.Rate = 4, 2, 200000 })
	tr := res.Truth
	frames := map[[2]int]map[string]int{} // (flow, file) → frame bytes → count
	byFileFrame := map[[2]int]int{}       // (file, frame number) → flow
	for i := range tr.Packets {
		p := &tr.Packets[i]
		if p.Flow < c.Identical && p.Dir != 0 {
			t.Fatalf("identical flow %d has a packet server → client", p.Flow)
		}
		for _, cp := range p.Captures {
			byFileFrame[[2]int{cp.File, int(cp.Frame)}] = p.Flow
		}
	}
	for fi, f := range res.Files {
		rd := readCapture(t, f)
		for n, fr := range rd.frames {
			fl, ok := byFileFrame[[2]int{fi, n + 1}]
			if !ok {
				continue // ARP
			}
			k := [2]int{fl, fi}
			if frames[k] == nil {
				frames[k] = map[string]int{}
			}
			frames[k][string(fr.data)]++
		}
	}
	seen := 0
	for k, m := range frames {
		switch {
		case k[0] < c.Identical && len(m) != 1:
			t.Errorf("flow %d in %s: %d different frames, want 1", k[0], res.Files[k[1]], len(m))
		case k[0] >= c.Identical && tr.Flows[k[0]].Packets > 1 && len(m) == 1:
			t.Errorf("flow %d in %s: every frame identical", k[0], res.Files[k[1]])
		}
		if k[0] < c.Identical {
			for _, n := range m {
				seen += n
			}
		}
	}
	if want := tr.Flows[0].Packets + tr.Flows[1].Packets; seen < 6*want || tr.Flows[0].Proto != protoUDP || !tr.Flows[1].IPID0DF {
		t.Errorf("identical flows: %d frames for %d packets (want 6 each), flows %+v %+v", seen, want, tr.Flows[0], tr.Flows[1])
	}
	c.Identical = 5
	if err := c.Validate(); err == nil {
		t.Error("Identical > Flows validated")
	}
}
