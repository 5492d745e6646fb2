//go:build linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// writebackStarter returns what starts the writeback of a range of f's bytes (sync_file_range with
// SYNC_FILE_RANGE_WRITE: it does not wait for the writes to complete, though it may wait while the
// device's queue is full, which is why it runs on writeback's own goroutine), nil when f has no
// descriptor to ask for.
// A failure is no error of the report's: the fsync after says what the disk did.
func writebackStarter(f *os.File) func(off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	return func(off, n int64) {
		_ = rc.Control(func(fd uintptr) { _ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE) })
	}
}
