package decode

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"
)

// Spill is where LoadSpilled keeps a Capture's Observations and fingerprints: one temporary file per
// input file for each, mapped into memory once the file is read, so that they are not on the Go heap.
// The process keeps resident only the pages it touched since the last release (a background release
// drops them from its memory once they pass SpillResident; the kernel's page cache keeps them,
// writing them to the temporary files when memory is short), so its memory no longer grows by the
// 48 bytes a frame the in-memory Capture holds. The temporary files are removed as soon as they are mapped.
// Close ends the mapping: the Capture (and any Result built from it) must not be used after it.
type Spill struct {
	mu     sync.Mutex // guards maps, bytes, mapped and mapErr once the release loop runs
	maps   [][]byte
	bytes  int64
	mapped int64 // of it, the bytes Map gave
	mapErr error // the first reason Map gave nil
	trimSt statm // Trim's look at the resident mapped memory
	dir    string
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// SpillRelease is how often a Spill looks at how much of the mapped files the process holds, and
// SpillResident how much it may hold before the Spill drops the pages it touched from its memory.
const (
	SpillRelease  = 2 * time.Millisecond
	SpillResident = 64 << 20
)

// obsSize is the size of an Observation in memory and in a spill file.
const obsSize = int(unsafe.Sizeof(Observation{}))

// Bytes returns how many bytes of Observations and fingerprints the Spill holds.
func (s *Spill) Bytes() int64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// LoadSpilled is LoadProgress that writes each file's Observations and fingerprints to temporary
// files in dir (the system's temporary directory when dir is "") as it reads them, and maps them
// when the file is done (see Spill). The Capture is the same as LoadProgress's, frame for frame. It
// fails only when the temporary files cannot be written or mapped (a full disk), or when the system
// cannot map files (ErrNoSpill); nothing is left in dir then.
func LoadSpilled(paths []string, opts Options, cfg PointConfig, progress Progress, dir string) (*Capture, *Spill, error) {
	paths, progress = inOrder(paths, progress)
	var sp *Spill
	var err error
	c := loadSnapped(paths, opts, func(opts Options) *Capture {
		if sp != nil {
			sp.Close() // the first read's, read again on the headers only (loadSnapped)
		}
		var c *Capture
		c, sp, err = loadSpilled(paths, opts, cfg, progress, dir)
		return c
	})
	if c == nil {
		return nil, nil, err
	}
	return c, sp, nil
}

func loadSpilled(paths []string, opts Options, cfg PointConfig, progress Progress, dir string) (*Capture, *Spill, error) {
	if !spillSupported {
		return nil, nil, ErrNoSpill
	}
	t := NewTables()
	sinks := make([]spillSink, len(paths))
	for i := range sinks {
		if err := sinks[i].open(dir); err != nil {
			for j := 0; j <= i; j++ {
				sinks[j].abort()
			}
			return nil, nil, err
		}
	}
	stamps := make([]Stamps, len(paths))
	files := scanFiles(paths, opts, t, func(file int) ScanFunc {
		s, st := &sinks[file], &stamps[file]
		return func(r *Record, p *Packet, o *Observation) {
			o.TsLo = st.add(r.Ts, r.Frame)
			s.add(o, p.Loose)
		}
	}, nil, progress)
	sp := &Spill{stop: make(chan struct{}), done: make(chan struct{}), dir: dir}
	obs := make([][]Observation, len(paths))
	loose := make([]Fingerprints, len(paths))
	var err error
	for f := range sinks {
		if err == nil {
			obs[f], loose[f], err = sinks[f].finish(sp)
			applyFragFixes(files[f], obs[f], &loose[f])
		}
		sinks[f].abort() // the files are mapped (or not needed): their names go
	}
	if err != nil {
		sp.unmap()
		return nil, nil, err
	}
	go sp.releaseLoop()
	c := IdentifyFiles(files, t, cfg)
	if named, ok := misnamedRouters(c, obs, stamps, nil, cfg); ok {
		c = IdentifyFiles(files, t, named)
	}
	for f := range stamps {
		stamps[f].trim()
	}
	c.Obs, c.Loose, c.Stamps = obs, loose, stamps
	c.PortConflicts = PortConflicts(c, opts)
	return c, sp, nil
}

// ErrNoSpill says that this system cannot keep a Capture in mapped files.
var ErrNoSpill = errors.New("this system cannot keep the frames in mapped files")

// spillBuf is the buffer of each input file's Observations on their way to the spill (its
// fingerprints get a quarter): all the files' buffers are in memory while the inputs are read.
const spillBuf = 256 << 10

// spillSink writes one input file's Observations and fingerprints to two temporary files.
type spillSink struct {
	of, ff *os.File
	ow, fw *bufio.Writer
	n      int
	fp     uint64 // the fingerprint being written (a field: a local's address would escape to the heap)
	err    error  // the first write error
}

func (s *spillSink) open(dir string) error {
	var err error
	if s.of, err = os.CreateTemp(dir, "calipath-obs-*"); err != nil {
		return fmt.Errorf("spill the frames: %w", err)
	}
	if s.ff, err = os.CreateTemp(dir, "calipath-fp-*"); err != nil {
		return fmt.Errorf("spill the frames: %w", err)
	}
	s.ow, s.fw = bufio.NewWriterSize(s.of, spillBuf), bufio.NewWriterSize(s.ff, spillBuf/4) // a pair per input file
	return nil
}

func (s *spillSink) add(o *Observation, loose uint64) {
	if s.err != nil {
		return
	}
	_, err := s.ow.Write(unsafe.Slice((*byte)(unsafe.Pointer(o)), obsSize))
	if err == nil {
		s.fp = loose
		_, err = s.fw.Write(unsafe.Slice((*byte)(unsafe.Pointer(&s.fp)), 8))
	}
	if err != nil {
		s.err = fmt.Errorf("spill the frames to %s: %w", s.of.Name(), err)
		return
	}
	s.n++
}

// finish flushes the files and maps them into sp, returning the file's Observations and fingerprints.
func (s *spillSink) finish(sp *Spill) ([]Observation, Fingerprints, error) {
	if s.err != nil {
		return nil, Fingerprints{}, s.err
	}
	if err := s.ow.Flush(); err != nil {
		return nil, Fingerprints{}, fmt.Errorf("spill the frames to %s: %w", s.of.Name(), err)
	}
	if err := s.fw.Flush(); err != nil {
		return nil, Fingerprints{}, fmt.Errorf("spill the frames to %s: %w", s.ff.Name(), err)
	}
	if s.n == 0 {
		return nil, Fingerprints{}, nil
	}
	ob, err := sp.mapFile(s.of, s.n*obsSize)
	if err != nil {
		return nil, Fingerprints{}, err
	}
	fb, err := sp.mapFile(s.ff, s.n*8)
	if err != nil {
		return nil, Fingerprints{}, err
	}
	obs := unsafe.Slice((*Observation)(unsafe.Pointer(&ob[0])), s.n)
	all := unsafe.Slice((*uint64)(unsafe.Pointer(&fb[0])), s.n)
	var fp Fingerprints
	for i := 0; i < s.n; i += FingerprintChunk {
		end := min(i+FingerprintChunk, s.n)
		fp.Chunks = append(fp.Chunks, all[i:end:end])
	}
	return obs, fp, nil
}

// abort closes and removes the sink's files (a mapping outlives them).
func (s *spillSink) abort() {
	for _, f := range []*os.File{s.of, s.ff} {
		if f != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}
	s.of, s.ff = nil, nil
}

func (sp *Spill) mapFile(f *os.File, n int) ([]byte, error) {
	b, err := mapShared(f, n)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	sp.mu.Lock()
	sp.maps = append(sp.maps, b)
	sp.bytes += int64(n)
	sp.mu.Unlock()
	return b, nil
}

// releaseLoop drops the mapped pages from the process's memory whenever, at a look every
// SpillRelease, the process holds more than SpillResident bytes of mapped files, until Close.
func (sp *Spill) releaseLoop() {
	defer close(sp.done)
	tick := time.NewTicker(SpillRelease)
	defer tick.Stop()
	var st statm
	defer st.close()
	for {
		select {
		case <-sp.stop:
			return
		case <-tick.C:
			if n, ok := st.read(); ok && n <= SpillResident {
				continue
			}
			sp.mu.Lock()
			for _, b := range sp.maps {
				release(b)
			}
			sp.mu.Unlock()
		}
	}
}

// Close stops the releases and unmaps the files. The Capture LoadSpilled returned must not be used
// after it. Close may be called more than once.
func (sp *Spill) Close() error {
	if sp == nil {
		return nil
	}
	var err error
	sp.once.Do(func() {
		close(sp.stop)
		<-sp.done
		err = sp.unmap()
	})
	return err
}

func (sp *Spill) unmap() error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.trimSt.close()
	var first error
	for _, b := range sp.maps {
		if err := unmap(b); err != nil && first == nil {
			first = err
		}
	}
	sp.maps = nil
	return first
}
