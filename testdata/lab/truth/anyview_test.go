package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnyOnlyPoints checks that an any-only scenario's truth names every datapath interface of
// each node from its links dump, with the frames of its interface index, and that its losses sit
// where the per-interface and router captures put them.
func TestAnyOnlyPoints(t *testing.T) {
	tr, err := compute(filepath.Join("..", "scenarios", "any-underlay-drop"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, p := range tr.Points {
		if p.File != p.Node+"-any.pcap" || p.LinkType != sll2 {
			t.Errorf("point %+v: not from its node's -i any file", p)
		}
		got[p.Node+"/"+p.Iface+" "+p.Role] = p.IfIndex
	}
	want := map[string]int{
		"node-a/any any": 0, "node-a/eth0 underlay": 2, "node-a/cali5e1c4d6c68c workload": 3, "node-a/tunl0 tunnel": 4,
		"node-b/any any": 0, "node-b/eth0 underlay": 2, "node-b/cali2f5353dd8c5 workload": 3, "node-b/tunl0 tunnel": 4,
	}
	if len(got) != len(want) {
		t.Errorf("points %v, want %v", got, want)
	}
	for k, v := range want {
		if i, ok := got[k]; !ok || i != v {
			t.Errorf("point %s: ifindex %d (present %v), want %d", k, i, ok, v)
		}
	}
	if len(tr.Checked) != 8 {
		t.Errorf("checked against %v, want the 8 per-interface and router captures", tr.Checked)
	}
	for _, f := range tr.Flows {
		if f.Delivered != 0 || len(f.Lost) != 1 || f.Lost[0].Segment != "node-a/eth0→node-b/eth0" ||
			len(f.LostDetail) != 1 || f.LostDetail[0].Segment != "router-1/eth0→router-1/eth1" {
			t.Errorf("flow %s %s:%d: delivered %d lost %v detail %v", f.Proto, f.Src, f.Sport, f.Delivered, f.Lost, f.LostDetail)
		}
	}
}

// TestAnyOnlyCrossCheck breaks an any-only scenario's inputs the ways that would make its truth
// wrong (a frame the -i any capture missed, interface indexes named wrongly) and expects the
// truth computer to refuse them.
func TestAnyOnlyCrossCheck(t *testing.T) {
	src := filepath.Join("..", "scenarios", "any-ipip-input-drop")
	cases := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   string
	}{
		{"untouched", func(*testing.T, string) {}, ""},
		{"frame missing", func(t *testing.T, dir string) {
			dropLastRecord(t, filepath.Join(dir, "truth-captures", "node-a-eth0.pcap"))
		}, "node-a/eth0) and its per-interface capture differ: 1 frame(s) only in the -i any capture"},
		{"names swapped", func(t *testing.T, dir string) {
			name := filepath.Join(dir, "node-a-links.txt")
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			s := strings.NewReplacer("3: cali", "4: cali", "4: tunl0", "3: tunl0").Replace(string(b))
			if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "differ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, src, dir)
			c.mutate(t, dir)
			_, err := compute(dir)
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dropLastRecord removes the last record of a little-endian classic pcap file.
func dropLastRecord(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if m := binary.LittleEndian.Uint32(b); m != 0xa1b2c3d4 && m != 0xa1b23c4d {
		t.Fatalf("%s: not a little-endian pcap file", name)
	}
	last := -1
	for off := 24; off+16 <= len(b); off += 16 + int(binary.LittleEndian.Uint32(b[off+8:])) {
		last = off
	}
	if last < 0 {
		t.Fatalf("%s: no records", name)
	}
	if err := os.WriteFile(name, b[:last], 0o644); err != nil {
		t.Fatal(err)
	}
}
