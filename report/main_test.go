package report

import (
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

// TestMain ends the Chromium the HTML tests share and names the tests skipped for want of it in the
// output of a plain go test.
func TestMain(m *testing.M) {
	testtool.Main(m, stopChromium)
}
