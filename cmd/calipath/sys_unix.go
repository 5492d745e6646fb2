//go:build unix

package main

import "syscall"

// oNoFollow makes an open fail at a symbolic link rather than follow it (placeFile, createTemp).
const oNoFollow = syscall.O_NOFOLLOW

// dupFD duplicates the open file descriptor fd, closed on exec (writeThrough's /dev/fd/N).
func dupFD(fd int) (int, error) {
	d, err := syscall.Dup(fd)
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(d)
	return d, nil
}

// fileOwner returns the owner and group of the file fi describes, ok false where fi has none.
func fileOwner(fi interface{ Sys() any }) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}
