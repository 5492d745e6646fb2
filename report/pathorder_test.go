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

// router-three-ifaces-drop's node files, router-1's eth2 and ext-1's eth0 without ext-1's echo
// replies: router-1 and ext-1 are each bounded from node-a only and no packets crossed the two back,
// so nothing orders router-1/eth2 and ext-1/eth0 (correlate's TestOpenOrder, no-replies). The segment
// between them said so in its clock note, but the path was drawn in the captures' order as if it were
// known: now the flow's path_unordered marks the pair (JSON, as encoding/json writes it), the text
// and markdown diagrams draw the step between them with ? and say why, and the HTML ladder says it
// under its heading.
func TestPathUnorderedDrawn(t *testing.T) {
	in := testtool.LabWithout(t, filepath.Join(labDir, "router-three-ifaces-drop"), []string{"node-a-cali5e1c4d6c68c.pcap",
		"node-a-eth0.pcap", "node-b-cali2f5353dd8c5.pcap", "node-b-eth0.pcap", "router-1-eth2.pcap", "ext-1-eth0.pcap"},
		func(f []byte) bool { return testtool.EchoReplyFrom(f, [4]byte{203, 0, 113, 10}) })
	res := correlate.Correlate(decode.Load(in, decode.Options{}, decode.PointConfig{}), correlate.Options{})
	var marked *correlate.Flow
	for i := range res.Flows {
		if len(res.Flows[i].PathUnordered) > 0 {
			marked = &res.Flows[i]
		}
	}
	if marked == nil {
		t.Fatal("no flow's path marks router-1/eth2 and ext-1/eth0 unordered")
	}
	i := marked.PathUnordered[0]
	if pair := marked.Path[i] + " " + marked.Path[i+1]; pair != "router-1/eth2 ext-1/eth0" && pair != "ext-1/eth0 router-1/eth2" {
		t.Errorf("%s: path %q marks %s unordered", marked.ID, marked.Path, pair)
	}
	var got struct {
		Flows []json.RawMessage `json:"flows"`
	}
	if err := json.Unmarshal(render(t, res, JSON), &got); err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(marked)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range got.Flows {
		var a, b any
		if json.Unmarshal(f, &a) != nil || json.Unmarshal(want, &b) != nil {
			t.Fatal("flows do not decode")
		}
		if m, ok := a.(map[string]any); ok && m["id"] == marked.ID {
			found = true
			if fj, _ := json.Marshal(a); string(fj) != string(mustJSON(t, b)) {
				t.Errorf("JSON report's %s:\n%s\nwant (encoding/json):\n%s", marked.ID, fj, mustJSON(t, b))
			}
		}
	}
	if !found {
		t.Errorf("JSON report has no %s", marked.ID)
	}
	for _, f := range []Format{Text, Markdown} {
		out := string(render(t, res, f))
		if !strings.Contains(out, "?    ? which of these two the packets crossed first is not known") {
			t.Errorf("%v: the diagram does not mark the step between router-1/eth2 and ext-1/eth0:\n%s", f, out)
		}
	}
	if out := string(render(t, res, HTML)); !strings.Contains(out, "Order of router-1/eth2 and ext-1/eth0 not known") &&
		!strings.Contains(out, "Order of ext-1/eth0 and router-1/eth2 not known") {
		t.Error("the HTML ladder does not say the order of router-1/eth2 and ext-1/eth0 is not known")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
