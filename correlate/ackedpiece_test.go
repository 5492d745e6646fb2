package correlate

import (
	"path/filepath"
	"strings"
	"testing"
)

// healthy-ipip with the -i any captures only: pod-b's 4148-byte GSO frame (node-b-any.pcap frame 36)
// was split into three pieces at node-b's tunnel device; node-a's any capture dropped the second one
// (sequence 4293419657) at tunl0 and cali after seeing it at eth0 (node-a-any.pcap frame 40; the
// per-interface files of the run have it). Pod-a acknowledged it. The super-packet it is a piece of
// overlaps its sequence range but is the same packet as sent, not a resend: the piece crossed node-a's
// tunnel unseen, and nothing was lost (truth.json: 27 delivered).
func TestAckedPieceNotLost(t *testing.T) {
	files := labFiles(t, "healthy-ipip", func(n string) bool { return strings.HasSuffix(n, "-any.pcap") })
	r := correlateAcks(files)
	if r.Summary.Lost != 0 || r.Summary.Journeys != 27 {
		t.Errorf("%d packets, %d lost; want 27 and none (truth.json): %+v", r.Summary.Journeys, r.Summary.Lost, r.Summary)
	}
	var said *Anomaly
	for i, a := range r.Anomalies {
		if a.Kind == "loss" {
			t.Errorf("loss reported: %s at %v: %s", a.Severity, a.Where, a.Message)
		}
		if a.Kind == "capture-dropped" && a.Where.Point == "node-a/any#4" && strings.Contains(a.Message, "acknowledged") {
			said = &r.Anomalies[i]
		}
	}
	if said == nil {
		t.Fatalf("no capture-dropped at node-a/any#4 says the piece was acknowledged: %v", r.Anomalies)
	}
	if len(said.Evidence) != 2 || said.Evidence[0].Frame != 40 || filepath.Base(said.Evidence[0].File) != "node-a-any.pcap" {
		t.Errorf("evidence %v; want the piece's last sighting (node-a-any.pcap 40), then its ACK", said.Evidence)
	}
}

// clock-skew with the -i any captures only: node-a's any capture missed all three pieces of pod-b's
// 4148-byte GSO frame (node-b-any.pcap frame 37) at one point or another past its eth0 (the first at
// cali, the others at tunl0 and cali); pod-a acknowledged them all. Nothing was lost (truth.json).
func TestAckedPiecesSkewedNotLost(t *testing.T) {
	files := labFiles(t, "clock-skew", func(n string) bool { return strings.HasSuffix(n, "-any.pcap") })
	r := correlateAcks(files)
	if r.Summary.Lost != 0 || r.Summary.Journeys != 26 {
		t.Errorf("%d packets, %d lost; want 26 and none (truth.json): %+v", r.Summary.Journeys, r.Summary.Lost, r.Summary)
	}
	for _, a := range r.Anomalies {
		if a.Kind == "loss" {
			t.Errorf("loss reported at %v: %s", a.Where, a.Message)
		}
	}
}
