package correlate

import (
	"runtime"
	"testing"

	"github.com/calipath/calipath/decode"
)

// The single-frame checks started once the world is built (early.go, on more than one core) find
// what the side findings find on one core: the frame with a bad checksum, at its point.
func TestEarlyFrameChecks(t *testing.T) {
	paths, frame := labWithFrame(t, "node-b-eth0.pcap", func(d []byte) bool {
		if len(d) < 34+84 || d[12] != 0x08 || d[13] != 0 || d[14+9] != 4 || d[34+9] != 1 {
			return false
		}
		d[34+84-1] ^= 0xff
		return true
	})
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		c := decode.Load(paths, decode.Options{}, decode.PointConfig{})
		if e := startFrameChecks(worldOf(c)); (e != nil) != (procs > 1) {
			t.Fatalf("GOMAXPROCS %d: early checks %v", procs, e != nil)
		} else if e != nil {
			e.stop()
		}
		onlyAnomaly(t, Correlate(c, Options{}), "checksum-bad", "node-b/eth0", frame)
	}
}
