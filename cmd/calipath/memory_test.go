package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/units"
)

// sameBounded runs report over files in memory (--memory 1T) and in the bounded-memory mode
// (--memory 1K forces it), in every format asked, and fails unless the output is byte for byte the
// same, the bounded run said on stderr that it switched, and it left no temporary file.
func sameBounded(t *testing.T, files []string, formats ...[]string) {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, f := range formats {
		args := append(append([]string(nil), f...), files...)
		code0, want, errs0 := runCLI(append([]string{"report", "--memory", "1T"}, args...)...)
		code1, got, errs1 := runCLI(append([]string{"report", "--memory", "1K"}, args...)...)
		if strings.Contains(errs0, "bounded-memory mode") {
			t.Errorf("%v: bounded-memory mode under --memory 1T: %s", f, errs0)
		}
		if !strings.Contains(errs1, "bounded-memory mode, the frames kept in temporary files in "+tmp) {
			t.Errorf("%v: no word of the bounded-memory mode on stderr: %s", f, errs1)
		}
		if code0 != code1 || got != want {
			t.Errorf("%v: exit %d, %d bytes in the bounded-memory mode; exit %d, %d bytes in memory (%s)", f, code1, len(got),
				code0, len(want), firstDiff(want, got))
		}
		if len(want) < 100 {
			t.Errorf("%v: only %d bytes of output", f, len(want))
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("%d temporary files left", len(left))
	}
}

// firstDiff says where a and b first differ.
func firstDiff(a, b string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference at byte %d: %s vs %s", i, excerpt(a, i), excerpt(b, i))
		}
	}
	return "one is a prefix of the other"
}

func excerpt(s string, i int) string { return "…" + s[max(0, i-40):min(len(s), i+40)] + "…" }

// TestBoundedSameLab: the bounded-memory mode writes the same report as the in-memory path on every
// lab scenario (all its capture files), as JSON with and without the journeys and as text.
func TestBoundedSameLab(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(labScenarios, "*"))
	n := 0
	for _, dir := range dirs {
		var files []string
		for _, f := range listDir(t, dir) {
			files = append(files, filepath.Join(dir, f))
		}
		if len(files) == 0 {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			sameBounded(t, files, []string{"--format", "json", "--journeys"}, []string{"--format", "text", "--width", "0"})
		})
	}
	if n < 20 {
		t.Fatalf("only %d lab scenarios", n)
	}
}

// TestBoundedSameGenerated: the same on generated captures of every mode and the many-flow mix, with
// loss, duplicates and a clock offset.
func TestBoundedSameGenerated(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode gen.Mode
		mix  gen.Mix
	}{{"ipip", gen.ModeIPIP, gen.MixDefault}, {"vxlan", gen.ModeVXLAN, gen.MixDefault}, {"bgp", gen.ModeBGP, gen.MixDefault},
		{"wireguard", gen.ModeWireGuard, gen.MixDefault}, {"many-flows", gen.ModeIPIP, gen.MixManyFlows}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gen.DefaultConfig()
			cfg.Dir, cfg.Mode, cfg.Mix = t.TempDir(), tc.mode, tc.mix
			cfg.Packets, cfg.Flows = 4000, 60
			if tc.mix == gen.MixManyFlows {
				cfg.Nodes, cfg.PodsPerNode, cfg.Flows = 2, 8, 1000
			}
			cfg.LossPerHop, cfg.DupRate = 0.01, 0.01
			cfg.ClockOffset = map[string]time.Duration{"node-2": 3 * time.Second}
			g, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			sameBounded(t, g.Files, []string{"--format", "json", "--journeys"}, []string{"--format", "text", "--width", "0"})
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"2G": 2 << 30, "2GiB": 2 << 30, "2gb": 2 << 30, "512M": 512 << 20, "1.5K": 1536,
		"1000": 1000, "1T": 1 << 40} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "-1G", "0", "two", "1Q", "1e30T", "NaN",
		"0.1", "0.5B", "1e-300G"} { // under a byte: 0, which --memory takes as no limit (found by FuzzFlagValues)
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestMemTotal(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meminfo")
	_ = os.WriteFile(p, []byte("MemFree:  100 kB\nMemTotal:       16384 kB\n"), 0o644)
	if got := memTotal(p); got != 16384*1024 {
		t.Errorf("memTotal = %d", got)
	}
	var m memoryFlag
	if got := m.limit(p); got != 8192*1024 {
		t.Errorf("default limit %d, want half of MemTotal", got)
	}
	if got := m.limit(filepath.Join(t.TempDir(), "none")); got != 0 {
		t.Errorf("no meminfo: limit %d, want none", got)
	}
	if err := m.Set("3G"); err != nil || m.limit(p) != 3<<30 {
		t.Errorf("--memory 3G: limit %d, %v", m.limit(p), err)
	}
}

// TestMemoryFlagErrors: a bad --memory is a usage error that names the flag.
func TestMemoryFlagErrors(t *testing.T) {
	code, _, errs := runCLI("report", "--memory", "lots", "x.pcap")
	if code != exitUsage || !strings.Contains(errs, "--memory") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// TestBoundedTmpfs: a $TMPDIR held in memory is named on stderr, and the report is still the same.
func TestBoundedTmpfs(t *testing.T) {
	if !decode.SpillInMemory("/dev/shm") {
		t.Skip("no tmpfs at /dev/shm")
	}
	dir, err := os.MkdirTemp("/dev/shm", "calipath-test-")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(dir)
	t.Setenv("TMPDIR", dir)
	files := []string{filepath.Join(labScenarios, "healthy-ipip", "node-a-eth0.pcap"), filepath.Join(labScenarios, "healthy-ipip", "node-b-eth0.pcap")}
	_, want, _ := runCLI(append([]string{"report", "--format", "json", "--memory", "1T"}, files...)...)
	_, got, errs := runCLI(append([]string{"report", "--format", "json", "--memory", "1K"}, files...)...)
	if !strings.Contains(errs, dir+" is held in memory (tmpfs)") || got != want {
		t.Errorf("same output: %v; stderr: %s", got == want, errs)
	}
}

// TestBoundedWarnsPastLimit: the bounded-memory mode warns that the run may pass --memory only when the
// journeys and flows it still holds would (boundedBytesPerFrame a frame): not at 75 bytes a frame, where
// it switches all the same, and at 10.
func TestBoundedWarnsPastLimit(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	files := []string{filepath.Join(labScenarios, "healthy-ipip", "node-a-eth0.pcap"), filepath.Join(labScenarios, "healthy-ipip", "node-b-eth0.pcap")}
	frames, _ := decode.EstimateFrames(files, decode.Options{})
	if frames < 50 {
		t.Fatalf("only %d frames estimated", frames)
	}
	for _, tc := range []struct {
		perFrame int64
		warn     bool
	}{{75, false}, {10, true}} {
		_, _, errs := runCLI(append([]string{"report", "--format", "json", "--memory", fmt.Sprint(frames * tc.perFrame)}, files...)...)
		if !strings.Contains(errs, "bounded-memory mode") {
			t.Fatalf("--memory at %d bytes a frame: no bounded-memory mode: %s", tc.perFrame, errs)
		}
		if got := strings.Contains(errs, "this run may pass the limit"); got != tc.warn {
			t.Errorf("--memory at %d bytes a frame: warned %v, want %v: %s", tc.perFrame, got, tc.warn, errs)
		}
	}
}

// TestWarnMapped: when the journeys' arrays cannot go to temporary files (here the directory is
// gone; a full disk likewise), a line says they are kept in memory; nothing is said when they could,
// or in memory.
func TestWarnMapped(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Packets, cfg.Flows = t.TempDir(), 300, 3
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "spill")
	_ = os.Mkdir(dir, 0o755)
	_, sp, err := decode.LoadSpilled(g.Files, decode.Options{}, decode.PointConfig{}, nil, dir)
	if err != nil {
		t.Skip(err)
	}
	defer sp.Close()
	var b strings.Builder
	warnMapped(nil, &b)
	if sp.Map(1<<20) == nil {
		t.Fatalf("Map in %s: %v", dir, sp.MapErr())
	}
	warnMapped(sp, &b)
	if b.Len() != 0 {
		t.Errorf("a word with nothing kept in memory: %q", b.String())
	}
	_ = os.Remove(dir)
	if sp.Map(1<<20) != nil {
		t.Fatal("Map in a removed directory gave memory")
	}
	warnMapped(sp, &b)
	if !strings.Contains(b.String(), "cannot be kept in temporary files") || !strings.Contains(b.String(), "kept in memory") {
		t.Errorf("no word of the journeys kept in memory: %q", b.String())
	}
}

// TestInMemoryEstimate: report reads the inputs into memory up to --memory at inMemoryBytesPerFrame
// bytes a frame of their estimate, and keeps them in temporary files one byte below, saying how much
// memory it estimated; docs/report.md gives the same figure.
func TestInMemoryEstimate(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	files := []string{filepath.Join(labScenarios, "healthy-ipip", "node-a-eth0.pcap"), filepath.Join(labScenarios, "healthy-ipip", "node-b-eth0.pcap")}
	frames, _ := decode.EstimateFrames(files, decode.Options{})
	need := frames * inMemoryBytesPerFrame
	_, _, errs := runCLI(append([]string{"report", "--format", "json", "--memory", fmt.Sprint(need)}, files...)...)
	if strings.Contains(errs, "bounded-memory mode") {
		t.Errorf("--memory %d (%d frames): bounded-memory mode: %s", need, frames, errs)
	}
	_, _, errs = runCLI(append([]string{"report", "--format", "json", "--memory", fmt.Sprint(need - 1)}, files...)...)
	if !strings.Contains(errs, "bounded-memory mode") || !strings.Contains(errs, "about "+units.Bytes(need)+" in memory") {
		t.Errorf("--memory %d (%d frames): no bounded-memory mode at %s: %s", need-1, frames, units.Bytes(need), errs)
	}
	doc, err := os.ReadFile("../../docs/report.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("multiplies them by %d bytes", inMemoryBytesPerFrame); !strings.Contains(string(doc), want) {
		t.Errorf("docs/report.md does not say %q", want)
	}
}

// TestWarnPeak: after the run, a line says when the peak resident memory (VmHWM) passed --memory,
// naming what the mode held; nothing when it stayed under, without a limit, or without the file.
func TestWarnPeak(t *testing.T) {
	p := filepath.Join(t.TempDir(), "status")
	_ = os.WriteFile(p, []byte("VmPeak:  9999999 kB\nVmHWM:\t  2097152 kB\nVmRSS:  1000 kB\n"), 0o644)
	for _, tc := range []struct {
		path    string
		limit   int64
		bounded bool
		want    string
	}{
		{p, 1 << 30, true, "peak resident memory, 2.00GiB, passed --memory 1.00GiB (the flows and the open journeys held in memory, and the temporary files' resident pages)"},
		{p, 1 << 30, false, "peak resident memory, 2.00GiB, passed --memory 1.00GiB (the frames and the flows held in memory)"},
		{p, 2 << 30, true, ""},
		{p, 0, false, ""},
		{p + ".gone", 1, true, ""},
	} {
		var b strings.Builder
		warnPeak(tc.path, tc.limit, tc.bounded, &b)
		if tc.want == "" && b.Len() != 0 || !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s, limit %d: %q, want %q", tc.path, tc.limit, b.String(), tc.want)
		}
	}
}

// TestReportWarnsPeak: report says after the run that it passed a --memory it could not keep to (the
// process holds more than 64 KiB whatever it reads), and not under a limit it kept.
func TestReportWarnsPeak(t *testing.T) {
	if procKB("/proc/self/status", "VmHWM:") == 0 {
		t.Skip("no VmHWM in /proc/self/status")
	}
	t.Setenv("TMPDIR", t.TempDir())
	files := []string{filepath.Join(labScenarios, "healthy-ipip", "node-a-eth0.pcap")}
	for _, tc := range []struct {
		memory string
		warn   bool
	}{{"64K", true}, {"1T", false}} {
		_, _, errs := runCLI(append([]string{"report", "--format", "json", "-o", filepath.Join(t.TempDir(), "out.json"), "--memory", tc.memory}, files...)...)
		if got := strings.Contains(errs, "peak resident memory"); got != tc.warn {
			t.Errorf("--memory %s: warned %v, want %v: %s", tc.memory, got, tc.warn, errs)
		}
	}
}
