package correlate

import (
	"context"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"github.com/calipath/calipath/decode"
)

// Options tune correlation.
type Options struct {
	Offsets  map[string]time.Duration // node → clock offset, overriding the estimate (--offset)
	Window   time.Duration            // how far apart two sightings of one packet may be (default 1 s)
	Journeys bool                     // include every journey in the Result
	// Lean keeps the memory peak low for large captures, at a small cost in time: Correlate drops the
	// Capture's fingerprints (Capture.Loose, 8 bytes a frame) once it has matched the journeys, so the
	// Capture cannot be correlated again, and returns memory it no longer needs to the system between
	// its phases, so the peak is what is live rather than what once was.
	Lean bool
}

// Journey statuses.
const (
	statusDelivered   = "delivered"
	statusLost        = "lost"
	statusNotCaptured = "not-captured"
	statusUnplaced    = "unplaced"      // seen only at points off its flow's path (e.g. -i any without indexes)
	statusSplit       = "split"         // a GSO/TSO frame that continues as several smaller journeys from LastSeen
	statusMerged      = "merged"        // a segment that continues inside a larger (GRO) journey from LastSeen
	statusLeft        = "left-captures" // reached the last captured point, short of its destination (see ends.go)
)

// statusCode stores a journey's status in one byte; String gives its name above.
type statusCode uint8

const (
	stDelivered statusCode = iota
	stLost
	stNotCaptured
	stUnplaced
	stSplit
	stMerged
	stLeftCaptures
)

var statusNames = [...]string{stDelivered: statusDelivered, stLost: statusLost, stNotCaptured: statusNotCaptured,
	stUnplaced: statusUnplaced, stSplit: statusSplit, stMerged: statusMerged, stLeftCaptures: statusLeft}

// String returns the status's name.
func (c statusCode) String() string { return statusNames[c] }

// negTolerance is how negative a corrected latency may be before calipath calls the clocks
// inconsistent (rounding, and packets outside the clock sample).
const negTolerance = int64(time.Microsecond)

// coverageGrace is how long a point's capture must run past a moment to count as covering it.
const coverageGrace = int64(5 * time.Millisecond)

// Correlate follows every packet of the capture through its points. It does no I/O.
func Correlate(c *decode.Capture, opts Options) *Result {
	res, _ := CorrelateContext(context.Background(), c, opts)
	return res
}

// CorrelateContext is Correlate that stops, between its phases, once ctx has ended: it then returns
// nil and the context's cause. The Capture cannot be correlated again after a stop in Lean mode.
func CorrelateContext(ctx context.Context, c *decode.Capture, opts Options) (*Result, error) {
	if opts.Window <= 0 {
		opts.Window = time.Second
	}
	w := newWorld(c)
	if inf := w.inferPoints(); len(inf) > 0 {
		w = newWorld(withInferred(c, w.nodes, inf))
		w.adoptInferred(inf)
	}
	clocks, offFits := w.clocksFor(opts)
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	m := newMatcher(w, clocks, opts)
	m.run()
	nJ := int(m.next)
	m.ring, m.loose, m.tcp = nil, nil, nil // the open-journey state is no longer needed
	m.amb, m.ambByLoose, m.dupRecs = nil, nil, nil
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if opts.Lean {
		runtime.GC() // so that the journey ids below reuse that memory rather than come on top of it
	}
	m.collectJourneys()
	if opts.Lean {
		c.Loose, w.c.Loose = nil, nil // it holds journey ids now (w.c is a copy of c when points were inferred)
		debug.FreeOSMemory()
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	a := &analysis{w: w, m: m, clocks: clocks, opts: opts, nJ: nJ, offFits: offFits}
	return a.result(), nil
}

// dir is a journey's direction within its flow.
const (
	c2s = 0
	s2c = 1
)

type analysis struct {
	w      *world
	m      *matcher
	clocks []clockModel
	opts   Options
	nJ     int

	jStart []uint32 // hops of journey j: arena[jStart[j]:jStart[j+1]] (global observation ids, in path order)
	arena  []uint32
	hopPt  []uint16 // the point of each arena slot
	hopTs  hopTimes // the corrected time of each arena slot
	jDups  map[int32]int
	jFlow  []int32
	jDir   []uint8

	uf       unionFind
	flows    []*flowAcc
	flowOf   map[flowKey]int32
	segs     map[[2]int]*segAcc
	segDense []*segAcc // segs indexed by from*len(points)+to, when there are few points
	covFirst []int64   // span a point's capture is taken to cover (corrected): its node's
	covLast  []int64
	ownFirst []int64 // the point's own first and last frame (corrected)
	ownLast  []int64
	// nodeEmpty marks nodes whose captures hold no frame at all: taken to have run while the others did
	nodeEmpty []bool
	pairMode  map[[2]int]string

	offloadAt  map[int32]uint32 // split parent or merged segment → observation where it continued as others
	offloadNew map[int32]bool   // journeys that began as pieces of a split or as a merge: not new sends
	merged     map[int32]bool   // offloaded journeys that went on inside a larger frame (GRO), not as pieces
	retransJ   map[int32]bool   // TCP journeys that resent data already sent
	jStatus    []statusCode     // status of each journey
	jLast      []int32          // point last seen on the path, -1
	jNext      []int32          // point expected next, -1
	ids        []string         // flow IDs by flow index

	icmpJ        []int32         // the journeys of ICMP errors, in order
	refusedBy    map[int32]int   // journeys a node refused with an ICMP error → that node (see refused)
	frameAn      []Anomaly       // single-frame anomalies (bad checksums, wrong outer addresses)
	arpReq       map[int][]int64 // pod-veth point → times of ARP requests from its pod
	arpFindings  []arpFinding
	icmpFindings []icmpFinding
	offFits      []offsetFit        // --offset values the traffic contradicts (left out)
	lateJoins    []lateJoin         // packets split in two by a too small --window, joined again (joinLate)
	lateUnjoined map[int32]bool     // journeys that seemed to end early, seen again past a too small --window, not joined (joinLate)
	openEnds     []openEnd          // journeys that left the captures or entered them mid-path (ends.go)
	anyOf        []string           // per node, its -i any capture ("" none), once asked for
	srcFirstAt   map[[2]uint64]bool // (node, source address) of journeys first seen on that node (ends.go)
}

type pathInfo struct {
	points           []int
	srcNode, dstNode int
}

type segAcc struct {
	from, to    int
	kind        string
	packets     int
	delivered   int
	lost        int
	notCaptured int
	negative    int
	lat         latAcc
	flows       map[int32]int // flow → lost journeys
	evidence    []lossEv      // the first lostEvidence lost journeys of each flow, in journey order
	lostDF      int           // lost journeys with DF set
	refused     int           // lost journeys the segment's node refused with an ICMP error (refused)
	lostMaxLen  int
	passMaxLen  int // largest delivered packet
}

type flowAcc struct {
	key         flowKey
	path        [2]*pathInfo // per direction, when it has journeys
	client      tuple
	first       int64
	journeys    [2][]int32
	delivered   int
	lost        int
	notCaptured int
	bytes       int64
	lostAt      map[[2]int]int
	retrans     int
	resets      int
	nat         map[natKey]int
	natEv       map[natKey][]Evidence
	perPoint    []pointTally // packets and bytes per point (a flow crosses few points)
	srcVotes    [2]votes
	dstVotes    [2]votes
	srcPods     [2]votes // owner points of the source address of its first voteSample journeys
	dstPods     [2]votes // and of the last hop's destination address
	nVoted      [2]int
	tcp         [2]tcpSeqState
	nodeCache   [2][2]nodeCache        // per direction, source and destination: the last address's node
	routers     [2]map[int]*routerSeen // per direction: router point → what its journeys showed there
	e2e         latAcc
	nSent       int // packets its endpoints sent: journeys less GSO/GRO pieces and ICMP errors about it
	arpWait     int64
	icmpFrag    int     // ICMP 3/4 seen reaching the client's pod-veth
	tunnel      [2]bool // per direction: some journey was seen at a tunnel device
}

// routerSeen is what a flow direction's journeys showed at one router point: their hop positions
// there (summed: the order in corrected time) and the TTLs they crossed it with (outer when
// encapsulated; from the first voteSample), which order the routers without a clock.
type routerSeen struct {
	pos  int64
	n    int
	ttls votes
}

type natKey struct {
	kind, at, from, to string
}

func (a *analysis) obs(g uint32) (*decode.Observation, int) { return a.w.obsAt(g) }

func (a *analysis) ts(g uint32) int64 {
	o, _ := a.obs(g)
	return a.m.corrected(o)
}

func (a *analysis) point(g uint32) int {
	o, _ := a.obs(g)
	return a.w.srcPoint[o.Source]
}

func (a *analysis) hops(j int) []uint32 { return a.arena[a.jStart[j]:a.jStart[j+1]] }

// buildArena lays out every journey's hops contiguously, in path order: nodes in the order the packet
// reached them, and within a node by raw capture time (one clock, so exact).
func (a *analysis) buildArena() {
	m := a.m
	a.jStart, a.jDups = m.jHops, m.jDups // counts, turned into starts below
	m.jHops, m.jDups = nil, nil
	for j := 0; j < a.nJ; j++ {
		a.jStart[j+1] += a.jStart[j]
	}
	a.arena = make([]uint32, a.jStart[a.nJ])
	a.hopPt = make([]uint16, a.jStart[a.nJ])
	a.hopTs = newHopTimes(int(a.jStart[a.nJ]), &m.jT0)
	fill := make([]uint32, a.nJ)
	for f, obs := range a.w.c.Obs {
		for i := range obs {
			g := a.w.fileBase[f] + uint32(i)
			j := m.jOf[g] - 1
			if j < 0 || m.isDup(g) {
				continue
			}
			k := a.jStart[j] + fill[j]
			o := &obs[i]
			a.arena[k], a.hopPt[k] = g, uint16(a.w.srcPoint[o.Source])
			a.hopTs.set(int(k), j, m.corrected(o))
			fill[j]++
		}
	}
	// The matcher's per-observation state is no longer needed.
	m.jOf, m.dup, fill = nil, nil, nil
	if a.opts.Lean {
		debug.FreeOSMemory()
	}
	// Each journey's hops in path order; journeys are independent, so two halves sort side by side.
	mid := a.nJ / 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.sortHops(0, mid)
	}()
	a.sortHops(mid, a.nJ)
	<-done
}

// sortHops puts the hops of journeys [from, to) in path order. Within a journey: nodes in the order
// the packet reached them (first sighting in corrected time), and within a node by capture time (one
// clock, so exact). Journeys are short: insertion sorts on the parallel arrays, first by time, then by
// node rank.
func (a *analysis) sortHops(from, to int) {
	swap := func(i, k int) {
		a.arena[i], a.arena[k] = a.arena[k], a.arena[i]
		a.hopPt[i], a.hopPt[k] = a.hopPt[k], a.hopPt[i]
		a.hopTs.swap(i, k)
	}
	var nodes []int
	rankOf := func(k int) int {
		n := a.w.pointNode[a.hopPt[k]]
		for r, x := range nodes {
			if x == n {
				return r
			}
		}
		nodes = append(nodes, n)
		return len(nodes) - 1
	}
	for j := from; j < to; j++ {
		lo, hi := int(a.jStart[j]), int(a.jStart[j+1])
		if hi-lo < 2 {
			continue
		}
		for k := lo + 1; k < hi; k++ {
			for i := k; i > lo && a.hopTs.before(int32(j), i, i-1, a.arena); i-- {
				swap(i, i-1)
			}
		}
		nodes = nodes[:0]
		for k := lo; k < hi; k++ {
			rankOf(k)
		}
		for k := lo + 1; k < hi; k++ {
			for i := k; i > lo && rankOf(i) < rankOf(i-1); i-- {
				swap(i, i-1)
			}
		}
	}
}

func (a *analysis) result() *Result {
	w := a.w
	a.buildArena()
	a.coverage()

	// Flows: journeys in order of their first sighting; NAT joins the tuples before and after.
	a.uf = unionFind{parent: map[flowKey]flowKey{}}
	for _, ev := range a.m.nat {
		of, _ := a.obs(ev.from)
		ot, _ := a.obs(ev.to)
		a.uf.union(w.tupleOf(of).key(), w.tupleOf(ot).key())
	}
	// The datapath mode per node pair reads only the journeys: it runs beside the flow assignment.
	modesDone := make(chan struct{})
	go func() {
		defer close(modesDone)
		a.modes()
	}()
	a.flowOf = map[flowKey]int32{}
	var flowCache [4096]flowCacheEntry // the flows of recent tuples (journeys mostly repeat theirs)
	a.jFlow = make([]int32, a.nJ)
	a.jDir = make([]uint8, a.nJ)
	for j := 0; j < a.nJ; j++ {
		h := a.hops(j)
		if len(h) == 0 {
			a.jFlow[j] = -1
			continue
		}
		o, _ := a.obs(h[0])
		t := w.tupleOf(o)
		ci := t.hash() & (len(flowCache) - 1)
		fi, ok := flowCache[ci].fi, flowCache[ci].ok && flowCache[ci].t == t
		var root flowKey
		if !ok {
			root = a.uf.find(t.key())
			fi, ok = a.flowOf[root]
		}
		if !ok {
			fi = int32(len(a.flows))
			a.flowOf[root] = fi
			fl := &flowAcc{key: root, client: t, first: a.ts(h[0]), lostAt: map[[2]int]int{}, nat: map[natKey]int{}, natEv: map[natKey][]Evidence{}}
			if o.Flags&decode.FlagICMPError != 0 { // a flow first seen through an ICMP error: orient it as quoted
				fl.client = t.reverse()
			}
			for d := 0; d < 2; d++ {
				fl.routers[d] = map[int]*routerSeen{}
			}
			a.flows = append(a.flows, fl)
		}
		flowCache[ci] = flowCacheEntry{t, fi, true}
		if o.Flags&decode.FlagICMPError != 0 {
			a.icmpJ = append(a.icmpJ, int32(j))
		}
		fl := a.flows[fi]
		a.jFlow[j] = fi
		d := uint8(s2c)
		if (t.src == fl.client.src && t.sp == fl.client.sp) || (t.dst != fl.client.src && t.src != fl.client.dst && t.dp == fl.client.dp) {
			d = c2s
		}
		a.jDir[j] = d
		// Votes for the path's end nodes: the sender's node, and the node of the last known destination.
		if n := fl.nodeCache[d][0].nodeOf(w, t.v6, t.src); n >= 0 {
			fl.srcVotes[d].add(n)
		}
		last, _ := a.obs(h[len(h)-1])
		for i := len(h) - 1; i >= 0; i-- {
			oh := last
			if i < len(h)-1 {
				oh, _ = a.obs(h[i])
			}
			if n := fl.nodeCache[d][1].nodeOf(w, oh.Flags&decode.FlagIPv6 != 0, oh.Dst); n >= 0 {
				fl.dstVotes[d].add(n)
				break
			}
		}
		// And for the pod-veths at either end (buildPath keeps those on the end nodes), from the
		// addresses the first journeys carried (before NAT at the source, after it at the destination).
		if fl.nVoted[d] < voteSample {
			fl.nVoted[d]++
			if p, ok := w.ownerOf(o.Flags&decode.FlagIPv6 != 0, o.Src); ok {
				fl.srcPods[d].add(p)
			}
			if p, ok := w.ownerOf(last.Flags&decode.FlagIPv6 != 0, last.Dst); ok {
				fl.dstPods[d].add(p)
			}
		}
		// Routers' points: the journey's position there (hops are in corrected-time order) and TTL; and
		// whether the direction's packets crossed a tunnel device.
		for hi := range h {
			p := int(a.hopPt[int(a.jStart[j])+hi])
			if n := w.pointNode[p]; !w.cluster[n] && w.pointRole[p] != decode.RoleAny {
				rs := fl.routers[d][p]
				if rs == nil {
					rs = &routerSeen{}
					fl.routers[d][p] = rs
				}
				rs.pos += int64(hi)
				if rs.n++; rs.n <= voteSample {
					oh, _ := a.obs(h[hi])
					rs.ttls.add(int(a.w.hopTTL(oh)))
				}
			}
			if w.pointRole[p] == decode.RoleTunnel {
				fl.tunnel[d] = true
			}
		}
	}
	a.flowJourneys()
	<-modesDone
	a.segs = map[[2]int]*segAcc{}
	if n := len(a.w.c.Points); n <= 256 {
		a.segDense = make([]*segAcc, n*n)
	}
	a.buildPaths()
	a.joinLate()
	ids := a.flowIDs()
	a.ids = ids
	// ARP, ICMP errors and single-frame checks read what is settled by now and write nothing that
	// placing the journeys reads: they run beside it, on another core when there is one.
	var arpOut []ARPPoint
	var icmpOut []ICMPError
	side := make(chan struct{})
	go func() {
		defer close(side)
		arpOut = a.arp()
		icmpOut = a.icmp(ids)
		a.frameAn = a.frameAnomalies(ids)
	}()
	journeys := a.placeJourneys()
	<-side
	res := &Result{Schema: Schema, Journeys: journeys}
	res.Inputs = a.inputs()
	res.Points = a.points()
	res.NodeIPs = a.nodeIPs()
	res.Clocks = a.clockOut()
	res.Modes, res.Mode, res.ModeWhy = a.modeOut()
	res.analysis = a
	res.Flows = a.flowOut(ids) // after arp: it sets each flow's ARP wait
	res.Segments = a.segmentOut()
	res.ARP = arpOut
	res.ICMP = icmpOut
	res.Anomalies = a.anomalies(ids, res)
	res.Summary = a.summary(res)
	for i := range res.Journeys {
		res.Journeys[i] = a.renderJourney(res.Journeys[i].ID)
	}
	return res
}

// flowJourneys lists each flow's journeys per direction, in journey order, in one array.
func (a *analysis) flowJourneys() {
	n := make([][2]int, len(a.flows))
	for j, fi := range a.jFlow {
		if fi >= 0 {
			n[fi][a.jDir[j]]++
		}
	}
	all := make([]int32, 0, a.nJ)
	for fi, fl := range a.flows {
		for d := range fl.journeys {
			fl.journeys[d] = all[len(all) : len(all) : len(all)+n[fi][d]]
			all = all[:len(all)+n[fi][d]]
		}
	}
	for j, fi := range a.jFlow {
		if fi >= 0 {
			fl := a.flows[fi]
			fl.journeys[a.jDir[j]] = append(fl.journeys[a.jDir[j]], int32(j))
		}
	}
}

// coverage records each point's capture span in corrected time.
func (a *analysis) coverage() {
	w := a.w
	a.covFirst = make([]int64, len(w.c.Points))
	a.covLast = make([]int64, len(w.c.Points))
	lo, hi := int64(1<<62), int64(-1<<62)
	a.ownFirst = make([]int64, len(w.c.Points))
	a.ownLast = make([]int64, len(w.c.Points))
	for i, p := range w.c.Points {
		if p.Traffic.Frames == 0 {
			continue
		}
		cm := &a.clocks[w.pointNode[i]]
		a.covFirst[i], a.covLast[i] = cm.correct(p.Traffic.First), cm.correct(p.Traffic.Last)
		a.ownFirst[i], a.ownLast[i] = a.covFirst[i], a.covLast[i]
		lo, hi = min(lo, a.covFirst[i]), max(hi, a.covLast[i])
	}
	// pcap files record no start or stop time, so a capture's span is known only from its frames. The
	// captures of one node are taken to run together (they are started by one script or one person):
	// a point covers its node's span. A capture without a single frame ran while the others did.
	nodeLo := make([]int64, len(w.nodes))
	nodeHi := make([]int64, len(w.nodes))
	for n := range nodeLo {
		nodeLo[n], nodeHi[n] = int64(1<<62), int64(-1<<62)
	}
	for i, p := range w.c.Points {
		if p.Traffic.Frames > 0 {
			n := w.pointNode[i]
			nodeLo[n], nodeHi[n] = min(nodeLo[n], a.covFirst[i]), max(nodeHi[n], a.covLast[i])
		}
	}
	a.nodeEmpty = make([]bool, len(w.nodes))
	for n := range nodeLo {
		a.nodeEmpty[n] = nodeHi[n] < nodeLo[n]
	}
	for i, p := range w.c.Points {
		n := w.pointNode[i]
		switch {
		case p.Traffic.Frames > 0:
			a.covFirst[i], a.covLast[i] = nodeLo[n], nodeHi[n]
		case nodeHi[n] >= nodeLo[n]:
			a.covFirst[i], a.covLast[i] = nodeLo[n], nodeHi[n]+coverageGrace
		case hi >= lo:
			a.covFirst[i], a.covLast[i] = lo, hi+coverageGrace
		}
	}
}

func (a *analysis) covered(p int, t int64) bool {
	return t >= a.covFirst[p] && t+coverageGrace <= a.covLast[p]
}

// modeSample is how many pod-to-pod journeys per node pair decide its mode; voteSample how many
// journeys per flow direction vote for its path's end points.
const (
	modeSample = 64
	voteSample = 256
)

// modes works out the datapath mode of each node pair from the frames at underlay and tunnel points.
func (a *analysis) modes() {
	w := a.w
	a.pairMode = map[[2]int]string{}
	nn := len(w.nodes)
	seen := make([]int, nn*nn) // journeys per (source node, destination node)
	owners := ownerCache{w: w}
	for j := 0; j < a.nJ; j++ {
		h := a.hops(j)
		if len(h) == 0 {
			continue
		}
		// Only pod-to-pod packets tell the mode between their nodes.
		o0, _ := a.obs(h[0])
		ol, _ := a.obs(h[len(h)-1])
		sp, ok1 := owners.ownerOf(o0.Flags&decode.FlagIPv6 != 0, o0.Src)
		dp, ok2 := owners.ownerOf(ol.Flags&decode.FlagIPv6 != 0, ol.Dst)
		if !ok1 || !ok2 {
			continue
		}
		src, dst := w.pointNode[sp], w.pointNode[dp]
		if seen[src*nn+dst]++; seen[src*nn+dst] > modeSample {
			continue // the mode of this pair is settled
		}
		key := [2]int{min(src, dst), max(src, dst)}
		if src == dst {
			a.pairMode[key] = "same-node"
			continue
		}
		mode := ""
		for _, g := range h {
			o, _ := a.obs(g)
			p := a.w.srcPoint[o.Source]
			switch {
			case o.Encap() == decode.EncapIPIP:
				mode = "ipip"
			case o.Encap() == decode.EncapVXLAN:
				mode = "vxlan"
			case w.pointRole[p] == decode.RoleUnderlay && mode == "":
				mode = "bgp"
			case w.pointRole[p] == decode.RoleTunnel && mode == "":
				mode = "tunnel"
			}
		}
		if mode == "tunnel" {
			mode = "ipip"
			for _, g := range h {
				if p := a.point(g); w.pointRole[p] == decode.RoleTunnel && w.c.Points[p].Iface != "" &&
					(w.c.Points[p].Iface == "vxlan.calico" || w.c.Points[p].Iface == "vxlan-v6.calico") {
					mode = "vxlan"
				}
			}
		}
		if mode == "" {
			continue
		}
		if prev, ok := a.pairMode[key]; !ok || prev == "bgp" {
			a.pairMode[key] = mode
		}
	}
	// Unencapsulated pairs beside encapsulated ones: Calico's CrossSubnet mode.
	encap := false
	for _, m := range a.pairMode {
		if m == "ipip" || m == "vxlan" {
			encap = true
		}
	}
	if encap {
		for k, m := range a.pairMode {
			if m == "bgp" {
				a.pairMode[k] = "crosssubnet"
			}
		}
	}
}

func (a *analysis) encapsulated(x, y int) bool {
	m := a.pairMode[[2]int{min(x, y), max(x, y)}]
	return m == "ipip" || m == "vxlan"
}

// votes counts how often each small integer (a node, a point) was seen: a short list, searched
// linearly (a flow has a handful of candidates; cheaper than a map per flow).
type votes []vote

type vote struct{ key, n int }

func (v *votes) add(k int) { v.addN(k, 1) }

// addN counts key k n times.
func (v *votes) addN(k, n int) {
	for i := range *v {
		if (*v)[i].key == k {
			(*v)[i].n += n
			return
		}
	}
	*v = append(*v, vote{k, n})
}

// top returns the most frequent key, the lowest on a tie; -1 when there is none.
func (v votes) top() int {
	best, bn := -1, 0
	for _, c := range v {
		if c.n > bn || (c.n == bn && c.key < best) {
			best, bn = c.key, c.n
		}
	}
	return best
}

// topWhere is top among the keys for which keep holds.
func (v votes) topWhere(keep func(int) bool) int {
	best, bn := -1, 0
	for _, c := range v {
		if keep(c.key) && (c.n > bn || (c.n == bn && c.key < best)) {
			best, bn = c.key, c.n
		}
	}
	return best
}

// nodeCache remembers the node of the last address looked up (a flow's journeys mostly repeat theirs).
type nodeCache struct {
	addr uint64 // address | v6<<32 | 1<<33 once set
	node int
}

// nodeOf is w.nodeOf, cached.
func (c *nodeCache) nodeOf(w *world, v6 bool, a uint32) int {
	k := uint64(a) | 1<<33
	if v6 {
		k |= 1 << 32
	}
	if c.addr != k {
		c.addr, c.node = k, w.nodeOf(v6, a)
	}
	return c.node
}

// pointTally is a flow's packets and bytes at one point.
type pointTally struct {
	point   int
	packets int
	bytes   int64
}

// index returns the position of point p on the path, -1 if it is not on it (paths are short).
func (pi *pathInfo) index(p int) int {
	for i, q := range pi.points {
		if q == p {
			return i
		}
	}
	return -1
}

// pathEnds are the ends of a flow direction's path: the end nodes and the pod-veths on them (-1 when
// unknown).
type pathEnds struct {
	src, dst, srcPod, dstPod int
}

// ends works out where a flow direction's path starts and ends: the most voted nodes, and on them
// the most voted pod-veths.
func (a *analysis) ends(fl *flowAcc, d uint8) pathEnds {
	w := a.w
	e := pathEnds{src: fl.srcVotes[d].top(), dst: fl.dstVotes[d].top(), srcPod: -1, dstPod: -1}
	if e.src >= 0 {
		e.srcPod = fl.srcPods[d].topWhere(func(p int) bool { return w.pointNode[p] == e.src })
	}
	if e.dst >= 0 {
		e.dstPod = fl.dstPods[d].topWhere(func(p int) bool { return w.pointNode[p] == e.dst })
	}
	return e
}

// buildPaths gives every flow direction its path. The flow directions between one pair of pods (or,
// where a pod is not known, of addresses) take one path: packets between two pods cross the same
// points, whichever protocol or port they use. What their journeys showed of the routers is pooled,
// so that a flow whose packets all died at the first router is drawn, and judged, on the same path
// as the flows that went further.
func (a *analysis) buildPaths() {
	type key struct {
		ends     pathEnds
		v6       bool
		src, dst uint32 // the addresses of the ends whose pod is not known
	}
	type group struct {
		ends    pathEnds
		routers map[int]*routerSeen
		tunnel  bool     // some journey was seen at a tunnel device
		members [][2]int // flow, direction
	}
	var groups []*group
	byKey := map[key]*group{}
	for fi, fl := range a.flows {
		for d := uint8(0); d < 2; d++ {
			if len(fl.journeys[d]) == 0 {
				continue
			}
			e := a.ends(fl, d)
			k := key{ends: e, v6: fl.client.v6}
			if e.srcPod < 0 || e.dstPod < 0 {
				t := fl.client
				if d == s2c {
					t = t.reverse()
				}
				if e.srcPod < 0 {
					k.src = t.src
				}
				if e.dstPod < 0 {
					k.dst = t.dst
				}
			}
			g := byKey[k]
			if g == nil {
				g = &group{ends: e, routers: map[int]*routerSeen{}}
				byKey[k] = g
				groups = append(groups, g)
			}
			for p, rs := range fl.routers[d] {
				gs := g.routers[p]
				if gs == nil {
					gs = &routerSeen{}
					g.routers[p] = gs
				}
				gs.pos += rs.pos
				gs.n += rs.n
				for _, v := range rs.ttls {
					gs.ttls.addN(v.key, v.n)
				}
			}
			g.tunnel = g.tunnel || fl.tunnel[d]
			g.members = append(g.members, [2]int{fi, int(d)})
		}
	}
	for _, g := range groups {
		pi := a.buildPath(g.ends, g.routers, g.tunnel)
		for _, m := range g.members {
			a.flows[m[0]].path[m[1]] = pi
		}
	}
}

// buildPath orders the points a flow direction's packets should cross, given its ends and what its
// journeys showed of the routers and whether they crossed a tunnel device.
func (a *analysis) buildPath(e pathEnds, routers map[int]*routerSeen, tunnel bool) *pathInfo {
	w := a.w
	src, dst, srcPod, dstPod := e.src, e.dst, e.srcPod, e.dstPod
	pi := &pathInfo{srcNode: src, dstNode: dst}
	add := func(ps ...int) {
		for _, p := range ps {
			if pi.index(p) < 0 {
				pi.points = append(pi.points, p)
			}
		}
	}
	if src >= 0 && srcPod >= 0 {
		add(srcPod)
	}
	// Encapsulated node pairs send pod traffic through the tunnels; traffic between the nodes' own
	// addresses goes straight over the underlay.
	tunneled := dst >= 0 && src >= 0 && a.encapsulated(src, dst) && (dstPod >= 0 || tunnel)
	if src >= 0 && src != dst {
		if tunneled || (dst < 0 && tunnel) { // also when the destination's node is unknown: its packets crossed it
			add(w.tunnels[src]...)
		}
		add(w.underlays[src]...)
	}
	add(a.orderRouters(routers)...)
	if dst >= 0 && dst != src {
		add(w.underlays[dst]...)
		if tunneled {
			add(w.tunnels[dst]...)
		}
	}
	if dstPod >= 0 {
		add(dstPod)
	}
	return pi
}

// orderRouters puts the router points a path crosses in the order packets reach them, from evidence
// that does not depend on clocks: a router decrements the TTL (the outer one when encapsulated) by
// one, so along the path the TTL falls router by router; on one router the interface with the
// higher TTL is its ingress and the other its egress; and at one TTL, on the link between two
// routers, the upstream router's egress comes before the downstream router's ingress. A router with
// two captured interfaces of which packets reached only one: they entered there and the other is
// its way out, on the path even though nothing reached it. Points the TTLs cannot order (the two
// ends of one link, neither router's other interface captured; an L2 box that keeps the TTL) keep
// their order in corrected time.
func (a *analysis) orderRouters(routers map[int]*routerSeen) []int {
	w := a.w
	type rp struct {
		p, ttl int
		role   int // at one TTL: 0 a router's egress, 1 unknown, 2 a router's ingress
		pos    float64
	}
	rs := make([]rp, 0, len(routers)+2)
	for p, s := range routers {
		rs = append(rs, rp{p: p, ttl: s.ttls.top(), role: 1, pos: float64(s.pos) / float64(s.n)})
	}
	sort.Slice(rs, func(x, y int) bool { return rs[x].p < rs[y].p })
	withTTL := true
	for i := range rs {
		if rs[i].ttl < 0 {
			withTTL = false
			continue
		}
		hi, lo := rs[i].ttl, rs[i].ttl
		for _, q := range rs {
			if w.pointNode[q.p] == w.pointNode[rs[i].p] && q.ttl >= 0 {
				hi, lo = max(hi, q.ttl), min(lo, q.ttl)
			}
		}
		switch {
		case hi == lo:
		case rs[i].ttl == hi:
			rs[i].role = 2
		default:
			rs[i].role = 0
		}
	}
	for i, n := 0, len(rs); i < n; i++ {
		r := rs[i]
		others := w.underlays[w.pointNode[r.p]]
		if len(others) != 2 {
			continue
		}
		for _, q := range others {
			if _, seen := routers[q]; !seen && q != r.p {
				rs[i].role = 2
				rs = append(rs, rp{p: q, ttl: r.ttl - 1, role: 0, pos: r.pos + 0.5})
			}
		}
	}
	sort.SliceStable(rs, func(x, y int) bool {
		a, b := rs[x], rs[y]
		if withTTL && a.ttl != b.ttl {
			return a.ttl > b.ttl
		}
		if withTTL && a.role != b.role {
			return a.role < b.role
		}
		if a.pos != b.pos {
			return a.pos < b.pos
		}
		return a.p < b.p
	})
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.p
	}
	return out
}

// segKind names what a segment crosses.
func (a *analysis) segKind(from, to int, pi *pathInfo) string {
	w := a.w
	nf, nt := w.pointNode[from], w.pointNode[to]
	if nf != nt || !w.cluster[nf] {
		return "underlay" // between nodes, or through a router of the underlay
	}
	rf, rt := w.pointRole[from], w.pointRole[to]
	switch {
	case nf == pi.srcNode && nf != pi.dstNode:
		if (rf == decode.RolePodVeth && rt == decode.RoleTunnel) || (rf == decode.RoleTunnel && rt == decode.RoleUnderlay) {
			return "encap"
		}
	case nf == pi.dstNode && nf != pi.srcNode:
		if rf == decode.RoleUnderlay && rt == decode.RoleTunnel {
			return "decap"
		}
		if rf == decode.RoleTunnel && rt == decode.RolePodVeth {
			return "delivery"
		}
	}
	return "host"
}

// seg returns the accumulator of segment from→to, made on first use (its kind judged on pi's path).
func (a *analysis) seg(from, to int, pi *pathInfo) *segAcc {
	var slot **segAcc
	if a.segDense != nil {
		slot = &a.segDense[from*len(a.w.c.Points)+to]
		if *slot != nil {
			return *slot
		}
	}
	k := [2]int{from, to}
	s := a.segs[k]
	if s == nil {
		s = &segAcc{from: from, to: to, kind: a.segKind(from, to, pi), flows: map[int32]int{}}
		a.segs[k] = s
	}
	if slot != nil {
		*slot = s
	}
	return s
}

// placeJourneys decides each journey's status against its path and accounts segments and flows.
func (a *analysis) placeJourneys() []Journey {
	var out []Journey
	if a.opts.Journeys {
		out = make([]Journey, 0, a.nJ)
	}
	var reached []int
	var when []int64
	a.offloadAt, a.offloadNew, a.merged = map[int32]uint32{}, map[int32]bool{}, map[int32]bool{}
	for _, ev := range a.m.gso {
		if prev, ok := a.offloadAt[ev.parent]; !ok || a.ts(ev.at) < a.ts(prev) {
			a.offloadAt[ev.parent] = ev.at
		}
		a.offloadNew[ev.child] = true
		if ev.merge {
			a.merged[ev.parent] = true
		}
	}
	a.retransJ = map[int32]bool{}
	a.refusedBy = a.refused()
	a.jStatus = make([]statusCode, a.nJ)
	a.jLast = make([]int32, a.nJ)
	a.jNext = make([]int32, a.nJ)
	for j := 0; j < a.nJ; j++ {
		a.jLast[j], a.jNext[j] = -1, -1
		fi := a.jFlow[j]
		if fi < 0 {
			continue
		}
		fl := a.flows[fi]
		d := a.jDir[j]
		pi := fl.path[d]
		h := a.hops(j)
		reached = reached[:0]
		when = when[:0]
		for range pi.points {
			reached = append(reached, -1)
			when = append(when, 0)
		}
		o0, _ := a.obs(h[0])
		a.tcpStep(fl, d, int32(j), o0)
		if o0.Flags&decode.FlagICMPError != 0 {
			// An ICMP error is about a flow, not part of it: listed in Result.ICMP and shown with the
			// flow, but judged by whether it reached its own destination's node, and not counted.
			a.jStatus[j] = a.icmpStatus(h, int32(j))
			continue
		}
		first, reach := len(pi.points), -1
		base := int(a.jStart[j])
		for hi := range h {
			p := int(a.hopPt[base+hi])
			if i := pi.index(p); i >= 0 && reached[i] < 0 {
				reached[i] = hi
				when[i] = a.hopTs.at(int32(j), base+hi)
				first = min(first, i)
				reach = max(reach, i)
			}
			k := 0
			for k < len(fl.perPoint) && fl.perPoint[k].point != p {
				k++
			}
			if k == len(fl.perPoint) {
				fl.perPoint = append(fl.perPoint, pointTally{point: p})
			}
			fl.perPoint[k].packets++
			fl.perPoint[k].bytes += int64(o0.Len) // the IP packet's length, the same at every point
		}
		fl.bytes += int64(o0.Len)
		piece := a.offloadNew[int32(j)]
		if !piece {
			fl.nSent++
		}
		status := stDelivered
		offloaded := false
		at, parent := a.offloadAt[int32(j)]
		if parent {
			// Segmentation offload: the bytes went on as other journeys from this point.
			if i := pi.index(a.point(at)); i >= 0 && i > reach && reached[i] < 0 {
				reached[i], when[i] = len(h)-1, a.ts(at)
				first, reach = min(first, i), i
				offloaded = true
			}
		}
		switch {
		case reach < 0:
			status = stUnplaced
		case len(pi.points) == 1:
			// The path is one point (one capture, or one carrying both ends): where the packet went was
			// not captured, so it is never "delivered" for having been seen there.
			status = stNotCaptured
			a.jLast[j] = int32(pi.points[0])
		case offloaded && reach < len(pi.points)-1:
			status = stSplit
			if a.merged[int32(j)] {
				status = stMerged
			}
			a.jLast[j] = int32(pi.points[reach])
		case reach < len(pi.points)-1:
			nx := pi.points[reach+1]
			a.jLast[j], a.jNext[j] = int32(pi.points[reach]), int32(nx)
			n, refused := a.refusedBy[int32(j)]
			switch {
			case a.lateUnjoined[int32(j)]:
				// Seen again past a too small --window but not joined: where it went is unknown
				// (window-too-small says so), never a confident loss.
				status = stNotCaptured
			case a.covered(nx, when[reach]):
				status = stLost
			case refused && n == a.w.pointNode[pi.points[reach]]:
				// The node it was last seen on refused it and said so with an ICMP error: lost there,
				// however close to the end of the captures.
				status = stLost
			default:
				status = stNotCaptured
			}
		case a.leftCaptures(int32(j), pi.points[reach], h[reached[reach]]):
			status = stLeftCaptures
			a.jLast[j] = int32(pi.points[reach])
		}
		if first == 0 && status != stUnplaced && len(pi.points) > 1 {
			a.enteredUncaptured(int32(j), pi.points[0], h[reached[0]])
		}
		a.jStatus[j] = status
		// Counts are in packets as their source sent them: a journey that was split into pieces (or
		// merged by GRO), and the pieces, are counted on segments together once their outcome is
		// settled (familyCounts). Latency is sampled per frame on the wire.
		family := piece || parent
		for i := max(first, 0); i < reach; i++ {
			if reached[i] < 0 {
				continue
			}
			s := a.seg(pi.points[i], pi.points[i+1], pi)
			if !family {
				s.packets++
			}
			if reached[i+1] < 0 {
				if !family {
					s.notCaptured++
				}
				continue
			}
			if !family {
				s.delivered++
			}
			lat := when[i+1] - when[i]
			if lat < -(negTolerance + a.bound(pi.points[i]) + a.bound(pi.points[i+1])) {
				s.negative++ // beyond what the clocks' uncertainty explains
			}
			s.lat.add(lat)
			s.passMaxLen = max(s.passMaxLen, int(o0.Len))
		}
		// The flow counts what its source sent, so pieces of a split (and GRO merges) are settled
		// with the journey they came from (settleOffload).
		switch status {
		case stDelivered, stSplit, stMerged:
			if !piece {
				fl.delivered++
				if reach > first {
					fl.e2e.add(when[reach] - when[first])
				}
			}
		case stLost, stNotCaptured:
			if reach+1 >= len(pi.points) { // no segment to count it on (a one-point path)
				if !piece {
					fl.notCaptured++
				}
				break
			}
			s := a.seg(pi.points[reach], pi.points[reach+1], pi)
			if status == stLost && !piece {
				fl.lost++
				fl.lostAt[[2]int{s.from, s.to}]++
			}
			if status == stNotCaptured && !piece {
				fl.notCaptured++
			}
			if !family {
				a.countEnd(s, status, int32(j), fi, o0, h[reached[reach]])
			}
		case stLeftCaptures: // no segment: it went on past the path's last point, beyond the captures
			if !piece {
				fl.notCaptured++
			}
		}
	}
	a.settleOffload()
	a.familyCounts()
	if a.opts.Journeys {
		out = out[:0]
		for j := 0; j < a.nJ; j++ {
			if a.jFlow[j] >= 0 {
				out = append(out, Journey{ID: j})
			}
		}
	}
	a.natStats()
	return out
}

// journeyOut renders one journey with per-hop deltas and header changes.
func (a *analysis) journeyOut(j int, status, lastSeen, next string) Journey {
	w := a.w
	jr := Journey{ID: j, Status: status, LastSeen: lastSeen, NextExpected: next, Dir: "c2s", Retrans: a.retransJ[int32(j)]}
	if a.jDir[j] == s2c {
		jr.Dir = "s2c"
	}
	var prev *decode.Observation
	var prevTs int64
	for _, g := range a.hops(j) {
		o, f := a.obs(g)
		t := a.m.corrected(o)
		p := a.w.srcPoint[o.Source]
		hop := Hop{Point: w.c.Points[p].ID, File: w.c.Files[f].Path, Frame: o.Frame, Ts: t, TTL: o.TTL,
			Encap: o.Encap().String(), Len: o.Len, TCPFlags: hopTCPFlags(o)}
		if prev != nil {
			hop.DeltaNs = t - prevTs
			hop.Changes = a.changes(prev, o)
		}
		jr.Hops = append(jr.Hops, hop)
		prev, prevTs = o, t
	}
	if n := a.jDups[int32(j)]; n > 0 && len(jr.Hops) > 0 {
		jr.Hops[0].Dup = n
	}
	return jr
}

// FlowJourneys returns the journeys of one flow (both directions, in the order their first hops were
// seen), rendered on demand from the compact state the Result keeps, so that a large capture need not
// hold every Journey at once. It returns nil for an unknown flow ID.
func (r *Result) FlowJourneys(flowID string) []Journey {
	a := r.analysis
	if a == nil {
		return nil
	}
	fi := -1
	for i, id := range a.ids {
		if id == flowID {
			fi = i
			break
		}
	}
	if fi < 0 {
		return nil
	}
	fl := a.flows[fi]
	js := append(append([]int32(nil), fl.journeys[c2s]...), fl.journeys[s2c]...)
	sort.Slice(js, func(x, y int) bool {
		tx, ty := a.ts(a.hops(int(js[x]))[0]), a.ts(a.hops(int(js[y]))[0])
		if tx != ty {
			return tx < ty
		}
		return js[x] < js[y]
	})
	out := make([]Journey, 0, len(js))
	for _, j := range js {
		out = append(out, a.renderJourney(int(j)))
	}
	return out
}

// renderJourney renders journey j with its retained status.
func (a *analysis) renderJourney(j int) Journey {
	var last, next string
	if p := a.jLast[j]; p >= 0 {
		last = a.w.c.Points[p].ID
	}
	if p := a.jNext[j]; p >= 0 {
		next = a.w.c.Points[p].ID
	}
	jr := a.journeyOut(j, a.jStatus[j].String(), last, next)
	if f := a.jFlow[j]; f >= 0 && a.ids != nil {
		jr.Flow = a.ids[f]
	}
	return jr
}

// settleOffload gives a split GSO frame (or a segment merged by GRO) the outcome of the journeys it
// continued as: lost where one of them was lost (the earliest such place on the path, where the frame
// first lost data), else not captured if one was, else delivered (its status stays split or merged).
// The flow's counts move with it.
func (a *analysis) settleOffload() {
	rank := func(c statusCode) int {
		switch c {
		case stLost:
			return 2
		case stNotCaptured, stLeftCaptures:
			return 1
		}
		return 0
	}
	children := map[int32][]int32{}
	for _, ev := range a.m.gso {
		children[ev.parent] = append(children[ev.parent], ev.child)
	}
	parents := make([]int32, 0, len(children))
	for p := range children {
		parents = append(parents, p)
	}
	// Latest first: a journey continues only as later ones, so a parent that is itself a piece of an
	// earlier journey (a GRO merge split again, a packet split twice by a short --window) is settled
	// before the journey it continues, and passes its outcome on.
	sort.Slice(parents, func(i, j int) bool { return parents[i] > parents[j] })
	for _, p := range parents {
		c := int32(-1)
		for _, x := range children[p] {
			if c < 0 {
				c = x
				continue
			}
			rx, rc := rank(a.jStatus[x]), rank(a.jStatus[c])
			if rx > rc || (rx == rc && rx > 0 && a.lostBefore(x, c)) {
				c = x
			}
		}
		st := a.jStatus[c]
		if rank(st) == 0 || a.jFlow[p] < 0 {
			continue
		}
		if a.offloadNew[p] { // a piece itself: its outcome is its root's to count
			a.jStatus[p], a.jLast[p], a.jNext[p] = st, a.jLast[c], a.jNext[c]
			continue
		}
		fl := a.flows[a.jFlow[p]]
		switch a.jStatus[p] { // undo what the parent was counted as
		case stSplit, stMerged, stDelivered:
			fl.delivered--
		case stLost:
			fl.lost--
			if k := [2]int{int(a.jLast[p]), int(a.jNext[p])}; k[0] >= 0 && k[1] >= 0 {
				if fl.lostAt[k]--; fl.lostAt[k] <= 0 {
					delete(fl.lostAt, k)
				}
			}
		case stNotCaptured, stLeftCaptures:
			fl.notCaptured--
		}
		a.jStatus[p], a.jLast[p], a.jNext[p] = st, a.jLast[c], a.jNext[c]
		if st == stLost {
			fl.lost++
			if a.jLast[c] >= 0 && a.jNext[c] >= 0 {
				fl.lostAt[[2]int{int(a.jLast[c]), int(a.jNext[c])}]++
			}
		} else {
			fl.notCaptured++
		}
	}
}

// countEnd counts packet j on the segment where it ended, lost or not captured: o0 is its first
// frame (length, DF) and last its last frame before the segment (the evidence of a loss). A segment
// keeps the evidence of each flow's first lostEvidence losses in journey order: the packets that
// were split or merged on the way are counted after the others (familyCounts), so one of them may
// take the place of a later packet's.
func (a *analysis) countEnd(s *segAcc, status statusCode, j, fi int32, o0 *decode.Observation, last uint32) {
	s.packets++
	if status != stLost {
		s.notCaptured++
		return
	}
	s.lost++
	s.flows[fi]++
	if n, ok := a.refusedBy[j]; ok && n == a.w.pointNode[s.from] {
		s.refused++
	}
	if o0.Flags&decode.FlagDF != 0 {
		s.lostDF++
	}
	s.lostMaxLen = max(s.lostMaxLen, int(o0.Len))
	at := len(s.evidence) // where this packet's evidence goes
	if s.flows[fi] > lostEvidence {
		at = -1
		for i, e := range s.evidence { // the flow's latest kept loss, if later than j
			if e.flow == fi && e.j > j && (at < 0 || e.j > s.evidence[at].j) {
				at = i
			}
		}
		if at < 0 {
			return
		}
	}
	ol, f := a.obs(last)
	e := lossEv{fi, j, Evidence{File: a.w.c.Files[f].Path, Frame: ol.Frame}}
	if at == len(s.evidence) {
		s.evidence = append(s.evidence, e)
	} else {
		s.evidence[at] = e
	}
	// Keep them in journey order (only a packet counted late lands before others).
	for i := len(s.evidence) - 1; i > 0 && s.evidence[i].j < s.evidence[i-1].j; i-- {
		s.evidence[i], s.evidence[i-1] = s.evidence[i-1], s.evidence[i]
	}
}

// familyCounts counts on the segments each packet that was split by segmentation offload or merged by
// GRO, once per segment, as its source sent it: it entered a segment where it or one of the journeys
// it continued as was seen at the segment's start; it ended where settleOffload placed it (lost or not
// captured there, and is not counted on the segments after, even where other pieces of it went on),
// and passed every other segment it entered where the next point saw it or its pieces (otherwise not
// captured there). A lost packet's length, DF bit and evidence are those of the piece that was lost.
func (a *analysis) familyCounts() {
	if len(a.m.gso) == 0 {
		return
	}
	children := map[int32][]int32{}
	var roots []int32
	for _, ev := range a.m.gso {
		if len(children[ev.parent]) == 0 && !a.offloadNew[ev.parent] {
			roots = append(roots, ev.parent)
		}
		children[ev.parent] = append(children[ev.parent], ev.child)
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i] < roots[j] })
	var members, queue []int32
	var reached []bool
	seen := map[int32]bool{}
	for _, r := range roots {
		fi := a.jFlow[r]
		if fi < 0 {
			continue
		}
		fl := a.flows[fi]
		pi := fl.path[a.jDir[r]]
		if pi == nil || len(pi.points) < 2 {
			continue
		}
		// The family: r and every journey it continued as (children of children too).
		members, queue = members[:0], append(queue[:0], r)
		clear(seen)
		seen[r] = true
		for len(queue) > 0 {
			m := queue[0]
			queue = queue[1:]
			members = append(members, m)
			for _, c := range children[m] {
				if !seen[c] && a.jFlow[c] == fi && a.jDir[c] == a.jDir[r] {
					seen[c] = true
					queue = append(queue, c)
				}
			}
		}
		reached = reached[:0]
		for range pi.points {
			reached = append(reached, false)
		}
		for _, m := range members {
			for _, g := range a.hops(int(m)) {
				if i := pi.index(a.point(g)); i >= 0 {
					reached[i] = true
				}
			}
			if at, ok := a.offloadAt[m]; ok {
				if i := pi.index(a.point(at)); i >= 0 {
					reached[i] = true
				}
			}
		}
		end := -1 // the segment where the packet ended, by its start's index
		st := a.jStatus[r]
		if (st == stLost || st == stNotCaptured) && a.jLast[r] >= 0 && a.jNext[r] >= 0 {
			if i := pi.index(int(a.jLast[r])); i >= 0 && i+1 < len(pi.points) && pi.points[i+1] == int(a.jNext[r]) {
				end = i
			}
		}
		last := -1
		for i, ok := range reached {
			if ok {
				last = i
			}
		}
		for i := 0; i < len(pi.points)-1; i++ {
			if i == end {
				s := a.seg(pi.points[i], pi.points[i+1], pi)
				o0, lastHop := a.endOf(members, r, st)
				a.countEnd(s, st, r, fi, o0, lastHop)
				continue
			}
			if !reached[i] || i >= last || (end >= 0 && i > end) {
				continue // not entered, or after the packet was lost (its other pieces go on uncounted)
			}
			s := a.seg(pi.points[i], pi.points[i+1], pi)
			s.packets++
			if reached[i+1] {
				s.delivered++
			} else {
				s.notCaptured++
			}
		}
	}
}

// endOf returns, for a packet of the family members (root r) that ended lost or not captured at
// r's settled place, the first frame of the piece that ended there and that piece's frame at the
// place's start; r's own when no piece did.
func (a *analysis) endOf(members []int32, r int32, st statusCode) (*decode.Observation, uint32) {
	pick := r
	for _, m := range members {
		if _, parent := a.offloadAt[m]; !parent && a.jStatus[m] == st && a.jLast[m] == a.jLast[r] && a.jNext[m] == a.jNext[r] {
			pick = m
			break
		}
	}
	h := a.hops(int(pick))
	o0, _ := a.obs(h[0])
	last := h[len(h)-1]
	for _, g := range h {
		if int32(a.point(g)) == a.jLast[r] {
			last = g
			break
		}
	}
	return o0, last
}

// lostBefore says whether journey c stopped earlier on its path than journey w (both of one flow
// direction); false when either place is unknown.
func (a *analysis) lostBefore(c, w int32) bool {
	fc, fw := a.jFlow[c], a.jFlow[w]
	if fc < 0 || fc != fw || a.jDir[c] != a.jDir[w] || a.jLast[c] < 0 || a.jLast[w] < 0 {
		return false
	}
	pi := a.flows[fc].path[a.jDir[c]]
	if pi == nil {
		return false
	}
	pc, pw := pi.index(int(a.jLast[c])), pi.index(int(a.jLast[w]))
	return pc >= 0 && pw >= 0 && pc < pw
}

// bound is the clock uncertainty of a point's node (0 for the reference and when unbounded).
func (a *analysis) bound(p int) int64 {
	return max(a.clocks[a.w.pointNode[p]].bound, 0)
}

// icmpStatus judges an ICMP error's journey: delivered when its last hop is on the node its destination
// belongs to (a node IP, or a pod of that node), lost at its last point otherwise, unplaced when the
// destination's node is unknown.
func (a *analysis) icmpStatus(h []uint32, j int32) statusCode {
	first, _ := a.obs(h[0])
	last := a.point(h[len(h)-1])
	n := a.w.nodeOf(first.Flags&decode.FlagIPv6 != 0, first.Dst)
	switch {
	case n < 0:
		return stUnplaced
	case a.w.pointNode[last] == n:
		return stDelivered
	}
	a.jLast[j] = int32(last)
	return stLost
}
