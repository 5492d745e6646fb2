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
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
