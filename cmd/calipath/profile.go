package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
)

// heapSampling is the runtime's sampling of allocations for heap profiles as the process started
// (runtime.MemProfileRate: one sample every 512 KiB allocated unless GODEBUG's memprofilerate says
// otherwise), which stopHeapSampling turns off and a --memprofile run turns on again.
var heapSampling = runtime.MemProfileRate

// stopHeapSampling turns off the runtime's sampling of allocations for heap profiles, which nothing
// reads without --memprofile: each sample records the allocating goroutine's stack (a traceback of
// about 40,000 instructions), and calipath's large allocations, the frames' and journeys' arrays of
// hundreds of KiB each, are sampled nearly every one (169 samples, 7.2 M instructions on a 1 M-frame
// capture). A GODEBUG that sets memprofilerate keeps its rate. Call it first in main.
func stopHeapSampling(godebug string) {
	if !strings.Contains(godebug, "memprofilerate=") {
		runtime.MemProfileRate = 0
	}
}

// startCPUProfile starts a CPU profile written to path; the returned function stops it.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeapProfile writes the live heap to path.
func writeHeapProfile(path string, stderr io.Writer) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "calipath: %s\n", sanitize(err.Error()))
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintf(stderr, "calipath: %s\n", sanitize(err.Error()))
	}
}

// startProfiles starts the CPU profile when cpu names a file; the returned stop ends it and writes the
// heap profile when mem names one. Call stop when the command's work is done (deferred).
func startProfiles(cpu, mem string, stderr io.Writer) (stop func(), err error) {
	stopCPU := func() {}
	if mem != "" && runtime.MemProfileRate == 0 {
		runtime.MemProfileRate = heapSampling // the profile's samples, from here on
	}
	if cpu != "" {
		if stopCPU, err = startCPUProfile(cpu); err != nil {
			return nil, err
		}
	}
	return func() {
		if mem != "" {
			writeHeapProfile(mem, stderr)
		}
		stopCPU()
	}, nil
}
