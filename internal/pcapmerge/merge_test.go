package pcapmerge

import (
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/decode"
)

// Two lab captures merged hold every frame of both, in time order, as one capture source.
func TestMerge(t *testing.T) {
	dir := "../../testdata/lab/scenarios/healthy-ipip"
	a, b := filepath.Join(dir, "node-a-cali5e1c4d6c68c.pcap"), filepath.Join(dir, "node-b-cali2f5353dd8c5.pcap")
	out := filepath.Join(t.TempDir(), "pods.pcap")
	if err := Merge(out, a, b); err != nil {
		t.Fatal(err)
	}
	c := decode.Load([]string{a, b, out}, decode.Options{}, decode.PointConfig{})
	if n := len(c.Obs[2]); n != len(c.Obs[0])+len(c.Obs[1]) || n == 0 {
		t.Fatalf("merged %d frames of %d + %d", n, len(c.Obs[0]), len(c.Obs[1]))
	}
	for i := 1; i < len(c.Obs[2]); i++ {
		if st := &c.Stamps[2]; st.Ts(i, &c.Obs[2][i]) < st.Ts(i-1, &c.Obs[2][i-1]) {
			t.Fatalf("frame %d is earlier than frame %d", i+1, i)
		}
	}
	if c.Files[2].Skipped != 0 || c.Files[2].Err != nil {
		t.Fatalf("merged file: %+v", c.Files[2])
	}
	if err := Merge(out, a, filepath.Join(dir, "node-a-tunl0.pcap")); err == nil {
		t.Error("merged captures of two link types")
	}
}
