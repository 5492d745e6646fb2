package correlate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
)

// checkClean correlates files with clean journeys counted by their paths and flow directions
// (cleanJourneys) and with every journey counted hop by hop: the same Result (as JSON, with the
// journeys) and the same per-point tallies in each flow, in the order they were made, with the
// counting inline (chunk -1), on the segment counter's goroutine and on placement's two goroutines. It
// returns how many journeys were clean, and how many placed journeys were not. A run on the segment
// counter's goroutine (which reads placing's reached and when) places none by placeClean; fast counts
// those placed by placeClean inline and on placement's two goroutines.
func checkClean(t *testing.T, files []string) (clean, other int, fast [2]int64) {
	t.Helper()
	run := func(on bool, chunk int) ([]byte, [][]pointTally, *analysis) {
		cleanJourneys = on
		defer func() { cleanJourneys = true }()
		res := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{Journeys: true, chunk: chunk})
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		var pp [][]pointTally
		for _, fl := range res.analysis.flows {
			pp = append(pp, slices.Clone(fl.perPoint))
		}
		return b, pp, res.analysis
	}
	want, wantPP, a := run(false, -1)
	for i, chunk := range []int{-1, 1 << 20, 1} { // inline, the counter's goroutine, two goroutines
		before := placedClean.Load()
		got, gotPP, _ := run(true, chunk)
		switch n := placedClean.Load() - before; {
		case chunk == 1<<20 && n != 0:
			t.Fatalf("chunk %d: %d journeys placed by placeClean with the counter on its goroutine", chunk, n)
		case i == 0:
			fast[0] = n
		case i == 2:
			fast[1] = n
		}
		if string(got) != string(want) {
			t.Fatalf("chunk %d: the Result with clean journeys counted by path differs", chunk)
		}
		if !reflect.DeepEqual(gotPP, wantPP) {
			t.Fatalf("chunk %d: the flows' per-point tallies differ", chunk)
		}
	}
	for j := range a.nJ { // clean: its hops are its path's points, in order
		fi := a.jFlow[j]
		if fi < 0 {
			continue
		}
		if o, _ := a.obs(a.w.pktHop(a.hops(j))); o.Flags&decode.FlagICMPError != 0 {
			continue // not placed on its path
		}
		pts, h := a.pathOf(a.flows[fi], a.jDir[j]).points, a.hops(j)
		if len(h) == len(pts) &&
			slices.EqualFunc(h, pts, func(g uint32, p int) bool { return a.point(g) == p }) {
			clean++
		} else {
			other++
		}
	}
	return clean, other, fast
}

// Clean journeys counted by path give the Result and tallies of counting them hop by hop, on generated
// many-flow captures with loss, duplicates, DNAT, retransmissions and a clock off (negative latencies
// on some segments, more latencies than exactSamples on others).
func TestCleanJourneysSame(t *testing.T) {
	cfg := manyFlowsConfig()
	cfg.Flows, cfg.Packets = 800, 10000
	cfg.LossPerHop, cfg.DupRate, cfg.DNAT, cfg.RetransRate = 0.03, 0.02, 0.2, 0.01
	cfg.ClockOffset = map[string]time.Duration{"node-2": 2 * time.Second}
	for _, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			cfg.Mode, cfg.Dir = mode, t.TempDir()
			g, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			clean, other, fast := checkClean(t, g.Files)
			if clean == 0 || other == 0 {
				t.Fatalf("%d clean journeys and %d others: not both kinds to tell", clean, other)
			}
			if fast[0] == 0 || fast[1] == 0 {
				t.Fatalf("placeClean placed %d journeys inline and %d on two goroutines: both should place some", fast[0], fast[1])
			}
		})
	}
}

// Likewise on every lab scenario.
func TestCleanJourneysLab(t *testing.T) {
	clean, other := 0, 0
	eachLabScenario(t, func(t *testing.T, files []string) {
		c, o, _ := checkClean(t, files)
		clean, other = clean+c, other+o
	})
	if clean == 0 || other == 0 {
		t.Errorf("%d clean journeys and %d others: not both kinds to tell", clean, other)
	}
}
