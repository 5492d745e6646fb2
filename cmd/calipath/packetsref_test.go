package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/calipath/calipath/decode"
)

// The Frame builder and the text formatter `calipath packets` used before frameJSON and frameLine
// wrote its lines straight from the decoded packet: the references TestPacketsJSONBytes and
// TestPacketsTextBytes hold those two to.

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
					if ic.QVXLAN {
						q.InnerProto, q.VXLANSport, q.VXLANDport, q.VNI = &ic.QuotedInner.Proto, &ic.QOuterSport, &ic.QOuterDport, &ic.QVNI
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
			if q := in.Quote; q != nil && q.VNI != nil {
				fmt.Fprintf(&b, " quoting %s > %s proto 17 vni %d (inner %s > %s proto %d)", hostPort(q.Src, *q.VXLANSport),
					hostPort(q.Dst, *q.VXLANDport), *q.VNI, hostPort(q.InnerSrc, q.Sport), hostPort(q.InnerDst, q.Dport), *q.InnerProto)
			} else if q != nil {
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
