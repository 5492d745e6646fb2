package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"runtime"
	"sort"
	"sync"

	"github.com/calipath/calipath/internal/hugepage"
	"github.com/calipath/calipath/internal/prefault"
)

// maxProblems is how many problem messages a FileInfo keeps; the rest are counted.
const maxProblems = 20

// FileInfo is the outcome of scanning one input file.
type FileInfo struct {
	Path       string
	Index      uint16
	Format     Format
	Compressed bool
	Interfaces []Interface
	Records    int   // frames read and decoded
	Skipped    int   // records the reader skipped (corrupt framing, impossible lengths, …)
	Damaged    int   // frames decoded with a problem (truncated headers, bad lengths, unknown link type, bad WireGuard messages)
	Bytes      int64 // bytes read from the file
	Problems   []string
	NProblems  int // all problems, including those not kept in Problems
	// MaybeRouter, for a file named as a node's underlay that may be a router's capture named so and
	// is read as named (the captures cannot tell: misnamedRouters), says why, naming the file.
	MaybeRouter string
	// MaybeRouterAfter says MaybeRouter's doubt reaches a loss on the way to the file from another point
	// of its node too (a file holding too little to tell whose it is: its node's packets may have left
	// the node elsewhere).
	MaybeRouterAfter bool
	Err              error // the rest of the file could not be read (set together with a Problem)
	// Cut says the file ends inside a record (or in a skipped tail): it was cut short, as a capture
	// killed or copied while it wrote leaves it. Its capture ran no longer than its last frame.
	Cut bool
	// CookedStream says the file is a Linux cooked v1 capture read as a stream: its incoming frames
	// from pods and from the wire could not be told apart (any:pod may hold the underlay's).
	CookedStream bool
	// SnapFrames counts the frames whose snaplen cut into the payload bytes or the transport header
	// that matching uses, SnapLevel is how deep the deepest of them was cut (a Snap level), SnapBlind
	// counts those cut before their inner ports (no match possible), and SnapLen is the largest
	// captured length of them all: the snaplen.
	SnapFrames, SnapBlind, SnapLen int
	SnapLevel                      uint8

	Traffic map[uint16]*Traffic
	// Names are the pcapng Name Resolution Blocks' records (Inspektor Gadget writes pods' and services'
	// names there).
	Names []NameRecord
	// IfStats are the pcapng Interface Statistics Blocks of the file's (last section's) interfaces, by
	// interface as in Interfaces.
	IfStats     map[int][]IfStats
	unknownLink map[LinkType]int
	// OuterReassembled counts the tunnel packets whose outer (underlay) IP datagram arrived in
	// fragments and was reassembled, OuterIncomplete those of which some fragment never arrived (an
	// underlay loss before the capture point), OuterSkipped the fragmented datagrams not reassembled
	// (see outerfrag.go).
	OuterReassembled, OuterIncomplete, OuterSkipped int
	// FrameIndex marks an uncompressed pcap file every so many frames read (nil for other files), for
	// ReadFrameIndexed.
	FrameIndex *FrameIndex
	fragFixes  []fragFix // what Load changes in the Observations
	// probeLeft says that the merged probe took the file for one interface's capture from its first
	// records (probeState.single), or read its byte bound without telling; lateMerged looks at what the
	// whole file showed.
	probeLeft probeLeft
	// mergedInScan says that the merged probe, reading the scan's frames (inscan.go), found the file a
	// node's merged captures after the scan read it as one interface: it is to be read again split.
	mergedInScan bool
	// Unsplit says that the file holds several interfaces' frames (a node's captures merged into one
	// file) but was read as one interface: its prefix was one interface's, and it could not be read
	// again (standard input, a FIFO). The counts at its node are not per packet.
	Unsplit bool
	// Routed says that the file holds packets twice, one router apart (routedProblem): a router's
	// interfaces merged into one file, read as one interface. The counts around it are not per packet.
	Routed bool
	// RoutedCooked says that the Routed file is a router's Linux cooked v1 -i any capture (LINUX_SLL,
	// no interface index): its way in and its way out are one point.
	RoutedCooked bool
	// cooked says that the file holds Linux cooked v1 frames (routedCandidate).
	cooked bool
	// CookedIfaces are the interfaces a router's cooked v1 capture was split into by link address
	// (sllRouter; the pseudo interface index of the k-th is IfAnyIface-k); cookedWhy says why a
	// router's could not be split.
	CookedIfaces []CookedIface
	cookedWhy    string
}

// CookedIface is an interface of a router's cooked v1 capture split by link address: its MAC (the
// sender of its outgoing frames) and the neighbours placed behind it, each with how.
type CookedIface struct {
	MAC        [6]byte
	Neighbours []string // "aa:e6:29:43:b1:56 (ARP)"
	// Side is "in" or "out" for a capture whose neighbours could not be placed, split by direction
	// only (MAC and Neighbours empty); "" for an interface.
	Side string
}

func (fi *FileInfo) problem(format string, args ...any) {
	fi.NProblems++
	if len(fi.Problems) < maxProblems {
		fi.Problems = append(fi.Problems, fi.Path+": "+fmt.Sprintf(format, args...))
	}
}

// Meta returns what point identification needs.
func (fi *FileInfo) Meta() FileMeta {
	return FileMeta{Path: fi.Path, Interfaces: fi.Interfaces, CookedIfaces: fi.CookedIfaces}
}

// ScanFunc receives each decoded frame. rec.Data and p.Payload are only valid during the call. It
// must not change p: the next frame is decoded into it (see Decoder.decodeReused).
type ScanFunc func(rec *Record, p *Packet, o *Observation)

// Progress reports how far the scan of file number file has got: bytes read of size (the file's size
// on disk; 0 if unknown), frames decoded and records skipped. It is called from the scanning goroutine
// about every 64 Ki frames and once at the end of each file, so it must be safe for concurrent use.
type Progress func(file int, bytes, size int64, frames, skipped int)

// progressEvery is how many frames pass between Progress calls.
const progressEvery = 1 << 16

// ScanFile reads and decodes every frame of one file, calling fn (which may be nil) for each, and
// accounts the traffic of every capture source. Problems are recorded in the FileInfo, never fatal
// to the caller.
func ScanFile(path string, index uint16, opts Options, t *Tables, fn ScanFunc) *FileInfo {
	return scanFile(path, index, opts, t, fn, nil, nil)
}

// scanFile scans the file at path: each frame is given to fn, or, with keep (fn nil), kept in it.
func scanFile(path string, index uint16, opts Options, t *Tables, fn ScanFunc, keep *frameKeeper, progress Progress) *FileInfo {
	fi := &FileInfo{Path: path, Index: index, Traffic: map[uint16]*Traffic{}}
	r, c, err := openInput(path, opts)
	if err != nil {
		fi.Err = err
		fi.NProblems++
		fi.Problems = append(fi.Problems, err.Error())
		return fi
	}
	defer c.Close()
	fi.Format, fi.Compressed = r.Format(), r.Compressed()
	fi.FrameIndex = newFrameIndex(path, r, opts)
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	var report func()
	if progress != nil {
		report = func() { progress(int(index), r.Offset(), size, fi.Records, r.Skipped()) }
	}
	scan(r, fi, opts, t, fn, keep, report)
	return fi
}

// frameKeeper is where Load keeps one file's frames: each frame's Observation in c, its fingerprint
// in fp, its time and frame number in st. The scan makes each Observation in its place in c, and as
// it reads nothing of the Packet but its fingerprint, the fast path writes the Packet lean
// (Options.leanPacket).
type frameKeeper struct {
	c  *obsCollector
	fp *fpCollector
	st *Stamps
}

// parts returns k's collectors, or nils for a nil k.
func (k *frameKeeper) parts() (*obsCollector, *fpCollector, *Stamps) {
	if k == nil {
		return nil, nil, nil
	}
	return k.c, k.fp, k.st
}

// scan reads and decodes every frame of r into fi, giving each to fn, or, with keep (fn nil), keeping
// it there.
func scan(r Reader, fi *FileInfo, opts Options, t *Tables, fn ScanFunc, keep *frameKeeper, report func()) {
	opts.leanPacket = keep != nil
	d := NewDecoder(opts, t, fi.Index)
	var rec Record
	var p Packet
	var own Observation
	var v scanVars               // the loop's variables (see scanVars)
	v.o = &own                   // the frame's Observation: own, or its place in keep.c
	v.setReader(r)               // the reader: r, or the one lookMerged gives
	kc, kfp, kst := keep.parts() // keep's collectors (nil without keep): one load each in the loop, where keep's were two
	// v.tr is the frame's Traffic, v.frags the outer fragments' tracker (nil until the first)
	// v.nObs counts the frames read so far, each an Observation (fi.Records at the end)
	// v.ctxLost, v.fracOver, v.wentBack and v.cutAt: see scanVars
	v.lastSrc = -1
	for {
		// (a pcap file's usual record read without the interface's call: setReader's pr; no error then)
		if pr := v.pr; pr == nil || pr.done != nil || !pr.nextBuffered(&rec) {
			if err := v.r.Next(&rec); err != nil {
				var re *RecordError
				if errors.As(err, &re) {
					fi.problem("%v", re)
					v.cutAt = v.nObs + 1 // until a record follows (it counts one more frame)
					continue
				}
				if !errors.Is(err, io.EOF) {
					fi.Err = err
					fi.problem("%v (the rest of the file is not read)", err)
				}
				fi.Cut = v.cutAt == v.nObs+1
				break
			}
		}
	read: // (a record read; the error's variable and its test are the interface's read's alone)
		// (a frame read: v.cutAt, set at a skipped record, is left, as v.nObs moves past it)
		v.nObs++ // the frames read (fi.Records, set from it where it is read: report, the loop's end)
		if v.nObs%markEvery == 0 { // progressEvery is a multiple: one test a frame for both
			if fi.FrameIndex != nil {
				fi.FrameIndex.mark(&rec, v.r.Offset())
			}
			if v.nObs%progressEvery == 0 {
				if fi.Records = v.nObs; report != nil {
					report()
				}
				if stopped(opts.Done) || opts.mergedStop.raised() { // (a merged file: all is read again, inscan.go)
					fi.Err = ErrStopped
					break
				}
			}
		}
		if rec.LinkType == LinkLinuxSLL && d.sll == nil {
			fi.cooked = true
			d.sll = learnSLL(fi.Path, opts)
			fi.CookedIfaces, fi.cookedWhy = d.sll.router.ifaces(), d.sll.routerWhy
			if d.sll.router != nil && d.sll.router.sides {
				sidesProblem(fi, d.sll.routerWhy)
			}
			if d.sll.unresolved {
				fi.CookedStream = true
				fi.problem("frame %d: a Linux cooked v1 capture (tcpdump -i any before 4.99) read as a stream: its "+
					"incoming frames from pods and from the wire cannot be told apart, so any:pod may hold the "+
					"underlay's; give a cooked v2 capture (tcpdump 4.99 or later), per-interface captures, or the file "+
					"itself", rec.Frame)
			}
		}
		if rec.LinkType == LinkEthernet && !d.mergeChecked && d.inScan == nil { // (while the probe reads the scan's frames, lookMerged has nothing to do)
			// The look for a node's captures merged into one file, before the file's first Ethernet
			// frame is decoded: the merged probe reads a prefix of the file and tells (merged.go),
			// before the scan goes on; or, for a file whose frames Load keeps when every input can be
			// read again (Options.probeInScan), it reads the scan's own frames, decoded once, from
			// here on, and tells when it is done (inscan.go: each frame goes to it from
			// Decoder.sourceOf, which Observe calls), its problems put where they would have come;
			// a file it finds merged is read again split into its stages (loadSnapped). A stream is
			// read once only: the probe's records are kept and given again (prefixReader).
			// Read so, the probe's records are read and decoded once (a prefix read again cost 5% of the
			// many-flow set's instructions); the verdict is the same (TestProbeInScanVerdict). (This block's
			// lines keep the offsets of the calls after it, which default.pgo names; a stream's, and a file's
			// read split, probe as before: probeMerged, then the scan.)
			// Non-Ethernet frames before the first Ethernet one (a pcapng file's) are not probed.
			v.setReader(d.lookMerged(v.r, &rec, fi, opts, keep != nil))
		}
		if kc != nil { // (keep != nil)
			v.o = kc.slot(&rec)
		}
		if d.fastUsual(&rec, &p, v.o) { // (decodeReused's fast path, called here: its result was made, joined and tested again) p is this loop's alone; the fast path makes the Observation in its place but its Source (Observe's, written out)
			if p.Loose = d.fastLoose; rec.Iface+1 == d.plainIface && p.LinkType == d.plainLink { // sourceOf's usual case, written out: the source of the frame before (d.srcIdx, v.lastSrc), whose Traffic v.tr is
				v.o.Source = d.srcIdx
				goto sourceKnown // (the source's test below left out: d.srcIdx changes only in sourceNew, after which the frame takes that test)
			}
			v.o.Source = d.sourceNew(&rec, &p) // (fastShape not 0: the merged probe, inscan.go, takes d.fastLoose)
		} else { // the usual path's frame (fastShape 0): a fast one is no fragment and has no Errs
			d.decodeReused(&rec, &p, v.o, false) // (fastUsual did not take it)
			d.observe(&rec, &p, v.o)
			if p.Encap == EncapNone && (p.Inner.MF || p.Inner.FragOff != 0) {
				if v.frags == nil {
					v.frags = newFragTracker(d, fi, d.opts.VXLANPort)
				}
				v.frags.add(&rec, &p, v.nObs-1) // (the Observation's index: v.nObs-1)
			}
			if p.Errs&ErrSnapped != 0 {
				noteSnapped(fi, &rec, &p)
			}
			if p.Errs&(ErrTruncated|ErrBadLength|ErrBadVersion|ErrUnknownLink|ErrBadWireGuard) != 0 {
				fi.Damaged++
				if p.Errs&ErrUnknownLink != 0 {
					if fi.unknownLink == nil {
						fi.unknownLink = map[LinkType]int{}
					}
					if fi.unknownLink[rec.LinkType] == 0 {
						fi.problem("frame %d: link type %s cannot be decoded (counting such frames as damaged)", rec.Frame, rec.LinkType)
					}
					fi.unknownLink[rec.LinkType]++
				}
			}
			if v.o.Ctx == ctxOverflow {
				if v.ctxLost == 0 {
					fi.problem("frame %d: the inputs hold more than 65,535 distinct header contexts (outer addresses, TTL, TOS, VNI, inner TOS); this frame's and later new ones are not kept (such frames are correlated by their inner headers only)", rec.Frame)
				}
				v.ctxLost++
			}
		}
		if src := d.srcIdx; int(src) != v.lastSrc { // (the frame's Source, v.o.Source: every source sourceOf gives is d.srcIdx, as it returns it)
			v.lastSrc, v.tr = int(src), fi.traffic(src)
		}
	sourceKnown:
		// (A frame whose header context did not fit, ctxOverflow, is the usual path's: no fast path takes it.)
		if back, hot := v.tr.addFast(d.fastShape, &rec, &p); !hot { // the frame counted in its Traffic, by the fast path's own counting where it took the frame (tr.add keeps its line in scan: default.pgo names it so); hot: none of the below
			if back == noFast {
				back = v.tr.add(rec.Frame, rec.Ts, rec.FracOver, &p, p.Loose)
			}
			// A frame is flagged for its time when its fraction field overflowed, when it went back more than a
			// second, or when it lies a day or more from its capture's main stretch of time so far (the end of the scan names such frames, as they are then known).
			if back != 0 || rec.FracOver || v.tr.cur != v.tr.main {
				p.Errs |= ErrTimestamp
				if rec.FracOver {
					if v.fracOver++; v.fracOver <= maxTimeProblems {
						fi.problem("frame %d: the timestamp's fraction field says a second or more; read as %s "+
							"(the excess carried into the seconds)", rec.Frame, fmtNs(rec.Ts))
					}
				}
				if back != 0 {
					if v.wentBack++; v.wentBack <= maxTimeProblems {
						fi.problem("frame %d: the time goes back %s from the frame before it on its interface "+
							"(a clock step, or frames out of order)", rec.Frame, fmtAgo(back))
					}
				}
			}
		}
		if kst != nil { // (keep != nil)
			v.o.TsLo = kst.add(rec.Ts, rec.Frame)
			kfp.add(p.Loose)
		} else if fn != nil {
			fn(&rec, &p, v.o)
		}
		// The next record, when it is a pcap file's usual one (pr.nextBuffered, written out): read here,
		// it goes to the loop's work by a jump, where nextBuffered's result (its true and its false
		// joined, with the record's stores on one way only) was made into a value, negated and tested
		// (five instructions a record). Any other record goes to the loop's head, whose nextBuffered
		// takes none of what this leaves (the same tests, before any store), and then to Next.
		// TestScanRecordsLikeNext holds the records read so to Next's.
		if pr := v.pr; pr != nil && pr.done == nil {
			in, frame := pr.rdInput, pr.frame
			if win, pend := in.win, in.pend; len(win)-pend >= pcapRecHdrLen && frame < in.maxFrames {
				w := win[pend:len(win):len(win)]
				h := (*[pcapRecHdrLen]byte)(w)
				var h0, h1 uint64
				if h0, h1 = binary.LittleEndian.Uint64(h[0:8]), binary.LittleEndian.Uint64(h[8:16]); pr.be { // (as in nextBuffered: the loads' inline marks on the test's line)
					h0, h1 = bits.RotateLeft64(bits.ReverseBytes64(h0), 32), bits.RotateLeft64(bits.ReverseBytes64(h1), 32)
				}
				if caplen, origlen := int(uint32(h1)), int(h1>>32); caplen != 0 && caplen <= origlen && caplen <= pr.snaplen && caplen <= len(w)-pcapRecHdrLen {
					sec, frac := int64(uint32(h0)), int64(h0>>32)
					ts := sec*1e9 + frac*pr.fracNs
					frame++
					pr.frame = frame
					n := pcapRecHdrLen + caplen
					in.pend = pend + n
					pr.prevTs = ts // (pr.havePrev: set by whichever read of pr gave the frame before, this loop's; nothing clears it)
					rec.setNext(frame, ts, frac >= pr.fracMax, caplen, origlen, w[pcapRecHdrLen:n:n])
					goto read
				}
			}
		}
	}
	if fi.Records = v.nObs; d.inScan != nil { // the file ended (or its reading stopped) before the probe told
		d.inScan.end(d)
	}
	if v.frags != nil {
		v.frags.end()
	}
	if v.ctxLost > 1 {
		fi.problem("%d frames in all have an outer header that was not kept (header table full)", v.ctxLost)
	}
	if v.fracOver > maxTimeProblems {
		fi.problem("%d frames in all have a timestamp fraction field of a second or more", v.fracOver)
	}
	if v.wentBack > maxTimeProblems {
		fi.problem("%d frames in all go back in time by more than a second", v.wentBack)
	}
	scanEnd(v.r, fi, report)
}

// scanEnd completes fi once r is read (or its reading stopped).
func scanEnd(r Reader, fi *FileInfo, report func()) {
	for _, tr := range fi.Traffic {
		tr.endRuns()
	}
	settleTimes(fi)
	fi.Skipped = r.Skipped()
	fi.Bytes = r.Offset()
	fi.Interfaces = r.Interfaces() // a copy
	if nr, ok := r.(*ngReader); ok {
		fi.Names, fi.IfStats = nr.Names(), nr.Stats()
		settleStatsTimes(fi)
	}
	if report != nil {
		report()
	}
}

// ErrStopped is the FileInfo.Err of a file whose reading Options.Done stopped.
var ErrStopped = errors.New("reading stopped")

// stopped reports whether done is closed.
func stopped(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// ScanFiles scans files concurrently (one goroutine per file, at most GOMAXPROCS at once). fn, if not
// nil, is made per file and called from that file's goroutine. Without fn, a file found to hold a
// node's merged captures only past its first records (lateMerged) has every input read again into
// emptied tables, that file split into its stages.
func ScanFiles(paths []string, opts Options, t *Tables, fn func(file int) ScanFunc) []*FileInfo {
	files := scanFiles(paths, opts, t, fn, nil, nil)
	if split, again := splitLate(paths, opts, files, fn == nil); again {
		first := files
		t.reset()
		files = scanFiles(paths, split, t, nil, nil, nil)
		noteSplitLate(first, files, split.splitMerged)
	}
	return files
}

// scanFiles scans files concurrently (see ScanFiles), each file's frames given to the ScanFunc fn
// makes for it, or kept in the frameKeeper keep makes for it (fn nil).
func scanFiles(paths []string, opts Options, t *Tables, fn func(file int) ScanFunc, keep func(file int) *frameKeeper,
	progress Progress) []*FileInfo {
	out := make([]*FileInfo, len(paths))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, i := range scanOrder(paths, cap(sem)) {
		path := paths[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if stopped(opts.Done) || opts.mergedStop.raised() { // (a merged file: every input is read again)
				out[i] = &FileInfo{Path: path, Index: uint16(i), Err: ErrStopped, Traffic: map[uint16]*Traffic{}}
				return
			}
			var f ScanFunc
			var k *frameKeeper
			switch {
			case keep != nil:
				k = keep(i)
			case fn != nil:
				f = fn(i)
			}
			out[i] = scanFile(path, uint16(i), opts, t, f, k, progress)
		}()
	}
	wg.Wait()
	return out
}

// scanOrder returns the order in which the files are started on workers goroutines: on one, the order
// given; on more, the largest first (by size on disk; the order given among equal sizes, and for
// what has no size, such as a pipe, which comes last). Each file's output keeps its index, so the
// order only decides how evenly the files share the cores: given last, a large file would be read
// alone at the end while the others wait.
func scanOrder(paths []string, workers int) []int {
	order := make([]int, len(paths))
	for i := range order {
		order[i] = i
	}
	if workers < 2 || len(paths) < 3 {
		return order
	}
	size := make([]int64, len(paths))
	for i, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && p != "-" {
			size[i] = st.Size()
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return size[order[a]] > size[order[b]] })
	return order
}

// Capture is the result of scanning a set of files and identifying their capture points.
type Capture struct {
	Files   []*FileInfo
	Tables  *Tables
	Sources []Source
	Points  []Point
	PointOf []int // point index of each source
	NodeIPs []NodeIP
	Obs     [][]Observation // per file, in frame order (set by Load)
	Stamps  []Stamps        // per file, beside Obs: their times and frame numbers (set by Load)
	// Loose holds, beside Obs, each Observation's NAT-tolerant fingerprint (Packet.Loose), set by Load.
	// Only correlation's matching reads it, so it is kept apart: correlation may reuse its memory and
	// drop it (Options.Lean), leaving the 32-byte Observations. A fingerprint 0 marks a frame that is
	// no sighting of a packet of its own: an outer fragment accounted to its reassembled datagram, or one
	// of a datagram that arrived incomplete (outerfrag.go); or an IPv6 message of one link, never
	// forwarded (neighbour discovery, router solicitations, multicast listener reports: LinkScopeICMPv6).
	Loose []Fingerprints
	// Links is what --links said: node → interface index → name (from `ip -o link`). Correlation
	// names the interfaces of a -i any capture that saw no frame from it.
	Links map[string]map[int32]string
	// Drops are what the captures said they lost themselves: pcapng interface statistics, and what
	// PointConfig.Drops gave (tcpdump logs).
	Drops []CaptureDrop
	// NodeIPConflicts are --node-ip values the captures contradict (see NodeIPConflicts).
	NodeIPConflicts []string
	// NodeIPDoubts are the --node-ip values the captures do not show, by node (see NodeIPDoubts).
	NodeIPDoubts map[string]string
	// PortConflicts are --vxlan-port and --wireguard-port values the captures contradict (see
	// PortConflicts); set by Load and LoadSpilled.
	PortConflicts []string
	// PointConflicts are --point values the captures contradict (see PointConflicts).
	PointConflicts []string
	// PointFileDoubts are the points whose files cannot be of one interface (see PointFileDoubts).
	PointFileDoubts map[string]string
	// Unsearched say, one line a file, which inputs ScanPoints would have searched past the merged
	// probe for a router's interfaces merged into one file but could not read again (a stream).
	Unsearched []string
}

// IdentifyFiles runs point identification over scanned files.
func IdentifyFiles(files []*FileInfo, t *Tables, cfg PointConfig) *Capture {
	// A file without a single frame still names a capture point (an interface where nothing passed).
	for _, f := range files {
		if len(f.Traffic) == 0 && f.Err == nil {
			f.Traffic[t.InternSource(Source{File: f.Index, IfIndex: -1})] = &Traffic{}
		}
	}
	sources := t.Sources()
	traffic := make([]Traffic, len(sources))
	metas := make([]FileMeta, len(files))
	for i, f := range files {
		metas[i] = f.Meta()
		for si, tr := range f.Traffic {
			if int(si) < len(traffic) {
				traffic[si].Merge(tr)
			}
		}
	}
	points, pointOf, ips := Identify(metas, sources, traffic, cfg)
	return &Capture{Files: files, Tables: t, Sources: sources, Points: points, PointOf: pointOf, NodeIPs: ips,
		Links: cfg.Links, Drops: append(statsDrops(files), resolveDrops(files, cfg.Drops)...),
		NodeIPConflicts: NodeIPConflicts(points, cfg), NodeIPDoubts: NodeIPDoubts(points, cfg),
		PointConflicts: PointConflicts(files, sources, cfg), PointFileDoubts: PointFileDoubts(files, sources, points)}
}

// Load scans every file, keeping each frame's Observation, and identifies the capture points.
// Capture.Obs[i] holds file i's Observations in frame order, Capture.Loose[i] their fingerprints;
// file i is Capture.Files[i], the files taken in the paths' sorted order (inOrder), not the caller's.
func Load(paths []string, opts Options, cfg PointConfig) *Capture {
	return LoadProgress(paths, opts, cfg, nil)
}

// LoadProgress is Load with a progress callback (nil for none).
func LoadProgress(paths []string, opts Options, cfg PointConfig, progress Progress) *Capture {
	paths, progress = inOrder(paths, progress)
	return loadSnapped(paths, opts, func(opts Options) *Capture { return loadProgress(paths, opts, cfg, progress) })
}

// inOrder returns the paths sorted (byte order of the paths as given, a path given twice kept twice),
// and progress told the caller's index of each file. Every reader of a set of captures reads it in
// this order, whatever the order the caller gave: wherever two files' frames tie (a point's several
// captures, two points' frames at one microsecond, the reason a point is named by), the first file
// wins, and a Result that followed the arguments' order would change its evidence, its hops' order
// or its verdict with the order of `ls` (TestLabArgumentOrder in correlate). Capture.Files, and so
// the Result's inputs, are in this order.
func inOrder(paths []string, progress Progress) ([]string, Progress) {
	if sort.StringsAreSorted(paths) {
		return paths, progress
	}
	idx := make([]int, len(paths))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return paths[idx[a]] < paths[idx[b]] })
	sorted := make([]string, len(paths))
	for i, j := range idx {
		sorted[i] = paths[j]
	}
	if progress == nil {
		return sorted, nil
	}
	return sorted, func(file int, bytes, size int64, frames, skipped int) {
		if file >= 0 && file < len(idx) {
			file = idx[file]
		}
		progress(file, bytes, size, frames, skipped)
	}
}

func loadProgress(paths []string, opts Options, cfg PointConfig, progress Progress) *Capture {
	t := NewTables()
	cols := make([]obsCollector, len(paths))
	fps := make([]fpCollector, len(paths))
	firsts := newObsFirsts(runtime.GOMAXPROCS(0)) // scanFiles reads that many files at a time
	fpSlabs := &chunkSlabs[uint64]{size: FingerprintChunk, perSlab: fpSlabChunks}
	for i, p := range paths {
		cols[i].firsts = firsts
		fps[i].slabs = fpSlabs
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			cols[i].size = st.Size()
		}
	}
	stamps := make([]Stamps, len(paths))
	files := scanFiles(paths, opts, t, nil, func(file int) *frameKeeper {
		return &frameKeeper{&cols[file], &fps[file], &stamps[file]}
	}, progress)
	obs := make([][]Observation, len(paths))
	loose := make([]Fingerprints, len(paths))
	for f := range cols {
		obs[f], loose[f] = cols[f].finish(), fps[f].finish()
		stamps[f].trim()
		applyFragFixes(files[f], obs[f], &loose[f])
	}
	c := IdentifyFiles(files, t, cfg)
	if named, ok := misnamedRouters(c, obs, stamps, nil, cfg); ok {
		c = IdentifyFiles(files, t, named)
	}
	c.Obs, c.Loose, c.Stamps = obs, loose, stamps
	c.PortConflicts = PortConflicts(c, opts)
	return c
}

// obsCollector gathers one file's Observations. The first obsChunk go into a chunk; from their
// average record size and the file's size it estimates how many are to come and sizes one slice for
// the whole file, so that a large file is written about once, not collected and then copied. The
// file's size is only a claim (a sparse file, a zero-filled tail or a gzip bomb holds no records in
// its bytes), so it is trusted up to obsTrusted Observations (address space that stays untouched
// until frames fill it); beyond, the slice grows in steps of at most obsGrowth times what was read,
// of equal ratio up to the estimate, so that the last copy is small. When the estimate falls short
// (a compressed file, later records smaller than the first), the rest goes into fixed-size chunks
// joined at the end.
//
// The slice's memory is mapped in a window at a time ahead of the frames that fill it (prefault.Next),
// one system call for many pages instead of a page fault each: obs's capacity is the window's end,
// where add's slow path maps the next window, and whole is the slice with its whole capacity.
type obsCollector struct {
	size   int64         // the file's size (0: unknown)
	bytes  int64         // captured bytes so far (grow adds a 16-byte record header for each record)
	obs    []Observation // whole[:len(obs)], its capacity cut at the end of the window mapped in
	whole  []Observation
	chunks [][]Observation
	firsts *obsFirsts // where the first chunk comes from (nil: an allocation of its own)
}

// chunkSlabs hands out chunks to a Load's collectors side by side, from slabs that ask for huge
// pages, and takes back the chunks a collector is done with (its values moved to a slice of their
// own) for the next file. A chunk on its own (2 MiB of Observations, 512 KiB of fingerprints)
// spans no huge page and was faulted in 4 KiB at a time; and most files of a capture are small,
// their values all in their first chunk.
type chunkSlabs[T any] struct {
	size, perSlab int // values per chunk, chunks per slab
	mu            sync.Mutex
	slab          []T // room for the next chunks
	free          [][]T
}

// obsFirsts is where a Load's Observation collectors take their first chunks.
type obsFirsts = chunkSlabs[Observation]

// newObsFirsts returns the first chunks' source for a Load whose files are read workers at a time.
// Its slabs hold obsFirstsSlab chunks when huge pages are asked for (a slab of a few chunks spans
// whole huge pages, a chunk alone none). Without them a slab is one chunk per worker: each reader
// holds one first chunk at a time and gives it back when done with it, so the chunks of a larger slab
// stayed unused, while a slab made of memory the heap had used before is zeroed whole when made (16
// MiB faulted in a page at a time on one core, where one chunk of it was filled).
func newObsFirsts(workers int) *obsFirsts {
	per := obsFirstsSlab
	if !hugepage.On() {
		per = min(max(workers, 1), obsFirstsSlab)
	}
	return &obsFirsts{size: obsChunk, perSlab: per}
}

// obsFirstsSlab is how many first chunks of Observations a slab holds (with huge pages asked for).
const obsFirstsSlab = 8

// take returns an empty chunk of capacity size (p's size); a nil p allocates it on its own.
func (p *chunkSlabs[T]) take(size int) []T {
	if p == nil {
		return make([]T, 0, size)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		ch := p.free[n-1]
		p.free = p.free[:n-1]
		return ch
	}
	if len(p.slab) == 0 {
		p.slab = hugepage.Make[T](p.perSlab*p.size, p.perSlab*p.size)
	}
	ch := p.slab[:0:p.size]
	p.slab = p.slab[p.size:]
	return ch
}

// give takes back a chunk whose values were copied out: nothing refers to it any more.
func (p *chunkSlabs[T]) give(ch []T) {
	if p == nil || cap(ch) != p.size {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, ch[:0])
}

const (
	// obsTrusted is how many Observations a file's size may reserve room for before frames back
	// it (160 MB).
	obsTrusted = 1 << 22
	// obsGrowth bounds each later step: at most this many times the Observations read.
	obsGrowth = 8
)

// slot returns the place of the next Observation, the one of record r, zero.
func (c *obsCollector) slot(r *Record) *Observation {
	c.bytes += int64(r.CapLen) // (the records' headers: grow adds them, from the count: an instruction a record)
	n := len(c.obs)
	if n >= cap(c.obs) { // (n < cap below: neither the reslice nor the index is tested again)
		return c.slotSlow()
	}
	o := c.obs[:n+1]
	c.obs = o
	return &o[n]
}

// slotSlow is slot when the slice is full up to its window: it maps in the next window, grows it, or
// makes the place in a chunk.
func (c *obsCollector) slotSlow() *Observation {
	if len(c.obs) < cap(c.whole) || c.grow() {
		c.obs = prefault.Next(c.whole, len(c.obs))
		c.obs = append(c.obs, Observation{})
		return &c.obs[len(c.obs)-1]
	}
	if n := len(c.chunks); n == 0 || len(c.chunks[n-1]) == cap(c.chunks[n-1]) {
		c.chunks = append(c.chunks, make([]Observation, 0, obsChunk))
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, Observation{})
	return &(*last)[len(*last)-1]
}

// grow makes room in the full slice, and reports false when the rest is to go into chunks.
func (c *obsCollector) grow() bool {
	n := len(c.obs)
	bytes := c.bytes + 16*int64(n+1) // the record bytes so far: a 16-byte header each, the n in obs (no chunks, below) and the one to place
	switch {
	case len(c.chunks) > 0:
		return false
	case n == 0:
		c.whole = c.firsts.take(obsChunk)
		return true
	case c.size <= bytes:
		return false
	}
	est := int(float64(c.size)/float64(bytes)*float64(n)*1.05) + obsChunk
	if est < 2*n { // the rest fits in chunks
		return false
	}
	bigger := make([]Observation, n, obsNext(n, est))
	hugepage.Advise(bigger) // filled from here on, and kept
	prefault.Slice(bigger, 0, n)
	copy(bigger, c.obs)
	if n == obsChunk {
		c.firsts.give(c.whole)
	}
	c.obs, c.whole = bigger, bigger
	return true
}

// obsNext returns the next capacity of a collector's slice holding n Observations of a file
// estimated to hold est.
func obsNext(n, est int) int {
	if est <= max(obsGrowth*n, obsTrusted) {
		return est
	}
	ratio := float64(est) / float64(n)
	steps := math.Ceil(math.Log(ratio) / math.Log(obsGrowth))
	return max(n+1, min(int(float64(n)*math.Pow(ratio, 1/steps)), obsGrowth*n))
}

// finish returns the file's Observations in frame order. A slice sized from the file's size, with
// room for more than 1/obsSlack of its length again (the size overestimated what the file held),
// gives that room's pages back to the system (not copied: the copy would take both at once, and
// cost a memmove of the whole file): it would otherwise stay resident for the whole run, as would the
// room of the last window mapped in. Only a small file's first chunk is copied out, so that the
// chunk goes back to the slabs for the next file.
func (c *obsCollector) finish() []Observation {
	if len(c.chunks) == 0 {
		// The room of the last window mapped in that frames did not fill goes back (the pages read
		// as zeros if touched again): it would stay resident with a slice that is kept.
		hugepage.Release(c.obs)
		obs := c.whole[:len(c.obs)]
		c.obs, c.whole = nil, nil
		if cap(obs) == obsChunk && cap(obs)-len(obs) > len(obs)/4+4096 { // a small file in its first chunk
			small := append([]Observation(nil), obs...)
			c.firsts.give(obs)
			return small
		}
		if cap(obs) > obsChunk && cap(obs)-len(obs) > len(obs)/obsSlack { // not a first chunk
			return hugepage.Release(obs)
		}
		return obs
	}
	n := len(c.obs)
	for _, ch := range c.chunks {
		n += len(ch)
	}
	all := make([]Observation, 0, n)
	all = append(all, c.obs...)
	for _, ch := range c.chunks {
		all = append(all, ch...)
	}
	c.obs, c.whole, c.chunks = nil, nil, nil
	return all
}

// Fingerprints holds one file's NAT-tolerant fingerprints (one per Observation) in chunks of
// FingerprintChunk: a large file's are not copied while it is read.
type Fingerprints struct {
	Chunks [][]uint64 // all full but the last
}

// FingerprintChunk is how many fingerprints a chunk of Fingerprints holds.
const FingerprintChunk = 1 << 16

// At returns the fingerprint of Observation i.
func (f *Fingerprints) At(i int) uint64 { return f.Chunks[i/FingerprintChunk][i%FingerprintChunk] }

// Slot returns where the fingerprint of Observation i is kept.
func (f *Fingerprints) Slot(i int) *uint64 {
	return &f.Chunks[i/FingerprintChunk][i%FingerprintChunk]
}

// Clone returns a copy that shares no memory with f.
func (f *Fingerprints) Clone() Fingerprints {
	c := Fingerprints{Chunks: make([][]uint64, len(f.Chunks))}
	for k, ch := range f.Chunks {
		c.Chunks[k] = append([]uint64(nil), ch...)
	}
	return c
}

// fpCollector gathers one file's fingerprints into the chunks of a Fingerprints.
type fpCollector struct {
	chunks [][]uint64
	cur    []uint64 // the chunk being filled, at its full length
	n      int      // values in cur
	// slabs is where the full-size chunks come from (nil: allocations of their own).
	slabs *chunkSlabs[uint64]
}

// fpSlabChunks is how many full-size chunks of fingerprints a Load's slab holds (8 MiB): the files'
// chunks come out of them side by side.
const fpSlabChunks = 16

func (c *fpCollector) add(v uint64) {
	if n := c.n; uint(n) < uint(len(c.cur)) { // (the index not tested again)
		c.cur[n] = v
		c.n = n + 1
		return
	}
	c.addGrow(v)
}

// addGrow is add when cur is full: it grows cur first.
func (c *fpCollector) addGrow(v uint64) {
	c.grow()
	c.cur[c.n] = v
	c.n++
}

func (c *fpCollector) grow() {
	switch {
	case len(c.cur) < cap(c.cur): // a full-size chunk, mapped in up to its length
		c.cur = c.next(c.cur)
	case c.cur == nil:
		c.cur = make([]uint64, 1024) // a small file takes little
	case len(c.cur) < FingerprintChunk: // the first chunk doubles up to full size
		var bigger []uint64
		if 2*len(c.cur) == FingerprintChunk {
			// The first full-size chunk: the values so far are copied into its front, so that is
			// mapped in with the window after it, in one call (it faulted in a page at a time).
			ch := c.slabs.take(FingerprintChunk)
			prefault.Slice(ch, 0, len(c.cur))
			bigger = c.next(ch[:len(c.cur)])
		} else {
			bigger = make([]uint64, 2*len(c.cur))
		}
		copy(bigger, c.cur)
		c.cur = bigger
	default:
		c.chunks = append(c.chunks, c.cur)
		c.cur, c.n = c.next(c.slabs.take(FingerprintChunk)), 0
	}
}

// fpWindow is how many fingerprints of a full-size chunk are mapped in at a time (128 KiB): the
// chunk's length is the end of what is mapped in, where add calls grow for the next window.
const fpWindow = FingerprintChunk / 4

// next maps in the memory of the next fpWindow values of a full-size chunk past ch's length (one
// system call instead of a page fault each), and returns ch lengthened to them.
func (c *fpCollector) next(ch []uint64) []uint64 {
	end := min(len(ch)+fpWindow, cap(ch))
	prefault.Slice(ch, len(ch), end)
	return ch[:end]
}

func (c *fpCollector) finish() Fingerprints {
	if c.n > 0 {
		hugepage.Release(c.cur[:c.n]) // the room mapped in that no value filled
		c.chunks = append(c.chunks, c.cur[:c.n:c.n])
	}
	f := Fingerprints{Chunks: c.chunks}
	*c = fpCollector{}
	return f
}

// obsSlack: a collector's slice with room for more than 1/obsSlack of its length again gives it back
// when the file is done.
const obsSlack = 32

// obsChunk is the number of Observations per collection chunk (2 MiB).
const obsChunk = 1 << 16

// scanVars are the variables scan's loop carries from frame to frame. Kept in one struct of more than
// four fields, which the compiler keeps in memory rather than in registers, they are read and written
// where they are used, instead of being moved between registers and spilled around the calls at the
// head of the loop for every frame (about 20 instructions a frame, more than their uses cost).
type scanVars struct {
	r                  Reader       // the reader (lookMerged may give another: kept here, not moved and spilled a frame)
	pr                 *pcapReader  // r when it is a pcap file's (setReader), else nil
	o                  *Observation // the frame's Observation
	tr                 *Traffic     // the frame's source's Traffic
	frags              *fragTracker // the outer fragments' (nil until the first)
	nObs               int          // frames read so far, each an Observation (fi.Records at the end)
	lastSrc            int          // the source of the frame before (-1: none yet)
	ctxLost            int          // frames whose header context was not kept (the table full)
	fracOver, wentBack int          // frames flagged for their timestamps
	cutAt              int          // v.nObs+1 when the last read was a skipped record (0: none yet)
}

// traffic returns the Traffic of capture source src, a new one the first time.
func (fi *FileInfo) traffic(src uint16) *Traffic {
	tr := fi.Traffic[src]
	if tr == nil {
		tr = &Traffic{}
		fi.Traffic[src] = tr
	}
	return tr
}

// setReader makes r the scan's reader.
func (v *scanVars) setReader(r Reader) {
	v.r = r
	v.pr, _ = r.(*pcapReader)
}
