package tui

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

var (
	capsOnce   sync.Once
	capsRes    *correlate.Result
	capsFrames map[string]*decode.FrameIndex
	capsErr    error
)

// everyKeyResult is the Result BenchmarkEveryKey drives the Model with: the captures in the directory
// CALIPATH_BENCH_CAPS (every *.pcap and *.pcapng in it, e.g. scripts/bench.sh's many-flow set), read
// and correlated once per run as the TUI's loading does (Lean, the ACKs read again, the flows
// streamed, then listed), with the files' frame indexes; without it manyFlowsResult's generated
// capture, whose files are gone (its packet screen says it cannot read them).
func everyKeyResult(b *testing.B) (*correlate.Result, map[string]*decode.FrameIndex) {
	dir := os.Getenv("CALIPATH_BENCH_CAPS")
	if dir == "" {
		res, _ := manyFlowsResult(b)
		return res, nil
	}
	capsOnce.Do(func() {
		var paths []string
		for _, pat := range []string{"*.pcap", "*.pcapng"} {
			m, err := filepath.Glob(filepath.Join(dir, pat))
			if err != nil {
				capsErr = err
				return
			}
			paths = append(paths, m...)
		}
		c := decode.Load(paths, decode.Options{}, decode.PointConfig{})
		capsFrames = frameIndexes(c)
		opts := correlate.Options{Window: time.Second, Lean: true, StreamFlows: true,
			Acks: decode.AckReader(c, decode.Options{})}
		res, err := correlate.CorrelateContext(b.Context(), c, opts)
		if err != nil {
			capsErr = err
			return
		}
		capsRes = res.WithFlows()
	})
	if capsErr != nil {
		b.Fatal(capsErr)
	}
	if capsRes == nil || len(capsRes.Flows) == 0 {
		b.Fatal("no flows in CALIPATH_BENCH_CAPS")
	}
	return capsRes, capsFrames
}

// BenchmarkEveryKey times each key of every screen with the redraw that follows it, on the flow list's
// orders landed (as a few seconds after the overview): on the flow list the keys BenchmarkManyFlows
// leaves out (reverse, next and previous column, first and last, a line and a page down, opening a
// flow and going back), on a flow's timeline (its journeys: next and previous loss, next
// retransmission, hops, moving, the packet screen with its frames read, back), on the packet screen
// (hex, back), the help, and the overview's, ARP and anomaly lists' moves and keys. Each reports
// cpu-ms/op beside ns/op: run it with -cpu 1, where that is the key's latency on an idle machine.
// CALIPATH_BENCH_CAPS=DIR runs it on captures (everyKeyResult).
func BenchmarkEveryKey(b *testing.B) {
	res, frames := everyKeyResult(b)
	b.Logf("%d flows, %d files indexed", len(res.Flows), len(frames))
	m := newTest(b, res, 160, 48)
	m.c.frames = frames                   // as loadedMsg sets them
	base := runAll(keyCmd(m, "2"))        // the flows' orders and widths landed
	onFlow := sendKeys(base, "enter")     // the worst flow's timeline
	onPacket := sendKeys(onFlow, "enter") // its first packet, frames read
	for _, tc := range []struct {
		name  string
		from  Model
		keys  []string // pressed in turn, one a loop, each with its redraw
		reset bool     // each loop starts again from the screen (the key leaves it)
	}{
		{"overview/move", sendKeys(base, "1"), []string{"down", "pgdown", "end", "up", "pgup", "home"}, false},
		{"overview/help", sendKeys(base, "1"), []string{"?", "esc"}, false},
		{"flows/reverse", base, []string{"r"}, false},
		{"flows/next-column", base, []string{">"}, false},
		{"flows/previous-column", base, []string{"<"}, false},
		{"flows/first-last", base, []string{"end", "home"}, false},
		{"flows/down", base, []string{"down"}, false},
		{"flows/pgdown", base, []string{"pgdown"}, false},
		{"flows/open", base, []string{"enter"}, true},
		{"flows/sort-menu", base, []string{"s"}, true},
		{"timeline/next-loss", onFlow, []string{"n"}, false},
		{"timeline/previous-loss", onFlow, []string{"N"}, false},
		{"timeline/next-retransmission", onFlow, []string{"x"}, false},
		{"timeline/hops", onFlow, []string{"right", "left"}, false},
		{"timeline/move", onFlow, []string{"down", "pgdown", "end", "up", "pgup", "home"}, false},
		{"timeline/packet", onFlow, []string{"enter"}, true},
		{"timeline/back", onFlow, []string{"esc"}, true},
		{"packet/hex", onPacket, []string{"X"}, false},
		{"packet/move", onPacket, []string{"down", "pgdown", "up", "pgup"}, false},
		{"packet/back", onPacket, []string{"esc"}, true},
		{"arp/move", sendKeys(base, "5"), []string{"down", "pgdown", "end", "up", "pgup", "home"}, false},
		{"anomalies/open", sendKeys(base, "6"), []string{"enter"}, true},
		{"anomalies/move", sendKeys(base, "6"), []string{"down", "pgdown", "end", "up", "pgup", "home"}, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			m := tc.from
			var cpu time.Duration
			for i := 0; b.Loop(); i++ {
				if tc.reset {
					m = tc.from
				}
				t := cpuTime()
				m = sendKeys(m, tc.keys[i%len(tc.keys)])
				_ = m.View()
				cpu += cpuTime() - t
			}
			reportCPU(b, cpu)
		})
	}
}
