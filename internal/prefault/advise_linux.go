//go:build linux

package prefault

import "golang.org/x/sys/unix"

// advise asks the kernel to populate b (page-aligned) for writing, and reports false when it
// refused the call as unknown (EINVAL: a kernel before 5.14, or memory it cannot populate) or
// unsupported, so that no more calls are made. Other errors (no memory) leave the pages to fault as
// usual.
func advise(b []byte) bool {
	err := unix.Madvise(b, unix.MADV_POPULATE_WRITE)
	return err != unix.EINVAL && err != unix.ENOSYS && err != unix.EPERM
}
