package tui

import (
	"runtime/debug"
	"testing"
	"time"

	"github.com/calipath/calipath/internal/cputime"
	tea "github.com/charmbracelet/bubbletea"
)

// cmdLoop runs a Model's Cmds as the program does, each in a goroutine of its own (a batch's Cmds
// each in theirs), and delivers their messages to the Model one at a time, as the UI loop does.
type cmdLoop struct {
	m    Model
	msgs chan tea.Msg
	out  int // Cmds running
}

// run starts cmd (a batch: each of its Cmds).
func (l *cmdLoop) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	l.out++
	go func() { l.msgs <- cmd() }()
}

// step delivers the next message (a batch's Cmds are started instead).
func (l *cmdLoop) step() {
	msg := <-l.msgs
	l.out--
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			l.run(c)
		}
		return
	}
	if msg == nil {
		return
	}
	nm, cmd := l.m.Update(msg)
	l.m = nm.(Model)
	_ = l.m.View()
	l.run(cmd)
}

// keys sends the keys by name, running their Cmds.
func (l *cmdLoop) keys(ks ...string) {
	m, cmd := keyCmd(l.m, ks...)
	l.m = m
	_ = l.m.View()
	l.run(cmd)
}

// until delivers messages until the flow list shows order col (desc) with no order pending.
func (l *cmdLoop) until(col int, desc bool) {
	for {
		fl := l.m.fl
		if fl.built && !fl.waiting && !fl.wanting && fl.sortCol == col && fl.desc == desc {
			return
		}
		if l.out == 0 {
			panic("the order asked for never lands")
		}
		l.step()
	}
}

// drain delivers messages until no Cmd runs.
func (l *cmdLoop) drain() {
	for l.out > 0 {
		l.step()
	}
}

// cpuTime is the CPU time the process used so far (every thread, user and system), 0 where it
// cannot be read.
func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}

// reportCPU reports the CPU time the process used a key, in ms: on one core (-cpu 1), what the key
// waits for on a machine that runs nothing else, whatever else runs on this one.
func reportCPU(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkAfterOverview measures keys pressed right after the overview shows on 200,000 flows, with
// the work the Result starts off the UI loop under way, from the key to its order landing, shown:
// listing the flows after the overview shows, with their first order and widths (listFlowsCmd, as
// the program runs it; keys before it is done only say the flows are still loading), the flows
// key right after they are in, and each sort key right after the first order landed (the others
// being sorted meanwhile). Cmds run in goroutines as in the program; run it with -cpu 1 for one
// core, where cpu-ms/op is the latency on an idle machine. The garbage collector's target is the
// program's (calipath's main).
func BenchmarkAfterOverview(b *testing.B) {
	res, _ := manyFlowsResult(b)
	streamed := manyFlowsStreamed(b)
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	// The flows listed after the overview, once: listed each time, the lists of the times before
	// would be garbage that the keys timed pay to collect, which a session that lists them once
	// does not have. The first order and widths are computed each time, as listFlowsCmd does.
	full := streamed.WithFlows()
	start := func() *cmdLoop {
		l := &cmdLoop{m: newTest(b, res, 160, 48), msgs: make(chan tea.Msg, 64)}
		nm, cmd := l.m.Update(loadedMsg{res: streamed}) // as loadCmd sends it
		l.m = nm.(Model)
		_ = l.m.View()
		if cmd == nil || l.m.flowsDue != len(full.Flows) {
			b.Fatal("the flows are not listed after the overview")
		}
		listed := flowsMsg{from: streamed, res: full, first: prepareFirst(full)} // as listFlowsCmd sends it
		nm, cmd = l.m.Update(listed)
		l.m = nm.(Model)
		_ = l.m.View()
		l.run(cmd)
		return l
	}
	b.Run("list", func(b *testing.B) { // the flows listed after the overview, their first order and widths
		var cpu time.Duration
		for b.Loop() {
			t := cpuTime()
			if msg, ok := listFlowsCmd(streamed, loadTimes{})().(flowsMsg); !ok || msg.first == nil {
				b.Fatal("no flows listed, or no first order")
			}
			cpu += cpuTime() - t
		}
		reportCPU(b, cpu)
	})
	b.Run("flows", func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			l := start()
			b.StartTimer()
			t := cpuTime()
			l.keys("2")
			l.until(sortWorst, false)
			cpu += cpuTime() - t
			b.StopTimer()
			l.drain()
			b.StartTimer()
		}
		reportCPU(b, cpu)
	})
	for col, fc := range flowColumns {
		b.Run("sort/"+fc.key, func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				l := start()
				l.keys("2")
				l.until(sortWorst, false)
				b.StartTimer()
				t := cpuTime()
				l.keys("s", fc.key)
				l.until(col, fc.right)
				cpu += cpuTime() - t
				b.StopTimer()
				l.drain()
				b.StartTimer()
			}
			reportCPU(b, cpu)
		})
	}
}
