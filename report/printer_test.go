package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/google/go-cmp/cmp"
)

// small is a hand-built Result: two nodes, an underlay drop on one flow, a healthy second flow.
func small() *correlate.Result {
	lat := correlate.Latency{N: 4, Min: 10_000, P50: 21_000, P90: 28_000, P99: 30_000, Max: 30_000}
	return &correlate.Result{
		Schema: correlate.Schema,
		Inputs: []correlate.Input{
			{File: "a-eth0.pcap", Format: "pcap", LinkTypes: []string{"EN10MB"}, Records: 10, Errors: []string{}},
			{File: "b-eth0.pcap", Format: "pcapng", Compressed: true, LinkTypes: []string{"EN10MB"}, Records: 4, Skipped: 1,
				Errors: []string{"b-eth0.pcap: record 5: truncated"}},
		},
		Points: []correlate.Point{
			{ID: "a/eth0", Node: "a", Iface: "eth0", Role: "underlay", Reason: "file name", Frames: 10},
			{ID: "b/eth0", Node: "b", Iface: "eth0", Role: "underlay", Reason: "file name", Frames: 4},
		},
		Mode:    "ipip",
		Modes:   []correlate.PairMode{{From: "a", To: "b", Mode: "ipip"}},
		NodeIPs: []correlate.NodeIP{{Node: "a", IP: "10.0.0.1", Reason: "--node-ip"}},
		Clocks: []correlate.Clock{{Node: "a", Method: "reference"},
			{Node: "b", OffsetNs: -1_500_000, BoundNs: 40_000, Method: "two-way minimum delay", Samples: 4}},
		Segments: []correlate.Segment{
			{From: "a/eth0", To: "b/eth0", Kind: "underlay", Packets: 10, Delivered: 4, Lost: 6, LatencyNs: lat},
		},
		Flows: []correlate.Flow{
			{ID: "f1", Proto: "udp", Src: correlate.Endpoint{IP: "192.168.0.1", Port: 5000},
				Dst: correlate.Endpoint{IP: "192.168.1.1", Port: 53}, Packets: 4, Delivered: 4, LatencyNs: lat,
				Path: []string{"a/eth0", "b/eth0"}, PerPoint: []correlate.PointCount{{Point: "a/eth0", Packets: 4}, {Point: "b/eth0", Packets: 4}}},
			{ID: "f2", Proto: "tcp", Src: correlate.Endpoint{IP: "192.168.0.1", Port: 40000},
				Dst: correlate.Endpoint{IP: "192.168.1.1", Port: 443}, Packets: 6, Lost: 6, Retransmissions: 2,
				LostAt: []correlate.LostAt{{From: "a/eth0", To: "b/eth0", Count: 6}}, Path: []string{"a/eth0", "b/eth0"},
				PerPoint: []correlate.PointCount{{Point: "a/eth0", Packets: 6}}},
		},
		Anomalies: []correlate.Anomaly{
			{Kind: "clock-skew", Severity: "info", Where: correlate.Where{Node: "b"}, Flows: []string{}, Count: 1,
				Message: "b's clock differs.", Next: "Run NTP."},
			{Kind: "underlay-drop", Severity: "error", Where: correlate.Where{From: "a/eth0", To: "b/eth0"},
				Flows: []string{"f2"}, Count: 6,
				Evidence: []correlate.Evidence{{File: "a-eth0.pcap", Frame: 3}, {File: "a-eth0.pcap", Frame: 7}},
				Message:  "6 of 10 packets lost. Packets left a/eth0 and never arrived.", Next: "Check the security groups."},
		},
		Summary: correlate.Summary{Frames: 14, Skipped: 1, Journeys: 10, Delivered: 4, Lost: 6, Flows: 2,
			Anomalies: map[string]int{"error": 1, "info": 1}},
	}
}

const smallText = `calipath report  calipath/1, mode ipip
14 frames, 1 skipped; 10 packets as sent: 4 delivered, 6 lost, 0 not captured; 2 flows
anomalies: 1 errors, 0 warnings, 1 info

Inputs
  FILE         FORMAT       LINK    RECORDS  SKIPPED  DAMAGED
  a-eth0.pcap  pcap         EN10MB       10        0        0
  b-eth0.pcap  pcapng+gzip  EN10MB        4        1        0
  ! b-eth0.pcap: record 5: truncated

Capture points
  NODE  INTERFACE  ROLE      FRAMES  WHY
  a     eth0       underlay      10  file name
  b     eth0       underlay       4  file name

Mode and nodes
  a → b: ipip
  a is 10.0.0.1 (--node-ip)

Clock offsets (against the reference node)
  NODE  OFFSET         DRIFT  METHOD                 SAMPLES
  a     reference             reference                    0
  b     -1.5ms ± 40µs         two-way minimum delay        4

Path (packets as sent; latency per frame)

  a/eth0 → b/eth0   flows f2 f1: 10 packets as sent, 4 delivered, 6 lost, 0 not captured
  a  [eth0]  underlay  (10 frames)
       X  underlay
       X    → 10 pkts, 6 lost; p50 21µs, p99 30µs, max 30µs
       X    ← no packets
       v
  b  [eth0]  underlay  (4 frames)

Segment latency (all traffic, packets as sent; → is client to server)
  SEGMENT          KIND      PKTS  LOST  N/C   MIN   P50   P90   P99   MAX
  a/eth0 → b/eth0  underlay    10     6    0  10µs  21µs  28µs  30µs  30µs

Flows (worst first; packets as sent)
  ID  PROTO  CONVERSATION                         PKTS  LOST  N/C  RETX  RST   P50   P99
  f2  tcp    192.168.0.1:40000 → 192.168.1.1:443     6     6    0     2    0     -     -
  f1  udp    192.168.0.1:5000 → 192.168.1.1:53       4     0    0     0    0  21µs  30µs
  f2 lost: 6 a/eth0→b/eth0

Anomalies (most severe first)

  ERROR   underlay-drop at a/eth0 → b/eth0 (6)
    6 of 10 packets lost. Packets left a/eth0 and never arrived.
    next: Check the security groups.
    flows: f2
    frames: a-eth0.pcap: 3, 7

  INFO    clock-skew at b (1)
    b's clock differs.
    next: Run NTP.
`

const smallMarkdown = "# calipath report\n\n" +
	"- **Mode:** ipip\n" +
	"- **Packets (as sent):** 10 (14 frames, 1 skipped): 4 delivered, 6 lost, 0 not captured\n" +
	"- **Flows:** 2\n" +
	"- **Anomalies:** 1 errors, 0 warnings, 1 info\n\n" +
	"## Anomalies\n\n" +
	"### ERROR: underlay-drop at a/eth0 → b/eth0\n\n" +
	"6 of 10 packets lost. Packets left a/eth0 and never arrived.\n\n" +
	"**Next:** Check the security groups.\n\n" +
	"- Flows: f2\n" +
	"- Frames: `a-eth0.pcap:3`, `a-eth0.pcap:7`\n\n" +
	"### INFO: clock-skew at b\n\n" +
	"b's clock differs.\n\n" +
	"**Next:** Run NTP.\n\n" +
	"## Path\n\nPackets as sent, latency per frame.\n\n" +
	"```text\n" +
	"  a/eth0 → b/eth0   flows f2 f1: 10 packets as sent, 4 delivered, 6 lost, 0 not captured\n" +
	"  a  [eth0]  underlay  (10 frames)\n" +
	"       X  underlay\n" +
	"       X    → 10 pkts, 6 lost; p50 21µs, p99 30µs, max 30µs\n" +
	"       X    ← no packets\n" +
	"       v\n" +
	"  b  [eth0]  underlay  (4 frames)\n" +
	"```\n\n" +
	"## Segment latency\n\nAll traffic, per direction; packets as sent, latency per frame.\n\n" +
	"| Segment | Kind | Packets | Delivered | Lost | Not captured | Min | P50 | P90 | P99 | Max |\n" +
	"|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n" +
	"| a/eth0 → b/eth0 | underlay | 10 | 4 | 6 | 0 | 10µs | 21µs | 28µs | 30µs | 30µs |\n\n" +
	"## Flows, worst first\n\nPackets as sent.\n\n" +
	"| Flow | Proto | Client | Server | Packets | Lost | Not captured | Retrans | Resets | P50 | P99 | Lost at | NAT |\n" +
	"|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n" +
	"| f2 | tcp | 192.168.0.1:40000 | 192.168.1.1:443 | 6 | 6 | 0 | 2 | 0 | - | - | 6 a/eth0→b/eth0 |  |\n" +
	"| f1 | udp | 192.168.0.1:5000 | 192.168.1.1:53 | 4 | 0 | 0 | 0 | 0 | 21µs | 30µs |  |  |\n\n" +
	"## Inputs\n\n" +
	"| File | Format | Link types | Records | Skipped | Damaged | Errors |\n" +
	"|---|---|---|---:|---:|---:|---|\n" +
	"| a-eth0.pcap | pcap | EN10MB | 10 | 0 | 0 |  |\n" +
	"| b-eth0.pcap | pcapng+gzip | EN10MB | 4 | 1 | 0 | b-eth0.pcap: record 5: truncated |\n\n" +
	"## Capture points\n\n" +
	"| Node | Interface | Role | Pod | Frames | Why |\n" +
	"|---|---|---|---|---:|---|\n" +
	"| a | eth0 | underlay |  | 10 | file name |\n" +
	"| b | eth0 | underlay |  | 4 | file name |\n\n" +
	"## Mode and nodes\n\n" +
	"| From | To | Mode |\n|---|---|---|\n| a | b | ipip |\n\n" +
	"| Node | IP | Why |\n|---|---|---|\n| a | 10.0.0.1 | --node-ip |\n\n" +
	"## Clock offsets\n\n" +
	"| Node | Offset | Drift (ppm) | Method | Samples |\n" +
	"|---|---|---:|---|---:|\n" +
	"| a | reference | 0 | reference | 0 |\n" +
	"| b | -1.5ms ± 40µs | 0 | two-way minimum delay | 4 |\n\n"

func TestPrintText(t *testing.T) {
	got := string(render(t, small(), Text))
	if diff := cmp.Diff(smallText, got); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

func TestPrintMarkdown(t *testing.T) {
	got := string(render(t, small(), Markdown))
	if diff := cmp.Diff(smallMarkdown, got); diff != "" {
		t.Errorf("markdown (-want +got):\n%s", diff)
	}
}

func TestPrintHTML(t *testing.T) {
	got := string(render(t, small(), HTML))
	for _, want := range []string{
		"<!DOCTYPE html>",
		`<div class="an error"><div><span class="sev">error</span><b>underlay-drop</b> at <span class="mono">a/eth0 → b/eth0</span> (6)</div>`,
		`<div class="next"><b>Next:</b> Check the security groups.</div>`,
		`Frames: <a href="#in-0" title="a-eth0.pcap"><code>a-eth0.pcap</code></a>: 3, 7</div>`,
		`<td class="n" data-v="21000">21µs</td>`, // sortable by the number, shown for people
		`stroke="#c62828"`, // the segment with the error is drawn red
		`<table class="sortable">`,
		"</html>\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// The anomaly with the most severe level comes first.
	if strings.Index(got, "underlay-drop</b>") > strings.Index(got, "clock-skew</b>") {
		t.Error("anomalies are not most severe first")
	}
}

func TestPrintJSON(t *testing.T) {
	res := small()
	var got correlate.Result
	if err := json.Unmarshal(render(t, res, JSON), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*res, got, cmp.AllowUnexported(correlate.Result{})); diff != "" {
		t.Errorf("json round trip (-want +got):\n%s", diff)
	}
}

func TestFilter(t *testing.T) {
	f, err := correlate.ParseFilter("proto udp")
	if err != nil {
		t.Fatal(err)
	}
	res := small()
	var got correlate.Result
	if err := json.Unmarshal(render(t, res, JSON, WithFilter(f)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Flows) != 1 || got.Flows[0].ID != "f1" {
		t.Errorf("filtered flows %v, want f1 only", got.Flows)
	}
	if len(got.Segments) != 1 || got.Summary.Flows != 2 {
		t.Error("the filter must not change segments or the summary")
	}
	text := string(render(t, res, Text, WithFilter(f)))
	if !strings.Contains(text, "filter: proto udp (1 of 2 flows match") || strings.Contains(text, "f2  tcp") {
		t.Errorf("filtered text report:\n%s", text)
	}
	if len(res.Flows) != 2 {
		t.Error("printing changed the Result")
	}
}

func TestColor(t *testing.T) {
	plain := render(t, small(), Text)
	col := render(t, small(), Text, WithColor(true))
	if bytes.Contains(plain, []byte("\x1b[")) {
		t.Error("escape codes without WithColor")
	}
	if !bytes.Contains(col, []byte(ansiRed+"  ERROR   underlay-drop")) {
		t.Error("the error anomaly is not red with WithColor")
	}
	strip := strings.NewReplacer(ansiReset, "", ansiBold, "", ansiRed, "", ansiYellow, "", ansiCyan, "", ansiGreen, "", ansiDim, "")
	if strip.Replace(string(col)) != string(plain) {
		t.Error("colour changed the text")
	}
	t.Setenv("NO_COLOR", "") // empty: does not turn colour off, and a buffer is still no terminal
	if ColorFor(&bytes.Buffer{}) {
		t.Error("ColorFor is true for a buffer")
	}
	// NO_COLOR against a terminal: TestColorFor, with the terminal check injected.
}

// TestWidth checks that every line of a text report given a width fits it, and that a report
// given none (a file or a pipe) cuts nothing: every point's reason and node IP's reason is there
// whole, however long the line, and every clock method (said below the clock table, as prose).
func TestWidth(t *testing.T) {
	long := 0
	for _, name := range allScenarios() {
		t.Run(name, func(t *testing.T) {
			res := scenario(t, name)
			for _, w := range []int{100, 80} {
				for i, l := range strings.Split(string(render(t, res, Text, WithWidth(w))), "\n") {
					if n := len([]rune(l)); n > w {
						t.Errorf("width %d: line %d has %d columns: %q", w, i+1, n, l)
					}
				}
			}
			out := string(render(t, res, Text))
			if again := string(render(t, res, Text, WithWidth(0))); again != out {
				t.Error("WithWidth(0) is not the default (no cut)")
			}
			var whole []string
			for _, p := range res.Points {
				whole = append(whole, p.Reason)
			}
			for _, n := range res.NodeIPs {
				whole = append(whole, "("+n.Reason+")")
			}
			for _, w := range whole {
				if !strings.Contains(out, w) {
					t.Errorf("the uncut report lacks %q", w)
				}
			}
			// A clock's method is named short in the table and said whole below it, wrapped as prose.
			flat := strings.Join(strings.Fields(out), " ")
			for _, c := range res.Clocks {
				if m := strings.Join(strings.Fields(c.Method), " "); !strings.Contains(flat, m) {
					t.Errorf("the uncut report lacks the method %q", m)
				}
			}
			for _, l := range strings.Split(out, "\n") {
				if strings.HasSuffix(l, "…") {
					t.Errorf("the uncut report cuts a line: %q", l)
				}
				long = max(long, len([]rune(l)))
			}
		})
	}
	if long <= 100 {
		t.Errorf("no scenario has a line longer than 100 columns (longest %d): the test shows nothing", long)
	}
}

func TestFailOn(t *testing.T) {
	an := small().Anomalies
	for _, c := range []struct {
		kinds []string
		want  []string
	}{
		{[]string{"error"}, []string{"underlay-drop"}},
		{[]string{"warning"}, []string{"underlay-drop"}},
		{[]string{"info"}, []string{"clock-skew", "underlay-drop"}},
		{[]string{"clock-skew"}, []string{"clock-skew"}},
		{[]string{"loss", "pmtu-blackhole"}, []string{}},
		{[]string{" underlay-drop "}, []string{"underlay-drop"}},
	} {
		if diff := cmp.Diff(c.want, FailOn(an, c.kinds)); diff != "" {
			t.Errorf("FailOn(%v) (-want +got):\n%s", c.kinds, diff)
		}
	}
}

func TestDur(t *testing.T) {
	for ns, want := range map[int64]string{0: "0ns", 999: "999ns", 1000: "1µs", 1500: "1.5µs", 21_000: "21µs",
		123_456: "123µs", 1_250_000: "1.25ms", 3_000_000_000: "3s", -40_000: "-40µs", 12_340_000: "12.3ms"} {
		if got := dur(ns); got != want {
			t.Errorf("dur(%d) = %q, want %q", ns, got, want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{Text, Markdown, HTML, JSON} {
		if g, err := ParseFormat(f.String()); err != nil || g != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f, g, err)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Error("ParseFormat(pdf) succeeded")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(b []byte) (int, error) {
	if f.n -= len(b); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(b), nil
}

func TestWriteError(t *testing.T) {
	for _, f := range []Format{Text, Markdown, HTML, JSON} {
		if err := New(&failWriter{n: 100}, WithFormat(f)).Print(small()); err == nil || err.Error() != "disk full" {
			t.Errorf("%s: Print = %v, want the write error", f, err)
		}
	}
}

// TestEmpty prints a Result with nothing in it: no panics, every section says so.
func TestEmpty(t *testing.T) {
	res := &correlate.Result{Schema: correlate.Schema}
	for _, f := range []Format{Text, Markdown, HTML, JSON} {
		if len(render(t, res, f)) == 0 {
			t.Errorf("%s: empty output", f)
		}
	}
	if !strings.Contains(string(render(t, res, Text)), "no flow crossed two capture points") {
		t.Error("empty path not explained")
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	p := newProgress(&b, 2, func() time.Time { return now })
	now = now.Add(time.Second)
	p.Update(0, 50<<20, 100<<20, 500_000, 0)
	now = now.Add(50 * time.Millisecond) // too soon to redraw
	p.Update(1, 0, 100<<20, 0, 0)
	now = now.Add(time.Second)
	p.Update(1, 50<<20, 100<<20, 500_000, 0)
	p.Update(5, 1, 1, 1, 1) // out of range: ignored
	p.Done()
	// The second file's size is unknown until it reports: the first bar counts only the first.
	want := "\r[############------------]  50% 50.0MiB/100.0MiB 0/2 files  500.0k frames/s  ETA 1s" +
		"\r[############------------]  50% 100.0MiB/200.0MiB 0/2 files  487.8k frames/s  ETA 2s" +
		"\r" + strings.Repeat(" ", 84) + "\r"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

// TestHostile prints a Result whose strings come from hostile captures (file and interface names)
// and whose shapes are odd: nothing may panic, and HTML must escape everything.
func TestHostile(t *testing.T) {
	res := small()
	bad := `<script>alert(1)</script>|*_` + "`\x1b[31m"
	res.Inputs[0].File = bad
	res.Points[0].Iface = bad
	res.Points[0].ID = "a/" + bad
	res.Flows[0].Path = []string{"a/" + bad, "a/" + bad, "nowhere/x"}
	res.Flows[1].Path = []string{"only/one"}
	res.Anomalies[1].Evidence = append(res.Anomalies[1].Evidence, correlate.Evidence{File: bad, Frame: 1})
	res.Anomalies = append(res.Anomalies, correlate.Anomaly{Kind: bad, Severity: "strange", Message: bad})
	res.Journeys = []correlate.Journey{
		{ID: 1, Flow: "f1", Dir: "c2s", Status: "lost", LastSeen: "a/" + bad, NextExpected: "missing",
			Hops: []correlate.Hop{{Point: "a/" + bad, File: bad}, {Point: "elsewhere"}}},
		{ID: 2, Flow: "f1", Dir: "s2c", Status: "not-captured", LastSeen: "nowhere/x", NextExpected: "a/" + bad},
		{ID: 3, Flow: "f9", Status: "delivered"},
	}
	res.Segments = append(res.Segments, correlate.Segment{From: "a/" + bad, To: "a/" + bad, Lost: 1,
		LatencyNs: correlate.Latency{Min: -5, Max: 1 << 62}})
	for _, f := range []Format{Text, Markdown, HTML, JSON} {
		out := string(render(t, res, f, WithWidth(1), WithMaxFlows(0), WithLadders(5, 0)))
		if f == HTML && strings.Contains(out, "<script>alert") {
			t.Error("HTML report does not escape a capture's file name")
		}
		if strings.Contains(out, "\x1b") {
			t.Errorf("%s report passes a capture's escape sequence to the terminal", f)
		}
	}
}

// One rule for every format: control characters (C0, C1, DEL) and bidirectional overrides from a
// capture are visible escapes in text, Markdown and HTML, and \u escapes in JSON (which keeps the
// string); a raw ESC, BEL, C1 or U+202E in an HTML file runs on the terminal that cats it, or
// reverses the rest of its paragraph in the browser.
func TestHostileEveryFormat(t *testing.T) {
	res := small()
	bad := "eth\x1b]52;c;aGk\x07\u009b2J\u202egnp\u2066\x7f"
	res.Points[0].Iface = bad
	res.Points[0].ID = "a/" + bad
	res.Inputs[0].File = bad
	res.Anomalies[0].Where = correlate.Where{Point: "a/" + bad}
	res.Anomalies[0].Message = "see " + bad
	for _, f := range []Format{Text, Markdown, HTML, JSON} {
		out := render(t, res, f)
		for _, r := range []rune{0x1b, 0x07, 0x7f, 0x9b, 0x202e, 0x2066} {
			if bytes.ContainsRune(out, r) {
				t.Errorf("%s report holds %U raw", f, r)
			}
		}
		want := `\x1b]52;c;aGk\x07\u009b2J\u202egnp\u2066\x7f`
		switch f {
		case JSON:
			want = `\u001b]52;c;aGk\u0007\u009b2J\u202egnp\u2066\u007f`
		case Markdown: // as Markdown writes a backslash and a bracket
			want = strings.NewReplacer(`\`, `\\`, "]", `\]`).Replace(want)
		}
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("%s report does not show the name as %s", f, want)
		}
		if f == JSON {
			var back correlate.Result
			if err := json.Unmarshal(out, &back); err != nil || back.Inputs[0].File != bad {
				t.Errorf("JSON report: the file name reads back as %q (%v)", back.Inputs[0].File, err)
			}
		}
	}
}

// The HTML report carries a strict Content-Security-Policy that allows its own style sheet and script
// by hash and nothing else.
func TestHTMLContentSecurityPolicy(t *testing.T) {
	page := string(render(t, small(), HTML))
	m := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no Content-Security-Policy meta tag")
	}
	csp := m[1]
	if !strings.HasPrefix(csp, "default-src 'none';") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q is not strict", csp)
	}
	if strings.Index(page, "Content-Security-Policy") > strings.Index(page, "<style>") {
		t.Error("the CSP comes after the style it governs")
	}
	for _, el := range []string{"style", "script"} {
		inline := regexp.MustCompile(`(?s)<`+el+`>(.*?)</`+el+`>`).FindAllStringSubmatch(page, -1)
		if len(inline) != 1 {
			t.Fatalf("%d <%s> elements, want 1", len(inline), el)
		}
		sum := sha256.Sum256([]byte(inline[0][1]))
		if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, el+"-src "+h) {
			t.Errorf("the CSP does not allow the report's <%s> (%s): %s", el, h, csp)
		}
	}
}

// With colour on, capture strings still carry no escape of their own: not a colour code (which could
// conceal report text), not a raw C1 CSI byte (0x9b, not UTF-8), and no Markdown link or image.
func TestHostileColourAndBytes(t *testing.T) {
	res := small()
	bad := "eth\x1b[8mhidden\x9b2J![x](http://evil/x.png)[y](http://evil)"
	res.Points[0].Iface = bad
	res.Points[0].ID = "a/" + bad
	res.Inputs[0].File = bad
	res.Anomalies[0].Where = correlate.Where{Point: "a/" + bad}
	res.Anomalies[0].Message = bad + strings.Repeat(" long", 40)
	text := string(render(t, res, Text, WithColor(true)))
	if strings.Contains(text, "\x1b[8m") || strings.ContainsRune(text, 0x9b) || strings.Contains(text, "\x9b") {
		t.Errorf("coloured text report passes a capture's escape:\n%q", text)
	}
	if !strings.Contains(text, `\x9b`) {
		t.Error("the non-UTF-8 byte is not shown escaped")
	}
	// Every line that turns colour on turns it off again (a cut must not drop the reset).
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "\x1b[3") && !strings.HasSuffix(l, "\x1b[0m") {
			t.Errorf("colour bleeds past the line: %q", l)
		}
	}
	md := string(render(t, res, Markdown))
	if strings.Contains(md, "](http://evil") && !strings.Contains(md, `\](http://evil`) {
		t.Errorf("Markdown report lets a capture make a link or image:\n%s", md)
	}
	if strings.Contains(md, "\x9b") || strings.Contains(md, "\x1b") {
		t.Error("Markdown report passes control bytes")
	}
}

// Colour on a terminal, unless NO_COLOR is set to something; never off a terminal.
func TestColorFor(t *testing.T) {
	term := func(io.Writer) bool { return true }
	notTerm := func(io.Writer) bool { return false }
	env := func(v string) func(string) string { return func(string) string { return v } }
	for _, c := range []struct {
		noColor string
		isTerm  func(io.Writer) bool
		want    bool
	}{{"", term, true}, {"1", term, false}, {"", notTerm, false}, {"1", notTerm, false}} {
		if got := colorFor(io.Discard, env(c.noColor), c.isTerm); got != c.want {
			t.Errorf("NO_COLOR=%q terminal=%v: colour %v, want %v", c.noColor, c.isTerm(nil), got, c.want)
		}
	}
}

// A point inferred from a -i any capture (no frame of its own) is marked wherever points are shown,
// and when no node pair shows the mode, every format says where the header's mode came from.
func TestInferredPointAndModeReason(t *testing.T) {
	res := small()
	res.Points = append(res.Points, correlate.Point{ID: "b/any:tunnel", Node: "b", Iface: "any:tunnel", Role: "tunnel",
		Reason: "inferred: b-any.pcap (-i any) covers every interface of b and saw no frame on it", Inferred: true})
	for i := range res.Flows {
		res.Flows[i].Path = append(res.Flows[i].Path, "b/any:tunnel")
	}
	res.Modes = []correlate.PairMode{}
	res.ModeWhy = "from the tunnel device a/tunl0 (no pod traffic between two nodes was captured)"
	checks := map[Format][]string{
		Text: {"  b     any:tunnel  tunnel (inferred)       0", "[any:tunnel]  tunnel (inferred)",
			"mode ipip: from the tunnel device a/tunl0 (no pod traffic between two nodes was captured)"},
		Markdown: {"| b | any:tunnel | tunnel (inferred) |", "[any:tunnel]  tunnel (inferred)",
			"Mode ipip: from the tunnel device a/tunl0 (no pod traffic between two nodes was captured)."},
		HTML: {"<td>tunnel (inferred)</td>", `stroke="#455a64" stroke-dasharray="5 3"/>`,
			"<p>Mode ipip: from the tunnel device a/tunl0 (no pod traffic between two nodes was captured).</p>"},
		JSON: {`"inferred": true`, `"mode_reason": "from the tunnel device a/tunl0`},
	}
	for f, wants := range checks {
		got := string(render(t, res, f))
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%s lacks %q:\n%s", f, want, got)
			}
		}
	}
}
