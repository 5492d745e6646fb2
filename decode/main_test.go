package decode

import (
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// TestMain names the tests skipped for want of tshark in the output of a plain go test.
func TestMain(m *testing.M) { testtool.Main(m) }
