package decode

import (
	"io"
	"sync/atomic"
)

// The merged probe on the scan's own frames. Load keeps every frame of its files, and reads every
// input again when a file turns out to hold a node's merged captures only past its probe (lateMerged):
// it can do the same for a file the probe finds merged. So, when every input can be read again
// (Options.probeInScan), the probe of a file Load keeps does not read and decode the file's prefix
// before the scan: it reads the frames the scan decodes (each given to it from Decoder.sourceOf, the
// Packet in full while it reads), in the same order and counted alike, and decides at the same frame as
// probeRead would. A file it does not find merged was scanned as one interface, as it would have been;
// its problems (why it could not tell, a router's interfaces merged) are put where the scan would have
// met them. A file it finds merged is marked (FileInfo.mergedInScan), and loadSnapped reads every input
// again with it split into its stages (its probe then reads its prefix first, as before).
//
// As every input is read again then, the first read stops as soon as a file is found merged
// (Options.mergedStop): that file's scan at its next Ethernet frame (lookMerged gives it a reader at
// its end), the others' where they look at Options.Done (every progressEvery frames: a test more there
// costs nothing a frame), and files not begun are not opened. The first read's files and frames are dropped; only which files were found merged is kept.

// scanProbe is the merged probe of one file, reading the scan's frames.
type scanProbe struct {
	s     *probeState
	fi    *FileInfo
	at    int  // len(fi.Problems) when the probe began: where its problems go
	split bool // Options.splitMerged for the file (never set here: such a file probes its prefix)
}

// lookMerged is the scan's look for merged captures at rec, an Ethernet record read from r before the
// look is done (d.mergeChecked): it returns the reader the scan reads on. At the file's first such
// record it probes the file, or starts the probe on the scan's frames (keep: the scan keeps the file's
// frames, Load's); while that probe reads, it does nothing.
func (d *Decoder) lookMerged(r Reader, rec *Record, fi *FileInfo, opts Options, keep bool) Reader {
	if d.inScan != nil {
		return r // the probe reads this frame (sourceOf)
	}
	if fi.mergedInScan {
		return endReader{r} // found merged: the file is read again split, this read stops (mergeStop)
	}
	split := opts.splitMerged[fi.Index]
	stream := streamInput(fi.Path, opts)
	if keep && opts.probeInScan && !split && !stream {
		d.inScan = &scanProbe{s: newProbeState(), fi: fi, at: len(fi.Problems)}
		// The probe reads the Packet: the fast path writes what it reads of it into the lean one (keep:
		// Options.leanPacket), where it wrote the Packet in full for it before (about 250 instructions
		// more a frame, for each of the 4,096 frames the probe reads of each Ethernet file).
		d.leanShape = shapeLean | shapeProbe
		d.plainIface = 0 // every frame to sourceOf's probe, a first non-Ethernet one too
		return r
	}
	d.mergeChecked = true
	var why string
	if stream {
		pr := newPrefixReader(r, rec)
		d.merged, why, fi.probeLeft = probeMerged(pr, opts, split)
		pr.rewind(rec)
		r = pr
	} else {
		d.merged, why, fi.probeLeft = learnMerged(fi.Path, opts, split)
	}
	d.setFullPacket(d.fullPacket || d.merged != nil)
	if why != "" {
		fi.problem("%s", why)
	}
	if why := routedProblem(fi.probeLeft); why != "" {
		fi.Routed = true
		fi.problem("%s", why)
	}
	return r
}

// frame gives the probe the scan's frame rec, decoded into p, as probeRead's loop reads a record, and
// ends the probe where probeRead returns.
func (sp *scanProbe) frame(d *Decoder, rec *Record, p *Packet) {
	s := sp.s
	if rec.LinkType != LinkEthernet || rec.Iface != 0 {
		sp.done(d, nil, "", probeLeft{})
		return
	}
	s.records++
	s.bytes += len(rec.Data) + mergeRecOverhead
	fp := d.fastLoose     // p's Fingerprint, when the fast path decoded it (the value Observe gives p.Loose)
	if d.fastShape == 0 { // (the usual path's frame; fastDone is decodeReusedObs's, which the scan does not call)
		fp, _ = Fingerprint(p)
	}
	var c *probeClass // (add's IPv4 frame, of a class met before: see add)
	if p.HasEth && !p.HasARP && !p.HasWG && p.Inner.Version == 4 && p.Errs == 0 {
		c = s.classMet(p)
	}
	if c != nil {
		// s.add(p, fp) of a frame of a class met before, written out (add's calls, and stage's for a
		// frame logged, were about 120 instructions of the probe's 240 a frame): its counts, its pod
		// address, its answer and its stage as add and stage take them.
		s.cali += int(c.cali)
		s.other += int(c.other)
		s.vethIP += int(c.vethIP)
		s.carried += int(c.carried)
		if c.putIP && len(s.m.ips) < sllLocalMax && (!s.lastIPSet || p.Inner.Src != s.lastIP || c.k != s.lastIPK) { // (putIP's test, on p's address in place: not copied first)
			s.putIP(p.Inner.Src, c.k)
		}
		if s.answered < mergeAnswered {
			s.answer(p)
		}
		// stage's log (every IP frame so far of one stage, st0, which is not one while it is -1 or
		// stagesMapped): two appends, each on its own line (as one assignment, both slices' headers
		// were stored whole, with a write barrier's test)
		if st := c.st; st == s.st0 && len(s.stLog) < stLogMax {
			s.stLog = append(s.stLog, fp)
			s.ttlLog = append(s.ttlLog, p.Inner.TTL)
		} else {
			s.stage(p, fp, c.kind, st)
		}
	} else {
		s.add(p, fp)
	}
	if len(s.m.pods) == 0 { // (hop's first test: a file with pods' veths takes no hop)
		s.hop(p, rec.Ts, fp)
	}
	// What probeRead's loop tests before it reads the next record.
	switch {
	case s.records >= mergeProbe && s.merged():
		sp.done(d, s.m, "", probeLeft{})
	case s.records >= mergeProbe && s.single():
		sp.done(d, nil, "", probeLeft{single: true, records: s.records, routed: s.routed})
	case s.bytes >= mergeProbeBytes:
		s.limit = true
		sp.end(d)
	}
}

// end ends the probe where probeRead's loop ends without returning: at the end of the file's records
// (or of what was read of them), or at its byte bound (s.limit).
func (sp *scanProbe) end(d *Decoder) {
	s := sp.s
	if s.merged() || sp.split || !s.limit && wholeMerged(s.cali, s.other) && len(s.m.pods) > 0 {
		sp.done(d, s.m, "", probeLeft{})
		return
	}
	sp.done(d, nil, s.undecided(), probeLeft{limit: s.limit, records: s.records, routed: s.routed})
}

// done settles the probe's verdict: m (nil: not merged), why it could not tell, and how it left the file.
func (sp *scanProbe) done(d *Decoder, m *mergedLocal, why string, left probeLeft) {
	fi := sp.fi
	d.inScan, d.mergeChecked, d.leanShape, d.probeUsual = nil, m == nil, shapeLean, false
	fi.probeLeft = left
	fi.mergedInScan = m != nil
	if m != nil {
		// Every input is read again: every scan stops, this one at its next Ethernet frame, which
		// lookMerged sees as the look is not done (mergeChecked).
		d.opts.mergedStop.raise()
	}
	at := sp.at
	if why != "" {
		fi.problemAt(at, why)
		at++
	}
	if why := routedProblem(left); why != "" {
		fi.Routed = true
		fi.problemAt(at, why)
	}
}

// problemAt is fi.problem("%s", msg) when fi had at problems: the problem goes in place at.
func (fi *FileInfo) problemAt(at int, msg string) {
	fi.NProblems++
	if at >= maxProblems || at > len(fi.Problems) {
		return
	}
	fi.Problems = append(fi.Problems, "")
	copy(fi.Problems[at+1:], fi.Problems[at:])
	fi.Problems[at] = fi.Path + ": " + msg
	if len(fi.Problems) > maxProblems {
		fi.Problems = fi.Problems[:maxProblems]
	}
}

// inScanMerged returns the files (by index) whose probe on the scan's frames found them merged.
func inScanMerged(files []*FileInfo) map[uint16]bool {
	var m map[uint16]bool
	for _, f := range files {
		if f != nil && f.mergedInScan {
			if m == nil {
				m = map[uint16]bool{}
			}
			m[f.Index] = true
		}
	}
	return m
}

// mergeStop is raised when the merged probe on the scan's frames finds a file merged: every input is
// read again then (loadSnapped), so the first read stops. Scans read it every progressEvery frames.
type mergeStop struct{ atomic.Bool }

// raise raises s (nil: no stop asked for).
func (s *mergeStop) raise() {
	if s != nil {
		s.Store(true)
	}
}

// raised reports whether s was raised.
func (s *mergeStop) raised() bool { return s != nil && s.Load() }

// endReader is a Reader at its end: the scan of a file found merged stops at its next record, its
// account (bytes read, records skipped, interfaces) that of the reader it stopped.
type endReader struct{ Reader }

// Next returns io.EOF.
func (endReader) Next(*Record) error { return io.EOF }
