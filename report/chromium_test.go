package report

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/testtool"
)

// One headless Chromium serves every page the HTML tests render: it is started once (a start costs
// about two seconds of CPU) and driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
// JSON messages ending in a NUL byte, ours on its fd 3, its on fd 4). Pages are loaded one after the
// other in one tab; each page's console calls, uncaught exceptions and error log entries are
// collected from the protocol's events until its load event and screenshot.

// browser is a running Chromium.
type browser struct {
	cmd *exec.Cmd
	in  *os.File // Chromium's fd 3: messages to it
	log string   // its stderr

	mu      sync.Mutex
	nextID  int
	replies map[int]chan cdpMsg
	events  map[string]chan cdpMsg // by session
	page    *tab                   // the tab pages are loaded in
	err     error                  // why the pipe from Chromium ended
}

// cdpMsg is one DevTools protocol message: a reply (ID), or an event (Method) of a session.
type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

var (
	sharedOnce    sync.Once
	sharedBrowser *browser
	sharedErr     error
	sharedDir     string
)

// chromium returns the shared Chromium, started on first use (the test is skipped without Chromium,
// see testtool.Path); stopChromium, from TestMain, ends it.
func chromium(t *testing.T) *browser {
	t.Helper()
	bin := testtool.Path(t, testtool.Chromium)
	sharedOnce.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "calipath-chromium-")
		if sharedErr == nil {
			sharedBrowser, sharedErr = startBrowser(bin, sharedDir)
		}
	})
	if sharedErr != nil {
		t.Fatalf("start %s: %v", bin, sharedErr)
	}
	return sharedBrowser
}

func stopChromium() {
	if sharedBrowser != nil {
		sharedBrowser.close()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
}

func startBrowser(bin, dir string) (*browser, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	b := &browser{in: inW, log: filepath.Join(dir, "chromium.log"), replies: map[int]chan cdpMsg{},
		events: map[string]chan cdpMsg{}}
	logf, err := os.Create(b.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	b.cmd = exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{inR, outW} // fd 3, fd 4
	b.cmd.Stdout, b.cmd.Stderr = io.Discard, logf
	if err := b.cmd.Start(); err != nil {
		return nil, err
	}
	inR.Close()
	outW.Close()
	go b.read(outR)
	return b, nil
}

// read delivers Chromium's messages: replies to their callers, events to their session's page.
func (b *browser) read(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for {
		var line []byte
		if line, err = br.ReadBytes(0); err != nil {
			break
		}
		var m cdpMsg
		if err = json.Unmarshal(line[:len(line)-1], &m); err != nil {
			break
		}
		b.mu.Lock()
		if m.ID != 0 {
			if c := b.replies[m.ID]; c != nil {
				c <- m
				delete(b.replies, m.ID)
			}
		} else if c := b.events[m.SessionID]; c != nil {
			select {
			case c <- m:
			default: // a page that logs this much has failed already
			}
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.err = fmt.Errorf("the DevTools pipe ended: %v", err)
	for id, c := range b.replies {
		close(c)
		delete(b.replies, id)
	}
	b.mu.Unlock()
}

// call sends method with params (in session, "" for the browser) and returns the reply's result.
func (b *browser) call(session, method string, params any, result any) error {
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return b.err
	}
	b.nextID++
	id := b.nextID
	c := make(chan cdpMsg, 1)
	b.replies[id] = c
	b.mu.Unlock()
	if params == nil {
		params = struct{}{}
	}
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params, "sessionId": session})
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("%s: %v", method, err)
	}
	select {
	case m, ok := <-c:
		switch {
		case !ok:
			return fmt.Errorf("%s: %v", method, b.err)
		case m.Error != nil:
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		case result != nil:
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-time.After(60 * time.Second):
		return fmt.Errorf("%s: no reply in 60 s", method)
	}
}

// close asks Chromium to quit, and kills it if it does not.
func (b *browser) close() {
	b.call("", "Browser.close", nil, nil)
	b.in.Close()
	done := make(chan struct{})
	go func() { b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
}

// logTail returns the end of Chromium's stderr.
func (b *browser) logTail() string {
	l, _ := os.ReadFile(b.log)
	return string(l[max(0, len(l)-4000):])
}

// pageResult is what loading one page showed.
type pageResult struct {
	Problems []string // console calls, uncaught exceptions, error log entries
	PNG      []byte   // the screenshot, when asked for
}

// tab is the browser tab pages are loaded in, with its DevTools session and the session's events.
type tab struct {
	b       *browser
	session string
	events  chan cdpMsg
}

// tab returns the tab pages are loaded in, opened on first use.
func (b *browser) tab() (*tab, error) {
	b.mu.Lock()
	t := b.page
	b.mu.Unlock()
	if t != nil {
		return t, nil
	}
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	t = &tab{b: b, session: att.SessionID, events: make(chan cdpMsg, 4096)}
	b.mu.Lock()
	b.events[t.session] = t.events
	b.mu.Unlock()
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if err := b.call(t.session, m, nil, nil); err != nil {
			return nil, err
		}
	}
	if err := b.call(t.session, "Page.setLifecycleEventsEnabled", map[string]any{"enabled": true}, nil); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.page = t
	b.mu.Unlock()
	return t, nil
}

// load opens url at width×height in the tab, waits for its load event, takes a screenshot if asked
// and returns what the page logged. Whatever the tab logged since the previous page's screenshot
// counts against this page (a page logging after its load must fail some test, never none).
func (b *browser) load(url string, width, height int, screenshot bool) (pageResult, error) {
	var res pageResult
	t, err := b.tab()
	if err != nil {
		return res, err
	}
	if err := b.call(t.session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height,
		"deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return res, err
	}
	var nav struct {
		LoaderID  string `json:"loaderId"`
		ErrorText string `json:"errorText"`
	}
	if err := b.call(t.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return res, err
	}
	if nav.ErrorText != "" {
		return res, fmt.Errorf("navigate to %s: %s", url, nav.ErrorText)
	}
	deadline := time.After(60 * time.Second)
	for loaded := false; !loaded; {
		select {
		case m := <-t.events:
			if m.Method == "Page.lifecycleEvent" {
				var p struct{ Name, LoaderID string }
				json.Unmarshal(m.Params, &p)
				loaded = p.Name == "load" && p.LoaderID == nav.LoaderID
			} else if p := problem(m); p != "" {
				res.Problems = append(res.Problems, p)
			}
		case <-deadline:
			return res, fmt.Errorf("%s: no load event in 60 s", url)
		}
	}
	if screenshot {
		var shot struct {
			Data string `json:"data"`
		}
		if err := b.call(t.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
			return res, err
		}
		png, err := base64.StdEncoding.DecodeString(shot.Data)
		if err != nil {
			return res, fmt.Errorf("screenshot: %v", err)
		}
		res.PNG = png
	}
	for drained := false; !drained; { // what arrived before the screenshot was taken
		select {
		case m := <-t.events:
			if p := problem(m); p != "" {
				res.Problems = append(res.Problems, p)
			}
		default:
			drained = true
		}
	}
	return res, nil
}

// evaluate runs a JavaScript expression in the tab's page and returns its value as a string.
func (b *browser) evaluate(expr string) (string, error) {
	t, err := b.tab()
	if err != nil {
		return "", err
	}
	var out struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.call(t.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &out); err != nil {
		return "", err
	}
	if out.ExceptionDetails != nil {
		return "", fmt.Errorf("evaluate %s: %s", expr, out.ExceptionDetails.Text)
	}
	return fmt.Sprint(out.Result.Value), nil
}

// problem describes an event that shows a page at fault: any console call (the report logs nothing),
// an uncaught exception, or a log entry of level error. Other events give "".
func problem(m cdpMsg) string {
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		json.Unmarshal(m.Params, &p)
		var parts []string
		for _, a := range p.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, fmt.Sprint(a.Value))
			}
		}
		return "console." + p.Type + ": " + strings.Join(parts, " ")
	case "Runtime.exceptionThrown":
		var p struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(m.Params, &p)
		return "exception: " + p.Details.Text + " " + p.Details.Exception.Description
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Source, Text, URL string
			} `json:"entry"`
		}
		json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" {
			return "log (" + p.Entry.Source + "): " + p.Entry.Text + " " + p.Entry.URL
		}
	}
	return ""
}
