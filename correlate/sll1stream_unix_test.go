//go:build unix

package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/calipath/calipath/decode"
)

// A cooked v1 capture read as a stream (here a FIFO) cannot be read twice to learn its node's pods:
// its input says so and how to get the answer, and node-b's pod side, which then holds the frames in
// from the wire, is not named after node-a's pod (whose frames node-a's file shows it sending), and no
// ERROR is given.
func TestSLLv1Stream(t *testing.T) {
	dir := t.TempDir()
	src := "../testdata/lab/scenarios/any-bgp-forward-drop/"
	a, b := filepath.Join(dir, "node-a-any.pcap"), filepath.Join(dir, "node-b-any.v1")
	sllV1(t, src+"node-a-any.pcap", a)
	sllV1(t, src+"node-b-any.pcap", b)
	fifo := filepath.Join(dir, "node-b-any.pcap")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO:", err)
	}
	data, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			_, _ = f.Write(data)
			f.Close()
		}
	}()
	r := Correlate(decode.Load([]string{a, fifo}, decode.Options{}, decode.PointConfig{}), Options{})
	said := false
	for _, in := range r.Inputs {
		for _, e := range in.Errors {
			said = said || (in.File == fifo && strings.Contains(e, "read as a stream") && strings.Contains(e, "cooked v2"))
		}
	}
	if !said {
		t.Errorf("no input problem says the stream's incoming frames cannot be told apart: %+v", r.Inputs)
	}
	for _, p := range r.Points {
		if p.Node == "node-b" && p.PodIP == "10.244.1.5" {
			t.Errorf("%s: named after node-a's pod %s", p.ID, p.PodIP)
		}
	}
	for _, an := range r.Anomalies {
		if an.Severity == "error" {
			t.Errorf("ERROR %s at %+v (%d)", an.Kind, an.Where, an.Count)
		}
	}
}
