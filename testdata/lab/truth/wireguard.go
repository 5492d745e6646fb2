package main

// WireGuard scenarios (issue 18). On eth0 and the routers a pod's packet travels inside a
// WireGuard transport message: UDP 51820 between the node IPs, its ciphertext unreadable. The
// lab knows the keys: `wgd decrypt` (testdata/lab/wgd, a module of its own, so that this one
// needs no golang.org/x/crypto) replays every captured handshake with the keys the daemons
// logged and writes, per message, what it carried (wg-decrypted.jsonl). Here each captured
// message is looked up there by the SHA-256 of its UDP payload, and the inner packet is followed
// at that point as if it had been seen in clear, with the frame's timestamp. The truth also
// follows the messages themselves across the underlay: handshakes, sessions and their counters,
// keepalives, and where messages were lost.

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// WireGuard is the truth's WireGuard section.
type WireGuard struct {
	Iface      string        `json:"iface"`
	Port       int           `json:"port"`
	MTU        int           `json:"mtu"`
	FWMark     string        `json:"fwmark"`
	Table      int           `json:"table"`
	Priority   int           `json:"rule_priority"`
	Nodes      []WGNode      `json:"nodes"`
	Handshakes []WGHandshake `json:"handshakes"`
	Sessions   []WGSession   `json:"sessions"`
	Transport  []WGTransport `json:"transport"`
	Daemon     []string      `json:"daemon,omitempty"`
}

// WGNode is one node's WireGuard configuration, as lab.log gives it.
type WGNode struct {
	Node      string `json:"node"`
	IP        string `json:"ip"`
	PublicKey string `json:"public_key"`
	Address   string `json:"address"`
	Peer      string `json:"peer"`
	Endpoint  string `json:"endpoint"`
	Allowed   string `json:"allowed_ips"`
}

// WGHandshake is one handshake initiation and the response to it, if any was captured.
// Indexes are as Wireshark prints them (the little-endian field, in hex).
type WGHandshake struct {
	Initiator      string   `json:"initiator"`
	Responder      string   `json:"responder"`
	Sender         string   `json:"sender"`
	Seen           []string `json:"seen"`
	LostAt         string   `json:"lost_at,omitempty"`
	Response       string   `json:"response,omitempty"` // the responder's index
	ResponseSeen   []string `json:"response_seen,omitempty"`
	ResponseLostAt string   `json:"response_lost_at,omitempty"`
}

// WGSession is one direction of one session: the transport messages a node sent to one receiver
// index (the peer's, from the handshake that made the keys).
type WGSession struct {
	From         string    `json:"from"`
	To           string    `json:"to"`
	Receiver     string    `json:"receiver"`
	Handshake    string    `json:"handshake"` // the initiation's sender index
	Sent         int       `json:"sent"`      // messages seen at the sender's underlay point
	Received     int       `json:"received"`  // of those, seen at the receiver's underlay point
	Keepalives   int       `json:"keepalives"`
	FirstCounter uint64    `json:"first_counter"`
	LastCounter  uint64    `json:"last_counter"`
	Lost         []LostSeg `json:"lost,omitempty"`
	LostCounters []uint64  `json:"lost_counters,omitempty"`
	Reordered    int       `json:"reordered"` // reached the receiver after a higher counter
	Replayed     int       `json:"replayed"`  // the same message twice at the receiver
}

// WGTransport is one transport message: its session, counter and size, the inner packet it
// carried (none for a keepalive), and the points of its underlay path that saw it.
type WGTransport struct {
	From      string   `json:"from"`
	To        string   `json:"to"`
	Receiver  string   `json:"receiver"`
	Counter   uint64   `json:"counter"`
	Len       int      `json:"len"` // UDP payload: 16-byte header, padded inner packet, 16-byte tag
	Keepalive bool     `json:"keepalive,omitempty"`
	Inner     *WGInner `json:"inner,omitempty"`
	Seen      []string `json:"seen"`
	LostAt    string   `json:"lost_at,omitempty"`
	// Fragmented lists the points that saw the message as IP fragments (reassembled here).
	Fragmented []string `json:"fragmented,omitempty"`
}

// WGInner identifies an inner packet as calipath sees it on wireguard.cali.
type WGInner struct {
	Proto string `json:"proto"`
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	IPID  int    `json:"ip_id"`
	Len   int    `json:"len"`
}

// wgRecord is one line of wg-decrypted.jsonl (testdata/lab/wgd: Record).
type wgRecord struct {
	Digest    string  `json:"digest"`
	Type      int     `json:"type"`
	Src       string  `json:"src"`
	Dst       string  `json:"dst"`
	Len       int     `json:"len"`
	Sender    string  `json:"sender"`
	Receiver  string  `json:"receiver"`
	Counter   *uint64 `json:"counter"`
	Initiator string  `json:"initiator"`
	Responder string  `json:"responder"`
	Keepalive bool    `json:"keepalive"`
	Inner     string  `json:"inner"`
}

// wgSeen is a WireGuard message seen at a capture point.
type wgSeen struct {
	point  string
	ts     int64
	digest string
	frag   bool // it arrived there in IP fragments
}

type wgLab struct {
	t     WireGuard
	ips   map[netip.Addr]string // node IP → node
	dec   map[string]wgRecord
	order []string // digests in file order
	seen  []wgSeen
}

const wgDecrypted = "wg-decrypted.jsonl"

// wgLine reads one "wireguard" line of lab.log.
func (l *lab) wgLine(m map[string]string) error {
	port, err1 := strconv.Atoi(m["port"])
	mtu, err2 := strconv.Atoi(m["mtu"])
	table, err3 := strconv.Atoi(m["table"])
	prio, err4 := strconv.Atoi(m["priority"])
	ip, err5 := netip.ParseAddr(m["ip"])
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return fmt.Errorf("lab.log: wireguard node=%s: %w", m["node"], err)
		}
	}
	if l.wg == nil {
		l.wg = &wgLab{ips: map[netip.Addr]string{}, dec: map[string]wgRecord{},
			t: WireGuard{Iface: m["iface"], Port: port, MTU: mtu, FWMark: m["fwmark"], Table: table, Priority: prio}}
	} else if t := l.wg.t; t.Iface != m["iface"] || t.Port != port || t.MTU != mtu || t.FWMark != m["fwmark"] {
		return fmt.Errorf("lab.log: wireguard node=%s: configured unlike the other nodes", m["node"])
	}
	l.wg.ips[ip] = m["node"]
	l.wg.t.Nodes = append(l.wg.t.Nodes, WGNode{Node: m["node"], IP: m["ip"], PublicKey: m["public_key"],
		Address: m["address"], Peer: m["peer"], Endpoint: m["endpoint"], Allowed: m["allowed"]})
	return nil
}

// wgLoad reads wg-decrypted.jsonl and the daemons' summaries.
func (l *lab) wgLoad() error {
	if l.wg == nil {
		return nil
	}
	name := filepath.Join(l.dir, wgDecrypted)
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("%w (lab.sh writes it with `wgd decrypt -dir`)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r wgRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: line %d: %w", name, n, err)
		}
		if _, dup := l.wg.dec[r.Digest]; dup {
			return fmt.Errorf("%s: line %d: message %s listed twice", name, n, r.Digest)
		}
		l.wg.dec[r.Digest] = r
		l.wg.order = append(l.wg.order, r.Digest)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	files, _ := filepath.Glob(filepath.Join(l.dir, "*-wgd.log"))
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			return err
		}
		node := strings.TrimSuffix(filepath.Base(fn), "-wgd.log")
		for _, line := range strings.Split(string(b), "\n") {
			if _, rest, ok := strings.Cut(line, " summary "); ok {
				l.wg.t.Daemon = append(l.wg.t.Daemon, node+": "+rest)
			}
		}
	}
	sort.Strings(l.wg.t.Daemon)
	return nil
}

func wgIndex(b []byte) string { return fmt.Sprintf("0x%08x", binary.LittleEndian.Uint32(b)) }

// wgMessage handles a packet to or from the WireGuard port: it reports false for anything
// else. Each message must be one wgd decrypted, with the same header; the inner packet of a
// transport message is followed at this point.
// frag says the message arrived in fragments (ip is the reassembled packet).
func (l *lab) wgMessage(p *Point, ts int64, ip *layers.IPv4, next gopacket.Layer, frag bool, all map[string][]obs, segs *[]obs, icmps *[]icmpObs) bool {
	where := p.Node + "/" + p.Iface
	port := layers.UDPPort(l.wg.t.Port)
	u, ok := next.(*layers.UDP)
	if !ok || (u.SrcPort != port && u.DstPort != port) {
		return false
	}
	pl := u.Payload
	fail := func(f string, a ...any) bool {
		l.errs = append(l.errs, fmt.Errorf("%s frame %d: %s", where, p.Packets, fmt.Sprintf(f, a...)))
		return true
	}
	if len(pl) < 4 || pl[0] < 1 || pl[0] > 4 || pl[1]|pl[2]|pl[3] != 0 {
		return fail("UDP port %d but not a WireGuard message", l.wg.t.Port)
	}
	sum := sha256.Sum256(pl)
	d := hex.EncodeToString(sum[:16])
	r, ok := l.wg.dec[d]
	if !ok {
		return fail("WireGuard message %s (type %d) is not in %s: rerun `wgd decrypt`", d, pl[0], wgDecrypted)
	}
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip.SrcIP.To4())), uint16(u.SrcPort)).String()
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip.DstIP.To4())), uint16(u.DstPort)).String()
	if r.Type != int(pl[0]) || r.Len != len(pl) || r.Src != src || r.Dst != dst {
		return fail("message %s: %s says type %d, %d bytes, %s → %s", d, wgDecrypted, r.Type, r.Len, r.Src, r.Dst)
	}
	l.wg.seen = append(l.wg.seen, wgSeen{point: where, ts: l.unskew(p.Node, ts), digest: d, frag: frag})
	if r.Type != 4 {
		return true
	}
	if len(pl) < 32 || r.Counter == nil || r.Receiver != wgIndex(pl[4:8]) || *r.Counter != binary.LittleEndian.Uint64(pl[8:16]) {
		return fail("transport message %s: receiver or counter differ from %s", d, wgDecrypted)
	}
	inner, err := hex.DecodeString(r.Inner)
	if err != nil {
		return fail("message %s: inner packet: %v", d, err)
	}
	// The ciphertext is the inner packet padded with up to 15 zeros (never past the MTU).
	if padded := len(pl) - 32; padded < len(inner) || padded-len(inner) > 15 {
		return fail("message %s: %d encrypted bytes cannot hold a %d-byte packet", d, padded, len(inner))
	}
	if r.Keepalive != (len(inner) == 0) {
		return fail("message %s: keepalive %v with %d inner bytes", d, r.Keepalive, len(inner))
	}
	if len(inner) == 0 {
		return true
	}
	pkt := gopacket.NewPacket(inner, layers.LayerTypeIPv4, gopacket.DecodeOptions{Lazy: false, NoCopy: true})
	iip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if iip == nil {
		return fail("message %s: the inner packet is not IPv4", d)
	}
	var inext gopacket.Layer
	if ls := pkt.Layers(); len(ls) > 1 {
		inext = ls[1]
	}
	l.follow(where, l.unskew(p.Node, ts), p.Packets, iip, inext, true, all, segs, icmps)
	return true
}

// wgOrphans checks that every decrypted inner packet (TCP data aside, which is followed by
// sequence ranges) is one that some pod sent: a packet seen only inside WireGuard messages means
// wg-decrypted.jsonl does not belong to these captures.
func (l *lab) wgOrphans(all map[string][]obs) {
	if l.wg == nil {
		return
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var enc *obs
		origin := false
		for i, o := range all[k] {
			if o.enc && enc == nil {
				enc = &all[k][i]
			}
			if _, ok := l.origin(o); ok {
				origin = true
			}
		}
		if enc != nil && !origin {
			l.errs = append(l.errs, fmt.Errorf("%s frame %d: the decrypted %s packet %s → %s was never seen leaving a pod: %s does not match the captures",
				enc.point, enc.frame, enc.proto, enc.src, enc.dst, wgDecrypted))
		}
	}
}

// wgSession reports whether node sent any transport message (so it had a session with its peer).
func (l *lab) wgSession(node string) bool {
	for _, s := range l.wg.seen {
		if r := l.wg.dec[s.digest]; r.Type == 4 && s.point == node+"/eth0" && l.wgNodeOf(r.Src) == node {
			return true
		}
	}
	return false
}

func (l *lab) wgNodeOf(addrPort string) string {
	ap, err := netip.ParseAddrPort(addrPort)
	if err != nil {
		return ""
	}
	return l.wg.ips[ap.Addr()]
}

// wgBypass reports whether a packet between pods on two WireGuard nodes left its node in clear:
// seen, not inside a WireGuard message, at the sender's eth0.
func (l *lab) wgBypass(src, dst endpoint, seen map[string]obs) bool {
	if l.wg == nil || src.kind != "pod" || dst.kind != "pod" || src.node == dst.node {
		return false
	}
	wgNode := func(n string) bool {
		for _, x := range l.wg.t.Nodes {
			if x.Node == n {
				return true
			}
		}
		return false
	}
	o, ok := seen[src.node+"/eth0"]
	return ok && !o.enc && wgNode(src.node) && wgNode(dst.node)
}

// wgTruth fills the WireGuard section and its anomalies once every capture was read.
func (l *lab) wgTruth() {
	if l.wg == nil {
		return
	}
	w := l.wg
	// Where each message was seen, in time order, and how often at each point.
	sort.SliceStable(w.seen, func(i, j int) bool { return w.seen[i].ts < w.seen[j].ts })
	points := map[string]map[string]int{}
	fragAt := map[string]map[string]bool{}
	first := map[string]int64{}
	for _, s := range w.seen {
		if points[s.digest] == nil {
			points[s.digest] = map[string]int{}
			fragAt[s.digest] = map[string]bool{}
			first[s.digest] = s.ts
		}
		points[s.digest][s.point]++
		fragAt[s.digest][s.point] = fragAt[s.digest][s.point] || s.frag
	}
	digests := make([]string, 0, len(points))
	for d := range points {
		digests = append(digests, d)
	}
	sort.Slice(digests, func(i, j int) bool {
		if first[digests[i]] != first[digests[j]] {
			return first[digests[i]] < first[digests[j]]
		}
		return digests[i] < digests[j]
	})
	// follow gives the points of a message's underlay path that saw it, and the segment after the
	// last one that did ("" when it reached the receiver's eth0).
	follow := func(d string) (from, to string, seen []string, lostAt string) {
		r := w.dec[d]
		from, to = l.wgNodeOf(r.Src), l.wgNodeOf(r.Dst)
		path := l.captured(append(append([]string{from + "/eth0"}, l.routerHops(from, to)...), to+"/eth0"))
		last := -1
		for i, pt := range path {
			if points[d][pt] > 0 {
				seen = append(seen, pt)
				last = i
			}
		}
		if last >= 0 && last+1 < len(path) {
			lostAt = path[last] + "→" + path[last+1]
		}
		return from, to, seen, lostAt
	}
	type sessKey struct{ from, receiver string }
	sessions := map[sessKey]*WGSession{}
	var sessOrder []sessKey
	handshakeOf := map[sessKey]string{} // session → the initiation's sender index
	maxCtr := map[sessKey]uint64{}
	got := map[sessKey]bool{}
	type lossKey struct{ from, to, seg string }
	innerless := map[[2]string]int{} // messages without an inner packet, by from → to
	innerlessLost := map[lossKey]int{}
	w.t.Handshakes, w.t.Sessions, w.t.Transport = []WGHandshake{}, []WGSession{}, []WGTransport{}
	for _, d := range digests {
		r := w.dec[d]
		from, to, seen, lostAt := follow(d)
		var fragmented []string
		for _, pt := range seen {
			if fragAt[d][pt] {
				fragmented = append(fragmented, pt)
			}
		}
		if len(fragmented) > 0 {
			// Where the message was first seen in fragments: nearest where it was fragmented.
			l.add("fragmented", fragmented[0])
		}
		if r.Type != 4 || r.Keepalive {
			innerless[[2]string{from, to}]++
			if lostAt != "" {
				innerlessLost[lossKey{from, to, lostAt}]++
			}
		}
		switch r.Type {
		case 1:
			w.t.Handshakes = append(w.t.Handshakes, WGHandshake{Initiator: r.Initiator, Responder: r.Responder,
				Sender: r.Sender, Seen: seen, LostAt: lostAt})
		case 2:
			for i := range w.t.Handshakes {
				h := &w.t.Handshakes[i]
				if h.Sender == r.Receiver && h.Initiator == to && h.Response == "" {
					h.Response, h.ResponseSeen, h.ResponseLostAt = r.Sender, seen, lostAt
					handshakeOf[sessKey{r.Initiator, r.Sender}] = h.Sender   // initiator → responder
					handshakeOf[sessKey{r.Responder, r.Receiver}] = h.Sender // responder → initiator
				}
			}
		case 4:
			t := WGTransport{From: from, To: to, Receiver: r.Receiver, Counter: *r.Counter, Len: r.Len,
				Keepalive: r.Keepalive, Seen: seen, LostAt: lostAt, Fragmented: fragmented}
			if !r.Keepalive {
				t.Inner = wgInner(r.Inner)
			}
			w.t.Transport = append(w.t.Transport, t)
			k := sessKey{from, r.Receiver}
			s := sessions[k]
			if s == nil {
				s = &WGSession{From: from, To: to, Receiver: r.Receiver, FirstCounter: *r.Counter}
				sessions[k] = s
				sessOrder = append(sessOrder, k)
			}
			if points[d][from+"/eth0"] > 0 {
				s.Sent++
				s.FirstCounter, s.LastCounter = min(s.FirstCounter, *r.Counter), max(s.LastCounter, *r.Counter)
				if r.Keepalive {
					s.Keepalives++
				}
				if lostAt != "" {
					addLostSeg(&s.Lost, lostAt)
					s.LostCounters = append(s.LostCounters, *r.Counter)
				}
			}
			if n := points[d][to+"/eth0"]; n > 0 {
				s.Received++
				s.Replayed += n - 1
			}
		}
	}
	// Reordering at the receiver: a message that arrived after one with a higher counter.
	for _, sn := range w.seen {
		r := w.dec[sn.digest]
		if r.Type != 4 {
			continue
		}
		to := l.wgNodeOf(r.Dst)
		if sn.point != to+"/eth0" {
			continue
		}
		k := sessKey{l.wgNodeOf(r.Src), r.Receiver}
		if got[k] && *r.Counter < maxCtr[k] {
			sessions[k].Reordered++
		}
		got[k] = true
		maxCtr[k] = max(maxCtr[k], *r.Counter)
	}
	for _, k := range sessOrder {
		s := sessions[k]
		s.Handshake = handshakeOf[k]
		sort.Slice(s.LostCounters, func(i, j int) bool { return s.LostCounters[i] < s.LostCounters[j] })
		w.t.Sessions = append(w.t.Sessions, *s)
	}

	// A node whose initiations to a peer never got a response.
	type pair struct{ a, b string }
	inits, answered := map[pair]int{}, map[pair]int{}
	var pairs []pair
	for _, h := range w.t.Handshakes {
		k := pair{h.Initiator, h.Responder}
		if inits[k] == 0 {
			pairs = append(pairs, k)
		}
		inits[k]++
		for _, pt := range h.ResponseSeen {
			if pt == h.Initiator+"/eth0" {
				answered[k]++
			}
		}
	}
	for _, k := range pairs {
		if answered[k] == 0 {
			l.add("wireguard-handshake-failing", k.a+"/eth0")
		}
	}
	// Lost messages that carried no inner packet (handshakes, keepalives): the inner flows do not
	// count them.
	for k, n := range innerlessLost {
		kind := "loss"
		if n == innerless[[2]string{k.from, k.to}] {
			kind = "underlay-drop"
		}
		l.add(kind, k.seg)
	}
	w.t.Iface = l.tunIface
	l.t.WireGuard = &w.t
}

func addLostSeg(list *[]LostSeg, seg string) {
	for i := range *list {
		if (*list)[i].Segment == seg {
			(*list)[i].Packets++
			return
		}
	}
	*list = append(*list, LostSeg{Segment: seg, Packets: 1})
}

// wgInner describes a decrypted inner packet.
func wgInner(h string) *WGInner {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) < 20 || b[0]>>4 != 4 {
		return nil
	}
	ihl := int(b[0]&0x0f) * 4
	in := &WGInner{IPID: int(binary.BigEndian.Uint16(b[4:6])), Len: len(b)}
	src, dst := netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	switch b[9] {
	case 1:
		in.Proto = "icmp"
		in.Src, in.Dst = src.String(), dst.String()
	case 6, 17:
		in.Proto = map[byte]string{6: "tcp", 17: "udp"}[b[9]]
		if len(b) >= ihl+4 {
			in.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[ihl:])).String()
			in.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[ihl+2:])).String()
		}
	default:
		in.Proto = strconv.Itoa(int(b[9]))
		in.Src, in.Dst = src.String(), dst.String()
	}
	return in
}
