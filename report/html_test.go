package report

import (
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

var keepPNG = flag.String("screenshots", "", "keep the HTML screenshot PNGs in this directory")

// TestHTMLScreenshot renders each sample report in headless Chromium (one browser for all, see
// chromium_test.go), fails on anything a page logs, and checks that a screenshot was drawn. It is
// skipped without Chromium and with -short.
func TestHTMLScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("renders in Chromium")
	}
	b := chromium(t)
	// A page that calls console.error proves that the log check sees a page's errors.
	t.Run("probe", func(t *testing.T) {
		res := loadPage(t, b, `<!doctype html><script>console.error("calipath probe")</script>`, false)
		if !strings.Contains(strings.Join(res.Problems, "\n"), "calipath probe") {
			t.Fatalf("a console.error call is not seen, so the check below could not fail: %q", res.Problems)
		}
	})
	for _, name := range allScenarios() {
		t.Run(name, func(t *testing.T) {
			res := loadPage(t, b, string(render(t, scenario(t, name), HTML)), true)
			for _, p := range res.Problems {
				t.Errorf("console error: %s", p)
			}
			if len(res.PNG) < 10_000 {
				t.Fatalf("no screenshot (%d bytes)", len(res.PNG))
			}
			if *keepPNG != "" {
				os.MkdirAll(*keepPNG, 0o755)
				os.WriteFile(filepath.Join(*keepPNG, name+".png"), res.PNG, 0o644)
			}
		})
	}
}

// loadPage writes html to a file and loads it in Chromium at 1400×1000.
func loadPage(t *testing.T, b *browser, html string, screenshot bool) pageResult {
	t.Helper()
	page := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := b.load("file://"+page, 1400, 1000, screenshot)
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, b.logTail())
	}
	return res
}

// TestHTMLConsoleCheck shows that the console check catches a broken page: an uncaught exception and
// a script that does not parse.
func TestHTMLConsoleCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("renders in Chromium")
	}
	b := chromium(t)
	for name, script := range map[string]string{"ReferenceError": "undefinedFunction();", "SyntaxError": "let x = ;"} {
		res := loadPage(t, b, "<!DOCTYPE html><html><body><script>"+script+"</script></body></html>", false)
		if !strings.Contains(strings.Join(res.Problems, "\n"), name) {
			t.Errorf("%s: a broken page went unnoticed: %q", name, res.Problems)
		}
	}
}

// TestHTMLPolicyBlocksInjection shows the Content-Security-Policy at work: markup that got into the
// report (were escaping ever to fail) runs no script and loads nothing, while the report's own style
// and script apply (TestHTMLScreenshot fails on the console message a blocked one leaves).
func TestHTMLPolicyBlocksInjection(t *testing.T) {
	if testing.Short() {
		t.Skip("renders in Chromium")
	}
	b := chromium(t)
	html := strings.Replace(string(render(t, small(), HTML)), "<main>",
		`<main><script>document.title="pwned"</script><img src="http://127.0.0.1:9/x.png">`, 1)
	res := loadPage(t, b, html, false)
	title, err := b.evaluate("document.title")
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, b.logTail())
	}
	if title != "calipath report" {
		t.Errorf("document.title is %q: an injected script ran", title)
	}
	if !strings.Contains(strings.Join(res.Problems, "\n"), "Content Security Policy") {
		t.Errorf("Chromium did not report the blocked script: %q", res.Problems)
	}
}

// TestHTMLWellFormed checks that the HTML report is well-formed XML where it matters: every SVG
// parses, and no script or style references the network.
func TestHTMLWellFormed(t *testing.T) {
	res := scenario(t, "gen-lossy-ipip-skew")
	page := string(render(t, res, HTML))
	for _, bad := range []string{"http://", "https://", "<link", "src=\"http", "@import"} {
		s := strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
		if strings.Contains(s, bad) {
			t.Errorf("report references %q: it must be self-contained", bad)
		}
	}
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1)
	if len(svgs) < 2 {
		t.Fatalf("%d SVGs, want a path diagram and ladders", len(svgs))
	}
	ladder := false
	for i, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("svg %d: %v", i, err)
			}
		}
		if strings.Contains(s, "lost after") {
			ladder = true
		}
	}
	if !ladder {
		t.Error("no ladder shows a lost packet, though the scenario loses packets")
	}
}

// TestHTMLPrint prints the report as Chromium does for a PDF (print media, an A4 page's width):
// no table or diagram runs past the page's edge, and the main sections start a page.
func TestHTMLPrint(t *testing.T) {
	if testing.Short() {
		t.Skip("renders in Chromium")
	}
	b := chromium(t)
	for _, name := range []string{"gen-vxlan-dnat", "underlay-loss"} {
		t.Run(name, func(t *testing.T) {
			res := loadPage(t, b, string(render(t, scenario(t, name), HTML)), false)
			for _, p := range res.Problems {
				t.Errorf("console error: %s", p)
			}
			tb, err := b.tab()
			if err != nil {
				t.Fatal(err)
			}
			// An A4 page at 96 dpi less 1 cm margins: 718 px.
			if err := b.call(tb.session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 718, "height": 1000,
				"deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
				t.Fatal(err)
			}
			if err := b.call(tb.session, "Emulation.setEmulatedMedia", map[string]any{"media": "print"}, nil); err != nil {
				t.Fatal(err)
			}
			defer b.call(tb.session, "Emulation.setEmulatedMedia", map[string]any{"media": ""}, nil)
			over, err := b.evaluate(`Array.from(document.querySelectorAll("table,svg")).filter(function(e){
				return e.getBoundingClientRect().right > document.documentElement.clientWidth + 1}).map(function(e){
				return e.tagName + " " + Math.round(e.getBoundingClientRect().right)}).join(", ")`)
			if err != nil {
				t.Fatal(err)
			}
			if over != "" {
				t.Errorf("printed, these run past the page's edge (718 px): %s", over)
			}
			breaks, err := b.evaluate(`Array.from(document.querySelectorAll("section")).map(function(s){
				return s.querySelector("h2").textContent.split(",")[0] + ":" + getComputedStyle(s).breakBefore}).join("; ")`)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"Anomalies:page", "Segments:page", "Flows:page", "Capture points:page", "Path:auto", "Clocks:auto"} {
				if !strings.Contains(breaks, want) {
					t.Errorf("printed sections %q lack %q", breaks, want)
				}
			}
		})
	}
}

// The ladder of an ICMP error that may have crossed a NAT the captures do not show (nat-error-late:
// pod-b's port-unreachable, un-NATed on node-a, its quoted datagram captured after the DNAT only)
// marks it "?" with why on hover and in a note under the heading: before, it was drawn as a delivered
// packet's arrows up to node-a/tunl0, and nothing said it might have gone on. (The error begun at
// pod-a's veth, journey 2, is a flow of one point: no ladder.)
func TestHTMLLadderUncertain(t *testing.T) {
	res := scenario(t, "nat-error-late")
	html := string(render(t, res, HTML, WithLadders(10, 48)))
	note := `<p class="ladder-note">? #1: Uncertain: followed as delivered where it was last seen, at node-a/tunl0`
	mark := regexp.MustCompile(`<g><title>journey 1 s2c: Uncertain: followed as delivered[^<]*icmp-error-nat-unknown[^<]*</title>` +
		`<line [^>]*stroke="#ef6c00" [^>]*/><text [^>]*>\?</text></g>`)
	if !strings.Contains(html, note) {
		t.Errorf("no note %q", note)
	}
	if !mark.MatchString(html) {
		t.Errorf("journey 1: no ? mark on the ladder")
	}
}

// An uncertain journey whose ladder has no column expected next is marked "?" beside its last hop.
func TestHTMLLadderUncertainLastHop(t *testing.T) {
	f := &correlate.Flow{ID: "f1", Proto: "icmp", Path: []string{"node-a/eth0", "node-a/cali1"}}
	j := correlate.Journey{ID: 7, Dir: "c2s", Status: "uncertain", Uncertain: "Uncertain: why",
		Hops: []correlate.Hop{{Point: "node-a/eth0", Ts: 1}, {Point: "node-a/cali1", Ts: 2}}}
	res := &correlate.Result{}
	var b strings.Builder
	ladderSVG(&b, newView(res, Options{Format: HTML}), f, []correlate.Journey{j}, 48, 0)
	want := `<g><title>journey 7 c2s: Uncertain: why</title><circle cx="446" cy="68" r="3" fill="#ef6c00"/>`
	if !strings.Contains(b.String(), want) || !strings.Contains(b.String(), `? #7: Uncertain: why`) {
		t.Errorf("no mark %s in\n%s", want, b.String())
	}
}
