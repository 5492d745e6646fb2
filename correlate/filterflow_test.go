package correlate

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// refMatchFlow is MatchFlow as it was before it was compiled: the flow's terms gathered into a
// subject (as journeys and anomalies still are) and the parsed expression evaluated on it.
func refMatchFlow(f *Filter, r *Result, fl *Flow) bool {
	if f == nil || f.root == nil {
		return true
	}
	f.bind(r)
	s := subject{r: r}
	f.flowSubject(fl, &s, false)
	return f.root.eval(&s)
}

// filtersFor returns filters of every term kind built from what r holds: its flows' addresses (host,
// net, src/dst and both sides), ports and ranges, protocols, IP versions, nodes and points (literal
// and globs), its names (pod, svc, ns, node, key=value, one side), its anomalies' kinds, every
// severity and status, flow IDs, and combinations with and, or, not.
func filtersFor(r *Result) []string {
	set := map[string]bool{}
	add := func(format string, args ...any) { set[fmt.Sprintf(format, args...)] = true }
	for _, w := range []string{"tcp", "udp", "icmp", "icmp6", "sctp", "ip", "ip6", "proto 6", "proto 17", "proto 1",
		"proto 58", "proto 4", "port 0", "portrange 1-1024", "portrange 1024-65535", "net 0.0.0.0/0", "net ::/0",
		"node *", "node nobody", "point *", "point nowhere", "pod *", "svc *", "ns *", "pod nobody", "flow nowhere"} {
		add("%s", w)
	}
	for _, v := range filterValues["severity"] {
		add("severity %s", v)
	}
	for _, v := range filterValues["status"] {
		add("status %s", v)
		add("not status %s", v)
	}
	for _, an := range r.Anomalies {
		add("kind %s", an.Kind)
		add("not kind %s and severity %s", an.Kind, an.Severity)
	}
	for i, fl := range r.Flows {
		if i%97 != 0 && i > 20 {
			continue
		}
		add("flow %s", fl.ID)
		for _, ep := range []Endpoint{fl.Src, fl.Dst} {
			add("host %s", ep.IP)
			add("src %s", ep.IP)
			add("dst host %s", ep.IP)
			add("src or dst %s", ep.IP)
			add("src and dst host %s", ep.IP)
			if strings.Contains(ep.IP, ".") {
				add("net %s/24", ep.IP)
				add("dst net %s/16", ep.IP)
			}
			add("port %d", ep.Port)
			add("src port %d", ep.Port)
			add("dst portrange %d-%d", ep.Port, ep.Port+10)
		}
		for _, n := range fl.NAT {
			for _, s := range []string{n.From, n.To} {
				a, b := natEnds(s)
				add("src host %s", a.Addr())
				add("dst host %s", b.Addr())
				add("dst port %d", b.Port())
				add("src port %d and %s", a.Port(), fl.Proto)
			}
		}
		for _, pc := range fl.PerPoint {
			node, iface, _ := strings.Cut(pc.Point, "/")
			add("point %s", pc.Point)
			add("point %s", iface)
			add("node %s", node)
			if len(iface) > 3 {
				add("point %s*", iface[:3])
				add("point %s/%s*", node, iface[:3])
			}
			add("node %s and not point %s", node, pc.Point) // node and point terms share the point cache
			add("point %s or node %s*", iface, node)
		}
		add("proto %s and not status delivered", fl.Proto)
	}
	for _, n := range r.Names {
		add("pod %s", n.String())
		add("pod=%s", n.Name)
		add("svc %s", n.String())
		add("src svc=%s", n.Name)
		add("node %s", n.Name)
		if n.Namespace != "" {
			add("ns %s", n.Namespace)
			add("dst ns=%s", n.Namespace)
		}
		if n.Node != "" {
			add("node %s", n.Node)
		}
		if len(n.Name) > 3 {
			add("pod %s*", n.Name[:3])
			add("node %s*", n.Name[:3])
			add("src pod %s/%s* or dst svc %s", n.Namespace, n.Name[:3], n.Name)
		}
	}
	var out []string
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// checkSameAsRef checks that MatchFlow agrees with refMatchFlow on every flow of r for every filter
// of filtersFor(r), and that the filters select some flows and leave others.
func checkSameAsRef(t *testing.T, r *Result) {
	t.Helper()
	exprs := filtersFor(r)
	some, none := 0, 0
	for _, expr := range exprs {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		ref, _ := ParseFilter(expr)
		n, bad := 0, 0
		for i := range r.Flows {
			got, want := f.MatchFlow(r, &r.Flows[i]), refMatchFlow(ref, r, &r.Flows[i])
			if got != want {
				if bad < 3 {
					t.Errorf("%q on %s (%+v): %v, before %v", expr, r.Flows[i].ID, r.Flows[i], got, want)
				}
				bad++
			}
			if got {
				n++
			}
		}
		if n > 0 {
			some++
		}
		if n < len(r.Flows) {
			none++
		}
	}
	t.Logf("%d filters on %d flows (%d names): %d select some, %d leave some", len(exprs), len(r.Flows), len(r.Names), some, none)
	if some < len(exprs)/4 || none < len(exprs)/4 {
		t.Errorf("filters too uniform: %d of %d select some flows, %d leave some", some, len(exprs), none)
	}
}

// MatchFlow, compiled, gives the verdicts it gave before on a generated many-flow Result with DNAT
// and cluster names (pods, host-network pods, services, nodes, a name not printed as its address)
// and on lab scenarios with their Kubernetes metadata.
func TestMatchFlowSameAsBefore(t *testing.T) {
	t.Run("many-flows", func(t *testing.T) {
		cfg := manyFlowsConfig()
		cfg.Flows, cfg.Packets = 1500, 6000
		cfg.DNAT, cfg.LossPerHop = 0.3, 0.01
		_, r := runGen(t, cfg)
		r = namedFlows(r)
		if len(r.Names) > 3 {
			r.Names[1].Kind = "host-network-pod"
			r.Names[2].Node = ""
		}
		for i := range r.Names { // nodes named unlike the capture points' nodes
			if r.Names[i].Kind == "node" {
				r.Names[i].Name = fmt.Sprintf("worker-%d", i)
			}
		}
		// A name whose IP is not written as calipath prints addresses: NameOf never finds it.
		r.Names = append(r.Names, Name{IP: "::ffff:" + r.Flows[0].Src.IP, Kind: "pod", Namespace: "odd", Name: "mapped"})
		sort.SliceStable(r.Names, func(i, j int) bool { return r.Names[i].IP < r.Names[j].IP })
		checkSameAsRef(t, r)
	})
	for _, sc := range []string{"clusterip-dnat", "snat-external", "mtu-blackhole", "healthy-ipip", "healthy-wireguard", "underlay-loss"} {
		t.Run(sc, func(t *testing.T) {
			if _, err := filepath.Glob("../testdata/lab/scenarios/" + sc + "/k8s"); err != nil {
				t.Skip(err)
			}
			checkSameAsRef(t, labK8s(t, sc, nil))
		})
	}
}

// One filter used on one Result, then another whose flows show other points, in another order, then
// the first again gives the verdicts it gave before on each: what it decided per point is not carried
// from one Result to the next.
func TestMatchFlowRebinds(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 300, 1200
	_, r1 := runGen(t, cfg)
	r2 := &Result{}
	for i := len(r1.Flows) - 1; i >= 0; i-- {
		fl := r1.Flows[i]
		rename := func(p string) string {
			if i%2 == 0 {
				return "other-" + p
			}
			return p
		}
		fl.PerPoint = append([]PointCount(nil), fl.PerPoint...)
		for k := range fl.PerPoint {
			fl.PerPoint[k].Point = rename(fl.PerPoint[k].Point)
		}
		fl.Path = append([]string(nil), fl.Path...)
		for k := range fl.Path {
			fl.Path[k] = rename(fl.Path[k])
		}
		r2.Flows = append(r2.Flows, fl)
	}
	exprs := filtersFor(r1)
	for _, fl := range r2.Flows[:3] {
		for _, pc := range fl.PerPoint {
			node, iface, _ := strings.Cut(pc.Point, "/")
			exprs = append(exprs, "point "+pc.Point, "node "+node, "point "+iface+" or node "+node)
		}
	}
	for _, expr := range exprs {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		for _, r := range []*Result{r1, r2, r1} {
			ref, _ := ParseFilter(expr)
			for i := range r.Flows {
				if got, want := f.MatchFlow(r, &r.Flows[i]), refMatchFlow(ref, r, &r.Flows[i]); got != want {
					t.Fatalf("%q on %s (%+v): %v, before %v", expr, r.Flows[i].ID, r.Flows[i], got, want)
				}
			}
		}
	}
}

// Matching a flow allocates nothing once the filter has met the Result.
func TestMatchFlowAllocs(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 300, 1200
	cfg.DNAT = 0.5
	_, r := runGen(t, cfg)
	r = namedFlows(r)
	for _, expr := range benchFilters {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		f.MatchFlow(r, &r.Flows[0])
		if n := testing.AllocsPerRun(5, func() {
			for i := range r.Flows {
				f.MatchFlow(r, &r.Flows[i])
			}
		}); n != 0 {
			t.Errorf("%q: %v allocations over %d flows", expr, n, len(r.Flows))
		}
	}
}
