package correlate

import (
	"fmt"
	"strings"

	"github.com/calipath/calipath/decode"
)

// refused finds the packets that a node answered with an ICMP error (fragmentation needed,
// unreachable, time exceeded) quoting them: the node dropped them and said so. It returns, for each
// such packet's journey, the node that answered. The ICMP error is first seen on the node that sent it
// (on its way back to the sender); it answers the latest packet of its flow that it quotes exactly
// (length, and the TCP sequence number or the echo id and sequence) and that was first seen before
// it, each packet once. An error a node addresses to itself answers nothing (see icmp). It also
// returns, for each error's journey that answered one, the journey it answered.
func (a *analysis) refused() (map[int32]int, map[int32]int32) {
	w := a.w
	var out map[int32]int
	var answer map[int32]int32
	byQuote := map[int32]map[quote][]int32{} // per flow direction with ICMP errors (and cut quotes): its journeys by what a quote shows
	for _, j := range a.icmpJ {
		fi := a.jFlow[j]
		h := a.hops(int(j))
		if fi < 0 || len(h) == 0 {
			continue
		}
		o, _ := a.obs(a.w.pktHop(h))
		e := w.c.Tables.ICMPErr(o.Seq)
		v6 := o.Flags&decode.FlagIPv6 != 0
		switch {
		case !v6 && (e.Type == 3 || e.Type == 11), v6 && e.Type >= 1 && e.Type <= 3:
		default:
			continue
		}
		_, srcPod := w.ownerOf(v6, o.Src)
		_, dstPod := w.ownerOf(v6, o.Dst)
		if n := w.nodeOf(v6, o.Src); !srcPod && !dstPod && n >= 0 && n == w.nodeOf(v6, o.Dst) {
			continue // a node's own send failure, reported to itself
		}
		q := &e.Quoted
		if e.QuotedInner.Version != 0 {
			q = &e.QuotedInner
		}
		key := quote{len: q.TotalLen}
		_, cut := w.cutQ.named[o.Seq] // cut before its ports: matched on its length only (quotecut.go)
		switch {
		case cut:
		case q.Proto == 6:
			key.seq = e.QSeq
		case q.Proto == 1 || q.Proto == 58:
			key.seq = uint32(e.QSport)<<16 | uint32(e.QDport)
		}
		// The quoted packet went the other way than the error (back to its sender).
		d := 1 - a.jDir[j]
		ik := fi*4 + int32(d)*2
		if cut {
			ik++
		}
		idx := byQuote[ik]
		if idx == nil {
			idx = a.quoteIndex(fi, d, !cut)
			byQuote[ik] = idx
		}
		// The latest quoted packet first seen before the error, not answered yet.
		t := a.hopTs.t0.at(int(j))
		cands := idx[key]
		pick := -1
		for i, k := range cands {
			if k >= j || a.hopTs.t0.at(int(k)) > t {
				break
			}
			if _, taken := out[k]; !taken {
				pick = i
			}
		}
		if pick < 0 {
			continue
		}
		if out == nil {
			out, answer = map[int32]int{}, map[int32]int32{}
		}
		out[cands[pick]] = w.icmpSender(o, a.point(h[0]))
		answer[j] = cands[pick]
	}
	return out, answer
}

// quote is what an ICMP error's quote shows of the packet it quotes: its length, and its TCP sequence
// number or ICMP echo id and sequence (0 when not used).
type quote struct {
	seq uint32
	len uint16
}

// quoteIndex returns the journeys of flow fi's direction d that are not ICMP errors, in journey order,
// by what a quote of theirs shows (bySeq false: by the length only).
func (a *analysis) quoteIndex(fi int32, d uint8, bySeq bool) map[quote][]int32 {
	idx := map[quote][]int32{}
	for _, k := range a.dirJourneys(a.flows[fi], d) {
		ok, _ := a.obs(a.hops(int(k))[0])
		if ok.Flags&decode.FlagICMPError != 0 {
			continue
		}
		kq := quote{len: ok.Len}
		if bySeq && (ok.Proto == 6 || ((ok.Proto == 1 || ok.Proto == 58) && ok.Flags&decode.FlagFragment == 0)) {
			kq.seq = ok.Seq
		}
		idx[kq] = append(idx[kq], k)
	}
	return idx
}

// senderUnknown is icmpSender's answer when the captures cannot tell whether the node of the point
// that first saw an ICMP error sent it or a hop past the point did.
const senderUnknown = -2

// icmpSender is the node that sent ICMP error o, first seen at point p (icmpSenderWhy).
func (w *world) icmpSender(o *decode.Observation, p int) int {
	n, _ := w.icmpSenderWhy(o, p)
	return n
}

// icmpSenderWhy is the node that sent ICMP error o, first seen at point p: the node whose address its
// source is. Else, at an underlay point, -1 when it came in from the wire to p's node, with why (a hop
// past p sent it, a router whose capture, if any, is not among the inputs): it is addressed to the
// node, whose addresses are known and its source is none of them; or a cooked capture saw it come in;
// or it is addressed to one of the node's pods (the node's own errors to its pods leave through their
// veths, never its underlay). Else p's node (a cooked capture saw it leave, or it is addressed
// elsewhere), but for an error at an underlay point of a node whose addresses are unknown, to an
// address that may be its own: senderUnknown.
func (w *world) icmpSenderWhy(o *decode.Observation, p int) (int, string) {
	v6 := o.Flags&decode.FlagIPv6 != 0
	if n := w.nodeOf(v6, o.Src); n >= 0 {
		return n, ""
	}
	n := w.pointNode[p]
	if w.pointRole[p] != decode.RoleUnderlay {
		return n, ""
	}
	node, src, at := w.nodes[n], w.addrString(v6, o.Src), w.c.Points[p].ID
	dn := w.nodeOf(v6, o.Dst)
	_, toPod := w.ownerOf(v6, o.Dst)
	cooked := w.c.Sources[o.Source].IfIndex != -1 // a cooked capture: it says which way the frame went
	switch {
	case dn == n && w.hasNodeIP(v6, n):
		return -1, fmt.Sprintf("Its source, %s, is none of %s's addresses", src, node)
	case cooked && o.Flags&decode.FlagOutbound == 0:
		return -1, fmt.Sprintf("The capture at %s saw it come in, and its source, %s, is no known node's address", at, src)
	case cooked:
		return n, ""
	case dn == n && toPod:
		return -1, fmt.Sprintf("It is addressed to %s's own pod %s and was first seen at %s, not on the pod's veth, which %s's own "+
			"errors to its pods leave through; its source, %s, is no known node's address", node, w.addrString(v6, o.Dst), at, node, src)
	case dn < 0 && !w.hasNodeIP(v6, n):
		return senderUnknown, ""
	}
	return n, ""
}

// hasNodeIP reports whether some address of node n is known.
func (w *world) hasNodeIP(v6 bool, n int) bool {
	m := w.nodeOfIP
	if v6 {
		m = w.nodeOfIP6
	}
	for _, m := range m {
		if m == n {
			return true
		}
	}
	return false
}

// icmpUnsureNote says, for ICMP errors whose sender cannot be told (icmpKey.unsure), why and what
// tells ("" for others).
func icmpUnsureNote(key icmpKey, src, node, at string) string {
	if !key.unsure {
		return ""
	}
	return fmt.Sprintf(" Its source, %s, is no known node's address, and %s's addresses are unknown: whether %s sent it or it came in "+
		"from the wire, sent by a hop past %s (a router), cannot be told from these captures. Give the nodes' addresses "+
		"(--node-ip, or --k8s) to tell.", src, node, node, at)
}

// icmpSentence rewrites the kind's sentence at the end of msg (an ICMP error anomaly's message) to
// what the group fs shows: ICMPv6's names when every error is ICMPv6 (packet-too-big, not
// fragmentation-needed), and for fragmentation-needed, "sent from" the point only when its own node
// sent them all; "sent by" the other node and "first seen at" the point when another node did; else
// "seen at" the point (a hop past it, or a sender that cannot be told, which the message says).
func (w *world) icmpSentence(msg string, k *kindRow, key icmpKey, fs []icmpFinding) string {
	at := w.c.Points[key.point].ID
	old := fmt.Sprintf(k.text, at)
	if !strings.HasSuffix(msg, old) {
		return msg
	}
	v6, sender := true, fs[0].sender
	for _, f := range fs {
		v6 = v6 && f.v6
		if f.sender != sender {
			sender = -1
		}
	}
	s := old
	if v6 {
		s = strings.NewReplacer("ICMP fragmentation-needed", "ICMPv6 packet-too-big", "ICMP ", "ICMPv6 ").Replace(s)
	}
	sent := "was sent from " + at
	switch {
	case key.beyond || key.unsure || sender < 0:
		s = strings.Replace(s, sent, "was seen at "+at, 1)
	case sender != w.pointNode[key.point]:
		s = strings.Replace(s, sent, "was sent by "+w.nodes[sender]+" and first seen at "+at, 1)
	}
	return strings.TrimSuffix(msg, old) + s
}
