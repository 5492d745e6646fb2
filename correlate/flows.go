package correlate

import (
	"fmt"
	"net/netip"
	"unsafe"

	"github.com/calipath/calipath/decode"

	"github.com/calipath/calipath/internal/hugepage"
	"github.com/calipath/calipath/internal/prefault"
)

// tuple is a packet's addresses, ports and protocol as one Observation shows it.
type tuple struct {
	v6       bool
	proto    uint8
	src, dst uint32
	sp, dp   uint16
}

// flowKey is a direction-free tuple: the lower endpoint first.
type flowKey struct {
	v6     bool
	proto  uint8
	a, b   uint32
	ap, bp uint16
}

func (t tuple) key() flowKey {
	if t.src < t.dst || (t.src == t.dst && t.sp <= t.dp) {
		return flowKey{t.v6, t.proto, t.src, t.dst, t.sp, t.dp}
	}
	return flowKey{t.v6, t.proto, t.dst, t.src, t.dp, t.sp}
}

// mix mixes a flow key's fields into 64 bits, of which the high ones are the best mixed.
func (k flowKey) mix() uint64 {
	h := uint64(k.a)<<32 | uint64(k.b)
	h ^= uint64(k.ap)<<48 | uint64(k.bp)<<32 | uint64(k.proto)<<8
	if k.v6 {
		h ^= 1
	}
	return h * 0x9e3779b97f4a7c15
}

// flowIndex finds a flow's index by its root flow key (flowsOut.flowOf), its flows numbered in the
// order they start. (A Go map with a flowKey key hashed all 16 bytes and grew by rehashing, about 900
// instructions a flow on the many-flow set, 20,000 flows.)
type flowIndex struct{ keyIndex[flowKey] }

// get returns the flow index of root key k, and whether it has one.
func (x *flowIndex) get(k flowKey) (int32, bool) { return x.keyIndex.get(k, k.mix()) }

// put gives root key k, which has no flow yet, the next flow index, and returns it.
func (x *flowIndex) put(k flowKey) int32 { return x.add(k, k.mix(), flowKey.mix) }

// flowCacheEntry remembers the flow of a flow key (either direction's tuple), the key as two words
// (tuple.cacheKey): two compares a look-up, where flowKey's fields took six.
type flowCacheEntry struct {
	w0, w1 uint64 // the key; w1 is 0 in an entry not yet set, which no key matches
	fi     int32
}

// cacheKey returns the flow key of t (key) as the flow cache's two words: the addresses, the lower
// first, then the ports in the same order, the protocol, bit 1 set and the family in bit 0.
func (t *tuple) cacheKey() (w0, w1 uint64) {
	a, b, ap, bp := t.src, t.dst, t.sp, t.dp
	if a > b || (a == b && ap > bp) {
		a, b, ap, bp = b, a, bp, ap
	}
	w1 = uint64(ap)<<48 | uint64(bp)<<32 | uint64(t.proto)<<8 | 2
	if t.v6 {
		w1 |= 1
	}
	return uint64(a)<<32 | uint64(b), w1
}

// cacheEntry returns the flow cache's entry for key (w0, w1), which may hold another key.
func cacheEntry(flowCache []flowCacheEntry, w0, w1 uint64) *flowCacheEntry {
	return &flowCache[int((w0^w1)*0x9e3779b97f4a7c15>>40)&(len(flowCache)-1)]
}

// flowCacheSize is the number of entries of the flow cache for n journeys: a power of two, at most
// 16,384 (384 KB), fewer for fewer journeys.
func flowCacheSize(n int) int {
	size := 64
	for size < n && size < 1<<14 {
		size <<= 1
	}
	return size
}

func (t tuple) reverse() tuple { return tuple{t.v6, t.proto, t.dst, t.src, t.dp, t.sp} }

// tupleOf returns the flow tuple of a matchable Observation. ICMP echo uses the echo id as both ports;
// an ICMP error belongs to the flow it quotes, in the reverse direction (it travels back to the sender).
func (w *world) tupleOf(o *decode.Observation) tuple {
	if o.Flags&decode.FlagLaterFragment != 0 || o.Proto == 1 || o.Proto == 58 {
		return w.tupleOther(o)
	}
	return usualTuple(o)
}

// usualTuple is tupleOf of a packet neither a later fragment nor ICMP: its own addresses and ports.
func usualTuple(o *decode.Observation) tuple {
	return tuple{v6: o.Flags&decode.FlagIPv6 != 0, proto: o.Proto, src: o.Src, dst: o.Dst, sp: o.Sport, dp: o.Dport}
}

// tupleOther is tupleOf of a later fragment or an ICMP packet; out of line, so that tupleOf, the
// usual packet's, is inlined.
//
//go:noinline
func (w *world) tupleOther(o *decode.Observation) tuple {
	t := usualTuple(o)
	if o.Flags&decode.FlagLaterFragment != 0 {
		// No transport header: take the ports of the first fragment of the same datagram.
		if p, ok := w.fragPorts[fragKey{t.src, t.dst, t.proto, o.Seq}]; ok {
			t.sp, t.dp = p[0], p[1]
		}
		return t
	}
	if o.Proto == 1 || o.Proto == 58 {
		if o.Flags&decode.FlagICMPError != 0 {
			if q, ok := w.quotedTuple(o); ok {
				return q.reverse()
			}
			t.sp, t.dp = uint16(o.Sport)<<8|o.Dport, 0
			return t
		}
		id := uint16(o.Seq >> 16)
		t.sp, t.dp = id, id
	}
	return t
}

// quotedTuple returns the tuple of the packet an ICMP error quotes (the inner packet when the quote
// is an IP-in-IP outer header).
func (w *world) quotedTuple(o *decode.Observation) (tuple, bool) {
	if t, ok := w.cutQ.named[o.Seq]; ok {
		return t, true // its ports were cut: those of the packet it names (quotecut.go)
	}
	e := w.c.Tables.ICMPErr(o.Seq)
	h := &e.Quoted
	if e.QuotedInner.Version != 0 {
		h = &e.QuotedInner
	}
	if h.Version != 4 && h.Version != 6 {
		return tuple{}, false
	}
	t := tuple{proto: h.Proto, sp: e.QSport, dp: e.QDport}
	if h.Version == 4 {
		t.src, t.dst = ip4(h.SrcAddr()), ip4(h.DstAddr())
	} else {
		t.v6 = true
		t.src, t.dst = w.c.Tables.InternV6(h.Src), w.c.Tables.InternV6(h.Dst)
	}
	if h.Proto == 1 || h.Proto == 58 { // quoted echo: id in QSport
		t.sp, t.dp = e.QSport, e.QSport
	}
	return t, true
}

// addrString renders an address of an Observation (IPv4, or an IPv6 table index).
func (w *world) addrString(v6 bool, a uint32) string {
	if v6 {
		return w.c.Tables.V6(a).String()
	}
	return addrOf(a).String()
}

func (w *world) endpoint(v6 bool, a uint32, p uint16) string {
	if v6 {
		return netip.AddrPortFrom(w.c.Tables.V6(a), p).String()
	}
	return netip.AddrPortFrom(addrOf(a), p).String()
}

func protoName(p uint8) string {
	switch p {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "icmpv6"
	case 132:
		return "sctp"
	}
	return fmt.Sprintf("ip-proto-%d", p)
}

// unionFind joins flow keys that NAT links.
type unionFind struct{ parent map[flowKey]flowKey }

func (u *unionFind) find(k flowKey) flowKey {
	if len(u.parent) == 0 { // no NAT: every key is its own root
		return k
	}
	p, ok := u.parent[k]
	if !ok || p == k {
		return k
	}
	r := u.find(p)
	u.parent[k] = r
	return r
}

func (u *unionFind) union(a, b flowKey) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	// Deterministic: the smaller key becomes the root.
	if keyLess(rb, ra) {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	if _, ok := u.parent[ra]; !ok {
		u.parent[ra] = ra
	}
}

func keyLess(x, y flowKey) bool {
	if x.v6 != y.v6 {
		return !x.v6
	}
	if x.proto != y.proto {
		return x.proto < y.proto
	}
	if x.a != y.a {
		return x.a < y.a
	}
	if x.ap != y.ap {
		return x.ap < y.ap
	}
	if x.b != y.b {
		return x.b < y.b
	}
	return x.bp < y.bp
}

// fragKey identifies the fragments of one datagram.
type fragKey struct {
	src, dst uint32
	proto    uint8
	id       uint32
}

// learnFragments records the ports of every first fragment, for the later ones, and gathers the
// flags of each block of a file's frames (blockFlags). A block is read once for its flags alone (a
// loop of a few instructions a frame), and again for its fragments only when it holds one: most hold
// none.
func (w *world) learnFragments() {
	w.fragPorts = map[fragKey][2]uint16{}
	w.blockFlags = make([][]decode.Flags, len(w.c.Obs))
	for f, obs := range w.c.Obs {
		bf := make([]decode.Flags, (len(obs)+flagBlock-1)/flagBlock)
		for lo := 0; lo < len(obs); lo += trimRun {
			chunk := trimChunk(obs, lo)
			for b := 0; b < len(chunk); b += flagBlock {
				blk := chunk[b:min(b+flagBlock, len(chunk))]
				some := flagsOf(blk)
				if some&decode.FlagFragment != 0 {
					w.learnFragmentsIn(blk)
				}
				bf[(lo+b)/flagBlock] = some
			}
			w.trimAt(lo + len(chunk) - 1)
		}
		w.blockFlags[f] = bf
	}
}

// flagBlock is how many of a file's frames share an entry of blockFlags (2 bytes a block): a divisor of
// trimRun, so that a piece of a pass (trimChunk) holds whole blocks.
const flagBlock = 1 << 12

var _ = [1]struct{}{}[trimRun%flagBlock] // (none left over)

// flagsOf returns every flag one of obs has: eight frames a turn through an index (about 2.4
// instructions a frame; four a turn by re-slicing obs took 4.25, the slice's new start masked each turn).
// Not inlined: inlined, learnFragments kept the flags on its stack, at ten a frame.
//
//go:noinline
func flagsOf(obs []decode.Observation) decode.Flags {
	var all decode.Flags
	p, n := unsafe.Pointer(unsafe.SliceData(obs)), len(obs)&^7
	for i := 0; i < n; i += 8 { // (through a pointer: obs[i:i+8] took a bounds check and a mask a turn)
		b := (*[8]decode.Observation)(unsafe.Add(p, uintptr(i)*unsafe.Sizeof(decode.Observation{})))
		all |= b[0].Flags | b[1].Flags | b[2].Flags | b[3].Flags | b[4].Flags | b[5].Flags | b[6].Flags | b[7].Flags
	}
	for _, o := range obs[n:] {
		all |= o.Flags
	}
	return all
}

// learnFragmentsIn records the ports of the first fragments among obs.
func (w *world) learnFragmentsIn(obs []decode.Observation) {
	for i := range obs {
		if o := &obs[i]; o.Flags&(decode.FlagFragment|decode.FlagLaterFragment) == decode.FlagFragment {
			w.fragPorts[fragKey{o.Src, o.Dst, o.Proto, o.Seq}] = [2]uint16{o.Sport, o.Dport}
		}
	}
}

// blockHas reports whether file f's block of frames from lo on (a multiple of flagBlock) may hold an
// Observation with one of flags set: false only when learnFragments saw none there (the Observations
// are not changed after).
func (w *world) blockHas(f, lo int, flags decode.Flags) bool {
	if f >= len(w.blockFlags) {
		return true
	}
	bf := w.blockFlags[f]
	return lo/flagBlock >= len(bf) || bf[lo/flagBlock]&flags != 0
}

type flowAcc struct {
	key flowKey
	// pathAt: its paths per direction, by their index in flowsOut.paths (0: none; see pathOf), not
	// pointers: each collection while the flows live reads every pointer word of every flow
	pathAt [2]int32
	client tuple
	first  int64
	// jAt: where its journeys begin in the flow stage's list of all the journeys (flowsOut.jAll,
	// flowJourneys), each direction's in journey order, those client to server (the first nC2S)
	// before those back (nS2C; dirJourneys, journeysOf). An offset, not a slice: a collection while
	// the flows live follows no pointer a flow for them. On one core nC2S and nS2C are counted as
	// the journeys are handed over (countDir), for flowJourneys.
	jAt, nC2S, nS2C int32
	// The counts are of the flow's journeys (or fewer), whose ids are int32: they fit.
	delivered, lost, notCaptured int32
	retrans, resets, nSent       int32 // nSent: packets its endpoints sent: journeys less GSO/GRO pieces and ICMP errors about it
	conns                        int32 // TCP: its connections after the first on its 5-tuple (tcpSyn)
	bytes                        int64
	lostAt                       lostTally
	nat                          *flowNAT     // nil until the flow's first NAT event
	perPoint                     []pointTally // packets and bytes per point (a flow crosses few points)
	votes                        *pathVotes   // until the paths are built (buildPaths drops them)
	tcp                          [2]tcpSeqState
	e2e                          latAcc
}

// flowNAT is a flow's NAT events (flowAcc.nat): each mapping's count, and the frames of up to 10 of
// them. Behind one pointer, made for the few flows that have one: each collection while the flows
// live reads every pointer word of every flow, where two maps were two words.
type flowNAT struct {
	n  map[natKey]int
	ev map[natKey][]Evidence
}

// counts returns each mapping's count (nil for a flow without NAT: x nil).
func (x *flowNAT) counts() map[natKey]int {
	if x == nil {
		return nil
	}
	return x.n
}

// evidence returns the frames of mapping k's events (nil for none).
func (x *flowNAT) evidence(k natKey) []Evidence {
	if x == nil {
		return nil
	}
	return x.ev[k]
}

// pathOf returns the path of flow fl's direction d (nil when it has no journeys).
func (fo *flowsOut) pathOf(fl *flowAcc, d uint8) *pathInfo { return fo.paths[fl.pathAt[d]] }

// pathsOf returns the paths of flow fl's two directions (nil for one without journeys).
func (fo *flowsOut) pathsOf(fl *flowAcc) [2]*pathInfo {
	return [2]*pathInfo{fo.paths[fl.pathAt[c2s]], fo.paths[fl.pathAt[s2c]]}
}

// dirJourneys returns flow fl's journeys in direction d, in journey order (a slice whose capacity
// ends with them).
func (fo *flowsOut) dirJourneys(fl *flowAcc, d uint8) []int32 { return dirJourneysIn(fo.jAll, fl, d) }

// dirJourneysIn is dirJourneys with the flows' journeys all (flowsOut.jAll).
func dirJourneysIn(all []int32, fl *flowAcc, d uint8) []int32 {
	at, n := uint32(fl.jAt), uint32(fl.nC2S)
	if d != c2s {
		at, n = at+n, uint32(fl.nS2C)
	}
	return all[at : at+n : at+n]
}

// nDir is how many journeys flow fl has in direction d: len(dirJourneys(fl, d)).
func (fl *flowAcc) nDir(d uint8) int {
	if d == c2s {
		return int(fl.nC2S)
	}
	return int(fl.nS2C)
}

// journeysOf returns flow fl's journeys, those client to server before those back (a slice whose
// capacity ends with them).
func (fo *flowsOut) journeysOf(fl *flowAcc) []int32 {
	end := fl.jAt + fl.nC2S + fl.nS2C
	return fo.jAll[fl.jAt:end:end]
}

// pathVotes is what a flow's journeys showed of its path, per direction: what buildPaths needs and
// nothing later does, so it is dropped once the paths are built.
type pathVotes [2]dirVotes

// dirVotes is what one flow direction's journeys showed of its path: its end nodes, the pod-veths at
// either end, the routers it crossed and whether it was tunnelled. What a journey votes for lies
// together (a cache line a flow direction), and its zero value is empty.
type dirVotes struct {
	// tl: the end nodes (tSrc, tDst), and the owner points of the source address of its first
	// voteSample journeys and of their last hop's destination address (tSrcPod, tDstPod)
	tl       [4]tally
	nVoted   int32 // journeys whose pods were voted
	tunnel   bool  // some journey was seen at a tunnel device
	underlay bool  // some journey was seen at a cluster node's underlay (localDsts)
	// rare is what few flow directions' journeys show (nil for none): one pointer a direction, not
	// seven, as the collection after the flows reads every pointer word of every flow's votes.
	rare *dirRare
}

// The tallies of dirVotes.tl.
const (
	tSrc    = iota // the source's node
	tDst           // the destination's node
	tSrcPod        // the pod-veth at the source
	tDstPod        // the pod-veth at the destination
)

// dirRare is what few flow directions' journeys show of their path (dirVotes.rare).
type dirRare struct {
	more    [4]votes            // each tally's keys and counts once it holds two keys or more (tally)
	routers map[int]*routerSeen // router point → what its journeys showed there (nil for none)
	// multi is, for the underlay points of a cluster node with several (ptMulti), the journeys' hop
	// positions there (routerSeen's pos and n; nil for none): the order in which packets crossed them.
	multi map[int]*routerSeen
	// edge is, for a direction that crossed a router point, the TTLs (outer when encapsulated) its
	// first edgeSample such journeys had at the cluster nodes' underlays: the TTL leaving the source
	// node and reaching the destination node, which tell a router's egress from its ingress
	// (orderRouters). nil for none.
	edge *edgeTTLs
}

// rareOf returns v.rare, made when nil.
func (v *dirVotes) rareOf() *dirRare {
	if v.rare == nil {
		v.rare = &dirRare{}
	}
	return v.rare
}

// routers returns the router points the direction's journeys crossed, and what they showed there
// (dirRare.routers; nil for none).
func (v *dirVotes) routers() map[int]*routerSeen {
	if v.rare == nil {
		return nil
	}
	return v.rare.routers
}

// multi returns dirRare.multi (nil for none).
func (v *dirVotes) multi() map[int]*routerSeen {
	if v.rare == nil {
		return nil
	}
	return v.rare.multi
}

// edge returns dirRare.edge (nil for none).
func (v *dirVotes) edge() *edgeTTLs {
	if v.rare == nil {
		return nil
	}
	return v.rare.edge
}

// edgeTTLs is what dirRare.edge holds: votes for point<<8|TTL at cluster nodes' underlay points, from
// n journeys.
type edgeTTLs struct {
	n    int
	ttls votes
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

// flowsOut is the flows stage's output: each journey's flow and direction, the flows (with their
// journeys and their paths' votes), and how a tuple finds its flow (NAT joins tuples).
type flowsOut struct {
	uf    unionFind
	flows []*flowAcc
	jAll  []int32 // the flows' journeys, a flow's after the flow before's (flowAcc.jAt)
	// paths: the flow directions' paths (buildPaths: flows between two pods share one), by
	// flowAcc.pathAt; paths[0] is nil, the path of a direction without journeys
	paths  []*pathInfo
	flowOf flowIndex // each flow's index by its root key
	jFlow  []int32   // flow of each journey, -1 none
	jDir   []uint8   // direction of each journey in its flow
	icmpJ  []int32   // the journeys of ICMP errors, in order
	rank   []int32   // each flow's position in the order of its id (flowIDs)
	byRank []int32   // the flow at each position
	// ownClaims: addresses seen sending into one of a node's pods from the node's own stack, → that
	// node (-2: several); the analysis adopts them as node addresses once the flows are built
	// (localends.go).
	ownClaims map[[2]uint64]int
}

// flowStage builds the flows: it reads the world, the matcher and the arena (through a, which it does
// not write) and fills its output.
type flowStage struct {
	a *analysis
	flowsOut
	slab  []flowAcc   // the next flows' room: flows are allocated a block at a time
	vslab []pathVotes // likewise their votes
	// slabRest and vslabRest are the rest of the block past slab and vslab, which are the part of
	// it mapped in (see refill).
	slabRest     []flowAcc
	vslabRest    []pathVotes
	owners       ownerCache // the pod and node of the addresses journeys carry
	pointKindsOf            // what votePath asks of each point
	// atJ is the journey whose flow is being started, of nJ (0: not known), for refill's estimate of
	// the flows still to come.
	atJ, nJ int
	k8sOn   map[[2]uint64]int // --k8s: each running pod's address → its node (pods, workload endpoints), once asked (k8sPodNode)
}

// assignFlows gives every journey its flow (journeys in order of their first sighting; NAT joins the
// tuples before and after) and direction, and collects the votes for each flow direction's path. The
// voter sets the directions (direction: a flow's client tuple is set before a journey of it is handed
// over, and not changed after) with the votes, and works out the datapath mode per node pair, which
// reads only the journeys, from the same frames: it is returned with the flows.
func (a *analysis) assignFlows() (flowsOut, map[[2]int]string) {
	w, job := a.w, voteJob{} // job: the one-core loop's, filled in place (keyJob)
	s := &flowStage{a: a, owners: ownerCache{w: w}, pointKindsOf: pointKinds(w), nJ: a.nJ}
	chunk := stageChunk(&a.opts, voteChunk)
	v := s.startVoter(chunk)
	s.uf = unionFind{parent: map[flowKey]flowKey{}}
	for _, ev := range a.journeys.nat {
		of, _ := a.obs(ev.from)
		ot, _ := a.obs(ev.to)
		s.uf.union(w.tupleOf(of).key(), w.tupleOf(ot).key())
	}
	s.flowOf = flowIndex{}
	// The flows of recent flow keys: journeys mostly repeat theirs, and a flow's answers come soon
	// after its requests, so the cache is keyed by the direction-free key.
	flowCache := make([]flowCacheEntry, flowCacheSize(a.nJ))
	s.jFlow = makeBig[int32](w.big, a.nJ, a.nJ)
	s.jDir = makeBig[uint8](w.big, a.nJ, a.nJ)
	if chunk > 0 {
		s.assignKeyed(v, flowCache, chunk)
	} else {
		for j := 0; j < a.nJ; j++ {
			if s.keyJob(j, &job) {
				s.assign(&job, flowCache)
				v.vote(&job)
				job.fl.countDir(job.d)
			}
		}
	}
	v.wait()
	s.listJourneys(chunk > 0, chunk <= 0)
	return s.flowsOut, v.modes.result()
}

// keyJob sets journey j's hops, first sighting and tuple in *job (its flow still to find), or returns
// false for a journey without hops, whose flow it sets to none (-1). In place: returned, the 88-byte
// job was copied twice a journey. The job's other fields are left as they are: what follows sets
// them (assign or findFlow, the voter), a job of the keyer being new (zero) and the one-core loop's
// passing through assign and the voter before its next journey.
func (s *flowStage) keyJob(j int, job *voteJob) bool {
	s.a.w.trimAt(j) // the journeys' first sightings lie across all the frames
	h := s.a.hops(j)
	if len(h) == 0 {
		s.jFlow[j] = -1
		return false
	}
	o, _ := s.a.obs(s.a.w.pktHop(h))
	if s.a.w.cutLeft(o) { // an ICMP error whose cut quote names no one flow (quotecut.go)
		s.jFlow[j] = -1
		return false
	}
	if o.Flags&decode.FlagLaterFragment != 0 || o.Proto == 1 || o.Proto == 58 { // tupleOf, written out: inlined
		job.o, job.t, job.h, job.j = o, s.a.w.tupleOther(o), h, int32(j)
		return true
	}
	job.o, job.h, job.j = o, h, int32(j) // the tuple's fields set in place: usualTuple's was made apart and copied
	job.t.v6, job.t.proto, job.t.src, job.t.dst, job.t.sp, job.t.dp = o.Flags&decode.FlagIPv6 != 0, o.Proto, o.Src, o.Dst, o.Sport, o.Dport
	return true
}

// assign finds the flow of journey job (through the cache of recent flow keys, else flowFor, which
// starts a flow for a new key) and records it.
func (s *flowStage) assign(job *voteJob, flowCache []flowCacheEntry) {
	w0, w1 := job.t.cacheKey()
	e := cacheEntry(flowCache, w0, w1)
	fi, ok := e.fi, e.w0 == w0 && e.w1 == w1
	if !ok {
		s.atJ = int(job.j)
		fi = s.flowFor(&job.t, job.o, job.h[0])
		*e = flowCacheEntry{w0, w1, fi}
	}
	if job.o.Flags&decode.FlagICMPError != 0 {
		s.icmpJ = append(s.icmpJ, job.j)
	}
	s.jFlow[job.j] = fi
	job.fl = s.flows[fi]
}

// direction returns the direction of a journey with tuple t in flow fl: c2s when it goes as the flow's
// client tuple does.
func direction(fl *flowAcc, t *tuple) uint8 {
	if (t.src == fl.client.src && t.sp == fl.client.sp) || (t.dst != fl.client.src && t.src != fl.client.dst && t.dp == fl.client.dp) {
		return c2s
	}
	return s2c
}

// flowFor finds the flow of tuple t (o, the first sighting g of a journey, carries it), or starts one.
func (s *flowStage) flowFor(t *tuple, o *decode.Observation, g uint32) int32 {
	root := s.uf.find(t.key())
	if fi, ok := s.flowOf.get(root); ok {
		return fi
	}
	fi := s.flowOf.put(root) // len(s.flows): the flows are numbered as they start
	s.newFlow(root, t, o, g)
	return fi
}

// newFlow starts the next flow, of root key root, with the first journey's tuple t (o, its first
// sighting g, carries it). A flow first seen through an ICMP error about it is oriented as quoted,
// one first seen through a TCP SYN-ACK (its SYN captured nowhere) from the SYN-ACK's receiver: the
// side that sent the SYN (openingSeen keeps it shown).
func (s *flowStage) newFlow(root flowKey, t *tuple, o *decode.Observation, g uint32) {
	if len(s.slab) == 0 || len(s.vslab) == 0 {
		s.refill()
	}
	fl := &s.slab[0]
	fl.votes = &s.vslab[0]
	s.slab, s.vslab = s.slab[1:], s.vslab[1:]
	fl.key, fl.client, fl.first = root, *t, s.a.ts(g)
	if o.Flags&decode.FlagICMPError != 0 { // a flow first seen through an ICMP error: orient it as quoted
		fl.client = t.reverse()
	} else if synAck(o) {
		fl.client = t.reverse()
	}
	s.flows = append(s.flows, fl)
}

// flowBlock is the most flows a block of the flow stage holds when huge pages are asked for (6.4 MB
// of accumulators and as much of votes): enough to span whole huge pages.
const flowBlock = 1 << 14

// flowBlockSmall is the most flows a block holds otherwise (hugepage.On false, the default): the
// room of the last block that no flow takes is scanned by every collection while the flows live (the
// accumulators' pointers, and the votes' until the paths are built), and a block of flowBlock could
// leave up to 16,383 flows' room empty (12,752 of 32,752 on the 1 M-frame many-flow set's 20,000
// flows) where one of flowBlockSmall leaves at most 4,095.
const flowBlockSmall = 1 << 12

// flowBlockLen is the most flows a block of the flow stage holds: flowBlock when huge pages are asked
// for, else flowBlockSmall.
func flowBlockLen() int {
	if hugepage.On() {
		return flowBlock
	}
	return flowBlockSmall
}

// refill gives the flow stage room for its next flows: the next window of a block (flowBlockSize; one
// that asks for huge pages when large and they are on, see hugepage), mapped in in one call
// (prefault) rather than a page fault per page at the flows' first writes. A window at a time, so that
// the room of the last block that no flow takes stays unmapped.
func (s *flowStage) refill() {
	if len(s.slabRest) == 0 || len(s.vslabRest) == 0 {
		n := flowBlockSize(len(s.flows), s.atJ, s.nJ)
		s.slabRest = hugepage.Make[flowAcc](n, n)
		s.vslabRest = hugepage.Make[pathVotes](n, n)
	}
	s.slab, s.slabRest = prefault.Take(s.slabRest, flowWindow)
	s.vslab, s.vslabRest = prefault.Take(s.vslabRest, flowWindow)
}

// flowBlockSize is how many flows the next block holds, found flows found so far and the next starting
// at journey j of nJ (nJ 0: not known): as many as found so far (up to flowBlockLen), and no more than a
// quarter above the flows still to come at the rate so far (at least 64). Every collection while the
// flows live scans each block whole, the room no flow took as well: a last block of flowBlock left
// mostly empty was about a third of the pointer words the collections after the flows marked (20,000
// flows: blocks for 32,752).
func flowBlockSize(found, j, nJ int) int {
	n := min(flowBlockLen(), 16+found)
	if j > 0 && j < nJ {
		left := found * (nJ - j) / j
		n = min(n, max(64, left+left/4))
	}
	return n
}

// flowWindow is how many flows (accumulators and votes) refill maps in at a time: the same number of
// both, which are taken one each per flow (about 1 MiB of each).
const flowWindow = int(1 << 20 / max(unsafe.Sizeof(flowAcc{}), unsafe.Sizeof(pathVotes{})))

// votePath records what journey j (hops h, first sighting o with tuple t) shows of its flow direction's
// path: the end nodes, the pod-veths at either end, the routers it crossed and whether it was tunnelled.
func (s *flowStage) votePath(fl *flowAcc, d uint8, j int, t *tuple, o *decode.Observation, h []uint32, e *voteEnds) {
	a := s.a
	v := &fl.votes[d]
	// Votes for the path's end nodes: the sender's node, and the node of the last known destination.
	n := e.srcNode
	srcNode := -1
	if n < 0 {
		n = a.w.outerNode(h, 0) // the node that encapsulated it (outerends.go)
	}
	if n < 0 {
		n = s.localSource(t, o, h) // the node it came from into its pod's cali (localends.go)
	}
	if n < 0 {
		n = a.tunnelNode(h, 0) // the node seen encapsulating it (outerends.go)
	}
	if n >= 0 {
		if !v.tl[tSrc].add(n) {
			v.addMore(tSrc, n)
		}
		srcNode = n
	}
	dstPod := e.dstPod
	if n := s.dstNodeOf(h, e, srcNode); n >= 0 {
		if !v.tl[tDst].add(n) {
			v.addMore(tDst, n)
		}
	}
	// And for the pod-veths at either end (buildPath keeps those on the end nodes), from the
	// addresses the first journeys carried (before NAT at the source, after it at the destination).
	if v.nVoted < voteSample {
		v.nVoted++
		// The owner of the first sighting's source, which take looked up for the modes (an ICMP
		// error's tuple is the quoted one's):
		srcPod := e.firstPod
		if srcPod >= 0 {
			if !v.tl[tSrcPod].add(srcPod) {
				v.addMore(tSrcPod, srcPod)
			}
		}
		if dstPod >= 0 {
			if !v.tl[tDstPod].add(dstPod) {
				v.addMore(tDstPod, dstPod)
			}
		}
	}
	// Routers' points (hop positions, hops being in corrected-time order; TTLs), a tunnel device, an underlay:
	if s.walkDone(v) { // (no router point, then: v.routers() is nil, no voteEdges)
		return
	}
	base := int(a.jStart[j])
	if !s.anyPos { // (no router point nor several underlays: the walk notes a tunnel device and an underlay alone)
		s.walkKinds(v, a.hopPt[base:base+len(h)])
		return
	}
	for hi, pt := range a.hopPt[base : base+len(h)] {
		p := int(pt)
		k := s.ptKind[p]
		if k == 0 {
			continue // a pod's veth, mostly
		}
		if k&ptRouter != 0 {
			s.seenRouter(v, p, hi, h)
		}
		if k&ptTunnel != 0 {
			v.tunnel = true
		}
		if k&ptEdge != 0 {
			v.seenEdge(p, hi, k)
		}
	}
	if r := v.rare; r != nil && r.routers != nil && (r.edge == nil || r.edge.n < edgeSample) {
		s.voteEdges(v, h, a.hopPt[base:base+len(h)])
	}
}

// walkKinds is votePath's walk of a journey's hops at points pts where no point is of kind ptPos: an
// OR of their kinds, read from kindOf, notes a tunnel device and an underlay.
func (s *flowStage) walkKinds(v *dirVotes, pts []uint16) {
	var k uint8
	kindOf := s.kindOf // (read and nil-checked once: in the loop, a load and a nil check a hop)
	_ = kindOf[0]
	for _, pt := range pts {
		k |= kindOf[pt]
	}
	v.tunnel, v.underlay = v.tunnel || k&ptTunnel != 0, v.underlay || k&ptEdge != 0
}

// walkDone reports whether votePath's walk of a journey's hops could add nothing to flow direction v:
// v has seen a tunnel device and an underlay, and no point is a router's or one of a node's several
// underlays (ptPos: each journey adds its hop position there). votePath then returns before the walk.
func (s *flowStage) walkDone(v *dirVotes) bool { return v.tunnel && v.underlay && !s.anyPos }

// dstNodeOf is the node a journey (hops h, ends e) sent by node srcNode (-1: unknown) was headed for,
// or -1: the node of the last known destination, else the one it was encapsulated to, else, when its
// sender's node is known, the node --k8s puts the destination pod on (localends.go). What the
// captures show of the address's node comes first. The usual journey's, that of its last destination,
// without a call (dstNodeOther is not inlined).
func (s *flowStage) dstNodeOf(h []uint32, e *voteEnds, srcNode int) int {
	if e.dstNode >= 0 {
		return e.dstNode
	}
	return s.dstNodeOther(h, e, srcNode)
}

// dstNodeOther is dstNodeOf of a journey whose last destination's node is not known.
//
//go:noinline
func (s *flowStage) dstNodeOther(h []uint32, e *voteEnds, srcNode int) int {
	a := s.a
	n := e.dstNode
	for i := len(h) - 2; n < 0 && i >= 0; i-- {
		oh, _ := a.obs(h[i])
		n = s.owners.nodeOf(oh.Flags&decode.FlagIPv6 != 0, oh.Dst)
	}
	if n < 0 {
		n = a.w.outerNode(h, 1) // the node it was encapsulated to
	}
	if n < 0 {
		n = a.tunnelNode(h, 1) // the node seen decapsulating it
	}
	if n < 0 && srcNode >= 0 {
		last, _ := a.obs(h[len(h)-1])
		n = s.k8sPodNode(last.Flags&decode.FlagIPv6 != 0, last.Dst)
	}
	return n
}

// seenRouter records that a journey (hops h) was seen at router point p, its hop position hi there
// and, for the first voteSample, its TTL.
func (s *flowStage) seenRouter(v *dirVotes, p, hi int, h []uint32) {
	r := v.rareOf()
	rs := r.routers[p]
	if rs == nil {
		if r.routers == nil {
			r.routers = map[int]*routerSeen{}
		}
		rs = &routerSeen{}
		r.routers[p] = rs
	}
	rs.pos += int64(hi)
	if rs.n++; rs.n <= voteSample {
		oh, _ := s.a.obs(h[hi])
		rs.ttls.add(int(s.a.w.hopTTL(oh)))
	}
}

// seenEdge records that a journey was seen at a cluster node's underlay point p (of kind k), and, on
// a node with several (ptMulti), its hop position hi there (multi).
func (v *dirVotes) seenEdge(p, hi int, k uint8) {
	v.underlay = true
	if k&ptMulti == 0 {
		return
	}
	r := v.rareOf()
	ms := r.multi[p]
	if ms == nil {
		if r.multi == nil {
			r.multi = map[int]*routerSeen{}
		}
		ms = &routerSeen{}
		r.multi[p] = ms
	}
	ms.pos += int64(hi)
	ms.n++
}

// edgeSample is how many journeys of a flow direction voteEdges reads: the TTLs at a path's end nodes
// are its packets' alike, and a second walk of every sampled journey's hops would cost the flow stage.
const edgeSample = 16

// voteEdges records the TTLs a journey (hops h at points pts) that crossed a router point had at the
// cluster nodes' underlays (dirRare.edge).
func (s *flowStage) voteEdges(v *dirVotes, h []uint32, pts []uint16) {
	a, r := s.a, v.rare // (set: the journey crossed a router point)
	if r.edge == nil {
		r.edge = &edgeTTLs{}
	}
	r.edge.n++
	for hi, pt := range pts {
		if s.ptKind[pt]&ptEdge != 0 {
			oh, _ := a.obs(h[hi])
			r.edge.ttls.add(int(pt)<<8 | int(a.w.hopTTL(oh)))
		}
	}
}

// What votePath asks of a point (flowStage.ptKind).
const (
	ptRouter = 1 << iota // a router's point: on a node outside the cluster, its role known
	ptTunnel             // a tunnel device
	ptEdge               // a cluster node's underlay
	ptMulti              // an underlay of a cluster node with several (orderUnderlays)
	// ptPos is the kinds at which votePath adds each journey's hop position (the routers' and the
	// several underlays' votes), not only notes that one was crossed.
	ptPos = ptRouter | ptMulti
)

// pointKindsOf is what votePath asks of each point (ptKind), and whether some point is of kind ptPos
// (anyPos). kindOf is ptKind by a point's arena index (hopPt: a uint16), without a bounds check: the
// walk of a journey whose direction never sees both a tunnel device and an underlay (same-node
// flows) reads it at every hop.
type pointKindsOf struct {
	ptKind []uint8
	kindOf *[1 << 16]uint8
	anyPos bool
}

// pointKinds returns what votePath asks of each point of w (ptRouter, ptTunnel, ptEdge, ptMulti).
func pointKinds(w *world) pointKindsOf {
	k := make([]uint8, len(w.pointNode))
	for p, n := range w.pointNode {
		if !w.cluster[n] && w.pointRole[p] != decode.RoleAny {
			k[p] |= ptRouter
		}
		if w.pointRole[p] == decode.RoleTunnel {
			k[p] |= ptTunnel
		}
		if w.cluster[n] && w.pointRole[p] == decode.RoleUnderlay {
			k[p] |= ptEdge
			if len(w.underlays[n]) > 1 {
				k[p] |= ptMulti
			}
		}
	}
	anyPos := false
	for _, kind := range k {
		anyPos = anyPos || kind&ptPos != 0
	}
	kindOf := new([1 << 16]uint8)
	copy(kindOf[:], k)
	return pointKindsOf{k, kindOf, anyPos}
}

// countDir counts one more of the flow's journeys in direction d (nC2S, nS2C).
func (fl *flowAcc) countDir(d uint8) {
	if d == c2s {
		fl.nC2S++
	} else {
		fl.nS2C++
	}
}

// flowJourneys lists each flow's journeys per direction, in journey order, in one array. counted: the
// flows' journeys per direction are counted already (countDir, as they were handed over), where
// flowJourneys otherwise counts them in a pass of its own over every journey's flow and direction.
func (s *flowStage) flowJourneys(counted bool) {
	// n: the journeys of each flow direction, then where its next journey goes (int32: journey ids are)
	n := make([][2]int32, len(s.flows))
	jFlow := s.jFlow
	jDir := s.jDir[:len(jFlow)] // (a journey of a flow has direction c2s or s2c: &1 takes no bounds check)
	if counted {
		for fi, fl := range s.flows {
			n[fi] = [2]int32{fl.nC2S, fl.nS2C}
		}
	} else {
		for j, fi := range jFlow {
			if fi >= 0 {
				n[fi][jDir[j]&1]++
			}
		}
	}
	all := makeBig[int32](s.a.w.big, s.a.nJ, s.a.nJ)
	s.jAll = all
	off := int32(0)
	for fi, fl := range s.flows {
		n0, n1 := n[fi][c2s], n[fi][s2c]
		fl.jAt, fl.nC2S, fl.nS2C = off, n0, n1
		n[fi] = [2]int32{off, off + n0}
		off += n0 + n1
	}
	for j, fi := range jFlow {
		if fi >= 0 {
			at := &n[fi][jDir[j]&1]
			all[*at] = int32(j)
			*at++
		}
	}
}

// pointTally is a flow's packets and bytes at one point, in 16 bytes (a flow has one per point it
// crossed): a count past 2^32 would take more frames than calipath holds in memory.
type pointTally struct {
	point   int32
	packets uint32
	bytes   int64
}

// lostTally counts a flow's lost packets per segment (from, to points): a short list (a flow's losses
// fall on few segments), without the segments whose count fell to zero.
type lostTally []lostCount

type lostCount struct {
	from, to int32
	n        int
}

// add counts n more (or, negative, fewer) packets lost between points from and to.
func (l *lostTally) add(from, to, n int) {
	for i, c := range *l {
		if c.from == int32(from) && c.to == int32(to) {
			if (*l)[i].n += n; (*l)[i].n <= 0 {
				*l = append((*l)[:i], (*l)[i+1:]...)
			}
			return
		}
	}
	if n > 0 {
		*l = append(*l, lostCount{int32(from), int32(to), n})
	}
}
