package correlate

import "github.com/calipath/calipath/decode"

// assignKeyed is the flow stage's loop over the journeys on more than one core: a goroutine (the
// keyer) reads each journey's first sighting, works out its tuple (keyJob) and finds its flow's index
// (findFlow: the cache of recent flow keys, the NAT joins and the flows' index by root key are the
// keyer's alone), n journeys at a time in journey order, while this one records the flows of the
// chunk before (record: it starts the flows the keyer numbered new) in the same order, and hands the
// chunk itself to the voter. The chunks are the voter's pool (startVoter): the keyer takes an empty
// one from it (waiting for one when every chunk is keyed or not yet voted on) and the voter puts it
// back once it has taken its votes, so a journey's 88-byte job is written once, by the keyer, and
// read in place by the flow stage and the voter. The keyer numbers the flows in journey order as
// flowFor does inline, so they are numbered alike. A panic of the keyer is raised again here.
func (s *flowStage) assignKeyed(v *voter, flowCache []flowCacheEntry, n int) {
	keyed := make(chan *[]voteJob, keyPool)
	quit := make(chan struct{}) // never closed: the flow stage takes every chunk
	failed := make(chan any, 1)
	go aheadFill(s.a.nJ, n, v.p.free, keyed, quit, failed, func(c *[]voteJob, from, to int) {
		// the keyer; of the flow stage's output it writes only the flows' index (flowOf) and the
		// flow (none) of the journeys without hops, which record never writes
		*c = (*c)[:0]
		for j := from; j < to; j++ {
			*c = append(*c, voteJob{})
			if job := &(*c)[len(*c)-1]; s.keyJob(j, job) {
				s.findFlow(job, flowCache)
			} else {
				*c = (*c)[:len(*c)-1]
			}
		}
	})
	for c := range keyed { // closed once the keyer has stopped
		for i := range *c {
			s.record(&(*c)[i])
		}
		v.voteChunk(c)
	}
	select {
	case p := <-failed:
		panic(p)
	default:
	}
}

// findFlow sets the flow index of journey job, found through the cache of recent flow keys, else
// the flows' index by root key; a key of no flow yet gets the next index (flowIndex.put), and job is marked
// as the one that starts it, with its root key.
func (s *flowStage) findFlow(job *voteJob, flowCache []flowCacheEntry) {
	w0, w1 := job.t.cacheKey()
	e := cacheEntry(flowCache, w0, w1)
	if e.w0 == w0 && e.w1 == w1 {
		job.fi = e.fi
		return
	}
	root := s.uf.find(job.t.key())
	fi, ok := s.flowOf.get(root)
	if !ok {
		fi = s.flowOf.put(root)
		job.root, job.fresh = root, true
	}
	*e = flowCacheEntry{w0, w1, fi}
	job.fi = fi
}

// record records the flow the keyer found for journey job (starting it when job is its first) as
// assign does inline.
func (s *flowStage) record(job *voteJob) {
	if job.fresh {
		s.atJ = int(job.j)
		s.newFlow(job.root, &job.t, job.o, job.h[0])
	}
	if job.o.Flags&decode.FlagICMPError != 0 {
		s.icmpJ = append(s.icmpJ, job.j)
	}
	s.jFlow[job.j] = job.fi
	job.fl = s.flows[job.fi]
}

// listJourneys lists each flow's journeys per direction, in journey order, in one array: inline
// (flowJourneys; counted: the journeys per flow direction counted already), or, when halves, each half
// of the journeys counted and then listed on a goroutine of its own (flowJourneysHalves).
func (s *flowStage) listJourneys(halves, counted bool) {
	if !halves {
		s.flowJourneys(counted)
		return
	}
	s.flowJourneysHalves()
}

// flowJourneysHalves is flowJourneys on two goroutines, the same lists: the first half of the
// journeys is counted per flow direction on this goroutine and the second on another; each flow
// direction's list then takes its first half's journeys and, after them, its second half's, which the
// two goroutines write in their halves' journey order.
func (s *flowStage) flowJourneysHalves() {
	nJ := len(s.jFlow)
	mid := nJ / 2
	at := [2][][2]int32{make([][2]int32, len(s.flows)), make([][2]int32, len(s.flows))}
	count := func(h, from, to int) {
		n := at[h]
		for j, fi := range s.jFlow[from:to] {
			if fi >= 0 {
				n[fi][s.jDir[from+j]]++
			}
		}
	}
	wait := beside(func() { count(1, mid, nJ) })
	count(0, 0, mid)
	wait()
	all := makeBig[int32](s.a.w.big, nJ, nJ)
	s.jAll = all
	// at[0] and at[1] become where each half's next journey of a flow direction goes
	off := int32(0)
	for fi, fl := range s.flows {
		fl.jAt, fl.nC2S, fl.nS2C = off, at[0][fi][c2s]+at[1][fi][c2s], at[0][fi][s2c]+at[1][fi][s2c]
		for d := range 2 {
			n0, n1 := at[0][fi][d], at[1][fi][d]
			at[0][fi][d], at[1][fi][d] = off, off+n0
			off += n0 + n1
		}
	}
	list := func(h, from, to int) {
		next := at[h]
		for j, fi := range s.jFlow[from:to] {
			if fi >= 0 {
				d := s.jDir[from+j]
				all[next[fi][d]] = int32(from + j)
				next[fi][d]++
			}
		}
	}
	wait = beside(func() { list(1, mid, nJ) })
	list(0, 0, mid)
	wait()
}
