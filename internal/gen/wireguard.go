package gen

import "encoding/binary"

// WireGuard mode (ModeWireGuard): pod packets cross wireguard.cali (LINKTYPE_RAW, the inner packet in
// clear) and leave eth0 as WireGuard transport messages (UDP 51820 to 51820): a 16-byte header (type
// 4, the receiver index of the session, the counter) and the inner packet encrypted, padded to 16
// bytes, with a 16-byte tag. Each sending node keeps one session per peer node (a new one, rekeyed,
// every Config.WGRekeyAfter messages); a message's receiver index and counter are the session's when
// the packet enters the device, and the session's messages cross the
// device, the wire and the receiver's device in counter order, as WireGuard sends and decrypts them.

const wgPort = 51820

// wgSession is one direction of a WireGuard session between two nodes.
type wgSession struct {
	receiver uint32
	next     uint64   // the next counter
	last     [6]int64 // per hop: the latest true time a message of the session was there
}

// wgSessions are the sessions by (sending node, receiving node).
type wgSessions struct {
	m map[[2]int]*wgSession
	r rng
}

// session returns the session from node s to node r, made on first use (its receiver index drawn
// from the generator's seed).
func (g *generator) wgSession(s, r int) *wgSession {
	if g.wg.m == nil {
		g.wg.m = map[[2]int]*wgSession{}
		g.wg.r = newRNG(g.cfg.Seed, 6)
	}
	k := [2]int{s, r}
	ss := g.wg.m[k]
	if ss == nil {
		ss = &wgSession{receiver: uint32(g.wg.r.next())}
		g.wg.m[k] = ss
	}
	return ss
}

// wgNodes returns the nodes pk goes from and to.
func (g *generator) wgNodes(pk *packet) (int, int) {
	src, dst := pk.fl.cli, pk.fl.srv
	if pk.dir == 1 {
		src, dst = dst, src
	}
	return g.pods[src].node, g.pods[dst].node
}

// wgOrder runs as pk is captured at hop and will reach hop+1: entering the sender's device (hop 1) it
// takes the session's next counter; from there on, until it leaves the receiver's device, it keeps
// its place behind the session's previous message (its later hops move as much later as needed).
func (g *generator) wgOrder(pk *packet, hop int) {
	if hop < 1 || hop > 3 {
		return
	}
	s, r := g.wgNodes(pk)
	ss := g.wgSession(s, r)
	if hop == 1 {
		if n := g.cfg.WGRekeyAfter; n > 0 && ss.next == uint64(n) {
			// Rekeyed: a new session, its own receiver index, counters from 0.
			ss.receiver, ss.next = uint32(g.wg.r.next()), 0
		}
		pk.wgCtr, pk.wgRecv = ss.next, ss.receiver
		ss.next++
	}
	k := hop + 1
	if d := ss.last[k] + 1 - pk.t[k]; d > 0 {
		for i := k; i < g.hops; i++ {
			pk.t[i] += d
		}
	}
	ss.last[k] = pk.t[k]
}

// wgFrame writes pk's frame at an eth0 hop as the WireGuard transport message carrying it (h holds
// the Ethernet header already), then schedules what follows.
func (g *generator) wgFrame(pk *packet, hop, file int, n, sn, rn *node, h []byte, innerLen, ttl int, t int64, dup bool) {
	padded := (innerLen + 15) &^ 15
	msgLen := 16 + padded + 16
	h = appendIPv4(h, 20+8+msgLen, pk.outerID, false, ttl, protoUDP, sn.ip, rn.ip)
	h = binary.BigEndian.AppendUint16(h, wgPort)
	h = binary.BigEndian.AppendUint16(h, wgPort)
	h = binary.BigEndian.AppendUint16(h, uint16(8+msgLen))
	h = append(h, 0, 0) // no UDP checksum, as the kernel's WireGuard sends it
	h = append(h, 4, 0, 0, 0)
	h = binary.LittleEndian.AppendUint32(h, pk.wgRecv)
	h = binary.LittleEndian.AppendUint64(h, pk.wgCtr)
	// The ciphertext and tag: bytes of the pool, one stretch per packet.
	off := int(mix64(uint64(pk.id)<<1|1)%poolSize) &^ 1
	f := &g.files[file]
	rec, step := g.recorded(n, t)
	rec = f.w.frame(rec, step, h, g.pool[off:off+padded+16])
	f.w.frames++
	g.frames++
	if g.cfg.KeepTruth || g.jsonl != nil {
		pk.caps = append(pk.caps, Capture{Hop: hop, File: file, Frame: f.w.frames, True: t, Recorded: rec, Dup: dup})
	}
	g.captured(pk, hop, dup, t)
}
