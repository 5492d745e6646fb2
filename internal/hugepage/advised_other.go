//go:build !linux

package hugepage

import "errors"

// Advised reports whether the kernel took the advice for s; on this system there is none to take.
func Advised[T any](s []T) (bool, error) {
	return false, errors.New("no huge page advice on this system")
}
