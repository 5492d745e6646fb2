package main

import (
	"bufio"
	"context"

	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/calipath/calipath/decode"
)

func runPackets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("packets", "FILE...", stdout, stderr)
	var in inputFlags
	in.register(fs)
	format := fs.String("format", "text", "output `FORMAT`: text (one line per frame) or json (one object per line)")
	paths, err := parseTextJSON(fs, &in, args, stderr)
	if err != nil {
		return err
	}
	// packets reads each input twice: an input that can be read only once is refused before
	// anything is read. stdin that is a file is read again from where it began.
	var stdinAt int64 = -1
	for _, p := range paths {
		if what := readOnce(p); what != "" {
			if p == "-" {
				p = "- (stdin)"
			}
			return usageErr(fs, stderr, "%s is %s, which can be read only once, and packets reads each input twice "+
				"(to identify the capture points, then to print the frames): save it to a file first "+
				"(`cat > capture.pcap`); `calipath points` and `report` read it once", p, what)
		}
		if p == "-" {
			if stdinAt, err = os.Stdin.Seek(0, io.SeekCurrent); err != nil {
				return err
			}
		}
	}
	// First pass: identify the capture points (inference may need every frame).
	c, err := in.load(paths, stderr)
	if err != nil {
		return err
	}
	// Second pass: decode again and print, file by file, in frame order.
	w := bufio.NewWriterSize(stdout, 1<<16)
	pw := &packetWriter{c: c, w: w, json: *format == "json"}
	opts := in.decodeOptions()
	for i, path := range paths {
		if ctx.Err() != nil {
			break
		}
		if c.Files[i].Err != nil && c.Files[i].Records == 0 {
			continue
		}
		if path == "-" {
			if _, err := os.Stdin.Seek(stdinAt, io.SeekStart); err != nil {
				return err
			}
		}
		decode.ScanFile(path, uint16(i), opts, c.Tables, func(rec *decode.Record, p *decode.Packet, o *decode.Observation) {
			if pw.err == nil {
				pw.write(path, rec, p, o)
			}
		})
	}
	if pw.err != nil {
		return pw.err
	}
	if !pw.json {
		writeSummary(w, c.Files)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if anyProblem(c.Files) || in.bundleSkipped() {
		return errSkipped
	}
	return nil
}

// writeSummary prints the per-file record and skip counts that every text output ends with.
func writeSummary(w io.Writer, files []*decode.FileInfo) {
	for _, fi := range files {
		fmt.Fprintf(w, "# %s: %d records, %d skipped, %d damaged, %d problems\n", sanitize(fi.Path), fi.Records,
			fi.Skipped, fi.Damaged, fi.NProblems)
	}
}

type packetWriter struct {
	c    *decode.Capture
	w    *bufio.Writer
	json bool
	fj   frameJSON
	buf  []byte // the JSON line of the frame being written
	err  error
}

// Frame is one frame of `calipath packets --format json`.
type Frame struct {
	File     string     `json:"file"`
	Frame    uint32     `json:"frame"`
	Ts       string     `json:"ts"`
	Point    string     `json:"point"`
	Link     string     `json:"link"`
	Eth      *EthJSON   `json:"eth,omitempty"`
	SLL      *SLLJSON   `json:"sll,omitempty"`
	Outer    *OuterJSON `json:"outer,omitempty"`
	Encap    string     `json:"encap"`
	VNI      *uint32    `json:"vni,omitempty"`
	Inner    *InnerJSON `json:"inner,omitempty"`
	ARP      *ARPJSON   `json:"arp,omitempty"`
	WG       *WGJSON    `json:"wireguard,omitempty"`
	GSO      bool       `json:"gso,omitempty"`
	Checksum string     `json:"checksum"`
	Errors   []string   `json:"errors"`
}

// EthJSON is the Ethernet header.
type EthJSON struct {
	Src   string   `json:"src"`
	Dst   string   `json:"dst"`
	VLANs []uint16 `json:"vlans,omitempty"`
}

// SLLJSON is a Linux cooked header.
type SLLJSON struct {
	PktType uint8 `json:"pkttype"`
	IfIndex int32 `json:"ifindex"`
}

// OuterJSON is the outer IP header of an encapsulated frame.
type OuterJSON struct {
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Proto uint8  `json:"proto"`
	TTL   uint8  `json:"ttl"`
	ID    uint32 `json:"id"`
	Len   uint16 `json:"len"`
	DF    bool   `json:"df"`
	MF    bool   `json:"mf"`
	Frag  uint16 `json:"frag"`
	DSCP  uint8  `json:"dscp"`
	ECN   uint8  `json:"ecn"`
	Sport uint16 `json:"sport,omitempty"` // VXLAN outer UDP
	Dport uint16 `json:"dport,omitempty"`
}

// InnerJSON is the innermost IP packet.
type InnerJSON struct {
	Src      string     `json:"src"`
	Dst      string     `json:"dst"`
	Proto    uint8      `json:"proto"`
	TTL      uint8      `json:"ttl"`
	ID       uint32     `json:"id"`
	Len      uint16     `json:"len"`
	DF       bool       `json:"df"`
	MF       bool       `json:"mf"`
	Frag     uint16     `json:"frag"`
	DSCP     uint8      `json:"dscp"`
	ECN      uint8      `json:"ecn"`
	Sport    *uint16    `json:"sport,omitempty"`
	Dport    *uint16    `json:"dport,omitempty"`
	TCPFlags *uint8     `json:"tcp_flags,omitempty"`
	Seq      *uint32    `json:"seq,omitempty"`
	Ack      *uint32    `json:"ack,omitempty"`
	Win      *uint16    `json:"win,omitempty"`
	MSS      uint16     `json:"mss,omitempty"`
	ICMPType *uint8     `json:"icmp_type,omitempty"`
	ICMPCode *uint8     `json:"icmp_code,omitempty"`
	ICMPID   *uint16    `json:"icmp_id,omitempty"`
	ICMPSeq  *uint16    `json:"icmp_seq,omitempty"`
	MTU      uint16     `json:"mtu,omitempty"`
	Quote    *QuoteJSON `json:"quote,omitempty"`
	Payload  int        `json:"payload_len"`
}

// QuoteJSON is the packet an ICMP error quotes.
type QuoteJSON struct {
	Src      string `json:"src"`
	Dst      string `json:"dst"`
	Proto    uint8  `json:"proto"`
	Sport    uint16 `json:"sport"`
	Dport    uint16 `json:"dport"`
	InnerSrc string `json:"inner_src,omitempty"`
	InnerDst string `json:"inner_dst,omitempty"`
}

// WGJSON is the clear-text header of a WireGuard message (indexes in hex, as WireGuard's tools show
// them). Counter, PaddedLen and Keepalive are for transport messages only.
type WGJSON struct {
	Type      uint8   `json:"type"`
	Name      string  `json:"name"` // initiation, response, cookie-reply, transport
	Sender    string  `json:"sender,omitempty"`
	Receiver  string  `json:"receiver,omitempty"`
	Counter   *uint64 `json:"counter,omitempty"`
	Len       int     `json:"len"`                  // message length
	PaddedLen *int    `json:"padded_len,omitempty"` // the encrypted inner packet's length, padded to 16
	Keepalive bool    `json:"keepalive,omitempty"`
}

var wgNames = [...]string{decode.WGInitiation: "initiation", decode.WGResponse: "response",
	decode.WGCookie: "cookie-reply", decode.WGTransport: "transport"}

func wgDoc(w *decode.WireGuard) *WGJSON {
	j := &WGJSON{Type: w.Type, Len: w.Len}
	if int(w.Type) < len(wgNames) {
		j.Name = wgNames[w.Type]
	}
	idx := func(i uint32) string { return fmt.Sprintf("0x%08x", i) }
	switch w.Type {
	case decode.WGInitiation:
		j.Sender = idx(w.Sender)
	case decode.WGResponse:
		j.Sender, j.Receiver = idx(w.Sender), idx(w.Receiver)
	case decode.WGCookie:
		j.Receiver = idx(w.Receiver)
	case decode.WGTransport:
		c, n := w.Counter, w.PaddedLen()
		j.Receiver, j.Counter, j.PaddedLen, j.Keepalive = idx(w.Receiver), &c, &n, w.Keepalive()
	}
	return j
}

// ARPJSON is an ARP packet.
type ARPJSON struct {
	Op  uint16 `json:"op"`
	SHA string `json:"sha"`
	SPA string `json:"spa"`
	THA string `json:"tha"`
	TPA string `json:"tpa"`
}

func mac(m [6]byte) string { return net.HardwareAddr(m[:]).String() }

func frameDoc(path, point string, rec *decode.Record, p *decode.Packet) *Frame {
	f := &Frame{File: path, Frame: rec.Frame, Ts: fmtTime(rec.Ts), Point: point, Link: rec.LinkType.String(),
		Encap: p.Encap.String(), Checksum: p.Checksum.String(), Errors: p.Errs.Strings(), GSO: p.GSO}
	if f.Errors == nil {
		f.Errors = []string{}
	}
	if p.HasEth {
		f.Eth = &EthJSON{Src: mac(p.SrcMAC), Dst: mac(p.DstMAC), VLANs: append([]uint16(nil), p.VLANs[:p.NVLAN]...)}
	}
	if p.HasSLL {
		f.SLL = &SLLJSON{PktType: p.PktType, IfIndex: p.IfIndex}
	}
	if p.Encap != decode.EncapNone {
		o := &p.Outer
		f.Outer = &OuterJSON{Src: o.SrcAddr().String(), Dst: o.DstAddr().String(), Proto: o.Proto, TTL: o.TTL, ID: o.ID,
			Len: o.TotalLen, DF: o.DF, MF: o.MF, Frag: o.FragOff, DSCP: o.DSCP(), ECN: o.ECN()}
		if p.Encap == decode.EncapVXLAN {
			f.Outer.Sport, f.Outer.Dport = p.OuterSprt, p.OuterDprt
			vni := p.VNI
			f.VNI = &vni
		}
	}
	if in := &p.Inner; in.Version != 0 {
		ij := &InnerJSON{Src: in.SrcAddr().String(), Dst: in.DstAddr().String(), Proto: in.Proto, TTL: in.TTL, ID: in.ID,
			Len: in.TotalLen, DF: in.DF, MF: in.MF, Frag: in.FragOff, DSCP: in.DSCP(), ECN: in.ECN(), Payload: p.PayloadLen}
		switch {
		case p.HasTCP:
			t := p.TCP
			ij.Sport, ij.Dport, ij.TCPFlags, ij.Seq, ij.Ack, ij.Win = &p.Sport, &p.Dport, &t.Flags, &t.Seq, &t.Ack, &t.Window
			ij.MSS = t.MSS
		case p.HasUDP, (in.Proto == 6 || in.Proto == 17) && (p.Sport != 0 || p.Dport != 0):
			ij.Sport, ij.Dport = &p.Sport, &p.Dport // also when the snaplen cut the header after them
		case p.HasICMP:
			ic := p.ICMP
			ij.ICMPType, ij.ICMPCode = &ic.Type, &ic.Code
			if ic.IsError(in.Version == 6) {
				ij.MTU = ic.MTU
				if ic.HasQuote {
					q := &QuoteJSON{Src: ic.Quoted.SrcAddr().String(), Dst: ic.Quoted.DstAddr().String(),
						Proto: ic.Quoted.Proto, Sport: ic.QSport, Dport: ic.QDport}
					if ic.QuotedInner.Version != 0 {
						q.InnerSrc, q.InnerDst = ic.QuotedInner.SrcAddr().String(), ic.QuotedInner.DstAddr().String()
					}
					ij.Quote = q
				}
			} else if ic.Type == 0 || ic.Type == 8 || ic.Type == 128 || ic.Type == 129 {
				ij.ICMPID, ij.ICMPSeq = &ic.ID, &ic.Seq
			}
		}
		f.Inner = ij
	}
	if p.HasWG {
		f.WG = wgDoc(&p.WG)
	}
	if p.HasARP {
		a := &p.ARP
		f.ARP = &ARPJSON{Op: a.Op, SHA: mac(a.SHA), SPA: netip.AddrFrom4(a.SPA).String(), THA: mac(a.THA),
			TPA: netip.AddrFrom4(a.TPA).String()}
	}
	return f
}

func (pw *packetWriter) write(path string, rec *decode.Record, p *decode.Packet, o *decode.Observation) {
	point := pw.c.Points[pw.c.PointOf[o.Source]].ID
	if pw.json {
		pw.buf = pw.fj.append(pw.buf[:0], path, point, rec, p)
		_, pw.err = pw.w.Write(pw.buf)
		return
	}
	f := frameDoc(path, point, rec, p)
	_, pw.err = pw.w.WriteString(frameText(f) + "\n")
}

// tcpFlagString renders TCP flags as tcpdump does ("S.", "P.", "F.", "R").
func tcpFlagString(fl uint8) string {
	var b []byte
	for _, x := range []struct {
		bit uint8
		c   byte
	}{{decode.TCPFin, 'F'}, {decode.TCPSyn, 'S'}, {decode.TCPRst, 'R'}, {decode.TCPPsh, 'P'},
		{decode.TCPUrg, 'U'}, {decode.TCPEce, 'E'}, {decode.TCPCwr, 'W'}, {decode.TCPAck, '.'}} {
		if fl&x.bit != 0 {
			b = append(b, x.c)
		}
	}
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}

func frameText(f *Frame) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d %s %s", sanitize(f.File), f.Frame, f.Ts, sanitize(f.Point))
	if f.Outer != nil {
		o := f.Outer
		fmt.Fprintf(&b, " %s %s > %s ttl %d id %d len %d", f.Encap, o.Src, o.Dst, o.TTL, o.ID, o.Len)
		if o.DF {
			b.WriteString(" DF")
		}
		if f.VNI != nil {
			fmt.Fprintf(&b, " udp %d>%d vni %d", o.Sport, o.Dport, *f.VNI)
		}
		b.WriteString(" |")
	}
	switch {
	case f.Inner != nil:
		in := f.Inner
		src, dst := in.Src, in.Dst
		if in.Sport != nil {
			src, dst = hostPort(in.Src, *in.Sport), hostPort(in.Dst, *in.Dport)
		}
		fmt.Fprintf(&b, " %s > %s %s", src, dst, protoName(in.Proto))
		switch {
		case in.TCPFlags != nil:
			fmt.Fprintf(&b, " [%s] seq %d ack %d win %d", tcpFlagString(*in.TCPFlags), *in.Seq, *in.Ack, *in.Win)
			if in.MSS != 0 {
				fmt.Fprintf(&b, " mss %d", in.MSS)
			}
		case in.ICMPType != nil:
			fmt.Fprintf(&b, " type %d code %d", *in.ICMPType, *in.ICMPCode)
			if in.ICMPID != nil {
				fmt.Fprintf(&b, " id %d seq %d", *in.ICMPID, *in.ICMPSeq)
			}
			if in.MTU != 0 {
				fmt.Fprintf(&b, " mtu %d", in.MTU)
			}
			if q := in.Quote; q != nil {
				fmt.Fprintf(&b, " quoting %s > %s proto %d", hostPort(q.Src, q.Sport), hostPort(q.Dst, q.Dport), q.Proto)
				if q.InnerSrc != "" {
					fmt.Fprintf(&b, " (inner %s > %s)", q.InnerSrc, q.InnerDst)
				}
			}
		}
		fmt.Fprintf(&b, " len %d payload %d ttl %d id %d", in.Len, in.Payload, in.TTL, in.ID)
		if in.DF {
			b.WriteString(" DF")
		}
		if in.MF || in.Frag != 0 {
			fmt.Fprintf(&b, " frag %d", in.Frag)
			if in.MF {
				b.WriteString("+")
			}
		}
		if in.DSCP != 0 || in.ECN != 0 {
			fmt.Fprintf(&b, " dscp %d ecn %d", in.DSCP, in.ECN)
		}
		if w := f.WG; w != nil {
			name := w.Name
			if w.Keepalive {
				name = "keepalive"
			}
			fmt.Fprintf(&b, " | wireguard %s", name)
			if w.Sender != "" {
				fmt.Fprintf(&b, " sender %s", w.Sender)
			}
			if w.Receiver != "" {
				fmt.Fprintf(&b, " receiver %s", w.Receiver)
			}
			if w.Counter != nil {
				fmt.Fprintf(&b, " counter %d padded %d", *w.Counter, *w.PaddedLen)
			}
		}
	case f.ARP != nil:
		a := f.ARP
		switch a.Op {
		case 1:
			fmt.Fprintf(&b, " ARP who-has %s tell %s (%s)", a.TPA, a.SPA, a.SHA)
		case 2:
			fmt.Fprintf(&b, " ARP %s is-at %s", a.SPA, a.SHA)
		default:
			fmt.Fprintf(&b, " ARP op %d %s (%s) > %s (%s)", a.Op, a.SPA, a.SHA, a.TPA, a.THA)
		}
	default:
		fmt.Fprintf(&b, " %s frame", f.Link)
	}
	if f.GSO {
		b.WriteString(" gso")
	}
	if f.Checksum != "none" {
		fmt.Fprintf(&b, " csum %s", f.Checksum)
	}
	if len(f.Errors) > 0 {
		fmt.Fprintf(&b, " [%s]", strings.Join(f.Errors, ","))
	}
	return b.String()
}

func hostPort(addr string, port uint16) string {
	if strings.Contains(addr, ":") {
		return "[" + addr + "]:" + strconv.Itoa(int(port))
	}
	return addr + ":" + strconv.Itoa(int(port))
}

func protoName(p uint8) string {
	switch p {
	case 1:
		return "ICMP"
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 58:
		return "ICMPv6"
	case 4:
		return "IPIP"
	case 47:
		return "GRE"
	case 50:
		return "ESP"
	case 132:
		return "SCTP"
	}
	return "proto " + strconv.Itoa(int(p))
}

// readOnce says what an input is when it can be read only once (a pipe, FIFO, socket or device; "-"
// is stdin), and "" for a regular file or a path that cannot be looked at (reading it says why).
func readOnce(path string) string {
	st, err := statPath(path)
	if err != nil || st.Mode().IsRegular() {
		return ""
	}
	switch m := st.Mode(); {
	case m&fs.ModeNamedPipe != 0:
		return "a pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0, m.IsDir(): // a block device reads again; a directory fails when read
		return ""
	}
	return "not a regular file"
}
