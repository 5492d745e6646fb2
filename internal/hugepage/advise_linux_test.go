//go:build linux

package hugepage

import (
	"os"
	"testing"
)

// TestAdvise checks that the kernel took the advice: the mapping holding a large slice's first whole
// huge page is flagged hg (huge page advised) in /proc/self/smaps, and that small and empty slices
// are left alone.
func TestAdvise(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Skipf("this kernel has no transparent huge pages (%v): the advice is refused and Advise does nothing", err)
	}
	defer Enable(false)() // as by default, whatever CALIPATH_HUGEPAGES says here
	off := make([]uint64, 0, 8<<20/8)
	Advise(off)
	if ok, err := Advised(off); ok || err != nil {
		t.Errorf("an 8 MiB slice with the advice off: Advised %v, %v", ok, err)
	}
	defer Enable(true)()
	Advise([]uint64(nil))
	Advise(make([]uint64, 0, 10))
	s := make([]uint64, 0, 8<<20/8) // 8 MiB: fresh memory from the system
	Advise(s)
	if ok, err := Advised(s); !ok || err != nil {
		t.Errorf("an advised 8 MiB slice: Advised %v, %v", ok, err)
	}
	s = append(s, 1)
	if s[0] != 1 {
		t.Error("the slice does not hold what was written")
	}
	if ok, err := Advised(make([]byte, 10)); ok || err != nil {
		t.Errorf("a slice spanning no huge page: Advised %v, %v", ok, err)
	}
}

// TestMake checks that Make returns a slice of the length and capacity asked for, advised when large.
func TestMake(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Skipf("this kernel has no transparent huge pages (%v)", err)
	}
	defer Enable(true)()
	if s := Make[uint32](3, 10); len(s) != 3 || cap(s) != 10 {
		t.Fatalf("Make(3, 10): len %d cap %d", len(s), cap(s))
	}
	s := Make[uint64](8<<20/8, 8<<20/8)
	if len(s) != 8<<20/8 || cap(s) != len(s) {
		t.Fatalf("Make: len %d cap %d", len(s), cap(s))
	}
	if ok, err := Advised(s); !ok || err != nil {
		t.Errorf("Make of 8 MiB: Advised %v, %v", ok, err)
	}
}
