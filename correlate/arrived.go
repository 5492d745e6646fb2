package correlate

import "github.com/calipath/calipath/decode"

// arrived reports whether the Observation with global id g is its packet delivered into a pod: seen
// at the pod's own veth (a cali* point, not the shared pod stage of a -i any capture) with the pod's
// address as destination. The packet is then in the pod's network namespace: nothing seen after it on
// the node is the same packet rewritten by NAT (NAT happens on the host, before delivery). Packets of
// other flows that share its NAT-tolerant fingerprint (same IP id, length and payload, as pooled
// DNS-like payloads may) were otherwise taken for it, and their flows joined into one.
func (w *world) arrived(g uint32) bool {
	o, _ := w.obsAt(g)
	pi := w.srcPoint[o.Source]
	if w.pointRole[pi] != decode.RolePodVeth || w.c.Sources[o.Source].IfIndex == decode.IfAnyPod {
		return false
	}
	owner, ok := w.ownerOf(o.Flags&decode.FlagIPv6 != 0, o.Dst)
	return ok && owner == pi
}
