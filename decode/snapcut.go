package decode

import "fmt"

// Snap levels say how far a capture's snaplen cut into what matching a packet's sightings uses
// (Options.SnapMatch, FileInfo.SnapLevel).
const (
	// SnapWhole: nothing matching uses was cut.
	SnapWhole uint8 = iota
	// SnapPayload: frames end before the first 16 payload bytes that Fingerprint hashes (an ICMP
	// error's: before the bytes of its quote it reads). The run's fingerprints leave the payload out
	// (header fields only).
	SnapPayload
	// SnapTransport: frames end inside the inner transport header, after the ports. The run's
	// fingerprints keep only IP fields and the length the IP header declares.
	SnapTransport
	// SnapHeaders: frames end before the inner ports, inside an inner IP or tunnel header. Their
	// sightings cannot be matched; the file's problems say so.
	SnapHeaders
)

// snapClass is how far the snaplen cut into what matching uses of the decoded frame p (p.Errs has
// ErrSnapped): a Snap level.
func snapClass(p *Packet) uint8 {
	in := &p.Inner
	if p.Errs&ErrTruncated == 0 {
		if in.Version != 0 && !p.HasARP && !(p.HasWG && p.WG.Type == WGTransport && in.FragOff == 0) &&
			len(p.Payload) < min(payloadHashBytes, p.PayloadLen) {
			return SnapPayload // what Fingerprint leaves out (FlagNoPayloadHash)
		}
		if p.HasICMP && len(p.Payload) < p.PayloadLen && p.ICMP.IsError(in.Version == 6) {
			if _, cut := quoteID(p); cut {
				return SnapPayload // an error's quote cut before what Fingerprint reads of it
			}
		}
		return SnapWhole
	}
	switch {
	case p.HasARP && p.Encap == EncapNone, in.Version == 0 && p.Encap == EncapNone && !p.HasEth && !p.HasSLL:
		return SnapWhole // not IP; the frame's damage is counted as such
	case in.Version == 0, p.TunnelCut:
		return SnapHeaders
	case p.HasTCP || p.HasICMP:
		return SnapPayload // cut inside TCP options or an ICMP error's quote: the fields used are there
	case p.HasUDP:
		return SnapHeaders // the UDP header is whole: a VXLAN or WireGuard header after it was cut
	case (in.Proto == 6 || in.Proto == 17) && p.Sport|p.Dport != 0, p.ICMPEchoCut:
		return SnapTransport
	}
	return SnapHeaders
}

// CutBeforePorts reports whether Observation o is of a frame cut before its inner ports (TCP, UDP),
// its ICMP echo identifier, or inside a tunnel header (VXLAN, WireGuard): snapClass's SnapHeaders,
// which Observe marks FlagNotIP beside FlagTruncated (or a frame whose IP header was cut). Such a frame
// is no packet to follow: no fingerprint can match it to its sightings elsewhere. The fields read
// before the cut stay in o: the addresses, protocol and IP length of the innermost IP header when it
// was whole (of the outer one for a VXLAN or WireGuard datagram cut inside its tunnel header), the
// outer header in its context for IP-in-IP or VXLAN cut inside the inner one. This is the one test of
// such frames in correlate (snapcuts.go); decode counts them (FileInfo.SnapBlind) by the
// snapClass that marked them.
func CutBeforePorts(o *Observation) bool {
	return o.Flags&(FlagTruncated|FlagNotIP|FlagARP) == FlagTruncated|FlagNotIP
}

// noteSnapped accounts a frame cut by the snaplen in fi (see snapClass; Observe marked those cut
// before their inner ports, CutBeforePorts).
func noteSnapped(fi *FileInfo, rec *Record, p *Packet) {
	c := snapClass(p)
	if c == SnapWhole {
		return
	}
	fi.SnapLen = max(fi.SnapLen, len(rec.Data))
	if c == SnapHeaders {
		fi.SnapBlind++
		return
	}
	fi.SnapFrames++
	fi.SnapLevel = max(fi.SnapLevel, c)
}

// SnapLevel is the deepest Snap level of files below SnapHeaders (frames cut that deep are counted
// apart, FileInfo.SnapBlind: no fingerprint can match them).
func SnapLevel(files []*FileInfo) uint8 {
	var l uint8
	for _, f := range files {
		l = max(l, f.SnapLevel)
	}
	return l
}

// loadSnapped runs load, and when a file's snaplen cut into the payload or the transport header that
// matching uses, runs it again with every fingerprint of the run on the fields all frames have (the
// first run's frames are dropped). Inputs that cannot be read twice (stdin) keep the first run. Each
// cut file gets a problem that says so. It runs load again too when a file read as one interface's
// holds a node's merged captures (lateMerged), splitting it into its stages (splitLate). Last, it looks
// for a router's interfaces merged into a file past its probe (routedLate).
func loadSnapped(paths []string, opts Options, load func(Options) *Capture) *Capture {
	if rereadable(paths, opts) {
		opts.probeInScan, opts.mergedStop = true, &mergeStop{}
	}
	c := load(opts)
	stop := opts.mergedStop.raised()
	opts.probeInScan, opts.mergedStop = false, nil // a second load probes each file's prefix, as a stream's
	if c == nil {
		return nil
	}
	var early map[uint16]bool
	if stop {
		// A file the probe found merged reading the scan's frames stopped the first read at once
		// (inscan.go): every input is read again, those files split, with no note (a probe of their
		// prefix would have split them at once). That read is the first whole one: what follows
		// looks at it as at a first read.
		early = inScanMerged(c.Files)
		opts.splitMerged = early
		if c = load(opts); c == nil {
			return nil
		}
	}
	l := SnapLevel(c.Files)
	again := l > opts.SnapMatch
	for _, p := range paths {
		if p == "-" {
			again = false
		}
	}
	split, late := splitLate(paths, opts, c.Files, true)
	var lateFiles map[uint16]bool
	if late {
		lateFiles = split.splitMerged
		for i := range early {
			split.splitMerged[i] = true
		}
	}
	if again || late {
		first := c.Files
		if again {
			split.SnapMatch = l
		}
		opts = split
		if c = load(opts); c == nil {
			return nil
		}
		noteSplitLate(first, c.Files, lateFiles)
	}
	routedLate(c, opts)
	for _, f := range c.Files {
		snapProblem(f, opts.SnapMatch)
	}
	return c
}

// snapProblem adds fi's problem about frames its snaplen cut, matched on level match.
func snapProblem(fi *FileInfo, match uint8) {
	cut := fmt.Sprintf("%d frames were cut to %d bytes by the capture's snaplen, before the payload bytes "+
		"or transport fields that matching uses", fi.SnapFrames, fi.SnapLen)
	switch {
	case fi.SnapFrames == 0:
	case match == SnapWhole:
		fi.problem("%s, and the inputs could not be read again: their sightings may not match those of "+
			"the same packets elsewhere, so losses and drops counted at its points are unreliable; capture "+
			"with -s 0 (whole frames)", cut)
		return
	case match == SnapPayload:
		fi.problem("%s: the packets of every input were matched on their headers only (addresses, ports, "+
			"IP id, TCP sequence numbers, lengths), not their payload; capture with -s 0 (whole frames) to "+
			"match on the payload too", cut)
	default:
		fi.problem("%s: the packets of every input were matched on their IP headers and ports only "+
			"(addresses, ports, IP id, lengths), not TCP sequence numbers or payload; capture with -s 0 "+
			"(whole frames) to match them fully", cut)
	}
	if fi.SnapBlind > 0 {
		fi.problem("%d frames were cut to %d bytes before their inner ports (inside a tunnel or inner IP "+
			"header): their packets cannot be matched to their sightings elsewhere, so losses, drops and "+
			"counts at the points of this file are unreliable; capture with -s 0 (whole frames)",
			fi.SnapBlind, fi.SnapLen)
	}
}

// HeaderFingerprint is Fingerprint without the payload bytes, for a run whose snaplen cut them in
// some frames (Options.SnapMatch): every sighting of a packet then has what it is fingerprinted on.
// At level SnapPayload it keeps the transport fields (TCP sequence, acknowledgement and flags, UDP
// length, ICMP type, code and echo sequence); at SnapTransport it leaves them out too and takes the
// transport length from the IP header, as frames cut inside the transport header have no more. ARP,
// WireGuard transport messages and frames without an IP packet are fingerprinted as by Fingerprint,
// which reads no payload bytes of theirs.
func HeaderFingerprint(p *Packet, level uint8) uint64 {
	in := &p.Inner
	if p.HasARP || in.Version == 0 || (p.HasWG && p.WG.Type == WGTransport && in.FragOff == 0) {
		fp, _ := Fingerprint(p)
		return fp
	}
	hdr := uint64(in.Version)<<56 | uint64(in.Proto)<<48 | uint64(in.FragOff)<<32 | uint64(in.ID)
	if in.MF {
		hdr |= 1 << 63
	}
	plen := uint64(uint32(p.PayloadLen))
	var tw, tf uint64
	switch {
	case level >= SnapTransport:
		if in.TotalLen > uint16(in.HdrLen) && !(in.Version == 6 && in.TotalLen == 40) {
			plen = uint64(in.TotalLen) - uint64(in.HdrLen) // the transport header and payload
		}
	case p.HasTCP:
		tw, tf = uint64(p.TCP.Seq)<<32|uint64(p.TCP.Ack), uint64(p.TCP.Flags)
	case p.HasUDP:
		tf = uint64(p.UDPLen)
	case p.HasICMP:
		ic := &p.ICMP
		tf = uint64(ic.Type)<<40 ^ uint64(ic.Code)<<32 ^ uint64(ic.Seq)
	}
	h := mum(hdr^fpK[0], plen^fpK[1]) ^ mum(tw^fpK[2], tf^fpK[3])
	return mix64(h ^ 0x6864722d6f6e6c79) // "hdr-only"
}
