package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// Journeys rendered on demand (the Result lists none) carry the captures' names as they were: the
// view sanitises them as it does the rest, so that a ladder's file names hold no raw control
// character or bidirectional override.
func TestOnDemandJourneysSanitised(t *testing.T) {
	root := t.TempDir()
	bad := "caps\x1b]0;x\x07\u202e"
	dir := filepath.Join(root, bad)
	c := gen.DefaultConfig()
	c.Seed, c.Packets, c.Flows, c.Dir = 1, 60, 2, dir
	c.LossPerHop = 0.05
	if _, err := gen.Generate(c); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".pcap") {
			files = append(files, filepath.Join(bad, e.Name()))
		}
	}
	sort.Strings(files)
	t.Chdir(root)
	res := correlate.Correlate(decode.Load(files, decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{}),
		correlate.Options{})
	if res.Journeys != nil || len(res.Flows) == 0 || len(res.FlowJourneys(res.Flows[0].ID)) == 0 {
		t.Fatal("the test needs a Result that renders its journeys on demand")
	}
	out := render(t, res, HTML)
	if !bytes.Contains(out, []byte("<h2>Ladder diagrams")) {
		t.Fatal("no ladder drawn")
	}
	for _, r := range []rune{0x1b, 0x07, 0x202e} {
		if bytes.ContainsRune(out, r) {
			t.Errorf("HTML report holds %U raw", r)
		}
	}
	if !bytes.Contains(out, []byte(`caps\x1b]0;x\x07\u202e/`)) {
		t.Error("the ladder does not show the directory's name escaped")
	}
}

// Every list a format cuts says how many it left out, and the limits are the format's.
func TestViewLimits(t *testing.T) {
	res := small()
	a := &res.Anomalies[1]
	for i := 0; i < 30; i++ {
		a.Flows = append(a.Flows, fmt.Sprintf("x%d", i))
		a.Evidence = append(a.Evidence, correlate.Evidence{File: "a-eth0.pcap", Frame: uint32(100 + i)})
	}
	for i := 0; i < 60; i++ {
		res.ICMP = append(res.ICMP, correlate.ICMPError{Point: "a/eth0", Type: 3, Code: 4, MTU: 1400, Src: "10.0.0.1", Dst: "10.0.0.2"})
	}
	for _, c := range []struct {
		f    Format
		want []string
	}{
		{Text, []string{"x10 +19 more", "and 24 more", "… 40 more"}},
		{Markdown, []string{"x18 and 11 more", "`a-eth0.pcap:107`, and 22 more", "| 10 more |"}},
	} {
		out := string(render(t, res, c.f))
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s report lacks %q", c.f, w)
			}
		}
	}
	v := newView(res, Options{Format: Text, MaxFlows: 1})
	if len(v.flows) != 1 || v.nFlows != 2 || len(v.anomalies[0].flows) != 12 || v.anomalies[0].moreFlows != 19 ||
		len(v.icmp) != 20 || v.moreICMP != 40 {
		t.Errorf("text view: %d of %d flows, %d+%d anomaly flows, %d+%d ICMP", len(v.flows), v.nFlows,
			len(v.anomalies[0].flows), v.anomalies[0].moreFlows, len(v.icmp), v.moreICMP)
	}
}
