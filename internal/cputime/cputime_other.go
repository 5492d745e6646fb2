//go:build !unix

// Package cputime reads the CPU time the process has used, for the timings calipath logs
// (tui --log-file, report --log-file).
package cputime

import "time"

// Process is the CPU time the process has used so far; false where it cannot be read (here).
func Process() (time.Duration, bool) { return 0, false }

// Read is what the process has used so far; false where it cannot be read (here).
func Read() (Usage, bool) { return Usage{}, false }
