package report

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var keepPNG = flag.String("screenshots", "", "keep the HTML screenshot PNGs in this directory")

// chromium returns the path of a headless-capable Chromium, or "".
func chromium() string {
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// consoleError matches what Chromium logs for a page's console messages ("INFO:CONSOLE:1] ..." now,
// "CONSOLE(1)] ..." in older releases; the level is not in the line, and the report logs nothing) and
// uncaught exceptions.
var consoleError = regexp.MustCompile(`(Uncaught|:CONSOLE:\d+\]|CONSOLE\(\d+\)\]|SyntaxError|ReferenceError|TypeError)`)

// TestHTMLScreenshot renders each sample report in headless Chromium, fails on console errors, and
// checks that a screenshot was drawn. It is skipped without Chromium and with -short.
func TestHTMLScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("renders in Chromium")
	}
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium on PATH (Debian: apt-get install chromium)")
	}
	// A page that calls console.error proves that the log check sees a page's errors.
	t.Run("probe", func(t *testing.T) {
		out := t.TempDir()
		page := filepath.Join(out, "probe.html")
		if err := os.WriteFile(page, []byte(`<!doctype html><script>console.error("calipath probe")</script>`), 0o644); err != nil {
			t.Fatal(err)
		}
		logs := runChromium(t, bin, out, "--dump-dom", "file://"+page)
		if !consoleError.MatchString(logs) {
			t.Fatalf("a console.error call is not seen in Chromium's log, so the check below could not fail:\n%s", logs)
		}
	})
	for _, name := range allScenarios() {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			page := filepath.Join(out, name+".html")
			if err := os.WriteFile(page, render(t, scenario(t, name), HTML), 0o644); err != nil {
				t.Fatal(err)
			}
			png := filepath.Join(out, name+".png")
			logs := runChromium(t, bin, out, "--screenshot="+png, "--window-size=1400,1000", "file://"+page)
			for _, l := range strings.Split(logs, "\n") {
				if consoleError.MatchString(l) {
					t.Errorf("console error: %s", l)
				}
			}
			st, err := os.Stat(png)
			if err != nil || st.Size() < 10_000 {
				t.Fatalf("no screenshot (err %v); chromium said:\n%s", err, logs)
			}
			if *keepPNG != "" {
				if b, err := os.ReadFile(png); err == nil {
					os.MkdirAll(*keepPNG, 0o755)
					os.WriteFile(filepath.Join(*keepPNG, name+".png"), b, 0o644)
				}
			}
		})
	}
}

// TestHTMLConsoleCheck shows that the console check catches a broken page.
func TestHTMLConsoleCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("renders in Chromium")
	}
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium on PATH")
	}
	out := t.TempDir()
	page := filepath.Join(out, "bad.html")
	os.WriteFile(page, []byte("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>"), 0o644)
	logs := runChromium(t, bin, out, "--dump-dom", "file://"+page)
	if !consoleError.MatchString(logs) {
		t.Errorf("an uncaught ReferenceError went unnoticed; chromium said:\n%s", logs)
	}
}

// TestHTMLPolicyBlocksInjection shows the Content-Security-Policy at work: markup that got into the
// report (were escaping ever to fail) runs no script and loads nothing, while the report's own style
// and script apply (TestHTMLScreenshot fails on the console message a blocked one leaves).
func TestHTMLPolicyBlocksInjection(t *testing.T) {
	if testing.Short() {
		t.Skip("renders in Chromium")
	}
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium on PATH")
	}
	out := t.TempDir()
	page := filepath.Join(out, "injected.html")
	html := strings.Replace(string(render(t, small(), HTML)), "<main>",
		`<main><script>document.title="pwned"</script><img src="http://127.0.0.1:9/x.png">`, 1)
	os.WriteFile(page, []byte(html), 0o644)
	dump := runChromiumDOM(t, bin, out, "file://"+page)
	if strings.Contains(dump.dom, "<title>pwned</title>") || !strings.Contains(dump.dom, "<title>calipath report</title>") {
		t.Error("an injected script ran")
	}
	if !strings.Contains(dump.log, "Content Security Policy") {
		t.Errorf("Chromium did not report the blocked script:\n%s", dump.log)
	}
}

type chromiumDump struct{ dom, log string }

// runChromiumDOM loads a page and returns its DOM after scripts ran, and Chromium's log.
func runChromiumDOM(t *testing.T, bin, dir, url string) chromiumDump {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--enable-logging=stderr", "--v=0", "--dump-dom", url)
	var dom, log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &dom, &log
	if err := cmd.Run(); err != nil {
		t.Logf("chromium: %v", err)
	}
	return chromiumDump{dom.String(), log.String()}
}

func runChromium(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &buf
	if err := cmd.Run(); err != nil {
		t.Logf("chromium: %v", err)
	}
	return buf.String()
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
