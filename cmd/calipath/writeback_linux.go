//go:build linux

package main

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// writebackFlusher returns what starts the writeback of a range of f's bytes (sync_file_range with
// SYNC_FILE_RANGE_WRITE: it does not wait for the writes to complete, though it may wait while the
// device's queue is full, which is why it runs on writeback's own goroutine) and what waits for a
// range's writes and drops its pages (sync_file_range waiting before and after, then
// POSIX_FADV_DONTNEED, which drops only clean pages: what is not on disk stays). No flusher when f has
// no descriptor to ask for.
// A failure to start is no error of the report's: the fsync after says what the disk did. A failed
// wait is (the fsync would no longer say it), unless the system cannot wait on the file at all
// (EINVAL, ESPIPE, ENOSYS, EOPNOTSUPP): then nothing was waited for, and no more drops are asked.
func writebackFlusher(f *os.File) flusher {
	rc, err := f.SyscallConn()
	if err != nil {
		return flusher{}
	}
	cannot := false
	return flusher{
		start: func(off, n int64) {
			_ = rc.Control(func(fd uintptr) { _ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE) })
		},
		drop: func(off, n int64) error {
			if cannot {
				return nil
			}
			var err error
			_ = rc.Control(func(fd uintptr) {
				err = unix.SyncFileRange(int(fd), off, n,
					unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
				if err == nil {
					_ = unix.Fadvise(int(fd), off, n, unix.FADV_DONTNEED)
				}
			})
			if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ESPIPE) || errors.Is(err, unix.ENOSYS) ||
				errors.Is(err, unix.EOPNOTSUPP) {
				cannot, err = true, nil
			}
			return err
		},
	}
}

// appendOnly reports whether f was opened to append (O_APPEND: each write goes to the file's end,
// wherever its offset is), or its flags cannot be read.
func appendOnly(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return true
	}
	fl, ferr := 0, error(nil)
	if err := rc.Control(func(fd uintptr) { fl, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil || ferr != nil {
		return true
	}
	return fl&unix.O_APPEND != 0
}
