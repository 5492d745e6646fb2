package correlate

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/cluster"
	"github.com/calipath/calipath/decode"
)

// labTruth is the part of a lab scenario's truth.json (testdata/lab/truth) that correlation must
// reproduce.
type labTruth struct {
	Scenario string `json:"scenario"`
	Mode     string `json:"mode"`
	Points   []struct {
		Node, Iface, Role string
		Packets           int `json:"packets"`
		IfIndex           int `json:"ifindex"` // in an any-only scenario: the interface's index in its node's -i any file
	} `json:"points"`
	Links []struct {
		Node string `json:"node"`
		File string `json:"file"`
	} `json:"links"` // any-only scenarios: each node's `ip -o link` dump
	Flows []struct {
		Proto     string   `json:"proto"`
		Src       string   `json:"src"`
		Dst       string   `json:"dst"`
		Sport     uint16   `json:"sport"`
		Dport     uint16   `json:"dport"`
		Sent      int      `json:"sent"`
		Delivered int      `json:"delivered"`
		Path      []string `json:"path"`
		Lost      []struct {
			Segment string `json:"segment"`
			Packets int    `json:"packets"`
		} `json:"lost"`
	} `json:"flows"`
	NAT []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"nat"`
	Clock *struct {
		Node     string  `json:"node"`
		OffsetNs int64   `json:"offset_ns"`
		DriftPPM float64 `json:"drift_ppm"`
	} `json:"clock"`
	Expected []struct {
		Kind  string `json:"kind"`
		Where string `json:"where"`
	} `json:"expected_anomalies"`
}

// crossNode reports whether a pod sent packets to a pod on another node.
func (tr *labTruth) crossNode() bool {
	role := map[string]string{}
	for _, p := range tr.Points {
		role[p.Node+"/"+p.Iface] = p.Role
	}
	for _, f := range tr.Flows {
		if f.Sent == 0 || len(f.Path) < 2 {
			continue
		}
		a, z := f.Path[0], f.Path[len(f.Path)-1]
		an, _, _ := strings.Cut(a, "/")
		zn, _, _ := strings.Cut(z, "/")
		if role[a] == "workload" && role[z] == "workload" && an != zn {
			return true
		}
	}
	return false
}

// labRoles maps the truth's role names to calipath's.
var labRoles = map[string]string{"workload": "pod-veth", "tunnel": "tunnel", "underlay": "underlay", "any": "any"}

// TestLabScenarios checks every committed lab scenario against its truth file: mode, points, per-flow
// sent/delivered/lost and where, NAT, the applied clock offset, and the expected anomalies (with no
// other anomaly of warning severity or above on healthy scenarios). Every capture of the scenario is
// given, as a user would: dedicated files, -i any files and the multi-interface pcapng. An any-only
// scenario (its truth lists links files) holds one -i any file per node and nothing else; it runs
// twice, with each node's links file (--links) and without.
func TestLabScenarios(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*/truth.json")
	if len(dirs) == 0 {
		t.Skip("no lab scenarios under testdata/lab/scenarios")
	}
	for _, tf := range dirs {
		dir := filepath.Dir(tf)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var tr labTruth
			b, err := os.ReadFile(tf)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &tr); err != nil {
				t.Fatal(err)
			}
			pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
			ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
			files := append(pcaps, ngs...)
			if len(tr.Links) == 0 {
				checkLab(t, &tr, Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{}), nil)
				return
			}
			cfg := decode.PointConfig{Links: map[string]map[int32]string{}}
			for _, l := range tr.Links {
				f, err := os.Open(filepath.Join(dir, l.File))
				if err != nil {
					t.Fatal(err)
				}
				cfg.Links[l.Node], err = decode.ParseIPLink(f)
				f.Close()
				if err != nil {
					t.Fatalf("%s: %v", l.File, err)
				}
			}
			needsK8s := labNeedsK8s[filepath.Base(dir)]
			t.Run("links", func(t *testing.T) {
				r := Correlate(decode.Load(files, decode.Options{}, cfg), Options{})
				if needsK8s {
					checkUnplaced(t, &tr, r)
					return
				}
				checkLab(t, &tr, r, nil)
			})
			t.Run("no-links", func(t *testing.T) {
				r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
				if needsK8s {
					checkUnplaced(t, &tr, r)
					return
				}
				checkLab(t, &tr, r, anyNames(&tr))
			})
			// With the cluster's metadata (k8s/, as --k8s reads it) as well: the same truth.
			if _, err := os.Stat(filepath.Join(dir, "k8s")); err != nil {
				if needsK8s {
					t.Fatalf("no k8s/: %v", err)
				}
				return
			}
			t.Run("links-k8s", func(t *testing.T) {
				kcfg, m := labK8sConfig(t, dir, cfg)
				checkLab(t, &tr, Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m}), nil)
			})
			// Without --links the metadata places the loss all the same: the nodes' interfaces of
			// unknown role where their own addresses show are their underlays (before, any-bgp-underlay-drop
			// said "0 delivered, 0 lost, 17 not captured" and no ERROR here).
			t.Run("no-links-k8s", func(t *testing.T) {
				kcfg, m := labK8sConfig(t, dir, decode.PointConfig{})
				checkLab(t, &tr, Correlate(decode.Load(files, decode.Options{}, kcfg), Options{Cluster: m}), anyNames(&tr))
			})
		})
	}
}

// labK8sConfig loads a lab scenario's cluster metadata (its k8s/, as --k8s reads it) and returns cfg
// with the nodes' addresses and the pods' MACs from it, as the command gives them.
func labK8sConfig(t *testing.T, dir string, cfg decode.PointConfig) (decode.PointConfig, *cluster.Meta) {
	t.Helper()
	m, probs, err := cluster.Load([]string{filepath.Join(dir, "k8s")})
	if err != nil || len(probs) > 0 {
		t.Fatalf("k8s: %v %v", err, probs)
	}
	cfg.NodeIPs, cfg.NodeIPWhy, cfg.PodMACs = map[string][]netip.Addr{}, map[netip.Addr]string{}, m.PodMACs(nil)
	for _, n := range m.Nodes {
		for _, a := range n.HostIPs() {
			cfg.NodeIPs[n.Name] = append(cfg.NodeIPs[n.Name], a.IP)
			cfg.NodeIPWhy[a.IP] = a.Kind + " in " + a.Source
		}
	}
	return cfg, m
}

// labNeedsK8s are the any-only scenarios whose truth only the cluster's metadata lets calipath reach:
// nothing in their -i any files says which node the lost packets' destination pod lives on (nor
// infers that pod's interface, which saw no frame: checkLab does not ask for its point).
var labNeedsK8s = map[string]bool{"any-bgp-underlay-drop": true}

// checkUnplaced checks calipath's answer to such a scenario without the metadata: none of the truth's
// lost packets is called lost, no anomaly is an error, and a path-incomplete says that --k8s would
// place them (without links too, where calipath finds the nodes' underlays and addresses in the
// traffic; before, it found neither and said nothing of the packets).
func checkUnplaced(t *testing.T, tr *labTruth, r *Result) {
	t.Helper()
	checkKinds(t, r)
	for _, tf := range tr.Flows {
		f, dir := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
		if f == nil {
			t.Errorf("flow %s %s:%d → %s:%d not found", tf.Proto, tf.Src, tf.Sport, tf.Dst, tf.Dport)
			continue
		}
		for _, j := range r.FlowJourneys(f.ID) {
			if j.Dir == dir && j.Status == statusLost {
				t.Errorf("%s: journey %d lost at %s→%s without the metadata", f.ID, j.ID, j.LastSeen, j.NextExpected)
			}
		}
	}
	incomplete := false
	for _, an := range r.Anomalies {
		if an.Severity == "error" {
			t.Errorf("%s %s at %+v without the metadata: %s", an.Severity, an.Kind, an.Where, an.Message)
		}
		incomplete = incomplete || an.Kind == "path-incomplete" && strings.Contains(an.Next, "--k8s")
	}
	if !incomplete {
		t.Errorf("no path-incomplete says --k8s would place the loss: %+v", r.Anomalies)
	}
}

// labNames is how calipath names an any-only scenario's points without --links: `any#<ifindex>`.
// An interface whose index saw no frame cannot be named at all (blind): a segment that ends there
// is checked up to its start.
type labNames struct {
	rename map[string]string // node/iface → node/any#N
	blind  map[string]bool   // node/any#N of interfaces without frames
	known  map[string]bool   // node/any#N of interfaces with frames
}

func anyNames(tr *labTruth) *labNames {
	n := &labNames{rename: map[string]string{}, blind: map[string]bool{}, known: map[string]bool{}}
	for _, p := range tr.Points {
		if p.IfIndex <= 0 {
			continue
		}
		name := fmt.Sprintf("%s/any#%d", p.Node, p.IfIndex)
		n.rename[p.Node+"/"+p.Iface] = name
		if p.Packets == 0 {
			n.blind[name] = true
		} else {
			n.known[name] = true
		}
	}
	return n
}

// want renames a truth point or segment; a segment ending at a blind point ends at "?".
func (n *labNames) want(where string) string {
	if n == nil {
		return where
	}
	from, to, seg := strings.Cut(where, "→")
	if r, ok := n.rename[from]; ok {
		from = r
	}
	if !seg {
		return from
	}
	if r, ok := n.rename[to]; ok {
		to = r
	}
	if n.blind[to] {
		to = "?"
	}
	return from + "→" + to
}

// got normalises a point or segment calipath named: a segment that ends anywhere but at a point
// with frames ends at "?".
func (n *labNames) got(where string) string {
	if n == nil {
		return where
	}
	from, to, seg := strings.Cut(where, "→")
	if seg && !n.known[to] {
		return from + "→?"
	}
	return where
}

// TestLabNames checks the renaming the no-links runs rely on, on any-ipip-input-drop: node-b's eth0
// saw frames, its tunl0 none.
func TestLabNames(t *testing.T) {
	b, err := os.ReadFile("../testdata/lab/scenarios/any-ipip-input-drop/truth.json")
	if err != nil {
		t.Skip(err)
	}
	var tr labTruth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	n := anyNames(&tr)
	for _, c := range []struct {
		f        func(string) string
		in, want string
	}{
		{n.want, "node-b/eth0→node-b/tunl0", "node-b/any#2→?"},
		{n.want, "node-a/cali5e1c4d6c68c→node-a/tunl0", "node-a/any#3→node-a/any#4"},
		{n.want, "node-a/cali5e1c4d6c68c", "node-a/any#3"},
		{n.got, "node-b/any#2→node-b/tunnel", "node-b/any#2→?"},
		{n.got, "node-b/any#2→", "node-b/any#2→?"},
		{n.got, "node-a/any#3→node-a/any#4", "node-a/any#3→node-a/any#4"},
		{n.got, "node-a/any#3", "node-a/any#3"},
	} {
		if got := c.f(c.in); got != c.want {
			t.Errorf("%s: %s, want %s", c.in, got, c.want)
		}
	}
}

func checkLab(t *testing.T, tr *labTruth, r *Result, names *labNames) {
	t.Helper()
	checkKinds(t, r)
	// Where no flow crossed nodes (same-node), the pods' traffic shows no tunnel: calipath names the
	// mode of what it saw, the truth the lab's.
	if r.Mode != tr.Mode && (tr.crossNode() || r.Mode != "same-node") {
		t.Errorf("mode %q, want %q", r.Mode, tr.Mode)
	}
	// Where pods on two nodes sent each other packets, the header's mode is their node pair's
	// (issue 12 §1 met "mode ipip" over an empty Mode section).
	pairs := false
	for _, m := range r.Modes {
		pairs = pairs || m.Mode == tr.Mode
	}
	if !pairs && tr.crossNode() {
		t.Errorf("mode %q, but no node pair has it: %+v", r.Mode, r.Modes)
	}
	points := map[string]string{}
	for _, p := range r.Points {
		points[p.ID] = p.Role
	}
	for _, p := range tr.Points {
		want := labRoles[p.Role]
		if p.Role == "any" || want == "" {
			continue
		}
		id := names.want(p.Node + "/" + p.Iface)
		if names != nil && names.blind[id] {
			continue // no frame: nothing names it
		}
		if got := points[id]; got != want && !(got == "" && p.Packets == 0 && labNeedsK8s[tr.Scenario]) {
			t.Errorf("point %s (%s/%s): role %q, want %q", id, p.Node, p.Iface, got, want)
		}
	}
	// Flows: the truth lists each direction as its source sent it.
	for _, tf := range tr.Flows {
		f, dir := findFlow(r, tf.Proto, tf.Src, tf.Dst, tf.Sport, tf.Dport)
		if f == nil && tf.Delivered == 0 && neverCaptured(tf.Lost, points) {
			continue // lost before the first capture point (the pod could not even resolve its gateway)
		}
		if f == nil {
			t.Errorf("flow %s %s:%d → %s:%d not found", tf.Proto, tf.Src, tf.Sport, tf.Dst, tf.Dport)
			continue
		}
		name := fmt.Sprintf("%s %s %s:%d→%s:%d", f.ID, tf.Proto, tf.Src, tf.Sport, tf.Dst, tf.Dport)
		sent, delivered := 0, 0
		lost := map[string]int{}
		for _, j := range r.FlowJourneys(f.ID) {
			if j.Dir != dir {
				continue
			}
			if isPiece(r, &j) || isICMPError(r, &j) {
				continue
			}
			sent++
			switch j.Status {
			case statusDelivered, statusSplit, statusMerged:
				delivered++
			case statusLost:
				lost[names.got(j.LastSeen+"→"+j.NextExpected)]++
			}
		}
		if sent != tf.Sent || delivered != tf.Delivered {
			t.Errorf("%s: sent %d delivered %d, want %d and %d", name, sent, delivered, tf.Sent, tf.Delivered)
		}
		want := map[string]int{}
		for _, l := range tf.Lost {
			want[names.want(l.Segment)] += l.Packets
		}
		if fmt.Sprint(lost) != fmt.Sprint(want) {
			t.Errorf("%s: lost %v, want %v", name, lost, want)
		}
		// The points in the order the packets cross them (the truth follows the lab's topology), where
		// calipath knows every point of the truth's path by its name.
		named := len(tf.Path) > 0
		for _, p := range tf.Path {
			if _, ok := points[p]; !ok {
				named = false
			}
		}
		if got := flowPath(r, f, dir); named && strings.Join(got, " ") != strings.Join(tf.Path, " ") {
			t.Errorf("%s: path\n  %s\nwant\n  %s", name, strings.Join(got, " "), strings.Join(tf.Path, " "))
		}
	}
	// One path per pod pair and direction: every flow direction between the same two end points
	// crosses the same points.
	paths := map[string]string{}
	for i := range r.Flows {
		for _, dir := range []string{"c2s", "s2c"} {
			p := flowPath(r, &r.Flows[i], dir)
			if len(p) < 2 {
				continue
			}
			ends := p[0] + " → " + p[len(p)-1]
			if prev, ok := paths[ends]; ok && prev != strings.Join(p, " ") {
				t.Errorf("flows %s: two paths:\n  %s\n  %s", ends, prev, strings.Join(p, " "))
			}
			paths[ends] = strings.Join(p, " ")
		}
	}
	// All the lab's namespaces share one kernel clock: no packet arrives before it left, beyond the
	// uncertainty of the clock estimates (a one-sided clock has none to offer).
	bound := map[string]int64{}
	for _, c := range r.Clocks {
		bound[c.Node] = max(c.BoundNs, 0)
	}
	for _, s := range r.Segments {
		from, _, _ := strings.Cut(s.From, "/")
		to, _, _ := strings.Cut(s.To, "/")
		if s.LatencyNs.N > 0 && s.LatencyNs.Min < -(bound[from]+bound[to]) {
			t.Errorf("segment %s → %s: latency min %v, below the clocks' bounds ±%v, ±%v", s.From, s.To,
				time.Duration(s.LatencyNs.Min), time.Duration(bound[from]), time.Duration(bound[to]))
		}
	}
	for _, n := range tr.NAT {
		found := false
		for _, f := range r.Flows {
			for _, m := range f.NAT {
				if strings.Contains(m.From+" "+m.To, n.From) && strings.Contains(m.From+" "+m.To, n.To) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("NAT %s → %s not found", n.From, n.To)
		}
	}
	if tr.Clock != nil {
		for _, c := range r.Clocks {
			if c.Node != tr.Clock.Node {
				continue
			}
			bound := c.BoundNs
			if bound < 0 {
				bound = int64(time.Millisecond)
			}
			if d := c.OffsetNs - tr.Clock.OffsetNs; d > bound+int64(100*time.Microsecond) || -d > bound+int64(100*time.Microsecond) {
				t.Errorf("%s offset %v ± %v, applied %v", c.Node, time.Duration(c.OffsetNs), time.Duration(c.BoundNs),
					time.Duration(tr.Clock.OffsetNs))
			}
		}
	}
	// Anomalies: each expected one at its place; nothing else of warning or above.
	expected := map[string]bool{}
	for _, e := range tr.Expected {
		expected[e.Kind+" "+names.want(e.Where)] = true
	}
	got := map[string]string{}
	for _, a := range r.Anomalies {
		where := a.Where.Point
		switch {
		case a.Where.From != "":
			where = a.Where.From + "→" + a.Where.To
		case a.Where.Node != "":
			where = a.Where.Node
		}
		got[a.Kind+" "+names.got(where)] = a.Severity
	}
	for e := range expected {
		if _, ok := got[e]; !ok {
			t.Errorf("expected anomaly %s not found", e)
		}
	}
	var extra []string
	for g, sev := range got {
		if !expected[g] && sev != "info" {
			extra = append(extra, g+" ("+sev+")")
		}
	}
	sort.Strings(extra)
	for _, e := range extra {
		t.Errorf("unexpected anomaly %s", e)
	}
}

// flowPath returns the points of one direction of a flow's path, in order.
func flowPath(r *Result, f *Flow, dir string) []string {
	if dir == "c2s" {
		return f.Path
	}
	a := r.analysis
	for fi, id := range a.ids {
		if id != f.ID {
			continue
		}
		var out []string
		if pi := a.pathOf(a.flows[fi], s2c); pi != nil {
			for _, p := range pi.points {
				out = append(out, a.w.c.Points[p].ID)
			}
		}
		return out
	}
	return nil
}

// isPiece reports whether a journey began as a piece of a GSO split or as a GRO merge: not a packet
// its source sent.
func isPiece(r *Result, j *Journey) bool {
	return r.analysis != nil && r.analysis.offloadNew[int32(j.ID)]
}

// isICMPError reports whether a journey is an ICMP error about the flow rather than one of its packets.
func isICMPError(r *Result, j *Journey) bool {
	if r.analysis == nil || len(j.Hops) == 0 {
		return false
	}
	o, _ := r.analysis.obs(r.analysis.hops(j.ID)[0])
	return o.Flags&decode.FlagICMPError != 0
}

// findFlow finds the flow carrying a direction as its source sent it, and that direction. ICMP flows
// have no ports: when several join the same addresses, the one with the truth's echo identifier
// (its sport) is taken.
func findFlow(r *Result, proto, src, dst string, sport, dport uint16) (*Flow, string) {
	var alt *Flow
	var altDir string
	icmp := proto == "icmp" || proto == "icmpv6"
	for i := range r.Flows {
		f := &r.Flows[i]
		if f.Proto != proto {
			continue
		}
		fwd := f.Src.IP == src && f.Dst.IP == dst && (icmp || f.Src.Port == sport && f.Dst.Port == dport)
		rev := f.Src.IP == dst && f.Dst.IP == src && (icmp || f.Src.Port == dport && f.Dst.Port == sport)
		dir := "s2c"
		if fwd {
			dir = "c2s"
		}
		if (fwd || rev) && icmp && !hasEchoID(r, f, sport) {
			if alt == nil {
				alt, altDir = f, dir
			}
			continue
		}
		if fwd || rev {
			return f, dir
		}
	}
	// After NAT the flow is listed under its pre-NAT tuple: match through the NAT mappings, those that
	// hold both ends with their ports first (several connections to one Service share its addresses:
	// clusterip-two-nodes), then any that holds both addresses. A mapping ("a:p → b:q" before and
	// after) is of the client's direction when it starts at the client; the tuple has the mapping's
	// direction when its source starts one of the two sides.
	startsAt := func(side, ip string) bool {
		return side == ip || strings.HasPrefix(side, ip+":") || strings.HasPrefix(side, ip+" ")
	}
	withPorts := []bool{false}
	if !icmp {
		withPorts = []bool{true, false}
	}
	for _, ports := range withPorts {
		a, b := src, dst
		if ports {
			a, b = fmt.Sprintf("%s:%d", src, sport), fmt.Sprintf("%s:%d", dst, dport)
		}
		for i := range r.Flows {
			f := &r.Flows[i]
			if f.Proto != proto {
				continue
			}
			for _, m := range f.NAT {
				s := m.From + " " + m.To + " " // each address, or address:port, ends at a space
				if strings.Contains(s, a+" ") && strings.Contains(s, b+" ") || !ports && strings.Contains(s, a) && strings.Contains(s, b) {
					clientSide := startsAt(m.From, f.Src.IP)
					srcSide := startsAt(m.From, src) || startsAt(m.To, src)
					if srcSide == clientSide {
						return f, "c2s"
					}
					return f, "s2c"
				}
			}
		}
	}
	return alt, altDir
}

// hasEchoID reports whether one of a flow's journeys began as an ICMP echo with identifier id.
func hasEchoID(r *Result, f *Flow, id uint16) bool {
	if r.analysis == nil {
		return false
	}
	for _, j := range r.FlowJourneys(f.ID) {
		if len(j.Hops) == 0 {
			continue
		}
		o, _ := r.analysis.obs(r.analysis.hops(j.ID)[0])
		if o.Flags&(decode.FlagICMPError|decode.FlagARP) == 0 && (o.Sport == 8 || o.Sport == 0) && uint16(o.Seq>>16) == id {
			return true
		}
	}
	return false
}

// neverCaptured reports whether every loss happened before any capture point: on a segment that
// starts at a point nobody captured (the pod's own eth0).
func neverCaptured(lost []struct {
	Segment string `json:"segment"`
	Packets int    `json:"packets"`
}, points map[string]string) bool {
	for _, l := range lost {
		from, _, _ := strings.Cut(l.Segment, "→")
		if _, ok := points[from]; ok {
			return false
		}
	}
	return true
}

// The first packet of the lab's first flow (the ping) leaves right after pod-a resolves its gateway:
// the flow reports that wait, and it is shorter than a millisecond on this datapath.
func TestARPWait(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/healthy-ipip/*.pcap")
	if len(paths) == 0 {
		t.Skip("no lab scenarios")
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	waits := 0
	for _, f := range r.Flows {
		if f.ARPWaitNs > 0 {
			waits++
			if f.Proto != "icmp" || f.ARPWaitNs > int64(time.Millisecond) {
				t.Errorf("flow %s %s waited %v for ARP", f.ID, f.Proto, time.Duration(f.ARPWaitNs))
			}
		}
	}
	if waits != 1 {
		t.Errorf("%d flows report an ARP wait, want the ping's alone", waits)
	}
}
