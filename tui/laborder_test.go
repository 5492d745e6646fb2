package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// labFiles lists a lab scenario's captures as the lab's scripts read them: the per-interface ones,
// or the "any" captures when there are none.
func labFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files, anys []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if strings.HasSuffix(f, "-any.pcap") {
				anys = append(anys, f)
			} else {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return anys
	}
	return files
}

// Every order of the flow list (worst first and every column) on every lab scenario and on the
// many-flow mix equals sorting the flows by the column's comparison (refLess, ties in flow order), and
// its ties are marked exactly where the comparison finds two flows equal.
func TestLabOrdersAsComparisons(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/lab/scenarios/*")
	if err != nil || len(dirs) < 30 {
		t.Fatalf("%d lab scenarios found (%v)", len(dirs), err)
	}
	cols := []int{sortWorst}
	for i := range flowColumns {
		cols = append(cols, i)
	}
	flows := 0
	for _, dir := range dirs {
		files := labFiles(t, dir)
		if len(files) == 0 {
			continue
		}
		res := correlate.Correlate(decode.Load(files, decode.Options{VXLANPort: decode.DefaultVXLANPort},
			decode.PointConfig{}), correlate.Options{})
		flows += len(res.Flows)
		t.Run(filepath.Base(dir), func(t *testing.T) { checkOrders(t, &common{res: res}, cols...) })
	}
	if flows < 100 {
		t.Errorf("the lab scenarios hold %d flows: too few to check the orders", flows)
	}
	t.Run("many-flows", func(t *testing.T) { checkOrders(t, &common{res: manyFlowsTestResult(t)}, cols...) })
}
