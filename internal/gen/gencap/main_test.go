package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/internal/gen"
)

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		files []string // expected besides the captures
		caps  string   // suffix of capture files
	}{
		{"json", []string{"-packets", "600", "-flows", "5", "-offset", "node-2=5s", "-drift", "node-2=100",
			"-step", "node-2=20ms:-3ms"}, []string{"truth.json"}, ".pcap"},
		{"jsonl-pcapng-gzip", []string{"-packets", "600", "-truth", "jsonl", "-format", "pcapng", "-gzip", "-mode", "vxlan"},
			[]string{"truth.jsonl", "truth-meta.json"}, ".pcapng.gz"},
		{"none-bgp", []string{"-packets", "600", "-no-truth", "-mode", "bgp", "--ns"}, nil, ".pcap"},
		{"identical", []string{"-packets", "600", "-flows", "3", "--identical", "1"}, []string{"truth.json"}, ".pcap"},
		{"many-flows", []string{"-packets", "600", "-flows", "150", "--mix", "many-flows"}, []string{"truth.json"}, ".pcap"},
		{"arp-heavy", []string{"-packets", "600", "-flows", "3", "--mix", "arp-heavy", "--arp-rate", "200000"}, []string{"truth.json"}, ".pcap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			if err := run(append([]string{"-out", dir}, tc.args...), &out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "600 packets") || !strings.Contains(out.String(), "frames/s") {
				t.Errorf("summary %q", out.String())
			}
			ents, _ := os.ReadDir(dir)
			var caps, other []string
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), tc.caps) {
					caps = append(caps, e.Name())
				} else {
					other = append(other, e.Name())
				}
			}
			want := 6
			if strings.Contains(tc.name, "bgp") {
				want = 4
			}
			wantOther := append([]string(nil), tc.files...)
			sort.Strings(wantOther)
			if len(caps) != want || strings.Join(other, ",") != strings.Join(wantOther, ",") {
				t.Errorf("captures %v, others %v", caps, other)
			}
			for _, f := range tc.files {
				if !strings.HasSuffix(f, ".json") {
					continue
				}
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				var tr gen.Truth
				if err := json.Unmarshal(b, &tr); err != nil || len(tr.Files) != want {
					t.Fatalf("%s: %v, %d files", f, err, len(tr.Files))
				}
				if tc.name == "json" && (tr.Nodes[1].Offset != 5e9 || tr.Nodes[1].DriftPPM != 100 || len(tr.Packets) != 600 ||
					tr.Nodes[1].Step == nil || *tr.Nodes[1].Step != gen.ClockStep{At: 20e6, Size: -3e6} || tr.Nodes[0].Step != nil) {
					t.Errorf("truth nodes %+v, %d packets", tr.Nodes, len(tr.Packets))
				}
				if tc.name == "many-flows" && (len(tr.Flows) != 150 || tr.Flows[0].Server != "pod-1-1" && tr.Flows[0].Server != "pod-2-1") {
					t.Errorf("many-flows: %d flows, first %+v", len(tr.Flows), tr.Flows[0])
				}
				if tc.name == "arp-heavy" && len(tr.ARP) < 600 {
					t.Errorf("arp-heavy: %d ARP exchanges for 600 packets at twice their rate", len(tr.ARP))
				}
				if tc.name == "identical" && (tr.Flows[0].Proto != 17 || !tr.Flows[0].IPID0DF) {
					t.Errorf("identical flow %+v", tr.Flows[0])
				}
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-out", "x", "-mode", "geneve"},
		{"-out", "x", "-format", "erf"},
		{"-out", "x", "-offset", "node-2"},
		{"-out", "x", "-drift", "node-2=fast"},
		{"-out", "x", "-step", "node-2=4ms"},
		{"-out", "x", "-step", "node-2=1s:fast"},
		{"-out", "x", "-truth", "xml"},
		{"-out", "x", "-nodes", "1"},
		{"-out", "x", "-flows", "2", "-identical", "3"},
		{"-out", "x", "-mix", "dns"},
		{"-out", "x", "-arp-rate", "-1"},
		{"-out", "x", "-mix", "many-flows", "-flows", "100", "-packets", "100"},
	} {
		if err := run(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
