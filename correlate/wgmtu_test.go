package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// wireguard-mtu-blackhole with every packet's DF bit cleared (pods whose packets go without DF): the
// big messages still die on router-1 while the small ones pass, and no ICMP can say why, since
// WireGuard's encrypted packets never carry DF. It is the same black hole as with DF.
func TestWireGuardBlackholeWithoutDF(t *testing.T) {
	files, _ := filepath.Glob("../testdata/lab/scenarios/wireguard-mtu-blackhole/*.pcap")
	if len(files) == 0 {
		t.Skip("no wireguard-mtu-blackhole scenario")
	}
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	cleared := 0
	for _, obs := range c.Obs {
		for i := range obs {
			if obs[i].Flags&decode.FlagDF != 0 {
				obs[i].Flags &^= decode.FlagDF
				cleared++
			}
		}
	}
	if cleared == 0 {
		t.Fatal("no DF bit to clear: the test no longer shows anything")
	}
	r := Correlate(c, Options{})
	an := findKind(r, "pmtu-blackhole")
	if an == nil || an.Where.From != "router-1/eth1" || an.Where.To != "router-1/eth0" || an.Count != 6 ||
		!strings.Contains(an.Message, "WireGuard") {
		t.Errorf("pmtu-blackhole: %+v; anomalies %v", an, kinds(r))
	}
	if an := findKind(r, "loss"); an != nil {
		t.Errorf("loss: %+v", an)
	}
}
