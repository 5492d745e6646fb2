package report

import (
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// TestFunctionLength keeps every function of the package short enough to read at once: at most 80
// lines, tests aside.
func TestFunctionLength(t *testing.T) { testtool.CheckFunctionLength(t, 80) }
