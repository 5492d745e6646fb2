package decode

import (
	"fmt"
	"regexp"
)

// gadgetDesc matches the interface description Inspektor Gadget's tcpdump gadget gives each
// container it captures in (inspektor-gadget cmd/kubectl-gadget/trace/tcpdump.go, getPodInterface:
// fmt.Sprintf("Node: %s, Namespace: %s, Pod: %s", …), the interface named after the container).
var gadgetDesc = regexp.MustCompile(`^Node: ([^,\s]+), Namespace: ([^,\s]+), Pod: ([^,\s]+)$`)

// PodEth0 is the interface name calipath gives a capture taken inside a pod's network namespace: the
// pod's eth0, the other end of its cali veth.
const PodEth0 = "pod-eth0"

// GadgetPoint returns the capture point an Inspektor Gadget interface description names: the node,
// and the pod's eth0 as interface "pod-eth0:<namespace>/<pod>" (one point per pod), with the reason.
func GadgetPoint(desc, name string) (node, iface, pod, why string, ok bool) {
	m := gadgetDesc.FindStringSubmatch(desc)
	if m == nil {
		return "", "", "", "", false
	}
	pod = m[2] + "/" + m[3]
	why = fmt.Sprintf("pcapng interface description %q (Inspektor Gadget): captured in pod %s's network namespace, container %q: the pod's eth0",
		desc, pod, name)
	return m[1], PodEth0 + ":" + pod, pod, why, true
}
