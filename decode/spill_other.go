//go:build !linux

package decode

import (
	"errors"
	"os"
)

const spillSupported = false

func mapShared(*os.File, int) ([]byte, error) { return nil, ErrNoSpill }

func reserve(*os.File, int64) error { return ErrNoSpill }

func release([]byte) {}

func unmap([]byte) error { return errors.New("nothing mapped") }

func residentMapped() (int64, bool) { return 0, false }

type statm struct{}

func (statm) read() (int64, bool) { return 0, false }
func (statm) close()              {}

// SpillInMemory reports whether dir is on a file system held in memory (never known here).
func SpillInMemory(string) bool { return false }
