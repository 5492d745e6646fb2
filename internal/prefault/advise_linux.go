//go:build linux

package prefault

import "golang.org/x/sys/unix"

// advise asks the kernel to populate b (page-aligned), and reports false when it refused the call
// as unknown (EINVAL: a kernel before 5.14, or memory it cannot populate) or unsupported, so that
// no more calls are made. Other errors (a file mapping whose file was cut short, no memory) leave
// the pages to fault as usual.
func advise(b []byte, write bool) bool {
	advice := unix.MADV_POPULATE_READ
	if write {
		advice = unix.MADV_POPULATE_WRITE
	}
	err := unix.Madvise(b, advice)
	return err != unix.EINVAL && err != unix.ENOSYS && err != unix.EPERM
}
