//go:build !linux

package main

import "os"

// writebackFlusher returns no flusher: only Linux starts a range's writeback without waiting for it.
func writebackFlusher(*os.File) flusher { return flusher{} }

// appendOnly reports false: no writeback is started here.
func appendOnly(*os.File) bool { return false }
