package decode

import (
	"reflect"
	"testing"
)

// probeIPv4 returns a frame as the merged probe reads it: an IPv4 packet between inner addresses src
// and dst (their last bytes) of TTL ttl, sent from link address from to to, in encapsulation encap.
func probeIPv4(from, to [6]byte, encap Encap, src, dst byte, ttl uint8) *Packet {
	p := &Packet{HasEth: true, SrcMAC: from, DstMAC: to, Encap: encap}
	p.Inner.Version, p.Inner.TTL = 4, ttl
	p.Inner.Src[0], p.Inner.Src[3] = 10, src
	p.Inner.Dst[0], p.Inner.Dst[3] = 10, dst
	if encap != EncapNone {
		p.Outer.Version, p.Outer.TTL = 4, ttl
	}
	return p
}

var (
	probePodA  = [6]byte{0x02, 0, 0, 0, 0, 0x0a}
	probePodB  = [6]byte{0x02, 0, 0, 0, 0, 0x0b}
	probeNodeA = [6]byte{0x02, 0, 0, 0, 1, 0x01}
	probeNodeB = [6]byte{0x02, 0, 0, 0, 1, 0x02}
	probeVTEPA = [6]byte{0x66, 0, 0, 0, 1, 0x01}
	probeVTEPB = [6]byte{0x66, 0, 0, 0, 1, 0x02}
)

// TestProbeStagesLogged gives the merged probe the frames of a packet at one stage, then at another:
// it logs the fingerprints while every frame is of one stage (no table), and counts the packets at two
// stages once a frame of another comes, with each fingerprint's first TTL, as the probe that puts every
// fingerprint into its table does (ref), frame after frame.
func TestProbeStagesLogged(t *testing.T) {
	type frame struct {
		p  *Packet
		fp uint64
	}
	var frames []frame
	for i := range 10 { // pod A's packets at its veth
		frames = append(frames, frame{probeIPv4(probePodA, CalicoMAC, EncapNone, 1, 3, 64), 100 + uint64(i)})
	}
	for i := range 4 { // at pod B's veth, one router on (TTL one lower than at the first): two stages
		frames = append(frames, frame{probeIPv4(CalicoMAC, probePodB, EncapNone, 1, 3, 63), 100 + uint64(i)})
	}
	for i := 4; i < 6; i++ { // at pod B's veth, other nodes on: no second stage
		frames = append(frames, frame{probeIPv4(CalicoMAC, probePodB, EncapNone, 1, 3, 60), 100 + uint64(i)})
	}
	for i := range 8 { // at the underlay: a second stage for those seen at one (four of them)
		frames = append(frames, frame{probeIPv4(probeNodeA, probeNodeB, EncapIPIP, 1, 2, 63), 100 + uint64(i)})
	}
	s, ref := newProbeState(), newProbeState()
	ref.mapStages() // every fingerprint into the table from the first
	for i, f := range frames {
		s.add(f.p, f.fp)
		ref.add(f.p, f.fp)
		if s.dups != ref.dups {
			t.Fatalf("frame %d: %d packets at two stages, want %d", i, s.dups, ref.dups)
		}
		if i == 9 && (s.stages.keys != nil || len(s.stLog) != 10) {
			t.Fatalf("frames of one stage: the table made (%v), %d fingerprints logged", s.stages.keys != nil, len(s.stLog))
		}
	}
	if s.dups != 8 || !s.merged() {
		t.Errorf("%d packets at two stages (merged %v), want 8", s.dups, s.merged())
	}
}

// TestProbeClassLikeFull gives the merged probe frames of several link-address pairs in turn, and
// pods more than it keeps apart: what it counts of a class of frames it met before (probeState.add)
// must be what it counts of every frame in full (addFull).
func TestProbeClassLikeFull(t *testing.T) {
	type frame struct {
		p  *Packet
		fp uint64
	}
	var frames []frame
	fp := uint64(1)
	add := func(p *Packet) {
		frames = append(frames, frame{p, fp})
		fp++
	}
	for round := range 3 {
		for i := range byte(20) { // two classes in turn: the second and later frames of each are met before
			add(probeIPv4(probePodA, CalicoMAC, EncapNone, 1+i%3, 9, 64)) // pod A's, out
			add(probeIPv4(CalicoMAC, probePodA, EncapNone, 9, 1+i%3, 63)) // to pod A
		}
		for i := range byte(20) {
			add(probeIPv4(probeNodeA, probeNodeB, EncapIPIP, 1, 9+i%2, 63)) // the underlay's, carried
			add(probeIPv4(probeNodeB, probeNodeA, EncapNone, 9, 1, 63))     // the underlay's, plain
			if i%5 == 0 {
				arp := probeIPv4(probePodB, CalicoMAC, EncapNone, 2, 9, 64)
				arp.HasARP, arp.Inner = true, IPHdr{}
				add(arp)
			}
		}
		for i := range byte(20) {
			add(probeIPv4(probeVTEPA, probeVTEPB, EncapNone, 1, 9+i%2, 62)) // the tunnel device's
			add(probeIPv4(probeNodeA, broadcastMAC, EncapNone, 1, 255, 1))  // to a multicast MAC
		}
		for pod := range byte(mergedPods + 6) { // more pods than kept apart: the last share a stage
			mac := [6]byte{0x02, 0, 0, 1, byte(round), pod}
			add(probeIPv4(mac, CalicoMAC, EncapNone, 100+pod, 9, 64))
			add(probeIPv4(mac, CalicoMAC, EncapNone, 100+pod, 9, 64))
			add(probeIPv4(CalicoMAC, mac, EncapNone, 9, 100+pod, 63))
		}
	}
	s, ref := newProbeState(), newProbeState()
	for i, f := range frames {
		s.add(f.p, f.fp)
		ref.addFull(f.p, f.fp)
		got := []any{s.cali, s.other, s.vethIP, s.carried, s.dups, s.ipKinds, s.ipPods, s.nIPPods, s.answered,
			s.m.pods, s.m.ips, s.st0, s.stLog, s.ttlLog}
		want := []any{ref.cali, ref.other, ref.vethIP, ref.carried, ref.dups, ref.ipKinds, ref.ipPods, ref.nIPPods,
			ref.answered, ref.m.pods, ref.m.ips, ref.st0, ref.stLog, ref.ttlLog}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("frame %d (%+v): the account\n%v\nwant\n%v", i, f.p, got, want)
		}
	}
	if len(s.m.pods) != mergedPods || s.vethIP == 0 || s.carried == 0 || s.other == 0 || s.cali == 0 {
		t.Fatalf("%d pods kept, %d veth IP frames, %d carried, %d other, %d to or from ee:…", len(s.m.pods), s.vethIP,
			s.carried, s.other, s.cali)
	}
}

// TestProbeRoutedAgain gives the merged probe a packet routed between two interfaces of a router
// twice: once counted, the packet is forgotten, so that its fingerprint met again is a packet anew.
func TestProbeRoutedAgain(t *testing.T) {
	s := newProbeState()
	const us = int64(1000)
	for k, ts := range []int64{0, 5000 * us} {
		s.hop(probeIPv4(probeNodeA, probeVTEPA, EncapNone, 1, 9, 64), ts, 42)        // in
		s.hop(probeIPv4(probeVTEPB, probeNodeB, EncapNone, 1, 9, 63), ts+100*us, 42) // out, one router on
		if s.routed != k+1 {
			t.Fatalf("round %d: %d packets routed, want %d", k, s.routed, k+1)
		}
	}
	s.hop(probeIPv4(probeNodeA, probeVTEPA, EncapNone, 1, 9, 64), 20000*us, 43)
	s.hop(probeIPv4(probeVTEPB, probeNodeB, EncapNone, 1, 9, 63), 22000*us, 43) // too late
	if s.routed != 2 {
		t.Fatalf("%d packets routed, want 2", s.routed)
	}
}
