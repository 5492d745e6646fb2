package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/calipath/calipath/decode"
)

// afterEachRequest gives proxy-arp-off's node-a cali capture (Ethernet, nanosecond pcap: pod-a's six
// broadcast requests for 169.254.1.1, no reply) with, 100 ms after the requests picked by which (by
// their index), a UDP datagram from pod-a (10.244.1.5, to ee:ee:ee:ee:ee:ee) to dst (samenode_test's udpFrame).
func afterEachRequest(t *testing.T, dst [4]byte, which func(i int) bool) string {
	t.Helper()
	d, err := os.ReadFile("../testdata/lab/scenarios/proxy-arp-off/node-a-cali5e1c4d6c68c.pcap")
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte{}, d[:24]...)
	for off, i := 24, 0; off < len(d); i++ {
		n := 16 + int(binary.LittleEndian.Uint32(d[off+8:]))
		rec := d[off : off+n]
		out = append(out, rec...)
		off += n
		if !which(i) {
			continue
		}
		frame := udpFrame([6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}, [6]byte(rec[16+6:16+12]), [4]byte{10, 244, 1, 5}, dst, 64,
			uint16(0x1234+i), "calipath")
		hdr := make([]byte, 16)
		sec, ns := binary.LittleEndian.Uint32(rec[0:]), binary.LittleEndian.Uint32(rec[4:])+100_000_000
		if ns >= 1_000_000_000 {
			sec, ns = sec+1, ns-1_000_000_000
		}
		binary.LittleEndian.PutUint32(hdr[0:], sec)
		binary.LittleEndian.PutUint32(hdr[4:], ns)
		binary.LittleEndian.PutUint32(hdr[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(hdr[12:], uint32(len(frame)))
		out = append(append(out, hdr...), frame...)
	}
	p := filepath.Join(t.TempDir(), "node-a-cali5e1c4d6c68c.pcap")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The proof that a pod's broadcast request for its gateway was answered (its next packet) holds only
// for a packet that needs a resolved next hop, and only where the capture plausibly missed the reply
// (review10 #1): proxy-arp-off's node-a capture (truth: proxy ARP off) stays ERROR proxy-arp-missing
// (6) with a multicast datagram (IGMP, mDNS: sent without ARP) after every request, and with a
// unicast one after every request (a capture that recorded six released packets and not one proxy
// reply is not dropping them: the pod has a static entry and its requests go unanswered). A unicast
// datagram after one request alone is the reply missed by the capture: that one is cleared.
func TestARPProofNeedsUnicastAndPlausibleMiss(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dst   [4]byte
		which func(int) bool
		want  int // proxy-arp-missing count
	}{
		{"multicast after each", [4]byte{224, 0, 0, 22}, func(int) bool { return true }, 6},
		{"broadcast after each", [4]byte{255, 255, 255, 255}, func(int) bool { return true }, 6},
		{"unicast after each", [4]byte{10, 244, 2, 7}, func(int) bool { return true }, 6},
		{"unicast after one", [4]byte{10, 244, 2, 7}, func(i int) bool { return i == 2 }, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := afterEachRequest(t, tc.dst, tc.which)
			r := Correlate(decode.Load([]string{p}, decode.Options{}, decode.PointConfig{}), Options{})
			i := slices.IndexFunc(r.Anomalies, func(a Anomaly) bool { return a.Kind == "proxy-arp-missing" })
			if i < 0 || r.Anomalies[i].Severity != sevError || r.Anomalies[i].Count != tc.want {
				t.Errorf("proxy-arp-missing: %+v; want an error of %d", r.Anomalies, tc.want)
			}
		})
	}
}
