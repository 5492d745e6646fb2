package correlate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// wgLossTruth is the part of a WireGuard scenario's truth.json this test checks: the messages each
// session lost per segment, and the anomalies expected.
type wgLossTruth struct {
	WireGuard struct {
		Sessions []struct {
			From, To string
			Lost     []struct {
				Segment string `json:"segment"`
				Packets int    `json:"packets"`
			} `json:"lost"`
		} `json:"sessions"`
	} `json:"wireguard"`
	Expected []struct {
		Kind  string `json:"kind"`
		Where string `json:"where"`
	} `json:"expected_anomalies"`
}

// wireguard-underlay-loss without node-b's WireGuard device and pod veth: the messages node-b sent
// that router-1 dropped carried packets only node-b's captures could show, so nothing ties them and
// they stay in the flow of the nodes' UDP datagrams, which then lost 4 of its 6 packets. The losses
// are scattered (4 of 40 messages): the kind must be the truth's (loss, a warning), not a drop of a
// whole flow (an ERROR underlay-drop), and the text must say what cannot be told and what to capture.
func TestWGCarrierLossScattered(t *testing.T) {
	dir := "../testdata/lab/scenarios/wireguard-underlay-loss"
	var tr wgLossTruth
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	var files []string
	for _, f := range all {
		b := filepath.Base(f)
		if !strings.Contains(b, "-any") && !strings.HasPrefix(b, "node-b-cali") && !strings.HasPrefix(b, "node-b-wireguard") {
			files = append(files, f)
		}
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	kind := map[string]string{}
	for _, e := range tr.Expected {
		kind[e.Where] = e.Kind
	}
	checked := 0
	for _, s := range tr.WireGuard.Sessions {
		for _, l := range s.Lost {
			checked++
			from, to, _ := strings.Cut(l.Segment, "→")
			var got []string
			for _, an := range r.Anomalies {
				if an.Where.From != from || an.Where.To != to {
					continue
				}
				got = append(got, an.Severity+" "+an.Kind)
				if an.Kind != kind[l.Segment] || an.Count != l.Packets || an.Severity == "error" {
					t.Errorf("%s (%s's messages): %s %s count %d, want %s count %d", l.Segment, s.From, an.Severity, an.Kind, an.Count,
						kind[l.Segment], l.Packets)
				}
				if s.From == "node-b" && !(strings.Contains(an.Message, "wireguard.cali, and its pod veths were not captured") &&
					strings.Contains(an.Message, "first seen at node-b/eth0")) {
					t.Errorf("%s: the message does not say the sender's device and pod veths were not captured: %s", l.Segment, an.Message)
				}
			}
			if len(got) != 1 {
				t.Errorf("%s: anomalies %v, want one", l.Segment, got)
			}
		}
	}
	if checked != 2 {
		t.Fatalf("truth lists %d lossy segments, want the 2 of wireguard-underlay-loss", checked)
	}
}

// wireguard-mtu-blackhole without node-b's eth0 and WireGuard device: the messages router-1 lost
// are the large ones (an MTU on the way; the truth's anomaly there is a pmtu-blackhole), and nothing
// ties them either. Losses that only the largest messages suffered are not scattered loss: the
// segment's anomaly must stay an error, whatever share of the messages crossed.
func TestWGCarrierSizeSelectedStaysDrop(t *testing.T) {
	dir := "../testdata/lab/scenarios/wireguard-mtu-blackhole"
	var tr wgLossTruth
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	where := ""
	for _, e := range tr.Expected {
		if e.Kind == "pmtu-blackhole" {
			where = e.Where
		}
	}
	from, to, ok := strings.Cut(where, "→")
	if !ok {
		t.Fatalf("truth: no pmtu-blackhole segment in %v", tr.Expected)
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	var files []string
	for _, f := range all {
		b := filepath.Base(f)
		if !strings.Contains(b, "-any") && b != "node-b-eth0.pcap" && !strings.HasPrefix(b, "node-b-wireguard") {
			files = append(files, f)
		}
	}
	r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
	found := false
	for _, an := range r.Anomalies {
		if an.Where.From == from && an.Where.To == to {
			found = true
			if an.Severity != "error" {
				t.Errorf("%s: %s %s (%d), want an error: %s", where, an.Severity, an.Kind, an.Count, an.Message)
			}
		}
	}
	if !found {
		t.Errorf("%s: no anomaly", where)
	}
}
