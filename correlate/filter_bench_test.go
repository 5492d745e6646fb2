package correlate

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

var (
	filterManyOnce sync.Once
	filterManyRes  *Result
)

// filterManyResult correlates, once per run, a capture of the many-flow mix with CALIPATH_BENCH_FLOWS
// flows (default 30,000) over three packets a flow, and gives its endpoints cluster names (namedFlows).
func filterManyResult(tb testing.TB) *Result {
	filterManyOnce.Do(func() {
		flows := 30000
		if v, err := strconv.Atoi(os.Getenv("CALIPATH_BENCH_FLOWS")); err == nil && v > 0 {
			flows = v
		}
		cfg := testtool.Impaired(gen.DefaultConfig())
		cfg.Mix = gen.MixManyFlows
		cfg.Nodes, cfg.PodsPerNode = 2, 16
		cfg.Flows, cfg.Packets = flows, 3*flows
		files := testtool.BenchCaptures(tb, "many-flows", cfg)
		filterManyRes = namedFlows(Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{}))
	})
	return filterManyRes
}

// namedFlows gives r's endpoint addresses cluster names as metadata would: the first address a pod
// of namespace ns-N named pod-M on node-K, every fifth a service, every seventh a node; the names are
// sorted by IP, as correlate gives them.
func namedFlows(r *Result) *Result {
	seen := map[string]bool{}
	var names []Name
	add := func(ip string) {
		if seen[ip] {
			return
		}
		seen[ip] = true
		i := len(names)
		n := Name{IP: ip, Kind: "pod", Namespace: fmt.Sprintf("ns-%d", i%3), Name: fmt.Sprintf("pod-%d", i),
			Node: fmt.Sprintf("node-%d", i%2+1), Source: "bench"}
		switch {
		case i%7 == 6:
			n = Name{IP: ip, Kind: "node", Name: fmt.Sprintf("node-%d", i%2+1), Source: "bench"}
		case i%5 == 4:
			n = Name{IP: ip, Kind: "service", Namespace: n.Namespace, Name: fmt.Sprintf("svc-%d", i), Source: "bench"}
		}
		names = append(names, n)
	}
	for i := range r.Flows {
		add(r.Flows[i].Src.IP)
		add(r.Flows[i].Dst.IP)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].IP < names[j].IP })
	r.Names = names
	return r
}

// benchFilters are representative filters: names, addresses, ports, nodes, points, status and anomaly
// terms, and a combination.
var benchFilters = []string{"pod ns-1/pod-1*", "svc svc-*", "ns ns-2", "host 192.168.1.1", "net 192.168.0.0/24",
	"dst port 53", "node node-2", "node node-*", "point cali*", "status lost", "kind loss", "severity warning",
	"tcp and not status delivered and (src net 192.168.0.0/24 or dst pod=ns-0/*)"}

// BenchmarkFilterManyFlows matches each of benchFilters against every flow of a many-flow Result
// (one op: one filter over all flows).
func BenchmarkFilterManyFlows(b *testing.B) {
	r := filterManyResult(b)
	b.Logf("%d flows, %d names, %d anomalies; first flow %v → %v", len(r.Flows), len(r.Names), len(r.Anomalies), r.Flows[0].Src, r.Flows[0].Dst)
	for _, expr := range benchFilters {
		b.Run(expr, func(b *testing.B) {
			f, err := ParseFilter(expr)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				n = 0
				for i := range r.Flows {
					if f.MatchFlow(r, &r.Flows[i]) {
						n++
					}
				}
			}
			b.ReportMetric(float64(n), "matched")
		})
	}
}
