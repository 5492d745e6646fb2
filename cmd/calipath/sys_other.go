//go:build !unix

package main

import "errors"

// oNoFollow is 0 where the system has no O_NOFOLLOW: there, an exclusive create (O_EXCL) already fails
// at any existing name, a link included, and a replaced file is written beside it and renamed.
const oNoFollow = 0

// dupFD fails where file descriptors cannot be duplicated: ownFD finds none there (no /dev/fd).
func dupFD(int) (int, error) {
	return -1, errors.New("duplicating a file descriptor is not supported on this system")
}

// fileOwner reports no owner: files carry none that calipath can keep.
func fileOwner(interface{ Sys() any }) (uid, gid int, ok bool) {
	return 0, 0, false
}
