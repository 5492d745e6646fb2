package report

import (
	"strings"
	"testing"
)

// TestOpenerNotShownTables: the Markdown and HTML flow tables, which head a flow's ends "Client" and
// "Server", mark the client of a UDP flow without NAT whose opening no capture could have shown
// (correlate.Result.OpenerNotShown) "(opener not known)" and say why below the table, as they do for a
// NAT flow whose opener is not known; a flow whose opening was captured is not marked. gen-lossy-ipip-skew's
// traffic begins with its captures (its UDP flows are marked: before, their first sender was headed
// "Client" as surely as a SYN's); healthy-ipip's UDP comes well after its captures began (not marked).
// The text table, whose CONVERSATION column claims no client, is left as it was.
func TestOpenerNotShownTables(t *testing.T) {
	for _, tc := range []struct {
		name   string
		marked bool
	}{{"gen-lossy-ipip-skew", true}, {"healthy-ipip", false}} {
		res := scenario(t, tc.name)
		n := 0
		for i := range res.Flows {
			f := &res.Flows[i]
			if f.Proto != "udp" || len(f.NAT) != 0 {
				continue
			}
			n++
			if got := res.OpenerNotShown(f.ID) != ""; got != tc.marked {
				t.Errorf("%s: flow %s %s → %s: opener not shown %v, want %v", tc.name, f.ID, f.Src, f.Dst, got, tc.marked)
			}
		}
		if n == 0 {
			t.Fatalf("%s: no UDP flow without NAT", tc.name)
		}
		md, html, txt := string(render(t, res, Markdown)), string(render(t, res, HTML)), string(render(t, res, Text))
		for _, out := range []struct{ format, s string }{{"markdown", md}, {"html", html}} {
			has := strings.Contains(out.s, "(opener not known)") &&
				(strings.Contains(out.s, "Its ends are listed in that packet&#39;s direction (first seen from, to)") ||
					strings.Contains(out.s, "Its ends are listed in that packet's direction (first seen from, to)"))
			if has != tc.marked {
				t.Errorf("%s %s: opener marks %v, want %v", tc.name, out.format, has, tc.marked)
			}
		}
		if strings.Contains(txt, "opener not known") || strings.Contains(txt, "first seen from") {
			t.Errorf("%s: the text report marks a flow without NAT", tc.name)
		}
	}
}
