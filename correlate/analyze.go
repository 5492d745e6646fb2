package correlate

import (
	"context"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/calipath/calipath/cluster"
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
	// KeepFreed, with Lean, keeps the memory its phases free in the process instead of returning it to
	// the system between them: the same collections run, and the phases after matching take those
	// pages again without a page fault each (on a virtual machine the first touch of a page returned
	// costs the host too). The peak is the same where it comes while matching, as on the many-flow
	// set (the TUI's 658 MiB either way); what is free stays resident until the Go runtime returns it.
	// The TUI, whose overview waits for correlation, sets it; bounded-memory mode (Mapper) returns
	// its heap's free memory as before.
	KeepFreed bool
	// StreamFlows leaves Result.Flows nil and has EachFlow render the flows one at a time, for a writer
	// that walks them once in order (report's JSON without a filter): the output Flows of many flows
	// are then never all in memory. It applies only when nothing in correlation reads the flows'
	// list: without cluster metadata and names from the captures (Result.FlowsStreamed says whether
	// it did).
	StreamFlows bool
	// CollectLater, with Lean, leaves to the caller the collection after placement when the flows are
	// streamed (Result.FlowsStreamed): it is there so that the flows written out reuse placement's
	// memory, and a caller that does something else first (the TUI shows its overview, then lists
	// the flows) collects before it lists them. Without streamed flows it changes nothing.
	CollectLater bool
	// Cluster is the cluster's metadata (--k8s): it names addresses and pod veths (Result.Names,
	// Point.Pod) and says what the pools and services expect (k8s.go). nil: nothing changes.
	Cluster *cluster.Meta
	// IfacePrefix is the prefix of Calico's pod interfaces ("" is cali), for naming pod veths.
	IfacePrefix string
	// Mapper, when set, gives the large arrays kept per frame and per journey (the matcher's journey
	// ids, the arena, the flows' and placement's per-journey state) memory outside the Go heap
	// (bounded-memory mode: decode.Spill). The Result is the same.
	Mapper Mapper
	// Acks, when set, reads frames again for their TCP acknowledgement numbers, which Observations do
	// not keep (decode.AckReader): file indexes Capture.Files, frames are its frame numbers,
	// ascending; ok[i] says acks[i] was read. Placement asks it only about the ACKs that answer a TCP
	// segment it would count lost (acked.go). nil: no segment is cleared by its ACK.
	Acks func(file int, frames []uint32) (acks []uint32, ok []bool)
	// StageDone, when set, is called as each stage of the correlation ends, with the stage's name:
	// world, clocks, matcher, arena, flows, paths, late joins, placement, side findings, output (the
	// stages of docs/correlation.md; the single-frame checks run beside the first three, the side
	// findings beside placement). For timings (report --log-file); it must return quickly.
	StageDone func(stage string)
	// chunk, for tests, is how many journeys the flow and placement stages hand to their goroutines
	// at a time (stageChunk); -1: no goroutines, the work done inline; 0: by the number of cores.
	chunk int
}

// stageDone calls StageDone, if set, with the stage that just ended.
func (opts *Options) stageDone(stage string) {
	if opts.StageDone != nil {
		opts.StageDone(stage)
	}
}

// stageChunk is how many journeys a stage hands to its goroutine at a time, def by default; 0 (the
// work inline) on one core or when opts say so.
func stageChunk(opts *Options, def int) int {
	switch {
	case opts.chunk < 0:
		return 0
	case opts.chunk > 0:
		return opts.chunk
	case runtime.GOMAXPROCS(0) > 1:
		return def
	}
	return 0
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
	// statusUncertain: an ICMP error that may have crossed a NAT the captures do not show and gone on as
	// another journey, or be an error of its own (icmp-error-nat-unknown): Journey.Uncertain says which.
	statusUncertain = "uncertain"
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
	stUncertain
)

var statusNames = [...]string{stDelivered: statusDelivered, stLost: statusLost, stNotCaptured: statusNotCaptured,
	stUnplaced: statusUnplaced, stSplit: statusSplit, stMerged: statusMerged, stLeftCaptures: statusLeft,
	stUncertain: statusUncertain}

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
	w := worldFor(c, opts.Mapper) // the points, pods and node IPs
	opts.stageDone("world")
	frames := startFrameChecks(w)        // beside the clocks and the matcher (early.go)
	clocks, offFits := w.clocksFor(opts) // each node's clock against the reference node's
	opts.stageDone("clocks")
	if ctx.Err() != nil {
		frames.stop()
		return nil, context.Cause(ctx)
	}
	m, err := matchJourneys(ctx, c, w, clocks, opts) // sightings of one packet joined into journeys
	if err != nil {
		frames.stop()
		return nil, err
	}
	opts.stageDone("matcher")
	wg := joinWireGuard(w, m, opts) // WireGuard messages joined to the packets they carried
	a := &analysis{w: w, journeys: m.out(), clocks: clocks, opts: opts, nJ: int(m.next), offFits: offFits, wg: wg,
		early: frames}
	a.openClocks = a.anyOpen()
	a.shownClocks = a.openClocks || a.anyBlind()
	a.looseMax = a.loosestPair()
	a.looseClocks = a.looseMax > looseBound
	// each journey's hops in path order; the matcher ends here
	a.arenaOut = buildArenaSplit(w, m, a.nJ, opts.Lean, stageChunk(&opts, 1) > 0)
	opts.stageDone("arena")
	return a.result(), nil // flows, paths, placement, findings: the Result
}

// worldOf builds the world of capture c: its points (with those a -i any capture implies), pods and
// node IPs.
func worldOf(c *decode.Capture) *world { return worldFor(c, nil) }

// worldFor is worldOf for a world whose large arrays come from mp (nil: the heap): its passes over
// the frames trim their mapped pages as they go (world.trimAt).
func worldFor(c *decode.Capture, mp Mapper) *world {
	w := newWorld(c, mp)
	if inf := w.inferPoints(); len(inf) > 0 {
		w = newWorld(withInferred(c, w.nodes, inf), mp)
		w.adoptInferred(inf)
	}
	return w
}

// matchJourneys joins the sightings of each packet into journeys and drops the matcher's open-journey
// state; in Lean mode it also drops c's fingerprints (the journey ids take their place) and returns the
// memory to the system. It stops, returning the context's cause, once ctx has ended.
func matchJourneys(ctx context.Context, c *decode.Capture, w *world, clocks []clockModel, opts Options) (*matcher, error) {
	m := newMatcher(w, clocks, opts)
	m.run()
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
		returnFree(&opts)
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return m, nil
}

// dir is a journey's direction within its flow.
const (
	c2s = 0
	s2c = 1
)

// analysis is the settled outputs of the stages, in pipeline order (docs/correlation.md). result sets
// each once, when its stage ends (the flows' ids, which the side findings work out beside placement,
// once those are done); a later stage, the findings and output read them and write none of
// them (placement adds its counts to the flows, and the late joins join journeys, as they say). The
// Result keeps the analysis for FlowJourneys, less what dropWorking drops.
type analysis struct {
	// Inputs: the world, the clocks and what matching found.
	w      *world
	clocks []clockModel
	// unsureStepped: the nodes whose steps, placed but for a few frames, made losses uncertain
	// (unsureLosses), for the summary's Unreliable.
	unsureStepped []int
	// natUnsure: the ICMP errors' journeys icmp-error-nat-unknown names (natUnknownJourneys), and why
	// each is uncertain; Journey.Uncertain.
	natUnsure map[int32]string
	// openerUnknown: the flows with NAT whose opening no capture could have shown (natOpeners);
	// Flow.OpenerUnknown. nil for none.
	openerUnknown map[int32]bool
	// openerNoAddr: of those, the flows whose first rewrite would have shown a DNAT had the addresses
	// of the node it maps to been known (dnatOnly); openerText. nil for none.
	openerNoAddr map[int32]int
	// natInPod: the NAT mappings (natPodKey) whose rewrites were each seen inside one pod (rewrittenInPod):
	// that pod-veth point + 1, 0 when none was, -1 when some were not, or inside another; nil for no
	// NAT (natStats).
	natInPod map[natKey]int
	// lostSpans: the segments whose losses may have been past an underlay not captured (lostspan.go),
	// with the points not captured; nil for none.
	lostSpans map[lostSpanKey][]string
	offFits   []offsetFit // --offset values the traffic contradicts (left out)
	opts      Options
	nJ        int
	journeys  journeysOut // what matching found besides the journeys' hops (match.go)

	// The arena (arena.go): every journey's hops in path order; and the coverage (coverage.go).
	*arenaOut
	cov coverage // what each point's capture covers
	// capDrop is what the captures said they dropped themselves (capdrop.go).
	capDrop capDrops

	// Flows (flows.go) and, beside them, each node pair's mode (modes.go); the paths (paths.go) are in
	// the flows (flowAcc.path); the flows' IDs (output.go).
	flowsOut
	pairMode    map[[2]int]string
	ids         []string // flow IDs by flow index
	flowARPWait []int64  // by flow index: the ARP wait before its first packet (the side findings')
	// udpN is, by flow index, the UDP request/response pairs of the flows streamed (nil otherwise):
	// counted in flow order, where the journeys' first sightings lie close together, and kept for
	// EachFlow, which renders the flows in the order of their ids.
	udpN []int32
	// openClocks: some node's clock is bounded on one side only (anyOpen), so latencies between nodes
	// may be bounds or not known (segclock.go).
	openClocks bool
	// shownClocks: openClocks, or some node's clock could not be estimated (clockModel.blind), so latencies
	// shown between nodes may be bounds or not known (shownBound); the order of hops takes openClocks.
	shownClocks bool
	// looseClocks: some two clocks bounded both ways are loose enough that latencies between their
	// nodes may be hedged (pairLoose): looseMax, the largest sum of two such clocks' bounds
	// (loosestPair), exceeds looseBound. No latency of looseMax or more is hedged.
	looseClocks bool
	looseMax    int64
	// flowLoose is, by flow index, the loosest clocks under a delivered journey's latency (flowLooseAcc;
	// placement counts them): nil when looseClocks is not set.
	flowLoose []flowLooseAcc
	// unordered: the point pairs (lower index first) on nodes whose clocks say nothing of each other
	// that no packets both ways ordered (orderOpenHops); nil for none.
	unordered map[[2]int]bool
	// flowClocks is, by flow index, what one-sided clocks make of each flow's end-to-end latencies
	// (segclock.go; placement counts them): nil when every clock is bounded both ways.
	flowClocks []flowClock
	// flowDirs is, by flow index and likewise, each flow's end-to-end latencies per direction and what
	// one-sided clocks make of them (nil for a flow without a delivered journey): a flow whose two
	// directions' latencies are bounds of different kinds gives each direction's (Flow.Dirs).
	flowDirs []*flowDirs
	// flowNotes caches flowBound's answer by flowClock (flows are written out on several goroutines).
	flowNotesMu sync.Mutex
	flowNotes   map[flowClock][2]string

	// Late joins (window.go): packets split by a short window joined again.
	lateOut

	// oneWay is the points that captured one direction only, out of the paths they are blind to (oneway.go).
	oneWay *oneWayOut

	// Placement (placement.go): each journey's status, the segments, the open ends.
	*placementOut

	// Side findings (arpicmp.go, anomalies.go): they run beside placement.
	side sideOut

	// WireGuard (wireguard.go): the sessions and the joins of messages to inner packets; nil without a
	// WireGuard device's capture.
	wg *wgState

	// early is the single-frame checks started once the world was built (early.go; nil: the side
	// findings check the frames).
	early *earlyFrames
	// shared: per point, 1 when it carries several pods, -1 when not, 0 not asked yet (sharedVeth)
	shared []int8
	// shown: OpenerNotShown's answers, asked after the analysis (firstseen.go)
	shown openerShown
}

func (a *analysis) obs(g uint32) (*decode.Observation, int) { return a.w.obsAt(g) }

func (a *analysis) ts(g uint32) int64 {
	o, f := a.obs(g)
	return a.journeys.corrected(o, f, int(g-a.w.fileBase[f]))
}

func (a *analysis) point(g uint32) int {
	o, _ := a.obs(g)
	return a.w.srcPoint[o.Source]
}

// result runs the stages that follow matching, each reading what the ones before it settled: the
// journeys' hops in path order, what each capture covers, the flows (and each node pair's mode), each
// flow direction's path, the placement of every journey on it (beside it: ARP, ICMP errors and
// single-frame checks), then the findings and the Result.
func (a *analysis) result() *Result {
	a.cov = newCoverage(a.w, a.clocks)
	a.capDrop = newCapDrops(a.w, a.clocks, &a.journeys)
	a.unordered = a.orderOpenHops() // hops at two points whose clocks say nothing of each other (openorder.go)
	a.flowsOut, a.pairMode = a.assignFlows()
	a.adoptOwn()                   // the nodes' own addresses the flows showed (localends.go)
	freed := a.releaseFreeBeside() // what the flows did not take of the arena's leftovers
	a.opts.stageDone("flows")
	a.paths = (&pathStage{w: a.w, flows: a.flows, jAll: a.jAll, pairMode: a.pairMode, ar: a.arenaOut, unordered: a.unordered}).buildPaths()
	freed()
	a.release() // the paths' votes are dropped: placement reuses their memory
	a.opts.stageDone("paths")
	a.lateOut = (&lateStage{w: a.w, jo: &a.journeys, ar: a.arenaOut, fo: &a.flowsOut, nJ: a.nJ}).joinLate()
	a.cov.stopsFromSkips(a)   // the captures that stopped early, from the paths
	a.cov.gapsFromPaths(a)    // the packets due at a point outside its capture's span (gapfind.go)
	a.oneWay = a.findOneWay() // the points that captured one direction only leave those paths (oneway.go)
	a.opts.stageDone("late joins")
	side := a.startSideFindings()      // the flows' IDs first, beside placement, which does not read them
	a.capDrop.wgLoose = a.newWGStand() // the WireGuard messages no packet was tied to (wgstand.go)
	placed, journeys := placeJourneys(a)
	a.arenaOut.dropHopDetail() // placement was their last reader
	if !a.opts.CollectLater || !a.streamsFlows(captureNames(a.w.c)) {
		a.release() // so that the flows written out reuse that memory
	}
	a.opts.stageDone("placement")
	a.side, a.ids = side.wait()
	a.opts.stageDone("side findings")
	a.placementOut = placed
	res := a.output(journeys, a.ids)
	a.opts.stageDone("output")
	return res
}

// streamsFlows reports whether the Result streams its flows (Result.FlowsStreamed): the options ask
// for it and nothing in correlation reads the flows' list (cluster metadata, names from the captures
// dns).
func (a *analysis) streamsFlows(dns map[string]Name) bool {
	return a.opts.StreamFlows && a.opts.Cluster == nil && len(dns) == 0
}

// release collects, in Lean mode, the memory the stages no longer need, so that the next stage's
// allocations reuse it: otherwise they come before the next collection and grow the heap in new
// pages while the freed ones stay resident, and the peak is what once was rather than what is live.
// It does not return the memory to the system (page faults are dear on some machines, and the next
// stage wants the pages again).
func (a *analysis) release() {
	if a.opts.Lean {
		collect()
	}
}

// collect is runtime.GC, release's collection; a test counts its calls.
var collect = runtime.GC

// releaseFree returns, in Lean mode, the memory the heap holds free to the system (a collection
// first): the arena's leftovers the flow stage did not take. The later stages may not need them (few
// flows allocate little), and kept they would count in the peak; a page taken again costs a fault.
// With KeepFreed it only collects.
func (a *analysis) releaseFree() { returnFree(&a.opts) }

// releaseFreeBeside is releaseFree after the flows: on more than one core (stageChunk), in Lean mode
// without KeepFreed, on a goroutine of its own, beside the paths (buildPaths, one goroutine), so that
// its collection's and its return of the free pages' (the kernel's unmapping, on one thread) time
// are not the flow stage's; otherwise in place. The function it returns waits for it: result calls
// it before the collection after the paths, so the pages are back with the system before placement
// allocates, as they were. The collection and the return touch only the runtime's heap: the paths'
// allocations during the collection are taken as live (allocated black), as any allocation during a
// collection is, and the collection after the paths frees those it dropped. The Result is the same.
func (a *analysis) releaseFreeBeside() (wait func()) {
	if !a.opts.Lean || a.opts.KeepFreed || stageChunk(&a.opts, 1) == 0 {
		a.releaseFree()
		return func() {}
	}
	return beside(a.releaseFree)
}

// returnFree collects, in Lean mode, what the phase before dropped and returns the memory the heap
// holds free to the system (debug.FreeOSMemory); with KeepFreed it only collects, keeping the pages
// for the next phases.
func returnFree(opts *Options) {
	switch {
	case !opts.Lean:
	case opts.KeepFreed:
		runtime.GC()
	default:
		freeOSMemory()
	}
}

// freeOSMemory is debug.FreeOSMemory; a test counts its calls.
var freeOSMemory = debug.FreeOSMemory

// sideOut is the output of the side findings: ARP, ICMP errors and single-frame checks.
type sideOut struct {
	arp    arpOut
	nd     ndOut // IPv6 neighbour discovery (nd.go)
	icmp   icmpOut
	frames map[frameKey]*frameFinding // single-frame findings (bad checksums, wrong outer addresses)
}

// sideFindings numbers the flows (flowIDs) and runs ARP, ICMP errors and single-frame checks. They
// read what is settled before placement (the world, the clocks, the arena, the flows' client tuples)
// and write nothing of the analysis but the flows' ranks (flowIDs), which placement does not read:
// they return their output, and run beside placement, on another core when there is one.
type sideFindings struct {
	done func()
	ids  []string
	out  sideOut
}

func (a *analysis) startSideFindings() *sideFindings {
	sf := &sideFindings{}
	sf.done = beside(func() {
		sf.ids = a.flowIDs()
		sf.out.arp = a.arp()
		sf.out.nd = a.nd()
		sf.out.icmp = a.icmp(sf.ids)
		sf.out.frames = a.early.frames(a)
	})
	return sf
}

// wait returns the side findings' output and the flows' IDs once they are done.
func (sf *sideFindings) wait() (sideOut, []string) {
	sf.done()
	return sf.out, sf.ids
}

// output builds the Result from the settled stages: the findings (anomalies) come last, as they read
// the rest.
func (a *analysis) output(journeys []Journey, ids []string) *Result {
	res := &Result{Schema: Schema, Journeys: journeys}
	dns := captureNames(a.w.c)
	// The streamed flows' UDP pairs are counted first, on another core when there is one, beside
	// what follows up to the segments: allUDPPairs reads the flows' journeys, their first times and the
	// offload marks, which nothing here writes (placement settled them), and writes only the counts it
	// returns, which a.udpN takes once it is done; inputs to segmentOut read the world, the clocks and
	// the segments, not a.udpN (flowDerived, its reader, runs after output, from EachFlow).
	streamed := a.streamsFlows(dns)
	var udpN []int32
	waitUDP := func() {}
	if streamed && stageChunk(&a.opts, 1) > 0 {
		waitUDP = beside(func() { udpN = a.allUDPPairs() })
	} else if streamed {
		udpN = a.allUDPPairs()
	}
	res.Inputs = a.inputs()
	res.Points = a.points()
	res.NodeIPs = a.nodeIPs()
	res.Clocks = a.clockOut()
	res.Modes, res.Mode, res.ModeWhy = a.modeOut()
	res.analysis = a
	a.flowARPWait = a.side.arp.waits // the flows' ARP waits, which EachFlow reads after dropWorking
	if streamed {
		res.flowsStreamed = true
	} else {
		res.Flows = a.flowOut(ids)
	}
	res.Segments = a.segmentOut()
	waitUDP()
	a.udpN = udpN
	res.ARP = a.side.arp.points
	res.ND = a.side.nd.points
	res.ICMP = a.side.icmp.errors
	// names from --k8s (and Gadget captures' own), before the findings read them
	nm := applyCluster(res, a.opts.Cluster, a.opts.IfacePrefix, dns)
	res.Anomalies = (&findings{a: a, ids: ids, res: res}).anomalies()
	a.applyLostSpans(res) // lostspan.go
	a.clockUncertain(res.Anomalies)
	a.stepUncertain(res.Anomalies)
	a.unsureStepped = a.unsureLosses(res.Anomalies)
	a.clockUnfit(res.Anomalies)
	a.retransUncertain(res.Anomalies)
	a.lateUncertain(res.Anomalies) // after clockUncertain: the first reason a reader sees is this one
	a.natUnknownUncertain(res.Anomalies)
	a.routerUncertain(res.Anomalies) // last: a file that may be named wrongly is the first reason to read
	a.natUnknownJourneys(res)
	a.explainDrops(res.Anomalies)
	nameAnomalies(res, nm)
	res.Summary = a.summary(res)
	buf := &journeyBuf{} // the changes only: each journey keeps its hops
	for i := range res.Journeys {
		res.Journeys[i] = a.renderJourney(res.Journeys[i].ID, buf)
	}
	a.dropWorking()
	return res
}

// dropWorking drops, once the Result is built, what the stages needed and FlowJourneys does not: the
// Result keeps the analysis for FlowJourneys (the arena, the flows' journeys, the statuses) as long as
// it lives, in the TUI for the whole session. offloadNew stays: the lab test reads it to tell the
// pieces of split packets. The arena keeps each journey's hops; its per-slot point and time caches
// (6 bytes a hop) go, and each journey's first time too unless the flows are still to be written out
// from the Result (Options.StreamFlows: their UDP pairs read it): rendering reads the observations.
func (a *analysis) dropWorking() {
	a.uf, a.flowOf, a.icmpJ, a.pairMode = unionFind{}, flowIndex{}, nil, nil
	a.dropHopDetail() // hopTs.t0 stays: it points at a.t0
	if !a.opts.StreamFlows || a.udpN != nil {
		a.t0 = times{}
	}
	a.segs, a.segDense = nil, nil
	a.offloadAt, a.merged, a.refusedBy, a.refusedFor = nil, nil, nil, nil
	a.side, a.early = sideOut{}, nil
}

// covered reports whether point p's capture covers corrected time t (coverage.covered).
func (a *analysis) covered(p int, t int64) bool { return a.cov.covered(p, t) }

// journeyOut renders one journey with per-hop deltas and header changes.
func (a *analysis) journeyOut(j int, status, lastSeen, next string, buf *journeyBuf) Journey {
	w := a.w
	jr := Journey{ID: j, Status: status, LastSeen: lastSeen, NextExpected: next, Dir: "c2s", Retrans: a.retransJ[int32(j)]}
	if a.jDir[j] == s2c {
		jr.Dir = "s2c"
	}
	hs := a.hops(j)
	if len(hs) > 0 { // no hops: Hops stays nil
		jr.Hops = buf.hopsFor(len(hs))
	}
	var prev *decode.Observation
	var prevTs int64
	prevPt := -1
	for _, g := range hs {
		o, f := a.obs(g)
		i := int(g - w.fileBase[f])
		t := a.journeys.corrected(o, f, i)
		p := a.w.srcPoint[o.Source]
		hop := Hop{Point: w.c.Points[p].ID, File: w.c.Files[f].Path, Frame: w.c.Stamps[f].Frame(i), Ts: t, TTL: o.TTL,
			Encap: o.Encap().String(), Len: o.Len, TCPFlags: hopTCPFlags(o)}
		if prev != nil {
			hop.DeltaNs = t - prevTs
			hop.Changes = a.hopChanges(buf, prev, o)
			if a.shownClocks { // a latency from a node to another may be a bound, or not known
				hop.ClockBound = a.shownBound(w.pointNode[prevPt], w.pointNode[p])
			}
			if a.looseClocks && hop.ClockBound == "" && hop.DeltaNs < a.looseMax { // loose clocks may leave it uncertain
				if b := a.pairLoose(w.pointNode[prevPt], w.pointNode[p]); hop.DeltaNs < b {
					hop.ClockUncertainNs = b
				}
			}
		}
		if a.wg != nil {
			a.wgHop(&hop, prev, o)
		}
		jr.Hops = append(jr.Hops, hop)
		prev, prevTs, prevPt = o, t, p
	}
	jr.Uncertain = a.natUnsure[int32(j)]
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
	fi := a.flowIndex(flowID)
	if fi < 0 {
		return nil
	}
	fl := a.flows[fi]
	js := append(append([]int32(nil), a.dirJourneys(fl, c2s)...), a.dirJourneys(fl, s2c)...)
	sort.Slice(js, func(x, y int) bool {
		tx, ty := a.ts(a.hops(int(js[x]))[0]), a.ts(a.hops(int(js[y]))[0])
		if tx != ty {
			return tx < ty
		}
		return js[x] < js[y]
	})
	out := make([]Journey, 0, len(js))
	for _, j := range js {
		out = append(out, a.renderJourney(int(j), nil))
	}
	return out
}

// renderJourney renders journey j with its retained status, with what buf (nil: nothing) lends.
func (a *analysis) renderJourney(j int, buf *journeyBuf) Journey {
	var last, next string
	if p := a.jLast[j]; p >= 0 {
		last = a.w.c.Points[p].ID
	}
	if p := a.jNext[j]; p >= 0 {
		next = a.w.c.Points[p].ID
	}
	jr := a.journeyOut(j, a.jStatus[j].String(), last, next, buf)
	if a.jStatus[j] == stLost {
		jr.LostUncaptured = a.lostSpan(a.jLast[j], a.jNext[j])
	}
	if f := a.jFlow[j]; f >= 0 && a.ids != nil {
		jr.Flow = a.ids[f]
	}
	return jr
}
