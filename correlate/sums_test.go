package correlate

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// answeredRe finds, in a loss anomaly's message, the drops that ICMP errors answered (listed apart).
var answeredRe = regexp.MustCompile(`\(and (\d+) dropped with an ICMP error`)

// lossKinds are the anomaly kinds that count a segment's lost packets.
var lossKinds = map[string]bool{"encap-drop": true, "underlay-drop": true, "decap-drop": true, "delivery-drop": true,
	"host-drop": true, "loss": true, "pmtu-blackhole": true}

// checkSums checks that the Result counts packets in one unit everywhere: the summary is the sum of
// the flows; each flow's packets are delivered, lost or not captured, and its losses are placed on
// segments; each segment's losses are the flows' losses placed there, and its loss anomaly counts
// them (less the drops ICMP errors answered, which the anomaly says it leaves out).
func checkSums(t *testing.T, name string, r *Result) {
	t.Helper()
	var sent, delivered, lost, notCaptured int
	lostOn := map[[2]string]int{}
	for _, f := range r.Flows {
		sent += f.Packets
		delivered += f.Delivered
		lost += f.Lost
		notCaptured += f.NotCaptured
		if f.Delivered+f.Lost+f.NotCaptured > f.Packets {
			t.Errorf("%s: flow %s: %d delivered + %d lost + %d not captured > %d packets", name, f.ID, f.Delivered, f.Lost,
				f.NotCaptured, f.Packets)
		}
		placed := 0
		for _, l := range f.LostAt {
			placed += l.Count
			lostOn[[2]string{l.From, l.To}] += l.Count
		}
		if placed != f.Lost {
			t.Errorf("%s: flow %s lost %d packets, %d of them placed on segments", name, f.ID, f.Lost, placed)
		}
	}
	s := r.Summary
	if s.Journeys != sent || s.Delivered != delivered || s.Lost != lost || s.NotCaptured != notCaptured {
		t.Errorf("%s: summary %d packets: %d delivered, %d lost, %d not captured; the flows add up to %d: %d, %d, %d",
			name, s.Journeys, s.Delivered, s.Lost, s.NotCaptured, sent, delivered, lost, notCaptured)
	}
	segLost := 0
	for _, sg := range r.Segments {
		segLost += sg.Lost
		if sg.Delivered+sg.Lost+sg.NotCaptured != sg.Packets {
			t.Errorf("%s: segment %s → %s: %d delivered + %d lost + %d not captured ≠ %d packets", name, sg.From, sg.To,
				sg.Delivered, sg.Lost, sg.NotCaptured, sg.Packets)
		}
		if n := lostOn[[2]string{sg.From, sg.To}]; n != sg.Lost {
			t.Errorf("%s: segment %s → %s lost %d packets, the flows %d", name, sg.From, sg.To, sg.Lost, n)
		}
		for _, an := range r.Anomalies {
			if !lossKinds[an.Kind] || an.Where.From != sg.From || an.Where.To != sg.To {
				continue
			}
			answered := 0
			if m := answeredRe.FindStringSubmatch(an.Message); m != nil {
				answered, _ = strconv.Atoi(m[1])
			}
			if an.Count+answered != sg.Lost {
				t.Errorf("%s: %s at %s → %s counts %d (+%d answered by ICMP), the segment lost %d", name, an.Kind,
					sg.From, sg.To, an.Count, answered, sg.Lost)
			}
			if want := fmt.Sprintf("%d of %d packets lost", an.Count, sg.Lost+sg.Delivered); !strings.HasPrefix(an.Message, want) {
				t.Errorf("%s: %s at %s → %s says %q, want %q", name, an.Kind, sg.From, sg.To, an.Message, want)
			}
		}
	}
	if segLost != lost {
		t.Errorf("%s: segments lost %d packets, the flows %d", name, segLost, lost)
	}
}

// Every lab scenario, with all its captures, with its -i any captures alone and with one node's
// captures alone, counts its packets in one unit (the demo's GSO frame split in pieces was 7 lost on its segment and 6 in its flow).
func TestLossSumsLab(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	if len(dirs) == 0 {
		t.Skip("no lab scenarios")
	}
	for _, dir := range dirs {
		pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
		ngs, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
		anys, _ := filepath.Glob(filepath.Join(dir, "*-any.pcap"))
		nodeA, _ := filepath.Glob(filepath.Join(dir, "node-a-*.pcap"))
		nodeB, _ := filepath.Glob(filepath.Join(dir, "node-b-*.pcap"))
		// One node's captures alone: packets leave (and enter) the captured area.
		sets := map[string][]string{"all": append(pcaps, ngs...), "any": anys, "node-a": nodeA, "node-b": nodeB}
		for what, files := range sets {
			if len(files) == 0 {
				continue
			}
			name := filepath.Base(dir) + "/" + what
			r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
			checkSums(t, name, r)
		}
	}
}

// Generated captures with loss, duplicates, retransmissions and DNAT, in each mode, add up too.
func TestLossSumsGen(t *testing.T) {
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN, gen.ModeBGP} {
		cfg := gen.DefaultConfig()
		cfg.Seed = 3
		cfg.Mode = mode
		cfg.Packets = 4000
		cfg.Flows = 30
		cfg.LossPerHop = 0.03
		cfg.DupRate = 0.05
		cfg.RetransRate = 0.02
		cfg.DNAT = 0.2
		cfg.ClockOffset = map[string]time.Duration{"node-2": time.Second}
		_, r := runGen(t, cfg)
		checkSums(t, mode.String(), r)
	}
}
