package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// Journeys rendered on demand (the Result lists none) carry the captures' names as they were: the
// view sanitises them as it does the rest, so that a ladder's file names hold no raw control
// character or bidirectional override.
func TestOnDemandJourneysSanitised(t *testing.T) {
	root := t.TempDir()
	bad := "caps\x1b]0;x\x07\u202e"
	dir := filepath.Join(root, bad)
	c := gen.DefaultConfig()
	c.Seed, c.Packets, c.Flows, c.Dir = 1, 60, 2, dir
	c.LossPerHop = 0.05
	if _, err := gen.Generate(c); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".pcap") {
			files = append(files, filepath.Join(bad, e.Name()))
		}
	}
	sort.Strings(files)
	t.Chdir(root)
	res := correlate.Correlate(decode.Load(files, decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{}),
		correlate.Options{})
	if res.Journeys != nil || len(res.Flows) == 0 || len(res.FlowJourneys(res.Flows[0].ID)) == 0 {
		t.Fatal("the test needs a Result that renders its journeys on demand")
	}
	out := render(t, res, HTML)
	if !bytes.Contains(out, []byte("<h2>Ladder diagrams")) {
		t.Fatal("no ladder drawn")
	}
	for _, r := range []rune{0x1b, 0x07, 0x202e} {
		if bytes.ContainsRune(out, r) {
			t.Errorf("HTML report holds %U raw", r)
		}
	}
	if !bytes.Contains(out, []byte(`caps\x1b]0;x\x07\u202e/`)) {
		t.Error("the ladder does not show the directory's name escaped")
	}
}

// Every list a format cuts says how many it left out, and the limits are the format's.
func TestViewLimits(t *testing.T) {
	res := small()
	a := &res.Anomalies[1]
	for i := 0; i < 30; i++ {
		a.Flows = append(a.Flows, fmt.Sprintf("x%d", i))
		a.Evidence = append(a.Evidence, correlate.Evidence{File: "a-eth0.pcap", Frame: uint32(100 + i)})
	}
	for i := 0; i < 60; i++ {
		res.ICMP = append(res.ICMP, correlate.ICMPError{Point: "a/eth0", Type: 3, Code: 4, MTU: 1400, Src: "10.0.0.1", Dst: "10.0.0.2"})
	}
	for _, c := range []struct {
		f    Format
		want []string
	}{
		{Text, []string{"x10 +19 more", "and 24 more", "… 40 more"}},
		{Markdown, []string{"x18 and 11 more", "`a-eth0.pcap:107`, and 22 more", "| 10 more |"}},
	} {
		out := string(render(t, res, c.f))
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s report lacks %q", c.f, w)
			}
		}
	}
	// HTML, which listed everything, lists at most 100 flows and 40 frames per anomaly and 200 ICMP
	// errors, and says how many more there are.
	for i := 0; i < 100; i++ {
		a.Flows = append(a.Flows, fmt.Sprintf("y%d", i))
		a.Evidence = append(a.Evidence, correlate.Evidence{File: "b-eth0.pcap", Frame: uint32(200 + i)})
	}
	for i := 0; i < 200; i++ {
		res.ICMP = append(res.ICMP, correlate.ICMPError{Point: "a/eth0", Type: 3, Code: 4, MTU: 1400, Src: "10.0.0.1", Dst: "10.0.0.2"})
	}
	html := string(render(t, res, HTML))
	for _, w := range []string{"y68 and 31 more</div>", "; and 92 more</div>", "<td>60 more</td>"} {
		if !strings.Contains(html, w) {
			t.Errorf("HTML report lacks %q", w)
		}
	}
	v := newView(res, Options{Format: Text, MaxFlows: 1})
	if len(v.flows) != 1 || v.nFlows != 2 || len(v.anomalies[0].flows) != 12 || v.anomalies[0].moreFlows != 119 ||
		len(v.icmp) != 20 || v.moreICMP != 240 {
		t.Errorf("text view: %d of %d flows, %d+%d anomaly flows, %d+%d ICMP", len(v.flows), v.nFlows,
			len(v.anomalies[0].flows), v.anomalies[0].moreFlows, len(v.icmp), v.moreICMP)
	}
}

// A path diagram counts only its own flows: a one-packet flow whose path shares a segment with
// other flows shows what it lost there, not the segment's totals; a segment only its flows cross
// shows its packets and latency whole.
func TestPathCountsOnlyItsFlows(t *testing.T) {
	res := small()
	res.Points = append(res.Points, correlate.Point{ID: "c/eth0", Node: "c", Iface: "eth0", Role: "underlay", Frames: 1})
	res.Segments = append(res.Segments, correlate.Segment{From: "c/eth0", To: "a/eth0", Kind: "underlay", Packets: 1, Delivered: 1,
		LatencyNs: correlate.Latency{N: 1, Min: 7000, P50: 7000, P90: 7000, P99: 7000, Max: 7000}})
	res.Segments[0].Packets, res.Segments[0].Lost = 28, 8
	res.Flows[1].LostAt[0].Count = 7
	res.Flows = append(res.Flows, correlate.Flow{ID: "f3", Proto: "udp", Src: correlate.Endpoint{IP: "192.168.2.1", Port: 9},
		Dst: correlate.Endpoint{IP: "192.168.1.1", Port: 9}, Packets: 1, Lost: 1, Path: []string{"c/eth0", "a/eth0", "b/eth0"},
		LostAt:   []correlate.LostAt{{From: "a/eth0", To: "b/eth0", Count: 1}},
		PerPoint: []correlate.PointCount{{Point: "c/eth0", Packets: 1}, {Point: "a/eth0", Packets: 1}}})
	for i := range res.Flows[:2] {
		res.Flows[i].PerPoint = []correlate.PointCount{{Point: "a/eth0", Packets: res.Flows[i].Packets}}
	}
	v := newView(res, Options{Format: Text, MaxFlows: 25})
	var one *pathView
	for i := range v.paths {
		if v.paths[i].allFlows[0] == "f3" {
			one = &v.paths[i]
		}
	}
	if one == nil || len(one.steps) != 2 {
		t.Fatalf("no three-point path for f3: %+v", v.paths)
	}
	if got := one.steps[0].fwdLine(); !strings.HasPrefix(got, "1 pkts; p50 7µs") {
		t.Errorf("c→a, crossed by f3 alone: %q, want the segment whole", got)
	}
	if got := one.steps[1].fwdLine(); !strings.HasPrefix(got, "1 lost of these flows") {
		t.Errorf("a→b, shared: %q, want f3's one loss", got)
	}
	for _, f := range []Format{Text, Markdown, HTML} {
		out := string(render(t, res, f))
		path := out[strings.Index(out, "Path"):]
		path = path[:strings.Index(path, "Segment")]
		if strings.Contains(path, "28 pkts") {
			t.Errorf("%s: a path diagram shows the shared segment's total:\n%s", f, path)
		}
		if !strings.Contains(path, "1 packets as sent, 0 delivered, 1 lost") || !strings.Contains(path, "7 lost of these flows") {
			t.Errorf("%s: the diagrams do not count their own flows:\n%s", f, path)
		}
	}
}

// The HTML frame lists name each file once, by its base name linked to its row in the inputs table
// (which holds the path), and list its frames after it.
func TestHTMLFrameListNamesFilesOnce(t *testing.T) {
	res := small()
	long := "/very/long/absolute/path/to/the/captures/of/the/incident/"
	res.Inputs[0].File, res.Inputs[1].File = long+"a-eth0.pcap", long+"b-eth0.pcap"
	res.Anomalies[1].Evidence = []correlate.Evidence{{File: long + "a-eth0.pcap", Frame: 3}, {File: long + "b-eth0.pcap", Frame: 9},
		{File: long + "a-eth0.pcap", Frame: 7}, {File: long + "a-eth0.pcap", Frame: 11}}
	out := string(render(t, res, HTML))
	i := strings.Index(out, `<div class="ev">Frames: `)
	if i < 0 {
		t.Fatal("no frame list")
	}
	list := out[i : i+strings.Index(out[i:], "</div>")]
	want := `<div class="ev">Frames: <a href="#in-0" title="` + long + `a-eth0.pcap"><code>a-eth0.pcap</code></a>: 3, 7, 11; ` +
		`<a href="#in-1" title="` + long + `b-eth0.pcap"><code>b-eth0.pcap</code></a>: 9`
	if list != want {
		t.Errorf("frame list\n got %s\nwant %s", list, want)
	}
	if !strings.Contains(out, `<tr id="in-0"><td>`+long+`a-eth0.pcap</td>`) {
		t.Error("the inputs table has no row in-0 with the path")
	}
}

// The HTML header says when the capture ran (the points' first and last frames) and names the
// inputs; a ladder prints each packet's time, TCP flags and size, and each hop's latency.
func TestHTMLHeaderAndLadderText(t *testing.T) {
	res := small()
	res.Points[0].First, res.Points[0].Last = 1_764_000_000_000_000_000, 1_764_000_002_500_000_000
	res.Points[1].First, res.Points[1].Last = 1_764_000_000_000_100_000, 1_764_000_003_000_000_000
	res.Journeys = []correlate.Journey{
		{ID: 4, Flow: "f2", Dir: "c2s", Status: "delivered", Hops: []correlate.Hop{
			{Point: "a/eth0", File: "a-eth0.pcap", Frame: 1, Ts: 1_764_000_000_000_000_000, Len: 60, TCPFlags: "S"},
			{Point: "b/eth0", File: "b-eth0.pcap", Frame: 1, Ts: 1_764_000_000_000_021_000, Len: 60, TCPFlags: "S"}}},
		{ID: 5, Flow: "f2", Dir: "s2c", Status: "delivered", Hops: []correlate.Hop{
			{Point: "b/eth0", File: "b-eth0.pcap", Frame: 2, Ts: 1_764_000_000_001_500_000, Len: 1500, TCPFlags: "S."},
			{Point: "a/eth0", File: "a-eth0.pcap", Frame: 2, Ts: 1_764_000_000_001_530_000, Len: 1500, TCPFlags: "S."}}},
	}
	out := string(render(t, res, HTML))
	header := out[strings.Index(out, "<header>"):strings.Index(out, "</header>")]
	for _, want := range []string{"Captured 2025-11-24 16:00:00.000000 – 16:00:03.000000 UTC (3s)",
		`Inputs: <a href="#in-0" title="a-eth0.pcap">a-eth0.pcap</a>, <a href="#in-1" title="b-eth0.pcap">b-eth0.pcap</a>`} {
		if !strings.Contains(header, want) {
			t.Errorf("header lacks %q:\n%s", want, header)
		}
	}
	for _, want := range []string{">+0ns</text>", `>S</text>`, ">60 B</text>", ">+1.5ms</text>", ">S.</text>", ">1500 B</text>",
		">21µs</text></g>", ">30µs</text></g>", "Times from the first packet shown, 2025-11-24 16:00:00.000000 UTC"} {
		if !strings.Contains(out, want) {
			t.Errorf("ladder lacks %q", want)
		}
	}
}
