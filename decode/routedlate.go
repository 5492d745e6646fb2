package decode

import (
	"errors"
	"fmt"
	"slices"
)

// A router's two interfaces merged into one file whose first records are one interface's (mergecap -a
// router-1-eth0.pcap router-1-eth1.pcap writes eth0's records, then eth1's): the merged probe reads
// one interface's traffic (probeLeft) and finds no packet there twice (probeState.hop), as each
// forwarded packet's copy at the other interface comes thousands of records later. The file's time
// then goes back where the second capture starts (Stamps.InOrder), which the scan notes anyway: only
// such a file is looked at again, in its Observations in memory (routedLate), for packets seen twice
// within routedWin with the TTL one lower; their link addresses are then read again from the file
// (routedMACs): through two different MACs of the router, it is its interfaces merged; through the
// one MAC, a router sending packets back out the interface they came in on, one interface's capture.
// A router's file in time order (its node has no pod-veth or tunnel point: routerFiles) is searched
// too: merged in time order while one interface was quiet over the probe's records. A Calico node's
// file in time order (every ordinary capture of a node) costs one test of a flag.
//
// So a router's interfaces merged in time order into a file named as a Calico node's (its node has a
// pod-veth or tunnel point among the inputs) are not found past the probe. No cheap rule that is
// also safe picks such files out: searching every such file flagged no lab capture (all scenarios,
// the three shapes), but costs a sort of all its Observations: report on a 300,000-frame generated
// set went from 1,105 M to 1,292 M instructions (+17%). What the scan keeps for nothing cannot tell
// them either: a source's MACs (Traffic.MACs) come from its sampled frames, the first few hundred,
// inside the probe's records where one interface was quiet; MAC pairs past them would have to be
// gathered frame by frame, and a one-interface capture may show two router MACs with the TTL one
// lower (a router sending out the interface it took the packet in on from a virtual gateway MAC
// such as VRRP's, seen on a bridge or a mirror port), so they would only pick files to search, at a
// per-frame cost on every file. The ScanPoints path (points, packets) has the same limit.

// routedCopy is an Observation of a routed packet's copy found by routedPairs: the file's Observations
// i (the sighting with the higher TTL, before the router) and j (after it).
type routedCopy struct{ i, j int }

// routedObs is an IP Observation as routedPairs sorts them.
type routedObs struct {
	key uint64 // the exact fingerprint
	ts  int64
	i   int
	ttl uint8 // the TTL a router decrements: the outer header's, when encapsulated
}

// routedPairs returns the packets of a file (its Observations obs, their fingerprints loose and times
// st, their contexts in ctx) that are there twice within routedWin, the later time with the TTL one
// lower: each as the indexes of its two Observations.
func routedPairs(obs []Observation, loose *Fingerprints, st *Stamps, ctx []HdrCtx, t *Tables) []routedCopy {
	seen := make([]routedObs, 0, len(obs))
	for i := range obs {
		o := &obs[i]
		if o.Flags&(FlagARP|FlagNotIP|FlagTruncated|FlagError) != 0 {
			continue
		}
		lo := loose.At(i)
		if lo == 0 {
			continue
		}
		ttl := o.TTL
		if o.Encap() != EncapNone && int(o.Ctx) < len(ctx) {
			ttl = ctx[o.Ctx].OuterTTL
		}
		seen = append(seen, routedObs{key: exactOf(t, o, lo), ts: st.Ts(i, o), i: i, ttl: ttl})
	}
	slices.SortFunc(seen, func(a, b routedObs) int {
		switch {
		case a.key != b.key:
			if a.key < b.key {
				return -1
			}
			return 1
		case a.ts != b.ts:
			if a.ts < b.ts {
				return -1
			}
			return 1
		}
		return a.i - b.i
	})
	var out []routedCopy
	for k := 0; k+1 < len(seen); k++ {
		a, b := &seen[k], &seen[k+1]
		if a.key != b.key || b.ts-a.ts > routedWin {
			continue
		}
		switch {
		case a.ttl == b.ttl+1:
			out = append(out, routedCopy{a.i, b.i})
		case a.ts == b.ts && b.ttl == a.ttl+1:
			out = append(out, routedCopy{b.i, a.i})
		default:
			continue
		}
		k++ // each sighting in one pair at most
	}
	return out
}

// routedMACs reads the file at path again and returns, of the pairs (their frames numbered by st),
// those whose two frames went through two different MACs of the router: the destination of the
// sighting before it is not the source of the one after. ok is false when the file could not be
// read again as it was.
func routedMACs(path string, opts Options, st *Stamps, pairs []routedCopy) (two []routedCopy, in, out [6]byte, ok bool) {
	want := make(map[uint32][12]byte, 2*len(pairs))
	for _, p := range pairs {
		want[st.Frame(p.i)], want[st.Frame(p.j)] = [12]byte{}, [12]byte{}
	}
	r, cl, err := openInput(path, opts)
	if err != nil {
		return nil, in, out, false
	}
	defer cl.Close()
	var rec Record
	found := 0
	for found < len(want) {
		if err := r.Next(&rec); err != nil {
			var re *RecordError
			if errors.As(err, &re) {
				continue
			}
			break
		}
		if _, w := want[rec.Frame]; w && rec.LinkType == LinkEthernet && len(rec.Data) >= 12 {
			want[rec.Frame] = [12]byte(rec.Data[:12])
			found++
		}
	}
	if found < len(want) {
		return nil, in, out, false
	}
	for _, p := range pairs {
		before, after := want[st.Frame(p.i)], want[st.Frame(p.j)]
		if [6]byte(before[:6]) != [6]byte(after[6:]) && before != after {
			if len(two) == 0 {
				in, out = [6]byte(before[:6]), [6]byte(after[6:])
			}
			two = append(two, p)
		}
	}
	return two, in, out, true
}

// routedLate finds, among the files of c the merged probe read as one interface's capture and found no
// router in (probeLeft), those whose time goes back (Stamps.InOrder: captures written one after the
// other) or that are a router's (routerFiles): routedCandidate. Those that hold minMergedDup packets or
// more twice, one router apart (routedPairs, through two of its MACs: routedMACs), it marks Routed with
// a problem, as the probe does (routedJudge).
func routedLate(c *Capture, opts Options) {
	var router []bool
	for f, fi := range c.Files {
		if f >= len(c.Obs) || f >= len(c.Stamps) || f >= len(c.Loose) ||
			!routedCandidate(c, f, c.Stamps[f].InOrder(), &router) {
			continue
		}
		routedJudge(fi, opts, routedPairs(c.Obs[f], &c.Loose[f], &c.Stamps[f], c.Tables.CtxAll(), c.Tables), &c.Stamps[f])
	}
}

// routedCandidate reports whether routedLate looks at file f of c (its time in order or not: inOrder):
// one the merged probe read as one interface's and found no router in, whose time goes back or which
// is a router's (routerFiles, made into *router on first need).
func routedCandidate(c *Capture, f int, inOrder bool, router *[]bool) bool {
	fi := c.Files[f]
	if fi.Routed || fi.Unsplit || (fi.probeLeft.records == 0 && !fi.cooked) || len(fi.CookedIfaces) > 0 {
		return false
	}
	if fi.cooked {
		// A cooked v1 -i any capture (no merged probe: not Ethernet) is searched when it is a
		// router's: a Calico node's holds packets it routed between its own interfaces too.
		if *router == nil {
			*router = routerFiles(c)
		}
		return f < len(*router) && (*router)[f]
	}
	if !inOrder {
		return true
	}
	if *router == nil {
		*router = routerFiles(c)
	}
	return f < len(*router) && (*router)[f]
}

// routedJudge marks fi Routed with a problem when pairs, its packets seen twice one router apart (their
// frames numbered by st), are minMergedDup or more through two different MACs of the router
// (routedMACs). A file read once only (standard input, a FIFO) cannot be read again for the link
// addresses: its problem says that it is a router's interfaces merged or one sending packets back out
// the interface they came in on.
func routedJudge(fi *FileInfo, opts Options, pairs []routedCopy, st *Stamps) {
	if len(pairs) < minMergedDup {
		return
	}
	if fi.cooked {
		// -i any holds every interface of the router: no link addresses to check (cooked v1 keeps the
		// sender's only), and none are needed.
		fi.Routed, fi.RoutedCooked = true, true
		fi.problem("a Linux cooked v1 capture (tcpdump -i any before 4.99, or -y LINUX_SLL) of a router, which "+
			"records no interface: %d packets are in it twice, within %s of each other with the TTL one lower the "+
			"second time (in through one of its interfaces, out through another). calipath reads it as one point, "+
			"where such a packet is one sighting: its way in cannot be told from its way out, so a loss inside the "+
			"router reads as one after it, and the time packets spent in it is counted in the next hop; capture the "+
			"router with tcpdump 4.99 or later (cooked v2, LINUX_SLL2, which records each frame's interface), or "+
			"each of its interfaces to its own file (<router>-<iface>.pcap)%s", len(pairs), fmtAgo(uint64(routedWin)), cookedUnsplit(fi))
		return
	}
	if streamInput(fi.Path, opts) {
		fi.Routed = true
		fi.problem("%s, but past them the whole file holds %d packets twice, within %s of each other with the "+
			"TTL one lower the second time: a router's interfaces merged into one file (mergecap -a writes one "+
			"file after the other), or a router sending packets back out the interface they came in on; read "+
			"once only (standard input, a FIFO), the file cannot be read again, so their link addresses could not "+
			"be checked to tell which. calipath reads it as one interface, where such a packet is one sighting: a loss inside "+
			"the router reads as one after it, and the sent, delivered and lost counts are unreliable; give "+
			"each of the router's interfaces as its own file (<router>-<iface>.pcap), or the file itself "+
			"rather than a stream to have them checked", routedLeft(fi.probeLeft), len(pairs), fmtAgo(uint64(routedWin)))
		return
	}
	two, in, out, ok := routedMACs(fi.Path, opts, st, pairs)
	switch {
	case !ok:
		fi.Routed = true
		fi.problem("%s, but past them the whole file holds %d packets twice, within %s of each other with the "+
			"TTL one lower the second time, and it could not be read again to check their link addresses: a "+
			"router's interfaces merged into one file (mergecap -a), or a router sending packets back out the "+
			"interface they came in on; the sent, delivered and lost counts around it are unreliable; give each "+
			"of the router's interfaces as its own file (<router>-<iface>.pcap)", routedLeft(fi.probeLeft), len(pairs),
			fmtAgo(uint64(routedWin)))
	case len(two) >= minMergedDup:
		fi.Routed = true
		fi.problem("%s, but past them the whole file holds %d packets twice, within %s of each other with the "+
			"TTL one lower the second time, in through %s and out through %s: a router's interfaces merged into "+
			"one file (mergecap -a writes one file after the other). calipath reads it as one interface, where "+
			"such a packet is one sighting: a loss inside the router reads as one after it, and the sent, "+
			"delivered and lost counts are unreliable; give each of the router's interfaces as its own file "+
			"(<router>-<iface>.pcap)", routedLeft(fi.probeLeft), len(two), fmtAgo(uint64(routedWin)), fmtMAC(in), fmtMAC(out))
	}
}

// ScanPoints scans files without keeping their frames and identifies their capture points (ScanFiles
// without a ScanFunc, then IdentifyFiles), for a command that lists the points or the frames
// (calipath points, packets), and tells what Load's routedLate tells of a router's interfaces merged
// into one file (routedScanned). Only a file routedLate may look at is read again; others cost
// nothing more.
func ScanPoints(paths []string, opts Options, t *Tables, cfg PointConfig) *Capture {
	paths, _ = inOrder(paths, nil)
	files := ScanFiles(paths, opts, t, nil)
	c := IdentifyFiles(files, t, cfg)
	routedScanned(c, opts, paths)
	return misnamedScanned(c, opts, t, cfg)
}

// routedScanned is routedLate for the files of c scanned without their frames (ScanPoints). Their
// time order was not stamped, so a file is picked for a read again by what its scan noted: one the
// merged probe read as one interface's and found no router in, that is a router's (routerFiles), or
// whose time went back on one of its capture sources (Traffic.back), or that has several (whose
// times together may go back while each one's do not). That read keeps its Observations, their
// fingerprints taken on the fields Load would take them on (its SnapMatch: loadSnapped), and their
// times: routedCandidate then decides on the file's time order as routedLate does, and the file is
// judged as routedLate judges it. A file read once only (standard input, a FIFO) cannot be read again:
// it is not looked at past the merged probe, and c.Unsearched says so.
func routedScanned(c *Capture, opts Options, paths []string) {
	if l := SnapLevel(c.Files); l > opts.SnapMatch && !slices.Contains(paths, "-") {
		opts.SnapMatch = l
	}
	var router []bool
	for f, fi := range c.Files {
		back := len(fi.Traffic) > 1
		for _, tr := range fi.Traffic {
			back = back || tr.back
		}
		if !routedCandidate(c, f, !back, &router) {
			continue
		}
		if streamInput(fi.Path, opts) {
			c.Unsearched = append(c.Unsearched, fi.Path+": read once only (standard input, a FIFO), so not "+
				"searched past the records the merged-capture probe read for a router's interfaces merged into one "+
				"file, as it would be from a regular file (points keeps no frames to search); "+
				"calipath report searches it, or give it as a regular file")
			continue
		}
		var col obsCollector
		var fp fpCollector
		var st Stamps
		t := NewTables()
		again := scanFile(fi.Path, fi.Index, opts, t, nil, &frameKeeper{&col, &fp, &st}, nil)
		obs, loose := col.finish(), fp.finish()
		applyFragFixes(again, obs, &loose)
		if routedCandidate(c, f, st.InOrder(), &router) {
			routedJudge(fi, opts, routedPairs(obs, &loose, &st, t.CtxAll(), t), &st)
		}
	}
}

// routerFiles reports, by file, whether all its capture points are on nodes that are not Calico nodes
// (no pod-veth or tunnel point among the inputs): a router's captures, which routedLate searches in
// full, in time order too (a time-merged file where one interface was quiet over the probe's
// records). A Calico node's files are not searched unless their time goes back.
func routerFiles(c *Capture) []bool {
	calico := map[string]bool{}
	for _, p := range c.Points {
		if p.Role == RolePodVeth || p.Role == RoleTunnel {
			calico[p.Node] = true
		}
	}
	srcs := c.Tables.Sources()
	router, node := make([]bool, len(c.Files)), make([]bool, len(c.Files))
	for _, p := range c.Points {
		for _, s := range p.Sources {
			if int(s) >= len(srcs) || int(srcs[s].File) >= len(c.Files) {
				continue
			}
			f := srcs[s].File
			if calico[p.Node] {
				node[f] = true
			} else {
				router[f] = true
			}
		}
	}
	for f := range router {
		router[f] = router[f] && !node[f]
	}
	return router
}

// routedLeft says how the merged probe left a file routedLate looks at: the start of its problem.
func routedLeft(l probeLeft) string {
	if l.single || l.limit {
		return l.String()
	}
	return fmt.Sprintf("its %d records, read in their order, showed no packet twice one router apart", l.records)
}

// fmtMAC writes a MAC address as 00:11:22:33:44:55.
func fmtMAC(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// exactOf is o's exact fingerprint as the matcher takes it: Exact, and for an ICMP error QuoteExact.
func exactOf(t *Tables, o *Observation, loose uint64) uint64 {
	if o.Flags&FlagICMPError != 0 {
		return t.QuoteExact(o, o.Exact(loose))
	}
	return o.Exact(loose)
}
