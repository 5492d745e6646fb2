package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// Once the matcher has kept maxLate late sightings it forgets the later ones, and a packet whose late
// sighting it forgot is counted lost where its first half ended (a generated 30,000-packet set at
// --window 5µs: 103,648 sent for 30,000 and 76,537 lost, with ~7,000-8,000 drop ERRORs per segment).
// Such losses are not certain: every loss finding is a warning that starts "Unreliable:" and names the
// window to use, and the summary says the counts are unreliable. Here the cap is lowered to 200 on a
// 1,500-packet set; with the production cap the same set is counted as the truth has it and nothing is
// said unreliable. Before, the drop findings were errors and the summary said nothing.
func TestWindowTooSmallLateCap(t *testing.T) {
	g := testtool.LossySet(t, 1, 1500, 10, 0.01)
	run := func() *Result {
		c := decode.Load(g.Files, decode.Options{}, decode.PointConfig{})
		return Correlate(c, Options{Window: 5 * time.Microsecond, Acks: decode.AckReader(c, decode.Options{})})
	}
	full := run()
	checkCounts(t, g.Truth, full.Summary, 0)
	if full.Summary.Unreliable != "" {
		t.Errorf("production cap: summary says unreliable: %s", full.Summary.Unreliable)
	}
	defer func(n int) { maxLate = n }(maxLate)
	maxLate = 200
	capped := run()
	truthLost := 0
	for i := range g.Truth.Packets {
		if g.Truth.Packets[i].Lost {
			truthLost++
		}
	}
	s := capped.Summary
	if s.Lost <= truthLost || s.Journeys <= len(g.Truth.Packets) {
		t.Fatalf("cap %d: %d sent, %d lost (truth %d, %d): the cap did not make false losses, the test proves nothing",
			maxLate, s.Journeys, s.Lost, len(g.Truth.Packets), truthLost)
	}
	if !strings.Contains(s.Unreliable, "--window 5µs") || !strings.Contains(s.Unreliable, "re-run with --window 1ms") {
		t.Errorf("cap %d: %d sent, %d lost; summary unreliable %q, want it to name --window 5µs and 1ms", maxLate,
			s.Journeys, s.Lost, s.Unreliable)
	}
	losses := 0
	for _, an := range capped.Anomalies {
		if !blindKinds[an.Kind] && an.Kind != "loss" && an.Kind != "loss-one-way-gap" && an.Kind != "loss-router-side-unknown" && an.Kind != "loss-order-unknown" {
			continue
		}
		losses++
		if an.Severity != sevWarning || !strings.HasPrefix(an.Message, "Unreliable: --window 5µs") ||
			!strings.HasPrefix(an.Next, "Re-run with --window 1ms") {
			t.Errorf("cap %d: %s %s at %s → %s (%d): %q; next %q", maxLate, an.Severity, an.Kind, an.Where.From,
				an.Where.To, an.Count, an.Message, an.Next)
		}
	}
	if losses == 0 || s.Anomalies["error"] != 0 {
		t.Errorf("cap %d: %d loss findings, %d errors: %v", maxLate, losses, s.Anomalies["error"], kinds(capped))
	}
	wts := 0
	for _, an := range capped.Anomalies {
		if an.Kind == "window-too-small" {
			wts++
			if !strings.Contains(an.Message, "were forgotten") {
				t.Errorf("window-too-small does not say sightings were forgotten: %s", an.Message)
			}
		}
	}
	if wts != 1 {
		t.Errorf("cap %d: %d window-too-small warnings", maxLate, wts)
	}
}
