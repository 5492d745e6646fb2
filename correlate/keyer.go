package correlate

// keyChunks is how many chunks of journeys the keyer has in flight: one being keyed, one ready, one
// being assigned their flows.
const keyChunks = 3

// assignKeyed is the flow stage's loop over the journeys on more than one core: a goroutine (the
// keyer) reads each journey's first sighting and works out its tuple (keyJob), n journeys at a time
// in journey order, while this one finds the flows of the chunk before (assign) in the same order,
// and hands their votes to the voter. The flows are found in journey order as inline, so they are
// numbered alike. A panic of the keyer is raised again here.
func (s *flowStage) assignKeyed(v *voter, flowCache []flowCacheEntry, n int) {
	free := make(chan *[]voteJob, keyChunks)
	ready := make(chan *[]voteJob, keyChunks)
	quit := make(chan struct{})
	failed := make(chan any, 1)
	for range keyChunks {
		c := make([]voteJob, 0, n)
		free <- &c
	}
	go s.keyJobs(n, free, ready, quit, failed)
	defer func() {
		close(quit)
		for range ready { // until the keyer has stopped
		}
		select {
		case p := <-failed:
			panic(p)
		default:
		}
	}()
	for c := range ready {
		for i := range *c {
			s.assign(&(*c)[i], flowCache)
			v.vote((*c)[i])
		}
		free <- c
	}
}

// keyJobs keys the journeys (keyJob) in order into the free chunks, n journeys to a chunk, and hands
// each over on ready; it stops once quit is closed, and closes ready when it stops. A panic is sent
// on failed. It writes only the flow (none) of the journeys without hops, which assign never writes.
func (s *flowStage) keyJobs(n int, free, ready chan *[]voteJob, quit chan struct{}, failed chan any) {
	defer close(ready)
	defer func() {
		if p := recover(); p != nil {
			failed <- p
		}
	}()
	for from := 0; from < s.a.nJ; from += n {
		var c *[]voteJob
		select {
		case c = <-free:
		case <-quit:
			return
		}
		*c = (*c)[:0]
		for j := from; j < min(from+n, s.a.nJ); j++ {
			if job, ok := s.keyJob(j); ok {
				*c = append(*c, job)
			}
		}
		select {
		case ready <- c:
		case <-quit:
			return
		}
	}
}
