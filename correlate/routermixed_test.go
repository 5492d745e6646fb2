package correlate

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// routerDirFile returns a lab router interface's capture kept to one direction by the frames' MACs, as
// tcpdump -Q out (egress) or -Q in would have written it: a frame leaves the interface when its source
// MAC is the interface's own. The own MAC is read off the first IPv4 frame: facesA says the interface
// faces node-a's side (192.168.10.0/24, pods 10.244.1.0/24), so a frame headed there leaves from it
// (its source MAC is the interface's) and a frame headed the other way arrives at it (its destination
// MAC is). A capture with no IPv4 frame keeps nothing either way (it holds nothing: router-2/eth1 in
// two-routers-drop-r2).
func routerDirFile(t *testing.T, path string, facesA, egress bool) []byte {
	t.Helper()
	toA := func(d []byte) bool {
		return d[30] == 192 && d[31] == 168 && d[32] == 10 || d[30] == 10 && d[31] == 244 && d[32] == 1
	}
	var own []byte
	pcapFilter(t, path, func(d []byte) bool {
		if own == nil && len(d) >= 34 && d[12] == 8 && d[13] == 0 {
			if toA(d) == facesA {
				own = append([]byte(nil), d[6:12]...)
			} else {
				own = append([]byte(nil), d[0:6]...)
			}
		}
		return true
	})
	b, _ := pcapFilter(t, path, func(d []byte) bool {
		return len(d) >= 12 && own != nil && bytes.Equal(d[6:12], own) == egress
	})
	return b
}

// routerCaptured is lab scenario sc's router captures hows names (file → "in" for tcpdump -Q in, "out"
// for -Q out, "both" for the lab's file as it is) as routerDirFile makes them, in the replacements
// labSubset takes. In these scenarios every router's eth0 faces node-a's side, its eth1 node-b's.
func routerCaptured(t *testing.T, sc string, hows map[string]string) map[string][]byte {
	t.Helper()
	repl := map[string][]byte{}
	for b, how := range hows {
		if how != "both" {
			repl[b] = routerDirFile(t, filepath.Join("../testdata/lab/scenarios", sc, b), strings.HasSuffix(b, "eth0.pcap"), how == "out")
		}
	}
	return repl
}

// routerDirs is every way of capturing a scenario's router interfaces: each router-*.pcap in both
// directions (the lab's file), -Q in or -Q out, in every combination (3^files). Each is named by its
// files' directions, "1-eth0=out 1-eth1=both …".
func routerDirs(t *testing.T, sc string) (names []string, repls []map[string][]byte) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "router-*.pcap"))
	if len(files) == 0 {
		t.Fatalf("%s: no router captures", sc)
	}
	n := 1
	for range files {
		n *= 3
	}
	hows := []string{"both", "in", "out"}
	for c := 0; c < n; c++ {
		shape := map[string]string{}
		var name []string
		x := c
		for _, f := range files {
			how := hows[x%3]
			x /= 3
			b := filepath.Base(f)
			name = append(name, strings.TrimSuffix(strings.TrimPrefix(b, "router-"), ".pcap")+"="+how)
			shape[b] = how
		}
		names, repls = append(names, strings.Join(name, " ")), append(repls, routerCaptured(t, sc, shape))
	}
	return names, repls
}

// truthProblems lists what r says that tr does not support: the summary's delivered count (it must be
// the truth's, the rest lost or not captured, never more lost than the truth lost); an error anomaly
// anywhere but on a segment the truth lost packets on; a loss on a segment that is not a stretch of a
// truth path holding a segment the truth lost packets on (the loss placed between the points that
// bound it, which only a warning may do); a one-way gap that is not a stretch of a truth path over a
// point found one-way. (Unlike gapsOnTruthPaths, the stretch may hold a router interface no packet of
// the path reached and that no rule put on it: a router whose captures each hold one direction, the
// requests at one interface and the replies at the other, may have a third interface for all calipath
// can tell; that is not a verdict.)
func truthProblems(tr *labTruth, r *Result) []string {
	var probs []string
	sent, delivered := 0, 0
	lostAt := map[string]bool{}
	for _, f := range tr.Flows {
		sent, delivered = sent+f.Sent, delivered+f.Delivered
		for _, l := range f.Lost {
			lostAt[l.Segment] = true
		}
	}
	if s := r.Summary; s.Delivered != delivered || s.Lost+s.NotCaptured != sent-delivered || s.Lost > sent-delivered {
		probs = append(probs, fmt.Sprintf("summary %d delivered, %d lost, %d not captured; want %d delivered of %d",
			s.Delivered, s.Lost, s.NotCaptured, delivered, sent))
	}
	for _, a := range r.Anomalies {
		w := a.Where.Point
		if a.Where.From != "" {
			w = a.Where.From + "→" + a.Where.To
		}
		// A path-MTU black hole is one wherever it lies: on a stretch holding the truth's, it stays an
		// error that says the place within it is unknown.
		hedged := a.Kind == "pmtu-blackhole" && strings.Contains(a.Message, "where between these two points they were lost is unknown") &&
			boundsLoss(tr, a.Where.From, a.Where.To)
		if a.Severity == sevError && !lostAt[w] && !hedged {
			probs = append(probs, fmt.Sprintf("ERROR %s at %s", a.Kind, w))
		}
	}
	for _, s := range r.Segments {
		if s.Lost > 0 && !boundsLoss(tr, s.From, s.To) {
			probs = append(probs, fmt.Sprintf("%d lost at %s→%s, where no truth loss lies", s.Lost, s.From, s.To))
		}
	}
	return append(probs, gapProblems(tr, r, false)...)
}

// boundsLoss reports whether the stretch from → to of a truth path holds a segment the truth lost
// packets on.
func boundsLoss(tr *labTruth, from, to string) bool {
	for _, f := range tr.Flows {
		i, j := slices.Index(f.Path, from), slices.Index(f.Path, to)
		for _, l := range f.Lost {
			lfrom, lto, _ := strings.Cut(l.Segment, "→")
			lf, lt := slices.Index(f.Path, lfrom), slices.Index(f.Path, lto)
			if i >= 0 && j > i && lf >= i && lt >= 0 && lt <= j {
				return true
			}
		}
	}
	return false
}

// Routers captured one way, mixed: every combination of both directions, -Q in and -Q out over the
// router interfaces of the lab's router scenarios (filtered by MAC), the nodes' -i any captures left
// out. Each must give the truth's delivered count, errors only where the truth lost packets, and each
// loss on a stretch of the truth path that holds the truth's loss (a coarser place only as a warning
// that says why; a path-MTU black hole stays an error that says so). On main 51 of the 216 failed:
//   - router-1/eth0 -Q out, two-routers-drop-r2 (18): router-1/eth1 saw the requests one router from
//     node-a and nothing reached node-b, so its side was a guess (its ingress) and router-1/eth0 was put
//     after it as its way out: "ERROR underlay-drop router-1/eth1→router-1/eth0" (9 of 9; the drop is in
//     router-2). In healthy two-routers, with router-2/eth1 -Q in besides, router-1/eth0 was put after
//     router-1/eth1 likewise (t1 is known there, but router-1/eth1 and router-2/eth0 both sit at the one
//     TTL between the routers): a one-way gap router-1/eth1 → node-b/eth0 over a point not between them
//     (6); with router-1/eth0 -Q in and router-1/eth1, router-2/eth1 -Q out, a one-way gap router-2/eth0
//     → node-a/eth0 over no point found one-way (2).
//   - router-1/eth1 -Q in, router-2/eth0 -Q out, two-routers-drop-r2 (6): router-1/eth1 holds only
//     router-2's ARP reply, router-2/eth0 only its own: "ERROR underlay-drop router-1/eth0→router-1/eth1".
//   - router-2/eth0 -Q out, two-routers-drop-r2 (15 more): router-2 is on no path (its capture holds its
//     ARP reply alone): "ERROR underlay-drop router-1/eth1→node-b/eth0", or node-a/eth0→node-b/eth0 when
//     no router saw the packets, as confident as a drop placed by captures of both directions.
//   - router-1/eth0 -Q out, underlay-drop-proto4 (3): no router point saw the packets, router-1/eth0
//     holds its ARP reply to node-a alone: "ERROR underlay-drop node-a/eth0→node-b/eth0".
//   - mtu-blackhole, router-1/eth0 -Q in, router-1/eth1 -Q out (1): "ERROR pmtu-blackhole
//     node-b/eth0→node-a/eth0", a black hole still, now saying router-1/eth1 (on that link, one-way)
//     leaves the place within it unknown.
func TestRouterMixedDirections(t *testing.T) {
	for _, sc := range []string{"two-routers", "two-routers-drop-r2", "underlay-loss", "healthy-ipip", "underlay-drop-proto4",
		"mtu-blackhole", "healthy-bgp", "healthy-vxlan"} {
		names, repls := routerDirs(t, sc)
		for i, name := range names {
			t.Run(sc+"/"+name, func(t *testing.T) {
				tr, r := labSubset(t, sc, anyFiles, repls[i])
				for _, p := range truthProblems(tr, r) {
					t.Error(p)
				}
			})
		}
	}
}

// One router interface captured -Q in in two-routers, the rest in both directions: the packets that
// leave the router through it are not in its capture, and they are seen again beyond the router.
// The reverse direction crossed both of the router's captured interfaces, so the one-way one is the
// way out (crossedBack): it is on the path, found one-way, and the segment over it a one-way gap.
// Before, seen beyond the router, the packets were taken to have left by an interface no capture
// names: the point was off their path, the segment around it a plain underlay segment, and nothing
// said the capture was one-way (router-2/eth0: its ARP request for router-1, whose reply went the way
// it did not record, was "arp-unanswered" instead).
func TestRouterOneWayCrossedBack(t *testing.T) {
	for _, tc := range []struct {
		file, point, gap string
	}{
		{"router-1-eth1.pcap", "router-1/eth1", "router-1/eth0→router-2/eth0"},
		{"router-2-eth0.pcap", "router-2/eth0", "router-2/eth1→router-1/eth1"},
	} {
		t.Run(tc.point, func(t *testing.T) {
			tr, r := labSubset(t, "two-routers", anyFiles, routerCaptured(t, "two-routers", map[string]string{tc.file: "in"}))
			for _, p := range truthProblems(tr, r) {
				t.Error(p)
			}
			noErrors(t, r, "arp-unanswered")
			if !anomalyAt(r, "capture-one-way", tc.point) {
				t.Errorf("no capture-one-way at %s: %+v", tc.point, r.Anomalies)
			}
			gap := false
			for _, s := range r.Segments {
				gap = gap || s.From+"→"+s.To == tc.gap && s.Kind == "one-way gap"
			}
			if !gap {
				t.Errorf("no one-way gap %s: %+v", tc.gap, r.Segments)
			}
		})
	}
}
