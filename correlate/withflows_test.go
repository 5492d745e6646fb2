package correlate

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// WithFlows lists a streamed Result's flows as Correlate without StreamFlows lists them, on every lab
// scenario (the per-interface captures, or the -any ones where there are none) and on a generated
// capture with thousands of flows: the whole Result, as JSON, is the listed one's. The streamed
// Result itself is left as it was, and a Result that lists its flows is returned as it is.
func TestWithFlowsAsListed(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	if len(dirs) < 30 {
		t.Fatalf("%d lab scenarios found", len(dirs))
	}
	sets := map[string][]string{"many-flows": rangesCapture(t)}
	for _, dir := range dirs {
		all, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
		var files, anys []string
		for _, f := range all {
			if strings.HasSuffix(f, "-any.pcap") {
				anys = append(anys, f)
			} else {
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			files = anys
		}
		if len(files) > 0 {
			sets[filepath.Base(dir)] = files
		}
	}
	flows := 0
	for name, files := range sets {
		t.Run(name, func(t *testing.T) {
			load := func() *decode.Capture {
				return decode.Load(files, decode.Options{VXLANPort: decode.DefaultVXLANPort}, decode.PointConfig{})
			}
			streamed := Correlate(load(), Options{StreamFlows: true, Lean: true})
			if !streamed.FlowsStreamed() {
				t.Skip("the flows were not streamed (names from the captures)")
			}
			listed := Correlate(load(), Options{Lean: true})
			full := streamed.WithFlows()
			if full == streamed || full.FlowsStreamed() || streamed.Flows != nil || !streamed.FlowsStreamed() {
				t.Fatal("WithFlows changed the streamed Result, or returned it")
			}
			if len(full.Flows) != listed.Summary.Flows || len(full.Flows) != streamed.Summary.Flows {
				t.Fatalf("%d flows listed, the listed Result has %d", len(full.Flows), listed.Summary.Flows)
			}
			flows += len(full.Flows)
			got, err := json.Marshal(full)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(listed)
			if !bytes.Equal(got, want) {
				t.Errorf("the Result with its flows listed after is not the one listed while correlating:\n%s",
					firstDiff(got, want))
			}
			if listed.WithFlows() != listed {
				t.Error("a Result that lists its flows was not returned as it is")
			}
		})
	}
	if flows < 5000 {
		t.Errorf("%d flows compared: too few", flows)
	}
	t.Logf("%d flows compared in %d captures", flows, len(sets))
}

// firstDiff shows where two texts first differ.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return "got  …" + string(got[max(0, i-80):min(len(got), i+80)]) + "\nwant …" + string(want[max(0, i-80):min(len(want), i+80)])
}
