package correlate

// keyChunks is how many chunks of journeys the keyer has in flight: one being keyed, one being
// assigned their flows, the others ready. The keyer, faster than the flow stage, keeps them ready
// ahead, so that the flow stage, which sets the pace, rarely waits on it when the three goroutines
// of the stage (keyer, flow stage, voter) share two cores.
const keyChunks = 8

// assignKeyed is the flow stage's loop over the journeys on more than one core: a goroutine (the
// keyer) reads each journey's first sighting and works out its tuple (keyJob), n journeys at a time
// in journey order, while this one finds the flows of the chunk before (assign) in the same order,
// and hands their votes to the voter. The flows are found in journey order as inline, so they are
// numbered alike. A panic of the keyer is raised again here.
func (s *flowStage) assignKeyed(v *voter, flowCache []flowCacheEntry, n int) {
	chunks := make([]*[]voteJob, keyChunks)
	for i := range chunks {
		c := make([]voteJob, 0, n)
		chunks[i] = &c
	}
	ahead(chunks, s.a.nJ, n, func(c *[]voteJob, from, to int) {
		// the keyer; it writes only the flow (none) of the journeys without hops, which assign never writes
		*c = (*c)[:0]
		for j := from; j < to; j++ {
			if job, ok := s.keyJob(j); ok {
				*c = append(*c, job)
			}
		}
	}, func(c *[]voteJob) bool {
		for i := range *c {
			s.assign(&(*c)[i], flowCache)
			v.vote((*c)[i])
		}
		return true
	})
}
