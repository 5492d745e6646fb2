package correlate

import "github.com/calipath/calipath/decode"

// segChunk is how many journeys placement hands to its segment counter at a time.
const segChunk = 4096

// segJob is what the segment counter needs of a placed journey (placing): its flow, path, first
// sighting, status, where along the path it was seen (its reached and when are the chunk's from at)
// and its hop at the last point reached.
type segJob struct {
	fl                   *flowAcc
	pi                   *pathInfo
	o0                   *decode.Observation
	j, fi, px, at        int32
	first, reach         int32
	last                 uint32
	status               statusCode
	piece, parent, clean bool
}

// segJobs is a chunk of placed journeys, with their reached and when in two arrays.
type segJobs struct {
	jobs    []segJob
	reached []int
	when    []int64
}

// segCounter counts the placed journeys on their paths' segments (countSegments, countSegEnd) and on
// their flows (countFlow) in journey order: inline, or on a goroutine of its own, a chunk at a time,
// while placement places the next journeys. The segments, and the flows' outcome counts, latencies
// and per-point tallies, are written by the counter alone (and by placement once it has waited for
// it; placement writes the flows' other counts), so the counts are the same either way.
type segCounter struct {
	pl *placement
	n  int
	p  *pipe[segJobs] // nil: inline
	q  placing        // the goroutine's journey being counted
}

// startSegCounter starts the segment counter of pl: with a goroutine taking chunks of n journeys, or
// inline for n 0.
func (pl *placement) startSegCounter(n int) *segCounter {
	c := &segCounter{pl: pl, n: n}
	if n > 0 {
		c.p = startPipe(func() *segJobs { return &segJobs{jobs: make([]segJob, 0, n)} },
			func(s *segJobs) { s.jobs, s.reached, s.when = s.jobs[:0], s.reached[:0], s.when[:0] }, c.work)
	}
	return c
}

// add counts journey p (with its status) on the segments, or queues it for the counter's goroutine.
func (c *segCounter) add(p *placing, status statusCode) {
	if c.p == nil {
		c.pl.count(p, status)
		return
	}
	ch := c.p.cur
	ch.jobs = append(ch.jobs, segJob{fl: p.fl, pi: p.pi, o0: p.o0, j: int32(p.j), fi: p.fi, px: p.px, at: int32(len(ch.reached)),
		first: int32(p.first), reach: int32(p.reach), last: p.last, status: status, piece: p.piece, parent: p.parent, clean: p.clean})
	ch.reached = append(ch.reached, p.reached...)
	ch.when = append(ch.when, p.when...)
	if len(ch.jobs) == c.n {
		c.p.handOver()
	}
}

// wait returns once every journey is counted.
func (c *segCounter) wait() {
	if c.p != nil {
		c.p.wait()
	}
}

// work counts a chunk's journeys, in order.
func (c *segCounter) work(ch *segJobs) {
	q := &c.q
	for i := range ch.jobs {
		job := &ch.jobs[i]
		n := int32(len(job.pi.points))
		q.pi, q.px, q.o0, q.j, q.fi, q.first, q.reach = job.pi, job.px, job.o0, int(job.j), job.fi, int(job.first), int(job.reach)
		q.fl, q.last, q.piece, q.parent, q.clean = job.fl, job.last, job.piece, job.parent, job.clean
		q.reached, q.when = ch.reached[job.at:job.at+n], ch.when[job.at:job.at+n]
		c.pl.count(q, job.status)
	}
}

// count counts placed journey p (with its status) on its path's segments and on its flow, and
// tallies its packets and bytes per point on its flow (tallyPoints: on the counter's goroutine, which
// has spare time, rather than placement's, which sets the pace on two cores). (Not inlined: add,
// which calls it, would then hold its frame for every journey queued as well.)
//
//go:noinline
func (pl *placement) count(p *placing, status statusCode) {
	pl.countSegments(p)
	pl.countSegEnd(p, status)
	pl.countFlow(p, status)
	if p.clean {
		if t := &pl.dirTallies[p.fi<<1|int32(pl.jDir[p.j])]; t.primed { // tallyClean's usual case, without its call
			t.n++
			t.bytes += int64(p.o0.Len)
		} else {
			pl.tallyClean(p)
		}
	} else {
		pl.tallyPoints(p)
	}
}
