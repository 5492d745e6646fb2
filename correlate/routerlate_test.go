package correlate

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// routerMACs returns router-1's MACs at its eth0 and eth1 (captures eth0, eth1): of a packet in both
// (as forwarded keys them), the destination of the copy with the higher outer TTL and the source of the
// other, the router's MACs in and out.
func routerMACs(t *testing.T, eth0, eth1 [][]byte) (r0, r1 []byte) {
	t.Helper()
	key := func(f []byte) string {
		if len(f) < 54 || f[12] != 8 || f[13] != 0 {
			return ""
		}
		return string(f[18:20]) + string(f[23:24]) + string(f[26:54])
	}
	at0 := map[string][]byte{}
	for _, f := range eth0 {
		at0[key(f)] = f
	}
	for _, f1 := range eth1 {
		f0 := at0[key(f1)]
		switch {
		case key(f1) == "" || f0 == nil:
		case f0[22] == f1[22]+1:
			return f0[0:6], f1[6:12]
		case f1[22] == f0[22]+1:
			return f0[6:12], f1[0:6]
		}
	}
	t.Fatal("no packet forwarded between the router's captures")
	return nil, nil
}

// writeAppended writes parts one after the other, each in its own time order, as `mergecap -a`
// concatenates captures.
func writeAppended(t *testing.T, out string, parts ...timedFrames) {
	t.Helper()
	all := testtool.Appended(parts...)
	writePcap(t, out, all.Ts, all.Data)
}

// routerLateLab returns the lab captures of dir without router-1's two and its -any ones, and router-1's
// eth0 and eth1 captures.
func routerLateLab(t *testing.T, dir string) (others []string, eth0, eth1 timedFrames) {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	for _, p := range all {
		switch base := filepath.Base(p); {
		case strings.HasSuffix(base, "-any.pcap"):
		case base == "router-1-eth0.pcap":
			eth0 = testtool.ReadPcap(t, p)
		case base == "router-1-eth1.pcap":
			eth1 = testtool.ReadPcap(t, p)
		default:
			others = append(others, p)
		}
	}
	return others, eth0, eth1
}

// routedSaid checks that file fi of c and the summary of its correlation say (want) or do not say that
// it holds a router's interfaces merged.
func routedSaid(t *testing.T, c *decode.Capture, fi *decode.FileInfo, want bool, problem ...string) {
	t.Helper()
	p := strings.Join(fi.Problems, "\n")
	said := strings.Contains(p, "give each of the router's interfaces as its own file")
	for _, w := range problem {
		said = said && strings.Contains(p, w)
	}
	if said != want || fi.Routed != want {
		t.Errorf("%s (want it said: %v): routed %v, problems %q", filepath.Base(fi.Path), want, fi.Routed, fi.Problems)
	}
	r := Correlate(c, Options{})
	if said := strings.Contains(r.Summary.Unreliable, filepath.Base(fi.Path)+" holds packets twice, one router apart"); said != want {
		t.Errorf("summary's unreliable (want it said: %v): %q; summary %+v", want, r.Summary.Unreliable, r.Summary)
	}
}

// Router-1's two captures of each lab scenario where it forwarded 4 packets or more between them
// (forwarded), concatenated as `mergecap -a router-1-eth0.pcap router-1-eth1.pcap` writes them: eth0's
// records, then eth1's. The lab's router captures hold 5 to 86 records, so eth0's part is padded to
// 4,200 records with its own real frames repeated, each repetition earlier by the capture's span
// plus a second (the real ones last, next to eth1's in time): the probe's 4,096 records are then one
// interface's answered traffic, and it took the file for one interface's. Each packet the router
// forwarded is in the file twice, microseconds apart in time but thousands of records apart; on main
// nothing said so, and the verdicts were read off one point where a drop inside the router reads
// as one after it (mtu-blackhole: "ERROR pmtu-blackhole at router-1/eth0 → node-a/eth0 (6)", per
// file router-1/eth1 → router-1/eth0). Now the file's problems say it holds a router's interfaces
// merged, found past the probe, and the summary's unreliable names it, as when the probe finds it.
// The same in the other order (eth1's records padded, then eth0's).
func TestMergedRouterAppended(t *testing.T) {
	forRouterScenarios(t, func(t *testing.T, dir string) {
		others, eth0, eth1 := routerLateLab(t, dir)
		for _, order := range [][2]timedFrames{{testtool.Padded(eth0, 4200), eth1}, {testtool.Padded(eth1, 4200), eth0}} {
			out := filepath.Join(t.TempDir(), "router-1-eth0.pcap")
			writeAppended(t, out, order[0], order[1])
			c := decode.Load(append(append([]string(nil), others...), out), decode.Options{}, decode.PointConfig{})
			routedSaid(t, c, c.Files[len(c.Files)-1], true, "a router's interfaces merged into one file")
		}
	})
}

// False alarms. A one-armed router: mtu-blackhole's router-1 captures with eth1's frames moved onto
// eth0 (router-1's eth1 MAC rewritten to its eth0 one), appended as in TestMergedRouterAppended: each
// forwarded packet is there twice, the second time with the TTL one lower, but in and out through the
// one MAC: one interface, not a merged file. And tcp-retransmission's node-a eth0 capture (real
// retransmissions) written twice, the second copy earlier in time (the file's time goes back, as
// mergecap -a gives): packets twice, but never with the TTL one lower. Neither is called routed.
func TestMergedRouterAppendedNot(t *testing.T) {
	dir := "../testdata/lab/scenarios/mtu-blackhole"
	others, eth0, eth1 := routerLateLab(t, dir)
	r0, r1 := routerMACs(t, eth0.Data, eth1.Data)
	var one timedFrames
	for i, f := range eth1.Data {
		g := append([]byte(nil), f...)
		for _, at := range []int{0, 6} {
			if bytes.Equal(g[at:at+6], r1) {
				copy(g[at:], r0)
			}
		}
		one.Ts, one.Data = append(one.Ts, eth1.Ts[i]), append(one.Data, g)
	}
	out := filepath.Join(t.TempDir(), "router-1-eth0.pcap")
	writeAppended(t, out, testtool.Padded(eth0, 4200), one)
	c := decode.Load(append(others, out), decode.Options{}, decode.PointConfig{})
	routedSaid(t, c, c.Files[len(c.Files)-1], false)

	src := "../testdata/lab/scenarios/tcp-retransmission/"
	node := testtool.ReadPcap(t, src+"node-a-eth0.pcap")
	again := testtool.Padded(node, 4200)
	for i := range again.Ts {
		again.Ts[i] -= 3600e9
	}
	files, _ := filepath.Glob(src + "*.pcap")
	var in []string
	for _, f := range files {
		if !strings.HasSuffix(f, "-any.pcap") && !strings.HasSuffix(f, "node-a-eth0.pcap") {
			in = append(in, f)
		}
	}
	out = filepath.Join(t.TempDir(), "node-a-eth0.pcap")
	writeAppended(t, out, node, again)
	c = decode.Load(append(in, out), decode.Options{}, decode.PointConfig{})
	routedSaid(t, c, c.Files[len(c.Files)-1], false)
}

// Router-1's two captures of each lab scenario where it forwarded 4 packets or more, merged in time
// order (mergecap -w) after a long stretch where eth1 was quiet: eth0's real frames repeated over
// 4,200 records before them, each repetition earlier by the capture's span plus a second. The file
// is in time order, and the probe's 4,096 records are all eth0's, none forwarded: on main it was read
// as one interface with nothing said (routed false, no unreliable). It is a router's file (router-1
// has no pod-veth or tunnel point), so it is searched past the probe too, and the packets forwarded
// between the two interfaces make it Routed, as the probe would have.
func TestMergedRouterQuiet(t *testing.T) {
	forRouterScenarios(t, func(t *testing.T, dir string) {
		others, eth0, eth1 := routerLateLab(t, dir)
		run := testtool.Padded(eth0, 4200+len(eth0.Ts))
		run.Ts, run.Data = run.Ts[:len(run.Ts)-len(eth0.Ts)], run.Data[:len(run.Data)-len(eth0.Ts)]
		out := filepath.Join(t.TempDir(), "router-1-eth0.pcap")
		writeTimeMerged(t, out, []timedFrames{run, eth0, eth1})
		c := decode.Load(append(others, out), decode.Options{}, decode.PointConfig{})
		routedSaid(t, c, c.Files[len(c.Files)-1], true, "a router's interfaces merged into one file")
	})
}

// forRouterScenarios runs test on each lab scenario where router-1 forwarded 4 packets or more between
// its two captures, as a subtest by the scenario's name, and fails when there are fewer than 15 such
// scenarios (the lab has them all).
func forRouterScenarios(t *testing.T, test func(t *testing.T, dir string)) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	ran := 0
	for _, dir := range dirs {
		if !routerPair(dir) || forwarded(t, dir) < 4 {
			continue
		}
		ran++
		t.Run(filepath.Base(dir), func(t *testing.T) { test(t, dir) })
	}
	if ran < 15 {
		t.Errorf("only %d lab scenarios where router-1 forwarded 4 packets or more", ran)
	}
}
