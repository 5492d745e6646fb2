package cputime

import "time"

// Usage is what the process has used, every thread.
type Usage struct {
	CPU time.Duration // user and system time
	Sys time.Duration // system time alone: the kernel's work for the process (copies, page faults)
	// MinFlt counts the pages the kernel mapped in without reading a file: on a first touch, and in
	// bulk (internal/prefault's populating counts each page it maps, where a page-fault event
	// (perf's page-faults) counts only the faults taken one by one).
	MinFlt int64
}
