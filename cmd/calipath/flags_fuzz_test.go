package main

import (
	"bytes"
	"context"
	"math"
	"net/netip"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/report"
)

// FuzzFlagValues sets every flag value type calipath defines from any text: --max-bytes (sizeFlag),
// --max-frames (countFlag), --point, --links/--node-ip (kvFlag), --offset, --memory (parseSize),
// --k8s (pathsFlag), and --format (report.ParseFormat). No panic; an error quotes the value (or
// names its flag) and leaves the flag as it was; a value taken prints back (String) to text that
// sets the same value; sizes and counts are positive and in range.
func FuzzFlagValues(f *testing.F) {
	for _, s := range []string{"64G", "1T", "4096", "1.5G", "512MiB", "2kb", "0", "-1", "9223372036854775807", "8T",
		"node-a:eth0=node-a-eth0.pcap", "node-a=10.0.0.1", "node-a=::1", "node-b=-1.5s", "node-b=2562047h47m16.854775807s",
		"node-a=links.txt", "=x", "a=", ":=", "4294967294", "4_294_967_295", "json", "MD", "NaN", "Inf", "1e300", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var sz sizeFlag = 7
		if err := sz.Set(v); err != nil {
			if sz != 7 || !strings.Contains(err.Error(), "got") {
				t.Fatalf("sizeFlag.Set(%q): %v, value %d", v, err, sz)
			}
		} else {
			var again sizeFlag
			if sz <= 0 || again.Set(sz.String()) != nil || again != sz {
				t.Fatalf("sizeFlag.Set(%q) = %d, prints %q, reads back %d", v, sz, sz.String(), again)
			}
		}
		var c countFlag = 7
		if err := c.Set(v); err != nil {
			if c != 7 || !strings.Contains(err.Error(), "got") {
				t.Fatalf("countFlag.Set(%q): %v, value %d", v, err, c)
			}
		} else {
			var again countFlag
			if c <= 0 || c >= math.MaxUint32 || again.Set(c.String()) != nil || again != c {
				t.Fatalf("countFlag.Set(%q) = %d", v, c)
			}
		}
		var in inputFlags
		in.points.m = map[string]decode.Identity{}
		if err := in.points.Set(v); err == nil {
			file := in.points.files[0]
			id := in.points.m[file]
			if id.Node == "" || id.Iface == "" || file == "" || id.Node+":"+id.Iface+"="+file != v {
				t.Fatalf("--point %q: %+v, %q", v, id, file)
			}
			if err := in.points.Set(v); err == nil {
				t.Fatalf("--point %q twice: no error", v)
			}
		} else if len(in.points.files) != 0 {
			t.Fatalf("--point %q: %v, and kept %q", v, err, in.points.files)
		}
		in.nodeIPs.check = func(s string) error { _, err := netip.ParseAddr(s); return err }
		if err := in.nodeIPs.Set(v); err == nil {
			if in.nodeIPs.String() != v || len(in.nodeIPs.kv) != 1 {
				t.Fatalf("--node-ip %q prints as %q", v, in.nodeIPs.String())
			}
		} else if len(in.nodeIPs.kv) != 0 {
			t.Fatalf("--node-ip %q: %v, and kept %q", v, err, in.nodeIPs.kv)
		}
		var off offsetFlag
		if err := off.Set(v); err == nil {
			var again offsetFlag
			if len(off.m) != 1 || again.Set(off.String()) != nil || again.String() != off.String() {
				t.Fatalf("--offset %q = %v, prints %q", v, off.m, off.String())
			}
		} else if off.m != nil {
			t.Fatalf("--offset %q: %v, and kept %v", v, err, off.m)
		}
		var mem memoryFlag
		if err := mem.Set(v); err == nil {
			if mem.n <= 0 || !mem.set {
				t.Fatalf("--memory %q = %d", v, mem.n)
			}
		} else if mem.set || !strings.HasPrefix(err.Error(), "--memory ") {
			t.Fatalf("--memory %q: %v, set %v", v, err, mem.set)
		}
		var paths pathsFlag
		if err := paths.Set(v); (err == nil) != (v != "") {
			t.Fatalf("--k8s %q: %v", v, err)
		}
		if fm, err := report.ParseFormat(v); err == nil && !strings.EqualFold(fm.String(), v) && !strings.EqualFold(v, "txt") && !strings.EqualFold(v, "md") {
			t.Fatalf("--format %q = %v", v, fm)
		}
	})
}

// reportFlagNames are the report flags FuzzReportFlags sets: those that read no file of the value's
// naming and write none (--point's FILE is the capture given).
var reportFlagNames = []string{"point", "node-ip", "vxlan-port", "wireguard-port", "max-bytes", "max-frames", "offset",
	"format", "flow", "fail-on", "width", "journeys", "window", "iface-prefix"}

// FuzzReportFlags runs calipath report on two lab captures of one node with one flag set to any
// value: no panic, no hang, an exit code calipath documents, and a usage error (exit 2) that names
// the flag. Values the flags take run the whole report (a --window of years, an --offset of the
// largest duration, a --max-frames of one).
func FuzzReportFlags(f *testing.F) {
	seeds := map[string][]string{
		"point":      {"node-a:eth0", "node-a:", "x:y:z"},
		"node-ip":    {"node-a=192.168.1.10", "node-a=fe80::1%eth0", "node-a=1.2.3"},
		"vxlan-port": {"4789", "0", "65536"},
		"max-bytes":  {"1", "100", "1K"},
		"max-frames": {"1", "3", "0"},
		"offset":     {"node-a=1ms", "node-a=-2562047h47m16.854775808s", "node-b=2562047h", "node-a=1"},
		"format":     {"json", "html", "md", "csv"},
		"flow":       {"tcp", "host 10.244.1.5 and not status delivered", "port"},
		"fail-on":    {"error", "pmtu-blackhole,info", "nope"},
		"width":      {"1", "0", "-5", "99999999999"},
		"window":     {"1ns", "-1s", "2562047h", "0"},
	}
	for i, name := range reportFlagNames {
		for _, v := range seeds[name] {
			f.Add(uint8(i), v)
		}
	}
	caps := []string{"demo/mtu-blackhole/node-a-cali5e1c4d6c68c.pcap", "demo/mtu-blackhole/node-a-eth0.pcap"}
	f.Fuzz(func(t *testing.T, which uint8, v string) {
		hang := time.AfterFunc(20*time.Second, func() {
			debug.SetTraceback("all")
			panic("FuzzReportFlags: one run took more than 20s")
		})
		defer hang.Stop()
		name := reportFlagNames[int(which)%len(reportFlagNames)]
		if name == "point" {
			v, _, _ = strings.Cut(v, "=")
			v += "=" + caps[0]
		}
		args := append([]string{"report", "-q", "--" + name + "=" + v}, caps...)
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		switch code {
		case exitOK, exitSkipped, exitFound:
		case exitUsage:
			if !strings.Contains(errb.String(), "-"+name) && !strings.Contains(errb.String(), "--"+name) {
				t.Fatalf("--%s=%q: usage error without the flag's name:\n%s", name, v, errb.String())
			}
		default:
			t.Fatalf("--%s=%q: exit %d\n%s", name, v, code, errb.String())
		}
	})
}

// planFlagNames are the plan flags FuzzPlanFlags sets.
var planFlagNames = []string{"from", "to", "iface-prefix", "underlay", "ring", "ring-size", "image", "any", "wireguard"}

// FuzzPlanFlags runs calipath plan on the clusterip-dnat lab scenario's cluster metadata (client
// default/pod-a, server the Service default/pod-b-svc) with one flag set to any value: no panic, exit
// 0 or a usage error with words, and on success no control character in the plan (what it prints is
// pasted into a shell).
func FuzzPlanFlags(f *testing.F) {
	seeds := map[string][]string{
		"from":         {"default/pod-a", "pod-a", "default/", "/"},
		"to":           {"default/pod-b-svc", "pod-b-svc", "default/pod-b", "10.96.0.10", "kube-system/kube-dns"},
		"iface-prefix": {"cali", "veth", ""},
		"underlay":     {"eth0", "bond0.100", "a b"},
		"ring":         {"3", "-1", "99999999999"},
		"ring-size":    {"1", "0", "2147483647"},
		"image":        {"nicolaka/netshoot:latest", "x@sha256:00"},
	}
	var out, errb bytes.Buffer // the plan as the seeds vary it is made
	if code := run(context.Background(), []string{"plan", "--k8s", planMeta, "--from", "default/pod-a", "--to", "default/pod-b-svc"}, &out, &errb); code != exitOK {
		f.Fatalf("plan: exit %d\n%s", code, errb.String())
	}
	for i, name := range planFlagNames {
		for _, v := range seeds[name] {
			f.Add(uint8(i), v)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, v string) {
		name := planFlagNames[int(which)%len(planFlagNames)]
		flags := map[string]string{"from": "default/pod-a", "to": "default/pod-b-svc"}
		flags[name] = v
		args := []string{"plan", "--k8s", planMeta}
		for _, n := range planFlagNames {
			if fv, ok := flags[n]; ok {
				args = append(args, "--"+n+"="+fv)
			}
		}
		var out, errb bytes.Buffer
		switch code := run(context.Background(), args, &out, &errb); code {
		case exitOK:
			for _, r := range out.String() {
				if r < ' ' && r != '\n' && r != '\t' || r == 0x7f {
					t.Fatalf("--%s=%q: the plan holds %q", name, v, r)
				}
			}
		case exitUsage:
			if errb.Len() == 0 {
				t.Fatalf("--%s=%q: a usage error without a word", name, v)
			}
		default:
			t.Fatalf("--%s=%q: exit %d\n%s", name, v, code, errb.String())
		}
	})
}
