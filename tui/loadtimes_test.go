package tui

import (
	"bytes"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/cputime"
	tea "github.com/charmbracelet/bubbletea"
)

// The overview of loaded captures logs how long reading, correlating and the first order took
// (calipath tui --log-file), once, and the screen shown is the same.
func TestLoadTimesLogged(t *testing.T) {
	files := labFiles(t, "../testdata/lab/scenarios/underlay-loss")
	var buf bytes.Buffer
	opts := testOptions()
	opts.Log = slog.New(slog.NewTextHandler(&buf, nil))
	m := New(files, opts)
	m = send(m, tea.WindowSizeMsg{Width: 160, Height: 48})
	before := time.Now()
	msg, ok := loadCmd(files, m.opts, m.load)().(loadedMsg)
	if !ok {
		t.Fatal("the captures did not load")
	}
	if buf.Len() != 0 {
		t.Fatalf("logged before the overview: %s", buf.String())
	}
	nm, _ := m.Update(msg)
	m = nm.(Model)
	took := time.Since(before)
	if m.Screen() != screenOverview {
		t.Fatalf("the screen is %v, not the overview", m.Screen())
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `msg="overview shown"`) {
		t.Fatalf("want one line saying the overview shows, logged:\n%s", buf.String())
	}
	line := lines[0]
	for _, k := range []string{"total", "read", "correlate", "first_order"} {
		mm := regexp.MustCompile(`\b` + k + `=(\S+)`).FindStringSubmatch(line)
		if mm == nil {
			t.Fatalf("no %s in %q", k, line)
		}
		d, err := time.ParseDuration(mm[1])
		if err != nil || d < 0 || d > took+time.Millisecond {
			t.Errorf("%s=%s: not a duration within the %v the load took", k, mm[1], took)
		}
	}
	checkCPU(t, line)
	if !strings.Contains(line, "files="+strconv.Itoa(len(files))+" ") ||
		!strings.HasSuffix(line, "flows="+strconv.Itoa(len(m.c.res.Flows))) {
		t.Errorf("the files or flows counted are not the Result's (%d files, %d flows): %q",
			len(files), len(m.c.res.Flows), line)
	}
	// Flows listed after the overview showed (listFlowsCmd) log a second line when they are in.
	listAfter(t)
	buf.Reset()
	m = send(New(files, opts), tea.WindowSizeMsg{Width: 160, Height: 48})
	msg, _ = loadCmd(files, m.opts, m.load)().(loadedMsg)
	nm, cmd := m.Update(msg)
	m = nm.(Model)
	if n := strings.Count(buf.String(), "\n"); n != 1 || !strings.Contains(buf.String(), `msg="overview shown"`) ||
		!strings.Contains(buf.String(), "first_order=0s ") {
		t.Fatalf("want one line saying the overview shows with no first order yet, logged:\n%s", buf.String())
	}
	for _, msg := range msgsOf(cmd) {
		if _, ok := msg.(flowsMsg); ok {
			m = send(m, msg)
		}
	}
	lines = strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `msg="flows listed"`) || len(m.c.res.Flows) == 0 ||
		!strings.HasSuffix(lines[1], "flows="+strconv.Itoa(len(m.c.res.Flows))) {
		t.Fatalf("want a second line saying the %d flows are listed, logged:\n%s", len(m.c.res.Flows), buf.String())
	}
	for _, k := range []string{"total", "collect", "list", "first_order"} {
		if mm := regexp.MustCompile(`\b` + k + `=(\S+)`).FindStringSubmatch(lines[1]); mm == nil {
			t.Errorf("no %s in %q", k, lines[1])
		} else if _, err := time.ParseDuration(mm[1]); err != nil {
			t.Errorf("%s=%s: not a duration", k, mm[1])
		}
	}
	checkCPU(t, lines[1])
	// A Result shown without loading (NewWithResult) has no load to time.
	buf.Reset()
	_ = NewWithResult(m.c.res, opts)
	if buf.Len() != 0 {
		t.Errorf("a Result shown without loading logged: %s", buf.String())
	}
}

// checkCPU checks that a timings line gives the process's CPU time (cpu=, before the counts), more
// than nothing and no more than the process has used by now.
func checkCPU(t *testing.T, line string) {
	t.Helper()
	now, ok := cputime.Process()
	if !ok {
		t.Skip("no CPU time here")
	}
	mm := regexp.MustCompile(` cpu=(\S+) (files|flows)=`).FindStringSubmatch(line)
	if mm == nil {
		t.Fatalf("no cpu before the counts in %q", line)
	}
	if d, err := time.ParseDuration(mm[1]); err != nil || d <= 0 || d > now+time.Millisecond {
		t.Errorf("cpu=%s: not a CPU time within the %v the process used", mm[1], now)
	}
}
