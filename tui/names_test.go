package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calipath/calipath/correlate"
	"github.com/charmbracelet/x/ansi"
)

// namedRes returns a copy of res with the names cluster metadata would give its addresses: a pod
// behind each pod veth (default/pod-<node>-<n>), a service for each address only reached by DNAT
// (default/svc-<n>) and each node's address.
func namedRes(res *correlate.Result) *correlate.Result {
	cp := *res
	cp.Points = append([]correlate.Point{}, res.Points...)
	seen := map[string]bool{}
	var names []correlate.Name
	for i := range cp.Points {
		p := &cp.Points[i]
		if p.PodIP == "" || seen[p.PodIP] {
			continue
		}
		seen[p.PodIP] = true
		n := correlate.Name{IP: p.PodIP, Kind: "pod", Namespace: "default",
			Name: fmt.Sprintf("pod-%s-%d", p.Node, len(names)), Node: p.Node, Source: "pods.json"}
		names = append(names, n)
		p.Pod = n.String()
	}
	for _, f := range res.Flows {
		if len(f.NAT) > 0 && !seen[f.Dst.IP] {
			seen[f.Dst.IP] = true
			names = append(names, correlate.Name{IP: f.Dst.IP, Kind: "service", Namespace: "default",
				Name: fmt.Sprintf("svc-%d", len(names)), Source: "services.json"})
		}
	}
	for _, n := range res.NodeIPs {
		if !seen[n.IP] {
			seen[n.IP] = true
			names = append(names, correlate.Name{IP: n.IP, Kind: "node", Name: n.Node, Source: "nodes.json"})
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i].IP < names[j].IP })
	cp.Names = names
	return &cp
}

// TestNamesToggle: with names the flow list shows pods by name; the names key switches to addresses
// and back; without names the key is off and changes nothing.
func TestNamesToggle(t *testing.T) {
	km := DefaultKeyMap()
	res := namedRes(labRes)
	if len(res.Names) == 0 || len(res.Flows) == 0 {
		t.Fatal("the test capture gave no names or flows")
	}
	name := res.Names[0]
	for _, n := range res.Names {
		if n.Kind == "pod" {
			name = n
			break
		}
	}
	m := newTest(t, res, 160, 48)
	m = press(m, km.Flows)
	v := ansi.Strip(m.View())
	if !strings.Contains(v, name.String()) {
		t.Fatalf("flows with names do not show %s:\n%s", name, v)
	}
	m = press(m, km.Names)
	if !m.c.addrsOnly || !strings.Contains(m.status, "addresses") {
		t.Fatalf("names key: addrsOnly %v, status %q", m.c.addrsOnly, m.status)
	}
	v = ansi.Strip(m.View())
	if strings.Contains(v, "default/") || !strings.Contains(v, name.IP) {
		t.Fatalf("addresses shown: names remain, or %s missing:\n%s", name.IP, v)
	}
	m = press(m, km.Names)
	if m.c.addrsOnly || !strings.Contains(ansi.Strip(m.View()), name.String()) {
		t.Fatal("names key twice: names not back")
	}
	// The overview (cached per width) follows the toggle too.
	m = press(m, km.Overview)
	if !strings.Contains(ansi.Strip(m.View()), "pod "+name.String()) {
		t.Fatalf("overview does not name the pod %s:\n%s", name, ansi.Strip(m.View()))
	}
	m = press(m, km.Names)
	if strings.Contains(ansi.Strip(m.View()), "pod "+name.String()) {
		t.Fatal("overview still names the pod with addresses asked for")
	}
	m = press(m, km.Help)
	if !strings.Contains(ansi.Strip(m.View()), "names/addresses") {
		t.Fatal("help does not list the names key")
	}

	// Without names: the key is off, not in the help, and changes nothing.
	m = newTest(t, labRes, 160, 48)
	m = press(m, km.Flows)
	before := m.View()
	m = press(m, km.Names)
	if m.c.addrsOnly || m.View() != before {
		t.Fatal("the names key acted on a Result without names")
	}
	m = press(m, km.Help)
	if strings.Contains(ansi.Strip(m.View()), "names/addresses") {
		t.Fatal("help lists the names key without names")
	}
}

// TestGoldenNames: the screens with names at a fixed size (120x32).
func TestGoldenNames(t *testing.T) {
	km := DefaultKeyMap()
	res := namedRes(labRes)
	m := newTest(t, res, 120, 32)
	screens := map[string]string{"overview": m.View()}
	m = press(m, km.Flows)
	screens["flows"] = m.View()
	fi := lossyFlow(t, res)
	for m.fl.idx[m.fl.cursor] != fi {
		m = press(m, km.Down)
	}
	m = press(m, km.Enter, km.NextLoss)
	screens["timeline"] = m.View()
	m = press(m, km.Enter)
	screens["packet"] = m.View()
	m = press(m, km.ARP)
	screens["arp"] = m.View()
	m = press(m, km.Anomalies)
	screens["anomalies"] = m.View()
	for name, v := range screens {
		checkSize(t, v, 120, 32)
		got := ansi.Strip(v)
		path := filepath.Join("testdata", "TestGoldenNames", name+"-120x32.golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./tui -run TestGoldenNames -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the golden file (-update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
		}
	}
}
