package correlate

import (
	"net/netip"
	"runtime"
	"sort"

	"github.com/calipath/calipath/decode"
)

// world is the static picture of the capture: nodes, points, pods and node addresses.
type world struct {
	// stepTies: the clock steps of the last findSteps that could be either of two nodes' (one entry
	// per candidate node, tiedWith the other): not corrected.
	stepTies []*clockStep
	// unsplit: per node, why the samples of a pair of its that no line fits show no step the last
	// findSteps resolves (unsplitWhys); said where its clock is left unfitted (unresolvedSteps).
	unsplit   map[int]string
	c         *decode.Capture
	nodes     []string       // sorted node names
	nodeIdx   map[string]int // name → index
	pointNode []int          // point → node
	pointRole []decode.Role
	srcPoint  []int                  // source → point
	fileBase  []uint32               // global observation id of each file's first Observation
	blockFile []uint16               // file of each 2^16-block of ids
	blockObs  [][]decode.Observation // the Observations of each 2^16-block of ids (fewer in a file's last)
	nObs      int                    // size of the id space (with padding)
	// big gives the large per-frame and per-journey arrays their memory (Options.Mapper; nil: the heap).
	big Mapper

	// podOwner maps a pod IPv4 address (as in Observation.Src) to its pod-veth point.
	podOwner map[uint32]int
	podOf    []uint32 // point → pod address (0 when not a pod-veth point or unknown)
	// nodeOfIP maps node IPv4 addresses to nodes.
	nodeOfIP map[uint32]int
	// podOwner6, podOf6 and nodeOfIP6 are the same for IPv6 (addresses as Tables.V6 indexes).
	podOwner6 map[uint32]int
	podOf6    []uint32
	nodeOfIP6 map[uint32]int
	// podOwnMany: the pod-veth points where two or more of the addresses the MACs single out (of one
	// family) sent frames of their own (ownSenders): several pods, whatever their MACs; nil for none.
	podOwnMany map[int]bool
	// ctxNodes gives each header context's sender and receiver node (from its outer addresses), -1
	// when unknown or not encapsulated.
	ctxNodes [][2]int
	ctx      []decode.HdrCtx // the header-context table, copied once (Observation.Ctx indexes it)
	ipsOf    [][]uint32      // node → its IPv4 addresses
	// fragPorts gives later IP fragments the ports of their datagram's first fragment.
	fragPorts map[fragKey][2]uint16
	// blockFlags holds, per file and per flagBlock of its frames, every flag any of those Observations
	// has (learnFragments, which reads every Observation's flags, gathers them), so that a pass after
	// it that looks for a few flagged frames passes over the blocks without them whole (blockHas). Nil:
	// not gathered (a world made in tests).
	blockFlags [][]decode.Flags
	cutQ       cutQuotes // the ICMP errors whose quote was cut before its ports (quotecut.go)
	// cluster marks nodes with a pod-veth or tunnel point (others, such as routers, are underlay only).
	cluster []bool
	// per node: its points by role (sorted by ID)
	podVeths  [][]int
	tunnels   [][]int
	underlays [][]int
	anys      [][]int
	// inferred marks points added because a -i any capture covered them without a frame (see
	// infer.go); nil when there are none. podsOf lists the pods of an inferred pod-veth that stands
	// for several.
	inferred []bool
	podsOf   map[int][]uint32
	// wgIPs are the node IPs learned from WireGuard messages (wireguard.go); wgPeer each node's only
	// WireGuard peer (-1: none or several), nil without WireGuard messages' evidence.
	wgIPs  []decode.NodeIP
	wgPeer []int
	wgOn   bool // some point carried a WireGuard message
	// wgAnyDev marks the unnamed -i any tunnel interfaces taken for a WireGuard device (wgproxy.go).
	wgAnyDev []bool
}

func newWorld(c *decode.Capture, mp Mapper) *world {
	w := &world{c: c, nodeIdx: map[string]int{}, podOwner: map[uint32]int{}, nodeOfIP: map[uint32]int{},
		podOwner6: map[uint32]int{}, nodeOfIP6: map[uint32]int{}, big: mp}
	frags := w.startFragments() // it reads only the Observations, and writes only fragPorts and blockFlags
	w.findNodes()
	w.placePoints()
	w.srcPoint = c.PointOf
	w.idSpace()
	w.nodeAddrs()
	w.wgLearnNodeIPs()
	w.findPods()
	frags()
	w.learnCutQuotes() // quotecut.go
	return w
}

// startFragments learns the fragments' ports (learnFragments) on a goroutine of its own when there is
// more than one core, else inline; the function it returns waits for it to be done.
func (w *world) startFragments() (wait func()) {
	if runtime.GOMAXPROCS(0) > 1 {
		return beside(w.learnFragments)
	}
	w.learnFragments()
	return func() {}
}

// findNodes names the nodes, sorted: those of the points and of the node IPs.
func (w *world) findNodes() {
	c := w.c
	for _, p := range c.Points {
		if _, ok := w.nodeIdx[p.Node]; !ok {
			w.nodeIdx[p.Node] = -1
			w.nodes = append(w.nodes, p.Node)
		}
	}
	for _, ip := range c.NodeIPs {
		if _, ok := w.nodeIdx[ip.Node]; !ok {
			w.nodeIdx[ip.Node] = -1
			w.nodes = append(w.nodes, ip.Node)
		}
	}
	sort.Strings(w.nodes)
	for i, n := range w.nodes {
		w.nodeIdx[n] = i
	}
}

// placePoints gives each point its node and role, and lists each node's points by role.
func (w *world) placePoints() {
	c := w.c
	nn := len(w.nodes)
	w.cluster = make([]bool, nn)
	w.podVeths = make([][]int, nn)
	w.tunnels = make([][]int, nn)
	w.underlays = make([][]int, nn)
	w.anys = make([][]int, nn)
	w.pointNode = make([]int, len(c.Points))
	w.pointRole = make([]decode.Role, len(c.Points))
	w.podOf = make([]uint32, len(c.Points))
	for i, p := range c.Points { // points are sorted by ID, so each role list is too
		n := w.nodeIdx[p.Node]
		w.pointNode[i] = n
		w.pointRole[i] = p.Role
		switch p.Role {
		case decode.RolePodVeth:
			w.podVeths[n] = append(w.podVeths[n], i)
			w.cluster[n] = true
		case decode.RoleTunnel:
			w.tunnels[n] = append(w.tunnels[n], i)
			w.cluster[n] = true
		case decode.RoleUnderlay:
			w.underlays[n] = append(w.underlays[n], i)
		case decode.RoleAny:
			w.anys[n] = append(w.anys[n], i)
			w.cluster[n] = true
		}
	}
}

// idSpace lays out the global observation ids.
func (w *world) idSpace() {
	c := w.c
	// Global observation ids: each file's range starts on a multiple of 2^16 so that the file of an id
	// is one table lookup (blockFile[id>>16]).
	w.fileBase = make([]uint32, len(c.Obs)+1)
	for i, obs := range c.Obs {
		w.fileBase[i+1] = w.fileBase[i] + uint32((len(obs)+0xffff)&^0xffff)
	}
	w.nObs = int(w.fileBase[len(c.Obs)])
	w.blockFile = make([]uint16, w.nObs>>16)
	w.blockObs = make([][]decode.Observation, w.nObs>>16)
	for f, obs := range c.Obs {
		for b := w.fileBase[f] >> 16; b < w.fileBase[f+1]>>16; b++ {
			lo := int(b-w.fileBase[f]>>16) << 16
			w.blockFile[b], w.blockObs[b] = uint16(f), obs[lo:min(lo+1<<16, len(obs))]
		}
	}
}

// nodeAddrs maps the node IPs to their nodes, and each encapsulating header context to its sender and
// receiver node.
func (w *world) nodeAddrs() {
	c := w.c
	for _, ip := range c.NodeIPs {
		if ip.IP.Is4() {
			w.nodeOfIP[ip4(ip.IP)] = w.nodeIdx[ip.Node]
		} else {
			w.nodeOfIP6[c.Tables.InternV6(ip.IP.As16())] = w.nodeIdx[ip.Node]
		}
	}
	w.ctx = c.Tables.CtxAll()
	w.ctxNodes = make([][2]int, len(w.ctx))
	for i := range w.ctx {
		x := &w.ctx[i]
		w.ctxNodes[i] = [2]int{-1, -1}
		if x.Encap == decode.EncapNone {
			continue
		}
		for k, a := range []netip.Addr{x.OuterSrcAddr(), x.OuterDstAddr()} {
			switch {
			case a.Is4():
				if n, ok := w.nodeOfIP[ip4(a)]; ok {
					w.ctxNodes[i][k] = n
				}
			case a.Is6():
				if n, ok := w.nodeOfIP6[c.Tables.InternV6(a.As16())]; ok {
					w.ctxNodes[i][k] = n
				}
			}
		}
	}
	w.ipsOf = make([][]uint32, len(w.nodes))
	for ip, n := range w.nodeOfIP {
		w.ipsOf[n] = append(w.ipsOf[n], ip)
	}
}

// ctxOf returns an Observation's header context.
func (w *world) ctxOf(o *decode.Observation) *decode.HdrCtx {
	if int(o.Ctx) < len(w.ctx) {
		return &w.ctx[o.Ctx]
	}
	return &decode.HdrCtx{}
}

func ip4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrOf(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// podCand is one address seen on a pod-veth point and how often.
type podCand struct {
	addr uint32
	n    int
	own  int // frames it sent with an initial TTL (64, 128, 255): not yet routed, so from the pod itself
}

// podCands counts how often each address appears on one pod-veth point (at most 64 distinct), in the
// order first seen: list[:n]. idx finds an address's count without a scan of them all: an
// open-addressed table of positions + 1 (0: empty slot) by a byte of the address's hash (a slot
// index wraps around by itself), at most 64 of its 256 slots taken, so a probe ends within a few.
type podCands struct {
	n    uint8
	idx  [256]uint8
	list [64]podCand
}

func (cs *podCands) bump(a uint32) { cs.add(a, 0) }

// add counts address a once, and own more of its frames that were the pod's own.
func (cs *podCands) add(a uint32, own int) { cs.addN(a, 1, own) }

// addN counts address a n times, own of them the pod's own frames; an address first seen when 64 are
// counted already is not counted.
func (cs *podCands) addN(a uint32, n, own int) {
	h := uint8(a * 0x9e3779b1 >> 24)
	for k := cs.idx[h]; k != 0; k = cs.idx[h] {
		if c := &cs.list[k-1]; c.addr == a {
			c.n += n
			c.own += own
			return
		}
		h++
	}
	if cs.n < 64 {
		cs.list[cs.n] = podCand{a, n, own}
		cs.n++
		cs.idx[h] = cs.n
	}
}

// ownTTL is 1 for a frame sent with a TTL a host starts with (initialTTL): not yet routed, so the pod's
// own on its veth; else 0.
func ownTTL(ttl uint8) uint32 {
	if initialTTL(ttl) {
		return 1
	}
	return 0
}

// podPairs gathers findPods' IPv4 frames by (pod-veth point, source, destination) before they are
// counted (podCands): a veth carries its pod's conversations with a few peers, so most frames find
// their pair at the first slot looked at and are counted with one addition, where counting each of
// their two addresses took two lookups. flush counts the pairs gathered so far, in the order each was
// first seen, each source before its destination: every address is first counted where the frame
// that first showed it would have counted it, so the counts, their order and the addresses past the
// 64th left out are the same as counting frame by frame. An ARP request's sender, counted on its own,
// is counted after a flush (findPods), for the same reason. The pairs are kept in the slots of their
// open-addressed index itself (found with one load less than through a list), and order lists their
// slots as first seen. newPodPairs makes one.
type podPairs struct {
	counts []podCands
	n      int
	order  [podPairMax]uint16 // the slots of the pairs gathered, in the order first seen
	slots  [podPairSlots]podPair
}

// podPair is the frames of one (point, source, destination) gathered so far.
type podPair struct {
	key uint64 // source << 32 | destination
	pi  int32  // -1: an empty slot
	nw  uint64 // frames << 32 | those sent with an initial TTL (ownTTL)
}

const (
	podPairSlots = 512                                       // podPairs' index: open addressing, twice the pairs at most
	podPairMax   = 256                                       // pairs gathered before a flush
	podPairShift = 64 - 9                                    // a hash's top bits index podPairSlots
	_            = uint(podPairSlots - 2*podPairMax)         // (room for the pairs: the slots' probes end)
	_            = uint(1<<(64-podPairShift) - podPairSlots) // the top bits cover the slots
)

// newPodPairs returns an empty podPairs that counts into counts (by point).
func newPodPairs(counts []podCands) *podPairs {
	pp := &podPairs{counts: counts}
	for i := range pp.slots {
		pp.slots[i].pi = -1
	}
	return pp
}

// podPairHash is where podPairs' index looks for pair key of point pi first.
func podPairHash(pi int32, key uint64) uint {
	return uint((key + uint64(pi)) * 0x9e3779b97f4a7c15 >> podPairShift)
}

// run gathers the frames of chunk from k on, as add would, while they are the usual ones: IPv4 frames
// of a pod-veth point (srcPod) whose pair is at its first slot. It passes over the frames of no
// pod-veth point and those not IP (findPods counts none of them), and returns the index of the first
// frame it leaves to findPods (an IPv6 or ARP frame, or a pair not at its first slot), or len(chunk).
// Without a call in its loop, its values stay in registers (findPods' own loop, with its calls,
// spilled and reloaded them at every frame).
func (pp *podPairs) run(chunk []decode.Observation, k int, srcPod []int32) int {
	rest, slots := chunk[k:], &pp.slots
	for i := range rest {
		o := &rest[i]
		pi := srcPod[o.Source]
		if pi < 0 {
			continue
		}
		if f := o.Flags; f&(decode.FlagNotIP|decode.FlagIPv6|decode.FlagARP) != 0 {
			if f&decode.FlagNotIP != 0 {
				continue
			}
			return k + i
		}
		key := uint64(o.Src)<<32 | uint64(o.Dst)
		e := &slots[podPairHash(pi, key)]
		if e.key != key || e.pi != pi {
			return k + i
		}
		e.nw += ownTTLs[o.TTL]
	}
	return len(chunk)
}

// ownTTLs is a frame's count in podPair.nw by its TTL: 1 << 32 | ownTTL.
var ownTTLs = func() (t [256]uint64) {
	for ttl := range t {
		t[ttl] = 1<<32 | uint64(ownTTL(uint8(ttl)))
	}
	return t
}()

// add gathers a frame of point pi from src to dst, own (ownTTL) if it was sent with an initial TTL.
// (findPods has the usual frame's case, its pair at its first slot, in its loop: see there.)
func (pp *podPairs) add(pi int32, src, dst, own uint32) {
	key := uint64(src)<<32 | uint64(dst)
	pp.addSlow(pi, key, podPairHash(pi, key), own)
}

// addSlow gathers a frame of point pi whose pair is key, own as in add, looking from slot h on: a pair
// not at its first slot, or new (after a flush when podPairMax are gathered).
func (pp *podPairs) addSlow(pi int32, key uint64, h uint, own uint32) {
	for {
		for i := h; ; i = (i + 1) & (podPairSlots - 1) {
			e := &pp.slots[i]
			if e.pi < 0 {
				if pp.n == podPairMax {
					break
				}
				*e = podPair{key: key, pi: pi, nw: 1<<32 | uint64(own)}
				pp.order[pp.n] = uint16(i)
				pp.n++
				return
			}
			if e.key == key && e.pi == pi {
				e.nw += 1<<32 | uint64(own)
				return
			}
		}
		pp.flush()
	}
}

// flush counts the pairs gathered (see podPairs) and empties the index.
func (pp *podPairs) flush() {
	for _, i := range pp.order[:pp.n] {
		e := &pp.slots[i]
		cs := &pp.counts[e.pi]
		cs.addN(uint32(e.key>>32), int(e.nw>>32), int(uint32(e.nw)))
		cs.addN(uint32(e.key), int(e.nw>>32), 0)
		e.pi = -1
	}
	pp.n = 0
}

// counted returns the addresses counted, in the order first seen.
func (cs *podCands) counted() []podCand { return cs.list[:cs.n] }

// sent counts a frame a sent with TTL ttl: a frame not yet routed (an initial TTL) is the pod's own.
func (cs *podCands) sent(a uint32, ttl uint8) { cs.add(a, int(ownTTL(ttl))) }

// podARP is 1 for the ARP request of index seq in arps (Tables.ARPAll) when a pod sent it itself (its sender's MAC is not the host end's,
// ee:ee:ee:ee:ee:ee): its sender address is the pod's own; else 0.
func podARP(arps []decode.ARP, seq uint32) int {
	if int(seq) >= len(arps) || arps[seq].SHA != decode.CalicoMAC {
		return 1
	}
	return 0
}

// best returns the most frequent address among those in mine (all when mine is empty), the lowest
// on a tie; ok is false when there is none. Without MACs to single the pod out (mine empty), the
// addresses of both ends of its conversations are as frequent: a tie goes to the one that sent frames
// with an initial TTL (the pod's own, not yet routed), and stays unknown when that does not decide it.
// Among the addresses the MACs single out, one the pod sent frames of its own from (an initial TTL,
// or ARP requests from its MAC) comes before any it did not: a pod that forwards others' packets and
// rewrites them in its own namespace (an egress gateway) carries the far side's address in both
// directions, more often than its own, which only its masqueraded packets and their replies carry.
func (cs *podCands) best(mine map[uint32]bool) (addr uint32, ok bool) {
	n, own, tied := 0, 0, false
	for _, c := range cs.counted() {
		if len(mine) > 0 && !mine[c.addr] {
			continue
		}
		if len(mine) > 0 && n > 0 && (c.own > 0) != (own > 0) {
			if c.own > 0 {
				addr, n, own = c.addr, c.n, c.own
			}
			continue
		}
		switch {
		case c.n > n || (c.n == n && len(mine) == 0 && c.own > own):
			addr, n, own, tied = c.addr, c.n, c.own, false
		case c.n == n && len(mine) == 0 && c.own == own:
			tied = true
		case c.n == n && len(mine) > 0 && c.addr < addr:
			addr = c.addr
		}
	}
	return addr, n > 0 && !tied
}

// podAddr6 reports whether the IPv6 address of index a (Tables.V6) can be a pod's (decode.PodAddr6).
func (w *world) podAddr6(a uint32) bool { return decode.PodAddr6(w.c.Tables.V6(a).As16()) }

// srcPodVeth returns each source's point when it is a pod's veth, else -1: findPods' one load a frame.
func (w *world) srcPodVeth() []int32 {
	srcPod := make([]int32, len(w.srcPoint))
	for s, p := range w.srcPoint {
		srcPod[s] = -1
		if w.pointRole[p] == decode.RolePodVeth {
			srcPod[s] = int32(p)
		}
	}
	return srcPod
}

// findPods finds the pod behind each pod-veth point: the IPv4 address in most of its IP frames (a
// pod's veth carries only that pod's traffic), or the sender of ARP requests on it. IPv6 addresses
// are counted apart (a dual-stack pod has one of each).
func (w *world) findPods() {
	least := 0 // one pass
	if runtime.GOMAXPROCS(0) > 1 {
		least = podSplit
	}
	counts, counts6 := w.podCounts(least)
	w.podsFromCounts(counts, counts6)
	w.dropForeignPods(counts)
	w.cookedPods() // anypods.go
	w.orphanPods()
}

// podSplit is how many pod-veth frames make it worth counting them on two goroutines.
const podSplit = 1 << 16

// podCounts counts the addresses of each pod-veth point's frames (IPv4, and IPv6 apart): findPods'
// pass over the frames. With least > 0, when the pod files hold least frames or more, they are
// counted in two sets (podHalves) whose pod-veth points do not meet, the second on a goroutine of its
// own: each point's counts are its own frames' alone, added in their order (podPairs.flush touches
// only the counts of the points it gathered, and when it runs changes nothing), so the counts are
// those of one pass, whichever way they were made.
func (w *world) podCounts(least int) (counts, counts6 []podCands) {
	counts = make([]podCands, len(w.c.Points))
	counts6 = make([]podCands, len(w.c.Points))
	podFile := w.filesWith(func(p int) bool { return w.pointRole[p] == decode.RolePodVeth })
	srcPod := w.srcPodVeth()
	halves, n := w.podHalves(podFile, srcPod)
	if least <= 0 || n < least || halves[1] == nil {
		w.countPods(podFile, srcPod, counts, counts6)
		return counts, counts6
	}
	wait := beside(func() { w.countPods(halves[1], srcPod, counts, counts6) })
	w.countPods(halves[0], srcPod, counts, counts6)
	wait()
	return counts, counts6
}

// podHalves parts the files podFile marks in two sets, each marked in its own list, such that no
// pod-veth point (srcPod) has frames in both (files that share one go together), their frames about
// even: the groups of files, largest first, each to the set with fewer frames so far. n is the
// frames of all those files. The sets depend on the capture alone.
func (w *world) podHalves(podFile []bool, srcPod []int32) (halves [2][]bool, n int) {
	nf := len(w.c.Obs)
	group := make([]int, nf) // union-find over the files
	for f := range group {
		group[f] = f
	}
	root := func(f int) int {
		for group[f] != f {
			group[f] = group[group[f]]
			f = group[f]
		}
		return f
	}
	first := make([]int, len(w.c.Points)) // 1 + a file of each pod-veth point (0: none yet)
	for s, src := range w.c.Sources {
		f := int(src.File)
		if f >= nf || s >= len(srcPod) || srcPod[s] < 0 {
			continue
		}
		pi := srcPod[s]
		if first[pi] == 0 {
			first[pi] = f + 1
			continue
		}
		if a, b := root(first[pi]-1), root(f); a != b {
			group[max(a, b)] = min(a, b)
		}
	}
	size := make([]int, nf)
	for f, obs := range w.c.Obs {
		if podFile[f] {
			size[root(f)] += len(obs)
			n += len(obs)
		}
	}
	var roots []int
	for f := range size {
		if size[f] > 0 {
			roots = append(roots, f)
		}
	}
	sort.SliceStable(roots, func(i, j int) bool { return size[roots[i]] > size[roots[j]] })
	halves = [2][]bool{make([]bool, nf), make([]bool, nf)}
	var sum [2]int
	side := make([]int, nf)
	for _, r := range roots {
		h := 0
		if sum[1] < sum[0] {
			h = 1
		}
		side[r] = h
		sum[h] += size[r]
	}
	for f := range podFile {
		if podFile[f] && size[root(f)] > 0 {
			halves[side[root(f)]][f] = true
		}
	}
	if sum[1] == 0 {
		halves[1] = nil
	}
	return halves, n
}

// countPods counts the addresses of the pod-veth frames of the files files marks into counts and
// counts6 (by point), in file order and each file's frames in order: podCounts' pass over them.
func (w *world) countPods(files []bool, srcPod []int32, counts, counts6 []podCands) {
	pairs := newPodPairs(counts)
	arps := w.c.Tables.ARPAll() // read without the tables' lock (Tables.ARP takes it a request)
	for f, obs := range w.c.Obs {
		if !files[f] {
			continue
		}
		for lo := 0; lo < len(obs); lo += trimRun {
			chunk := trimChunk(obs, lo)
			for k := 0; k < len(chunk); k++ {
				// The usual frames in a loop without calls (podPairs.run); here, the rest.
				if k = pairs.run(chunk, k, srcPod); k == len(chunk) {
					break
				}
				o := &chunk[k]
				pi := srcPod[o.Source]
				switch {
				case o.Flags&decode.FlagIPv6 != 0:
					// Only addresses a pod can have: a veth also carries its pod's router solicitations
					// (from its link-local address) and neighbour discovery to multicast addresses.
					if w.podAddr6(o.Src) {
						counts6[pi].sent(o.Src, o.TTL)
					}
					if w.podAddr6(o.Dst) {
						counts6[pi].bump(o.Dst)
					}
				case o.Flags&decode.FlagARP != 0:
					if o.Sport == 1 && o.Src != 0 { // request: the sender is the pod
						pairs.flush() // (the frames before it first)
						counts[pi].add(o.Src, podARP(arps, o.Seq))
					}
				default: // pairs.add, a pair not at its first slot (run has the rest)
					key := uint64(o.Src)<<32 | uint64(o.Dst)
					pairs.addSlow(pi, key, podPairHash(pi, key), ownTTL(o.TTL))
				}
			}
			w.trimAt(lo + len(chunk) - 1)
		}
	}
	pairs.flush()
}

// podsFromCounts gives each pod-veth point the pod address its counts (findPods) single out, among the
// addresses its frames' MACs say a pod sent or was delivered, and each such address its first point.
func (w *world) podsFromCounts(counts, counts6 []podCands) {
	w.podOf6 = make([]uint32, len(w.c.Points))
	for pi := range w.c.Points {
		// The addresses the MACs single out: what the pod sent (to ee:ee:ee:ee:ee:ee) and what its host
		// delivered to it (from ee:ee:ee:ee:ee:ee). Among them, the most frequent is the pod's.
		tr := &w.c.Points[pi].Traffic
		mine := map[uint32]bool{}
		for i := 0; i < tr.NPodSrc; i++ {
			mine[ip4(netip.AddrFrom4(tr.PodSrcs[i]))] = true
		}
		for i := 0; i < tr.NPodDst; i++ {
			mine[ip4(netip.AddrFrom4(tr.PodDsts[i]))] = true
		}
		w.noteOwnSenders(pi, counts[pi].ownSenders(mine))
		if a, ok := counts[pi].best(mine); ok {
			w.podOf[pi] = a
			if _, dup := w.podOwner[a]; !dup {
				w.podOwner[a] = pi
			}
		}
		mine6 := map[uint32]bool{}
		for i := 0; i < tr.NPodSrc6; i++ {
			mine6[w.c.Tables.InternV6(tr.PodSrcs6[i])] = true
		}
		for i := 0; i < tr.NPodDst6; i++ {
			mine6[w.c.Tables.InternV6(tr.PodDsts6[i])] = true
		}
		w.noteOwnSenders(pi, counts6[pi].ownSenders(mine6))
		if a, ok := counts6[pi].best(mine6); ok {
			w.podOf6[pi] = a
			if _, dup := w.podOwner6[a]; !dup {
				w.podOwner6[a] = pi
			}
		}
	}
}

// ownSenders counts the addresses in mine (the addresses a pod-veth point's MACs single out) that
// sent frames of their own there (an initial TTL, or an ARP request from a pod's MAC): each is a
// pod's own address. A pod that forwards others' packets (an egress gateway) sends its own from one.
func (cs *podCands) ownSenders(mine map[uint32]bool) int {
	n := 0
	for _, c := range cs.counted() {
		if c.own > 0 && mine[c.addr] {
			n++
		}
	}
	return n
}

// noteOwnSenders notes that pod-veth point pi has n own senders (ownSenders) of one family: two or
// more are several pods (podOwnMany).
func (w *world) noteOwnSenders(pi, n int) {
	if n < 2 {
		return
	}
	if w.podOwnMany == nil {
		w.podOwnMany = map[int]bool{}
	}
	w.podOwnMany[pi] = true
}

// dropForeignPods leaves a pod-veth point's IPv4 pod unknown when a point on another node has the same
// address and, unlike it, frames that pod sent itself (an initial TTL): the address is that node's
// pod, which frames in from the wire put on this point too (a cooked v1 -i any capture read as a
// stream cannot tell them from a pod's).
func (w *world) dropForeignPods(counts []podCands) {
	own := func(pi int, a uint32) int {
		for _, c := range counts[pi].counted() {
			if c.addr == a {
				return c.own
			}
		}
		return 0
	}
	byAddr := map[uint32][]int{}
	for pi, a := range w.podOf {
		if a != 0 {
			byAddr[a] = append(byAddr[a], pi)
		}
	}
	for a, ps := range byAddr {
		for _, pi := range ps {
			for _, pj := range ps {
				if w.pointNode[pj] != w.pointNode[pi] && own(pi, a) == 0 && own(pj, a) > 0 {
					w.podOf[pi] = 0
					if w.podOwner[a] == pi {
						w.podOwner[a] = pj
					}
					break
				}
			}
		}
	}
}

// ownerOf returns the pod-veth point of a pod address (IPv4, or an IPv6 Tables index).
func (w *world) ownerOf(v6 bool, a uint32) (int, bool) {
	if v6 {
		p, ok := w.podOwner6[a]
		return p, ok
	}
	p, ok := w.podOwner[a]
	return p, ok
}

// ownerCache is a small direct-mapped cache in front of ownerOf and nodeOf: a pass over every journey
// asks for the same few pod addresses again and again.
type ownerCache struct {
	w    *world
	ents [256]ownerEnt
}

// ownerEnt is an address's entry in the ownerCache: the key and both answers in 16 bytes, one cache
// line for a look-up.
type ownerEnt struct {
	addr    uint32 // the address
	v6, set bool   // whether it is IPv6 (an IPv6 Tables index); set once filled
	val     int32  // its owner point, -1 for none
	node    int32  // its node (nodeOf), -1 for none
}

// slot returns the cache entry of an address, filled.
func (c *ownerCache) slot(v6 bool, a uint32) *ownerEnt {
	e := c.entry(a)
	if !e.holds(v6, a) {
		c.fill(e, v6, a)
	}
	return e
}

// entry is the cache entry for address a, which may hold another address.
func (c *ownerCache) entry(a uint32) *ownerEnt { return &c.ents[uint8((a*0x9e3779b1)>>24)] }

// holds reports whether e is address a's.
func (e *ownerEnt) holds(v6 bool, a uint32) bool { return e.addr == a && e.v6 == v6 && e.set }

// fill sets entry e to address a's.
//
//go:noinline
func (c *ownerCache) fill(e *ownerEnt, v6 bool, a uint32) {
	p, ok := c.w.ownerOf(v6, a)
	if !ok {
		p = -1
	}
	*e = ownerEnt{a, v6, true, int32(p), int32(c.w.nodeOf(v6, a))}
}

func (c *ownerCache) ownerOf(v6 bool, a uint32) (int, bool) {
	p := int(c.slot(v6, a).val)
	return p, p >= 0
}

// both returns nodeOf and ownerOf of an address (-1 for none) from one look-up.
func (c *ownerCache) both(v6 bool, a uint32) (node, owner int) {
	e := c.slot(v6, a)
	return int(e.node), int(e.val)
}

// nodeOf is world.nodeOf, cached.
func (c *ownerCache) nodeOf(v6 bool, a uint32) int { return int(c.slot(v6, a).node) }

// nodeOf returns the node an address belongs to (a pod's node or a node IP), or -1.
func (w *world) nodeOf(v6 bool, a uint32) int {
	if pi, ok := w.ownerOf(v6, a); ok {
		return w.pointNode[pi]
	}
	return w.nodeOfIPOnly(v6, a)
}

// orphanPods finds the pods behind pod-veth points that saw no traffic (a drop before delivery): an
// address that packets were headed to on a node — the inner destination of frames encapsulated to
// the node's IP, or seen at its tunnel point — belongs to the node's only unowned pod-veth, when both
// are the only ones of their kind on that node. IPv4 and IPv6 are placed apart and alike (a
// dual-stack pod has one address of each): an IPv6 pod's /128 goes to the node's only pod-veth
// without an IPv6 pod.
func (w *world) orphanPods() {
	fams := [2]orphanFamily{{podOf: w.podOf, podOwner: w.podOwner, nodeOfIP: w.nodeOfIP},
		{podOf: w.podOf6, podOwner: w.podOwner6, nodeOfIP: w.nodeOfIP6}}
	// IPv6 only where IPv6 was seen to matter: a node's IPv6 address or an IPv6 pod (an IPv4 cluster's
	// captures then skip the pass over the frames, as before IPv6 was placed).
	has6 := len(w.nodeOfIP6) > 0
	for _, a := range w.podOf6 {
		has6 = has6 || a != 0
	}
	some4 := fams[0].free(w)
	if some6 := has6 && fams[1].free(w); !some4 && !some6 {
		return
	}
	outerDst := w.outerDstNodes()
	for _, obs := range w.c.Obs {
		for i := range obs {
			o := &obs[i]
			if o.Flags&(decode.FlagNotIP|decode.FlagARP) != 0 {
				continue
			}
			fam := &fams[0]
			if o.Flags&decode.FlagIPv6 != 0 {
				fam = &fams[1]
			}
			if !fam.some {
				continue
			}
			n := -1
			pi := w.srcPoint[o.Source]
			switch {
			case o.Encap() != decode.EncapNone:
				if int(o.Ctx) < len(outerDst) {
					n = outerDst[o.Ctx]
				}
			case w.wgPeer != nil && w.wgDevice(pi):
				n = w.wgPeer[w.pointNode[pi]] // headed out through WireGuard: to the node's peer
			case w.pointRole[pi] == decode.RoleTunnel:
				n = w.pointNode[pi]
			}
			if n < 0 {
				continue
			}
			if _, owned := fam.podOwner[o.Dst]; owned {
				continue
			}
			if _, isNode := fam.nodeOfIP[o.Dst]; isNode {
				continue
			}
			// Only an address a pod can have: IPv6's neighbour discovery and router solicitations
			// (to multicast and link-local addresses) are no pod's.
			if fam == &fams[1] && !w.podAddr6(o.Dst) {
				continue
			}
			if fam.heading[n] == nil {
				fam.heading[n] = map[uint32]bool{}
			}
			if len(fam.heading[n]) < 8 {
				fam.heading[n][o.Dst] = true
			}
		}
	}
	for f := range fams {
		fams[f].place(w)
	}
}

// outerDstNodes returns the node of each encapsulating header context's outer destination, of either
// family (-1: none known, or not encapsulated), as the node IPs are known now.
func (w *world) outerDstNodes() []int {
	outerDst := make([]int, len(w.ctx))
	for i := range w.ctx {
		outerDst[i] = -1
		x := &w.ctx[i]
		if x.Encap == decode.EncapNone {
			continue
		}
		var n int
		var ok bool
		switch a := x.OuterDstAddr(); {
		case a.Is4():
			n, ok = w.nodeOfIP[ip4(a)]
		case a.Is6():
			n, ok = w.nodeOfIP6[w.c.Tables.InternV6(a.As16())]
		}
		if ok {
			outerDst[i] = n
		}
	}
	return outerDst
}

// orphanFamily is orphanPods' state for one address family (IPv6: addresses as Tables.V6 indexes):
// the world's maps of that family, each node's count of pod-veths without a pod of it, and the
// unowned addresses that packets were headed to on each node.
type orphanFamily struct {
	podOf              []uint32
	podOwner, nodeOfIP map[uint32]int
	freeOn             []int
	some               bool // a node has exactly one such pod-veth
	heading            []map[uint32]bool
}

// free counts each node's pod-veths without a pod of the family, and reports whether a node has
// exactly one (only such a node can have one to find).
func (f *orphanFamily) free(w *world) bool {
	f.freeOn = make([]int, len(w.nodes))
	f.heading = make([]map[uint32]bool, len(w.nodes))
	for n := range w.nodes {
		for _, p := range w.podVeths[n] {
			if f.podOf[p] == 0 {
				f.freeOn[n]++
			}
		}
		f.some = f.some || f.freeOn[n] == 1
	}
	return f.some
}

// place gives the address packets were headed to on a node to its only pod-veth without a pod, when
// that address is the only one.
func (f *orphanFamily) place(w *world) {
	for n, addrs := range f.heading {
		if len(addrs) != 1 || f.freeOn[n] != 1 {
			continue
		}
		var free []int
		for _, p := range w.podVeths[n] {
			if f.podOf[p] == 0 {
				free = append(free, p)
			}
		}
		if len(free) != 1 {
			continue
		}
		for a := range addrs {
			f.podOf[free[0]] = a
			f.podOwner[a] = free[0]
		}
	}
}

// filesWith reports for each file whether any of its capture sources is at a point for which pred
// holds (a pass that needs only some points' frames can skip the other files).
func (w *world) filesWith(pred func(point int) bool) []bool {
	out := make([]bool, len(w.c.Obs))
	for s, src := range w.c.Sources {
		if int(src.File) < len(out) && s < len(w.srcPoint) && pred(w.srcPoint[s]) {
			out[src.File] = true
		}
	}
	return out
}

// oneNode reports whether all of file f's capture sources are on one node.
func (w *world) oneNode(f int) bool {
	node := -1
	for s, src := range w.c.Sources {
		if int(src.File) != f || s >= len(w.srcPoint) {
			continue
		}
		n := w.pointNode[w.srcPoint[s]]
		if node >= 0 && n != node {
			return false
		}
		node = n
	}
	return true
}

// frameOf returns the frame number of Observation g in its file.
func (w *world) frameOf(g uint32) uint32 {
	f := int(w.blockFile[g>>16])
	return w.c.Stamps[f].Frame(int(g - w.fileBase[f]))
}

// obsAt returns the Observation with global id g and its file.
func (w *world) obsAt(g uint32) (*decode.Observation, int) {
	return &w.blockObs[g>>16][g&0xffff], int(w.blockFile[g>>16])
}
