//go:build unix

package report

import (
	"syscall"
	"time"
)

// cpuTimes is the user and system CPU time the process used so far (every thread): the system time
// is mostly the kernel's copy of the writes into the page cache, which wall time hides in noise.
func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
