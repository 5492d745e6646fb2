package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"time"
)

// A node's captures merged into one file (mergecap -w node-a.pcap -F pcap node-a-cali*.pcap
// node-a-eth0.pcap): one Ethernet interface and no interface ids, so each packet is there once per
// interface it crossed, with that interface's link addresses. Taken as one capture point, the same
// packet seen at the pod's veth and at eth0 looks like duplicates and retransmissions. learnMerged
// tells such a file from a bounded prefix (probeMerged: mergeProbe records at least, on while they
// do not tell up to mergeProbeBytes, read once more before the scan, like learnSLL; a stream's kept
// and given again, prefixReader): some packets (at least minMergedDup) are there at two stages, by their stage signatures,
// or (WireGuard encrypts what the veth carries) IP frames of a pod's veth are there with encapsulated
// or WireGuard frames between other MACs, which no one interface of a Calico node carries both; and
// the scan then files each frame under a stage of its own, a capture source with a pseudo
// interface number (MergedIface + stage): what carries ee:ee:ee:ee:ee:ee, Calico's veth MAC, is a
// pod's veth (one per pod MAC), what is between two VXLAN VTEP MACs (66:…) the tunnel device, and
// the rest (encapsulated frames, node MACs) the underlay.

// MergedIface is the first pseudo interface number (Source.Iface) of a merged capture's stages: +0
// the underlay, +1 the tunnel device, +2+k the veth of the k-th pod MAC met (at most mergedPods).
const MergedIface = 0xff00

const (
	mergeProbe   = 4096 // records of a file's prefix read at least to take it for a merged capture
	minMergedDup = 4    // packets seen at two stages of the prefix that make it one
	// and, without such packets, the IP frames of a pod's veth and the encapsulated or WireGuard frames
	// between other MACs (handshakes only, when WireGuard is blocked) that make it one
	minMergedCarried = 2
	mergedPods       = 64 // pod MACs told apart; the rest share the last veth stage
	// answered traffic of one stage only (one kind, at most one pod MAC) over a prefix of mergeProbe
	// records makes a file of one interface (probeState.single); mergeAnswered (a quarter of this) is
	// how many of its frames must be answers
	mergeOneStage = 1024
)

// Stages of a merged capture, as offsets from MergedIface.
const (
	mergedUnderlay = iota
	mergedTunnel
	mergedVeth
)

// mergedLocal is what learnMerged found of a merged capture: its pods' MACs, each with its veth stage.
type mergedLocal struct {
	pods map[[6]byte]int
	ips  map[[16]byte]int // the pods' addresses (what they sent to their host) → their stage
}

var broadcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// mergedKind is the stage kind of a frame of a merged capture (mergedUnderlay, mergedTunnel,
// mergedVeth) and, for a veth, the pod's MAC.
func mergedKind(p *Packet) (kind int, pod [6]byte) {
	switch {
	case !p.HasEth:
		return mergedUnderlay, pod
	case p.HasARP && p.Encap == EncapNone:
		switch {
		case p.ARP.SHA == CalicoMAC: // the host's (proxy) reply to its pod, or its request (a broadcast one: pod zero)
			if p.ARP.THA != ([6]byte{}) && p.ARP.THA != broadcastMAC {
				return mergedVeth, p.ARP.THA
			}
			if p.DstMAC != broadcastMAC {
				return mergedVeth, p.DstMAC
			}
			return mergedVeth, pod
		case p.ARP.TPA == CalicoGateway || p.ARP.THA == CalicoMAC || p.DstMAC == CalicoMAC: // the pod asks its host
			return mergedVeth, p.ARP.SHA
		}
		return mergedUnderlay, pod
	case p.SrcMAC == CalicoMAC && p.DstMAC[0]&1 != 0 && linkScope6(p):
		// The host's IPv6 neighbour discovery to a multicast MAC (its solicitation for its pod's address,
		// at the solicited-node address): pod zero, as its broadcast ARP request, which stage files under
		// the pod the solicitation asks for.
		return mergedVeth, pod
	case p.SrcMAC == CalicoMAC: // also a pod's own tunnel's frames: the veth carries them
		return mergedVeth, p.DstMAC
	case p.DstMAC == CalicoMAC, gatewayND(p): // gatewayND: the pod asks for its IPv6 gateway, to a multicast MAC
		return mergedVeth, p.SrcMAC
	case p.Encap != EncapNone || p.HasWG || p.Inner.Version == 0:
		return mergedUnderlay, pod
	case p.SrcMAC[0] == 0x66 && p.DstMAC[0] == 0x66:
		return mergedTunnel, pod
	}
	return mergedUnderlay, pod
}

// stage returns the pseudo interface number of a merged capture's frame, learning pod MACs the
// prefix did not show (up to mergedPods).
func (m *mergedLocal) stage(p *Packet) int {
	kind, pod := mergedKind(p)
	if kind == mergedUnderlay && linkScope6(p) && p.HasEth {
		// An IPv6 link message from a pod's MAC to a multicast MAC (its router solicitation, its
		// multicast listener reports): that pod's veth carried it; from another MAC, the node's.
		if k, ok := m.pods[p.SrcMAC]; ok {
			return MergedIface + mergedVeth + k
		}
	}
	if kind != mergedVeth {
		return MergedIface + kind
	}
	if pod == ([6]byte{}) { // the host's broadcast request for a pod's address: that pod's veth
		var a [16]byte
		if p.HasARP {
			copy(a[:4], p.ARP.TPA[:]) // IPHdr keeps an IPv4 address in its first 4 bytes
		} else if p.HasICMP && p.ICMP.Type == 135 && len(p.Payload) >= 16 {
			a = [16]byte(p.Payload[:16]) // the IPv6 solicitation's target
		}
		return MergedIface + mergedVeth + m.ips[a]
	}
	k, ok := m.pods[pod]
	if !ok {
		k = min(len(m.pods), mergedPods-1)
		if len(m.pods) < mergedPods {
			m.pods[pod] = k
		}
	}
	return MergedIface + mergedVeth + k
}

// probeLeft is how the merged probe left a file it did not take for merged, when the rest of the file
// may still show it merged (lateMerged): its prefix was one interface's (probeState.single), or the
// probe reached its byte bound (mergeProbeBytes) without telling.
type probeLeft struct {
	single, limit bool
	records       int // the records the probe read
	// routed counts the packets the probe saw twice between other MACs than ee:ee:ee:ee:ee:ee, the second
	// time within routedWin with the TTL one lower and other link addresses: a router's interfaces
	// merged into one file (routedProblem)
	routed int
}

// learnMerged reads the prefix of the file at path and returns what it shows of a merged capture,
// nil when it is none (see probeMerged), with why, when it is not nil, the prefix could not tell, and
// left, how the probe left a file the rest of it may still show merged. split makes it a merged
// capture whatever the prefix shows (lateMerged found it one).
// A stream (standard input, a FIFO) is read once only: scan probes it with a prefixReader instead.
func learnMerged(path string, opts Options, split bool) (m *mergedLocal, why string, left probeLeft) {
	r, c, err := openInput(path, opts)
	if err != nil {
		return nil, "", left
	}
	defer c.Close()
	return probeMerged(r, opts, split)
}

// streamInput reports whether the input at path can be read once only (standard input, a FIFO).
func streamInput(path string, opts Options) bool {
	if path == "-" {
		return true
	}
	if opts.Open != nil {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && !st.Mode().IsRegular()
}

// mergeProbeBytes bounds how far probeMerged reads when its first mergeProbe records do not tell (a
// long prefix of ARP or idle traffic, one direction first): bytes of record data, plus
// mergeRecOverhead a record. On a stream (standard input, a FIFO) it is also the memory that holds
// what the probe read, to be given again to the scan.
var mergeProbeBytes = 64 << 20

const (
	mergeRecOverhead = 96                // bytes counted a record besides its data (its Record, kept on a stream)
	mergePairsMax    = 1 << 14           // address pairs kept to find answered traffic
	mergeAnswered    = mergeOneStage / 4 // answers that make traffic of one stage answered there
)

// probeState is probeMerged's account of the frames read so far.
type probeState struct {
	m *mergedLocal
	// fingerprint → the stages it was seen at (bits 0-55; each pod's veth its own) and, in the top byte,
	// the TTL it had at the first; made only once the IP frames met are of two stages (see st0)
	stages wordMap
	// st0 is the stage of every IP frame met so far (add's st before its look-up; -1: none met yet),
	// or stagesMapped once stages is in use. While all are of one stage, no fingerprint is at two, so
	// dups stays 0 and stages would be no more than the fingerprints met, each with its first TTL: those
	// are logged instead (stLog, ttlLog, in the order met: a few stores a frame where the look-up and the
	// put in a table of 8,192 slots took about 60 instructions and a cache miss), and put into stages
	// as add would have put them (mapStages) at the first frame of another stage, or when the log is
	// full. A file of one interface, most of those probed, never makes the table.
	st0                   int
	stLog                 []uint64
	ttlLog                []uint8
	dups, vethIP, carried int
	// frames to or from ee:ee:ee:ee:ee:ee, and IP frames between other unicast MACs: as the scan's
	// Traffic.CalicoMAC and OtherMAC, which lateMerged reads of a whole file
	cali, other int
	ipKinds     int        // the stage kinds (bits) of the IP frames met
	ipPods      [2][6]byte // the first two pod MACs of the veths' IP frames met
	nIPPods     int
	// the classes of the last two IPv4 frames of new link addresses that addFull took (see add)
	classes [2]probeClass
	// inner source and destination pairs seen (at most mergePairsMax together): those of two addresses
	// whose last 12 bytes are zero (IPv4's) as a word, the first 4 bytes of each (pairs4), the others
	// whole (pairs); a pair is in one map only, so their sizes add up to the one map's they replace
	pairs4   wordMap
	pairs    map[[32]byte]struct{}
	answered int // IP frames whose addresses were seen the other way before
	// the last pod MAC looked up in m.pods, with its veth number (it is never removed nor renumbered),
	// and the last pod address put in m.ips, with its stage: most frames repeat the frame before's
	lastPod        [6]byte
	lastK          int
	lastIP         [16]byte
	lastIPK        int
	lastIPSet      bool
	records, bytes int
	limit          bool // the byte bound was reached
	// the underlay's IP frames met (at most mergePairsMax kept: hopsN), for routed: hops, each one's
	// place in it plus one by fingerprint in hopIdx (made at the first; a wordMap, where a Go map's put
	// took about 570 instructions a frame as it grew); one found routed is marked gone
	hopIdx wordMap
	hops   []hopSeen
	hopsN  int
	routed int
}

// hopSeen is an underlay frame of a packet as the probe met it first (gone: taken out since).
type hopSeen struct {
	ts       int64
	src, dst [6]byte
	ttl      uint8
	encap    Encap
	gone     bool
}

// routedWin is how soon after a packet's frame its copy one router on (TTL one lower, other link
// addresses) must follow to count as the same packet routed between two interfaces of the file.
const routedWin = int64(time.Millisecond)

// newProbeState returns the account of a probe that has read nothing yet.
func newProbeState() *probeState {
	return &probeState{m: &mergedLocal{pods: map[[6]byte]int{}, ips: map[[16]byte]int{}},
		pairs4: newWordMap(mergeAnswered), lastK: -1, st0: -1,
		stLog: make([]uint64, 0, mergeProbe), ttlLog: make([]uint8, 0, mergeProbe)}
}

const (
	// stagesMapped is probeState.st0 once the stages table is in use.
	stagesMapped = -2
	// stLogMax bounds the fingerprints probeState logs before it puts them into the stages table
	// (a probe reading on past mergeProbe records, to its byte bound, holds no more than the table would).
	stLogMax = 1 << 15
)

// mapStages puts the fingerprints logged while every IP frame was of one stage (st0) into the stages
// table, as add would have put them: each with its stage and the TTL it had at its first. (add, for
// a fingerprint met again at that stage, sets it to what it was: no stage is added, nor a dup counted.)
func (s *probeState) mapStages() {
	s.stages = newWordMap(max(mergeProbe, len(s.stLog)))
	for i, fp := range s.stLog {
		s.stages.room()
		if at, seen := s.stages.find(fp); !seen {
			s.stages.setAt(at, fp, uint64(s.ttlLog[i])<<56|1<<s.st0, false)
		}
	}
	s.stLog, s.ttlLog, s.st0 = nil, nil, stagesMapped
}

// merged reports whether the frames read make a merged capture: some packets (minMergedDup) at two
// stages, or, without such packets, the IP frames of a pod's veth beside encapsulated or WireGuard
// frames between other MACs.
func (s *probeState) merged() bool {
	return len(s.m.pods) > 0 && (s.dups >= minMergedDup || s.vethIP >= minMergedDup && s.carried >= minMergedCarried)
}

// single reports whether the frames read make a capture of one interface: their IP frames of one stage
// only (one kind, at most one pod MAC), and traffic answered there (mergeAnswered frames whose
// addresses were seen the other way before). A merged capture is in time order, so a packet's copies
// at two stages lie microseconds apart; a prefix of one direction only (packets lost before the file's
// other interface) or of no IP at all (ARP) does not tell.
func (s *probeState) single() bool {
	return bits.OnesCount(uint(s.ipKinds)) <= 1 && s.nIPPods <= 1 && s.answered >= mergeAnswered
}

// probeMerged reads a prefix of r and returns what it shows of a merged capture, nil when it is none:
// a file of another link type than Ethernet or of several interfaces, one that single calls a capture
// of one interface, or one that did not show itself merged (merged) by its end or mergeProbeBytes. It
// reads mergeProbe records at least (what it learns of the pods, and what makes it one interface's);
// why says, when a file it did not take for merged may still be one, why it could not tell; left
// says that single took it for one interface's, or that the byte bound was reached (the rest of the
// file may still show it merged: lateMerged). A file read to its end is merged also when it shows
// what lateMerged reads of a whole one (wholeMerged): a pod's veth's frames beside other IP frames,
// with too few packets at two stages to tell it otherwise. With split it returns what it learnt
// whatever the prefix shows: the file was read to its end and found merged (the stages of pods met
// later are learnt by mergedLocal.stage).
func probeMerged(r Reader, opts Options, split bool) (m *mergedLocal, why string, left probeLeft) {
	vx, wg := opts.tunnelPorts()
	var rec Record
	var p Packet
	s := newProbeState()
	for {
		if s.records >= mergeProbe && s.merged() {
			return s.m, "", left
		}
		// Not sooner: a node's interfaces merged in time order may start with a long stretch of one
		// interface's answered traffic (eth0's exchanges with hosts off the cluster, before any pod
		// talked): 1,100 such records, then the lab's packets at the veth and eth0, were read as one
		// interface when 1,024 records of one stage decided.
		if s.records >= mergeProbe && s.single() {
			if split {
				return s.m, "", left
			}
			return nil, "", probeLeft{single: true, records: s.records, routed: s.routed}
		}
		if s.bytes >= mergeProbeBytes {
			s.limit = true
			break
		}
		err := r.Next(&rec)
		// (isRecordError makes the target errors.As writes to only for an error, not for every record)
		if err != nil && isRecordError(err) {
			continue
		}
		if err != nil {
			break
		}
		if rec.LinkType != LinkEthernet || rec.Iface != 0 {
			return nil, "", left
		}
		s.records++
		s.bytes += len(rec.Data) + mergeRecOverhead
		decodeFast(rec.LinkType, rec.Data, rec.OrigLen, vx, wg, &p)
		fp, _ := Fingerprint(&p)
		s.add(&p, fp)
		s.hop(&p, rec.Ts, fp)
	}
	// Read to its end, the file shows what lateMerged reads of a whole one: split it now (a stream too).
	if s.merged() || split || !s.limit && wholeMerged(s.cali, s.other) && len(s.m.pods) > 0 {
		return s.m, "", left
	}
	return nil, s.undecided(), probeLeft{limit: s.limit, records: s.records, routed: s.routed}
}

// hop accounts p, met at ts, when it is an underlay IP frame: a packet seen again within routedWin with
// its TTL (the outer header's, when encapsulated: a router decrements that one) one lower and other
// link addresses was routed between two interfaces whose captures the file holds both. No one
// interface carries a packet and its copy one router on, but for a router that sends packets back out
// the interface they came in on (one-armed), which the problem says too. A router forwards a packet
// as it came, so the copy is in the same encapsulation: a node that takes a packet in on eth0 and sends
// it out of eth0 in its tunnel (a NodePort DNATed to a pod on another node: the inner TTL one lower,
// and the outer header's inherits it) routed it once itself, between eth0 and its tunnel device.
// fp is p's Fingerprint.
func (s *probeState) hop(p *Packet, ts int64, fp uint64) {
	if len(s.m.pods) > 0 || !p.HasEth || p.Inner.Version == 0 || p.HasARP || p.Errs != 0 ||
		p.SrcMAC == CalicoMAC || p.DstMAC == CalicoMAC || p.DstMAC[0]&1 != 0 {
		return // (a file with pods' veths first: all its frames return here)
	}
	ttl := p.Inner.TTL
	if p.Encap != EncapNone {
		ttl = p.Outer.TTL
	}
	if s.hopIdx.keys == nil {
		s.hopIdx = newWordMap(mergeProbe)
	}
	s.hopIdx.room() // (the look-up and the put below in one search)
	at, seen := s.hopIdx.find(fp)
	var was *hopSeen
	if seen {
		was = &s.hops[s.hopIdx.vals[at]-1]
	}
	switch {
	case !seen || was.gone:
		if s.hopsN < mergePairsMax {
			h := hopSeen{ts: ts, src: p.SrcMAC, dst: p.DstMAC, ttl: ttl, encap: p.Encap}
			if seen {
				*was = h
			} else {
				s.hops = append(s.hops, h)
				s.hopIdx.setAt(at, fp, uint64(len(s.hops)), false)
			}
			s.hopsN++
		}
	case was.ttl == ttl+1 && ts-was.ts <= routedWin && ts >= was.ts && (was.src != p.SrcMAC || was.dst != p.DstMAC) &&
		was.encap == p.Encap:
		s.routed++
		was.gone = true
		s.hopsN--
	}
}

// routedProblem is the problem of a file whose probe found a router's interfaces merged into it
// (probeLeft.routed), "" when it found none.
func routedProblem(l probeLeft) string {
	if l.routed < minMergedDup {
		return ""
	}
	return fmt.Sprintf("%d packets are in it twice, the second time microseconds later with the TTL one lower and "+
		"other link addresses: a router's interfaces merged into one file (mergecap), or a router sending packets back "+
		"out the interface they came in on. calipath reads it as one interface, where such a packet is one sighting: "+
		"a loss inside the router reads as one after it, and the sent, delivered and lost counts are unreliable; give "+
		"each of the router's interfaces as its own file (<router>-<iface>.pcap)", l.routed)
}

// wholeMerged reports whether a whole file's frames to or from ee:ee:ee:ee:ee:ee (a pod's veth's) and
// its IP frames between other unicast MACs (eth0's, vxlan.calico's) make it a node's captures merged
// into one file: no one interface of a Calico node carries both.
func wholeMerged(cali, other int) bool { return cali >= minMergedDup && other >= minMergedDup }

// undecided says why a file probeMerged did not take for merged may still be one: it read the byte
// bound without an answer, or the file holds frames of a pod's veth beside IP frames of another
// stage, which no one interface carries, with too few packets at two of them to split it.
func (s *probeState) undecided() string {
	const fix = "; calipath reads it as one interface. If it is a node's captures merged into one file " +
		"(mergecap), its verdicts count each packet once per interface it crossed and are not reliable: " +
		"capture each interface to its own file (or a pcapng that keeps one named interface per capture)"
	switch {
	case s.limit:
		return fmt.Sprintf("the first %d records (%s, the most calipath reads to tell) do not tell whether it "+
			"is one interface's capture or a node's captures merged into one file (no packet seen at two "+
			"interfaces, nor traffic answered at one)%s", s.records, probeBound(), fix)
	case len(s.m.pods) > 0 && s.ipKinds&^(1<<mergedVeth) != 0:
		return fmt.Sprintf("it holds frames of a pod's veth (to or from ee:ee:ee:ee:ee:ee) beside IP frames of "+
			"another interface (the tunnel device or eth0), as a node's captures merged into one file do, but "+
			"only %d packets at two of them (%d needed to split it into its stages)%s", s.dups, minMergedDup, fix)
	}
	return ""
}

// add accounts one frame, p, of Fingerprint fp.
func (s *probeState) add(p *Packet, fp uint64) {
	if !p.HasEth || p.HasARP || p.HasWG || p.Inner.Version != 4 || p.Errs != 0 {
		s.addFull(p, fp)
		return
	}
	// An IPv4 frame (neither ARP nor WireGuard, without errors): all addFull makes of it but its
	// addresses, TTL and fingerprint follows from its link addresses and encapsulation, its class;
	// that of a class met before (a file's frames run between a few pairs of MACs) is taken from
	// s.classes, where addFull's tests and mergedKind took about 150 instructions a frame.
	c := s.classMet(p)
	if c == nil {
		s.addFull(p, fp)
		s.classes[1], s.classes[0] = s.classes[0], s.classOf(p)
		return
	}
	s.cali += int(c.cali)
	s.other += int(c.other)
	s.vethIP += int(c.vethIP)
	s.carried += int(c.carried)
	if c.putIP && len(s.m.ips) < sllLocalMax {
		s.putIP(p.Inner.Src, c.k)
	}
	if s.answered < mergeAnswered {
		s.answer(p)
	}
	s.stage(p, fp, c.kind, c.st)
}

// classMet returns the class of p (add's IPv4 frame) that add met last or the one before, nil when it
// is neither.
func (s *probeState) classMet(p *Packet) *probeClass {
	c := &s.classes[0]
	if !c.set || c.src != p.SrcMAC || c.dst != p.DstMAC || c.encap != p.Encap {
		if c = &s.classes[1]; !c.set || c.src != p.SrcMAC || c.dst != p.DstMAC || c.encap != p.Encap {
			return nil
		}
	}
	return c
}

// probeClass is what probeState.add makes of an IPv4 frame (neither ARP nor WireGuard, without
// errors) of link addresses src and dst and encapsulation encap met again, once addFull took one:
// the counts it adds one to (cali, other, vethIP, carried), its stage kind and stage (st, before the
// stages table's look-up), and whether its inner source is put as the address of pod number k.
// (What addFull changes besides, the pods met, ipKinds and ipPods, it changed at the first: such a
// frame again changes none of them.)
type probeClass struct {
	src, dst                     [6]byte
	encap                        Encap
	set, putIP                   bool
	cali, other, vethIP, carried uint8
	kind, st, k                  int
}

// classOf returns the class of p, an IPv4 frame that addFull took (see probeClass).
func (s *probeState) classOf(p *Packet) probeClass {
	c := probeClass{src: p.SrcMAC, dst: p.DstMAC, encap: p.Encap, set: true}
	kind, pod := mergedKind(p)
	if p.SrcMAC == CalicoMAC || p.DstMAC == CalicoMAC {
		c.cali = 1
	} else if p.DstMAC[0]&1 == 0 {
		c.other = 1
	}
	c.kind, c.st = kind, kind
	if kind == mergedVeth {
		c.vethIP = 1
		k, ok := s.podIndex(pod)
		if pod != ([6]byte{}) && p.DstMAC == CalicoMAC {
			c.putIP, c.k = true, k // (k as addFull put it: 0 for a pod not kept, mergedPods met)
		}
		if !ok {
			k = mergedPods - 1
		}
		c.st = min(mergedVeth+k, 55)
	} else if kind == mergedUnderlay && p.Encap != EncapNone {
		c.carried = 1
	}
	return c
}

// addFull is add for any frame.
func (s *probeState) addFull(p *Packet, fp uint64) {
	m := s.m
	kind, pod := mergedKind(p)
	switch cali := p.HasEth && (p.SrcMAC == CalicoMAC || p.DstMAC == CalicoMAC); {
	case cali:
		s.cali++
	case p.HasEth && p.DstMAC[0]&1 == 0 && p.Inner.Version != 0 && !(p.HasARP && p.Encap == EncapNone):
		s.other++
	}
	if kind == mergedVeth && pod != ([6]byte{}) {
		k, ok := s.podIndex(pod)
		if !ok && len(m.pods) < mergedPods {
			k, m.pods[pod] = len(m.pods), len(m.pods)
		}
		if p.DstMAC == CalicoMAC && (p.Inner.Version == 4 || p.Inner.Version == 6 && PodAddr6(p.Inner.Src)) && len(m.ips) < sllLocalMax {
			s.putIP(p.Inner.Src, k)
		}
	}
	switch {
	case kind == mergedVeth && p.Inner.Version != 0:
		s.vethIP++
	case kind == mergedUnderlay && (p.HasWG || p.Encap != EncapNone):
		s.carried++
	}
	if p.Inner.Version == 0 || p.HasARP || p.Errs != 0 || linkScope6(p) {
		return // IPv6 neighbour discovery, like ARP, is no packet one stage hands to the next
	}
	s.ipKinds |= 1 << kind
	if kind == mergedVeth && pod != ([6]byte{}) && s.nIPPods < 2 && (s.nIPPods == 0 || s.ipPods[0] != pod) {
		s.ipPods[s.nIPPods] = pod
		s.nIPPods++
	}
	if s.answered < mergeAnswered { // (answered is read only as single's test that it reached mergeAnswered)
		s.answer(p)
	}
	st := kind
	if kind == mergedVeth {
		k, ok := s.podIndex(pod)
		if !ok {
			k = mergedPods - 1
		}
		st = min(mergedVeth+k, 55)
	}
	s.stage(p, fp, kind, st)
}

// stage accounts the stage st (of stage kind kind) of the IP frame p of fingerprint fp: a packet seen
// at two stages is a dup.
func (s *probeState) stage(p *Packet, fp uint64, kind, st int) {
	if s.st0 != stagesMapped { // every IP frame so far of one stage: logged (see st0)
		if s.st0 < 0 {
			s.st0 = st
		}
		if st == s.st0 && len(s.stLog) < stLogMax {
			s.stLog, s.ttlLog = append(s.stLog, fp), append(s.ttlLog, p.Inner.TTL)
			return
		}
		s.mapStages()
	}
	s.stages.room() // (the look-up and the put below in one search: find, setAt)
	at, seen := s.stages.find(fp)
	was := s.stages.vals[at]
	// A packet between two pods of the node crosses both veths, its TTL one lower at the second (the
	// node routed it once): two stages too. Lower by more, it crossed other nodes: the file holds
	// veths of several nodes, which no split makes one node's stages.
	if kind == mergedVeth && seen && was&(1<<mergedVeth-1) == 0 && was>>56 != uint64(p.Inner.TTL)+1 {
		st = bits.TrailingZeros64(was) // another pod's veth, not on this node's way: no second stage
	}
	const stageBits = 1<<56 - 1
	if !seen {
		was = uint64(p.Inner.TTL) << 56
	}
	now := was | 1<<st
	s.stages.setAt(at, fp, now, seen)
	if bits.OnesCount64(was&stageBits) == 1 && bits.OnesCount64(now&stageBits) == 2 {
		s.dups++
	}
}

// answer counts p as an answer when its inner addresses were seen the other way before.
func (s *probeState) answer(p *Packet) {
	src, dst := &p.Inner.Src, &p.Inner.Dst
	full := s.pairs4.len()+len(s.pairs) >= mergePairsMax
	if [12]byte(src[4:]) == ([12]byte{}) && [12]byte(dst[4:]) == ([12]byte{}) {
		a, b := uint64(binary.BigEndian.Uint32(src[:4])), uint64(binary.BigEndian.Uint32(dst[:4]))
		if _, ok := s.pairs4.get(b<<32 | a); ok {
			s.answered++
		}
		if _, ok := s.pairs4.get(a<<32 | b); !full && !ok { // (put for a pair not kept yet: a pair kept is 1 already)
			s.pairs4.put(a<<32|b, 1)
		}
		return
	}
	var k, back [32]byte
	copy(k[:16], src[:])
	copy(k[16:], dst[:])
	copy(back[:16], dst[:])
	copy(back[16:], src[:])
	if _, ok := s.pairs[back]; ok {
		s.answered++
	}
	if !full {
		if s.pairs == nil {
			s.pairs = map[[32]byte]struct{}{}
		}
		s.pairs[k] = struct{}{}
	}
}

// podIndex is m.pods[pod], from the last pod looked up when it is that one.
func (s *probeState) podIndex(pod [6]byte) (int, bool) {
	if s.lastK >= 0 && pod == s.lastPod {
		return s.lastK, true
	}
	k, ok := s.m.pods[pod]
	if ok {
		s.lastPod, s.lastK = pod, k
	}
	return k, ok
}

// putIP sets m.ips[a] to k (a pod's address and its veth number), unless the last one put was that.
func (s *probeState) putIP(a [16]byte, k int) {
	if s.lastIPSet && a == s.lastIP && k == s.lastIPK {
		return
	}
	s.m.ips[a] = k
	s.lastIP, s.lastIPK, s.lastIPSet = a, k, true
}

// MergedStage names the stage of a merged capture's pseudo interface iface (Source.Iface), with its
// role and what it holds; ok is false for another interface number.
func MergedStage(iface uint16) (name string, role Role, why string, ok bool) {
	if iface < MergedIface || iface == 0xffff {
		return "", RoleUnknown, "", false
	}
	switch k := int(iface) - MergedIface; {
	case k == mergedUnderlay:
		return "eth0", RoleUnderlay, "its encapsulated frames and those between node MACs (the underlay)", true
	case k == mergedTunnel:
		return "tunnel", RoleTunnel, "its frames between VXLAN VTEP MACs 66:… (the tunnel device)", true
	case k == mergedVeth:
		return "veth", RolePodVeth, "its frames to and from ee:ee:ee:ee:ee:ee of the first pod MAC (a pod's veth)", true
	default:
		return "veth" + strconv.Itoa(k-mergedVeth+1), RolePodVeth, "its frames to and from ee:ee:ee:ee:ee:ee of pod MAC number " + strconv.Itoa(k-mergedVeth+1) + " (a pod's veth)", true
	}
}

// prefixReader gives the scan of a stream (standard input, a FIFO: read once only) the records
// probeMerged read from it before the rest: what the probe reads is kept, its data copied (a reader's
// record data is only valid until its next read), at most mergeProbeBytes of it.
type prefixReader struct {
	Reader          // the stream
	recs   []Record // the records read (their data copied)
	errs   []error  // what reading each returned (nil, a *RecordError)
	end    error    // the error that ended the probe's reading (io.EOF, a read error), given after recs
	pos    int      // the next of recs to give
	replay bool     // giving recs again, to the scan
}

// newPrefixReader returns a prefixReader of r whose first record is rec, which the scan read.
func newPrefixReader(r Reader, rec *Record) *prefixReader {
	pr := &prefixReader{Reader: r}
	pr.keep(rec, nil)
	pr.pos = 0
	return pr
}

func (pr *prefixReader) keep(rec *Record, err error) {
	c := *rec
	c.Data = append([]byte(nil), rec.Data...)
	pr.recs, pr.errs = append(pr.recs, c), append(pr.errs, err)
	pr.pos++
}

// Next gives the kept records, then reads the stream (keeping what it reads until rewind).
func (pr *prefixReader) Next(rec *Record) error {
	if pr.pos < len(pr.recs) {
		*rec = pr.recs[pr.pos]
		err := pr.errs[pr.pos]
		if pr.pos++; pr.replay && pr.pos == len(pr.recs) {
			pr.recs, pr.errs, pr.pos = nil, nil, 0 // given back: the memory goes
		}
		return err
	}
	if pr.end != nil {
		return pr.end
	}
	err := pr.Reader.Next(rec)
	if pr.replay {
		return err
	}
	var re *RecordError
	if err != nil && !errors.As(err, &re) {
		pr.end = err
		return err
	}
	pr.keep(rec, err)
	return err
}

// rewind makes pr give the kept records again from the second on, and sets rec to the first (the one
// the scan read; its data in the stream's buffer was overwritten since).
func (pr *prefixReader) rewind(rec *Record) {
	*rec = pr.recs[0]
	pr.pos, pr.replay = 1, true
	if len(pr.recs) == 1 {
		pr.recs, pr.errs, pr.pos = nil, nil, 0
	}
}

// lateMerged returns the files (by index) that the merged probe took for one interface's capture from
// their first records (probeState.single), or did not tell by its byte bound (a long stretch of one
// interface's big frames one way), but whose frames, read to the end, are those of a pod's veth
// (minMergedDup or more to or from ee:ee:ee:ee:ee:ee) and those of another interface (as many IP frames
// between other unicast MACs: eth0's, vxlan.calico's), which no one interface of a Calico node carries
// both: a node's captures merged into one file whose first records were one interface's (mergecap -a
// writes each file after the other; or a long stretch where one interface alone had traffic). Read as
// one capture point, the same packet at the veth and at eth0 is two journeys there. The counts come from
// what the scan keeps per file anyway (Traffic): nothing more is done per frame. Nil when there is none.
func lateMerged(files []*FileInfo) map[uint16]bool {
	var late map[uint16]bool
	for _, f := range files {
		if !f.probeLeft.single && !f.probeLeft.limit {
			continue
		}
		if wholeMerged(lateCounts(f)) {
			if late == nil {
				late = map[uint16]bool{}
			}
			late[f.Index] = true
		}
	}
	return late
}

// String says what the probe saw of the file: the start of a problem of a file lateMerged found.
func (l probeLeft) String() string {
	if l.limit {
		return fmt.Sprintf("its first %d records (%s, the most calipath reads to tell) did not tell whether it is one "+
			"interface's capture or a node's captures merged into one file", l.records, probeBound())
	}
	return fmt.Sprintf("its first %d records are one interface's traffic", l.records)
}

// probeBound is mergeProbeBytes in words.
func probeBound() string {
	if mergeProbeBytes < 1<<20 {
		return fmt.Sprintf("%d bytes", mergeProbeBytes)
	}
	return fmt.Sprintf("%d MiB", mergeProbeBytes>>20)
}

// lateCounts returns the frames of f to or from ee:ee:ee:ee:ee:ee and those between other MACs.
func lateCounts(f *FileInfo) (cali, other int) {
	for _, tr := range f.Traffic {
		cali, other = cali+tr.CalicoMAC, other+tr.OtherMAC
	}
	return cali, other
}

// rereadable reports whether every input can be read a second time (none is standard input or a FIFO).
func rereadable(paths []string, opts Options) bool {
	for _, p := range paths {
		if streamInput(p, opts) {
			return false
		}
	}
	return true
}

// splitLate decides what to do with the files lateMerged found in a first read of paths: it returns
// the options to read every input again with, those files split into their stages (again true), or,
// when an input cannot be read twice (or the caller cannot read again: reread false), marks them
// Unsplit with a problem that says their counts are not per packet and how to fix it (again false).
func splitLate(paths []string, opts Options, files []*FileInfo, reread bool) (_ Options, again bool) {
	late := lateMerged(files)
	if len(late) == 0 {
		return opts, false
	}
	if !reread || !rereadable(paths, opts) {
		for _, f := range files {
			if late[f.Index] {
				cali, other := lateCounts(f)
				f.Unsplit = true
				f.problem("%s, so it was read as one capture point, but the "+
					"whole file holds frames of a pod's veth (%d to or from ee:ee:ee:ee:ee:ee) and of another interface (%d IP "+
					"frames between other MACs: eth0, vxlan.calico), which no one interface carries: it is a node's captures "+
					"merged into one file, and read once only (standard input, a FIFO) it cannot be read again split into its "+
					"interfaces. Each packet there is counted once per interface it crossed, so the counts at its node (sent, "+
					"delivered, lost, retransmissions) are unreliable; give the file itself rather than a stream, or each "+
					"interface's capture as its own file named <node>-<iface>.pcap", f.probeLeft, cali, other)
			}
		}
		return opts, false
	}
	opts.splitMerged = late
	return opts, true
}

// noteSplitLate gives each file split by a second read (late: the first read's files lateMerged found)
// a problem that says why: its first records were one interface's.
func noteSplitLate(first, files []*FileInfo, late map[uint16]bool) {
	for i, f := range files {
		if !late[f.Index] || i >= len(first) {
			continue
		}
		cali, other := lateCounts(first[i])
		f.problem("%s, but the whole file holds frames of a pod's veth (%d to or from ee:ee:ee:ee:ee:ee) and of "+
			"another interface (%d IP frames between other MACs: eth0, vxlan.calico): a node's captures merged into "+
			"one file (mergecap -a writes one file after the other), read again split into its interfaces",
			first[i].probeLeft, cali, other)
	}
}
