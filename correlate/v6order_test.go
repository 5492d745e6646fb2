package correlate

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestIPv6FlowIDsByAddress: the flows' ids follow their IPv6 addresses, not the order the files were
// read in (which hands out the addresses' table indexes). Two pods on one node, each captured in a
// file of its own, each with one UDP flow (payloads that differ from their first byte, or the flows
// would look like one NATed): naming the files in either order, on one core (files read in the order
// named) and on two, numbers the same flows alike.
func TestIPv6FlowIDsByAddress(t *testing.T) {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	server := netip.MustParseAddr("fd00:10:244:9::1").As16()
	const t0 = int64(1_700_000_000_000_000_000)
	var paths []string
	for k, pod := range []string{"fd00:10:244:1::7", "fd00:10:244:1::5"} { // the later address first
		src := netip.MustParseAddr(pod).As16()
		mac := [6]byte{0x0a, 0x58, 0, 0, 0, byte(k + 1)}
		var ts []int64
		var fr [][]byte
		for i := 0; i < 3+37*k; i++ {
			ts = append(ts, t0+int64(i)*1_000_000+int64(k)*100_000)
			fr = append(fr, udp6Frame(cali, mac, src, server, 64, uint16(40000+k), 53, fmt.Sprintf("%c%d query", 'A'+k, i)))
		}
		paths = append(paths, filepath.Join(dir, []string{"node-a-cali1111111111a.pcap", "node-a-cali2222222222b.pcap"}[k]))
		writePcap(t, paths[k], ts, fr)
	}
	ids := func(paths []string) []string {
		r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
		var out []string
		for _, f := range r.Flows {
			out = append(out, f.ID+" "+f.Src.IP)
		}
		return out
	}
	want := []string{"f1 fd00:10:244:1::5", "f2 fd00:10:244:1::7"}
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		for _, order := range [][]string{paths, {paths[1], paths[0]}} {
			if got := ids(order); !slices.Equal(got, want) {
				t.Errorf("GOMAXPROCS %d, files %v: flows %v, want %v", procs, filepath.Base(order[0]), got, want)
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}
