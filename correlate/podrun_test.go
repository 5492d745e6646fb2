package correlate

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/calipath/calipath/decode"
)

// podPairs.run counts what findPods' loop leaves to it as add counts it frame by frame: random pieces
// of frames, IPv4 frames of pod-veth points (among few pairs and a few more, so that pairs are met at
// their first slot, elsewhere, and past a flush when podPairMax are gathered), frames of no pod-veth
// point, not IP, IPv6 and ARP frames between them. Each frame run stops at is counted with add (an
// IPv4 frame) or passed over (the others: run must pass over the first two itself and stop at the
// last two), as findPods does.
func TestPodPairsRunAsAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 5))
	srcPod := []int32{0, 1, -1, 2} // capture source 2 is no pod-veth's
	for round := range 300 {
		addrs := make([]uint32, 1+rng.IntN(40+round))
		for i := range addrs {
			addrs[i] = 0x0af40000 + uint32(rng.IntN(1000))
		}
		chunk := make([]decode.Observation, 100+rng.IntN(3000))
		for k := range chunk {
			o := &chunk[k]
			o.Source = uint16(rng.IntN(len(srcPod)))
			o.Src, o.Dst = addrs[rng.IntN(len(addrs))], addrs[rng.IntN(len(addrs))]
			o.TTL = uint8(63 + rng.IntN(2))
			switch rng.IntN(20) {
			case 0:
				o.Flags = decode.FlagNotIP
			case 1:
				o.Flags = decode.FlagIPv6
			case 2:
				o.Flags = decode.FlagARP
			}
		}
		got, want := make([]podCands, 3), make([]podCands, 3)
		gp, wp := newPodPairs(got), newPodPairs(want)
		stops := 0
		for k := 0; k < len(chunk); k++ {
			if k = gp.run(chunk, k, srcPod); k == len(chunk) {
				break
			}
			stops++
			o := &chunk[k]
			pi := srcPod[o.Source]
			if pi < 0 || o.Flags&decode.FlagNotIP != 0 {
				t.Fatalf("round %d: run stopped at frame %d, of source %d, flags %#x", round, k, o.Source, o.Flags)
			}
			if o.Flags&(decode.FlagIPv6|decode.FlagARP) == 0 {
				gp.add(pi, o.Src, o.Dst, ownTTL(o.TTL))
			}
		}
		for k := range chunk {
			o := &chunk[k]
			if pi := srcPod[o.Source]; pi >= 0 && o.Flags&(decode.FlagNotIP|decode.FlagIPv6|decode.FlagARP) == 0 {
				wp.add(pi, o.Src, o.Dst, ownTTL(o.TTL))
			}
		}
		gp.flush()
		wp.flush()
		for pi := range got {
			if !slices.Equal(got[pi].counted(), want[pi].counted()) {
				t.Fatalf("round %d, point %d: counts\n%v\nwant\n%v", round, pi, got[pi].counted(), want[pi].counted())
			}
		}
		if stops == 0 || stops == len(chunk) {
			t.Fatalf("round %d: run stopped at %d of %d frames: it counted none itself, or all", round, stops, len(chunk))
		}
	}
}
