//go:build !linux

package prefault

// advise does nothing where there is no call to populate memory, and says so.
func advise(b []byte) bool { return false }
