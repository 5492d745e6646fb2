package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// labInputs returns the per-interface captures of lab scenario name (no -any.pcap, no pcapng) but
// those named in without.
func labInputs(t *testing.T, name string, without ...string) []string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(lab, name, "*.pcap"))
	var out []string
	for _, p := range all {
		if base := filepath.Base(p); !strings.HasSuffix(base, "-any.pcap") && !slices.Contains(without, base) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no captures in lab scenario %s", name)
	}
	return out
}

// pointsProblems runs `calipath points --format json` on files and returns each file's problems, with
// the exit code and stderr.
func pointsProblems(t *testing.T, files []string) (map[string][]string, int, string) {
	t.Helper()
	code, out, errs := runCLI(append([]string{"points", "--format", "json"}, files...)...)
	var doc pointsJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("points: exit %d, %v\nstdout: %s\nstderr: %s", code, err, out, errs)
	}
	probs := map[string][]string{}
	for _, f := range doc.Files {
		probs[f.File] = f.Problems
	}
	return probs, code, errs
}

const mergedRouterSaid = "give each of the router's interfaces as its own file"

// A router's two interfaces merged into one file, in each lab scenario that has router-1's two
// captures (the files built as correlate's TestMergedRouterAppended and TestMergedRouterQuiet build
// them): eth0's records padded to 4,200 with its own real frames, then eth1's (mergecap -a); and the
// two in time order after 4,200 records where eth1 was quiet (mergecap -w); and the first given as
// node-a's eth0 capture, a Calico node's file whose time goes back. The merged probe's 4,096
// records are one interface's, and past them each packet the router forwarded is there twice, one
// router apart. report said so (the file's problem, UNRELIABLE in the summary), but points and packets,
// which keep no frames, listed the file as router-1/eth0 with no problem at all: on main, points'
// JSON gave the file "problems": [] and exit 0. They now give it the problem report gives it, word
// for word: in points' JSON, and on stderr for points' text and for packets, which exit 1 (inputs with
// problems: exitSkipped).
func TestPointsMergedRouter(t *testing.T) {
	ran := 0
	for _, name := range []string{"mtu-blackhole", "underlay-loss", "healthy-vxlan", "healthy-ipip"} {
		if _, err := os.Stat(filepath.Join(lab, name, "router-1-eth1.pcap")); err != nil {
			continue
		}
		ran++
		t.Run(name, func(t *testing.T) {
			eth0 := testtool.ReadPcap(t, filepath.Join(lab, name, "router-1-eth0.pcap"))
			eth1 := testtool.ReadPcap(t, filepath.Join(lab, name, "router-1-eth1.pcap"))
			quiet := testtool.Padded(eth0, 4200+len(eth0.Ts))
			quiet.Ts, quiet.Data = quiet.Ts[:len(quiet.Ts)-len(eth0.Ts)], quiet.Data[:len(quiet.Data)-len(eth0.Ts)]
			for _, c := range []struct {
				shape, as string
				parts     []testtool.Frames
			}{
				{"appended", "router-1-eth0.pcap", []testtool.Frames{testtool.Padded(eth0, 4200), eth1}},
				{"time-merged", "router-1-eth0.pcap", []testtool.Frames{testtool.TimeMerged(quiet, eth0, eth1)}},
				// As a Calico node's capture (node-a has a pod's veth among the inputs): looked at
				// because its time goes back, which points' scan notes without stamping each frame.
				{"appended as node-a's eth0", "node-a-eth0.pcap", []testtool.Frames{testtool.Padded(eth0, 4200), eth1}},
			} {
				shape := c.shape
				out := filepath.Join(t.TempDir(), c.as)
				testtool.WritePcap(t, out, c.parts...)
				others := labInputs(t, name, "router-1-eth0.pcap", "router-1-eth1.pcap", c.as)
				files := append(append([]string(nil), others...), out)
				lc := decode.Load(files, decode.Options{}, decode.PointConfig{})
				want := lc.Files[len(lc.Files)-1].Problems
				if !lc.Files[len(lc.Files)-1].Routed || !strings.Contains(strings.Join(want, "\n"), mergedRouterSaid) {
					t.Fatalf("%s: report's Load does not call it merged: %q", shape, want)
				}
				probs, code, _ := pointsProblems(t, files)
				if !slices.Equal(probs[out], want) || code != exitSkipped {
					t.Errorf("%s: points --format json: exit %d, the file's problems %q, want %q (report's)", shape, code,
						probs[out], want)
				}
				for _, args := range [][]string{{"points"}, {"packets"}} {
					code, _, errs := runCLI(append(args, files...)...)
					if code != exitSkipped || !strings.Contains(errs, sanitize(want[0])) {
						t.Errorf("%s: %s: exit %d, stderr does not say report's problem %q:\n%s", shape, args[0], code, want[0], errs)
					}
				}
			}
		})
	}
	if ran < 4 {
		t.Errorf("only %d of the scenarios have router-1's two captures", ran)
	}
}

// No false alarm: points on every lab scenario, in each of three shapes (all its captures; the
// per-interface ones; the -i any ones plus the router's), gives no file the merged router's problem; nor on tcp-retransmission with node-a's eth0 capture written
// twice, the second copy an hour earlier (its time goes back, so it is read again and searched:
// packets twice, never with the TTL one lower), nor on mtu-blackhole with router-1's eth1 frames moved
// onto its eth0 MAC and appended to eth0's (a one-armed router: the TTL one lower, through one MAC).
func TestPointsMergedRouterNot(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(lab, "*"))
	var sets [][]string
	for _, dir := range dirs {
		all, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
		var perIface, anyRouters []string
		for _, p := range all {
			base := filepath.Base(p)
			switch {
			case strings.HasSuffix(base, "-any.pcap"):
				anyRouters = append(anyRouters, p)
			case strings.HasSuffix(base, ".pcap"):
				perIface = append(perIface, p)
				if strings.HasPrefix(base, "router-") {
					anyRouters = append(anyRouters, p)
				}
			}
		}
		for _, set := range [][]string{all, perIface, anyRouters} {
			if len(set) > 0 {
				sets = append(sets, set)
			}
		}
	}
	if len(sets) < 90 {
		t.Fatalf("only %d sets of lab captures", len(sets))
	}

	node := testtool.ReadPcap(t, filepath.Join(lab, "tcp-retransmission", "node-a-eth0.pcap"))
	again := testtool.Padded(node, 4200)
	for i := range again.Ts {
		again.Ts[i] -= 3600e9
	}
	twice := filepath.Join(t.TempDir(), "node-a-eth0.pcap")
	testtool.WritePcap(t, twice, node, again)
	sets = append(sets, append(labInputs(t, "tcp-retransmission", "node-a-eth0.pcap"), twice))

	eth0 := testtool.ReadPcap(t, filepath.Join(lab, "mtu-blackhole", "router-1-eth0.pcap"))
	eth1 := testtool.ReadPcap(t, filepath.Join(lab, "mtu-blackhole", "router-1-eth1.pcap"))
	r0, r1 := eth0MACs(t, eth0, eth1)
	for _, f := range eth1.Data {
		for _, at := range []int{0, 6} {
			if string(f[at:at+6]) == string(r1) {
				copy(f[at:], r0)
			}
		}
	}
	one := filepath.Join(t.TempDir(), "router-1-eth0.pcap")
	testtool.WritePcap(t, one, testtool.Padded(eth0, 4200), eth1)
	sets = append(sets, append(labInputs(t, "mtu-blackhole", "router-1-eth0.pcap", "router-1-eth1.pcap"), one))

	for _, files := range sets {
		probs, _, _ := pointsProblems(t, files)
		for f, p := range probs {
			if strings.Contains(strings.Join(p, "\n"), "one router apart") ||
				strings.Contains(strings.Join(p, "\n"), mergedRouterSaid) {
				t.Errorf("%s: %q", f, p)
			}
		}
	}
}

// eth0MACs returns router-1's MACs at its eth0 and eth1: of a packet in both captures, the destination
// of the copy with the higher TTL and the source of the other.
func eth0MACs(t *testing.T, eth0, eth1 testtool.Frames) (r0, r1 []byte) {
	t.Helper()
	key := func(f []byte) string {
		if len(f) < 54 || f[12] != 8 || f[13] != 0 {
			return ""
		}
		return string(f[18:20]) + string(f[23:24]) + string(f[26:54])
	}
	at0 := map[string][]byte{}
	for _, f := range eth0.Data {
		at0[key(f)] = f
	}
	for _, f1 := range eth1.Data {
		switch f0 := at0[key(f1)]; {
		case key(f1) == "" || f0 == nil:
		case f0[22] == f1[22]+1:
			return slices.Clone(f0[0:6]), slices.Clone(f1[6:12])
		case f1[22] == f0[22]+1:
			return slices.Clone(f0[6:12]), slices.Clone(f1[0:6])
		}
	}
	t.Fatal("no packet forwarded between router-1's captures")
	return nil, nil
}
