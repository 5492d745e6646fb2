package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// report --log-file appends one line per stage, in the run's order, each with its time on the clock and
// in CPU, and the totals, which never fall, then its system time (a part of its CPU time) and minor
// faults; the report itself is what it is without the log.
func TestReportLogFile(t *testing.T) {
	caps := demoFiles(t, "healthy-ipip")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "stages.log")
	if err := os.WriteFile(logPath, []byte("an earlier line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	with, without := filepath.Join(dir, "with.json"), filepath.Join(dir, "without.json")
	if code, _, stderr := runCmd(t, append([]string{"report", "-q", "--format", "json", "-o", with, "--log-file", logPath}, caps...)...); code != exitOK {
		t.Fatalf("report --log-file: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, append([]string{"report", "-q", "--format", "json", "-o", without}, caps...)...); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(with)
	b, _ := os.ReadFile(without)
	if string(a) != string(b) || len(a) == 0 {
		t.Errorf("the report with --log-file differs from the one without (%d and %d bytes)", len(a), len(b))
	}
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if lines[0] != "an earlier line" {
		t.Errorf("the log was not appended to: first line %q", lines[0])
	}
	want := []string{"read", "world", "clocks", "matcher", "arena", "flows", "paths", "late joins", "placement",
		"side findings", "output", "written"}
	if len(lines) != 1+len(want) {
		t.Fatalf("%d stage lines, want %d:\n%s", len(lines)-1, len(want), raw)
	}
	line := regexp.MustCompile(`msg="stage done" stage=("[^"]+"|\S+) took=(\S+) cpu=(\S+) total=(\S+) total_cpu=(\S+) sys=(\S+) minflt=(\d+)$`)
	var lastTotal, lastCPU, sumTook time.Duration
	var faults int64
	for i, l := range lines[1:] {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %d is not a stage line: %q", i+2, l)
		}
		if got := strings.Trim(m[1], `"`); got != want[i] {
			t.Errorf("stage %d is %q, want %q", i, got, want[i])
		}
		var d [4]time.Duration
		for k := range d {
			if d[k], err = time.ParseDuration(m[2+k]); err != nil || d[k] < 0 {
				t.Fatalf("line %q: field %d %q (%v)", l, k, m[2+k], err)
			}
		}
		if d[2] < lastTotal || d[3] < lastCPU {
			t.Errorf("stage %s: totals %v and %v below the stage before's %v and %v", want[i], d[2], d[3], lastTotal, lastCPU)
		}
		lastTotal, lastCPU = d[2], d[3]
		sumTook += d[0]
		sys, err := time.ParseDuration(m[6])
		if err != nil || sys < 0 || sys > d[1]+time.Millisecond {
			t.Errorf("stage %s: system time %q (%v) is not a part of its CPU time %v", want[i], m[6], err, d[1])
		}
		flt, _ := strconv.ParseInt(m[7], 10, 64)
		faults += flt
	}
	if faults == 0 { // reading the captures alone maps in fresh memory
		t.Errorf("no minor faults in any stage")
	}
	// each stage's time is its share of the total (rounded to the millisecond, each line)
	if diff := lastTotal - sumTook; diff < -time.Duration(len(want))*time.Millisecond || diff > time.Duration(len(want))*time.Millisecond {
		t.Errorf("the stages took %v in all, the total is %v", sumTook, lastTotal)
	}
}
