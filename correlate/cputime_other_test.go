//go:build !unix

package correlate

import "time"

// cpuTime reports no CPU time where getrusage is missing: the benchmarks' cpu-ms/op is then 0, not
// measured.
func cpuTime() time.Duration { return 0 }
