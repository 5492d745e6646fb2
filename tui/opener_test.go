package tui

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/internal/testtool"
)

// TestNATMidstreamOpenerMarked: nat-midstream's captures all begin in the middle of its two NAT
// conversations, so which side opened them is not known (correlate.Flow.OpenerUnknown): the flow
// list's post-NAT cell is marked "?" and the flow's timeline says why; the ping's flow is not marked.
// Without the marks the list showed ext-1 as the client of pod-a's masqueraded conversation.
func TestNATMidstreamOpenerMarked(t *testing.T) {
	files := labFiles(t, "../testdata/lab/scenarios/nat-midstream")
	if len(files) == 0 {
		t.Fatal("no nat-midstream captures")
	}
	res := correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{})
	m := newTest(t, res, 160, 48)
	marked := 0
	for i := range res.Flows {
		f := &res.Flows[i]
		cell := natCell(m.c, f)
		if f.OpenerUnknown == "" || len(f.NAT) == 0 { // without NAT: its client cell is marked (clientCell)
			if strings.HasPrefix(cell, "?") {
				t.Errorf("%s %s → %s: post-NAT %q marked, but its opener is known", f.ID, f.Src, f.Dst, cell)
			}
			continue
		}
		marked++
		if !strings.HasPrefix(cell, "? ") {
			t.Errorf("%s %s → %s: post-NAT %q, want it marked ? (opener not known)", f.ID, f.Src, f.Dst, cell)
		}
		var tl timeline
		tl.open(m.c, f.ID, nil)
		if !strings.Contains(strings.Join(tl.orderNotes, "\n"), "Opener not known: which side opened the conversation") {
			t.Errorf("%s: the timeline's notes do not say its opener is not known: %q", f.ID, tl.orderNotes)
		}
	}
	if marked != 2 {
		t.Errorf("%d flows marked, want 2 (pod-a's masqueraded conversation and the node port's)", marked)
	}
}

// TestOpenerNotShownMarked: a UDP flow without NAT whose opening no capture could have shown
// (correlate.Result.OpenerNotShown) has its client cell marked "?" in the flow list (its ends are its
// first packet seen's), and its timeline's notes say why; other flows are not marked. Generated
// traffic begins with its captures (its UDP flows are marked); healthy-ipip's UDP comes well after its
// captures began (not marked). Without the marks the list headed the first sender "client" as surely
// as a SYN's.
func TestOpenerNotShownMarked(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Seed, cfg.Packets, cfg.Flows = 2, 200, 5
	cfg.Dir = t.TempDir()
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		files  []string
		marked bool
	}{{"generated", g.Files, true}, {"healthy-ipip", labFiles(t, "../testdata/lab/scenarios/healthy-ipip"), false}} {
		res := correlate.Correlate(decode.Load(tc.files, decode.Options{}, decode.PointConfig{}), correlate.Options{})
		m := newTest(t, res, 160, 48)
		udp := 0
		for i := range res.Flows {
			f := &res.Flows[i]
			cell := clientCell(m.c, f)
			var tl timeline
			tl.open(m.c, f.ID, nil)
			noted := strings.Contains(strings.Join(tl.orderNotes, "\n"), "Opener not known: which side opened the conversation")
			want := tc.marked && f.Proto == "udp" && len(f.NAT) == 0
			if f.Proto == "udp" && len(f.NAT) == 0 {
				udp++
			}
			if strings.HasPrefix(cell, "? ") != want || noted != want {
				t.Errorf("%s: %s %s %s → %s: client cell %q, timeline notes it %v; want marked %v", tc.name, f.ID, f.Proto,
					f.Src, f.Dst, cell, noted, want)
			}
		}
		if udp == 0 {
			t.Fatalf("%s: no UDP flow without NAT", tc.name)
		}
	}
}

// TestTCPOpenerNotShownMarked: tcp-retransmission's captures cut to begin after the HTTP connection's
// handshake (no SYN, no SYN-ACK anywhere: correlate.Result.OpenerNotShown): the flow list marks its
// client cell "?" and its timeline says why; with the whole captures neither.
func TestTCPOpenerNotShownMarked(t *testing.T) {
	dir := "../testdata/lab/scenarios/tcp-retransmission"
	for _, tc := range []struct {
		name   string
		cut    int64
		marked bool
	}{{"whole", 0, false}, {"after the handshake", 1795626059_456300000, true}} {
		var files []string
		for _, f := range labFiles(t, dir) {
			if !strings.HasSuffix(f, ".pcapng") && !strings.HasSuffix(f, "-any.pcap") {
				files = append(files, testtool.CutPcap(t, f, t.TempDir(), tc.cut))
			}
		}
		res := correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{})
		m := newTest(t, res, 160, 48)
		n := 0
		for i := range res.Flows {
			f := &res.Flows[i]
			if f.Proto != "tcp" {
				continue
			}
			n++
			var tl timeline
			tl.open(m.c, f.ID, nil)
			noted := strings.Contains(strings.Join(tl.orderNotes, "\n"), "Opener not known: which side opened the connection is not known: no capture shows its SYN")
			if cell := clientCell(m.c, f); strings.HasPrefix(cell, "? ") != tc.marked || noted != tc.marked {
				t.Errorf("%s: %s %s → %s: client cell %q, timeline notes it %v; want marked %v", tc.name, f.ID, f.Src, f.Dst, cell, noted, tc.marked)
			}
		}
		if n != 1 {
			t.Fatalf("%s: %d TCP flows, want 1", tc.name, n)
		}
	}
}
