package correlate

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/testtool"
)

// mergeNodes returns a lab scenario's per-interface captures (no -i any, no pcapng) with each node's
// Ethernet ones (its pods' cali veths, eth0, vxlan.calico or vxlan-v6.calico) that hold frames merged by mergecap into one
// classic pcap file, node-X.pcap: one interface, each packet once per interface it crossed. It returns
// the per-file list and the merged one; merged is nil when no node has two such files.
func mergeNodes(t *testing.T, mergecap, dir string) (perFile, merged []string) {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	byNode := map[string][]string{}
	for _, p := range all {
		base := filepath.Base(p)
		if strings.HasSuffix(base, "-any.pcap") {
			continue
		}
		perFile = append(perFile, p)
		node, iface := decode.SplitFileName(p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ether := len(b) > 24+16 && binary.LittleEndian.Uint32(b[20:]) == 1
		if ether && strings.HasPrefix(node, "node-") && (strings.HasPrefix(iface, "cali") || iface == "eth0" || iface == "vxlan.calico" || iface == "vxlan-v6.calico") {
			byNode[node] = append(byNode[node], p)
			continue
		}
		merged = append(merged, p)
	}
	done := false
	tmp := t.TempDir()
	for node, files := range byNode {
		if len(files) < 2 {
			merged = append(merged, files...)
			continue
		}
		out := filepath.Join(tmp, node+".pcap")
		if b, err := exec.Command(mergecap, append([]string{"-w", out, "-F", "pcap"}, files...)...).CombinedOutput(); err != nil {
			t.Fatalf("mergecap %v: %v: %s", files, err, b)
		}
		merged, done = append(merged, out), true
	}
	if !done {
		return perFile, nil
	}
	sort.Strings(merged)
	return perFile, merged
}

// stageVerdicts is what a run concludes, with points named by node and stage (a pod's veth, eth0, the
// tunnel device): the summary's counts and each anomaly's kind, severity, place and count.
func stageVerdicts(r *Result) []string {
	name := func(id string) string {
		if id == "" {
			return ""
		}
		node, iface, _ := strings.Cut(id, "/")
		switch _, stage, _ := strings.Cut(iface, "#"); {
		case strings.HasPrefix(iface, "cali") || strings.HasPrefix(stage, "veth"):
			return node + "/veth"
		case stage == "eth0":
			return node + "/eth0"
		case stage == "tunnel" || iface == "vxlan.calico" || iface == "vxlan-v6.calico":
			return node + "/tunnel"
		}
		return id
	}
	s := r.Summary
	out := []string{fmt.Sprintf("summary: %d journeys, %d delivered, %d lost, %d not captured", s.Journeys, s.Delivered, s.Lost, s.NotCaptured)}
	for _, a := range r.Anomalies {
		out = append(out, fmt.Sprintf("%s %s at %s %s→%s (%d)", a.Severity, a.Kind, name(a.Where.Point), name(a.Where.From), name(a.Where.To), a.Count))
	}
	sort.Strings(out)
	return out
}

// A node's captures merged by mergecap into one file with one Ethernet interface (its pods' veths,
// eth0, vxlan.calico: the frames of each packet once per interface it crossed, no interface ids) read
// as one capture point made each packet several journeys at it: healthy-ipip's 27 packets were 56
// (55 delivered, 1 lost, a retransmission at each node), ipip-input-drop's host-drop at node-b was
// "not captured". The merged file is split into stages (file#veth, file#eth0, file#tunnel) by the
// frames' link addresses and encapsulation: each lab scenario's verdicts equal the per-file run's.
func TestMergecapNodeCapture(t *testing.T) {
	mergecap := testtool.Path(t, testtool.Mergecap)
	dirs, _ := filepath.Glob("../testdata/lab/scenarios/*")
	ran := 0
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "truth.json")); err != nil {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			perFile, merged := mergeNodes(t, mergecap, dir)
			if merged == nil {
				t.Skip("no node with two Ethernet captures")
			}
			ran++
			want := stageVerdicts(Correlate(decode.Load(perFile, decode.Options{}, decode.PointConfig{}), Options{}))
			got := stageVerdicts(Correlate(decode.Load(merged, decode.Options{}, decode.PointConfig{}), Options{}))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("merged captures:\n  %s\nper-file captures:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
	if ran < 20 {
		t.Errorf("only %d lab scenarios had a node with two Ethernet captures", ran)
	}
}

// --point NODE:eth0=FILE on a merged capture: its frames are of several stages, not of eth0 alone,
// and the run is refused with a message that names them and says how calipath takes such a file.
func TestMergecapPointConflict(t *testing.T) {
	mergecap := testtool.Path(t, testtool.Mergecap)
	dir := "../testdata/lab/scenarios/healthy-ipip"
	out := filepath.Join(t.TempDir(), "node-a.pcap")
	files, _ := filepath.Glob(filepath.Join(dir, "node-a-cali*.pcap"))
	files = append(files, filepath.Join(dir, "node-a-eth0.pcap"))
	if b, err := exec.Command(mergecap, append([]string{"-w", out, "-F", "pcap"}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v: %s", err, b)
	}
	c := decode.Load([]string{out}, decode.Options{}, decode.PointConfig{Explicit: map[string]decode.Identity{out: {Node: "node-a", Iface: "eth0"}}})
	if len(c.PointConflicts) != 1 || !strings.Contains(c.PointConflicts[0], "a merged capture's stages eth0, veth") ||
		!strings.Contains(c.PointConflicts[0], "splits a merged capture") {
		t.Errorf("point conflicts %q, want one naming the merged capture's stages", c.PointConflicts)
	}
}
