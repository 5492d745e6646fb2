package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/calipath/calipath/internal/testtool"
)

const lab = "../../testdata/lab/scenarios"

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpAndUsage(t *testing.T) {
	code, out, _ := runCLI("help")
	if code != exitOK {
		t.Fatalf("help: exit %d", code)
	}
	for _, sub := range []string{"demo", "packets", "points", "report", "tui"} {
		if !strings.Contains(out, "\n  "+sub+" ") {
			t.Errorf("help does not list %s:\n%s", sub, out)
		}
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, exitUsage, "Usage"},
		{[]string{"frobnicate"}, exitUsage, "unknown subcommand"},
		{[]string{"node-a-eth0.pcap.gz"}, exitUsage, "node-a-eth0.pcap.gz: no such capture file"},
		{[]string{"captures/x"}, exitUsage, "captures/x: no such capture file"},
		{[]string{"points"}, exitUsage, "no capture files"},
		{[]string{"points", "--format", "xml", "x.pcap"}, exitUsage, "--format must be"},
		{[]string{"packets", "--point", "nonsense", "x.pcap"}, exitUsage, "NODE:IFACE=FILE"},
		{[]string{"points", "--node-ip", "node-a=not-an-ip", lab + "/healthy-ipip/node-a-eth0.pcap"}, exitUsage, "node-ip"},
		{[]string{"help", "points"}, exitOK, "Usage: calipath points"},
		{[]string{"report", "--fail-on", "eror", lab + "/healthy-ipip/node-a-eth0.pcap"}, exitUsage, "neither an anomaly kind"},
		{[]string{"packets", "-h"}, exitOK, "--vxlan-port"},
	} {
		code, out, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(out+errs, c.msg) {
			t.Errorf("calipath %v: exit %d, want %d with %q\nstdout: %s\nstderr: %s", c.args, code, c.code, c.msg, out, errs)
		}
	}
}

func TestPointsText(t *testing.T) {
	files, _ := filepath.Glob(lab + "/healthy-ipip/node-a-*.pcap")
	code, out, errs := runCLI(append([]string{"points"}, files...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"node-a/tunl0", "role tunnel", "RAW", "node-a/eth0", "role underlay",
		"node-a/cali5e1c4d6c68c", "role pod-veth", "node-a       192.168.10.2"} {
		if !strings.Contains(out, want) {
			t.Errorf("points output lacks %q:\n%s", want, out)
		}
	}
}

// --point names a file's point; --links names a -i any capture's interface indexes; --node-ip is
// taken as given. All show in the JSON with their reasons.
func TestPointFlags(t *testing.T) {
	dir := t.TempDir()
	links := filepath.Join(dir, "links.txt")
	os.WriteFile(links, []byte("1: lo: <LOOPBACK,UP> mtu 65536\n2: eth0@if5: <UP> mtu 1500\n3: tunl0@NONE: <UP> mtu 1480\n4: cali5e1c4d6c68c@if3: <UP> mtu 1480\n"), 0o644)
	eth := lab + "/healthy-ipip/node-a-eth0.pcap"
	code, out, errs := runCLI("points", "--format", "json", "--point", "edge-1:ens5="+eth,
		"--links", "node-a="+links, "--node-ip", "node-a=192.168.10.2", lab+"/healthy-ipip/node-a-any.pcap")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc pointsJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]pointJSON{}
	for _, f := range doc.Files {
		for _, p := range f.Points {
			got[p.ID] = p
		}
	}
	if p := got["edge-1/ens5"]; p.Role != "underlay" || p.Reason != "--point" {
		t.Errorf("--point: %+v", p)
	}
	for id, role := range map[string]string{"node-a/eth0": "underlay", "node-a/tunl0": "tunnel", "node-a/cali5e1c4d6c68c": "pod-veth"} {
		if p := got[id]; p.Role != role || !strings.Contains(p.Reason, "(--links)") || p.LinkTypes[0] != "LINUX_SLL2" {
			t.Errorf("--links %s: %+v", id, p)
		}
	}
	if len(doc.NodeIPs) != 1 || doc.NodeIPs[0].Reason != "--node-ip" {
		t.Errorf("node IPs %+v", doc.NodeIPs)
	}
}

// Broken input: named to the frame, the rest read, skipped records counted, exit 1.
func TestPacketsSkipped(t *testing.T) {
	code, out, errs := runCLI("packets", "../../testdata/broken/truncated-record.pcap", lab+"/healthy-ipip/node-a-tunl0.pcap")
	if code != exitSkipped {
		t.Fatalf("exit %d, want %d", code, exitSkipped)
	}
	if !strings.Contains(errs, "truncated-record.pcap: frame 3") {
		t.Errorf("stderr does not name the file and frame: %s", errs)
	}
	if !strings.Contains(out, "# ../../testdata/broken/truncated-record.pcap: 2 records, 1 skipped") ||
		!strings.Contains(out, "node-a-tunl0.pcap:1 ") {
		t.Errorf("output lacks the counts or the good file's frames:\n%s", out)
	}
}

// calipath packets --format json agrees with tshark, frame by frame, on the outer and inner headers of
// real captures: IP-in-IP on the underlay, VXLAN, raw IP on tunl0, Linux cooked v2 and pcapng.
func TestPacketsJSONAgainstTshark(t *testing.T) {
	files := []string{"healthy-ipip/node-a-eth0.pcap", "healthy-ipip/node-a-tunl0.pcap", "healthy-ipip/node-a-any.pcap",
		"healthy-ipip/node-a.pcapng", "healthy-vxlan/node-b-eth0.pcap", "clusterip-dnat/node-a-cali5e1c4d6c68c.pcap",
		"pmtu-discovery/router-1-eth1.pcap"}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(lab, f)
	}
	tshark := testtool.TsharkFields(t, paths, []string{"-o", "ip.defragment:FALSE", "-d", "udp.port==4789,vxlan"}, tsFieldList)
	for i, f := range files {
		code, out, errs := runCLI("packets", "--format", "json", paths[i])
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", f, code, errs)
		}
		want := tshark[i]
		n := 0
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var fr Frame
			if err := json.Unmarshal(sc.Bytes(), &fr); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			n++
			w := want[fr.Frame]
			var got map[string][]string = map[string][]string{}
			add := func(k, v string) { got[k] = append(got[k], v) }
			if fr.Outer != nil {
				add("ip.src", fr.Outer.Src)
				add("ip.dst", fr.Outer.Dst)
				add("ip.ttl", strconv.Itoa(int(fr.Outer.TTL)))
				add("ip.id", "0x"+strconv.FormatUint(uint64(fr.Outer.ID), 16))
			}
			if in := fr.Inner; in != nil && !strings.Contains(in.Src, ":") {
				add("ip.src", in.Src)
				add("ip.dst", in.Dst)
				add("ip.ttl", strconv.Itoa(int(in.TTL)))
				add("ip.id", "0x"+strconv.FormatUint(uint64(in.ID), 16))
				if in.Sport != nil && in.Proto == 6 {
					add("tcp.srcport", strconv.Itoa(int(*in.Sport)))
					add("tcp.dstport", strconv.Itoa(int(*in.Dport)))
					add("tcp.seq_raw", strconv.FormatUint(uint64(*in.Seq), 10))
				}
				if in.ICMPType != nil && in.Proto == 1 {
					add("icmp.type", strconv.Itoa(int(*in.ICMPType)))
					add("icmp.code", strconv.Itoa(int(*in.ICMPCode)))
				}
			}
			if fr.ARP != nil {
				add("arp.opcode", strconv.Itoa(int(fr.ARP.Op)))
			}
			if fr.VNI != nil {
				add("vxlan.vni", strconv.Itoa(int(*fr.VNI)))
			}
			for k, vs := range got {
				tv := w[k]
				if len(tv) < len(vs) {
					t.Errorf("%s frame %d %s: calipath %v, tshark %v", f, fr.Frame, k, vs, tv)
					continue
				}
				for i, v := range vs {
					if !strings.EqualFold(strings.TrimLeft(strings.TrimPrefix(v, "0x"), "0"), strings.TrimLeft(strings.TrimPrefix(tv[i], "0x"), "0")) {
						t.Errorf("%s frame %d %s[%d]: calipath %s, tshark %s", f, fr.Frame, k, i, v, tv[i])
					}
				}
			}
		}
		if n == 0 || n != len(want) {
			t.Errorf("%s: calipath printed %d frames, tshark %d", f, n, len(want))
		}
	}
}

// tsFieldList are the tshark fields compared.
var tsFieldList = []string{"ip.src", "ip.dst", "ip.ttl", "ip.id", "tcp.srcport", "tcp.dstport",
	"tcp.seq_raw", "icmp.type", "icmp.code", "arp.opcode", "vxlan.vni"}

// A router's cooked v1 -i any capture (router-any-bgp's sll1/): calipath packets files every frame
// under the point the scan made, router-1/any:underlay. Before, the printing pass filed its
// unencapsulated frames as if the file showed no pods' frames unread (under any:pod, a source the scan
// never made) and panicked: "index out of range [1] with length 1".
func TestPacketsRouterCookedV1(t *testing.T) {
	// router-any-bgp's router-1 captured with tcpdump -y LINUX_SLL -i any: eth0 is d6:3d:a2:35:3b:e5
	// (toward node-a), eth1 8e:95:29:17:31:f4 (router-1-links.txt). The file records no interface; its
	// frames are split by link address, each forwarded packet's two sightings at its two interfaces.
	code, out, errs := runCLI("packets", lab+"/router-any-bgp/sll1/router-1-any.pcap")
	if strings.Contains(errs, "of a router, which records no interface") {
		t.Errorf("exit %d; stderr says the router's capture is one point: %s", code, errs)
	}
	eth0, eth1 := " router-1/any:d6:3d:a2:35:3b:e5 ", " router-1/any:8e:95:29:17:31:f4 "
	n, at := 0, map[string]string{} // a packet's "id N ttl T" → its point
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		n++
		pt := eth0
		if strings.Contains(l, eth1) {
			pt = eth1
		} else if !strings.Contains(l, eth0) {
			t.Errorf("frame at neither of router-1's interfaces: %s", l)
		}
		if i := strings.Index(l, " ttl "); i >= 0 && strings.Contains(l, "10.244.1.5") {
			f := strings.Fields(l[i:])
			if len(f) >= 4 && f[2] == "id" {
				at[f[3]+"/"+f[1]] = pt
			}
		}
		// What node-a sends in and what router-1 sends it back: at eth0.
		switch {
		case strings.Contains(l, "10.244.1.5 > 10.244.2.7") && strings.Contains(l, " ttl 63 ") && pt != eth0,
			strings.Contains(l, "10.244.2.7 > 10.244.1.5") && strings.Contains(l, " ttl 62 ") && pt != eth0:
			t.Errorf("frame not at eth0 (d6:3d:a2:35:3b:e5): %s", l)
		}
	}
	if n != 52 {
		t.Errorf("%d frames printed, want the file's 52:\n%s", n, out)
	}
	split := 0
	for k, pt := range at {
		id, _, _ := strings.Cut(k, "/")
		if other, ok := at[id+"/62"]; ok && strings.HasSuffix(k, "/63") {
			if other == pt {
				t.Errorf("packet id %s seen twice at %s", id, pt)
			}
			split++
		}
	}
	if split < 20 {
		t.Errorf("%d forwarded packets seen at both interfaces, want 20 or more", split)
	}
}

// calipath packets reads its files in the paths' byte order, whatever the command line's (decode.Load),
// and prints each frame under the point the first pass gave its file's source. Before, the printing
// pass numbered the files in the command line's order: given out of byte order (clock-drift's files
// with node-a.pcapng last, where "-" sorts before "."), a frame was looked up under another file's
// sources, at another point or past the last ("index out of range [17] with length 17").
func TestPacketsArgumentOrder(t *testing.T) {
	files, err := filepath.Glob(lab + "/clock-drift/*.pcap*")
	if err != nil || len(files) < 10 {
		t.Fatalf("clock-drift's captures: %v %v", files, err)
	}
	reversed := slices.Clone(files)
	slices.Reverse(reversed)
	for _, format := range []string{"text", "json"} {
		code, want, errs := runCLI(append([]string{"packets", "--format", format}, files...)...)
		if code != exitOK || len(want) == 0 {
			t.Fatalf("%s, in byte order: exit %d: %s", format, code, errs)
		}
		for _, order := range [][]string{reversed, append(files[len(files)-1:len(files):len(files)], files[:len(files)-1]...)} {
			code, got, errs := runCLI(append([]string{"packets", "--format", format}, order...)...)
			if code != exitOK || got != want {
				t.Errorf("%s, in another order: exit %d, output same as in byte order: %v: %s", format, code, got == want, errs)
			}
		}
	}
}
