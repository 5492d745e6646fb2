//go:build !unix

package report

import "time"

// cpuTimes reports no CPU time where getrusage is missing: the benchmarks' user-ms/op and sys-ms/op
// are then 0, not measured.
func cpuTimes() (user, sys time.Duration) { return 0, 0 }
