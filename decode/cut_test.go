package decode

import (
	"os"
	"path/filepath"
	"testing"
)

// A file that ends inside a record was cut short (FileInfo.Cut); the whole file, or one cut at a
// record's end, was not.
func TestFileCut(t *testing.T) {
	whole, err := os.ReadFile("../testdata/lab/scenarios/underlay-loss/router-1-eth1.pcap")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, c := range map[string]struct {
		data []byte
		cut  bool
	}{"whole": {whole, false}, "inside a record": {whole[:6432], true}, "at a record's end": {whole[:5069], false}} {
		p := filepath.Join(dir, "router-1-eth1.pcap")
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if fi := ScanFile(p, 0, Options{}, NewTables(), nil); fi.Cut != c.cut || fi.Records == 0 {
			t.Errorf("%s: Cut %v (%d records, problems %v), want %v", name, fi.Cut, fi.Records, fi.Problems, c.cut)
		}
	}
}
