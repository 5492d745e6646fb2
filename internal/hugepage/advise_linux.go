//go:build linux

package hugepage

import "syscall"

func advise(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }

func release(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }
