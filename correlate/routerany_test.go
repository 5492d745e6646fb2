package correlate

import (
	"bytes"
	"fmt"
	"os"
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
// With the cooked v2 file, router-1's interfaces are points of their own and the drop is inside the
// router, between them (the truth's segment). The cooked v1 file holds each packet router-1 forwarded
// twice, in and out, with no interface. It was read as one point, the loss "at router-1/any:underlay
// → node-b/eth0" said to be maybe inside router-1, with the summary unreliable. Its frames are now
// split by link address (the router's MAC on what it sent, the neighbour's on what it took in, placed
// behind its interfaces by ARP): router-1's interfaces are points again, named by their MACs, or, with
// the router's link dump (--links), by their names. The verdicts are the cooked v2 file's, the drop
// between router-1/eth0 and router-1/eth1, and nothing is unreliable. The counts stay the truth's.
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
			b, err := os.ReadFile(filepath.Join(dir, "router-1-links.txt"))
			if err != nil {
				t.Fatal(err)
			}
			links, err := decode.ParseIPLink(bytes.NewReader(b))
			rows, _, err2 := decode.ParseIPLinkRows(bytes.NewReader(b))
			if err != nil || err2 != nil {
				t.Fatal(err, err2)
			}
			cfg := decode.PointConfig{Links: map[string]map[int32]string{"router-1": links},
				LinkMACs: map[string]map[[6]byte]string{"router-1": decode.IPLinkMACs(rows)}}
			sent, delivered := 0, 0
			for _, f := range tr.Flows {
				sent += f.Sent
				delivered += f.Delivered
			}
			r2 := Correlate(decode.Load(append(slices.Clone(nodes), v2), decode.Options{}, cfg), Options{})
			r1 := Correlate(decode.Load(append(slices.Clone(nodes), v1), decode.Options{}, cfg), Options{})
			bare := Correlate(decode.Load(append(slices.Clone(nodes), v1), decode.Options{}, decode.PointConfig{}), Options{})
			for _, r := range []*Result{r1, r2, bare} {
				if s := r.Summary; s.Journeys != sent || s.Delivered != delivered || s.Lost != sent-delivered {
					t.Errorf("sent %d delivered %d lost %d, truth sent %d delivered %d", s.Journeys, s.Delivered, s.Lost, sent, delivered)
				}
				if r.Summary.Unreliable != "" {
					t.Errorf("unreliable %q", r.Summary.Unreliable)
				}
				for _, in := range r.Inputs {
					if strings.Contains(strings.Join(in.Errors, "\n"), "of a router, which records no interface") {
						t.Errorf("%s: problem %q", in.File, in.Errors)
					}
				}
			}
			if v := verdicts(r1); !slices.Equal(v, verdicts(r2)) {
				t.Errorf("cooked v1 gives %q, cooked v2 %q", v, verdicts(r2))
			}
			if v := verdicts(bare); !slices.Equal(v, verdicts(r2)) {
				t.Errorf("cooked v1 without --links gives %q, cooked v2 %q", v, verdicts(r2))
			}
			if sc != "router-any-drop" {
				return
			}
			eth0 := "router-1/any:36:fe:b4:27:d1:4d" // router-1-links.txt: eth0's link/ether
			for _, r := range []*Result{r2, r1, bare} {
				var at []string
				for _, a := range r.Anomalies {
					if a.Kind == "underlay-drop" {
						at = append(at, a.Where.From+"→"+a.Where.To)
					}
				}
				want := "router-1/eth0→router-1/eth1" // the truth's
				if r == bare {
					want = eth0 + "→router-1/any:4e:0e:93:07:4a:c5"
				}
				if len(at) != 1 || at[0] != want {
					t.Errorf("underlay-drop at %q, want %s", at, want)
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

// calipath points (ScanPoints) splits a router's cooked v1 capture as report does (it was one point,
// flagged Routed and RoutedCooked); a Calico node's
// cooked v1 capture (vlan-ipip's sll1/, which holds packets the node routed between its own
// interfaces, in through eth0 and out through tunl0) is not taken for a router's, nor is a router's
// cooked v2 capture (router-any-bgp).
func TestRouterCookedV1Scan(t *testing.T) {
	dir := "../testdata/lab/scenarios/"
	v1 := filepath.Join(dir, "router-any-drop", "sll1", "router-1-any.pcap")
	nodes, _ := filepath.Glob(filepath.Join(dir, "router-any-drop", "node-*-eth0.pcap"))
	c := decode.ScanPoints(append(nodes, v1), decode.Options{}, decode.NewTables(), decode.PointConfig{})
	for _, fi := range c.Files {
		if fi.RoutedCooked || fi.Routed || (len(fi.CookedIfaces) == 2) != (fi.Path == v1) {
			t.Errorf("points: %s: routed %v, cooked %v, split into %d", fi.Path, fi.Routed, fi.RoutedCooked, len(fi.CookedIfaces))
		}
	}
	var ids []string
	for _, p := range c.Points {
		if p.Node == "router-1" {
			ids = append(ids, p.ID)
		}
	}
	if want := []string{"router-1/any:36:fe:b4:27:d1:4d", "router-1/any:4e:0e:93:07:4a:c5"}; !slices.Equal(ids, want) {
		t.Errorf("points: router-1's %q, want %q", ids, want)
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
