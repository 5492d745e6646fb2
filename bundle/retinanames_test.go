package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// review9 #6: the Retina fixture with its nodes.json's two node names swapped. Before, each tarball
// silently became the other node (its address dump's address is the other name's in the list), though
// its name (incident-node-a-…) says which node it is. The address still decides, but each tarball is a
// problem naming both nodes and the fix, and its points' reason says the name contradicts it.
func TestRetinaNodeNamesContradicted(t *testing.T) {
	src := filepath.Join(fixtures, "retina")
	dir := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "nodes.json" {
			s := strings.NewReplacer(`"name": "node-a"`, `"name": "node-b"`, `"name": "node-b"`, `"name": "node-a"`).Replace(string(b))
			if s == string(b) {
				t.Fatal("nodes.json: no node name to swap")
			}
			b = []byte(s)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := expandLoad(t, []string{dir}, Options{})
	if len(s.Problems) != 2 || s.Skipped != 0 {
		t.Fatalf("problems %q, skipped %d: want one per tarball", s.Problems, s.Skipped)
	}
	for _, p := range s.Paths {
		tb, _, _ := strings.Cut(p, Sep)
		named := "node-a"
		if strings.Contains(filepath.Base(tb), "node-b") {
			named = "node-b"
		}
		got := s.Explicit[p].Node
		found := false
		for _, pr := range s.Problems {
			found = found || strings.HasPrefix(pr, tb+": its name ends in node "+named+",") &&
				strings.Contains(pr, "gives node "+got+": ") && strings.Contains(pr, "--point NODE:any="+tb)
		}
		if !found || got == named || !strings.Contains(s.Why[p], "CONTRADICTED: its name says node "+named) {
			t.Errorf("%s: node %s, why %q, problems %q", p, got, s.Why[p], s.Problems)
		}
	}
}
