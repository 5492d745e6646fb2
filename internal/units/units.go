// Package units formats quantities for people: the report's progress line and the TUI's loading
// screen share it.
package units

import "fmt"

// Bytes formats a byte count with a binary unit: 512B, 1.5KiB, 12.3MiB, 1.75GiB.
func Bytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%dB", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2fGiB", float64(n)/(1<<30))
}
