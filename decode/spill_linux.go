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

// reserve gives f n bytes of zeros with their blocks allocated on the file system, so that writes to
// a mapping of it cannot fail for want of room.
func reserve(f *os.File, n int64) error { return unix.Fallocate(int(f.Fd()), 0, 0, n) }

// release drops b's pages from the process's memory; the page cache keeps their contents (a shared
// mapping's changes included), so the next read finds them again.
func release(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }

func unmap(b []byte) error { return unix.Munmap(b) }

// residentMapped returns how many bytes of mapped files (and shared memory) the process holds:
// the third field of /proc/self/statm, in pages. ok is false when it cannot be read.
func residentMapped() (int64, bool) {
	var st statm
	defer st.close()
	return st.read()
}

// statm reads /proc/self/statm again and again through one open file (a read at offset 0 makes the
// kernel write it anew), so that a look costs one system call.
type statm struct {
	f   *os.File
	buf [128]byte
}

// read returns residentMapped's figure.
func (s *statm) read() (int64, bool) {
	if s.f == nil {
		f, err := os.Open("/proc/self/statm")
		if err != nil {
			return 0, false
		}
		s.f = f
	}
	n, err := s.f.ReadAt(s.buf[:], 0)
	if n == 0 && err != nil {
		return 0, false
	}
	f := bytes.Fields(s.buf[:n])
	if len(f) < 3 {
		return 0, false
	}
	v, perr := strconv.ParseInt(string(f[2]), 10, 64)
	if perr != nil {
		return 0, false
	}
	return v * int64(os.Getpagesize()), true
}

func (s *statm) close() {
	if s.f != nil {
		_ = s.f.Close()
	}
}

// SpillInMemory reports whether dir is on a file system held in memory (tmpfs, ramfs), where spilled
// frames take memory all the same.
func SpillInMemory(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	// Type is an int64 on 64-bit Linux and an int32 on 32-bit (where RAMFS_MAGIC, above 2^31, does not
	// fit): the magic numbers are 32 bits everywhere, so compare those.
	t := uint32(st.Type)
	return t == unix.TMPFS_MAGIC || t == unix.RAMFS_MAGIC
}
