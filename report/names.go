package report

import "github.com/calipath/calipath/correlate"

// Kubernetes names beside addresses. With cluster metadata (--k8s) the Result carries Names, and
// every address the report shows (flows' ends, NAT joins, ICMP errors, pod veths, anomaly messages)
// gets its name in front: "default/pod-a (10.244.1.5):41234". Without Names every string is left as
// it is. JSON keeps addresses as they are and lists the names apart (Result.Names).

// named is Result.Named on the view's Result.
func (v *view) named(s string) string { return v.res.Named(s) }

// pod is the pod behind a pod-veth point as the report shows it: "ns/name (10.244.1.5)" when cluster
// metadata names it, its address otherwise, "" for other points.
func (v *view) pod(p *correlate.Point) string {
	if p.Pod != "" && p.PodIP != "" {
		return p.Pod + " (" + p.PodIP + ")"
	}
	if p.Pod != "" {
		return p.Pod
	}
	return v.named(p.PodIP)
}

// podShort is the pod behind a pod-veth point in few characters: its name when known, else its address.
func (v *view) podShort(p *correlate.Point) string {
	if p.Pod != "" {
		return p.Pod
	}
	if n, ok := v.res.NameOf(p.PodIP); ok {
		return n.String()
	}
	return p.PodIP
}

// pointLabel is a point's ID with the pod behind it, when cluster metadata names one:
// "node-a/cali5e1c4d6c68c (default/pod-a)". Path headers show their ends so.
func (v *view) pointLabel(id string) string {
	if p := v.points[id]; p != nil && p.Pod != "" {
		return id + " (" + p.Pod + ")"
	}
	return id
}
