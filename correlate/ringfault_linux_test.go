//go:build linux

package correlate

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRingGrowthMapped checks that the journey ring newJourney grows into is mapped into the process
// whole when it is made (one system call), not a page fault at a time as journeys are first written
// to it: after the ring has grown to 1<<17 states (12 MB, fresh memory), the half of it no journey
// has reached yet is resident already.
func TestRingGrowthMapped(t *testing.T) {
	probe, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	err = unix.Madvise(probe, unix.MADV_POPULATE_WRITE)
	_ = unix.Munmap(probe)
	if errors.Is(err, unix.EINVAL) {
		t.Skipf("this kernel cannot populate memory (%v)", err)
	}
	m := &matcher{ring: make([]jstate, 1<<12), mask: 1<<12 - 1}
	for len(m.ring) < 1<<17 || int(m.next) < len(m.ring)/2+1 {
		j := m.newJourney(int64(m.next))
		*m.st(j) = jstate{id1: j + 1}
	}
	if in, all := residentPages(t, m.ring[len(m.ring)/2+2048:]); in != all {
		t.Errorf("%d of the %d pages of the ring's unwritten half are resident, want all: the ring was not mapped when made", in, all)
	}
}
