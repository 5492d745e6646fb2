package correlate

import "runtime"

// earlyFrames is the single-frame checks (frameChecks) started as soon as the world is built, on a
// goroutine of their own when there is more than one core. They read the world alone (settled once
// worldFor returns; its WireGuard node addresses too), so they need not wait for placement, beside
// which the side findings run: there they took a core from placement and the segment counter, while
// the clocks and the matcher, which come first, leave most of the second core free.
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
