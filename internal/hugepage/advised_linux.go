//go:build linux

package hugepage

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// Advised reports whether the kernel took the advice for s: whether the mapping holding the first
// whole huge page inside s's capacity is flagged hg (huge pages advised) in /proc/self/smaps. It is
// false when s spans no whole huge page, and an error when the system has no transparent huge pages
// or smaps cannot be read. It reads a file of this process's mappings: for tests, not hot paths.
func Advised[T any](s []T) (bool, error) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		return false, err
	}
	var zero T
	n := uintptr(cap(s)) * unsafe.Sizeof(zero)
	if n == 0 {
		return false, nil
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s[:1])))
	aligned := (p + Size - 1) &^ (Size - 1)
	if aligned+Size > p+n {
		return false, nil
	}
	flags, err := vmFlags(aligned)
	if err != nil {
		return false, err
	}
	return strings.Contains(" "+flags+" ", " hg "), nil
}

// vmFlags returns the VmFlags of the mapping of this process holding address a.
func vmFlags(a uintptr) (string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", err
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
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New("no mapping holds the address")
}
