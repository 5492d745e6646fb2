//go:build linux

package hugepage

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestAdvise checks that the kernel took the advice: the mapping holding a large slice's first whole
// huge page is flagged hg (huge page advised) in /proc/self/smaps, and that small and empty slices
// are left alone.
func TestAdvise(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Skipf("this kernel has no transparent huge pages (%v): the advice is refused and Advise does nothing", err)
	}
	Advise([]uint64(nil))
	Advise(make([]uint64, 0, 10))
	s := make([]uint64, 0, 8<<20/8) // 8 MiB: fresh memory from the system
	Advise(s)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s[:1])))
	aligned := (p + Size - 1) &^ (Size - 1)
	flags, ok := vmFlags(t, aligned)
	if !ok {
		t.Fatalf("no mapping holds %#x", aligned)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the mapping holding %#x has VmFlags %q, want hg among them", aligned, flags)
	}
	s = append(s, 1)
	if s[0] != 1 {
		t.Error("the slice does not hold what was written")
	}
}

// vmFlags returns the VmFlags of the mapping of this process holding address a.
func vmFlags(t *testing.T, a uintptr) (string, bool) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		// A mapping's line: "start-end perms offset dev inode [path]"; its attributes follow.
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && len(fields) >= 5 {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(a) >= l && uint64(a) < h
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), true
		}
	}
	return "", false
}
