package correlate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// labTruth is the part of a lab scenario's truth.json (testdata/lab/truth) that correlation must
// reproduce.
type labTruth struct {
	Scenario string `json:"scenario"`
	Mode     string `json:"mode"`
	Points   []struct {
		Node, Iface, Role string
	} `json:"points"`
	Flows []struct {
		Proto     string `json:"proto"`
		Src       string `json:"src"`
		Dst       string `json:"dst"`
		Sport     uint16 `json:"sport"`
		Dport     uint16 `json:"dport"`
		Sent      int    `json:"sent"`
		Delivered int    `json:"delivered"`
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

// labRoles maps the truth's role names to calipath's.
var labRoles = map[string]string{"workload": "pod-veth", "tunnel": "tunnel", "underlay": "underlay", "any": "any"}

// TestLabScenarios checks every committed lab scenario against its truth file: mode, points, per-flow
// sent/delivered/lost and where, NAT, the applied clock offset, and the expected anomalies (with no
// other anomaly of warning severity or above on healthy scenarios). Every capture of the scenario is
// given, as a user would: dedicated files, -i any files and the multi-interface pcapng.
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
			c := decode.Load(append(pcaps, ngs...), decode.Options{}, decode.PointConfig{})
			r := Correlate(c, Options{})
			checkLab(t, &tr, r)
		})
	}
}

func checkLab(t *testing.T, tr *labTruth, r *Result) {
	t.Helper()
	if r.Mode != tr.Mode {
		t.Errorf("mode %q, want %q", r.Mode, tr.Mode)
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
		if got := points[p.Node+"/"+p.Iface]; got != want {
			t.Errorf("point %s/%s: role %q, want %q", p.Node, p.Iface, got, want)
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
				lost[j.LastSeen+"→"+j.NextExpected]++
			}
		}
		if sent != tf.Sent || delivered != tf.Delivered {
			t.Errorf("%s: sent %d delivered %d, want %d and %d", name, sent, delivered, tf.Sent, tf.Delivered)
		}
		want := map[string]int{}
		for _, l := range tf.Lost {
			want[l.Segment] += l.Packets
		}
		if fmt.Sprint(lost) != fmt.Sprint(want) {
			t.Errorf("%s: lost %v, want %v", name, lost, want)
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
		expected[e.Kind+" "+e.Where] = true
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
		got[a.Kind+" "+where] = a.Severity
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
	for i := range r.Flows {
		f := &r.Flows[i]
		if f.Proto != proto {
			continue
		}
		icmp := proto == "icmp" || proto == "icmpv6"
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
		// After NAT the flow is listed under its pre-NAT tuple: match through the NAT mappings.
		for _, m := range f.NAT {
			s := m.From + " " + m.To
			if strings.Contains(s, src) && strings.Contains(s, dst) {
				if strings.Contains(m.From, src+":") || f.Src.IP == src {
					return f, "c2s"
				}
				return f, "s2c"
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
