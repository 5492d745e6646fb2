package report

import (
	"html"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// TestLossPastUncapturedUnderlay: state-missing-route without node-b's eth0 (per interface), whose 6
// replies, last seen at node-b's cali, not at its tunl0, died past node-b's eth0 (truth), were said
// lost at node-b/cali2f5353dd8c5→node-b/tunl0 in the flows' lost column (text, Markdown, HTML) while
// the encap-drop warning said the place cannot be told. Now the flows say past the cali, not at tunl0,
// node-b's underlay not captured; a note below the segment table and the path view's step say they may
// have been lost past it; JSON names it in the journeys, the flows' lost_at and the segment.
func TestLossPastUncapturedUnderlay(t *testing.T) {
	dir := "../testdata/lab/scenarios/state-missing-route"
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	var files []string
	for _, f := range all {
		if b := filepath.Base(f); b != "node-b-eth0.pcap" && !strings.HasSuffix(b, "-any.pcap") {
			files = append(files, f)
		}
	}
	r := correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{Journeys: true})
	place := "3 past node-b/cali2f5353dd8c5 (not at node-b/tunl0; node-b underlay not captured)"
	note := "! node-b/cali2f5353dd8c5 → node-b/tunl0: the 6 lost were last seen at node-b/cali2f5353dd8c5, not at " +
		"node-b/tunl0, and node-b underlay was not captured: lost inside the node before node-b/tunl0, or past node-b " +
		"underlay after leaving the node unencapsulated (see encap-drop), which the captures cannot tell."
	for _, f := range []Format{Text, Markdown, HTML} {
		got := strings.Join(strings.Fields(html.UnescapeString(string(render(t, r, f)))), " ") // the text's lines wrapped
		for _, want := range []string{place, note, "6 lost here or past node-b underlay (not captured: see the segment table)"} {
			if !strings.Contains(got, want) {
				t.Errorf("%v: no %q", f, want)
			}
		}
		if strings.Contains(got, "3 node-b/cali2f5353dd8c5→node-b/tunl0") {
			t.Errorf("%v: the flows still place the loss on node-b/cali2f5353dd8c5→node-b/tunl0", f)
		}
	}
	js := string(render(t, r, JSON, WithJourneys(true)))
	if n := strings.Count(js, "\"lost_uncaptured\": [\n"); n != 7 { // 6 journeys, 1 segment
		t.Errorf("JSON: %d lost_uncaptured, want 7 (6 journeys, 1 segment)", n)
	}
	if n := strings.Count(js, "\"uncaptured\": [\n"); n != 2 { // f1's and f2's lost_at
		t.Errorf("JSON: %d lost_at uncaptured, want 2", n)
	}
}
