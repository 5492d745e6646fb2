package correlate

import "runtime"

// earlyFrames is the single-frame checks (frameChecks) started as soon as the world is built, on a
// goroutine of their own when there is more than one core. They read the world alone (settled once
// worldFor returns; its WireGuard node addresses too), so they need not wait for placement, beside
// which the side findings run: there they took a core from placement and the segment counter, while
// the clocks and the matcher, which come first, leave most of the second core free. The one thing
// that changes the world after them is adoptOwnAddrs, which adds node addresses they read: adoptOwn
// orders the two.
type earlyFrames struct {
	wait func()
	out  map[frameKey]*frameFinding
}

// startFrameChecks starts the single-frame checks of world w beside what follows, or returns nil on
// one core (the side findings then check the frames themselves).
func startFrameChecks(w *world) *earlyFrames {
	if runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	e := &earlyFrames{}
	e.wait = beside(func() { e.out = (&analysis{w: w}).frameChecks() })
	return e
}

// frames returns the single-frame findings: e's once done, or checked now for a nil e.
func (e *earlyFrames) frames(a *analysis) map[frameKey]*frameFinding {
	if e == nil {
		return a.frameChecks()
	}
	e.wait()
	return e.out
}

// stop waits for e's checks, when CorrelateContext returns before the side findings would: the
// checks read the Capture, which the caller may release then. nil: nothing to wait for.
func (e *earlyFrames) stop() {
	if e != nil {
		e.wait()
	}
}

// adoptOwn adopts the nodes' own addresses the flows showed (adoptOwnAddrs) once the single-frame
// checks started with the world have ended, so that they never read a node-address map being written
// (a data race, which could stop the process; long since ended, as a rule: they run beside the clocks
// and the matcher). When it adds an IPv4 address, which the checks read (a frame's outer address is
// one of its node's: outerFits), their findings are dropped and the side findings check the frames
// again, as on one core: the findings are those of the world with the adopted addresses, however many
// cores ran them.
func (a *analysis) adoptOwn() {
	a.early.stop()
	if a.adoptOwnAddrs() {
		a.early = nil
	}
}
