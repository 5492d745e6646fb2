package correlate

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/pcapmerge"
	"github.com/calipath/calipath/internal/testtool"
)

// labLoad loads a lab scenario's captures matching glob (relative to the scenario's directory),
// leaving out the -i any captures when perIface is set.
func labLoad(t *testing.T, scenario, glob string, perIface bool) *decode.Capture {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", scenario, glob))
	var files []string
	for _, f := range all {
		if !perIface || !strings.HasSuffix(f, "-any.pcap") {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatalf("no lab captures %s/%s", scenario, glob)
	}
	return decode.Load(files, decode.Options{}, decode.PointConfig{})
}

// kinds counts a Result's anomalies by kind.
func kinds(r *Result) map[string]int {
	m := map[string]int{}
	for _, a := range r.Anomalies {
		m[a.Kind]++
	}
	return m
}

func clockOf(r *Result, node string) Clock {
	for _, c := range r.Clocks {
		if c.Node == node {
			return c
		}
	}
	return Clock{}
}

// An --offset that the traffic contradicts (the estimate from the same captures is far outside it) is
// said loudly and not used: the report is the one without it, not every cross-node packet split in
// two and blamed on capture gaps. Offsets the traffic allows are used as given.
func TestOffsetContradicted(t *testing.T) {
	load := func() *decode.Capture { return labLoad(t, "healthy-ipip", "*.pcap", false) }
	base := Correlate(load(), Options{})
	est := clockOf(base, "node-b")
	if base.Summary.Delivered != 27 || base.Summary.NotCaptured != 0 || est.Method == "--offset" {
		t.Fatalf("baseline: %+v, node-b clock %+v", base.Summary, est)
	}
	same := func(t *testing.T, r *Result) {
		t.Helper()
		if r.Summary.Journeys != base.Summary.Journeys || r.Summary.Delivered != base.Summary.Delivered ||
			r.Summary.Lost != base.Summary.Lost || r.Summary.NotCaptured != base.Summary.NotCaptured {
			t.Errorf("summary %+v, want the one without --offset %+v", r.Summary, base.Summary)
		}
		if n := kinds(r)["capture-gap"]; n > 0 {
			t.Errorf("%d capture-gap anomalies", n)
		}
	}
	for _, given := range []time.Duration{3 * time.Second, -5 * time.Millisecond, time.Duration(est.OffsetNs) + 2*time.Millisecond,
		time.Duration(est.OffsetNs) + 300*time.Microsecond} {
		t.Run("node-b="+given.String(), func(t *testing.T) {
			r := Correlate(load(), Options{Offsets: map[string]time.Duration{"node-b": given}})
			same(t, r)
			var an *Anomaly
			for i := range r.Anomalies {
				if r.Anomalies[i].Kind == "offset-contradicted" {
					an = &r.Anomalies[i]
				}
			}
			if an == nil || an.Severity != "warning" || an.Where.Node != "node-b" ||
				!strings.Contains(an.Message, "--offset node-b="+given.String()+" contradicts the traffic") ||
				!strings.Contains(an.Message, "put its offset at "+time.Duration(est.OffsetNs).String()+" ± "+time.Duration(est.BoundNs).String()) {
				t.Fatalf("no offset-contradicted warning with the estimate: %+v", r.Anomalies)
			}
			if c := clockOf(r, "node-b"); c.OffsetNs != est.OffsetNs || !strings.Contains(c.Method, "contradicted, not used") {
				t.Errorf("node-b clock %+v, want the estimate %d", c, est.OffsetNs)
			}
		})
	}
	// (node-a, the reference without --offset, given one: TestOffsetOnReference.)
	// Within ten times the estimate's bound of it, and at least minTightTol, the given offset is used
	// (its negative latencies are clock-inconsistent's to report).
	near := time.Duration(est.OffsetNs) + 40*time.Microsecond
	r := Correlate(load(), Options{Offsets: map[string]time.Duration{"node-b": near}})
	if c := clockOf(r, "node-b"); kinds(r)["offset-contradicted"] > 0 || c.OffsetNs != int64(near) || c.Method != "--offset" {
		t.Errorf("node-b=%s: clock %+v, anomalies %v", near, c, kinds(r))
	}
}

// A --window shorter than the hops the captures show splits packets into two journeys, the first
// seemingly lost: calipath sees the same packet again just past the window further along its path,
// joins the two halves again (no false encap-drop or underlay-drop), says so, and names a window that
// fits; with it, the warning is gone.
func TestWindowTooSmall(t *testing.T) {
	load := func() *decode.Capture { return labLoad(t, "healthy-ipip", "*.pcap", true) }
	want := Correlate(load(), Options{}).Summary
	r := Correlate(load(), Options{Window: 20 * time.Microsecond})
	var an *Anomaly
	for i := range r.Anomalies {
		if r.Anomalies[i].Kind == "window-too-small" {
			an = &r.Anomalies[i]
		}
	}
	if an == nil {
		t.Fatalf("no window-too-small warning; anomalies %v", kinds(r))
	}
	if an.Severity != "warning" || an.Count == 0 || len(an.Evidence) == 0 || len(an.Flows) != 3 ||
		!strings.Contains(an.Message, "longer than --window 20µs") || !strings.Contains(an.Message, "joined again") {
		t.Errorf("window-too-small: %+v (summary %+v)", an, r.Summary)
	}
	s := r.Summary
	if s.Journeys != want.Journeys || s.Delivered != want.Delivered || s.Lost != 0 || s.NotCaptured != 0 ||
		s.Anomalies["error"] != 0 || kinds(r)["retransmission"] > 0 {
		t.Errorf("20µs window: summary %+v, anomalies %v; with the default window %+v", s, kinds(r), want)
	}
	_, rest, ok := strings.Cut(an.Next, "--window ")
	win, err := time.ParseDuration(strings.Fields(rest + " x")[0])
	if !ok || err != nil || win > 10*time.Millisecond {
		t.Fatalf("next %q names no fitting window", an.Next)
	}
	r = Correlate(load(), Options{Window: win})
	if r.Summary.Lost != 0 || r.Summary.NotCaptured != 0 || kinds(r)["window-too-small"] > 0 {
		t.Errorf("with the window named (%s): summary %+v, anomalies %v", win, r.Summary, kinds(r))
	}
}

// A window shorter than the hops changes no verdict on the lab's scenarios, healthy or not: the split
// packets are joined again, so a packet dropped in the underlay is still lost there (not "delivered"
// because its first half was joined to its second), and a healthy path shows no loss. Only the
// window-too-small warning is added.
func TestWindowTooSmallVerdicts(t *testing.T) {
	for _, sc := range []string{"healthy-ipip", "healthy-bgp", "healthy-vxlan", "two-routers", "ipip-input-drop",
		"underlay-drop-proto4", "tunl0-cali-drop", "mtu-blackhole", "underlay-loss", "any-ipip-input-drop",
		"any-underlay-drop"} {
		t.Run(sc, func(t *testing.T) {
			load := func() *decode.Capture { return labLoad(t, sc, "*.pcap", false) }
			want := Correlate(load(), Options{})
			got := Correlate(load(), Options{Window: 20 * time.Microsecond})
			w, g := want.Summary, got.Summary
			if g.Journeys != w.Journeys || g.Delivered != w.Delivered || g.Lost != w.Lost || g.NotCaptured != w.NotCaptured {
				t.Errorf("20µs window: %d sent, %d delivered, %d lost, %d not captured; default window: %d, %d, %d, %d",
					g.Journeys, g.Delivered, g.Lost, g.NotCaptured, w.Journeys, w.Delivered, w.Lost, w.NotCaptured)
			}
			errs := func(r *Result) map[string]int {
				m := map[string]int{}
				for _, a := range r.Anomalies {
					if a.Severity == "error" {
						m[a.Kind] += a.Count
					}
				}
				return m
			}
			if diff := cmp.Diff(errs(want), errs(got)); diff != "" {
				t.Errorf("errors (-default window +20µs):\n%s", diff)
			}
			if kinds(got)["window-too-small"] != 1 {
				t.Errorf("no window-too-small warning: %v", kinds(got))
			}
		})
	}
}

// One Ethernet capture of several pods' veths (merged, or of a bridge) is one pod-veth point carrying
// many pods: a warning names it and the fix, and no journey counts as delivered for having been seen
// at that one point only. A file whose name gives no interface gets a hint with a --point example.
func TestSharedPodVeth(t *testing.T) {
	dir := "../testdata/lab/scenarios/healthy-ipip"
	tmp := t.TempDir()
	merged := filepath.Join(tmp, "node-a-cali0.pcap")
	if err := pcapmerge.Merge(merged, filepath.Join(dir, "node-a-cali5e1c4d6c68c.pcap"),
		filepath.Join(dir, "node-b-cali2f5353dd8c5.pcap")); err != nil {
		t.Fatal(err)
	}
	find := func(r *Result, kind string) *Anomaly {
		for i := range r.Anomalies {
			if r.Anomalies[i].Kind == kind {
				return &r.Anomalies[i]
			}
		}
		return nil
	}
	// The merged capture alone: every flow's path is that one point.
	r := Correlate(decode.Load([]string{merged}, decode.Options{}, decode.PointConfig{}), Options{})
	an := find(r, "pod-veth-shared")
	if an == nil || an.Severity != "warning" || an.Where.Point != "node-a/cali0" ||
		!strings.Contains(an.Message, "2 pods (10.244.1.5, 10.244.2.7)") || !strings.Contains(an.Next, "--point") {
		t.Errorf("pod-veth-shared: %+v", an)
	}
	if s := r.Summary; s.Journeys == 0 || s.Delivered != 0 || s.NotCaptured != s.Journeys {
		t.Errorf("seen at one point only, yet: %+v", s)
	}
	for _, f := range r.Flows {
		if f.Delivered != 0 {
			t.Errorf("flow %s: %d delivered on path %v", f.ID, f.Delivered, f.Path)
		}
	}
	// With the other points of both nodes, the warning stays.
	others, _ := filepath.Glob(filepath.Join(dir, "*-[et][tu]*[0-9].pcap"))
	r = Correlate(decode.Load(append(others, merged), decode.Options{}, decode.PointConfig{}), Options{})
	if len(others) != 6 || find(r, "pod-veth-shared") == nil {
		t.Errorf("%d other files; anomalies %v", len(others), kinds(r))
	}
	// A single pod's veth captured into a file whose name says nothing.
	pods := filepath.Join(tmp, "pods.pcap")
	b, err := os.ReadFile(filepath.Join(dir, "node-a-cali5e1c4d6c68c.pcap"))
	if err != nil || os.WriteFile(pods, b, 0o644) != nil {
		t.Fatal(err)
	}
	r = Correlate(decode.Load([]string{pods}, decode.Options{}, decode.PointConfig{}), Options{})
	an = find(r, "point-unnamed")
	if an == nil || an.Severity != "warning" || an.Where.Point != "pods/unknown" || find(r, "pod-veth-shared") != nil ||
		!strings.Contains(an.Next, "--point NODE:IFACE="+pods) || !strings.Contains(an.Next, "calic440f455693") {
		t.Errorf("point-unnamed: %+v; anomalies %v", an, kinds(r))
	}
	if s := r.Summary; s.Journeys == 0 || s.Delivered != 0 {
		t.Errorf("one point, yet: %+v", s)
	}
}

// dropKinds are the anomaly kinds that say packets were dropped somewhere.
var dropKinds = map[string]bool{"encap-drop": true, "underlay-drop": true, "decap-drop": true, "delivery-drop": true,
	"host-drop": true, "loss": true, "pmtu-blackhole": true}

// A --window far too small never gives a confident wrong answer on any lab scenario (issue 12 §5): at
// 20µs, 5µs and 1µs either the verdicts (sent, delivered, lost, not captured, error anomalies) are the
// default window's, or window-too-small says the window is too small, no more packets are counted lost
// and no drop anomaly appears that the default window does not give. Splits on a NAT rewrite (a
// journey continued by the NAT-tolerant fingerprint on the same node) are covered too.
func TestWindowTooSmallEveryScenario(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	if len(dirs) == 0 {
		t.Fatal("no lab scenarios")
	}
	errs := func(r *Result) map[string]int {
		m := map[string]int{}
		for _, a := range r.Anomalies {
			if a.Severity == "error" {
				m[a.Kind] += a.Count
			}
		}
		return m
	}
	drops := func(r *Result) map[string]bool {
		m := map[string]bool{}
		for _, a := range r.Anomalies {
			if dropKinds[a.Kind] && a.Severity != "info" {
				m[a.Kind+" at "+a.Where.From+" → "+a.Where.To+a.Where.Point+a.Where.Node] = true
			}
		}
		return m
	}
	for _, dir := range dirs {
		sc := filepath.Base(dir)
		t.Run(sc, func(t *testing.T) {
			load := func() *decode.Capture { return labLoad(t, sc, "*.pcap", false) }
			want := Correlate(load(), Options{})
			w := want.Summary
			for _, win := range []time.Duration{20 * time.Microsecond, 5 * time.Microsecond, time.Microsecond} {
				got := Correlate(load(), Options{Window: win})
				g := got.Summary
				if g.Journeys == w.Journeys && g.Delivered == w.Delivered && g.Lost == w.Lost &&
					g.NotCaptured == w.NotCaptured && cmp.Equal(errs(want), errs(got)) {
					continue
				}
				if kinds(got)["window-too-small"] != 1 {
					t.Errorf("--window %s: %d sent, %d delivered, %d lost, %d not captured, errors %v; default window: %d, %d, %d, %d, %v; and no window-too-small warning",
						win, g.Journeys, g.Delivered, g.Lost, g.NotCaptured, errs(got), w.Journeys, w.Delivered, w.Lost, w.NotCaptured, errs(want))
				}
				if g.Lost > w.Lost {
					t.Errorf("--window %s: %d lost; default window: %d", win, g.Lost, w.Lost)
				}
				wd := drops(want)
				for d := range drops(got) {
					if !wd[d] {
						t.Errorf("--window %s: %s, not with the default window", win, d)
					}
				}
			}
		})
	}
}

// On generated captures (IP-in-IP, loss, duplicate frames, DNAT'd flows) at windows far below the hops
// (5µs and 1µs; the hops take 5µs to 500µs): every packet is counted as the truth
// has it (checkCounts: sent, delivered and lost exactly), no packet the default window sees delivered
// is counted lost, and window-too-small says the window is too small. Splits on the NAT rewrites and
// past other packets like them are joined. Before, a 4,096-slot table of closed journeys forgot a
// packet whenever another in flight fell in its slot (seeds 1, 2, 8, 12: the packet lost where its
// first half ended, and sent again), and a duplicate copy of a frame of an earlier piece of a split
// packet opened a journey of its own (seeds 1-12: up to 3 counted not captured and sent twice). Then,
// seeds 3 and 5: a copy in the same microsecond as its packet's next sighting, that sighting's file
// read first, was that journey's first hop, which then went back to where the earlier piece ended,
// and the packet counted as sent twice (2 and 1 packets; see TestWindowTooSmallLateCopy).
// Seeds 1-60 (1-12 with -short; the 60 take about 30 s on a loaded machine). Seven of them (23, 25,
// 31, 38, 41, 44, 52) have one or two packets the truth has lost where the captures cannot show it
// (edgeLosses), which calipath rightly counts not captured at every window; before, the counts
// wanted them lost. One of the first three packets, lost on the wire, last seen before the
// receiving node's first frame (25, 38, 52: 0.18, 1.05 and 0.13 ms before); or one of the last two,
// lost before a point whose node's captures end less than 5 ms after it was last seen (23, 31, 38,
// 41 twice, 44: the node's last frame 0.49 and 0.54 ms later in 23 and 44, that sighting itself or
// 21 ms earlier in the others). The counts leave them out (edgeNotCaptured), and those past the edge
// by more than the clocks' slack must be not captured, last seen where the truth last saw them.
func TestWindowTooSmallGenerated(t *testing.T) {
	seeds := uint64(60)
	if testing.Short() {
		seeds = 12
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed-", seed), func(t *testing.T) {
			g := testtool.LossySet(t, seed, 3000, 20, 0.01)
			run := func(w time.Duration) *Result {
				c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
				return Correlate(c, Options{Window: w, Journeys: true, Acks: decode.AckReader(c, decode.Options{})})
			}
			type frame struct {
				file string
				n    uint32
			}
			def := run(0)
			checkCounts(t, g.Truth, def.Summary, edgeNotCaptured(t, g, def))
			status := map[frame]string{}
			for _, j := range def.Journeys {
				for _, h := range j.Hops {
					status[frame{h.File, h.Frame}] = j.Status
				}
			}
			for _, win := range []time.Duration{5 * time.Microsecond, time.Microsecond} {
				small := run(win)
				if kinds(small)["window-too-small"] != 1 {
					t.Fatalf("--window %s: no window-too-small warning: %v", win, kinds(small))
				}
				checkCounts(t, g.Truth, small.Summary, edgeNotCaptured(t, g, small))
				bad := 0
				for _, j := range small.Journeys {
					if j.Status != "lost" {
						continue
					}
					was := "" // the default window's verdict on the packet: of the frames it counts (not copies)
					for _, h := range j.Hops {
						if st := status[frame{h.File, h.Frame}]; st != "" && was != "lost" {
							was = st
						}
					}
					if was != "lost" {
						if bad++; bad <= 5 {
							last := j.Hops[len(j.Hops)-1]
							t.Errorf("--window %s: journey %d (%s, last seen at %s) lost; %q with the default window", win,
								j.ID, j.Flow, last.Point, was)
						}
					}
				}
			}
		})
	}
}

// A duplicate copy of a frame that comes with or after its packet's next sighting, when --window is
// shorter than the hop between them, is a copy (as the default window has it), not the packet's next
// hop back where it came from. Generated captures (as TestWindowTooSmallGenerated's, more duplicates)
// have each duplicate copy whose packet's next sighting is on the same node, more than the window
// later, moved to that sighting's microsecond or the next (its file sorted again): the new journey the
// next sighting opens past the window is then open when the copy comes. At 5µs and 1µs (and the
// default window) every packet must be counted as the truth has it, and no moved copy be a journey's
// hop. Before, the new journey took the copy as its next hop: back where the older one had ended. In
// the same microsecond, with the sighting's file read first (node-1-eth0.pcap before node-1-tunl0.pcap)
// the copy was put first, the two journeys could not be joined and the packet counted as sent twice,
// its first half not captured; a microsecond later the journeys were joined, with a hop going back.
func TestWindowTooSmallLateCopy(t *testing.T) {
	const win = 5 * time.Microsecond // the larger window tried: the hops moved past are longer
	for _, by := range []time.Duration{0, time.Microsecond} {
		t.Run(fmt.Sprint("after-", by), func(t *testing.T) {
			g := testtool.LossySet(t, 3, 3000, 20, 0.05)
			tr := g.Truth
			moved := map[int]map[uint32]int64{} // file → frame → its new recorded time
			n := 0
			for _, p := range tr.Packets {
				at := map[int]gen.Capture{} // hop → the packet's capture there (not a copy)
				for _, c := range p.Captures {
					if !c.Dup {
						at[c.Hop] = c
					}
				}
				for _, c := range p.Captures {
					next, ok := at[c.Hop+1]
					after, more := at[c.Hop+2]
					if !c.Dup || !ok || tr.Files[next.File].Node != tr.Files[c.File].Node ||
						next.Recorded-at[c.Hop].Recorded <= int64(win) || more && after.Recorded <= next.Recorded+int64(2*time.Microsecond) {
						continue
					}
					if moved[c.File] == nil {
						moved[c.File] = map[uint32]int64{}
					}
					moved[c.File][c.Frame] = next.Recorded + int64(by)
					n++
				}
			}
			if n == 0 {
				t.Fatal("no duplicate copy to move")
			}
			t.Logf("%d duplicate copies moved", n)
			type frame struct {
				file  string
				frame uint32
			}
			copies := map[frame]bool{}
			for f, frames := range moved {
				name := filepath.Join(filepath.Dir(g.Files[0]), tr.Files[f].Name)
				for _, k := range retimePcap(t, name, frames) {
					copies[frame{name, k}] = true
				}
			}
			for _, w := range []time.Duration{0, win, time.Microsecond} {
				c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
				r := Correlate(c, Options{Window: w, Journeys: true, Acks: decode.AckReader(c, decode.Options{})})
				checkCounts(t, tr, r.Summary, 0)
				hops := 0
				for _, j := range r.Journeys {
					for _, h := range j.Hops {
						if copies[frame{h.File, h.Frame}] {
							if hops++; hops <= 3 {
								t.Errorf("--window %s: journey %d (%s) has the duplicate copy %s #%d as a hop", w, j.ID, j.Flow, h.Point, h.Frame)
							}
						}
					}
				}
				if hops > 3 {
					t.Errorf("--window %s: %d duplicate copies of the %d moved are journeys' hops", w, hops, n)
				}
			}
		})
	}
}

// retimePcap gives the frames of a classic pcap file (numbered from 1) the recorded times (ns since
// the Unix epoch) of at, sorts its records by time again (stable), and returns the numbers the frames
// of at then have.
func retimePcap(t *testing.T, name string, at map[uint32]int64) []uint32 {
	t.Helper()
	b, unit := readClassicPcap(t, name)
	le := binary.LittleEndian
	type rec struct {
		ts    int64
		hdr   [8]byte // captured and original lengths
		data  []byte
		moved bool
	}
	var recs []rec
	for off := 24; off < len(b); {
		r := rec{ts: int64(le.Uint32(b[off:]))*1e9 + int64(le.Uint32(b[off+4:]))*unit}
		copy(r.hdr[:], b[off+8:off+16])
		incl := int(le.Uint32(b[off+8:]))
		r.data = b[off+16 : off+16+incl]
		if ts, ok := at[uint32(len(recs)+1)]; ok {
			r.ts, r.moved = ts, true
		}
		recs = append(recs, r)
		off += 16 + incl
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].ts < recs[j].ts })
	out := append([]byte(nil), b[:24]...)
	var frames []uint32
	for i, r := range recs {
		out = le.AppendUint32(out, uint32(r.ts/1e9))
		out = le.AppendUint32(out, uint32(r.ts%1e9/unit))
		out = append(append(out, r.hdr[:]...), r.data...)
		if r.moved {
			frames = append(frames, uint32(i+1))
		}
	}
	if err := os.WriteFile(name, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return frames
}
