package correlate

import (
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// TestMain names, after the run, the tests skipped for want of a program (mergecap).
func TestMain(m *testing.M) { testtool.Main(m) }
