package tui

import (
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
)

// evil holds terminal escape sequences a hostile capture could carry in interface names, comments,
// file names or payloads: an OSC title change, a screen clear, a C1 CSI, a bell and bidirectional
// overrides.
const evil = "x\x1b]0;pwned\x07\x1b[2J\u009b31m\x1bPq\u202e\u2067"

// TestEscapeInjection puts escape sequences into every string of a Result that comes from a capture
// and checks that no escape byte reaches any screen (the colour profile is pinned to ASCII, so the
// TUI itself emits none either).
func TestEscapeInjection(t *testing.T) {
	res := *labRes
	res.Points = append([]correlate.Point(nil), res.Points...)
	for i := range res.Points {
		res.Points[i].Iface += evil
		res.Points[i].Node += evil
		res.Points[i].Reason += evil
	}
	res.Inputs = append([]correlate.Input(nil), res.Inputs...)
	for i := range res.Inputs {
		res.Inputs[i].File += evil
		res.Inputs[i].Errors = append(res.Inputs[i].Errors, "bad comment "+evil)
		res.Inputs[i].Skipped++
	}
	res.Anomalies = append([]correlate.Anomaly(nil), res.Anomalies...)
	for i := range res.Anomalies {
		res.Anomalies[i].Message += evil
		res.Anomalies[i].Where.Point += evil
		res.Anomalies[i].Kind += evil
	}
	res.Clocks = append([]correlate.Clock(nil), res.Clocks...)
	for i := range res.Clocks {
		res.Clocks[i].Node += evil
	}
	res.ARP = append([]correlate.ARPPoint(nil), res.ARP...)
	for i := range res.ARP {
		res.ARP[i].Point += evil
		ex := append([]correlate.ARPExch(nil), res.ARP[i].Exchanges...)
		for k := range ex {
			ex[k].Evidence.File += evil
			ex[k].Verdict += evil
		}
		res.ARP[i].Exchanges = ex
	}
	res.Mode += evil
	km := DefaultKeyMap()
	m := newTest(t, &res, 120, 40)
	check := func(where string) {
		t.Helper()
		v := m.View()
		if i := strings.IndexAny(v, "\x1b\x07\u009b\u202e\u2067"); i >= 0 {
			t.Fatalf("%s: escape or control byte in the view at %d: %q", where, i, v[max(0, i-20):min(len(v), i+20)])
		}
	}
	check("overview")
	for _, b := range []struct {
		name string
		keys []string
	}{{"flows", km.Flows.Keys()}, {"timeline", km.Timeline.Keys()}, {"arp", km.ARP.Keys()},
		{"anomalies", km.Anomalies.Keys()}} {
		m = press(m, km.Overview)
		switch b.name {
		case "flows":
			m = press(m, km.Flows)
		case "timeline":
			m = press(m, km.Timeline)
		case "arp":
			m = press(m, km.ARP)
		case "anomalies":
			m = press(m, km.Anomalies)
		}
		check(b.name)
	}
	// A filter error echoes the typed text.
	m = press(m, km.Filter)
	m = typeText(m, "point "+evil)
	m = send(m, keyMsgOf(km.Enter))
	check("filter")
}

func TestHexViewHidesControlBytes(t *testing.T) {
	data := []byte("GET /\x1b]0;pwned\x07\x1b[2J\x9b31m HTTP/1.1\r\n")
	for _, per := range []int{8, 16} {
		for _, l := range hexLines(data, per, 0) {
			for _, c := range []byte{0x1b, 0x07, '\r', '\n', 0x9b} { // bytes, not runes: 0x9b is C1 CSI
				if strings.IndexByte(l, c) >= 0 {
					t.Fatalf("control byte %#x in hex line %q", c, l)
				}
			}
		}
	}
	got := hexLines([]byte("ab\x1bc"), 16, 0)[0]
	if !strings.HasSuffix(got, "|ab.c|") || !strings.HasPrefix(got, "0000  61 62 1b 63 ") {
		t.Fatalf("hex line %q", got)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"eth0":             "eth0",
		"a\x1b[31mb":       `a\x1b[31mb`,
		"\u009b2J":         `\u009b2J`,
		"bad\xffutf8":      `bad\xffutf8`,
		"tab\there":        `tab\x09here`,
		"caf\u00e9 \u2192": "caf\u00e9 \u2192",
		"gnp\u202eexe":     `gnp\u202eexe`,
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
