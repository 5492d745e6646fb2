package correlate

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/calipath/calipath/decode"
)

// arpTimeout is how long a request may wait for its reply.
const arpTimeout = int64(time.Second)

// maxExchanges bounds the ARP exchanges listed per point.
const maxExchanges = 50

// arpObs is an ARP frame at a point: its corrected time, global observation id and packet (an index
// into the capture's ARP table, which identical packets share): 16 bytes, for ARP storms of millions.
type arpObs struct {
	t   int64
	g   uint32
	arp uint32
}

type arpFinding struct {
	point    int
	kind     string
	ev       Evidence
	who, mac string
	t        int64 // the request's time (an unanswered one's), or the reply's (corrected)
}

// arpOut is what the ARP check gives: each point's exchanges, the findings, and per flow how long its
// first packet waited for an ARP reply.
type arpOut struct {
	points   []ARPPoint
	findings []arpFinding
	waits    []int64 // by flow index: the ARP wait before its first packet (0 none)
	// notCaptured counts, per point, the requests left unanswered while its capture dropped frames
	// (capDrops.droppedIn): their replies may be among those frames, so they are no finding.
	notCaptured []int
	// unseen are the pods' broadcast requests for Calico's gateway that no captured reply answered
	// (arpproof.go): those a later packet proves answered are taken out of the findings.
	unseen []arpUnseen
}

// arp pairs requests with replies at every point and judges Calico's proxy ARP.
func (a *analysis) arp() arpOut {
	w := a.w
	// Each point's ARP frames, one point at a time, in one list of the largest point's size: an ARP
	// storm's frames are millions, and only one point's are held at once. The count says which files
	// hold each point's frames, so that each file is read once per point it holds ARP frames of.
	n := make([]int, len(w.c.Points))
	files := make([][]int, len(w.c.Points))
	most := 0
	for f, obs := range w.c.Obs {
		for lo := 0; lo < len(obs); lo += trimRun {
			chunk := trimChunk(obs, lo)
			for i := 0; ; i++ {
				if i += nextARP(w, f, lo+i, chunk[i:]); i >= len(chunk) {
					break
				}
				p := w.srcPoint[chunk[i].Source]
				if n[p]++; len(files[p]) == 0 || files[p][len(files[p])-1] != f {
					files[p] = append(files[p], f)
				}
				most = max(most, n[p])
			}
			w.trimAt(lo + len(chunk) - 1)
		}
	}
	arps := w.c.Tables.ARPAll()
	out := arpOut{points: []ARPPoint{}, notCaptured: make([]int, len(w.c.Points))}
	req := map[int][]int64{} // pod-veth point → times of ARP requests from its pod
	list := make([]arpObs, 0, most)
	for p := range n {
		if n[p] == 0 {
			continue
		}
		list = list[:0]
		for _, f := range files[p] {
			obs := w.c.Obs[f]
			for lo := 0; lo < len(obs); lo += trimRun {
				chunk := trimChunk(obs, lo)
				for c := 0; ; c++ {
					if c += nextARP(w, f, lo+c, chunk[c:]); c >= len(chunk) {
						break
					}
					if o, i := &chunk[c], lo+c; w.srcPoint[o.Source] == p {
						k := o.Seq
						if int(k) >= len(arps) {
							k = 0 // not in the table: the zero packet, as Tables.ARP gives
						}
						list = append(list, arpObs{t: a.journeys.corrected(o, f, i), g: w.fileBase[f] + uint32(i), arp: k})
					}
				}
				w.trimAt(lo + len(chunk) - 1)
			}
		}
		out.points = append(out.points, a.arpAt(p, list, arps, req, &out)) // keeps nothing of list
	}
	a.proveAnswered(&out) // arpproof.go
	out.waits = a.arpWaits(req)
	return out
}

// nextARP returns the index of the first ARP frame among obs, file f's frames from at on, len(obs) for
// none: the blocks of frames without one (blockHas) are passed over whole.
func nextARP(w *world, f, at int, obs []decode.Observation) int {
	for k := 0; k < len(obs); {
		end := min(len(obs), k+flagBlock-(at+k)%flagBlock) // the end of frame at+k's block
		if w.blockHas(f, (at+k)&^(flagBlock-1), decode.FlagARP) {
			if n := k + nextFlagged(obs[k:end], decode.FlagARP); n < end {
				return n
			}
		}
		k = end
	}
	return len(obs)
}

// nextFlagged returns the index of the first of obs with one of flags set, len(obs) for none: a pass
// over frames of which few have them (ARP frames, in arp) in a loop of its own, 8 instructions a frame,
// rather than in its caller's (11, its values in registers spilled by the rare frame's work). Not
// inlined: inlined, its index went through the stack at every frame.
//
//go:noinline
func nextFlagged(obs []decode.Observation, flags decode.Flags) int {
	for k := range obs {
		if obs[k].Flags&flags != 0 {
			return k
		}
	}
	return len(obs)
}

// arpPending is an ARP request waiting for its reply.
type arpPending struct {
	obs     arpObs
	ex      int // index in exchanges, -1 when not listed
	replied bool
}

// arpPairing pairs the ARP frames of one point, in time order.
type arpPairing struct {
	a    *analysis
	p    int
	ap   ARPPoint
	lat  latAcc
	arps []decode.ARP // the capture's ARP table (arpObs.arp)
	// pending are the requests, in time order, from pending[head] on those a reply may still answer
	// (before, replied or not, they are more than arpTimeout older than the latest request); unans
	// holds, in time order, the requests that had no reply in time, taken out of pending.
	pending  []arpPending
	head     int
	unans    []arpObs
	req      map[int][]int64 // pod-veth point → times of ARP requests from its pod (added to)
	findings *[]arpFinding   // the findings (added to)
	notCapt  *int            // requests unanswered while the point's capture dropped frames (added to)
	unseen   *[]arpUnseen    // gateway requests a later packet may prove answered (added to)
	pi       int             // the point's index in arpOut.points
}

// arpAt pairs the ARP frames seen at point p (list) into exchanges, adds its findings to out.findings,
// the times of its pod's requests to req, the requests whose reply may not have been captured to
// out.notCaptured and the gateway requests a later packet may prove answered to out.unseen.
func (a *analysis) arpAt(p int, list []arpObs, arps []decode.ARP, req map[int][]int64, out *arpOut) ARPPoint {
	slices.SortStableFunc(list, func(x, y arpObs) int { return cmp.Compare(x.t, y.t) })
	x := &arpPairing{a: a, p: p, ap: ARPPoint{Point: a.w.c.Points[p].ID, Exchanges: []ARPExch{}}, arps: arps,
		req: req, findings: &out.findings, notCapt: &out.notCaptured[p], unseen: &out.unseen, pi: len(out.points)}
	var prev *arpObs
	for xi := range list {
		o := list[xi]
		r := &arps[o.arp]
		// The same frame from two captures of one interface (say cali and -i any): count it once.
		if prev != nil && arps[prev.arp] == *r && o.t-prev.t <= int64(time.Millisecond) {
			continue
		}
		prev = &list[xi]
		ev := a.evidence(o.g)
		switch {
		case r.Op == 1 && r.Gratuitous():
			x.ap.Gratuitous++
		case r.Op == 1:
			x.request(o, ev)
		case r.Op == 2:
			x.reply(o, ev)
		}
	}
	x.unanswered()
	x.ap.LatencyNs = x.lat.summary()
	return x.ap
}

// request lists a request (the first maxExchanges of a point) and waits for its reply.
func (x *arpPairing) request(o arpObs, ev Evidence) {
	r := &x.arps[o.arp]
	x.ap.Requests++
	x.retire(o.t)
	pd := arpPending{obs: o, ex: -1}
	if len(x.ap.Exchanges) < maxExchanges {
		pd.ex = len(x.ap.Exchanges)
		x.ap.Exchanges = append(x.ap.Exchanges, ARPExch{Who: netip.AddrFrom4(r.TPA).String(),
			Tell: netip.AddrFrom4(r.SPA).String(), Ts: o.t, Verdict: "unanswered", Evidence: ev})
	}
	x.pending = append(x.pending, pd)
	if x.a.w.pointRole[x.p] == decode.RolePodVeth && r.SPA != [4]byte{} {
		x.req[x.p] = append(x.req[x.p], o.t)
	}
}

// retire takes out of pending the requests no reply from t on can answer (more than arpTimeout before
// t), keeping those without a reply in unans, so that an ARP storm's requests do not all stay pending.
func (x *arpPairing) retire(t int64) {
	for x.head < len(x.pending) && t-x.pending[x.head].obs.t > arpTimeout {
		if pd := &x.pending[x.head]; !pd.replied {
			x.unans = append(x.unans, pd.obs)
		}
		x.head++
	}
	if x.head >= 1024 && 2*x.head >= len(x.pending) {
		x.pending = x.pending[:copy(x.pending, x.pending[x.head:])]
		x.head = 0
	}
}

// reply answers the newest pending request it fits (within arpTimeout), and judges a reply for
// Calico's gateway by its MAC.
func (x *arpPairing) reply(o arpObs, ev Evidence) {
	r := &x.arps[o.arp]
	x.ap.Replies++
	if r.Gratuitous() {
		x.ap.Gratuitous++
	}
	var match *arpPending
	for i := len(x.pending) - 1; i >= x.head && o.t-x.pending[i].obs.t <= arpTimeout; i-- { // newest first
		pd := &x.pending[i]
		if q := &x.arps[pd.obs.arp]; !pd.replied && q.TPA == r.SPA && (q.SPA == r.TPA || r.TPA == [4]byte{}) {
			match = pd
			break
		}
	}
	verdict := "answered"
	if r.SPA == decode.CalicoGateway {
		if r.SHA == decode.CalicoMAC {
			verdict = "proxy-ok"
			x.ap.ProxyReplies++
		} else {
			verdict = "unexpected-mac"
			x.ap.UnexpectedMAC++
			*x.findings = append(*x.findings, arpFinding{point: x.p, kind: "arp-unexpected-mac", ev: ev,
				who: netip.AddrFrom4(r.SPA).String(), mac: net.HardwareAddr(r.SHA[:]).String(), t: o.t})
		}
	}
	if match != nil {
		match.replied = true
		x.lat.add(o.t - match.obs.t)
		if match.ex >= 0 {
			e := &x.ap.Exchanges[match.ex]
			e.IsAt, e.LatencyNs, e.Verdict = net.HardwareAddr(r.SHA[:]).String(), o.t-match.obs.t, verdict
		}
	}
}

// unanswered counts the requests that got no reply: proxy ARP missing when a pod asked for Calico's
// gateway, otherwise unanswered.
func (x *arpPairing) unanswered() {
	for _, pd := range x.pending[x.head:] { // final now
		if !pd.replied {
			x.unans = append(x.unans, pd.obs)
		}
	}
	w := x.a.w
	for _, o := range x.unans {
		if x.a.capDrop.droppedIn(x.p, o.t, o.t+arpTimeout) {
			// The point's capture dropped frames while the reply was due: it may be among them.
			x.notCaptured(o)
			continue
		}
		x.ap.Unanswered++
		tpa := x.arps[o.arp].TPA
		kind := "arp-unanswered"
		if tpa == decode.CalicoGateway && w.pointRole[x.p] == decode.RolePodVeth {
			kind = "proxy-arp-missing"
			x.mayBeAnswered(o) // arpproof.go
		}
		*x.findings = append(*x.findings, arpFinding{point: x.p, kind: kind, ev: x.a.evidence(o.g),
			who: netip.AddrFrom4(tpa).String(), t: o.t})
	}
}

// notCaptured marks request o's exchange, when listed, as one whose reply, if any, was not captured,
// and counts it for the point's capture-dropped anomaly.
func (x *arpPairing) notCaptured(o arpObs) {
	*x.notCapt++
	for i := range x.ap.Exchanges {
		if e := &x.ap.Exchanges[i]; e.Ts == o.t && e.Verdict == "unanswered" {
			e.Verdict = "reply-not-captured"
			return
		}
	}
}

// arpWaits finds flows whose first packet left the client pod right after an ARP request from it (req:
// pod-veth point → times of its pod's requests), and returns each flow's wait.
func (a *analysis) arpWaits(req map[int][]int64) []int64 {
	w := a.w
	waits := make([]int64, len(a.flows))
	for fi, fl := range a.flows {
		if fl.client.v6 || fl.nDir(c2s) == 0 {
			continue
		}
		p, ok := w.podOwner[fl.client.src]
		if !ok {
			continue
		}
		reqs := req[p]
		if len(reqs) == 0 {
			continue
		}
		for _, g := range a.hops(int(a.dirJourneys(fl, c2s)[0])) {
			if a.point(g) != p {
				continue
			}
			t := a.ts(g)
			i := sort.Search(len(reqs), func(i int) bool { return reqs[i] > t }) - 1
			if i >= 0 && t-reqs[i] <= arpTimeout {
				waits[fi] = t - reqs[i]
			}
			break
		}
	}
	return waits
}

func (a *analysis) evidence(g uint32) Evidence {
	_, f := a.obs(g)
	return Evidence{File: a.w.c.Files[f].Path, Frame: a.w.frameOf(g)}
}

// maxICMPListed bounds the ICMP errors listed in the Result (all are counted in anomalies).
const maxICMPListed = 1000

type icmpFinding struct {
	kind  string
	point int
	flow  int32
	ev    Evidence
	mtu   uint16
	// self marks an error a node addressed to itself (source and destination are its own node IPs,
	// typically over lo): the node's own stack reporting a local send failure, not a hop on the path.
	self bool
	// own marks an error a node sent (from its own IP) to one of its own pods: the node refused the
	// pod's packet itself (a pod MTU above the tunnel's, policy), a drop of the node's datapath that
	// counts as loss on its segment, unlike a router's or another node's answer.
	own bool
	// local marks an error that is not own only because its source is no known node's address (BGP
	// mode without --node-ip: no outer header names the nodes): sent to a pod of its point's node and
	// first seen at that pod's veth, the way the node's own errors to its pods leave. It is the node's
	// own when the packet it answers never left the node (icmpExplained), as a hop past the node can
	// answer only a packet that reached it.
	local bool
	// hostUnreach marks ICMP host-unreachable (type 3 code 1; ICMPv6 address-unreachable, type 1 code
	// 3): what Linux sends for the packets it queued for a next hop whose neighbour entry failed.
	hostUnreach bool
	j           int32  // its journey
	t           int64  // when its point saw it (corrected)
	qdst        string // the quoted packet's destination ("" when the quote names none)
	// beyond marks an error that came in from the wire to its point's node from an address none of the
	// node's (icmpSender): a hop past the point sent it; src is that address.
	beyond bool
	src    string
	why    string // why it is taken to have come in from the wire (icmpSenderWhy), when beyond
	// unsure marks an error whose sender cannot be told: its point's node, or a hop past it
	// (senderUnknown).
	unsure bool
	cut    bool    // its quote was cut before its ports and names no one flow (quotecut.go)
	sender int     // icmpSenderWhy's node (-1 or senderUnknown as there)
	v6     bool    // ICMPv6
	ptb    ptbNote // what an ICMPv6 Packet Too Big says of the packet it quotes, and what to do (ptb6.go)
}

// icmpOut is what the ICMP check gives: the errors listed, the findings, and per flow how many
// "fragmentation needed" errors reached the pod they are addressed to (the sender of the big packet).
type icmpOut struct {
	errors   []ICMPError
	errJ     []int32 // the journey of each of errors
	findings []icmpFinding
	frag     []int // by flow index: ICMP 3/4 seen reaching the pod-veth of the pod it is addressed to
}

// icmp lists ICMP errors (one per error packet, at the first point that saw it) and links each to
// the flow it quotes.
func (a *analysis) icmp(ids []string) icmpOut {
	w := a.w
	out := icmpOut{errors: []ICMPError{}, frag: make([]int, len(a.flows))}
	for j := 0; j < a.nJ; j++ {
		h := a.hops(j)
		if len(h) == 0 {
			continue
		}
		o, _ := a.obs(a.w.pktHop(h))
		if o.Flags&decode.FlagICMPError == 0 {
			continue
		}
		e := w.c.Tables.ICMPErr(o.Seq)
		p := a.point(h[0])
		v6 := o.Flags&decode.FlagIPv6 != 0
		ie := ICMPError{Point: w.c.Points[p].ID, Ts: a.ts(h[0]), Src: w.addrString(v6, o.Src), Dst: w.addrString(v6, o.Dst),
			Type: e.Type, Code: e.Code, MTU: e.MTU, Evidence: a.evidence(h[0])}
		fi := int32(-1)
		qdst := ""
		if q, ok := w.quotedTuple(o); ok {
			qdst = w.addrString(q.v6, q.dst)
			ie.Quoted = fmt.Sprintf("%s %s → %s", protoName(q.proto), w.endpoint(q.v6, q.src, q.sp), w.endpoint(q.v6, q.dst, q.dp))
			if f, ok := a.flowOf.get(a.uf.find(q.key())); ok {
				fi = f
				ie.Flow = ids[f]
			}
		}
		kind := ""
		switch {
		case !v6 && e.Type == 3 && e.Code == 4, v6 && e.Type == 2:
			kind = "icmp-frag-needed"
		case !v6 && e.Type == 3, v6 && e.Type == 1:
			kind = "icmp-unreachable"
		case !v6 && e.Type == 11, v6 && e.Type == 3:
			kind = "ttl-expired"
		}
		if kind != "" {
			_, srcPod := w.ownerOf(v6, o.Src)
			dp, dstPod := w.ownerOf(v6, o.Dst)
			n := w.nodeOf(v6, o.Src)
			self := !srcPod && !dstPod && n >= 0 && n == w.nodeOf(v6, o.Dst)
			own := !srcPod && dstPod && n >= 0 && n == w.nodeOf(v6, o.Dst) && n == w.pointNode[p]
			sender, why := w.icmpSenderWhy(o, p)
			local := !srcPod && dstPod && n < 0 && dp == p && sender == w.pointNode[p]
			fnd := icmpFinding{kind: kind, point: p, flow: fi, ev: ie.Evidence, mtu: e.MTU,
				self: self, own: own, local: local, beyond: sender == -1, src: ie.Src, why: why, unsure: sender == senderUnknown,
				cut: w.cutLeft(o), sender: sender, v6: v6, j: int32(j), t: ie.Ts, qdst: qdst, ptb: w.ptbNotes(o, e),
				hostUnreach: (!v6 && e.Type == 3 && e.Code == 1) || (v6 && e.Type == 1 && e.Code == 3)}
			out.findings = append(out.findings, fnd)
		}
		// Did a "fragmentation needed" reach the pod that sent the big packet (the error's destination,
		// the flow's client or its server)?
		if kind == "icmp-frag-needed" && fi >= 0 {
			if cp, ok := w.ownerOf(v6, o.Dst); ok {
				for _, g := range h {
					if a.point(g) == cp {
						out.frag[fi]++
					}
				}
			}
		}
		if len(out.errors) < maxICMPListed {
			out.errors = append(out.errors, ie)
			out.errJ = append(out.errJ, int32(j))
		}
	}
	return out
}
