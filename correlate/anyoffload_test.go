package correlate

import "testing"

// placeClean asks mayOffload only when anyOffload says some journey is a piece, a parent or a
// fragment: anyOffload is true exactly when mayOffload is for some journey, on scenarios with GSO and
// GRO offload, with WireGuard fragments and with neither.
func TestAnyOffload(t *testing.T) {
	seen := map[bool]bool{}
	for _, sc := range []string{"healthy-vxlan-offload", "wireguard-fragmented", "healthy-ipip"} {
		a := analysisAtGaps(t, labLoad(t, sc, "*.pcap", true), -1)
		pl := newPlacement(a)
		some := false
		for j := range a.nJ {
			some = some || pl.mayOffload(int32(j))
		}
		if pl.anyOffload() != some {
			t.Fatalf("%s: anyOffload %v, some journey's mayOffload %v", sc, pl.anyOffload(), some)
		}
		seen[some] = true
	}
	if !seen[true] || !seen[false] {
		t.Fatalf("scenarios with offloaded journeys and without: %v", seen)
	}
}
