package main

import (
	"encoding/json"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/google/go-cmp/cmp"
)

// `report --format json --journeys` lists every journey, as a Result correlated with
// Options.Journeys does, though the printer now renders them one at a time, and with --flow only those
// of the matching flows.
func TestReportJourneys(t *testing.T) {
	files := demoFiles(t, demoDefault)
	want := correlate.Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), correlate.Options{Journeys: true})
	if len(want.Journeys) == 0 {
		t.Fatal("the demo has no journeys")
	}
	for _, c := range []struct {
		args []string
		n    int // journeys expected; -1: all
	}{{nil, -1}, {[]string{"--flow", "port 1"}, 0}} {
		args := append(append([]string{"report", "--format", "json", "--journeys"}, c.args...), files...)
		code, out, stderr := runCmd(t, args...)
		if code != 0 && code != 3 {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		var got correlate.Result
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if c.n < 0 {
			if diff := cmp.Diff(want.Journeys, got.Journeys); diff != "" {
				t.Errorf("journeys (-want +got):\n%s", diff)
			}
		} else if len(got.Journeys) != c.n {
			t.Errorf("%v: %d journeys, want %d", c.args, len(got.Journeys), c.n)
		}
	}
}
