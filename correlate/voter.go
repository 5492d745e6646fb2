package correlate

import "github.com/calipath/calipath/decode"

// voteChunk is how many journeys' votes the flow stage hands to its voter at a time.
const voteChunk = 4096

// voteJob is one journey's vote for its flow direction's path: the journey j, its flow and direction
// d, its first sighting o and o's tuple t.
type voteJob struct {
	fl *flowAcc
	o  *decode.Observation
	t  tuple
	j  int32
	d  uint8
}

// voter takes the journeys' votes for their paths (flowStage.votePath) in journey order: inline, or
// on a goroutine of its own, a chunk at a time, while the flow stage assigns the next journeys their
// flows. A flow's votes are written by the voter alone (its other fields by the flow stage, before
// the chunk that first names it is handed over), so the votes are the same either way.
type voter struct {
	s     *flowStage
	chunk []voteJob
	full  chan []voteJob
	free  chan []voteJob
	done  chan any // closed once the voter has stopped, after a panic's value if it had one
}

// startVoter starts the voter of s: with a goroutine taking chunks of n journeys, or inline for n 0.
func (s *flowStage) startVoter(n int) *voter {
	v := &voter{s: s}
	if n <= 0 {
		return v
	}
	v.full, v.free, v.done = make(chan []voteJob, 2), make(chan []voteJob, 3), make(chan any, 1)
	for range 2 {
		v.free <- make([]voteJob, 0, n)
	}
	v.chunk = make([]voteJob, 0, n)
	go v.run()
	return v
}

// vote takes journey job's vote, or queues it for the voter's goroutine.
func (v *voter) vote(job voteJob) {
	if v.full == nil {
		v.s.votePath(job.fl, job.d, int(job.j), &job.t, job.o, v.s.a.hops(int(job.j)))
		return
	}
	v.chunk = append(v.chunk, job)
	if len(v.chunk) == cap(v.chunk) {
		v.full <- v.chunk
		v.chunk = (<-v.free)[:0]
	}
}

// wait hands over the last chunk and returns once every vote is taken; a panic of the voter's
// goroutine is raised again here.
func (v *voter) wait() {
	if v.full == nil {
		return
	}
	v.full <- v.chunk
	close(v.full)
	if p, ok := <-v.done; ok {
		panic(p)
	}
}

// run takes the votes of each chunk in order, handing the chunk back once done.
func (v *voter) run() {
	defer close(v.done)
	defer func() {
		if p := recover(); p != nil {
			v.done <- p
			for c := range v.full { // the flow stage's next chunks, handed back so that it does not block
				v.free <- c
			}
		}
	}()
	for c := range v.full {
		for i := range c {
			job := &c[i]
			v.s.votePath(job.fl, job.d, int(job.j), &job.t, job.o, v.s.a.hops(int(job.j)))
		}
		v.free <- c
	}
}
