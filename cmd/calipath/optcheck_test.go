package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// labTruth is what these tests read of a lab scenario's truth.json: its mode and its nodes' IPs.
type labTruth struct {
	Mode  string `json:"mode"`
	Nodes []struct {
		Name string `json:"name"`
		IP   string `json:"ip"`
	} `json:"nodes"`
}

func readLabTruth(t *testing.T, scenario string) labTruth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(lab, scenario, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr labTruth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

func (tr labTruth) nodeIP(t *testing.T, node string) string {
	for _, n := range tr.Nodes {
		if n.Name == node {
			return n.IP
		}
	}
	t.Fatalf("truth.json has no node %s", node)
	return ""
}

// keepRecords writes to dir/name the pcap file src with its records from..to-1 (0-based) only.
func keepRecords(t *testing.T, src, dir, name string, from, to int) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint32(b) == 0xa1b2c3d4 || binary.BigEndian.Uint32(b) == 0xa1b23c4d {
		bo = binary.BigEndian
	}
	out := append([]byte(nil), b[:24]...)
	for off, i := 24, 0; off+16 <= len(b); i++ {
		n := 16 + int(bo.Uint32(b[off+8:]))
		if i >= from && i < to {
			out = append(out, b[off:off+n]...)
		}
		off += n
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// An address ARP ties to another device (node-a asks who has its next hop, router-1's MAC answers)
// is not node-a's: taken as given, every healthy tunnelled packet was "ERROR wrong-outer-address …
// Calico picked the wrong node address" (review8 #4). A usage error naming the ARP evidence. So is
// an address ARP ties to another MAC than the node's own address.
func TestNodeIPOfNextHopRefused(t *testing.T) {
	tr := readLabTruth(t, "healthy-ipip")
	dir := lab + "/healthy-ipip/"
	files := []string{dir + "node-a-eth0.pcap", dir + "node-a-cali5e1c4d6c68c.pcap", dir + "node-b-eth0.pcap",
		dir + "node-b-cali2f5353dd8c5.pcap", dir + "router-1-eth0.pcap"}
	for _, sub := range []string{"report", "tui"} {
		code, out, errs := runCLI(append([]string{sub, "--node-ip", "node-a=192.168.10.1"}, files...)...)
		if code != exitUsage || out != "" ||
			!strings.Contains(errs, "calipath: --node-ip node-a=192.168.10.1: the captures show 192.168.10.1 is another device's, not node-a's: "+
				"node-a ("+tr.nodeIP(t, "node-a")+") asks who has 192.168.10.1 by ARP at node-a/eth0, and 5e:91:9b:42:b6:cd answers for it") ||
			!strings.Contains(errs, "give node-a's own address ("+tr.nodeIP(t, "node-a")+")") {
			t.Errorf("calipath %s: exit %d, want %d\nstdout: %s\nstderr: %s", sub, code, exitUsage, head(out, 30), errs)
		}
	}
	// At node-b's eth0 router-1 asks who has node-b's address, and node-b answers: ARP ties router-1's
	// 192.168.20.1 to another MAC than node-b's own address (two ERROR wrong-outer-address before).
	ipB := tr.nodeIP(t, "node-b")
	code, out, errs := runCLI(append([]string{"report", "--node-ip", "node-b=192.168.20.1"}, files...)...)
	if code != exitUsage || out != "" || errs != "calipath: --node-ip node-b=192.168.20.1: the captures show 192.168.20.1 is another device's, "+
		"not node-b's: ARP at node-b/eth0 ties it to 96:7c:8a:0e:57:45, and node-b's own "+ipB+" to c6:df:34:63:47:83; "+
		"give node-b's own address ("+ipB+") or drop --node-ip node-b\n" {
		t.Errorf("--node-ip node-b=192.168.20.1: exit %d\nstdout: %s\nstderr: %s", code, head(out, 30), errs)
	}
}

// An address no frame shows node-a using, while all its pods' encapsulated frames leave from
// another: the flag is wrong or Calico uses another address than meant, and the captures cannot tell
// which. No "Calico picked the wrong node address" error rests on the flag; a warning says both. Also
// for the next hop's address when the capture holds no ARP for it (its first two frames cut).
func TestNodeIPUnseenWarns(t *testing.T) {
	tr := readLabTruth(t, "healthy-ipip")
	ipA := tr.nodeIP(t, "node-a")
	dir := lab + "/healthy-ipip/"
	noARP := keepRecords(t, dir+"node-a-eth0.pcap", t.TempDir(), "node-a-eth0.pcap", 2, 1<<30)
	for _, c := range []struct{ ip, eth0 string }{{"192.168.10.99", dir + "node-a-eth0.pcap"}, {"192.168.10.1", noARP}} {
		files := []string{c.eth0, dir + "node-a-cali5e1c4d6c68c.pcap", dir + "node-b-eth0.pcap", dir + "node-b-cali2f5353dd8c5.pcap"}
		code, out, errs := runCLI(append([]string{"report", "--node-ip", "node-a=" + c.ip}, files...)...)
		if code != 0 || strings.Contains(out, "ERROR") || strings.Contains(out, "wrong-outer-address") ||
			!strings.Contains(out, "27 delivered") || !strings.Contains(out, "node-a is "+ipA+" (outer source") ||
			!strings.Contains(errs, "calipath: warning: node-ip-contradicted at node-a: --node-ip node-a="+c.ip+
				": no encapsulated frame from node-a's own pods leaves from "+c.ip+"; they all leave from "+ipA) {
			t.Errorf("--node-ip node-a=%s: exit %d\nstdout: %s\nstderr: %s", c.ip, code, head(out, 40), errs)
		}
	}
}

// A VXLAN or WireGuard port on which nothing was seen, while frames on the default port parse as
// VXLAN or WireGuard, made 48 packets path-incomplete (VXLAN) or a false "ERROR encap-drop"
// (WireGuard) (review7 #7): a usage error that gives the port to use.
func TestPortContradicted(t *testing.T) {
	for _, c := range []struct{ scenario, flag, def, want string }{
		{"healthy-vxlan", "--vxlan-port=8472", "--vxlan-port=4789", "calipath: --vxlan-port 8472: no frame of the inputs is VXLAN on UDP 8472, but frames on UDP 4789 are (" +
			lab + "/healthy-vxlan/node-a-eth0.pcap frame 3): give --vxlan-port 4789, or drop --vxlan-port (4789 is the default)\n"},
		{"healthy-wireguard", "--wireguard-port=51821", "--wireguard-port=51820", "calipath: --wireguard-port 51821: no frame of the inputs is WireGuard on UDP 51821, but frames on UDP 51820 are (" +
			lab + "/healthy-wireguard/node-a-eth0.pcap frame 3): give --wireguard-port 51820, or drop --wireguard-port (51820 is the default)\n"},
	} {
		if m := readLabTruth(t, c.scenario).Mode; !strings.Contains(c.flag, m) {
			t.Fatalf("%s: truth mode %s", c.scenario, m)
		}
		var files []string
		for _, f := range labCaptures(t, c.scenario) {
			files = append(files, lab+"/"+c.scenario+"/"+f)
		}
		for _, sub := range []string{"report", "tui", "points"} {
			code, out, errs := runCLI(append([]string{sub, c.flag}, files...)...)
			if code != exitUsage || out != "" || errs != c.want {
				t.Errorf("calipath %s %s: exit %d, want %d and %q\nstdout: %s\nstderr: %s", sub, c.flag, code, exitUsage, c.want, head(out, 20), errs)
			}
		}
		// The bounded-memory mode reads the inputs otherwise: the same.
		if code, out, errs := runCLI(append([]string{"report", "--memory=1K", c.flag}, files...)...); code != exitUsage || out != "" ||
			!strings.HasSuffix(errs, c.want) {
			t.Errorf("calipath report --memory=1K %s: exit %d\nstdout: %s\nstderr: %s", c.flag, code, head(out, 20), errs)
		}
		// packets judges nothing: it lists the frames as decoded, and says it.
		if code, _, errs := runCLI("packets", c.flag, lab+"/"+c.scenario+"/node-a-eth0.pcap"); code != 0 ||
			!strings.HasPrefix(errs, "calipath: warning: "+strings.Replace(c.flag, "=", " ", 1)) {
			t.Errorf("calipath packets %s: exit %d\nstderr: %s", c.flag, code, errs)
		}
		if code, out, errs := runCLI(append([]string{"report", c.def}, files...)...); code != 0 || strings.Contains(out, "ERROR") {
			t.Errorf("calipath report %s: exit %d\nstdout: %s\nstderr: %s", c.def, code, head(out, 20), errs)
		}
	}
}

// A --point naming one interface for a -i any capture (LINUX_SLL2, four interface indexes) or a
// pcapng of three interfaces put every interface's frames at one point: 30 sent instead of 27, a
// false retransmission and a false loss (review7 #7). A usage error; NODE:any is taken.
func TestPointMultiInterfaceRefused(t *testing.T) {
	dir := lab + "/healthy-ipip/"
	rest := []string{dir + "node-a-eth0.pcap", dir + "node-a-cali5e1c4d6c68c.pcap", dir + "node-a-tunl0.pcap",
		dir + "router-1-eth0.pcap", dir + "router-1-eth1.pcap"}
	for _, c := range []struct{ point, want string }{
		{"node-b:eth0=" + dir + "node-b-any.pcap", "the file holds the frames of 3 interfaces (a -i any capture: LINUX_SLL2 interface indexes 2, 3, 4), not of eth0 alone: give --point node-b:any="},
		{"node-a:eth0=" + dir + "node-a.pcapng", "the file holds the frames of 3 interfaces (pcapng interfaces cali5e1c4d6c68c, eth0, tunl0), not of eth0 alone: drop this --point"},
	} {
		code, out, errs := runCLI(append([]string{"report", "--point", c.point}, rest...)...)
		if code != exitUsage || out != "" || !strings.HasPrefix(errs, "calipath: --point "+c.point+": "+c.want) {
			t.Errorf("--point %s: exit %d\nstdout: %s\nstderr: %s", c.point, code, head(out, 30), errs)
		}
	}
	code, out, errs := runCLI(append([]string{"report", "--point", "node-b:any=" + dir + "node-b-any.pcap"}, rest...)...)
	if code != 0 || !strings.Contains(out, "27 packets as sent: 27 delivered") {
		t.Errorf("--point node-b:any: exit %d\nstdout: %s\nstderr: %s", code, head(out, 30), errs)
	}
}

// node-b's eth0 capture given as node-a's eth0, beside node-a's own: the two share no frame and no
// MAC, so they are not captures of one interface. It gave only an INFO capture-dropped (review7 #7);
// now a warning naming both files. Two parts of node-a's one capture (frames 1-15 and 21-31) are one
// interface's: no frame in common, but the MACs are: no warning.
func TestPointFilesDisagree(t *testing.T) {
	dir := lab + "/healthy-ipip/"
	rest := []string{dir + "node-a-eth0.pcap", dir + "node-a-cali5e1c4d6c68c.pcap", dir + "node-b-cali2f5353dd8c5.pcap"}
	code, out, errs := runCLI(append([]string{"report", "--point", "node-a:eth0=" + dir + "node-b-eth0.pcap"}, rest...)...)
	if code != 0 || !strings.Contains(errs, "calipath: warning: point-files-disagree at node-a/eth0: "+dir+"node-a-eth0.pcap and "+
		dir+"node-b-eth0.pcap are both taken as node-a/eth0, but they share no frame and no link address") || // the paths' sorted order
		!strings.Contains(out, "WARNING point-files-disagree at node-a/eth0") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, head(out, 30), errs)
	}
	tmp := t.TempDir()
	early := keepRecords(t, dir+"node-a-eth0.pcap", tmp, "early.pcap", 0, 15)
	late := keepRecords(t, dir+"node-a-eth0.pcap", tmp, "late.pcap", 20, 31)
	code, out, errs = runCLI("report", "--point", "node-a:eth0="+early, "--point", "node-a:eth0="+late,
		dir+"node-a-cali5e1c4d6c68c.pcap", dir+"node-b-cali2f5353dd8c5.pcap")
	if code != 0 || strings.Contains(out+errs, "point-files-disagree") {
		t.Errorf("two parts of one capture: exit %d\nstdout: %s\nstderr: %s", code, head(out, 30), errs)
	}
}

// A -i any interface that captures of two different interfaces match equally well: state-neigh-failed6
// with node-b's vxlan-v6.calico capture also given as node-b-vxlan.calico.pcap. calipath 94ce129 named
// node-b-any.pcap's interface 4 vxlan-v6.calico (first by name) and said nothing; now it stays
// node-b/any#4 and an any-iface-tied warning, on stderr and in the report, names both captures and
// what settles it. Without the second capture: no warning.
func TestAnyIfaceTied(t *testing.T) {
	dir := lab + "/state-neigh-failed6/"
	files, err := filepath.Glob(dir + "*.pcap")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s: %v", dir, err)
	}
	b, err := os.ReadFile(dir + "node-b-vxlan-v6.calico.pcap")
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "node-b-vxlan.calico.pcap")
	if err := os.WriteFile(other, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(append([]string{"report"}, append(files, other)...)...)
	if code != 0 || !strings.Contains(errs, "calipath: warning: any-iface-tied at node-b/any#4: node-b-any.pcap's interface 4 (node node-b) "+
		"carried the same frames at the same moments as node-b-vxlan-v6.calico.pcap (vxlan-v6.calico) and as node-b-vxlan.calico.pcap (vxlan.calico)") ||
		!strings.Contains(errs, "calipath:   next: Give --links NODE=FILE") ||
		!strings.Contains(out, "WARNING any-iface-tied at node-b/any#4") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, head(out, 30), errs)
	}
	code, out, errs = runCLI(append([]string{"report"}, files...)...)
	if code != 0 || strings.Contains(out+errs, "any-iface-tied") {
		t.Errorf("without the second capture: exit %d\nstdout: %s\nstderr: %s", code, head(out, 30), errs)
	}
}

// A point made of two captures (state-neigh-failed6: node-a-any.pcap's interface 2, named after
// node-a-eth0.pcap, and node-a-eth0.pcap itself) was worked out from each. The points table's WHY
// showed only the first capture's reason, the JSON too, and `calipath points` printed that reason
// (the -i any file's) under node-a-eth0.pcap as well: now the table says how many more there are, the
// JSON carries them (more_reasons, "FILE: reason") and `calipath points` gives each file its own.
func TestPointMoreReasons(t *testing.T) {
	files, err := filepath.Glob(lab + "/state-neigh-failed6/*.pcap")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	code, out, errs := runCLI(append([]string{"report", "-q", "--format", "json"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Points []struct {
			ID          string   `json:"id"`
			Reason      string   `json:"reason"`
			MoreReasons []string `json:"more_reasons"`
		} `json:"points"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range doc.Points {
		if p.ID != "node-a/eth0" {
			continue
		}
		found = true
		if !strings.Contains(p.Reason, "ifindex 2") || !slices.Equal(p.MoreReasons, []string{"node-a-eth0.pcap: file name"}) {
			t.Errorf("node-a/eth0: reason %q, more %q: want the -i any file's and node-a-eth0.pcap's", p.Reason, p.MoreReasons)
		}
	}
	if !found {
		t.Fatal("no point node-a/eth0")
	}
	code, out, errs = runCLI(append([]string{"report", "-q", "--format", "text"}, files...)...)
	if code != 0 || !strings.Contains(out, "it is eth0 (+1 more, from its other captures: `calipath points`, or more_reasons in the JSON)") {
		t.Errorf("text: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(append([]string{"points"}, files...)...)
	i := strings.Index(out, "node-a-eth0.pcap (pcap)")
	if code != 0 || i < 0 || !strings.Contains(out[i:], "node-a/eth0 ") ||
		!strings.HasPrefix(strings.TrimSpace(strings.SplitN(out[i:], "why: ", 2)[1]), "file name\n") {
		t.Errorf("points: exit %d\n%s\n%s", code, out, errs)
	}
}
