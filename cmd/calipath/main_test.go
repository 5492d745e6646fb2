package main

import (
	"os"
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// TestMain removes the binary the real-process tests share (binary_test.go) and names the tests
// skipped for want of tmux or tshark in the output of a plain go test.
func TestMain(m *testing.M) {
	testtool.Main(m, func() {
		if builtBinary.dir != "" {
			os.RemoveAll(builtBinary.dir)
		}
	})
}
