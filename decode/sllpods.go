package decode

import (
	"errors"
	"os"
)

// sllLocal is what a Linux cooked v1 capture (tcpdump -i any before 4.99) shows of its own node's
// pods. Such a file records no interface, only each frame's direction and its source link address, so
// a frame coming in is from a pod on a cali veth or from the wire on eth0: the same packet type
// either way. The file's other frames tell them apart (see learnSLL).
type sllLocal struct {
	macs map[[6]byte]bool // the local pods' MACs
	ips  map[ipKey]bool   // the local pods' addresses
	// unresolved says the file could not be read twice (standard input, a FIFO): incoming frames
	// without encapsulation are filed as before, under the pod side, which may hold the underlay's.
	unresolved bool
	// router splits a router's capture into its interfaces (nil for a node's, or a router's that
	// cannot be split: routerWhy says why then).
	router    *sllRouter
	routerWhy string
}

// sllLocalMax bounds the addresses learnt from one file.
const sllLocalMax = 1 << 16

// learnSLL reads a cooked v1 file once before it is scanned and learns its node's pods: the
// destinations of frames the host sent from ee:ee:ee:ee:ee:ee (a cali veth), the senders of ARP
// requests for 169.254.1.1, and the targets of proxy ARP replies. A file that cannot be read again is
// unresolved.
func learnSLL(path string, opts Options) *sllLocal {
	l := &sllLocal{macs: map[[6]byte]bool{}, ips: map[ipKey]bool{}}
	if path == "-" {
		l.unresolved = true
		return l
	}
	if opts.Open == nil {
		if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
			l.unresolved = true
			return l
		}
	}
	r, c, err := openInput(path, opts)
	if err != nil {
		l.unresolved = true
		return l
	}
	defer c.Close()
	l.read(r, opts)
	return l
}

// read learns from every cooked v1 frame of r.
func (l *sllLocal) read(r Reader, opts Options) {
	vx, wg := opts.tunnelPorts()
	var rec Record
	var p Packet
	rl := newRouterLearn()
	defer func() {
		if len(l.macs) == 0 && len(l.ips) == 0 {
			l.router, l.routerWhy = rl.finish()
		}
	}()
	for len(l.macs) < sllLocalMax && len(l.ips) < sllLocalMax {
		err := r.Next(&rec)
		var re *RecordError
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			return
		}
		if rec.LinkType != LinkLinuxSLL {
			continue
		}
		decodeFast(rec.LinkType, rec.Data, rec.OrigLen, vx, wg, &p)
		l.learn(&p)
		rl.learn(&p, rec.Ts)
	}
}

// learn notes the local pod a frame shows, if any.
func (l *sllLocal) learn(p *Packet) {
	if !p.HasSLL || p.Encap != EncapNone {
		return
	}
	if p.HasARP {
		a := &p.ARP
		switch {
		case a.Op == 1 && a.TPA == CalicoGateway && a.SHA != CalicoMAC:
			l.macs[a.SHA] = true
			l.addV4(a.SPA)
		case a.Op == 2 && a.SHA == CalicoMAC && a.THA != CalicoMAC:
			l.macs[a.THA] = true
			l.addV4(a.TPA)
		}
		return
	}
	if p.PktType == 4 && p.Inner.Version != 0 && !p.HasWG && p.SLLAlen == 6 && [6]byte(p.SLLAddr[:6]) == CalicoMAC {
		l.ips[keyOf(p.Inner.Version, p.Inner.Dst)] = true
	}
}

// ipKey is an IPv4 or IPv6 address with its version.
type ipKey struct {
	v uint8
	a [16]byte
}

// keyOf returns the key of an IPHdr address (an IPv4 one holds its first 4 bytes only).
func keyOf(v uint8, a [16]byte) ipKey {
	if v == 4 {
		return ipKey{4, [16]byte{a[0], a[1], a[2], a[3]}}
	}
	return ipKey{v, a}
}

// addV4 notes a pod's IPv4 address (not 0.0.0.0, as a probe's sender).
func (l *sllLocal) addV4(a [4]byte) {
	if a == ([4]byte{}) {
		return
	}
	l.ips[ipKey{4, [16]byte{a[0], a[1], a[2], a[3]}}] = true
}

// podSide reports whether a frame without encapsulation belongs to the pod side: sent by the host
// from a cali veth, or coming in from a local pod (by its MAC or address). Other frames are the
// underlay's: sent by the node on eth0, or coming in from the wire.
func (l *sllLocal) podSide(p *Packet) bool {
	var addr [6]byte
	if p.SLLAlen == 6 {
		addr = [6]byte(p.SLLAddr[:6])
	}
	if p.PktType == 4 {
		return addr == CalicoMAC
	}
	return l.macs[addr] || l.ips[keyOf(p.Inner.Version, p.Inner.Src)]
}
