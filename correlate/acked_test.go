package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// labFiles lists a lab scenario's captures (pcap and pcapng) that keep says to keep, copied into a
// temporary directory (so that a test may change one on disk after loading it).
func labFiles(t *testing.T, scenario string, keep func(name string) bool) []string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join("../testdata/lab/scenarios", scenario, "*.pcap*"))
	dir := t.TempDir()
	var out []string
	for _, p := range all {
		if !keep(filepath.Base(p)) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		q := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(q, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	if len(out) == 0 {
		t.Fatalf("no captures kept in %s", scenario)
	}
	return out
}

// correlateAcks loads files and correlates them with the ACKs read again from them.
func correlateAcks(files []string) *Result {
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	return Correlate(c, Options{Acks: decode.AckReader(c, decode.Options{})})
}

// clock-skew without node-a's cali capture and node-a.pcapng: pod-b's FIN is not in node-a's tunl0
// capture nor in its -i any capture (both missed it; node-a.pcapng holds it), so it vanishes after
// node-a/eth0. pod-a acknowledges it (ACK = its sequence number + 1, node-a-any.pcap frame 47): it was
// not lost (truth.json: nothing is), and the tunl0 capture missed it.
func TestAckedSegmentNotLost(t *testing.T) {
	files := labFiles(t, "clock-skew", func(n string) bool {
		return strings.HasSuffix(n, ".pcap") && !strings.HasPrefix(n, "node-a-cali")
	})
	r := correlateAcks(files)
	if r.Summary.Lost != 0 {
		t.Errorf("%d lost, want none (truth.json): %+v", r.Summary.Lost, r.Summary)
	}
	for _, f := range r.Flows {
		if f.Lost != 0 {
			t.Errorf("flow %s: %d lost at %v", f.ID, f.Lost, f.LostAt)
		}
	}
	var said *Anomaly
	for i, a := range r.Anomalies {
		if a.Kind == "capture-dropped" && a.Where.Point == "node-a/tunl0" && strings.Contains(a.Message, "acknowledged") {
			said = &r.Anomalies[i]
		}
	}
	if said == nil {
		t.Fatalf("no capture-dropped at node-a/tunl0 says the segment was acknowledged: %v", r.Anomalies)
	}
	if said.Severity != sevWarning || len(said.Evidence) != 2 || said.Evidence[1].Frame != 47 ||
		filepath.Base(said.Evidence[1].File) != "node-a-any.pcap" {
		t.Errorf("anomaly: %s, evidence %v; want a warning citing the segment and the ACK (node-a-any.pcap 47)",
			said.Severity, said.Evidence)
	}
}

// The same captures, but node-a-any.pcap (where the ACK is) cut short on disk after loading, before its
// frame 47: the ACK cannot be read again, so nothing clears the segment, which stays lost.
func TestAckedUnreadable(t *testing.T) {
	files := labFiles(t, "clock-skew", func(n string) bool {
		return strings.HasSuffix(n, ".pcap") && !strings.HasPrefix(n, "node-a-cali")
	})
	c := decode.Load(files, decode.Options{}, decode.PointConfig{})
	for _, p := range files {
		if filepath.Base(p) == "node-a-any.pcap" {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := Correlate(c, Options{Acks: decode.AckReader(c, decode.Options{})})
	if r.Summary.Lost != 1 {
		t.Errorf("%d lost, want the FIN whose ACK could not be read again: %+v", r.Summary.Lost, r.Summary)
	}
}

// A segment truly lost whose data arrived in a resend: the receiver's ACK covers the resent copy, not
// the lost one, which must stay lost (truth.json). wireguard-underlay-loss: f3's segment lost at
// router-1/eth0→router-1/eth1, resent; tcp-retransmission: its lost copy (a piece of a super-packet)
// at router-1/eth1→router-1/eth0.
func TestAckedResentStaysLost(t *testing.T) {
	for _, tc := range []struct{ scenario, from, to string }{
		{"wireguard-underlay-loss", "router-1/eth0", "router-1/eth1"},
		{"tcp-retransmission", "router-1/eth1", "router-1/eth0"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			r := correlateAcks(labFiles(t, tc.scenario, func(n string) bool { return !strings.Contains(n, "-any") }))
			lost := 0
			for _, f := range r.Flows {
				if f.Proto != "tcp" {
					continue
				}
				for _, l := range f.LostAt {
					if l.From == tc.from && l.To == tc.to {
						lost += l.Count
					}
				}
			}
			if lost != 1 {
				t.Errorf("TCP lost at %s→%s: %d, want 1 (truth.json)", tc.from, tc.to, lost)
			}
			for _, a := range r.Anomalies {
				if strings.Contains(a.Message, "acknowledged later") {
					t.Errorf("a resent segment's loss cleared by the ACK of its resend: %s", a.Message)
				}
			}
		})
	}
}

// A run whose ACKs would take reading files of more than ackBytesMax again applies the rule nowhere:
// the clock-skew subset keeps its one loss, and no segment is said to be acknowledged.
func TestAckedOverBudget(t *testing.T) {
	files := labFiles(t, "clock-skew", func(n string) bool {
		return strings.HasSuffix(n, ".pcap") && !strings.HasPrefix(n, "node-a-cali")
	})
	defer func(n int64) { ackBytesMax = n }(ackBytesMax)
	ackBytesMax = 1000
	r := correlateAcks(files)
	if r.Summary.Lost != 1 {
		t.Errorf("%d lost with the ACKs over budget, want the 1 counted without the rule: %+v", r.Summary.Lost, r.Summary)
	}
	for _, a := range r.Anomalies {
		if strings.Contains(a.Message, "acknowledged") {
			t.Errorf("over budget, yet %s at %s says: %s", a.Kind, a.Where.Point, a.Message)
		}
	}
}
