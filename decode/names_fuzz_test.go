package decode

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// FuzzPointNames reads any capture file name (SplitFileName), any pcapng interface description
// (GadgetPoint, Inspektor Gadget's "Node: X, Namespace: Y, Pod: Z") and any role name (ParseRole):
// no panic, and what is read back is what was written. A name <node>-<iface>.pcap[.gz] whose
// interface looks like one gives that node and interface; a description Gadget writes gives its node
// and pod; a role's name parses to that role. Seeded with the lab's and the bundles' file names and
// the Gadget fixture's descriptions.
func FuzzPointNames(f *testing.F) {
	files, _ := filepath.Glob("../testdata/lab/scenarios/*/*.pcap*")
	bundles, _ := filepath.Glob("../testdata/bundles/*/*.pcap*")
	files = append(files, bundles...)
	if len(files) == 0 {
		f.Fatal("no lab captures")
	}
	for i, p := range files {
		node, iface := SplitFileName(p)
		f.Add(p, "Node: "+node+", Namespace: default, Pod: pod-"+fmt.Sprint(i), iface, node, iface)
	}
	f.Add("node-a-vxlan-v6.calico.pcapng.gz", "Node: minikube, Namespace: kube-system, Pod: coredns-5dd5756b68-x", "eth0", "minikube", "vxlan.calico")
	f.Add(".pcap", "Node: , Namespace: a, Pod: b", "", "", "")
	f.Fuzz(func(t *testing.T, path, desc, ifname, node, iface string) {
		n, i := SplitFileName(path)
		stem := filepath.Base(path)
		if i != "" && (!strings.HasPrefix(stem, n+"-"+i) || i != "vxlan-v6.calico" && i != "wg-v6.cali" && !LooksLikeIface(strings.Split(i, "-")[0])) {
			t.Fatalf("SplitFileName(%q) = %q, %q", path, n, i)
		}
		if i == "" && !strings.HasPrefix(stem, n) {
			t.Fatalf("SplitFileName(%q) = %q without an interface", path, n)
		}
		ext := strings.ToLower(filepath.Ext(iface))
		if node != "" && !strings.ContainsAny(node+iface, "/\x00") && !strings.Contains(iface, "-") && LooksLikeIface(iface) &&
			ext != ".gz" && ext != ".pcap" && ext != ".pcapng" && ext != ".cap" && ext != ".ntar" && ext != ".dmp" {
			for _, name := range []string{node + "-" + iface + ".pcap", "dir/" + node + "-" + iface + ".pcapng.gz"} {
				if gn, gi := SplitFileName(name); gn != node || gi != iface {
					t.Fatalf("SplitFileName(%q) = %q, %q; want %q, %q", name, gn, gi, node, iface)
				}
			}
		}

		gn, gi, gpod, why, ok := GadgetPoint(desc, ifname)
		if ok {
			written := false // the description is the one Gadget writes of node gn and pod gpod (namespace/name)
			for i := range gpod {
				if gpod[i] == '/' && desc == fmt.Sprintf("Node: %s, Namespace: %s, Pod: %s", gn, gpod[:i], gpod[i+1:]) {
					written = true
				}
			}
			if gn == "" || gi != PodEth0+":"+gpod || !written || !strings.Contains(why, gpod) {
				t.Fatalf("GadgetPoint(%q) = %q, %q, %q", desc, gn, gi, gpod)
			}
		}
		word := regexp.MustCompile(`^[^,\s]+$`)
		if word.MatchString(node) && word.MatchString(iface) && word.MatchString(ifname) && !strings.Contains(iface, "/") {
			d := fmt.Sprintf("Node: %s, Namespace: %s, Pod: %s", node, iface, ifname)
			if gn, _, gpod, _, ok := GadgetPoint(d, "c"); !ok || gn != node || gpod != iface+"/"+ifname {
				t.Fatalf("GadgetPoint(%q) = %q, %q, %v", d, gn, gpod, ok)
			}
		}

		RoleOfIface(ifname)
		if r, ok := ParseRole(ifname); ok && r.String() != ifname || !ok && r != RoleUnknown {
			t.Fatalf("ParseRole(%q) = %v, %v", ifname, r, ok)
		}
	})
}

// FuzzParseIPLink reads any text as an `ip -o link` dump (a --links file, a bundle's link dump): no
// panic; every interface read has an index, a name and its line; every line not read is a
// *LineError naming a line of the text; ParseIPLink fails exactly when a line was not read or none
// was, and otherwise maps every index read to its (last) name. Seeded with the lab's and the
// bundles' link dumps.
func FuzzParseIPLink(f *testing.F) {
	dumps, _ := filepath.Glob("../testdata/lab/scenarios/*/*-links.txt")
	more, _ := filepath.Glob("../testdata/bundles/*/*-links.txt")
	dumps = append(dumps, more...)
	if len(dumps) == 0 {
		f.Fatal("no link dumps")
	}
	for _, p := range dumps[:min(len(dumps), 12)] {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("1: lo: <LOOPBACK,UP> mtu 65536\n    link/loopback\n2: eth0@if5: <> mtu x state\n-1: a:\n3: : <UP>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, bad, err := ParseIPLinkRows(bytes.NewReader(data))
		lines := 1 + bytes.Count(data, []byte("\n"))
		if err == nil && len(rows) == 0 {
			t.Fatal("no interface and no error")
		}
		for _, r := range rows {
			if r.Index <= 0 || r.Name == "" || r.Line < 1 || r.Line > lines || r.MTU < 0 {
				t.Fatalf("interface %+v of a %d-line dump", r, lines)
			}
		}
		for _, e := range bad {
			var le *LineError
			if !errors.As(e, &le) || le.Line < 1 || le.Line > lines || !strings.HasPrefix(e.Error(), "line ") {
				t.Fatalf("error %v does not name a line of the %d", e, lines)
			}
		}
		m, err2 := ParseIPLink(bytes.NewReader(data))
		if (err2 != nil) != (err != nil || len(bad) > 0) {
			t.Fatalf("ParseIPLink: %v; rows: %v, %d bad", err2, err, len(bad))
		}
		if err2 == nil {
			want := map[int32]string{}
			for _, r := range rows {
				want[r.Index] = r.Name
			}
			if fmt.Sprint(m) != fmt.Sprint(want) {
				t.Fatalf("ParseIPLink = %v, rows give %v", m, want)
			}
		}
	})
}
