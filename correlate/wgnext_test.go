package correlate

import "testing"

// TestWireGuardBlackholeAdvice: in wireguard-mtu-blackhole router-1 fragments the 1500-byte encrypted
// messages for its 1400-byte eth0 and the fragments die: the black hole's next step names the WireGuard
// device's MTU on the two nodes (FelixConfiguration wireguardMTU, host MTU − 60) and the underlay
// between them, not the generic "let ICMP type 3 code 4 through" (no ICMP can come: WireGuard sends
// without DF), and its message does not say DF packets were lost.
func TestWireGuardBlackholeAdvice(t *testing.T) {
	an := labAnomaly(t, "wireguard-mtu-blackhole", "pmtu-blackhole", "router-1/eth1→router-1/eth0")
	wantAll(t, "its next", an.Next, []string{"wireguard.cali's MTU on node-a and node-b", "FelixConfiguration wireguardMTU",
		"less 60", "without DF", "drops IP fragments"}, []string{"type 3 code 4", "Lower the pod/tunnel MTU"})
	wantAll(t, "the black hole", an.Message, []string{"on WireGuard's encrypted hop, where no ICMP"},
		[]string{"Large DF packets", "reached the sending pod"})
}
