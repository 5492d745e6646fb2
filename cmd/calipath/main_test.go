package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// TestMain removes the binary the terminal tests share and names the tests skipped for want of tmux
// or tshark in the output of a plain go test.
func TestMain(m *testing.M) {
	testtool.Main(m, func() {
		if binDir != "" {
			os.RemoveAll(binDir)
		}
	})
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// calipathBinary builds the calipath binary, once for all the tests that run it in a terminal.
func calipathBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "calipath-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "calipath")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}
