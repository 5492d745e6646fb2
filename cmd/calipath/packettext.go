package main

import (
	"net/netip"
	"strconv"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/decimal"
)

// frameLine writes the lines of `calipath packets` (the text format): one line per frame, newline
// included, appended straight from the decoded packet without building a Frame or formatting through
// fmt, so that a frame costs no allocation. TestPacketsTextBytes holds it to the bytes frameText
// wrote. It keeps what repeats from frame to frame: the file's and the point's cleaned names, and the
// time up to the second.
type frameLine struct {
	path, point   string
	cPath, cPoint []byte // path and point as sanitize returns them
	ts            secCache
}

// append appends the text line of one frame.
func (fl *frameLine) append(b []byte, path, point string, rec *decode.Record, p *decode.Packet) []byte {
	if path != fl.path || fl.cPath == nil {
		fl.path, fl.cPath = path, append(fl.cPath[:0], sanitize(path)...)
	}
	if point != fl.point || fl.cPoint == nil {
		fl.point, fl.cPoint = point, append(fl.cPoint[:0], sanitize(point)...)
	}
	b = append(b, fl.cPath...)
	b = append(b, ':')
	b = decimal.AppendUint(b, uint64(rec.Frame))
	b = append(b, ' ')
	b = fl.ts.appendTime(b, rec.Ts)
	b = append(b, ' ')
	b = append(b, fl.cPoint...)
	if p.Encap != decode.EncapNone {
		b = appendOuterText(b, p)
	}
	switch {
	case p.Inner.Version != 0:
		b = appendInnerText(b, p)
		if p.HasWG {
			b = appendWGText(b, &p.WG)
		}
	case p.HasARP:
		b = appendARPText(b, &p.ARP)
	default:
		b = append(b, ' ')
		b = append(b, rec.LinkType.String()...)
		b = append(b, " frame"...)
	}
	if p.GSO {
		b = append(b, " gso"...)
	}
	if p.Checksum != decode.CsumNone {
		b = append(b, " csum "...)
		b = append(b, p.Checksum.String()...)
	}
	if p.Errs != 0 {
		if errs := p.Errs.Strings(); len(errs) > 0 {
			b = append(b, " ["...)
			for i, e := range errs {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, e...)
			}
			b = append(b, ']')
		}
	}
	return append(b, '\n')
}

// appendOuterText appends the outer header of an encapsulated frame, up to its closing " |".
func appendOuterText(b []byte, p *decode.Packet) []byte {
	o := &p.Outer
	b = append(b, ' ')
	b = append(b, p.Encap.String()...)
	b = append(b, ' ')
	b = appendAddr(b, o.SrcAddr())
	b = append(b, " > "...)
	b = appendAddr(b, o.DstAddr())
	b = appendUint(b, " ttl ", uint64(o.TTL))
	b = appendUint(b, " id ", uint64(o.ID))
	b = appendUint(b, " len ", uint64(o.TotalLen))
	if o.DF {
		b = append(b, " DF"...)
	}
	if p.Encap == decode.EncapVXLAN {
		b = appendUint(b, " udp ", uint64(p.OuterSprt))
		b = appendUint(b, ">", uint64(p.OuterDprt))
		b = appendUint(b, " vni ", uint64(p.VNI))
	}
	return append(b, " |"...)
}

// appendHostPort appends a as hostPort(a.String(), port) does: [a]:port for IPv6, a:port otherwise.
func appendHostPort(b []byte, a netip.Addr, port uint16) []byte {
	if a.Is6() {
		b = append(b, '[')
		b = appendAddr(b, a)
		b = append(b, ']')
	} else {
		b = appendAddr(b, a)
	}
	return decimal.AppendUint(append(b, ':'), uint64(port))
}

// appendInnerText appends the innermost IP packet: addresses, protocol and its header, lengths.
func appendInnerText(b []byte, p *decode.Packet) []byte {
	in := &p.Inner
	b = append(b, ' ')
	ports := p.HasTCP || p.HasUDP || (in.Proto == 6 || in.Proto == 17) && (p.Sport != 0 || p.Dport != 0)
	if ports {
		b = appendHostPort(b, in.SrcAddr(), p.Sport)
		b = append(b, " > "...)
		b = appendHostPort(b, in.DstAddr(), p.Dport)
	} else {
		b = appendAddr(b, in.SrcAddr())
		b = append(b, " > "...)
		b = appendAddr(b, in.DstAddr())
	}
	b = append(b, ' ')
	b = appendProtoName(b, in.Proto)
	switch {
	case p.HasTCP:
		t := &p.TCP
		b = append(b, " ["...)
		b = appendTCPFlags(b, t.Flags)
		b = appendUint(b, "] seq ", uint64(t.Seq))
		b = appendUint(b, " ack ", uint64(t.Ack))
		b = appendUint(b, " win ", uint64(t.Window))
		if t.MSS != 0 {
			b = appendUint(b, " mss ", uint64(t.MSS))
		}
	case ports:
	case p.HasICMP:
		b = appendICMPText(b, p)
	}
	b = appendUint(b, " len ", uint64(in.TotalLen))
	b = strconv.AppendInt(append(b, " payload "...), int64(p.PayloadLen), 10)
	b = appendUint(b, " ttl ", uint64(in.TTL))
	b = appendUint(b, " id ", uint64(in.ID))
	if in.DF {
		b = append(b, " DF"...)
	}
	if in.MF || in.FragOff != 0 {
		b = appendUint(b, " frag ", uint64(in.FragOff))
		if in.MF {
			b = append(b, '+')
		}
	}
	if in.DSCP() != 0 || in.ECN() != 0 {
		b = appendUint(b, " dscp ", uint64(in.DSCP()))
		b = appendUint(b, " ecn ", uint64(in.ECN()))
	}
	return b
}

// appendICMPText appends an ICMP header: type and code, then the echo's id and sequence, or the
// error's MTU and the packet it quotes.
func appendICMPText(b []byte, p *decode.Packet) []byte {
	ic := &p.ICMP
	b = appendUint(b, " type ", uint64(ic.Type))
	b = appendUint(b, " code ", uint64(ic.Code))
	if ic.IsError(p.Inner.Version == 6) {
		if ic.MTU != 0 {
			b = appendUint(b, " mtu ", uint64(ic.MTU))
		}
		if ic.HasQuote && ic.QVXLAN {
			b = appendVXLANQuote(b, ic)
		} else if ic.HasQuote {
			b = append(b, " quoting "...)
			b = appendHostPort(b, ic.Quoted.SrcAddr(), ic.QSport)
			b = append(b, " > "...)
			b = appendHostPort(b, ic.Quoted.DstAddr(), ic.QDport)
			b = appendUint(b, " proto ", uint64(ic.Quoted.Proto))
			if ic.QuotedInner.Version != 0 {
				b = append(b, " (inner "...)
				b = appendAddr(b, ic.QuotedInner.SrcAddr())
				b = append(b, " > "...)
				b = appendAddr(b, ic.QuotedInner.DstAddr())
				b = append(b, ')')
			}
		}
	} else if ic.Type == 0 || ic.Type == 8 || ic.Type == 128 || ic.Type == 129 {
		b = appendUint(b, " id ", uint64(ic.ID))
		b = appendUint(b, " seq ", uint64(ic.Seq))
	}
	return b
}

// appendWGText appends the clear-text header of a WireGuard message.
func appendWGText(b []byte, w *decode.WireGuard) []byte {
	b = append(b, " | wireguard "...)
	switch {
	case w.Keepalive():
		b = append(b, "keepalive"...)
	case int(w.Type) < len(wgNames):
		b = append(b, wgNames[w.Type]...)
	}
	switch w.Type {
	case decode.WGInitiation:
		b = appendHex32(append(b, " sender "...), w.Sender)
	case decode.WGResponse:
		b = appendHex32(append(b, " sender "...), w.Sender)
		b = appendHex32(append(b, " receiver "...), w.Receiver)
	case decode.WGCookie:
		b = appendHex32(append(b, " receiver "...), w.Receiver)
	case decode.WGTransport:
		b = appendHex32(append(b, " receiver "...), w.Receiver)
		b = appendUint(b, " counter ", w.Counter)
		b = strconv.AppendInt(append(b, " padded "...), int64(w.PaddedLen()), 10)
	}
	return b
}

// appendARPText appends an ARP packet as tcpdump words it.
func appendARPText(b []byte, a *decode.ARP) []byte {
	switch a.Op {
	case 1:
		b = append(b, " ARP who-has "...)
		b = netip.AddrFrom4(a.TPA).AppendTo(b)
		b = append(b, " tell "...)
		b = netip.AddrFrom4(a.SPA).AppendTo(b)
		b = append(b, " ("...)
		b = appendMAC(b, a.SHA)
		return append(b, ')')
	case 2:
		b = append(b, " ARP "...)
		b = netip.AddrFrom4(a.SPA).AppendTo(b)
		b = append(b, " is-at "...)
		return appendMAC(b, a.SHA)
	}
	b = appendUint(b, " ARP op ", uint64(a.Op))
	b = append(b, ' ')
	b = netip.AddrFrom4(a.SPA).AppendTo(b)
	b = append(b, " ("...)
	b = appendMAC(b, a.SHA)
	b = append(b, ") > "...)
	b = netip.AddrFrom4(a.TPA).AppendTo(b)
	b = append(b, " ("...)
	b = appendMAC(b, a.THA)
	return append(b, ')')
}

// tcpFlagChars are the TCP flags in the order tcpdump prints them, with their letters.
var tcpFlagChars = [...]struct {
	bit uint8
	c   byte
}{{decode.TCPFin, 'F'}, {decode.TCPSyn, 'S'}, {decode.TCPRst, 'R'}, {decode.TCPPsh, 'P'},
	{decode.TCPUrg, 'U'}, {decode.TCPEce, 'E'}, {decode.TCPCwr, 'W'}, {decode.TCPAck, '.'}}

// appendTCPFlags appends TCP flags as tcpdump renders them ("S.", "P.", "F.", "R"; "none" for none).
func appendTCPFlags(b []byte, fl uint8) []byte {
	n := len(b)
	for _, x := range tcpFlagChars {
		if fl&x.bit != 0 {
			b = append(b, x.c)
		}
	}
	if len(b) == n {
		return append(b, "none"...)
	}
	return b
}

// protoNames are the names of the IP protocols protoName knows.
var protoNames = map[uint8]string{1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 4: "IPIP", 47: "GRE", 50: "ESP", 132: "SCTP"}

// appendProtoName appends protoName(p).
func appendProtoName(b []byte, p uint8) []byte {
	switch p { // the common ones without the map
	case 6:
		return append(b, "TCP"...)
	case 17:
		return append(b, "UDP"...)
	}
	if n, ok := protoNames[p]; ok {
		return append(b, n...)
	}
	return decimal.AppendUint(append(b, "proto "...), uint64(p))
}

// appendVXLANQuote appends what an ICMP error quoting a VXLAN datagram quotes: the datagram (its UDP
// ports and VNI) and the packet inside it, with that packet's ports.
func appendVXLANQuote(b []byte, ic *decode.ICMP) []byte {
	b = append(b, " quoting "...)
	b = appendHostPort(b, ic.Quoted.SrcAddr(), ic.QOuterSport)
	b = append(b, " > "...)
	b = appendHostPort(b, ic.Quoted.DstAddr(), ic.QOuterDport)
	b = appendUint(b, " proto 17 vni ", uint64(ic.QVNI))
	b = append(b, " (inner "...)
	b = appendHostPort(b, ic.QuotedInner.SrcAddr(), ic.QSport)
	b = append(b, " > "...)
	b = appendHostPort(b, ic.QuotedInner.DstAddr(), ic.QDport)
	b = appendUint(b, " proto ", uint64(ic.QuotedInner.Proto))
	return append(b, ')')
}
