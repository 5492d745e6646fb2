package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/charmbracelet/x/ansi"
)

// The packet screen of a packet that crossed WireGuard shows the encrypted hop as such: encap
// wireguard, the message's receiver index and counter, and where it was encrypted and decrypted.
func TestPacketWireGuard(t *testing.T) {
	files, _ := filepath.Glob("../testdata/lab/scenarios/healthy-wireguard/*.pcap")
	if len(files) == 0 {
		t.Skip("no healthy-wireguard scenario")
	}
	res := correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{})
	km := DefaultKeyMap()
	m := press(openWorst(t, res, 200, 60), km.Enter)
	if m.Screen() != screenPacket || len(m.pk.frames) == 0 {
		t.Fatalf("no packet screen: %v", m.Screen())
	}
	v := ansi.Strip(m.View())
	rows := map[string]string{}
	for _, l := range strings.Split(v, "\n") {
		for _, f := range []string{"encap", "wireguard", "changes"} {
			if strings.HasPrefix(l, f+" ") {
				rows[f] = l
			}
		}
	}
	for f, want := range map[string]string{"encap": "wireguard", "wireguard": "transport receiver", "changes": "+wireguard"} {
		if !strings.Contains(rows[f], want) {
			t.Errorf("%s row %q lacks %q:\n%s", f, rows[f], want, v)
		}
	}
	if !strings.Contains(v, "0xeb082c34 counter 3") {
		t.Errorf("no message counter on the packet screen:\n%s", v)
	}
}
