//go:build unix

package tui

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used so far, every thread, user and system; false where
// it cannot be read.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
