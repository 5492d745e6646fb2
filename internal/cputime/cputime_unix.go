//go:build unix

// Package cputime reads the CPU time the process has used, for the timings calipath logs
// (tui --log-file, report --log-file).
package cputime

import (
	"syscall"
	"time"
)

// Process is the CPU time the process has used so far, every thread, user and system; false where it
// cannot be read.
func Process() (time.Duration, bool) {
	u, ok := Read()
	return u.CPU, ok
}

// Read is what the process has used so far, every thread; false where it cannot be read.
func Read() (Usage, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return Usage{}, false
	}
	return Usage{CPU: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), Sys: time.Duration(ru.Stime.Nano()),
		MinFlt: int64(ru.Minflt)}, true
}
