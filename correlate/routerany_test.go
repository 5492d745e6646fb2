package correlate

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// The router-any-* and router-three-ifaces-any lab scenarios captured router-1 with one tcpdump -i
// any, twice at the same moments: in cooked v2 (router-1-any.pcap, which records each frame's
// interface) and in cooked v1 (sll1/, -y LINUX_SLL, which does not). router-any-drop's router-1 drops
// pod-a's UDP to pod-b in forward.
//
// With the cooked v2 file, router-1's interfaces are points of their own and the drop is inside the router,
// between them (the truth's segment). With the cooked v1 file, each packet router-1 forwarded is in
// the file twice, in and out, and read as one point: the loss after that point may be inside the
// router. Before, calipath said nothing of it: "ERROR underlay-drop at router-1/any:underlay →
// node-b/eth0 (3)", "Packets left router-1/any:underlay → node-b/eth0 and never arrived", with no
// problem and nothing unreliable. Now the file's problem, the summary's Unreliable and the loss say
// that the router's way in cannot be told from its way out, and name the fix (cooked v2, or one file
// per interface). The counts stay those of the truth.
func TestRouterCookedV1(t *testing.T) {
	for _, sc := range []string{"router-any-drop", "router-any-bgp", "router-any-ipip", "router-three-ifaces-any"} {
		t.Run(sc, func(t *testing.T) {
			dir := "../testdata/lab/scenarios/" + sc
			tr, _ := truthPods(t, sc)
			nodes, _ := filepath.Glob(filepath.Join(dir, "node-*.pcap"))
			ext, _ := filepath.Glob(filepath.Join(dir, "ext-*.pcap")) // router-three-ifaces-any's third link's far end
			nodes = append(nodes, ext...)
			v1 := filepath.Join(dir, "sll1", "router-1-any.pcap")
			v2 := filepath.Join(dir, "router-1-any.pcap")
			sent, delivered := 0, 0
			for _, f := range tr.Flows {
				sent += f.Sent
				delivered += f.Delivered
			}
			r2 := Correlate(decode.Load(append(slices.Clone(nodes), v2), decode.Options{}, decode.PointConfig{}), Options{})
			r1 := Correlate(decode.Load(append(slices.Clone(nodes), v1), decode.Options{}, decode.PointConfig{}), Options{})
			for _, r := range []*Result{r1, r2} {
				if s := r.Summary; s.Journeys != sent || s.Delivered != delivered || s.Lost != sent-delivered {
					t.Errorf("sent %d delivered %d lost %d, truth sent %d delivered %d", s.Journeys, s.Delivered, s.Lost, sent, delivered)
				}
			}
			if r2.Summary.Unreliable != "" {
				t.Errorf("cooked v2 router capture: unreliable %q", r2.Summary.Unreliable)
			}
			if u := r1.Summary.Unreliable; !strings.Contains(u, "router-1-any.pcap is a router's cooked v1 -i any capture") ||
				!strings.Contains(u, "tcpdump 4.99 or later (cooked v2)") {
				t.Errorf("cooked v1 router capture: unreliable %q, want it named with the fix", u)
			}
			said := false
			for _, in := range r1.Inputs {
				said = said || (filepath.Base(in.File) == "router-1-any.pcap" &&
					strings.Contains(strings.Join(in.Errors, "\n"), "cooked v1 capture (tcpdump -i any before 4.99, or -y LINUX_SLL) of a router"))
			}
			if !said {
				t.Errorf("cooked v1 router capture: no problem on its input: %+v", r1.Inputs)
			}
			for _, a := range r2.Anomalies {
				if strings.Contains(a.Message, "cooked v1") {
					t.Errorf("cooked v2: %s %s says %q", a.Kind, a.Where, a.Message)
				}
			}
			if sc != "router-any-drop" {
				if v := verdicts(r1); !slices.Equal(v, verdicts(r2)) {
					t.Errorf("healthy: cooked v1 gives %q, cooked v2 %q", v, verdicts(r2))
				}
				return
			}
			want := map[string]bool{"router-1/any#2→router-1/any#3": true} // truth: router-1/eth0→router-1/eth1
			for _, r := range []*Result{r2, r1} {
				n := 0
				for _, a := range r.Anomalies {
					if a.Kind != "underlay-drop" {
						continue
					}
					n++
					w := a.Where.From + "→" + a.Where.To
					switch {
					case r == r2 && !want[w]:
						t.Errorf("cooked v2: underlay-drop at %s, truth router-1/eth0→router-1/eth1", w)
					case r == r1 && (a.Where.From != "router-1/any:underlay" || a.Severity != sevError ||
						!strings.Contains(a.Message, "may have died inside router-1 rather than after it")):
						t.Errorf("cooked v1: %s underlay-drop at %s: %q; want an error from router-1/any:underlay that says it may be inside router-1", a.Severity, w, a.Message)
					}
				}
				if n != 1 {
					t.Errorf("%d underlay-drop anomalies, want 1: %q", n, verdicts(r))
				}
			}
		})
	}
}

// A router captured with one -i any in cooked v2 and no --links names its interfaces any#N, of
// unknown role. Its clock was never estimated ("no packets cross to or from this node: not
// corrected", 0 samples) though every packet between the nodes crossed it: the lab's namespaces
// share one clock, so nothing showed, but with router-1's clock 3 ms ahead every hop to and from it
// came out at ±3 ms ("node-a/eth0 → router-1/any#2 3ms", "router-1/any#2 → node-a/eth0 -3ms").
// Its any#N points are now its clock's edge: the offset is estimated and no hop is negative.
func TestRouterAnyClock(t *testing.T) {
	for _, sc := range []string{"router-any-bgp", "router-any-drop", "router-any-ipip", "router-three-ifaces-any"} {
		for _, d := range []time.Duration{0, 3 * time.Millisecond, -time.Millisecond} {
			t.Run(fmt.Sprintf("%s/%v", sc, d), func(t *testing.T) {
				r := Correlate(labShifted(t, sc, nil, "router-1", d, decode.PointConfig{}), Options{})
				ck := clockOf(r, "router-1")
				if ck.Method == methodUncrossed || ck.Samples == 0 {
					t.Errorf("router-1 clock %+v: not estimated", ck)
				}
				if off := time.Duration(ck.OffsetNs) - d; off < -50*time.Microsecond || off > 50*time.Microsecond {
					t.Errorf("router-1 clock offset %v, shifted by %v", time.Duration(ck.OffsetNs), d)
				}
				for _, s := range r.Segments {
					if s.LatencyNs.N > 0 && s.LatencyNs.Min < 0 {
						t.Errorf("segment %s → %s: latency down to %v", s.From, s.To, time.Duration(s.LatencyNs.Min))
					}
				}
				tr, _ := truthPods(t, sc)
				delivered := 0
				for _, f := range tr.Flows {
					delivered += f.Delivered
				}
				if r.Summary.Delivered != delivered {
					t.Errorf("delivered %d, truth %d", r.Summary.Delivered, delivered)
				}
			})
		}
	}
}

// calipath points (ScanPoints) says of a router's cooked v1 capture what report says; a Calico node's
// cooked v1 capture (vlan-ipip's sll1/, which holds packets the node routed between its own
// interfaces, in through eth0 and out through tunl0) is not taken for a router's, nor is a router's
// cooked v2 capture (router-any-bgp).
func TestRouterCookedV1Scan(t *testing.T) {
	dir := "../testdata/lab/scenarios/"
	v1 := filepath.Join(dir, "router-any-drop", "sll1", "router-1-any.pcap")
	nodes, _ := filepath.Glob(filepath.Join(dir, "router-any-drop", "node-*-eth0.pcap"))
	c := decode.ScanPoints(append(nodes, v1), decode.Options{}, decode.NewTables(), decode.PointConfig{})
	for _, fi := range c.Files {
		if want := fi.Path == v1; fi.RoutedCooked != want || fi.Routed != want {
			t.Errorf("points: %s: routed %v, cooked %v; want %v", fi.Path, fi.Routed, fi.RoutedCooked, want)
		}
	}
	for _, sc := range []string{"vlan-ipip", "router-any-bgp"} {
		files, _ := filepath.Glob(filepath.Join(dir, sc, "sll1", "node-*-any.pcap")) // none in router-any-bgp
		if sc == "vlan-ipip" && len(files) != 2 {
			t.Fatalf("%s: want two nodes' cooked v1 captures, found %v", sc, files)
		}
		routers, _ := filepath.Glob(filepath.Join(dir, sc, "router-*.pcap"))
		files = append(files, routers...)
		r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		if r.Summary.Unreliable != "" {
			t.Errorf("%s: unreliable %q", sc, r.Summary.Unreliable)
		}
	}
}
