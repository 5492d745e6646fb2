package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/pcapmerge"
	"github.com/calipath/calipath/internal/testtool"
)

// A window that cannot hold a single hop is a usage error, not a report full of losses.
func TestWindowUsage(t *testing.T) {
	eth := lab + "/healthy-ipip/node-a-eth0.pcap"
	for _, sub := range []string{"report", "tui"} {
		for _, w := range []string{"0", "0s", "-1s"} {
			code, out, errs := runCLI(sub, "--window", w, eth)
			if code != exitUsage || !strings.Contains(errs, "--window must be positive") || out != "" {
				t.Errorf("calipath %s --window %s: exit %d, want %d and a message\nstdout: %s\nstderr: %s",
					sub, w, code, exitUsage, out, errs)
			}
		}
	}
}

// Inputs of which nothing can be read give no output at all: one line per input on stderr, exit 2,
// in every subcommand that reads captures (tui prints the report when stdout is not a terminal).
func TestNoReadableInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "node-a-eth0.pcap")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "node-b-eth0.pcap")
	garbage := "../../testdata/broken/garbage.txt"
	for _, sub := range []string{"report", "tui", "points", "packets"} {
		for _, c := range []struct {
			files []string
			lines []string
		}{
			{[]string{missing}, []string{missing + ": no such file or directory", "the input could not be read: nothing to report"}},
			// A directory is read (its files told apart by content): first what it skipped, then
			// itself among the inputs, as nothing in it could be read. The inputs are read, and
			// told, in their paths' sorted order, not the order given.
			{[]string{missing, dir, empty, garbage}, []string{empty + ": empty file (skipped)", dir + ": no capture in the directory",
				garbage + ": not a pcap or pcapng file", dir + ": is a directory",
				empty + ": empty file", missing + ": no such file or directory",
				"none of the 4 inputs could be read: nothing to report"}},
		} {
			code, out, errs := runCLI(append([]string{sub}, c.files...)...)
			got := strings.Split(strings.TrimRight(errs, "\n"), "\n")
			if code != exitUsage || out != "" || len(got) != len(c.lines) {
				t.Errorf("calipath %s %v: exit %d, want %d, no output and %d lines\nstdout: %s\nstderr: %s",
					sub, c.files, code, exitUsage, len(c.lines), out, errs)
				continue
			}
			for i, want := range c.lines {
				if !strings.HasPrefix(got[i], "calipath: "+want) {
					t.Errorf("calipath %s: stderr line %d is %q, want %q", sub, i+1, got[i], "calipath: "+want)
				}
			}
		}
	}
}

// When some inputs cannot be read, the report still comes (exit 1), and its header names them in
// every format, not only stderr.
func TestUnreadableNamedInHeader(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "node-b-eth0.pcap")
	eth := lab + "/healthy-ipip/node-a-eth0.pcap"
	for format, want := range map[string][]string{
		"text":     {"not read: 1 of 2 inputs, left out of this report:\n  " + missing + ": no such file or directory\n"},
		"markdown": {"- **Not read:** 1 of 2 inputs, left out of this report:\n  - " + strings.ReplaceAll(missing, "_", `\_`) + ": no such file or directory\n"},
		"html":     {"<span class=\"sev\">not read</span>1 of 2 inputs, left out of this report:<ul>\n<li><code>" + missing + "</code>: no such file or directory</li>"},
		"json":     {"\"unreadable\": [\n      {\n        \"file\": \"" + missing + "\",\n        \"error\": \"no such file or directory\"\n      }\n    ]"},
	} {
		code, out, errs := runCLI("report", "--format", format, eth, missing)
		if code != exitSkipped {
			t.Errorf("%s: exit %d, want %d; stderr %s", format, code, exitSkipped, errs)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s report does not name the unreadable input; want %q in:\n%s", format, w, head(out, 40))
			}
		}
	}
}

// head returns the first n lines of s.
func head(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}

// On a terminal, `calipath tui` with no readable input quits the TUI and says why, exit 2 (the real
// binary in a tmux pane; skipped without tmux or with -short).
func TestTUIUnfitInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmux := testtool.Path(t, testtool.Tmux)
	bin := calipathBinary(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "node-a-eth0.pcap")
	sock := filepath.Join(dir, "tmux.sock")
	cmdline := bin + " tui --offset node-a=1ms " + missing + "; echo EXITED $?; sleep 60"
	if out, err := exec.Command(tmux, "-S", sock, "new-session", "-d", "-s", "fit", "-x", "100", "-y", "24",
		"env", "TERM=xterm-256color", "sh", "-c", cmdline).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()
	var pane string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, _ := exec.Command(tmux, "-S", sock, "capture-pane", "-p", "-J", "-t", "fit").Output()
		if pane = string(out); strings.Contains(pane, "EXITED") {
			break
		}
	}
	for _, want := range []string{"calipath: " + missing + ": no such file or directory",
		"calipath: the input could not be read: nothing to report",
		`calipath: --offset node-a=1ms: no input was captured on node "node-a" (nodes: none)`, "EXITED 2"} {
		if !strings.Contains(pane, want) {
			t.Errorf("the pane lacks %q:\n%s", want, pane)
		}
	}
}

// --offset for a node that no input was captured on corrects nothing: a usage error naming the nodes
// there are, before any report.
func TestOffsetUnknownNode(t *testing.T) {
	files := []string{lab + "/healthy-ipip/node-a-eth0.pcap", lab + "/healthy-ipip/node-b-eth0.pcap"}
	for _, sub := range []string{"report", "tui"} {
		code, out, errs := runCLI(append([]string{sub, "--offset", "node-a=0s", "--offset", "nod-b=3ms"}, files...)...)
		want := `calipath: --offset nod-b=3ms: no input was captured on node "nod-b" (nodes: node-a, node-b)` + "\n"
		if code != exitUsage || out != "" || errs != want {
			t.Errorf("calipath %s --offset nod-b=3ms: exit %d, want %d and only %q\nstdout: %s\nstderr: %s",
				sub, code, exitUsage, want, head(out, 5), errs)
		}
	}
}

// An --offset the traffic contradicts is said on stderr and in the report, and the report is the one
// the traffic shows (the example: node-b's clock is in fact within microseconds of node-a's).
func TestOffsetContradictedCLI(t *testing.T) {
	files, _ := filepath.Glob(lab + "/healthy-ipip/*.pcap")
	code, out, errs := runCLI(append([]string{"report", "--offset", "node-b=3s"}, files...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.HasPrefix(errs, "calipath: warning: offset-contradicted at node-b: --offset node-b=3s contradicts the traffic: "+
		"the packets crossing to and from node-b put its offset at ") ||
		!strings.Contains(errs, "calipath:   next: Drop --offset node-b") {
		t.Errorf("stderr does not say it:\n%s", errs)
	}
	for _, want := range []string{"27 packets as sent: 27 delivered, 0 lost, 0 not captured", "WARNING offset-contradicted at node-b"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// A --window shorter than the hops is said on stderr with the window to use.
func TestWindowTooSmallCLI(t *testing.T) {
	all, _ := filepath.Glob(lab + "/healthy-ipip/*.pcap")
	var files []string
	for _, f := range all {
		if !strings.HasSuffix(f, "-any.pcap") {
			files = append(files, f)
		}
	}
	code, out, errs := runCLI(append([]string{"report", "--window", "20us"}, files...)...)
	if code != exitOK || !strings.Contains(out, "WARNING window-too-small") {
		t.Fatalf("exit %d; report:\n%s", code, out)
	}
	if !strings.Contains(errs, "calipath: warning: window-too-small at ") || !strings.Contains(errs, "longer than --window 20µs") ||
		!strings.Contains(errs, "calipath:   next: Re-run with --window 2ms or more") {
		t.Errorf("stderr does not say it:\n%s", errs)
	}
}

// One capture of several pods' veths is said on stderr, and its journeys are never "delivered" for
// having been seen there alone; a file name without <node>-<iface> gets a hint with a --point example
// from every subcommand.
func TestSharedAndUnnamedCLI(t *testing.T) {
	dir := t.TempDir()
	merged := filepath.Join(dir, "node-a-cali0.pcap")
	if err := pcapmerge.Merge(merged, lab+"/healthy-ipip/node-a-cali5e1c4d6c68c.pcap", lab+"/healthy-ipip/node-b-cali2f5353dd8c5.pcap"); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI("report", merged)
	if code != exitOK || !strings.Contains(out, "30 packets as sent: 0 delivered, 0 lost, 30 not captured") ||
		!strings.Contains(out, "WARNING pod-veth-shared at node-a/cali0") {
		t.Errorf("report of a merged capture: exit %d\n%s", code, head(out, 3))
	}
	if !strings.Contains(errs, "calipath: warning: pod-veth-shared at node-a/cali0: Its frames carry 2 pods (10.244.1.5, 10.244.2.7).") {
		t.Errorf("stderr does not name the shared point:\n%s", errs)
	}
	pods := filepath.Join(dir, "pods.pcap")
	if err := pcapmerge.Merge(pods, lab+"/healthy-ipip/node-a-cali5e1c4d6c68c.pcap"); err != nil {
		t.Fatal(err)
	}
	hint := "calipath: hint: " + pods + ": no <node>-<iface> in the file name (e.g. node-a-eth0.pcap), so calipath took " +
		`node "pods", interface unknown; say where it was captured with --point NODE:IFACE=` + pods +
		" (e.g. --point node-a:calic440f455693=" + pods + ")\n"
	for _, sub := range []string{"points", "packets"} {
		if code, _, errs := runCLI(sub, pods); code != exitOK || errs != hint {
			t.Errorf("calipath %s pods.pcap: exit %d, stderr %q, want %q", sub, code, errs, hint)
		}
	}
	if code, out, errs := runCLI("report", pods); code != exitOK || !strings.Contains(out, "WARNING point-unnamed at pods/unknown") ||
		!strings.Contains(errs, "--point NODE:IFACE="+pods) {
		t.Errorf("report pods.pcap: exit %d\nstderr %s\n%s", code, errs, out)
	}
	// Named with --point, it is neither unnamed nor hinted at.
	if code, _, errs := runCLI("points", "--point", "node-a:cali5e1c4d6c68c="+pods); code != exitOK || errs != "" {
		t.Errorf("points --point: exit %d, stderr %q", code, errs)
	}
}

// Byte-identical packets are said on stderr (which flow, how they were counted) and counted as the
// generator sent them.
func TestAmbiguousPacketsCLI(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Packets, cfg.Flows, cfg.Identical, cfg.Rate, cfg.Dir = 3000, 2, 1, 200000, t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(append([]string{"report"}, g.Files...)...)
	want := fmt.Sprintf("%d packets as sent: %d delivered, 0 lost", cfg.Packets, cfg.Packets)
	if code != exitOK || !strings.Contains(out, "WARNING ambiguous-packets") || !strings.Contains(out, want) {
		t.Fatalf("exit %d; report lacks %q:\n%s", code, want, out)
	}
	n := g.Truth.Flows[0].Packets
	if !strings.Contains(errs, "calipath: warning: ambiguous-packets at node-") ||
		!strings.Contains(errs, fmt.Sprintf(": %d packets (%d of flow ", n, n)) ||
		!strings.Contains(errs, "counted by position in order") || !strings.Contains(errs, "calipath:   next: ") {
		t.Errorf("stderr does not say it:\n%s", errs)
	}
}

// A --node-ip the captures contradict would make every verdict about the nodes' traffic wrong (two
// nodes of one address; "Calico picked the wrong node address" errors on healthy traffic): a usage
// error naming the evidence, before any report. A --node-ip the captures agree with is used.
func TestNodeIPContradicted(t *testing.T) {
	dir := lab + "/healthy-ipip/"
	files := []string{dir + "node-a-eth0.pcap", dir + "node-a-cali5e1c4d6c68c.pcap", dir + "node-b-eth0.pcap",
		dir + "node-b-cali2f5353dd8c5.pcap"}
	for _, c := range []struct{ flags, want []string }{
		{[]string{"--node-ip", "node-a=192.168.20.2"}, []string{"calipath: --node-ip node-a=192.168.20.2: the captures show 192.168.20.2 is node-b's (outer source of encapsulated frames from its local pod 10.244.2.7 at node-b/eth0)"}},
		{[]string{"--node-ip", "node-a=10.244.2.7"}, []string{"calipath: --node-ip node-a=10.244.2.7: 10.244.2.7 is a pod's address (it sends from node-b/cali2f5353dd8c5), not a node's"}},
		{[]string{"--node-ip", "node-a=192.168.10.2", "--node-ip", "node-b=192.168.10.2"}, []string{"calipath: --node-ip: 192.168.10.2 is given for 2 nodes (node-a, node-b): an address is one node's"}},
	} {
		for _, sub := range []string{"report", "tui"} {
			code, out, errs := runCLI(append(append([]string{sub}, c.flags...), files...)...)
			want := strings.Join(c.want, "\n") + "\n"
			if code != exitUsage || out != "" || errs != want {
				t.Errorf("calipath %s %v: exit %d, want %d and only %q\nstdout: %s\nstderr: %s",
					sub, c.flags, code, exitUsage, want, head(out, 5), errs)
			}
		}
	}
	code, out, errs := runCLI(append([]string{"report", "--node-ip", "node-a=192.168.10.2", "--node-ip", "node-b=192.168.20.2"}, files...)...)
	if code != 0 || !strings.Contains(out, "node-a is 192.168.10.2 (--node-ip)") || strings.Contains(out, "wrong-outer-address") {
		t.Errorf("agreeing --node-ip: exit %d\nstdout: %s\nstderr: %s", code, head(out, 40), errs)
	}
}
