package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/tui"
)

// hostile is a name a capture or a command line could carry: an OSC 52 clipboard write ended by BEL,
// a screen clear, a C1 CSI as a code point, a right-to-left override and isolate, and a byte that is
// not UTF-8 (a raw C1 CSI to a terminal that reads bytes).
const hostile = "\x1b]52;c;aGVsbG8K\x07\x1b[2J\u009b\u202e\u2066x\x9b"

// badText returns a description of the first thing in b that a terminal or a browser would take as
// code: ESC (or, with csiOK, an ESC that does not start a CSI sequence, the TUI's own), BEL, a C1
// control, a bidirectional formatting character or a byte that is not UTF-8; "" if there is none.
func badText(b []byte, csiOK bool) string {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return "a byte that is not UTF-8 at " + context50(b, i)
		case r == 0x1b && csiOK && i+1 < len(b) && b[i+1] == '[':
		case r == 0x1b, r == 0x07, r >= 0x80 && r < 0xa0:
			return "a control character at " + context50(b, i)
		case r == 0x61c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return "a bidirectional override at " + context50(b, i)
		}
		i += n
	}
	return ""
}

func context50(b []byte, i int) string {
	return strings.ToValidUTF8(string(b[max(0, i-25):min(len(b), i+25)]), "?")
}

// hostileInputs lays out the healthy IP-in-IP lab captures with the hostile name in a file name, a
// --point, a pcapng interface name and a --links file, and returns the flags and files to give.
func hostileInputs(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(lab, "healthy-ipip")
	cp := func(name, as string) string {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, as)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	links := filepath.Join(dir, "node-a-links.txt")
	os.WriteFile(links, []byte("1: lo: <LOOPBACK,UP> mtu 65536\n2: eth0"+hostile+"@if5: <UP> mtu 1500\n"+
		"3: tunl0@NONE: <UP> mtu 1480\n4: cali5e1c4d6c68c@if3: <UP> mtu 1480\n"), 0o644)
	ng := filepath.Join(dir, "router-1.pcapng")
	pcapToPcapng(t, filepath.Join(src, "router-1-eth1.pcap"), ng, "eth1"+hostile)
	return []string{
		"--links", "node-a=" + links,
		"--point", "node-b:tunl0" + hostile + "=" + cp("node-b-tunl0.pcap", "b-tunnel.pcap"),
		cp("node-a-any.pcap", "node-a-any.pcap"),
		cp("node-b-eth0.pcap", "node-b-eth0"+hostile+".pcap"),
		cp("node-b-cali2f5353dd8c5.pcap", "node-b-cali2f5353dd8c5.pcap"),
		cp("router-1-eth0.pcap", "router-1-eth0.pcap"),
		ng,
	}
}

// pcapToPcapng rewrites a pcap file as a pcapng file whose one interface is called ifName.
func pcapToPcapng(t *testing.T, from, to, ifName string) {
	t.Helper()
	r, c, err := decode.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out bytes.Buffer
	le := binary.LittleEndian
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		out.Write(le.AppendUint32(le.AppendUint32(nil, typ), n))
		out.Write(body)
		out.Write(le.AppendUint32(nil, n))
	}
	option := func(b []byte, code uint16, v []byte) []byte {
		b = le.AppendUint16(le.AppendUint16(b, code), uint16(len(v)))
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = le.AppendUint16(le.AppendUint16(shb, 1), 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	block(0x0a0d0d0a, shb)
	var rec decode.Record
	first := true
	for {
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if first {
			idb := le.AppendUint16(nil, uint16(rec.LinkType))
			idb = le.AppendUint16(idb, 0)
			idb = le.AppendUint32(idb, 262144)
			idb = option(idb, 2, []byte(ifName)) // if_name
			idb = option(idb, 9, []byte{9})      // if_tsresol: ns
			idb = option(idb, 0, nil)            // opt_endofopt
			block(1, idb)
			first = false
		}
		epb := le.AppendUint32(nil, 0)
		epb = le.AppendUint32(le.AppendUint32(epb, uint32(uint64(rec.Ts)>>32)), uint32(rec.Ts))
		epb = le.AppendUint32(le.AppendUint32(epb, uint32(rec.CapLen)), uint32(rec.OrigLen))
		block(6, append(epb, rec.Data...))
	}
	if err := os.WriteFile(to, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostileNameEveryFormat feeds one hostile name through every output: the report in each format,
// points and packets as text and JSON, the error messages that echo it, and the TUI's screens. None
// may pass a control character or a bidirectional override; the text formats show the name with
// visible escapes, and JSON escapes them and keeps the name.
func TestHostileNameEveryFormat(t *testing.T) {
	args := hostileInputs(t)
	visible := []string{`\x1b]52;c;aGVsbG8K\x07`, `\u202e`}
	check := func(what string, out []byte, csiOK bool, want ...string) {
		t.Helper()
		if bad := badText(out, csiOK); bad != "" {
			t.Errorf("%s: %s", what, bad)
		}
		for _, w := range want {
			if !bytes.Contains(out, []byte(w)) {
				t.Errorf("%s does not show %q", what, w)
			}
		}
	}
	for _, f := range []string{"text", "markdown", "html", "json"} {
		code, out, stderr := runCLI(append([]string{"report", "--format", f}, args...)...)
		if code != exitOK {
			t.Fatalf("report --format %s: exit %d\n%s", f, code, stderr)
		}
		check("stderr of report --format "+f, []byte(stderr), false)
		switch f {
		case "json":
			check("report --format json", []byte(out), false, `\u001b]52;c;aGVsbG8K\u0007\u001b[2J\u009b\u202e\u2066x\ufffd`)
			var res correlate.Result
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range res.Points {
				found = found || p.Iface == strings.ToValidUTF8("eth1"+hostile, "\uFFFD")
			}
			if !found {
				t.Errorf("report --format json: no point keeps the pcapng interface name exactly")
			}
		case "html":
			check("report --format html", []byte(out), false, visible...)
			if !strings.Contains(out, `<meta http-equiv="Content-Security-Policy" content="default-src 'none';`) {
				t.Error("the HTML report has no Content-Security-Policy")
			}
		default:
			check("report --format "+f, []byte(out), false, visible...)
		}
	}
	for _, sub := range [][]string{{"points"}, {"points", "--format", "json"}, {"packets"}, {"packets", "--format", "json"}} {
		code, out, stderr := runCLI(append(sub, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s", sub, code, stderr)
		}
		check(strings.Join(sub, " "), []byte(out), false)
		check(strings.Join(sub, " ")+" stderr", []byte(stderr), false)
		if len(sub) == 1 {
			check(sub[0], []byte(out), false, visible[0])
		} else {
			check(strings.Join(sub, " "), []byte(out), false, `\u001b]52;c;aGVsbG8K\u0007`)
		}
	}
	// Messages that echo the command line.
	for _, bad := range [][]string{
		{"report", "--point", "x" + hostile, "a.pcap"},
		{"report", "--links", "n=" + hostile, "a.pcap"},
		{"report", "--format", hostile, "a.pcap"},
		{"report", "--flow", "host " + hostile, "a.pcap"},
		{"report", "--offset", "n=" + hostile, "a.pcap"},
		{"points", hostile + ".pcap"},
		{"report", "-o", hostile, hostile},
		{hostile + "/x.pcap"},
		{hostile},
	} {
		code, out, stderr := runCLI(bad...)
		if code == exitOK {
			t.Errorf("%q: exit 0", bad)
		}
		check("the message for "+strings.ToValidUTF8(strings.Join(bad, " "), "?"), []byte(out+stderr), false)
	}

	// The TUI, screen by screen.
	fs := newFlagSet("tui", "", io.Discard, io.Discard)
	var in inputFlags
	in.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := in.config(nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, keyw := io.Pipe()
	var screen bytes.Buffer
	done := make(chan error)
	go func() {
		done <- tui.Run(context.Background(), in.files(fs.Args()), tui.Options{Decode: decode.Options{VXLANPort: 4789},
			Points: cfg, Correlate: correlate.Options{Window: time.Second}, In: keys, Out: &screen,
			Getenv: func(string) string { return "" }})
	}()
	time.Sleep(time.Second) // loading
	for _, k := range []string{"1", "2", "\r", "\r", "5", "6", "/", "host " + hostile + "\r", "\x1b", "q"} {
		keyw.Write([]byte(k))
		time.Sleep(300 * time.Millisecond)
	}
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, tui.ErrInputSkipped) {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the TUI did not quit")
	}
	keyw.Close()
	check("the TUI", screen.Bytes(), true, visible...)
	if bytes.Contains(screen.Bytes(), []byte("\x1b]")) {
		t.Error("the TUI wrote an OSC sequence")
	}
}
