// Package cluster reads cluster metadata: what kubectl and calicoctl print about pods, services,
// endpoint slices, nodes, IP pools and workload endpoints, and per-node `ip` dumps. Files are
// recognised by their content, never by their names, through a table with one row per format.
//
// It imports nothing of calipath's own: correlate and the command turn a Meta into names and
// expectations.
//
//	m, problems, err := cluster.Load([]string{"pods.json", "calico/", "node-a=node-a-routes.txt"})
//	if err != nil {
//		return err // a path that cannot be read, or a file named explicitly that is not metadata
//	}
//	for _, p := range problems {
//		fmt.Fprintln(os.Stderr, p) // "pods.json: document 2: …"
//	}
//	for _, pod := range m.Pods {
//		fmt.Println(pod.Key(), pod.IPs, pod.Node)
//	}
package cluster
