package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// cutLab copies lab scenario sc's per-interface captures (nanosecond pcap files, not the -i any
// ones) into a temporary directory, each begun at time cut (ns since the epoch): the records before it
// left out, as a capture started then would hold.
func cutLab(t *testing.T, sc string, cut int64) []string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", sc, "*.pcap"))
	dir := t.TempDir()
	var out []string
	for _, p := range all {
		if strings.HasSuffix(p, "-any.pcap") {
			continue
		}
		out = append(out, testtool.CutPcap(t, p, dir, cut))
	}
	if len(out) == 0 {
		t.Fatalf("no captures of %s", sc)
	}
	return out
}

// TestTCPOpenerNotShownTables: tcp-retransmission's captures cut to begin after the HTTP connection's
// handshake (no SYN, no SYN-ACK anywhere): the Markdown and HTML tables mark its client "(opener not
// known)" and say below the table that no capture shows its SYN or SYN-ACK; the whole captures show
// the handshake and mark nothing. The text table is left as it was. JSON's opener_unknown says it of
// the cut flow too (before, it marked NAT flows only).
func TestTCPOpenerNotShownTables(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cut    int64
		marked bool
	}{{"whole", 0, false}, {"after the handshake", 1795626059_456300000, true}} {
		res := correlate.Correlate(decode.Load(cutLab(t, "tcp-retransmission", tc.cut), decode.Options{}, decode.PointConfig{}), correlate.Options{})
		var tcp *correlate.Flow
		for i := range res.Flows {
			if f := &res.Flows[i]; f.Proto == "tcp" {
				tcp = f
			}
		}
		if tcp == nil {
			t.Fatalf("%s: no TCP flow", tc.name)
		}
		md, html, txt := string(render(t, res, Markdown)), string(render(t, res, HTML)), string(render(t, res, Text))
		for _, out := range []struct{ format, s string }{{"markdown", md}, {"html", html}} {
			cell := strings.Contains(out.s, tcp.Src.String()+" (opener not known)")
			note := strings.Contains(out.s, tcp.ID+": which side opened the connection is not known: no capture shows its SYN or SYN-ACK")
			if cell != tc.marked || note != tc.marked {
				t.Errorf("%s %s: TCP flow %s %s → %s: client cell marked %v, note %v; want %v", tc.name, out.format, tcp.ID,
					tcp.Src, tcp.Dst, cell, note, tc.marked)
			}
		}
		if strings.Contains(txt, "opener not known") || strings.Contains(txt, "first seen from") {
			t.Errorf("%s: the text report marks a flow without NAT", tc.name)
		}
		// JSON: the flow's opener_unknown says that its src and dst are its first packet's ends.
		var doc struct {
			Flows []struct {
				ID            string `json:"id"`
				OpenerUnknown string `json:"opener_unknown"`
			} `json:"flows"`
		}
		if err := json.Unmarshal(render(t, res, JSON), &doc); err != nil {
			t.Fatal(err)
		}
		for _, f := range doc.Flows {
			if f.ID != tcp.ID {
				continue
			}
			if marked := strings.HasPrefix(f.OpenerUnknown, "which side opened the connection is not known: no capture shows its SYN or SYN-ACK"); marked != tc.marked {
				t.Errorf("%s json: TCP flow %s opener_unknown %q; want it marked %v", tc.name, f.ID, f.OpenerUnknown, tc.marked)
			}
		}
	}
}
