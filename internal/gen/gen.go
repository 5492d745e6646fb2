package gen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// IP protocol numbers.
const (
	protoICMP = 1
	protoIPIP = 4
	protoTCP  = 6
	protoUDP  = 17
)

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

const (
	vxlanPort = 4789
	vxlanVNI  = 4096
	poolSize  = 1 << 16
)

// Result summarises a generation run.
type Result struct {
	Files   []string // paths of the capture files written
	Frames  int64    // frames written, all files together
	Bytes   int64    // bytes on disk (compressed size with Gzip)
	Packets int64    // journeys (IP packets sent by pods)
	// Truth always holds nodes, files, flows and ARP exchanges; Packets only with Config.KeepTruth.
	Truth *Truth
}

type flow struct {
	id       int
	proto    uint8
	cli, srv int
	sport    uint16
	dport    uint16
	dnat     bool
	svcIP    [4]byte
	svcPort  uint16
	ipid0    bool
	ident    bool // byte-identical packets, client to server only (Config.Identical)
	dns      bool // DNS-like sizes: short requests, longer responses (MixManyFlows)
	idOff    int  // their payload's offset in the pool and length
	idLen    int
	ipid     [2]uint16
	seq      [2]uint32
	icmpSeq  uint16
	vxPort   uint16
	state    int
	budget   int
	sent     int
	gap      float64 // mean ns between this flow's packets
	maxData  int
	r        rng
	finished bool
	rcv      *[2]tcpRcv // TCP: the receiver of each direction's segments (tcprcv.go)
}

// packet is a journey in flight: the header template and its pre-drawn fate.
type packet struct {
	id      int64
	fl      *flow
	dir     uint8
	df      bool
	ipid    uint16
	outerID uint16
	seq     uint32
	l4      [24]byte // transport header with the real (post-DNAT) ports and a zero checksum
	l4len   int
	payOff  int
	payLen  int
	sum     uint64 // plain sum of the 16-bit words of l4 and the payload
	t       [6]int64
	seen    int // hops at which it is captured (the rest: lost)
	dupHop  int // -1: none
	dupGap  int64
	pending int
	retrans bool
	origID  int64
	caps    []Capture
	wgCtr   uint64 // ModeWireGuard: the counter of the message that carries it
	wgRecv  uint32 // ModeWireGuard: the receiver index of its session
}

type generator struct {
	cfg    Config
	nodes  []node
	pods   []pod
	files  []capFile
	flows  []flow
	pool   []byte
	prefix []uint64 // prefix[k] = sum of the first k big-endian words of pool
	ev     evHeap
	start  int64
	hops   int
	lat    [6]Span // lat[k]: delay before hop k
	nextID int64
	free   []*packet
	truth  *Truth
	jsonl  *bufio.Writer
	jfile  *os.File
	jbuf   []byte
	frames int64
	hdr    [128]byte
	arpIdx []int // per pod: index in truth.ARP of its exchange
	arpR   rng   // draws the gaps between extra ARP exchanges (Config.ARPRate)
	arpEnd int64 // no extra ARP exchange starts after this true time
	wg     wgSessions
}

// Generate writes the capture files (and the JSON-lines truth, if asked) into cfg.Dir.
func Generate(cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if n := cfg.Nodes * (cfg.PodsPerNode + 2); n > 4096 {
		return nil, fmt.Errorf("too many capture files (%d > 4096): lower nodes or pods per node", n)
	}
	if cfg.Flows > cfg.Packets {
		cfg.Flows = cfg.Packets
	}
	if cfg.Mix == MixARPHeavy && cfg.ARPRate == 0 {
		cfg.ARPRate = cfg.Rate
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	g := &generator{cfg: cfg, start: cfg.Start.UnixNano()}
	g.buildTopology()
	g.buildPool()
	g.buildPath()
	g.truth = &Truth{Seed: cfg.Seed, Mode: cfg.Mode.String(), Format: cfg.Format.String(), Start: g.start}
	for i := range g.nodes {
		g.truth.Nodes = append(g.truth.Nodes, g.nodes[i].truth())
	}
	if cfg.Mix == MixManyFlows {
		if err := g.buildManyFlows(); err != nil {
			return nil, err
		}
	} else {
		g.buildFlows()
	}
	if cfg.KeepTruth {
		g.truth.Packets = make([]PacketTruth, cfg.Packets)
	}
	g.arpIdx = make([]int, len(g.pods))
	g.arpR = newRNG(cfg.Seed, 5)
	g.arpEnd = g.start + int64(float64(cfg.Packets)/cfg.Rate*1e9)
	return g.run()
}

func (g *generator) run() (res *Result, err error) {
	bufSize := min(max((64<<20)/len(g.files), 64<<10), 4<<20)
	opened := 0
	defer func() {
		for i := 0; i < opened; i++ {
			if e := g.files[i].w.close(); err == nil && e != nil {
				err = e
			}
		}
		if g.jfile != nil {
			if e := g.jsonl.Flush(); err == nil && e != nil {
				err = e
			}
			if e := g.jfile.Close(); err == nil && e != nil {
				err = e
			}
		}
		if err != nil {
			res = nil
		}
	}()
	for i := range g.files {
		f := &g.files[i]
		f.w, err = openCapWriter(filepath.Join(g.cfg.Dir, f.Name), g.cfg.Format == FormatPcapNG, g.cfg.Nanosecond,
			g.cfg.Gzip, g.cfg.Snaplen, f.LinkType, f.Iface, bufSize)
		if err != nil {
			return nil, err
		}
		opened++
	}
	if g.cfg.TruthJSONL != "" {
		if g.jfile, err = os.Create(filepath.Join(g.cfg.Dir, g.cfg.TruthJSONL)); err != nil {
			return nil, err
		}
		g.jsonl = bufio.NewWriterSize(g.jfile, 1<<20)
	}
	for len(g.ev.a) > 0 {
		e := g.ev.take()
		switch e.kind {
		case evSend:
			g.send(e.fl, e.t)
		case evCapture:
			g.capture(e.pk, int(e.hop), false, e.t)
		case evDup:
			g.capture(e.pk, int(e.hop), true, e.t)
		case evRetrans:
			g.launch(e.pk, e.t)
		case evARPReply:
			g.arp(int(e.pod), false, e.t)
			g.nextARP(int(e.pod), e.t)
		case evARPRequest:
			g.arp(int(e.pod), true, e.t)
			g.ev.push(event{t: e.t + g.arpR.span(g.cfg.Latency.ARPReply), kind: evARPReply, pod: e.pod})
		}
		g.ev.drop()
	}
	res = &Result{Frames: g.frames, Packets: g.nextID, Truth: g.truth}
	for i := range g.files {
		res.Files = append(res.Files, filepath.Join(g.cfg.Dir, g.files[i].Name))
		g.files[i].Frames = int(g.files[i].w.frames)
		g.truth.Files = append(g.truth.Files, g.files[i].FileTruth)
	}
	for i := range g.flows {
		g.truth.Flows[i].Packets = g.flows[i].sent
	}
	// Close before measuring sizes; the deferred close then has nothing left to do.
	var closeErr error
	for i := 0; i < opened; i++ { // every file, keeping the first error
		if err := g.files[i].w.close(); err != nil && closeErr == nil {
			closeErr = err
		}
	}
	opened = 0
	if closeErr != nil {
		return nil, closeErr
	}
	for _, p := range res.Files {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		res.Bytes += st.Size()
	}
	return res, nil
}

// buildPool fills the payload pool and its prefix sums, so a payload's checksum costs O(1).
func (g *generator) buildPool() {
	r := newRNG(g.cfg.Seed, 2)
	g.pool = make([]byte, poolSize+9216)
	for i := 0; i < len(g.pool); i += 8 {
		binary.LittleEndian.PutUint64(g.pool[i:], r.next())
	}
	g.prefix = make([]uint64, len(g.pool)/2+1)
	for k := 0; k < len(g.pool)/2; k++ {
		g.prefix[k+1] = g.prefix[k] + uint64(binary.BigEndian.Uint16(g.pool[2*k:]))
	}
}

// paySum is the plain word sum of pool[off:off+n] for even off.
func (g *generator) paySum(off, n int) uint64 {
	s := g.prefix[(off+n)/2] - g.prefix[off/2]
	if n%2 == 1 {
		s += uint64(g.pool[off+n-1]) << 8
	}
	return s
}

// buildPath sets the hop count and the latency in front of each hop.
func (g *generator) buildPath() {
	l := g.cfg.Latency
	if g.cfg.Mode == ModeBGP {
		g.hops = 4
		g.lat = [6]Span{{}, l.CaliToEth0, l.Wire, l.CaliToEth0}
		return
	}
	g.hops = 6
	g.lat = [6]Span{{}, l.CaliToTunnel, l.TunnelToEth0, l.Wire, l.TunnelToEth0, l.CaliToTunnel}
}

var (
	tcpPorts = []uint16{80, 443, 8080, 5432, 6379, 9090}
	udpPorts = []uint16{8125, 4242, 9999, 6000, 7000}
)

// buildFlows draws the flows, their packet budgets and first send times.
func (g *generator) buildFlows() {
	c := &g.cfg
	r := newRNG(c.Seed, 3)
	mtu := 1500
	switch c.Mode {
	case ModeIPIP:
		mtu = 1480
	case ModeVXLAN:
		mtu = 1450
	case ModeWireGuard:
		mtu = 1440
	}
	// Budgets: one packet each, the rest split by exponential weights.
	weights := make([]float64, c.Flows)
	var wsum float64
	for i := range weights {
		weights[i] = float64(r.exp(1e6)) + 1
		wsum += weights[i]
	}
	budgets := make([]int, c.Flows)
	rest := c.Packets - c.Flows
	given := 0
	for i := range budgets {
		b := int(float64(rest) * weights[i] / wsum)
		budgets[i] = 1 + b
		given += b
	}
	for i := 0; given < rest; i = (i + 1) % c.Flows {
		budgets[i]++
		given++
	}
	duration := float64(c.Packets) / c.Rate * 1e9
	type key struct {
		proto    uint8
		cli, srv int
		sp, dp   uint16
	}
	used := make(map[key]bool, c.Flows)
	services := map[[2]int][4]byte{}
	svcPorts := map[[2]int]uint16{}
	ptot := c.Protos.TCP + c.Protos.UDP + c.Protos.ICMP
	g.flows = make([]flow, c.Flows)
	g.truth.Flows = make([]FlowTruth, c.Flows)
	for i := range g.flows {
		fl := &g.flows[i]
		fl.id = i
		fl.r = newRNG(c.Seed, 1000+uint64(i))
		fl.budget = budgets[i]
		fl.gap = duration / float64(budgets[i])
		x := r.float() * ptot
		switch {
		case x < c.Protos.TCP:
			fl.proto = protoTCP
		case x < c.Protos.TCP+c.Protos.UDP || c.Protos.ICMP == 0:
			fl.proto = protoUDP
		default:
			fl.proto = protoICMP
		}
		if fl.proto == protoUDP && c.Protos.UDP == 0 {
			fl.proto = protoTCP
		}
		if i < c.Identical {
			fl.ident, fl.proto = true, protoUDP
		}
		fl.cli = r.intn(len(g.pods))
		cn := g.pods[fl.cli].node
		sn := r.intn(c.Nodes - 1)
		if sn >= cn {
			sn++
		}
		fl.srv = sn*c.PodsPerNode + r.intn(c.PodsPerNode)
		for tries := 0; ; tries++ {
			switch fl.proto {
			case protoTCP:
				fl.dport = tcpPorts[r.intn(len(tcpPorts))]
			case protoUDP:
				fl.dport = udpPorts[r.intn(len(udpPorts))]
			}
			fl.sport = uint16(32768 + r.intn(28232))
			if fl.proto == protoICMP {
				fl.sport = uint16(r.next())
			}
			k := key{fl.proto, fl.cli, fl.srv, fl.sport, fl.dport}
			if !used[k] || tries > 64 {
				used[k] = true
				break
			}
		}
		fl.finishDraw(g, &r, services, svcPorts, mtu)
		g.ev.push(event{t: g.start + int64(r.float()*min(fl.gap, 1e9)), kind: evSend, fl: fl})
	}
}

// finishDraw draws what follows the flow's endpoints and ports (DNAT, IP ids, sequence numbers) in the
// order buildFlows always has, fills its truth, and sets its largest payload.
func (fl *flow) finishDraw(g *generator, r *rng, services map[[2]int][4]byte, svcPorts map[[2]int]uint16, mtu int) {
	c := &g.cfg
	i := fl.id
	{
		fl.dnat = fl.proto != protoICMP && r.chance(c.DNAT)
		fl.ipid0 = r.chance(c.IPID0DF) || fl.ident
		fl.ipid = [2]uint16{uint16(r.next()), uint16(r.next())}
		fl.seq = [2]uint32{uint32(r.next()), uint32(r.next())}
		if fl.proto == protoTCP {
			fl.rcv = &[2]tcpRcv{{next: fl.seq[0]}, {next: fl.seq[1]}}
		}
		ft := FlowTruth{ID: i, Proto: fl.proto, Client: g.pods[fl.cli].name, Server: g.pods[fl.srv].name,
			ClientIP: addr4(g.pods[fl.cli].ip), ServerIP: addr4(g.pods[fl.srv].ip), Sport: fl.sport,
			Dport: fl.dport, IPID0DF: fl.ipid0}
		if fl.dnat {
			sk := [2]int{fl.srv, int(fl.dport)}
			ip, ok := services[sk]
			if !ok {
				n := len(services) + 10
				ip = [4]byte{10, 96, byte(n >> 8), byte(n)}
				services[sk] = ip
				if fl.proto == protoTCP {
					svcPorts[sk] = tcpPorts[r.intn(len(tcpPorts))]
				} else {
					svcPorts[sk] = udpPorts[r.intn(len(udpPorts))]
				}
			}
			fl.svcIP, fl.svcPort = ip, svcPorts[sk]
			ft.DNAT = &NAT{ServiceIP: addr4(ip), ServicePort: fl.svcPort}
		}
		fl.vxPort = vxlanSourcePort(g.pods[fl.cli].ip, g.pods[fl.srv].ip, fl.sport, fl.dport, fl.proto)
		hdr := 20 + 20
		if fl.proto == protoUDP {
			hdr = 20 + 8
		}
		fl.maxData = min(c.PayloadMax, mtu-hdr)
		if fl.ident {
			fl.idLen = 1 + fl.r.intn(fl.maxData)
			fl.idOff = fl.r.intn(poolSize) &^ 1
		}
		g.truth.Flows[i] = ft
	}
}

// vxlanSourcePort mimics udp_flow_src_port: a symmetric hash of the inner flow mapped onto the
// ephemeral port range 32768-60999.
func vxlanSourcePort(a, b [4]byte, pa, pb uint16, proto uint8) uint16 {
	x, y := binary.BigEndian.Uint32(a[:]), binary.BigEndian.Uint32(b[:])
	if x > y {
		x, y = y, x
	}
	if pa > pb {
		pa, pb = pb, pa
	}
	h := mix64(uint64(x)<<32 | uint64(y))
	h = mix64(h ^ uint64(pa)<<24 ^ uint64(pb)<<8 ^ uint64(proto))
	return uint16(32768 + h%(61000-32768))
}

func addr4(b [4]byte) netip.Addr { return netip.AddrFrom4(b) }

// nextDir reports which side sends the flow's next packet.
func (fl *flow) nextDir() uint8 {
	if fl.ident {
		return 0
	}
	switch fl.proto {
	case protoTCP:
		switch fl.state {
		case 1, 4, 11:
			return 1
		}
		return 0
	default:
		return uint8(fl.state & 1)
	}
}

func (g *generator) allocPacket() *packet {
	if n := len(g.free); n > 0 {
		pk := g.free[n-1]
		g.free = g.free[:n-1]
		caps := pk.caps[:0]
		*pk = packet{caps: caps}
		if caps == nil {
			pk.caps = make([]Capture, 0, g.hops+1)
		}
		return pk
	}
	return &packet{caps: make([]Capture, 0, g.hops+1)}
}

// send handles a flow's due packet: proxy ARP first if the sending pod has not talked yet.
func (g *generator) send(fl *flow, t int64) {
	if fl.finished || fl.budget <= 0 {
		return
	}
	dir := fl.nextDir()
	sender := fl.cli
	if dir == 1 {
		sender = fl.srv
	}
	if p := &g.pods[sender]; !p.arpDone || t <= p.arpTill {
		if !p.arpDone {
			p.arpDone = true
			p.arpTill = t + fl.r.span(g.cfg.Latency.ARPReply)
			g.arp(sender, true, t)
			g.ev.push(event{t: p.arpTill, kind: evARPReply, pod: int32(sender)})
		}
		g.ev.push(event{t: p.arpTill + 1000 + fl.r.span(Span{0, 4 * time.Microsecond}), kind: evSend, fl: fl})
		return
	}
	pk := g.allocPacket()
	pk.fl = fl
	pk.dir = dir
	pk.origID = -1
	g.script(fl, pk)
	g.launch(pk, t)
	if fl.finished || fl.budget <= 0 {
		return
	}
	next := t + fl.r.exp(fl.gap)
	if fl.nextDir() != dir {
		next = max(next, pk.t[g.hops-1]+fl.r.span(g.cfg.Latency.AppReply))
	}
	g.ev.push(event{t: next, kind: evSend, fl: fl})
}

// script fills pk with the flow's next packet and advances the flow.
func (g *generator) script(fl *flow, pk *packet) {
	fl.budget--
	d := pk.dir
	b := pk.l4[:]
	switch fl.proto {
	case protoTCP:
		var flags byte
		n := 0
		opt := false
		switch fl.state {
		case 0:
			flags, opt = tcpSYN, true
		case 1:
			flags, opt = tcpSYN|tcpACK, true
		case 2, 5, 12:
			flags = tcpACK
		case 3, 4:
			flags = tcpPSH | tcpACK
			n = 1 + fl.r.intn(fl.maxData)
		case 10, 11:
			flags = tcpFIN | tcpACK
		}
		seq := fl.seq[d]
		binary.BigEndian.PutUint32(b[4:], seq)
		binary.BigEndian.PutUint32(b[8:], 0) // the acknowledgement number: written at launch (tcpLaunch)
		pk.l4len = 20
		if opt {
			pk.l4len = 24
			b[20], b[21] = 2, 4
			binary.BigEndian.PutUint16(b[22:], uint16(fl.maxData))
		}
		b[12] = byte(pk.l4len/4) << 4
		b[13] = flags
		binary.BigEndian.PutUint16(b[14:], 64240)
		pk.payLen = n
		pk.seq = seq
		fl.seq[d] += uint32(n)
		if flags&(tcpSYN|tcpFIN) != 0 {
			fl.seq[d]++
		}
		// Advance. The budget always leaves room for the three teardown segments once the handshake
		// is done: a request is sent only with five packets left (request, response, teardown).
		switch fl.state {
		case 0, 1:
			fl.state++
		case 2, 5:
			fl.state = 3
		case 4:
			fl.state = 3
			if fl.budget >= 4 && fl.r.chance(0.3) {
				fl.state = 5
			}
		case 3:
			fl.state = 4
		case 10, 11:
			fl.state++
		case 12:
			fl.finished = true
		}
		if fl.state == 3 {
			switch {
			case fl.budget <= 3:
				fl.state = 10
			case fl.budget == 4:
				fl.state = 5
			}
		}
	case protoUDP:
		pk.l4len = 8
		pk.payLen = 1 + fl.r.intn(fl.maxData)
		if fl.dns { // a query of 17-64 bytes, an answer of 40-511 (within the MSS)
			pk.payLen = min(17+fl.r.intn(48), fl.maxData)
			if d == 1 {
				pk.payLen = min(40+fl.r.intn(472), fl.maxData)
			}
		}
		if fl.ident {
			pk.payLen = fl.idLen
		}
		binary.BigEndian.PutUint16(b[4:], uint16(8+pk.payLen))
		fl.state++
	case protoICMP:
		pk.l4len = 8
		b[0] = 8
		if d == 1 {
			b[0] = 0
		}
		binary.BigEndian.PutUint16(b[4:], fl.sport)
		binary.BigEndian.PutUint16(b[6:], fl.icmpSeq)
		pk.seq = uint32(fl.sport)<<16 | uint32(fl.icmpSeq)
		pk.payLen = min(56, g.cfg.PayloadMax)
		// The reply carries the request's data: both take their offset from (flow, echo seq).
		pk.payOff = int(mix64(uint64(fl.id)<<16|uint64(fl.icmpSeq))%poolSize) &^ 1
		if d == 1 {
			fl.icmpSeq++
		}
		fl.state++
	}
	if fl.proto != protoICMP {
		sp, dp := fl.sport, fl.dport
		if d == 1 {
			sp, dp = dp, sp
		}
		binary.BigEndian.PutUint16(b[0:], sp)
		binary.BigEndian.PutUint16(b[2:], dp)
	}
	if fl.proto != protoICMP {
		pk.payOff = fl.r.intn(poolSize) &^ 1
		if fl.ident {
			pk.payOff = fl.idOff
		}
	}
	var s uint64
	for i := 0; i < pk.l4len; i += 2 {
		s += uint64(binary.BigEndian.Uint16(b[i:]))
	}
	pk.sum = s + g.paySum(pk.payOff, pk.payLen)
	pk.df = fl.proto != protoICMP || fl.ipid0
	fl.sent++
}

// launch starts a journey at time t: it draws the hop times, loss and duplication, and captures hop 0.
func (g *generator) launch(pk *packet, t int64) {
	fl := pk.fl
	pk.id = g.nextID
	g.nextID++
	if !fl.ipid0 {
		pk.ipid = fl.ipid[pk.dir]
		fl.ipid[pk.dir]++
	}
	if g.cfg.Mode != ModeBGP && !fl.ident { // identical packets keep the outer IP id 0 (DF, as old kernels)
		s := &g.nodes[g.pods[g.senderPod(pk)].node]
		pk.outerID = s.outerID
		s.outerID++
	}
	pk.t[0] = t
	pk.seen = g.hops
	for k := 1; k < g.hops; k++ {
		pk.t[k] = pk.t[k-1] + fl.r.span(g.lat[k])
		if pk.seen == g.hops && fl.r.chance(g.cfg.LossPerHop) {
			pk.seen = k
		}
	}
	pk.dupHop = -1
	pk.pending = pk.seen
	if fl.r.chance(g.cfg.DupRate) {
		pk.dupHop = fl.r.intn(pk.seen)
		pk.dupGap = 1000 + fl.r.span(Span{0, 19 * time.Microsecond})
		pk.pending++
	}
	g.tcpLaunch(pk, t)
	if fl.proto == protoTCP && fl.budget >= 6 && (pk.seen < g.hops || fl.r.chance(g.cfg.RetransRate)) {
		fl.budget--
		fl.sent++
		rt := g.allocPacket()
		caps := rt.caps
		*rt = *pk
		rt.caps = caps
		rt.retrans = true
		rt.origID = pk.id
		g.ev.push(event{t: t + fl.r.span(g.cfg.Latency.Retransmitted), kind: evRetrans, pk: rt})
	}
	g.capture(pk, 0, false, t)
}

func (g *generator) senderPod(pk *packet) int {
	if pk.dir == 0 {
		return pk.fl.cli
	}
	return pk.fl.srv
}

// capture writes the frame of pk at hop, and schedules what follows.
func (g *generator) capture(pk *packet, hop int, dup bool, t int64) {
	fl := pk.fl
	src, dst := fl.cli, fl.srv
	if pk.dir == 1 {
		src, dst = dst, src
	}
	sp, dp := &g.pods[src], &g.pods[dst]
	sn, rn := &g.nodes[sp.node], &g.nodes[dp.node]
	last := g.hops - 1
	receiving := hop > last/2
	n := sn
	if receiving {
		n = rn
	}
	file := g.fileAt(pk, hop)

	// Inner addresses, ports and TTL as seen at this hop.
	sip, dip := sp.ip, dp.ip
	sport, dport := binary.BigEndian.Uint16(pk.l4[0:]), binary.BigEndian.Uint16(pk.l4[2:])
	natView := fl.dnat && (pk.dir == 0 && hop == 0 || pk.dir == 1 && hop == last)
	if natView {
		if pk.dir == 0 {
			dip, dport = fl.svcIP, fl.svcPort
		} else {
			sip, sport = fl.svcIP, fl.svcPort
		}
	}
	ttl := 64
	switch {
	case hop == 0:
	case !receiving:
		ttl = 63
	case g.hops == 4 && hop == 2:
		ttl = 63 - g.cfg.Routers
	case hop == last:
		ttl = 62
		if g.hops == 4 {
			ttl -= g.cfg.Routers
		}
	default:
		ttl = 63
	}
	innerLen := 20 + pk.l4len + pk.payLen

	h := g.hdr[:0]
	switch {
	case hop == 0:
		h = appendEth(h, caliMAC, sp.mac, 0x0800)
	case hop == last:
		h = appendEth(h, dp.mac, caliMAC, 0x0800)
	case g.hops == 6 && (hop == 1 || hop == 4):
		if g.cfg.Mode == ModeVXLAN {
			h = appendEth(h, rn.vtepMAC, sn.vtepMAC, 0x0800)
		}
	default: // eth0
		dmac, smac := rn.mac, sn.mac
		outerTTL := 0
		if g.cfg.Routers > 0 {
			if receiving {
				smac = rn.gwMAC
			} else {
				dmac = sn.gwMAC
			}
		}
		if receiving {
			outerTTL = -g.cfg.Routers
		}
		h = appendEth(h, dmac, smac, 0x0800)
		switch g.cfg.Mode {
		case ModeIPIP:
			h = appendIPv4(h, 20+innerLen, pk.outerID, pk.df, 63+outerTTL, protoIPIP, sn.ip, rn.ip)
		case ModeWireGuard:
			g.wgFrame(pk, hop, file, n, sn, rn, h, innerLen, 64+outerTTL, t, dup)
			return
		case ModeVXLAN:
			udpLen := 8 + 8 + 14 + innerLen
			h = appendIPv4(h, 20+udpLen, pk.outerID, false, 64+outerTTL, protoUDP, sn.ip, rn.ip)
			h = binary.BigEndian.AppendUint16(h, fl.vxPort)
			h = binary.BigEndian.AppendUint16(h, vxlanPort)
			h = binary.BigEndian.AppendUint16(h, uint16(udpLen))
			h = append(h, 0, 0, 0x08, 0, 0, 0, byte(vxlanVNI>>16&0xff), byte(vxlanVNI>>8&0xff), byte(vxlanVNI&0xff), 0)
			h = appendEth(h, rn.vtepMAC, sn.vtepMAC, 0x0800)
		}
	}
	proto := fl.proto
	h = appendIPv4(h, innerLen, pk.ipid, pk.df, ttl, proto, sip, dip)
	l4 := len(h)
	h = append(h, pk.l4[:pk.l4len]...)
	partial := g.cfg.PartialCsum && proto != protoICMP && !receiving
	var csum uint16
	if proto == protoICMP {
		csum = ^fold(pk.sum)
	} else {
		binary.BigEndian.PutUint16(h[l4:], sport)
		binary.BigEndian.PutUint16(h[l4+2:], dport)
		s := pk.sum - uint64(binary.BigEndian.Uint16(pk.l4[0:])) - uint64(binary.BigEndian.Uint16(pk.l4[2:])) +
			uint64(sport) + uint64(dport)
		ph := pseudoSum(sip, dip, proto, pk.l4len+pk.payLen)
		if partial {
			csum = fold(ph)
		} else {
			csum = ^fold(ph + s)
			if csum == 0 && proto == protoUDP {
				csum = 0xffff
			}
		}
	}
	coff := 16
	switch proto {
	case protoUDP:
		coff = 6
	case protoICMP:
		coff = 2
	}
	binary.BigEndian.PutUint16(h[l4+coff:], csum)

	f := &g.files[file]
	rec, step := g.recorded(n, t)
	rec = f.w.frame(rec, step, h, g.pool[pk.payOff:pk.payOff+pk.payLen])
	f.w.frames++
	g.frames++
	if g.cfg.KeepTruth || g.jsonl != nil {
		pk.caps = append(pk.caps, Capture{Hop: hop, File: file, Frame: f.w.frames, True: t, Recorded: rec,
			Dup: dup, Partial: partial})
	}
	g.captured(pk, hop, dup, t)
}

// captured schedules what follows pk's capture at hop (at t), and finishes the packet after its last
// one.
func (g *generator) captured(pk *packet, hop int, dup bool, t int64) {
	if !dup {
		if g.cfg.Mode == ModeWireGuard && hop+1 < pk.seen {
			g.wgOrder(pk, hop)
		}
		if hop+1 < pk.seen {
			g.ev.push(event{t: pk.t[hop+1], kind: evCapture, pk: pk, hop: int8(hop + 1)})
		}
		if hop == pk.dupHop {
			g.ev.push(event{t: t + pk.dupGap, kind: evDup, pk: pk, hop: int8(hop)})
		}
	}
	pk.pending--
	if pk.pending == 0 {
		g.finish(pk)
	}
}

// recorded converts a true time on node n to the timestamp written (rounded down to µs unless ns),
// and returns the part of it a step of the node's clock added (to the same resolution).
func (g *generator) recorded(n *node, t int64) (rec, step int64) {
	rec, step = n.recorded(t, g.start), n.stepped(t, g.start)
	if !g.cfg.Nanosecond {
		rec -= rec % 1000
		step -= step % 1000
	}
	return rec, step
}

// finish records a completed journey in the truth and recycles the packet.
func (g *generator) finish(pk *packet) {
	if g.cfg.KeepTruth || g.jsonl != nil {
		pt := PacketTruth{ID: pk.id, Flow: pk.fl.id, Dir: pk.dir, IPID: pk.ipid, Seq: pk.seq,
			Len: 20 + pk.l4len + pk.payLen, Retrans: pk.retrans, RetransOf: pk.origID, Captures: pk.caps,
			Hops: g.hops, LostAfter: -1}
		if pk.seen < g.hops {
			pt.Lost = true
			pt.LostAfter = pk.seen - 1
			a, b := g.fileAt(pk, pk.seen-1), g.fileAt(pk, pk.seen)
			pt.Segment = g.files[a].Name + " -> " + g.files[b].Name
		}
		if g.jsonl != nil {
			g.jbuf = appendPacketJSON(g.jbuf[:0], &pt)
			_, _ = g.jsonl.Write(g.jbuf) // sticky; reported at flush
		}
		if g.cfg.KeepTruth {
			g.truth.Packets[pk.id] = pt // the truth takes the captures slice
			pk.caps = nil
		}
	}
	g.free = append(g.free, pk)
}

// fileAt returns the capture file of pk's hop.
func (g *generator) fileAt(pk *packet, hop int) int {
	src, dst := pk.fl.cli, pk.fl.srv
	if pk.dir == 1 {
		src, dst = dst, src
	}
	last := g.hops - 1
	n := &g.nodes[g.pods[src].node]
	if hop > last/2 {
		n = &g.nodes[g.pods[dst].node]
	}
	switch {
	case hop == 0:
		return g.pods[src].file
	case hop == last:
		return g.pods[dst].file
	case g.hops == 6 && (hop == 1 || hop == 4):
		return n.tunFile
	}
	return n.ethFile
}

// arp writes the pod's proxy ARP request (who-has 169.254.1.1) or the reply (is-at ee:ee:ee:ee:ee:ee).
func (g *generator) arp(podIdx int, request bool, t int64) {
	p := &g.pods[podIdx]
	h := g.hdr[:0]
	if request {
		h = appendEth(h, broadcast, p.mac, 0x0806)
		h = appendARP(h, 1, p.mac, p.ip, [6]byte{}, gatewayIPv4)
	} else {
		h = appendEth(h, p.mac, caliMAC, 0x0806)
		h = appendARP(h, 2, caliMAC, gatewayIPv4, p.mac, p.ip)
	}
	f := &g.files[p.file]
	rec, step := g.recorded(&g.nodes[p.node], t)
	rec = f.w.frame(rec, step, h, nil)
	f.w.frames++
	g.frames++
	if request {
		g.arpIdx[podIdx] = len(g.truth.ARP)
		g.truth.ARP = append(g.truth.ARP, ARPTruth{Pod: p.name, File: p.file, RequestFrame: f.w.frames,
			RequestTime: rec})
		return
	}
	a := &g.truth.ARP[g.arpIdx[podIdx]]
	a.ReplyFrame, a.ReplyTime = f.w.frames, rec
}

// nextARP schedules the pod's next extra proxy ARP exchange (Config.ARPRate), while traffic lasts.
func (g *generator) nextARP(podIdx int, t int64) {
	if g.cfg.ARPRate <= 0 {
		return
	}
	// The pod's exchanges follow each other, so the reply's mean delay comes off the mean gap.
	rep := g.cfg.Latency.ARPReply
	gap := max(float64(len(g.pods))/g.cfg.ARPRate*1e9-float64(rep.Min+rep.Max)/2, 0)
	next := t + g.arpR.exp(gap)
	if next <= t {
		next = t + 1
	}
	if next < g.arpEnd {
		g.ev.push(event{t: next, kind: evARPRequest, pod: int32(podIdx)})
	}
}

// manyFlowsBudgets are the packets of a MixManyFlows TCP connection (handshake, request, response,
// FIN, FIN, ACK) and the least of a DNS-like UDP flow (a request and its response).
const (
	manyFlowsTCP = 8
	manyFlowsUDP = 2
)

// buildManyFlows draws the flows of MixManyFlows: many clients, one server pod per node, mostly
// DNS-like UDP and short TCP connections, starting at times spread over the run.
func (g *generator) buildManyFlows() error {
	c := &g.cfg
	r := newRNG(c.Seed, 4)
	mtu := 1500
	switch c.Mode {
	case ModeIPIP:
		mtu = 1480
	case ModeVXLAN:
		mtu = 1450
	}
	var servers, clients []int
	for i := range g.pods {
		if i%c.PodsPerNode == 0 {
			servers = append(servers, i)
		}
		if i%c.PodsPerNode != 0 || c.PodsPerNode == 1 {
			clients = append(clients, i)
		}
	}
	g.flows = make([]flow, c.Flows)
	g.truth.Flows = make([]FlowTruth, c.Flows)
	need, udp := 0, 0
	for i := range g.flows {
		fl := &g.flows[i]
		fl.proto = protoTCP
		if i < c.Identical || r.chance(ManyFlowsUDP) {
			fl.proto = protoUDP
			fl.budget = manyFlowsUDP
			udp++
		} else {
			fl.budget = manyFlowsTCP
		}
		need += fl.budget
	}
	if need > c.Packets {
		return fmt.Errorf("many-flows mix: %d flows need %d packets (%d per TCP connection, %d per UDP flow), got %d",
			c.Flows, need, manyFlowsTCP, manyFlowsUDP, c.Packets)
	}
	// The packets left over go to the UDP flows as more request/response pairs, evenly (to the TCP
	// connections as more segments when there is no UDP flow); an odd one is a query never answered.
	rest := c.Packets - need
	if udp == 0 {
		for i := 0; rest > 0; i = (i + 1) % c.Flows {
			g.flows[i].budget++
			rest--
		}
	} else {
		pairs, odd := rest/2, rest%2
		each, extra := pairs/udp, pairs%udp
		for i := range g.flows {
			fl := &g.flows[i]
			if fl.proto != protoUDP {
				continue
			}
			fl.budget += 2 * each
			if extra > 0 {
				fl.budget += 2
				extra--
			}
			if odd > 0 {
				fl.budget++
				odd--
			}
		}
	}
	duration := float64(c.Packets) / c.Rate * 1e9
	type key struct {
		proto    uint8
		cli, srv int
		sp, dp   uint16
	}
	used := make(map[key]bool, c.Flows)
	services := map[[2]int][4]byte{}
	svcPorts := map[[2]int]uint16{}
	for i := range g.flows {
		fl := &g.flows[i]
		fl.id = i
		fl.r = newRNG(c.Seed, 1000+uint64(i))
		fl.ident = i < c.Identical
		fl.dns = fl.proto == protoUDP && !fl.ident
		// Packets of one flow follow each other within about a millisecond (the replies wait for
		// the request): short-lived, as DNS lookups and short connections are.
		fl.gap = min(duration/float64(fl.budget), 1e6)
		fl.cli = clients[r.intn(len(clients))]
		cn := g.pods[fl.cli].node
		sn := r.intn(c.Nodes - 1)
		if sn >= cn {
			sn++
		}
		fl.srv = servers[sn]
		for tries := 0; ; tries++ {
			fl.dport = tcpPorts[r.intn(len(tcpPorts))]
			if fl.proto == protoUDP {
				fl.dport = 53
			}
			fl.sport = uint16(32768 + r.intn(28232))
			k := key{fl.proto, fl.cli, fl.srv, fl.sport, fl.dport}
			if !used[k] || tries > 64 {
				used[k] = true
				break
			}
		}
		fl.finishDraw(g, &r, services, svcPorts, mtu)
		span := max(duration-2*fl.gap*float64(fl.budget), 0)
		g.ev.push(event{t: g.start + int64(r.float()*span), kind: evSend, fl: fl})
	}
	return nil
}
