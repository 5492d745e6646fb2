//go:build linux

package decode

import (
	"os"

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
