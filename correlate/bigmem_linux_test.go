//go:build linux

package correlate

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/calipath/calipath/decode"
)

// residentPages counts the pages of s's memory (whole pages inside it) that the process holds
// (mincore; for a file mapping, the ones in the page cache).
func residentPages[T any](t *testing.T, s []T) (in, all int) {
	t.Helper()
	page := uintptr(os.Getpagesize())
	var zero T
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	start, end := (p+page-1)&^(page-1), (p+uintptr(cap(s))*unsafe.Sizeof(zero))&^(page-1)
	vec := make([]byte, (end-start)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, start, end-start, uintptr(unsafe.Pointer(unsafe.SliceData(vec)))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	for _, v := range vec {
		if v&1 != 0 {
			in++
		}
	}
	return in, len(vec)
}

// makeFilled maps a heap array into the process whole before its first write (one call, not a page
// fault per page), with its contents zero as makeBig's; an array the Mapper gives (bounded-memory
// mode) is not mapped in beyond what it is: that mode holds its allowance by dropping pages.
func TestMakeFilled(t *testing.T) {
	probe := make([]byte, 1<<20)
	if err := unix.Madvise(probe[64<<10:128<<10], unix.MADV_POPULATE_WRITE); errors.Is(err, unix.EINVAL) {
		t.Skipf("this kernel cannot populate memory (%v)", err)
	}
	const n = 16 << 20 / 4 // 16 MiB: fresh from the system
	s := makeFilled[uint32](nil, n, n)
	if in, all := residentPages(t, s); in != all {
		t.Errorf("a filled array on the heap: %d of its %d pages resident before its first write", in, all)
	}
	for i, v := range s {
		if v != 0 {
			t.Fatalf("element %d is %d", i, v)
		}
	}
	_, sp, err := decode.LoadSpilled([]string{"../testdata/lab/scenarios/any-underlay-drop/node-a-any.pcap"},
		decode.Options{}, decode.PointConfig{}, nil, t.TempDir())
	if err == decode.ErrNoSpill {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	m := makeFilled[uint32](sp, n, n)
	if in, all := residentPages(t, m); in > all/8 {
		t.Errorf("a filled array of the Mapper: %d of its %d pages mapped in before its first write", in, all)
	}
}

// The flow stage's blocks of flows are mapped in a window at a time as flows take them (refill): the
// same number of accumulators and of votes, resident before their first writes, the rest of the block
// left for the next windows.
func TestFlowRefillMapsIn(t *testing.T) {
	probe := make([]byte, 1<<20)
	if err := unix.Madvise(probe[64<<10:128<<10], unix.MADV_POPULATE_WRITE); errors.Is(err, unix.EINVAL) {
		t.Skipf("this kernel cannot populate memory (%v)", err)
	}
	s := &flowStage{}
	s.flows = make([]*flowAcc, flowBlockLen()) // as many flows found so far: a full-size block
	total := 0
	for k := 0; total < flowBlockLen(); k++ {
		s.refill()
		if len(s.slab) != len(s.vslab) || len(s.slab) == 0 || len(s.slab) > flowWindow {
			t.Fatalf("window %d: %d accumulators and %d votes, want the same, at most %d", k, len(s.slab), len(s.vslab), flowWindow)
		}
		for _, m := range []func() (int, int){
			func() (int, int) { return residentPages(t, s.slab) },
			func() (int, int) { return residentPages(t, s.vslab) },
		} {
			if in, all := m(); in != all {
				t.Errorf("window %d: %d of its %d pages resident before the flows' first writes", k, in, all)
			}
		}
		total += len(s.slab)
		s.slab, s.vslab = s.slab[len(s.slab):], s.vslab[len(s.vslab):] // taken by flows
	}
	if total != flowBlockLen() || len(s.slabRest) != 0 {
		t.Errorf("the block held %d flows, %d left over; want %d", total, len(s.slabRest), flowBlockLen())
	}
}
