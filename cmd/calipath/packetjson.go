package main

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/decimal"
	"github.com/calipath/calipath/internal/safetext"
)

// frameJSON writes the JSON lines of `calipath packets --format json`: the bytes encoding/json's
// Encoder writes for frameDoc (then passed through safetext.JSON), newline included, written straight
// from the decoded packet without building the Frame, so that a frame costs no allocation. Frame
// documents the fields; TestPacketsJSONBytes holds the two to the same bytes. It keeps what repeats
// from frame to frame: the file's and the point's quoted names, and the time up to the second.
type frameJSON struct {
	path, point   string
	qPath, qPoint []byte // path and point quoted
	ts            secCache
}

// secCache formats times as fmtTime does, keeping the text of the last second shown.
type secCache struct {
	sec     int64  // the second secText shows
	secText []byte // "2006-01-02T15:04:05" of sec; empty before the first frame
}

// append appends the JSON line of one frame.
func (fj *frameJSON) append(b []byte, path, point string, rec *decode.Record, p *decode.Packet) []byte {
	if path != fj.path || fj.qPath == nil {
		fj.path, fj.qPath = path, safetext.AppendJSONString(fj.qPath[:0], path)
	}
	if point != fj.point || fj.qPoint == nil {
		fj.point, fj.qPoint = point, safetext.AppendJSONString(fj.qPoint[:0], point)
	}
	b = append(b, `{"file":`...)
	b = append(b, fj.qPath...)
	b = append(b, `,"frame":`...)
	b = decimal.AppendUint(b, uint64(rec.Frame))
	b = append(b, `,"ts":"`...)
	b = fj.ts.appendTime(b, rec.Ts)
	b = append(b, `","point":`...)
	b = append(b, fj.qPoint...)
	b = append(b, `,"link":`...)
	b = safetext.AppendJSONString(b, rec.LinkType.String())
	if p.HasEth {
		b = appendEthJSON(b, p)
	}
	if p.HasSLL {
		b = append(b, `,"sll":{"pkttype":`...)
		b = decimal.AppendUint(b, uint64(p.PktType))
		b = append(b, `,"ifindex":`...)
		b = strconv.AppendInt(b, int64(p.IfIndex), 10)
		b = append(b, '}')
	}
	if p.Encap != decode.EncapNone {
		b = appendOuterJSON(b, p)
	}
	b = append(b, `,"encap":"`...)
	b = append(b, p.Encap.String()...)
	b = append(b, '"')
	if p.Encap == decode.EncapVXLAN {
		b = append(b, `,"vni":`...)
		b = decimal.AppendUint(b, uint64(p.VNI))
	}
	if p.Inner.Version != 0 {
		b = appendInnerJSON(b, p)
	}
	if p.HasARP {
		b = appendARPJSON(b, &p.ARP)
	}
	if p.HasWG {
		b = appendWGJSON(b, &p.WG)
	}
	if p.GSO {
		b = append(b, `,"gso":true`...)
	}
	b = append(b, `,"checksum":"`...)
	b = append(b, p.Checksum.String()...)
	b = append(b, `","errors":[`...)
	if p.Errs != 0 {
		for i, e := range p.Errs.Strings() {
			if i > 0 {
				b = append(b, ',')
			}
			b = safetext.AppendJSONString(b, e)
		}
	}
	return append(b, "]}\n"...)
}

// timeLayout is fmtTime's.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// appendTime appends ns as fmtTime writes it (timeLayout), formatting the date and time of day once a
// second.
func (c *secCache) appendTime(b []byte, ns int64) []byte {
	sec, nsec := ns/1e9, ns%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	if sec != c.sec || len(c.secText) == 0 {
		c.sec, c.secText = sec, time.Unix(sec, 0).UTC().AppendFormat(c.secText[:0], "2006-01-02T15:04:05")
	}
	b = append(b, c.secText...)
	var d [10]byte
	d[0] = '.'
	for i := 9; i > 0; i-- {
		d[i] = byte('0' + nsec%10)
		nsec /= 10
	}
	b = append(b, d[:]...)
	return append(b, 'Z') // UTC's Z07:00
}

func appendEthJSON(b []byte, p *decode.Packet) []byte {
	b = append(b, `,"eth":{"src":"`...)
	b = appendMAC(b, p.SrcMAC)
	b = append(b, `","dst":"`...)
	b = appendMAC(b, p.DstMAC)
	b = append(b, '"')
	if p.NVLAN > 0 {
		b = append(b, `,"vlans":[`...)
		for i, v := range p.VLANs[:p.NVLAN] {
			if i > 0 {
				b = append(b, ',')
			}
			b = decimal.AppendUint(b, uint64(v))
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendIPFields appends the members an outer and an inner IP header share, from "src" to "ecn".
func appendIPFields(b []byte, h *decode.IPHdr) []byte {
	b = append(b, `{"src":"`...)
	b = appendAddr(b, h.SrcAddr())
	b = append(b, `","dst":"`...)
	b = appendAddr(b, h.DstAddr())
	b = append(b, `","proto":`...)
	b = decimal.AppendUint(b, uint64(h.Proto))
	b = append(b, `,"ttl":`...)
	b = decimal.AppendUint(b, uint64(h.TTL))
	b = append(b, `,"id":`...)
	b = decimal.AppendUint(b, uint64(h.ID))
	b = append(b, `,"len":`...)
	b = decimal.AppendUint(b, uint64(h.TotalLen))
	b = append(b, `,"df":`...)
	b = strconv.AppendBool(b, h.DF)
	b = append(b, `,"mf":`...)
	b = strconv.AppendBool(b, h.MF)
	b = append(b, `,"frag":`...)
	b = decimal.AppendUint(b, uint64(h.FragOff))
	b = append(b, `,"dscp":`...)
	b = decimal.AppendUint(b, uint64(h.DSCP()))
	b = append(b, `,"ecn":`...)
	return decimal.AppendUint(b, uint64(h.ECN()))
}

func appendOuterJSON(b []byte, p *decode.Packet) []byte {
	b = append(b, `,"outer":`...)
	b = appendIPFields(b, &p.Outer)
	if p.Encap == decode.EncapVXLAN {
		b = appendUintIf(b, `,"sport":`, uint64(p.OuterSprt))
		b = appendUintIf(b, `,"dport":`, uint64(p.OuterDprt))
	}
	return append(b, '}')
}

// appendUintIf appends member key with value n unless n is 0 (omitempty).
func appendUintIf(b []byte, key string, n uint64) []byte {
	if n == 0 {
		return b
	}
	return decimal.AppendUint(append(b, key...), n)
}

// appendUint appends member key with value n.
func appendUint(b []byte, key string, n uint64) []byte {
	return decimal.AppendUint(append(b, key...), n)
}

func appendInnerJSON(b []byte, p *decode.Packet) []byte {
	in := &p.Inner
	b = append(b, `,"inner":`...)
	b = appendIPFields(b, in)
	switch {
	case p.HasTCP:
		t := &p.TCP
		b = appendUint(b, `,"sport":`, uint64(p.Sport))
		b = appendUint(b, `,"dport":`, uint64(p.Dport))
		b = appendUint(b, `,"tcp_flags":`, uint64(t.Flags))
		b = appendUint(b, `,"seq":`, uint64(t.Seq))
		b = appendUint(b, `,"ack":`, uint64(t.Ack))
		b = appendUint(b, `,"win":`, uint64(t.Window))
		b = appendUintIf(b, `,"mss":`, uint64(t.MSS))
	case p.HasUDP, (in.Proto == 6 || in.Proto == 17) && (p.Sport != 0 || p.Dport != 0):
		b = appendUint(b, `,"sport":`, uint64(p.Sport))
		b = appendUint(b, `,"dport":`, uint64(p.Dport))
	case p.HasICMP:
		b = appendICMPJSON(b, p)
	}
	return append(appendUint(b, `,"payload_len":`, uint64(p.PayloadLen)), '}')
}

func appendICMPJSON(b []byte, p *decode.Packet) []byte {
	ic := &p.ICMP
	b = appendUint(b, `,"icmp_type":`, uint64(ic.Type))
	b = appendUint(b, `,"icmp_code":`, uint64(ic.Code))
	if ic.IsError(p.Inner.Version == 6) {
		b = appendUintIf(b, `,"mtu":`, uint64(ic.MTU))
		if ic.HasQuote {
			b = append(b, `,"quote":{"src":"`...)
			b = appendAddr(b, ic.Quoted.SrcAddr())
			b = append(b, `","dst":"`...)
			b = appendAddr(b, ic.Quoted.DstAddr())
			b = append(b, '"')
			b = appendUint(b, `,"proto":`, uint64(ic.Quoted.Proto))
			b = appendUint(b, `,"sport":`, uint64(ic.QSport))
			b = appendUint(b, `,"dport":`, uint64(ic.QDport))
			if ic.QuotedInner.Version != 0 {
				b = append(b, `,"inner_src":"`...)
				b = appendAddr(b, ic.QuotedInner.SrcAddr())
				b = append(b, `","inner_dst":"`...)
				b = appendAddr(b, ic.QuotedInner.DstAddr())
				b = append(b, '"')
			}
			if ic.QVXLAN { // sport and dport are the inner packet's, as for IP-in-IP
				b = appendUint(b, `,"inner_proto":`, uint64(ic.QuotedInner.Proto))
				b = appendUint(b, `,"vxlan_sport":`, uint64(ic.QOuterSport))
				b = appendUint(b, `,"vxlan_dport":`, uint64(ic.QOuterDport))
				b = appendUint(b, `,"vni":`, uint64(ic.QVNI))
			}
			b = append(b, '}')
		}
	} else if ic.Type == 0 || ic.Type == 8 || ic.Type == 128 || ic.Type == 129 {
		b = appendUint(b, `,"icmp_id":`, uint64(ic.ID))
		b = appendUint(b, `,"icmp_seq":`, uint64(ic.Seq))
	}
	return b
}

func appendARPJSON(b []byte, a *decode.ARP) []byte {
	b = appendUint(b, `,"arp":{"op":`, uint64(a.Op))
	b = append(b, `,"sha":"`...)
	b = appendMAC(b, a.SHA)
	b = append(b, `","spa":"`...)
	b = netip.AddrFrom4(a.SPA).AppendTo(b)
	b = append(b, `","tha":"`...)
	b = appendMAC(b, a.THA)
	b = append(b, `","tpa":"`...)
	b = netip.AddrFrom4(a.TPA).AppendTo(b)
	return append(b, `"}`...)
}

func appendWGJSON(b []byte, w *decode.WireGuard) []byte {
	b = appendUint(b, `,"wireguard":{"type":`, uint64(w.Type))
	b = append(b, `,"name":"`...)
	if int(w.Type) < len(wgNames) {
		b = append(b, wgNames[w.Type]...)
	}
	b = append(b, '"')
	switch w.Type {
	case decode.WGInitiation:
		b = appendWGIndex(b, `,"sender":"`, w.Sender)
	case decode.WGResponse:
		b = appendWGIndex(b, `,"sender":"`, w.Sender)
		b = appendWGIndex(b, `,"receiver":"`, w.Receiver)
	case decode.WGCookie:
		b = appendWGIndex(b, `,"receiver":"`, w.Receiver)
	case decode.WGTransport:
		b = appendWGIndex(b, `,"receiver":"`, w.Receiver)
		b = appendUint(b, `,"counter":`, w.Counter)
	}
	b = strconv.AppendInt(append(b, `,"len":`...), int64(w.Len), 10)
	if w.Type == decode.WGTransport {
		b = strconv.AppendInt(append(b, `,"padded_len":`...), int64(w.PaddedLen()), 10)
		if w.Keepalive() {
			b = append(b, `,"keepalive":true`...)
		}
	}
	return append(b, '}')
}

// appendWGIndex appends member key (its opening quote included) with index i as 0x%08x.
func appendWGIndex(b []byte, key string, i uint32) []byte {
	return append(appendHex32(append(b, key...), i), '"')
}

// appendHex32 appends i as 0x%08x.
func appendHex32(b []byte, i uint32) []byte {
	b = append(b, '0', 'x')
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hexLower[i>>shift&0xf])
	}
	return b
}

const hexLower = "0123456789abcdef"

// appendMAC appends m as net.HardwareAddr's String does: aa:bb:cc:dd:ee:ff.
func appendMAC(b []byte, m [6]byte) []byte {
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexLower[x>>4], hexLower[x&0xf])
	}
	return b
}

// appendAddr appends a as its String does ("invalid IP" for the zero Addr, which AppendTo leaves out).
func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, "invalid IP"...)
	}
	return a.AppendTo(b)
}
