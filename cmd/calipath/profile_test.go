package main

import (
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// profiledSink keeps profiledAlloc's slices live until the heap profile is written.
var profiledSink [][]byte

// profiledAlloc allocates n slices of 1 MiB, each far above the default sampling interval (512 KiB).
//
//go:noinline
func profiledAlloc(n int) {
	for range n {
		profiledSink = append(profiledSink, make([]byte, 1<<20))
	}
}

// profiledSamples counts the allocations the heap profile holds from profiledAlloc.
func profiledSamples(t *testing.T) int64 {
	t.Helper()
	runtime.GC() // the profile is published a cycle or two after the allocations
	runtime.GC()
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+16)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	var got int64
	for _, r := range recs {
		for _, pc := range r.Stack() {
			if f := runtime.FuncForPC(pc); f != nil && strings.HasSuffix(f.Name(), ".profiledAlloc") {
				got += r.AllocObjects
				break
			}
		}
	}
	return got
}

// TestHeapSampling: main turns the runtime's heap sampling off (stopHeapSampling), unless GODEBUG sets
// memprofilerate, and --memprofile (startProfiles) turns it on again, so that the profile it writes
// holds the run's allocations.
func TestHeapSampling(t *testing.T) {
	saved := runtime.MemProfileRate
	t.Cleanup(func() { runtime.MemProfileRate = saved; profiledSink = nil })
	if heapSampling == 0 {
		t.Skip("GODEBUG turned heap sampling off")
	}

	runtime.MemProfileRate = 4096
	stopHeapSampling("gctrace=1,memprofilerate=4096")
	if runtime.MemProfileRate != 4096 {
		t.Fatalf("GODEBUG's memprofilerate: MemProfileRate %d, want 4096 kept", runtime.MemProfileRate)
	}
	stopHeapSampling("gctrace=1")
	if runtime.MemProfileRate != 0 {
		t.Fatalf("MemProfileRate %d after stopHeapSampling, want 0", runtime.MemProfileRate)
	}

	// Off: profiledAlloc's slices are not sampled (but for one a P, whose cache takes the new rate
	// at its next sample).
	before := profiledSamples(t)
	profiledAlloc(64)
	if got := profiledSamples(t) - before; got > int64(runtime.GOMAXPROCS(0)) {
		t.Errorf("sampling off: %d of 64 allocations of 1 MiB sampled", got)
	}

	// --memprofile: sampled again from startProfiles on.
	stop, err := startProfiles("", filepath.Join(t.TempDir(), "mem.pprof"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.MemProfileRate != heapSampling {
		t.Errorf("MemProfileRate %d with --memprofile, want %d", runtime.MemProfileRate, heapSampling)
	}
	before = profiledSamples(t)
	profiledAlloc(64)
	stop()
	if got := profiledSamples(t) - before; got < 32 {
		t.Errorf("--memprofile: %d of 64 allocations of 1 MiB sampled, want most", got)
	}
}
