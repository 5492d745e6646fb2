package decode

import "testing"

// TestAddAddr checks the small address sets: duplicates are kept once, in order of arrival, and
// addresses beyond the capacity are dropped.
func TestAddAddr(t *testing.T) {
	var set [maxPairs][4]byte
	n := 0
	for i := 0; i < 3*maxPairs; i++ {
		addAddr(&set, &n, [4]byte{10, 0, 0, byte(i % (maxPairs + 5))})
		if want := min(i+1, maxPairs); n != want {
			t.Fatalf("after %d adds: %d addresses, want %d", i+1, n, want)
		}
	}
	for i := 0; i < maxPairs; i++ {
		if set[i] != [4]byte{10, 0, 0, byte(i)} {
			t.Fatalf("set[%d] = %v", i, set[i])
		}
	}
	var set6 [maxPods6][16]byte
	n6 := 0
	for i := 0; i < 3*maxPods6; i++ {
		addAddr6(&set6, &n6, [16]byte{0xfd, 15: byte(i % (maxPods6 + 1))})
		if want := min(i+1, maxPods6); n6 != want {
			t.Fatalf("IPv6: after %d adds: %d addresses, want %d", i+1, n6, want)
		}
	}
	for i := 0; i < maxPods6; i++ {
		if set6[i] != [16]byte{0xfd, 15: byte(i)} {
			t.Fatalf("set6[%d] = %v", i, set6[i])
		}
	}
}

// TestTrafficPodAddrs checks that Traffic.Add collects pod addresses from frames to and from the Calico
// MAC, each once.
func TestTrafficPodAddrs(t *testing.T) {
	var tr Traffic
	for i := 0; i < 10; i++ {
		p := &Packet{LinkType: LinkEthernet, HasEth: true, DstMAC: CalicoMAC, Inner: IPHdr{Version: 4}}
		p.Inner.Src = [16]byte{10, 244, 0, byte(i % 3)}
		p.Inner.Dst = [16]byte{10, 96, 0, 1}
		tr.Add(int64(i), p, uint64(i+1))
		q := &Packet{LinkType: LinkEthernet, HasEth: true, SrcMAC: CalicoMAC, Inner: IPHdr{Version: 4}}
		q.Inner.Src = [16]byte{10, 96, 0, 1}
		q.Inner.Dst = [16]byte{10, 244, 1, byte(i % 4)}
		tr.Add(int64(i), q, uint64(i+100))
	}
	if tr.NPodSrc != 3 || tr.PodSrcs[2] != [4]byte{10, 244, 0, 2} || tr.NPodDst != 4 || tr.PodDsts[3] != [4]byte{10, 244, 1, 3} {
		t.Errorf("pod sources %d %v, destinations %d %v", tr.NPodSrc, tr.PodSrcs[:tr.NPodSrc], tr.NPodDst, tr.PodDsts[:tr.NPodDst])
	}
}

// TestAddPair checks the set of address triples: each kept once, in order of arrival, up to
// maxPairs, whatever order they come back in; and Merge keeps them the same way.
func TestAddPair(t *testing.T) {
	add := func(tr *Traffic, a, b, c [4]byte) { tr.addPair(addr32(&a), addr32(&b), addr32(&c)) }
	triple := func(i int) (a, b, c [4]byte) {
		// Triples that differ in one address only, in each of the three.
		return [4]byte{192, 168, byte(i % 3), 1}, [4]byte{192, 168, byte(i / 3 % 4), 2}, [4]byte{10, 244, byte(i / 12), byte(i)}
	}
	const distinct = maxPairs + 9
	var tr, merged Traffic
	for k := 0; k < distinct; k++ {
		a, b, c := triple(k)
		add(&tr, a, b, c)
		for j := 0; j <= k; j++ { // and the ones before it again, in another order
			a, b, c := triple((j*7 + k) % (k + 1))
			add(&tr, a, b, c)
		}
	}
	if tr.NPairs != maxPairs {
		t.Fatalf("%d pairs, want %d", tr.NPairs, maxPairs)
	}
	for i := 0; i < maxPairs; i++ {
		a, b, c := triple(i)
		if tr.OuterSrc[i] != a || tr.OuterDst[i] != b || tr.InnerSrc[i] != c {
			t.Fatalf("pair %d = %v %v %v, want %v %v %v", i, tr.OuterSrc[i], tr.OuterDst[i], tr.InnerSrc[i], a, b, c)
		}
	}
	tr.Frames = 1
	merged.Merge(&tr)
	merged.Merge(&tr)
	if merged.NPairs != maxPairs || merged.OuterSrc != tr.OuterSrc || merged.OuterDst != tr.OuterDst || merged.InnerSrc != tr.InnerSrc {
		t.Errorf("merged twice: %d pairs, not the same as the one merged", merged.NPairs)
	}
}

// TestNewPair checks addPair's two triples met last (pairsSeen), through which the scan leaves out
// addPair's call: a triple is new until addPair met it, of the last two it met only, an all-zero
// triple included (a zero entry is none); and a set filled through newPair's test holds what addPair
// alone puts in it.
func TestNewPair(t *testing.T) {
	var tr Traffic
	if !tr.newPair(0, 0, 0) {
		t.Fatal("an all-zero triple is not new in a zero Traffic")
	}
	tr.addPair(0, 0, 0)
	if tr.newPair(0, 0, 0) || tr.NPairs != 1 {
		t.Fatalf("the all-zero triple added: new %v, %d pairs", tr.newPair(0, 0, 0), tr.NPairs)
	}
	tr.addPair(1, 2, 3)
	tr.addPair(4, 5, 6)
	if !tr.newPair(0, 0, 0) || tr.newPair(1, 2, 3) || tr.newPair(4, 5, 6) || !tr.newPair(1, 2, 6) || !tr.newPair(2, 1, 3) {
		t.Error("the two triples met last are not the ones not new")
	}
	tr.addPair(1, 2, 3) // found again: the newest
	tr.addPair(0, 0, 0)
	if tr.newPair(0, 0, 0) || tr.newPair(1, 2, 3) || !tr.newPair(4, 5, 6) {
		t.Error("a triple found again is not the newest")
	}
	var all, cached Traffic
	for k := 0; k < 3*maxPairs; k++ {
		for _, d := range []uint32{0, 1, 0, 0, 1} { // the two directions, one after the other, and repeats
			a, b, c := uint32(k%(maxPairs+5))+d, uint32(7)-d, uint32(k%5)
			all.addPair(a, b, c)
			if cached.NPairs < maxPairs && cached.newPair(a, b, c) {
				cached.addPair(a, b, c)
			}
		}
	}
	if all.NPairs != maxPairs || cached.NPairs != all.NPairs || cached.OuterSrc != all.OuterSrc || cached.OuterDst != all.OuterDst ||
		cached.InnerSrc != all.InnerSrc || cached.pairSlots != all.pairSlots {
		t.Errorf("through newPair: %d pairs, %v; addPair alone: %d, %v", cached.NPairs, cached.InnerSrc[:cached.NPairs], all.NPairs, all.InnerSrc[:all.NPairs])
	}
}
