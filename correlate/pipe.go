package correlate

// pipe hands chunks of work from a stage to a goroutine of its own that works them in the order
// handed over: the stage fills cur, handOver passes it on and gives the stage an empty chunk, wait
// returns once every chunk handed over is done. Chunks go round between the two (pipeChunks in all),
// so the stage runs at most pipeChunks-1 chunks ahead. A panic of the goroutine is raised again in
// wait.
type pipe[C any] struct {
	cur   *C
	full  chan *C
	free  chan *C
	done  chan any // closed once the goroutine has stopped, after a panic's value if it had one
	reset func(*C) // empties a chunk for the stage to fill again
}

// pipeChunks is how many chunks a pipe has: the stage runs ahead of its goroutine by up to all but
// one, so that it rarely waits when its goroutine was held up a moment (it shares the cores with
// another goroutine, or a collection ran).
const pipeChunks = 8

// startPipe starts the goroutine working chunks with work; mk makes each of the pipeChunks chunks.
func startPipe[C any](mk func() *C, reset func(*C), work func(*C)) *pipe[C] {
	p := &pipe[C]{cur: mk(), full: make(chan *C, pipeChunks-1), free: make(chan *C, pipeChunks), done: make(chan any, 1),
		reset: reset}
	for range pipeChunks - 1 {
		p.free <- mk()
	}
	go p.run(work)
	return p
}

// startPool starts the goroutine working chunks with work, chunks that another goroutine fills: k
// chunks made by mk go round between them. The filler takes an empty chunk from free (it waits for
// one), the stage hands it over filled with pass, and the goroutine puts it back on free once it has
// worked it. cur stays nil: the stage fills no chunk of its own. wait is as for startPipe.
func startPool[C any](k int, mk func() *C, work func(*C)) *pipe[C] {
	p := &pipe[C]{full: make(chan *C, k), free: make(chan *C, k), done: make(chan any, 1)}
	for range k {
		p.free <- mk()
	}
	go p.run(work)
	return p
}

// pass hands chunk c, taken from free and filled, over to the goroutine (startPool).
func (p *pipe[C]) pass(c *C) { p.full <- c }

// handOver passes cur on and makes an empty chunk cur.
func (p *pipe[C]) handOver() {
	p.full <- p.cur
	p.cur = <-p.free
	p.reset(p.cur)
}

// wait hands cur over (if the stage fills one) and returns once every chunk is done.
func (p *pipe[C]) wait() {
	if p.cur != nil {
		p.full <- p.cur
	}
	p.cur = nil
	close(p.full)
	if v, ok := <-p.done; ok {
		panic(v)
	}
}

// run works the chunks in order, handing each back once done.
func (p *pipe[C]) run(work func(*C)) {
	defer close(p.done)
	defer func() {
		if v := recover(); v != nil {
			p.done <- v
			for c := range p.full { // the stage's next chunks, handed back so that it does not block
				p.free <- c
			}
		}
	}()
	for c := range p.full {
		work(c)
		p.free <- c
	}
}

// beside runs fn on a goroutine of its own; the function it returns waits for fn to return, and
// raises fn's panic again if it had one.
func beside(fn func()) (wait func()) {
	done := make(chan any, 1)
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				done <- v
			}
		}()
		fn()
	}()
	return func() {
		if v, ok := <-done; ok {
			panic(v)
		}
	}
}
