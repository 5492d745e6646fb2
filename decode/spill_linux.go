//go:build linux

package decode

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

const spillSupported = true

// mapShared maps the first n bytes of f for reading and writing, shared with the file (writes reach
// the file, so the kernel can write them back and evict them rather than keep them in memory).
func mapShared(f *os.File, n int) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

// release drops b's pages from the process's memory; the page cache keeps their contents (a shared
// mapping's changes included), so the next read finds them again.
func release(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }

func unmap(b []byte) error { return unix.Munmap(b) }

// residentMapped returns how many bytes of mapped files (and shared memory) the process holds:
// the third field of /proc/self/statm, in pages. ok is false when it cannot be read.
func residentMapped() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return 0, false
	}
	return n * int64(os.Getpagesize()), true
}

// SpillInMemory reports whether dir is on a file system held in memory (tmpfs, ramfs), where spilled
// frames take memory all the same.
func SpillInMemory(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC
}
