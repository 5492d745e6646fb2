package correlate

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/calipath/calipath/decode"
)

// UnfitError says why a Capture with its Options gives nothing to report: no input could be read, or
// an option names something no input has. Each problem is one line, naming the input or option.
type UnfitError struct {
	Problems []string
}

func (e *UnfitError) Error() string { return strings.Join(e.Problems, "; ") }

// Check reports what makes c and opts unfit for a report: every input unreadable (missing, a
// directory, not a capture, …), an Offsets entry for a node that no capture point is on (the
// offset would silently correct nothing), or a --node-ip the captures contradict. It returns nil when they fit. Correlate itself never
// fails; callers that take input from users (the command line, the TUI) call Check first and stop on
// an error.
func Check(c *decode.Capture, opts Options) error {
	var problems []string
	if len(c.Files) > 0 && len(Unreadable(c)) == len(c.Files) {
		for _, u := range Unreadable(c) {
			problems = append(problems, u.File+": "+u.Error)
		}
		if len(c.Files) == 1 {
			problems = append(problems, "the input could not be read: nothing to report")
		} else {
			problems = append(problems, fmt.Sprintf("none of the %d inputs could be read: nothing to report", len(c.Files)))
		}
	}
	nodes := map[string]bool{}
	for _, p := range c.Points {
		nodes[p.Node] = true
	}
	for _, n := range sortedKeys(opts.Offsets) {
		if !nodes[n] {
			list := strings.Join(sortedKeys(nodes), ", ")
			if list == "" {
				list = "none"
			}
			problems = append(problems, fmt.Sprintf("--offset %s=%s: no input was captured on node %q (nodes: %s)",
				n, opts.Offsets[n], n, list))
		}
	}
	problems = append(problems, c.NodeIPConflicts...)
	problems = append(problems, c.PortConflicts...)
	problems = append(problems, c.PointConflicts...)
	if len(problems) == 0 {
		return nil
	}
	return &UnfitError{Problems: problems}
}

// Unreadable lists the inputs of which nothing could be read, in input order.
func Unreadable(c *decode.Capture) []UnreadableInput {
	var out []UnreadableInput
	for _, f := range c.Files {
		if f.Err == nil || f.Records > 0 {
			continue
		}
		msg := f.Err.Error()
		var pe *fs.PathError
		if errors.As(f.Err, &pe) { // "open x: no such file or directory" → "no such file or directory"
			msg = pe.Err.Error()
		}
		msg = strings.TrimPrefix(msg, f.Path+": ")
		out = append(out, UnreadableInput{File: f.Path, Error: msg})
	}
	return out
}

// offsetFit is an --offset that the traffic contradicts: calipath's own estimate of that node's clock,
// from the same captures, lies far outside the given value's reach. The estimate is used instead.
type offsetFit struct {
	node  int
	given time.Duration
	est   int64 // the estimate, against the reference node as the given offsets place it
	bound int64 // the estimate's ± bound; -1 when it is bounded on one side only
	tol   int64 // how far the given offset may lie from the estimate
}

// minOffsetTol is the least distance between a given offset and an estimate bounded on one side only
// that counts as a contradiction (with --window: see clocksFor).
const minOffsetTol = int64(time.Millisecond)

// minTightTol is the least distance between a given offset and a two-way estimate that counts as a
// contradiction. Beyond the estimate's bound some sampled packet already arrives before it left; ten
// times the bound, and at least this, leaves room for drift and noise. A bound of microseconds thus
// rejects an offset a millisecond off (an NTP figure, say), which would move every clock fitted
// against it and blame the resulting negative latencies on the wrong segment; a loose bound (100 µs
// or more) gives ten times itself, as before.
const minTightTol = int64(50 * time.Microsecond)

// clocksFor estimates every node's clock, fixing the ones opts.Offsets gives, except those the
// traffic contradicts: a given offset farther from calipath's own estimate than ten times the
// estimate's bound (at least minTightTol; for an estimate bounded on one side only, farther than the
// window, at least minOffsetTol, which no packet could then bridge) is left out, because applying it would split every
// packet crossing that node into two journeys. Those are returned, to be said loudly.
func (w *world) clocksFor(opts Options) ([]clockModel, []offsetFit) {
	if len(opts.Offsets) == 0 {
		return w.estimateClocks(nil), nil
	}
	auto := w.estimateClocksAvoid(nil, opts.Offsets) // against the reference the final estimate will have
	ref := -1
	for n := range auto {
		if auto[n].method == "reference" {
			ref = n
		}
	}
	if ref < 0 { // nothing crosses between the nodes: nothing to hold the offsets against
		return w.estimateClocks(opts.Offsets), nil
	}
	// The given offsets are against the reference node, which is one without --offset where there is
	// one; when every node crossed to is given one, the reference too, every estimate moves with it.
	base := int64(opts.Offsets[w.nodes[ref]])
	// A drifting clock's estimate is a line: the given (constant) offset is held against its values
	// over the capture's span.
	var span float64
	for _, p := range w.c.Points {
		if tr := &p.Traffic; tr.Frames > 0 {
			span = max(span, float64(tr.Last-auto[ref].t0))
		}
	}
	var bad []offsetFit
	kept := map[string]time.Duration{}
	for _, name := range sortedKeys(opts.Offsets) {
		given := opts.Offsets[name]
		kept[name] = given
		n, ok := w.nodeIdx[name]
		if !ok || n == ref || auto[n].samples == 0 {
			continue // no estimate to hold it against
		}
		m := auto[n]
		lo, hi := m.theta(0), m.theta(span)
		if lo > hi {
			lo, hi = hi, lo
		}
		rel := float64(int64(given) - base)
		dist := max(lo-rel, rel-hi, 0)
		tol := max(10*m.bound, minTightTol)
		if m.bound < 0 {
			tol = max(int64(opts.Window), minOffsetTol)
		}
		if dist > float64(tol) {
			delete(kept, name)
			bad = append(bad, offsetFit{node: n, given: given, est: base + m.offset, bound: m.bound, tol: tol})
		}
	}
	if len(bad) == 0 {
		return w.estimateClocks(opts.Offsets), nil
	}
	clocks := w.estimateClocksAvoid(kept, opts.Offsets)
	for _, b := range bad {
		clocks[b.node].method += fmt.Sprintf("; --offset %s contradicted, not used", b.given)
	}
	return clocks, bad
}

// detectUnnamedPoints lists the captures nothing named the interface of (fit: the input does not fit).
func detectUnnamedPoints(f *findings, k *kindRow) []Anomaly {
	var out []Anomaly
	for _, u := range unnamedPoints(f.a.w.c) {
		an := k.anomaly(k.severity, Where{Point: u.id}, nil, f.ids, 1, nil, u.what)
		an.Next = u.fix
		out = append(out, an)
	}
	return out
}

// detectSharedVeths lists the pod-veth points whose frames carry several pods.
func detectSharedVeths(f *findings, k *kindRow) []Anomaly {
	var out []Anomaly
	a := f.a
	for i, p := range a.w.c.Points {
		if p.Role != decode.RolePodVeth || strings.HasPrefix(p.Iface, "any") {
			continue // -i any pseudo-interfaces carry every pod of their node by design
		}
		pods := podsAt(a.w, i)
		if len(pods) < 2 {
			continue
		}
		list := strings.Join(pods, ", ")
		if len(pods) > 8 {
			list = strings.Join(pods[:8], ", ") + ", …"
		}
		an := k.anomaly(k.severity, Where{Point: p.ID}, nil, f.ids, len(pods), nil,
			fmt.Sprintf("Its frames carry %d pods (%s).", len(pods), list))
		an.Next = fmt.Sprintf("Capture each pod's cali interface into its own file named <node>-<cali>.pcap "+
			"(tcpdump -i <cali>), or say which interface a file is with --point NODE:IFACE=FILE; the frames of %s "+
			"cannot be split after the fact.", strings.Join(a.pointFiles(i), ", "))
		out = append(out, an)
	}
	return out
}

// detectContradictedOffsets lists the --offset values the traffic contradicts (left out by clocksFor).
func detectContradictedOffsets(f *findings, k *kindRow) []Anomaly {
	var out []Anomaly
	for _, b := range f.a.offFits {
		name := f.a.w.nodes[b.node]
		est := fmt.Sprintf("%s ± %s", time.Duration(b.est), time.Duration(b.bound))
		if b.bound < 0 {
			est = fmt.Sprintf("%s (bounded on one side only; a value farther than %s from it leaves no packet matched)",
				time.Duration(b.est), time.Duration(b.tol))
		}
		an := k.anomaly(k.severity, Where{Node: name}, nil, f.ids, 1, nil, fmt.Sprintf(
			"--offset %s=%s contradicts the traffic: the packets crossing to and from %s put its offset at %s, %s away; "+
				"with the given offset they would arrive before they left, or too far apart to be matched, each split "+
				"into two journeys.", name, b.given, name, est, time.Duration(abs64(int64(b.given)-b.est))))
		an.Next = fmt.Sprintf("Drop --offset %s (calipath estimates it), or check its sign and unit: it is %s's "+
			"clock minus the reference node's%s.", name, name, f.a.refNamed())
		out = append(out, an)
	}
	return out
}

// refNamed returns " (NODE)" for the reference node of the clocks, "" when there is none.
func (a *analysis) refNamed() string {
	for n, m := range a.clocks {
		if m.method == "reference" {
			return " (" + a.w.nodes[n] + ")"
		}
	}
	return ""
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// FitKinds lists the anomaly kinds that say the input or the options do not fit the traffic, so the
// report rests on less than it seems: a command line also prints them on stderr, where they cannot be
// missed.
func FitKinds() []string {
	return []string{"offset-contradicted", "node-ip-contradicted", "point-files-disagree", "any-iface-tied", "window-too-small", "ambiguous-packets", "pod-veth-shared", "point-unnamed", "clock-step"}
}

// closedSlots is the size of the matcher's table of recently closed journeys.
const closedSlots = 1 << 12

// closedJ is a closed journey, as the window check needs it.
type closedJ struct {
	exact   uint64
	exact0  uint64 // (recent only) exact fingerprint of its first sighting
	loose   uint64 // (recent only) NAT-tolerant fingerprint
	lastG   uint32 // (recent only) global id of its latest hop's observation
	node    int16  // (recent only) node of its latest hop
	lastTs  int64
	j       int32
	nstages uint8
	stages  [maxStages]uint32
}

// lateEv is a new journey that looks like an older one's packet seen past the window: same exact
// fingerprint, at a point the older one had not visited, later than the window allows.
type lateEv struct {
	old, new int32
	gap      int64 // corrected time from the older journey's last sighting to the new one's first
	nat      bool  // the new journey is the packet after a NAT rewrite (noteLateNAT)
}

// passedStages are the stages where a packet was seen before a journey opened for it again past the
// window: those of the older journey that noteLate notes the new one continues (also when it forgets
// the note past maxLate: the new journey is that packet all the same). The new journey takes them as
// its own (jstate.inherit), as one journey would have them had the window held the packet: a
// copy of a frame the packet left at one of them, written moments later, is then a duplicate copy of
// the new journey, not its next hop back where it came from (TestWindowTooSmallLateCopy). Before, such
// a copy joined the new journey; in the same microsecond as the packet's next sighting, with that
// sighting's file read first (node-2-eth0.pcap sorts before node-2-tunl0.pcap), the copy was its first
// hop, so the two journeys could not be joined (the second did not go on past where the first ended)
// and the packet counted as sent twice, its first half not captured (TestWindowTooSmallGenerated,
// seeds 3 and 5). A journey noteLateNAT notes (the packet after a NAT rewrite) takes none: a copy of
// the frame before the rewrite has the older journey's exact fingerprint, and pastDup finds that
// journey before a NAT candidate is taken.
type passedStages struct {
	stages [maxStages]uint32
	n      uint8
}

// maxLate bounds the late sightings kept (a tiny window gives one per packet). Once it is reached, a
// late sighting is forgotten (matcher.lateForgotten counts them) and lateUncertain says the losses may
// be such packets. A variable only so that tests can reach it with a small set.
var maxLate = 1 << 16

// noteLate is called before a sighting at t, at stage, opens journey next: when an open journey
// (open ≥ 0) or a recently closed one carried the same exact fingerprint e, was last seen more than
// the window before t and never at this stage, the sighting may be its packet, seen again after the
// window closed. It is kept for the analysis to confirm (the older journey ended early on its path and
// the new one goes on further along it).
func (m *matcher) noteLate(open int32, e uint64, stage uint32, t int64, next int32) bool {
	var ev lateEv
	if open >= 0 {
		js := m.st(open)
		if js.visited(stage) {
			return false
		}
		ev = lateEv{old: open, new: next, gap: t - js.lastTs}
		m.passed = passedStages{js.stages, js.nstages}
	} else {
		var c *closedJ
		if m.recent != nil {
			c = m.recent.latest(e) // every journey closed within lateNATWin (recent.go)
		}
		if c == nil { // the direct-mapped table: a longer window, or a longer gap
			if m.closedExact[e&(closedSlots-1)] != e {
				return false
			}
			c = &m.closed[e&(closedSlots-1)]
		}
		if c.exact != e || c.nstages == 0 || t-c.lastTs <= m.window || c.visitedStage(stage) {
			return false
		}
		ev = lateEv{old: c.j, new: next, gap: t - c.lastTs}
		m.passed = passedStages{c.stages, c.nstages}
	}
	if len(m.late) >= maxLate {
		m.lateForgotten++ // noted as forgotten: noteLateNAT would keep nothing either
		return true
	}
	m.late = append(m.late, ev)
	return true
}

// detectWindowTooSmall says which packets were split in two because --window is shorter than a hop (or a
// clock is off by more than the window), joined again by lateStage.joinLate, and names a window that fits.
func detectWindowTooSmall(f *findings, k *kindRow) []Anomaly {
	a, w, ids := f.a, f.a.w, f.ids
	n, gapLo, gapHi := 0, int64(1<<62), int64(0)
	perSeg := map[lateSeg]int{}
	flows := map[int32]bool{}
	var ev []Evidence
	for _, l := range a.lateJoins {
		n++
		gapLo, gapHi = min(gapLo, l.gap), max(gapHi, l.gap)
		perSeg[lateSeg{l.last, l.first}]++
		flows[a.jFlow[l.old]] = true
		if len(ev) < 10 {
			ev = append(ev, a.evidence(a.hops(int(l.new))[0]))
		}
	}
	// Packets seen again past the window that could not be joined: counted as not captured where their
	// first half ended (see joinLate), never as lost, and said here.
	unjoined := 0
	var unjoinedAt []int
	for _, j := range sortedJourneys(a.lateUnjoined) {
		unjoined++
		flows[a.jFlow[j]] = true
		if h := a.hops(int(j)); len(h) > 0 {
			unjoinedAt = append(unjoinedAt, a.point(h[len(h)-1]))
			if len(ev) < 10 {
				ev = append(ev, a.evidence(h[len(h)-1]))
			}
		}
	}
	if n == 0 && unjoined == 0 {
		return nil
	}
	halves := "" // the later halves of the packets not joined: never counted lost either (lateOrphans)
	if len(a.lateOrphans) > 0 {
		halves = fmt.Sprintf(" The later halves of such packets (%d journeys, each seen alone past the window, its "+
			"place on the path unknown) are not counted as lost either.", len(a.lateOrphans))
	}
	if n == 0 {
		at := w.c.Points[unjoinedAt[0]].ID
		detail := fmt.Sprintf("%d packets seemed to end early on their path (first at %s) and a packet like each was seen "+
			"again past --window %s: calipath could not join them, so they are counted as not captured there, not "+
			"as lost.%s", unjoined, at, time.Duration(a.opts.Window), halves)
		an := k.anomaly(k.severity, Where{Point: at}, flows, ids, unjoined, ev, detail)
		an.Next = fmt.Sprintf("Re-run with --window %s or more (the default, 1s, fits most captures).",
			niceCeil(2*lateNATWin))
		return []Anomaly{an}
	}
	segs, names := lateSegs(w, perSeg)
	more := ""
	if unjoined > 0 {
		more = fmt.Sprintf(" %d more packets seemed to end early and were seen again past the window but could not be "+
			"joined: they are counted as not captured, not as lost.%s", unjoined, halves)
	}
	if a.journeys.lateForgotten > 0 {
		more += fmt.Sprintf(" Only the first %d such sightings were kept and %d more were forgotten: those packets may "+
			"still be counted as lost, so the losses are not certain (their errors are warnings).", maxLate,
			a.journeys.lateForgotten)
	}
	detail := fmt.Sprintf("%d packets were seen again further along their path %s to %s after their previous sighting, "+
		"longer than --window %s (%s): each was followed as two journeys, joined again and counted once, with the "+
		"outcome of its second half, not as lost where its first half seemed to end.%s", n, time.Duration(gapLo),
		time.Duration(gapHi), time.Duration(a.opts.Window), strings.Join(names, ", "), more)
	an := k.anomaly(k.severity, Where{From: w.c.Points[segs[0].from].ID, To: w.c.Points[segs[0].to].ID},
		flows, ids, n+unjoined, ev, detail)
	an.Next = fmt.Sprintf("Re-run with --window %s or more (the default, 1s, fits most captures).", niceCeil(2*gapHi))
	return []Anomaly{an}
}

// lateSeg is a segment packets were split on: from the point their first half ended at to the one
// their second half began at.
type lateSeg struct{ from, to int }

// lateSegs orders the segments packets were split on, most packets first, and names up to three of
// them with their counts.
func lateSegs(w *world, perSeg map[lateSeg]int) ([]lateSeg, []string) {
	segs := make([]lateSeg, 0, len(perSeg))
	for s := range perSeg {
		segs = append(segs, s)
	}
	sort.Slice(segs, func(i, j int) bool {
		x, y := segs[i], segs[j]
		if perSeg[x] != perSeg[y] {
			return perSeg[x] > perSeg[y]
		}
		if x.from != y.from {
			return x.from < y.from
		}
		return x.to < y.to
	})
	var names []string
	for i, s := range segs {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more segments", len(segs)-3))
			break
		}
		names = append(names, fmt.Sprintf("%d at %s → %s", perSeg[s], w.c.Points[s.from].ID, w.c.Points[s.to].ID))
	}
	return segs, names
}

// niceCeil rounds d up to 1, 2 or 5 times a power of ten (in nanoseconds).
func niceCeil(d int64) time.Duration {
	p := int64(1)
	for {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= d {
				return time.Duration(m * p)
			}
		}
		p *= 10
	}
}

// podsAt lists the pod addresses a pod-veth point's frames single out by the Calico MAC: sources of
// frames sent to ee:ee:ee:ee:ee:ee and destinations of frames from it. One pod's veth has one (one of
// each family for a dual-stack pod).
//
// Frames that all came from one MAC besides the host end's (ee:ee:ee:ee:ee:ee) are one pod's, whatever
// addresses they carry: a pod that forwards others' packets and rewrites them in its own namespace (an
// egress gateway, which masquerades a client pod's packets to its own address and un-masquerades the
// replies) carries the client's and the far side's addresses on its veth too. Several pods' frames
// come from several MACs (each pod's eth0 has its own), unless their MACs are the same (pods on one
// bridge given one MAC, a capture whose MACs were rewritten): then it is several pods all the same
// when two of those addresses sent frames of their own (an initial TTL, or an ARP request from the
// pod's MAC: world.podOwnMany), which a forwarding pod does from its own address alone.
func podsAt(w *world, p int) []string {
	tr := &w.c.Points[p].Traffic
	if onePodMAC(tr) && !w.podOwnMany[p] {
		return nil
	}
	v4, v6 := map[[4]byte]bool{}, map[[16]byte]bool{}
	for i := 0; i < tr.NPodSrc; i++ {
		v4[tr.PodSrcs[i]] = true
	}
	for i := 0; i < tr.NPodDst; i++ {
		v4[tr.PodDsts[i]] = true
	}
	for i := 0; i < tr.NPodSrc6; i++ {
		v6[tr.PodSrcs6[i]] = true
	}
	for i := 0; i < tr.NPodDst6; i++ {
		v6[tr.PodDsts6[i]] = true
	}
	if len(v4) < 2 && len(v6) < 2 {
		return nil
	}
	var out []netip.Addr
	for a := range v4 {
		out = append(out, netip.AddrFrom4(a))
	}
	for a := range v6 {
		out = append(out, netip.AddrFrom16(a))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	strs := make([]string, len(out))
	for i, a := range out {
		strs[i] = a.String()
	}
	return strs
}

// onePodMAC reports whether the frames of a pod veth's traffic tr came from exactly one MAC besides
// the host end's: one pod's eth0 (podsAt).
func onePodMAC(tr *decode.Traffic) bool {
	n := 0
	for _, m := range tr.Senders() {
		if m != decode.CalicoMAC {
			n++
		}
	}
	return n == 1
}

// pointFiles lists the files point p's frames came from.
func (a *analysis) pointFiles(p int) []string {
	return filesOf(a.w.c, &a.w.c.Points[p])
}

func filesOf(c *decode.Capture, p *decode.Point) []string {
	seen := map[string]bool{}
	for _, s := range p.Sources {
		if int(s) < len(c.Sources) {
			if f := int(c.Sources[s].File); f < len(c.Files) {
				seen[c.Files[f].Path] = true
			}
		}
	}
	return sortedKeys(seen)
}

// unnamed is a capture point whose interface nothing named, with what calipath did and the fix, and
// the same as a one-line hint.
type unnamed struct {
	id, what, fix, hint string
}

// ifaceExample is an interface name to show in a --point example, by role.
var ifaceExample = map[decode.Role]string{decode.RolePodVeth: "calic440f455693", decode.RoleTunnel: "tunl0",
	decode.RoleUnderlay: "eth0"}

// unnamedPoints finds the points whose interface neither --point, the file name, a pcapng interface
// name nor --links gave: calipath took the file's name for the node and guessed the role.
func unnamedPoints(c *decode.Capture) []unnamed {
	var out []unnamed
	example := "node-a"
	for _, p := range c.Points {
		if p.Iface != "unknown" && !strings.HasPrefix(p.Iface, "any") {
			example = p.Node // a node that was named: the example is closer to home
			break
		}
	}
	for i := range c.Points {
		p := &c.Points[i]
		if p.Iface != "unknown" || strings.HasPrefix(p.Reason, "--point") {
			continue
		}
		files := filesOf(c, p)
		if len(files) == 0 {
			continue
		}
		f := files[0]
		iface := ifaceExample[p.Role]
		if iface == "" {
			iface = "eth0"
		}
		role := "its role is unknown"
		if p.Role != decode.RoleUnknown {
			role = "its role (" + p.Role.String() + ") was inferred from the traffic"
		}
		u := unnamed{id: p.ID,
			what: fmt.Sprintf("The name of %s does not read <node>-<iface>.pcap (e.g. node-a-eth0.pcap), nor does a pcapng "+
				"interface name say it: calipath took %q for its node, and %s.", filepath.Base(f), p.Node, role),
			fix: fmt.Sprintf("Rename the file <node>-<iface>.pcap, or give --point NODE:IFACE=%s (e.g. --point %s:%s=%s).",
				f, example, iface, f),
			hint: fmt.Sprintf("%s: no <node>-<iface> in the file name (e.g. node-a-eth0.pcap), so calipath took node %q, "+
				"interface unknown; say where it was captured with --point NODE:IFACE=%s (e.g. --point %s:%s=%s)",
				f, p.Node, f, example, iface, f)}
		if repeated(&p.Traffic) {
			u.what += mergedNote
			u.fix = mergedFix
			u.hint += "; " + mergedNote[1:]
		} else if nodeFile(c, p, f) {
			note := fmt.Sprintf(" If %s is %s's captures merged into one file (mergecap; such a file is named after its node), calipath could "+
				"not split it into its interfaces: it shows no packet at two of them, so it is read as one. An interface "+
				"that captured nothing (a pod's veth that every packet missed: where a drop shows) leaves no trace in a "+
				"merged file, so packets lost before it are counted as not captured, not lost.", filepath.Base(f), p.Node)
			u.what += note
			u.fix = mergedFix
			u.hint += ";" + note
		}
		out = append(out, u)
	}
	return out
}

// nodeFile reports whether the unnamed capture point p is file f alone, of one Ethernet interface (as
// mergecap writes a pcap), named after the point's node only (NODE.pcap), a node the other inputs name
// too: how a node's captures merged into one file are named, which calipath splits into its stages
// when they show packets at two of them.
func nodeFile(c *decode.Capture, p *decode.Point, f string) bool {
	if len(p.Sources) != 1 || int(p.Sources[0]) >= len(c.Sources) {
		return false
	}
	fi := int(c.Sources[p.Sources[0]].File)
	if fi >= len(c.Files) || len(c.Files[fi].Interfaces) != 1 || c.Files[fi].Interfaces[0].LinkType != decode.LinkEthernet {
		return false
	}
	if node, iface := decode.SplitFileName(f); iface != "" || node != p.Node {
		return false
	}
	for _, q := range c.Points { // a node other inputs name: not just any file's name
		if q.Node == p.Node && q.Iface != "unknown" {
			return true
		}
	}
	return false
}

// mergedNote and mergedFix are said of an unnamed capture whose frames hold the same packets several
// times (repeated): the counts through it are not packets.
const (
	mergedNote = " Its frames are of several interfaces (a pod's veth, and the tunnel device or eth0) merged into one " +
		"unnamed interface, as mergecap gives of one node's captures, and hold most packets two or more times, at " +
		"different times. Each copy is then counted as a packet of its own, so the " +
		"packet counts through this point (sent, delivered, lost, retransmissions) count the same packets several " +
		"times and are not per packet."
	mergedFix = "Give each interface's capture as its own file named <node>-<iface>.pcap, not merged (or a pcapng that " +
		"keeps one named interface per capture, as tcpdump or dumpcap -i A -i B write it); calipath then follows each " +
		"packet through the interfaces."
)

// repeated reports whether a capture holds frames of a pod's veth (to or from ee:ee:ee:ee:ee:ee) and
// of the tunnel or the underlay (encapsulated, or between VTEP MACs), and most of its sampled frames
// share their fingerprint with another sample of it taken at another time: the same packets seen at
// several interfaces. (A capture that wrote each frame twice, a few microseconds apart, repeats too,
// but it is counted right: the copies are the same frame, told apart as duplicates; it holds one
// interface's shapes only.)
func repeated(t *decode.Traffic) bool {
	n, rep := t.NSamples, 0
	if n < 8 || t.CalicoMAC == 0 || t.IPIP+t.VXLAN+t.VTEPMAC == 0 {
		return false
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j && t.Samples[i].FP == t.Samples[j].FP && t.Samples[i].Ts != t.Samples[j].Ts {
				rep++
				break
			}
		}
	}
	return 2*rep >= n
}

// NamingHints returns, for each capture whose interface nothing named (see the point-unnamed anomaly),
// one line saying so and how to name it, for commands that print no report.
func NamingHints(c *decode.Capture) []string {
	var out []string
	for _, u := range unnamedPoints(c) {
		out = append(out, u.hint)
	}
	return out
}

// pastDup returns the recently closed journey (or -1) whose frame a sighting at t, at stage, with exact
// fingerprint e copies: seen at that stage at most win (copyWin) before t. With --window at least dupWin the
// journey is still open then and the matcher finds the copy itself; a shorter window has closed it, and
// the copy would otherwise open a journey of its own, a packet sent twice and seemingly lost.
func (m *matcher) pastDup(e uint64, stage uint32, t, win int64) int32 {
	if m.window >= m.dupWin {
		return -1
	}
	if m.recent != nil { // always, as dupWin < lateNATWin: every piece of a split packet (recent.go)
		return m.recent.dupOf(e, stage, t, win)
	}
	if m.closedExact[e&(closedSlots-1)] != e {
		return -1
	}
	c := &m.closed[e&(closedSlots-1)]
	if c.exact != e || c.nstages == 0 || t-c.lastTs > win || t < c.lastTs {
		return -1
	}
	for i := uint8(0); i < c.nstages; i++ {
		if c.stages[i] == stage {
			return c.j
		}
	}
	return -1
}

// filesWhere returns the base names of c's files that keep holds for, in input order.
func filesWhere(c *decode.Capture, keep func(*decode.FileInfo) bool) []string {
	var names []string
	for _, f := range c.Files {
		if keep(f) {
			names = append(names, filepath.Base(f.Path))
		}
	}
	return names
}

// routedUnreliable is the summary's Unreliable when a file holds packets twice, one router apart
// (decode's FileInfo.Routed: a router's interfaces merged into one file, read as one interface), else
// "". A packet there is one sighting, so a loss inside the router reads as one after it.
func routedUnreliable(c *decode.Capture) string {
	names := filesWhere(c, func(f *decode.FileInfo) bool { return f.Routed && !f.RoutedCooked })
	cooked := filesWhere(c, func(f *decode.FileInfo) bool { return f.RoutedCooked })
	var out []string
	if len(names) > 0 {
		out = append(out, fmt.Sprintf("%s holds packets twice, one router apart (a router's interfaces merged into one file, read as "+
			"one interface), so where packets were lost around that router is not known and the sent, delivered and lost "+
			"counts are unreliable; give each of the router's interfaces as its own file", strings.Join(names, ", ")))
	}
	if len(cooked) > 0 {
		out = append(out, fmt.Sprintf("%s is a router's cooked v1 -i any capture (LINUX_SLL, no interface index): each packet "+
			"the router forwarded is in it twice, coming in and going out, read as one point, so a loss inside that router "+
			"reads as one after it; capture the router with tcpdump 4.99 or later (cooked v2) or each of its interfaces "+
			"to its own file", strings.Join(cooked, ", ")))
	}
	return strings.Join(out, "; ")
}

// unsplitUnreliable is the summary's Unreliable when a file holds a node's captures merged into one but
// was read as one interface (decode's FileInfo.Unsplit: its first records did not show it, and
// it was read once only, as standard input or a FIFO), else "". The same packet at the pod's veth and
// at eth0 is then two packets at one point, so the counts are not per packet.
func unsplitUnreliable(c *decode.Capture) string {
	names := filesWhere(c, func(f *decode.FileInfo) bool { return f.Unsplit })
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s holds several interfaces of a node (a pod's veth beside eth0 or the tunnel device), merged "+
		"into one file and read as one interface (its first records did not show it, and a stream cannot be read "+
		"again split), so a packet there is counted once per interface it crossed: the sent, delivered and lost counts "+
		"are unreliable; give the file itself rather than a stream, or each interface's capture as its own file",
		strings.Join(names, ", "))
}
