package decode

import "encoding/binary"

// DefaultWireGuardPort is the UDP port Calico's WireGuard devices (wireguard.cali, wg-v6.cali) listen
// on.
const DefaultWireGuardPort = 51820

// WireGuard message sizes: the fixed sizes of the handshake messages, and the smallest transport
// message (16-byte header and 16-byte tag around an empty inner packet: a keepalive).
const (
	wgInitiationLen = 148
	wgResponseLen   = 92
	wgCookieLen     = 64
	wgTransportMin  = 32
)

// decodeWireGuard decodes the WireGuard message in p's innermost UDP datagram when either of its ports
// is port (0 means DefaultWireGuardPort): the last step of DecodeFast and DecodeSlow alike. It sets
// p.HasWG and p.WG, or flags the frame (see WireGuard for the rules).
func decodeWireGuard(p *Packet, port uint16) {
	if port == 0 {
		port = DefaultWireGuardPort
	}
	if !p.HasUDP || (p.Sport != port && p.Dport != port) || p.Inner.FragOff != 0 {
		return
	}
	n := p.PayloadLen
	if p.Inner.MF {
		n = int(p.UDPLen) - 8
	}
	b := p.Payload
	flag := func(e Err) {
		if p.Dport == port {
			p.Errs |= e
		}
	}
	bad := func() { flag(ErrBadWireGuard) }
	if len(b) < 4 {
		if n >= 4 {
			flag(ErrTruncated)
		} else {
			bad()
		}
		return
	}
	var w WireGuard
	w.Type, w.Len = b[0], n
	if b[1]|b[2]|b[3] != 0 {
		bad()
		return
	}
	var hdr int
	switch w.Type {
	case WGInitiation:
		hdr = 8
		if n != wgInitiationLen {
			bad()
			return
		}
	case WGResponse:
		hdr = 12
		if n != wgResponseLen {
			bad()
			return
		}
	case WGCookie:
		hdr = 8
		if n != wgCookieLen {
			bad()
			return
		}
	case WGTransport:
		hdr = 16
		if n < wgTransportMin || (n-wgTransportMin)%16 != 0 {
			bad()
			return
		}
	default:
		bad()
		return
	}
	if len(b) < hdr {
		flag(ErrTruncated)
		return
	}
	switch w.Type {
	case WGInitiation:
		w.Sender = binary.LittleEndian.Uint32(b[4:8])
	case WGResponse:
		w.Sender = binary.LittleEndian.Uint32(b[4:8])
		w.Receiver = binary.LittleEndian.Uint32(b[8:12])
	case WGCookie:
		w.Receiver = binary.LittleEndian.Uint32(b[4:8])
	case WGTransport:
		w.Receiver = binary.LittleEndian.Uint32(b[4:8])
		w.Counter = binary.LittleEndian.Uint64(b[8:16])
	}
	p.HasWG, p.WG = true, w
}
