package correlate

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// Two routers in series whose clocks are far off (the first 3 ms ahead of node-a, the second 2 ms
// behind), and traffic in one direction only: the second router drops everything, the first one
// drops a third flow. No packet comes back, so each router's clock is bounded on one side only. The
// routers are named so that neither their names nor their raw timestamps give their order; the TTL
// does (63 into the first, 62 into the second). Expected: the path in TTL order, one path for the
// three flows of the pod pair (also for the one that never reached the second router), the losses
// inside the router that dropped them, one-sided clocks that say so, and no negative latency.
func TestRoutersOneWay(t *testing.T) {
	dir := t.TempDir()
	cali := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	macPod := [6]byte{0x0a, 0x58, 0, 0, 0, 1}
	nicA, first0, first1, second0 := [6]byte{2, 0, 0, 0, 0, 0xa}, [6]byte{2, 0, 0, 0, 1, 0}, [6]byte{2, 0, 0, 0, 1, 1}, [6]byte{2, 0, 0, 0, 2, 0}
	podA, podB := [4]byte{10, 244, 1, 5}, [4]byte{10, 244, 2, 7}
	const t0 = int64(1_700_000_000_000_000_000)
	const firstSkew, secondSkew = int64(3 * time.Millisecond), -int64(2 * time.Millisecond)
	names := []string{"node-a-cali1111111111a.pcap", "node-a-eth0.pcap", "zeta-eth0.pcap", "zeta-eth1.pcap",
		"alpha-eth0.pcap", "alpha-eth1.pcap", "node-b-eth0.pcap"}
	ts := make([][]int64, len(names))
	fr := make([][][]byte, len(names))
	add := func(k int, at int64, f []byte) { ts[k], fr[k] = append(ts[k], at), append(fr[k], f) }
	for i := 0; i < 18; i++ {
		at := t0 + int64(i)*3_000_000
		// Per packet: pod → eth0, the link to the first router, its transit, the link to the second.
		// The two links' delays vary in opposite ways, so every packet takes as long from node-a to the
		// second router: an estimate that makes each router's fastest packet from node-a take no
		// time puts the second router at node-a's egress, before the first.
		host := int64(20_000 + i%4*5_000)
		k := int64((i * 7) % 11 * 1_000)
		link1, transit, link2 := 5_000+k, int64(4_000), 20_000-k
		payload := "request " + string(rune('a'+i))
		sport := uint16(5353 + (i+2)%3) // three flows, the last packet not the third flow's
		frame := func(dst, src [6]byte, ttl uint8) []byte {
			f := udpFrame(dst, src, podA, podB, ttl, uint16(100+i), payload)
			f[34], f[35] = byte(sport>>8), byte(sport)
			return f
		}
		add(0, at, frame(cali, macPod, 64))
		add(1, at+host, frame(first0, nicA, 63))
		add(2, at+host+link1+firstSkew, frame(first0, nicA, 63)) // zeta: first router in
		if sport == 5355 {
			continue // zeta drops the third flow
		}
		add(3, at+host+link1+transit+firstSkew, frame(second0, first1, 62))        // zeta out
		add(4, at+host+link1+transit+link2+secondSkew, frame(second0, first1, 62)) // alpha: second router in, dropped
	}
	var paths []string
	for k, n := range names {
		paths = append(paths, filepath.Join(dir, n))
		writePcap(t, paths[k], ts[k], fr[k])
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{Journeys: true})

	want := "node-a/cali1111111111a node-a/eth0 zeta/eth0 zeta/eth1 alpha/eth0 alpha/eth1"
	if len(r.Flows) != 3 {
		t.Fatalf("%d flows, want 3: %+v", len(r.Flows), r.Flows)
	}
	for _, f := range r.Flows {
		if got := strings.Join(f.Path, " "); got != want {
			t.Errorf("flow %s: path\n  %s\nwant\n  %s", f.ID, got, want)
		}
		at := "alpha/eth0 → alpha/eth1"
		if f.Src.Port == 5355 {
			at = "zeta/eth0 → zeta/eth1"
		}
		if f.Lost != 6 || len(f.LostAt) != 1 || f.LostAt[0].From+" → "+f.LostAt[0].To != at {
			t.Errorf("flow %s: lost %d at %+v, want 6 at %s", f.ID, f.Lost, f.LostAt, at)
		}
	}
	for _, c := range r.Clocks {
		if c.Node != "zeta" && c.Node != "alpha" {
			continue
		}
		if c.BoundNs != -1 || !strings.Contains(c.Method, "one-way") || !strings.Contains(c.Method, "offset ≤") {
			t.Errorf("%s's clock: %+v, want one-sided (bound -1, a one-way method)", c.Node, c)
		}
	}
	for _, s := range r.Segments {
		if s.LatencyNs.N > 0 && s.LatencyNs.Min < 0 {
			t.Errorf("segment %s → %s: min latency %v", s.From, s.To, time.Duration(s.LatencyNs.Min))
		}
	}
	for _, j := range r.Journeys {
		var pts []string
		for k, h := range j.Hops {
			pts = append(pts, h.Point)
			if k > 0 && h.DeltaNs < 0 {
				t.Errorf("journey %d: %s %v after the previous hop", j.ID, h.Point, time.Duration(h.DeltaNs))
			}
		}
		if got := strings.Join(pts, " "); !strings.HasPrefix(want, got) {
			t.Errorf("journey %d: hops %s, not in path order", j.ID, got)
		}
	}
	for _, a := range r.Anomalies {
		if a.Kind == "clock-inconsistent" {
			t.Errorf("anomaly %s at %s → %s: %s", a.Kind, a.Where.From, a.Where.To, a.Message)
		}
	}
}

// orderRouters takes the order from the TTLs, not from the hop positions (corrected time), whenever
// the TTLs tell: each case gives positions that contradict the right order.
func TestOrderRouters(t *testing.T) {
	// Points: 0, 1 on router r1 (node 0); 2, 3 on r2 (node 1); 4 on r3 (node 2), its only capture.
	w := &world{pointNode: []int{0, 0, 1, 1, 2}, underlays: [][]int{{0, 1}, {2, 3}, {4}}}
	a := &pathStage{w: w}
	seen := func(ttl int, pos int64) *routerSeen {
		return &routerSeen{pos: pos, n: 1, ttls: votes{{int32(ttl), 1}}}
	}
	cases := []struct {
		name string
		seen map[int]*routerSeen
		want []int
	}{
		{"one router, in and out by TTL", map[int]*routerSeen{0: seen(62, 5), 1: seen(63, 6)}, []int{1, 0}},
		{"two routers in series", map[int]*routerSeen{0: seen(63, 9), 1: seen(62, 8), 2: seen(62, 2), 3: seen(61, 1)}, []int{0, 1, 2, 3}},
		{"the second router drops: its other interface is its way out",
			map[int]*routerSeen{0: seen(63, 9), 1: seen(62, 8), 3: seen(62, 1)}, []int{0, 1, 3, 2}},
		{"a router with one capture after an egress at its TTL", map[int]*routerSeen{4: seen(62, 1), 0: seen(63, 7), 1: seen(62, 8)}, []int{0, 1, 4}},
		{"a router with one capture before an ingress at its TTL", map[int]*routerSeen{4: seen(63, 9), 2: seen(63, 1), 3: seen(62, 2)}, []int{4, 2, 3}},
		{"seen beyond a router's captured interface: its other captured one is not its way out (it has more)",
			map[int]*routerSeen{0: seen(63, 9), 3: seen(62, 1), 4: seen(61, 2)}, []int{0, 3, 4}},
		{"at its TTL on another node, of unknown role: the link into the router", map[int]*routerSeen{3: seen(62, 2), 4: seen(62, 1)}, []int{4, 3, 2}},
		{"without TTLs, seen later elsewhere: no way out added", map[int]*routerSeen{2: seen(-1, 1), 4: seen(-1, 2)}, []int{2, 4}},
		{"without TTLs, seen nowhere later: the other interface is the way out", map[int]*routerSeen{2: seen(-1, 2), 4: seen(-1, 1)}, []int{4, 2, 3}},
		{"an L2 box keeps the TTL: corrected time decides", map[int]*routerSeen{0: seen(63, 2), 1: seen(63, 1)}, []int{1, 0}},
	}
	for _, c := range cases {
		if got, _ := a.orderRouters(c.seen, nil, -1, -1); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// With the TTLs at the end nodes' underlays (t0 leaving the source, t1 reaching the destination;
	// positions that contradict the right order): a router point at t1 is the router's egress, its
	// other captured interface the way in; one at t0 its ingress; one between them is settled by the
	// place another router holds, and stays open when none does: its other interface is then on
	// neither side (unknown), not put after it as its way out (which made a drop beyond the router a
	// confident drop inside it: two-routers-drop-r2 with egress-only routers).
	sides := []struct {
		name    string
		seen    map[int]*routerSeen
		t0, t1  int
		want    []int
		unknown map[int]int
	}{
		{"egress only, one router: at t1, its other interface before it", map[int]*routerSeen{1: seen(63, 1)}, 64, 63, []int{0, 1}, nil},
		{"ingress only, one router: at t0, its other interface after it", map[int]*routerSeen{0: seen(64, 9)}, 64, 63, []int{0, 1}, nil},
		{"egress only, two routers: r2 at t1, r1 at 63 is the first router's egress", map[int]*routerSeen{1: seen(63, 9), 3: seen(62, 1)}, 64, 62,
			[]int{0, 1, 2, 3}, nil},
		{"egress only, t1 unknown: r1's place 1 settled by r2's ingress at 63 being place 2", map[int]*routerSeen{1: seen(63, 9), 2: seen(63, 1), 3: seen(62, 2)}, 64, -1,
			[]int{0, 1, 2, 3}, nil},
		{"open: 63 between t0 and no t1, nothing else: its other interface on neither side", map[int]*routerSeen{1: seen(63, 1)}, 64, -1,
			[]int{1}, map[int]int{1: 0}},
	}
	for _, c := range sides {
		if got, unknown := a.orderRouters(c.seen, nil, c.t0, c.t1); fmt.Sprint(got, unknown) != fmt.Sprint(c.want, c.unknown) {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, unknown, c.want, c.unknown)
		}
	}
	// The replies crossed r2 at 3 but not at 2: r2 has another interface, and 2 is not the way out.
	back := map[int]*routerSeen{4: seen(64, 1), 3: seen(64, 2)}
	if got, _ := a.orderRouters(map[int]*routerSeen{3: seen(62, 1), 4: seen(62, 2)}, back, -1, -1); fmt.Sprint(got) != "[3 4]" {
		t.Errorf("the replies crossed the router elsewhere: %v, want [3 4]", got)
	}
	// They crossed it at 2 as well: it is the way out.
	back[2] = seen(63, 3)
	if got, _ := a.orderRouters(map[int]*routerSeen{3: seen(62, 1), 4: seen(62, 2)}, back, -1, -1); fmt.Sprint(got) != "[4 3 2]" {
		t.Errorf("the replies crossed both captured interfaces: %v, want [4 3 2]", got)
	}
}

// A clock bounded on one side is set at its limit from the clocks around it: c hears a and b (upper
// limits θa + 40 µs and θb + 25 µs), d only talks to a (lower limit θa − 30 µs). b is bounded both
// ways and keeps its estimate.
func TestOneSidedClocks(t *testing.T) {
	const a, b, c, d = 0, 1, 2, 3
	w := &world{nodes: []string{"a", "b", "c", "d"}}
	us := int64(time.Microsecond)
	pairs := map[[2]int][]delaySample{
		{a, b}: {{0, 10 * us, 0}}, {b, a}: {{0, 14 * us, 0}},
		{a, c}: {{0, 50 * us, 0}, {1000, 40 * us, 0}},
		{b, c}: {{0, 25 * us, 0}},
		{d, a}: {{0, 30 * us, 0}, {500, 35 * us, 0}},
	}
	side := clockSides(4, pairs, []int{a})
	if want := []clockSide{sideTwo, sideTwo, sideUpper, sideLower}; fmt.Sprint(side) != fmt.Sprint(want) {
		t.Fatalf("sides %v, want %v", side, want)
	}
	models := []clockModel{{method: "reference"}, {offset: -2 * us, bound: 12 * us}, {}, {}}
	w.oneSided(models, pairs, side, 0)
	if models[b].offset != -2*us {
		t.Errorf("b moved: %+v", models[b])
	}
	if m := models[c]; m.offset != 23*us || m.bound != -1 || m.samples != 3 || !strings.Contains(m.method, "a, b→c only): offset ≤ 23µs") {
		t.Errorf("c: %+v, want offset 23µs (b's limit), one-sided", m)
	}
	if m := models[d]; m.offset != -30*us || m.bound != -1 || !strings.Contains(m.method, "d→a only): offset ≥ -30µs") {
		t.Errorf("d: %+v, want offset -30µs, one-sided", m)
	}
}

// On the lab's one-way scenarios every router's clock is bounded on one side (only packets toward it)
// and says so; none claims samples both ways. ipip-input-drop's router-1 used to be "fitted" both ways
// from one-way traffic.
func TestLabOneWayClocks(t *testing.T) {
	for sc, routers := range map[string][]string{
		"two-routers-drop-r2": {"router-1", "router-2"},
		"ipip-input-drop":     {"router-1", "node-b"},
		"tunl0-cali-drop":     {"router-1", "node-b"},
	} {
		pcaps, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "*.pcap"))
		if len(pcaps) == 0 {
			t.Fatalf("no %s lab captures", sc)
		}
		r := Correlate(decode.Load(pcaps, decode.Options{}, decode.PointConfig{}), Options{})
		clocks := map[string]Clock{}
		for _, c := range r.Clocks {
			clocks[c.Node] = c
		}
		for _, n := range routers {
			c := clocks[n]
			if c.BoundNs != -1 || !strings.HasPrefix(c.Method, "one-way (") || !strings.Contains(c.Method, "offset ≤") || c.Samples == 0 {
				t.Errorf("%s: %s's clock %+v, want bounded above only", sc, n, c)
			}
		}
	}
}
