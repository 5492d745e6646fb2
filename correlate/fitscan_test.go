package correlate

import (
	"math/rand"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestFitScan checks fitScan, which passes over the frames frameChecks need not look at, against
// the tests it stands for, written out: from every start, the first frame with a bad checksum, or
// encapsulated, IPv4 and the nodes' IPs known (encapMax) without a cache entry that holds its fit as
// fitting (an entry of another key, of its key marked fitNot, or none).
func TestFitScan(t *testing.T) {
	rng := rand.New(rand.NewSource(18))
	for round := 0; round < 200; round++ {
		fits := new([fitSlots]frameFit)
		blk := make([]decode.Observation, rng.Intn(300))
		for i := range blk {
			o := &blk[i]
			o.Src, o.Dst, o.Ctx = uint32(rng.Intn(4)), uint32(rng.Intn(4)), uint16(rng.Intn(3))
			// Encapsulation 0 to 3, checksum 0 to 3 (2: CsumBad), IPv6 at times; most frames usual.
			o.Flags = decode.Flags(rng.Intn(4)) | decode.Flags(rng.Intn(4))<<decode.FlagCsumShift
			if rng.Intn(5) == 0 {
				o.Flags |= decode.FlagIPv6
			}
			if rng.Intn(3) > 0 { // a usual frame: encapsulated, checksum fine
				o.Flags = decode.Flags(decode.EncapIPIP) | decode.Flags(decode.CsumOK)<<decode.FlagCsumShift
			}
		}
		// Entries for some keys: fitting, not fitting (fitNot), or of a key that shares the slot.
		for s := 0; s < 4; s++ {
			for d := 0; d < 4; d++ {
				for c := 0; c < 3; c++ {
					addrs, ctx1 := fitKey(&decode.Observation{Src: uint32(s), Dst: uint32(d)}), uint32(c)+1
					e := &fits[fitSlot(addrs, ctx1)]
					switch rng.Intn(4) {
					case 0: // none
					case 1:
						*e = frameFit{addrs, ctx1}
					case 2:
						*e = frameFit{addrs, ctx1 | fitNot}
					case 3:
						*e = frameFit{addrs ^ 1<<40, ctx1}
					}
				}
			}
		}
		for _, encapMax := range []decode.Flags{0, decode.FlagEncapMask} {
			cls := fitClassesFor(encapMax)
			want := func(k int) int {
				for ; k < len(blk); k++ {
					o := &blk[k]
					if o.Checksum() == decode.CsumBad {
						return k
					}
					if o.Encap() != decode.EncapNone && o.Flags&decode.FlagIPv6 == 0 && encapMax != 0 {
						addrs, ctx1 := fitKey(o), uint32(o.Ctx)+1
						if e := fits[fitSlot(addrs, ctx1)]; e.addrs != addrs || e.tag != ctx1 {
							return k
						}
					}
				}
				return len(blk)
			}
			for k := 0; k <= len(blk); k++ {
				if got, w := fitScan(blk, k, fits, &cls), want(k); got != w {
					t.Fatalf("round %d, encapMax %d: fitScan from %d = %d, want %d (frame flags %#x)",
						round, encapMax, k, got, w, blk[min(w, len(blk)-1)].Flags)
				}
			}
		}
	}
}
