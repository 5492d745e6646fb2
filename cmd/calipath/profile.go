package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

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
