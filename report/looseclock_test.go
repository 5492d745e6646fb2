package report

import (
	"encoding/json"
	"html"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// looseLab is the lab's nodeport-local per interface without node-a's eth0, correlated: node-a's clock
// is fitted through its tunnel device only, -89.6µs ± 127µs, router-1's ± 2.13µs.
func looseLab(t *testing.T) *correlate.Result {
	t.Helper()
	dir := "../testdata/lab/scenarios/nodeport-local"
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	for _, f := range all {
		if b := filepath.Base(f); b != "node-a-eth0.pcap" && !strings.HasSuffix(b, "-any.pcap") {
			files = append(files, f)
		}
	}
	if len(files) != 9 {
		t.Fatalf("%d files: %v", len(files), files)
	}
	return correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{Journeys: true})
}

// TestLooseClockMarked: in nodeport-local without node-a's eth0, the latencies across node-a's loose
// clock were printed as measurements (node-a's cali → router-1/eth0 at min -80.1µs, p50 -64.4µs,
// router-1/eth0 → the cali at 95.7µs to 220µs, f4's p50 -27.3µs). Now each is marked ~ in the segment
// and flow tables (text, Markdown, HTML), the path view says the segment's uncertainty, a note below
// each table gives it, the clocks and the fix (node-a's eth0, --offset node-a=), the HTML ladder's
// arrows give it, and JSON has clock_uncertain_ns and clock_note; tight latencies are not marked.
// f3 and f4, which end at ext-1 (its clock not estimated), are not known (?), no longer hedged.
func TestLooseClockMarked(t *testing.T) {
	r := looseLab(t)
	for _, f := range []Format{Text, Markdown, HTML} {
		got := strings.Join(strings.Fields(html.UnescapeString(string(render(t, r, f)))), " ") // the text's lines wrapped
		// f3 and f4 end at ext-1, whose clock could not be estimated: not known at all, which says more
		// than node-a's ± (shownBound; they were hedged ± node-a's bound alone before it).
		for _, want := range []string{"~-80.1µs", "~-64.4µs", "~95.7µs", "~220µs",
			"node-a/cali5e1c4d6c68c → router-1/eth0: latency uncertain by ±129µs (node-a's clock ±127µs, router-1's clock ±2.13µs",
			"f3 f4: latency not known: ext-1's clock could not be estimated", "--offset ext-1=DURATION",
			"Capture node-a's eth0", "--offset node-a=DURATION"} {
			if !strings.Contains(got, want) {
				t.Errorf("%v: no %q", f, want)
			}
		}
		for _, tight := range []string{"~2.13µs", "~493µs", "~475µs", "~54.5µs"} { // router-1 → node-b, f1, f2, node-a's own
			if strings.Contains(got, tight) {
				t.Errorf("%v: %q marked", f, tight)
			}
		}
		if f == Text && !strings.Contains(got, "p50 ~248µs, p99 ~499µs, max ~499µs (clocks ±129µs: see the segment table)") {
			t.Errorf("text: the path view does not hedge node-a/tunl0 → router-1/eth0")
		}
		if f == HTML && !strings.Contains(got, " ±129µs") {
			t.Errorf("html: no ladder arrow hedged")
		}
	}
	var doc struct {
		Segments []correlate.Segment `json:"segments"`
		Flows    []correlate.Flow    `json:"flows"`
		Journeys []correlate.Journey `json:"journeys"`
	}
	if err := json.Unmarshal(render(t, r, JSON), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range doc.Segments {
		if s.ClockUncertainNs > 0 {
			n++
			if !strings.Contains(s.ClockNote, "uncertain by ±129µs") {
				t.Errorf("JSON: segment %s → %s: note %q", s.From, s.To, s.ClockNote)
			}
		}
	}
	hops := 0
	for _, j := range doc.Journeys {
		for _, h := range j.Hops {
			if h.ClockUncertainNs > 0 {
				hops++
			}
		}
	}
	if n != 4 || hops == 0 {
		t.Errorf("JSON: %d segments hedged (want 4: node-a's cali and tunl0 to and from router-1/eth0), %d hops", n, hops)
	}
	for _, f := range doc.Flows {
		blind := f.ID == "f3" || f.ID == "f4" // ext-1's clock: not known (shownBound), not hedged
		if f.ClockUncertainNs > 0 || (f.ClockBound == correlate.BoundNone) != blind ||
			blind != strings.Contains(f.ClockNote, correlate.ClockNotEstimated) {
			t.Errorf("JSON: flow %s: bound %q, clock_uncertain_ns %d, note %q", f.ID, f.ClockBound, f.ClockUncertainNs, f.ClockNote)
		}
	}
}
