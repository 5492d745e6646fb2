//go:build linux

package decode

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the whole of f, a non-empty regular file, for reading, advised to be read front to
// back; ok is false when f is not such a file or cannot be mapped.
func mapFile(f *os.File) (data []byte, ok bool) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() <= 0 || int64(int(st.Size())) != st.Size() {
		return nil, false
	}
	data, err = unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, false
	}
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
	return data, true
}

// letGo unmaps b's pages (of a file mapping) from the process; the page cache keeps them, and a read
// of b maps them again.
func letGo(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }

// dense reports whether f, a regular file, has storage for all its bytes (no holes): its windows
// may be mapped in whole ahead of the scan (a hole's pages read into the page cache as zeros, which
// the scan skips unread, see skipHoleMapped).
func dense(f *os.File) bool {
	var st unix.Stat_t
	return unix.Fstat(int(f.Fd()), &st) == nil && st.Blocks*512 >= st.Size
}
