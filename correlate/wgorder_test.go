package correlate

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// TestWGHandshakeOrderFree: an unanswered handshake is reported where it left its node, from its
// earliest sighting, whatever the order the files are named in. On the wireguard-blocked lab
// scenario the initiations are seen at node-a/eth0 and then at router-1/eth0; named in reverse,
// the router's files came first and the finding said the initiations left router-1/eth0.
func TestWGHandshakeOrderFree(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/wireguard-blocked/*.pcap*")
	paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasSuffix(p, "-any.pcap") })
	if len(paths) < 4 {
		t.Fatalf("%d capture files", len(paths))
	}
	reversed := slices.Clone(paths)
	slices.Reverse(reversed)
	for _, order := range [][]string{paths, reversed} {
		r := Correlate(decode.Load(order, decode.Options{}, decode.PointConfig{}), Options{})
		var at []string
		for _, an := range r.Anomalies {
			if an.Kind == "wireguard-handshake-failing" {
				at = append(at, an.Where.Point)
			}
		}
		if !slices.Equal(at, []string{"node-a/eth0"}) {
			t.Errorf("files from %s: handshake findings at %v, want [node-a/eth0]", filepath.Base(order[0]), at)
		}
	}
}
