package cluster

import (
	"net"

	"github.com/calipath/calipath/decode"
)

// PodMACs returns the pods' MACs the workload endpoints give (spec.mac, the pod end of each veth),
// each with its pod, its interface (spec.interfaceName) and its node as the captures name it (alias: MatchNodes), for
// decode.PointConfig.PodMACs. Left out: an endpoint without a MAC, a pod or a node; a MAC that several
// pods' endpoints give (no one pod's); and ee:ee:ee:ee:ee:ee, the host end of every Calico veth.
func (m *Meta) PodMACs(alias map[string]string) map[[6]byte]decode.PodMAC {
	out := map[[6]byte]decode.PodMAC{}
	shared := map[[6]byte]bool{}
	for i := range m.WorkloadEndpoints {
		w := &m.WorkloadEndpoints[i]
		hw, err := net.ParseMAC(w.MAC)
		if err != nil || len(hw) != 6 || w.Pod == "" || w.Node == "" || [6]byte(hw) == decode.CalicoMAC {
			continue
		}
		node := w.Node
		if a, ok := alias[node]; ok {
			node = a
		}
		pm := decode.PodMAC{Node: node, Pod: w.Namespace + "/" + w.Pod, Iface: w.InterfaceName,
			Why: "WorkloadEndpoint " + w.Namespace + "/" + w.Name + " in " + w.Source}
		mac := [6]byte(hw)
		if prev, ok := out[mac]; ok && prev.Pod != pm.Pod {
			shared[mac] = true
		}
		out[mac] = pm
	}
	for mac := range shared {
		delete(out, mac)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
