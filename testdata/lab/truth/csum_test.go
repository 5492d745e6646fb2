package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket/pcapgo"
)

// TestOffloadArtefacts pins what healthy-vxlan-offload is for (issue 12 §2): on every underlay
// point, VXLAN frames whose outer UDP checksum only verifies once the inner TCP or UDP
// placeholder is completed (local checksum offload), frames whose outer checksum is itself the
// placeholder (inner ICMP), and no frame with a wrong checksum.
func TestOffloadArtefacts(t *testing.T) {
	l, err := computeLab(filepath.Join("..", "scenarios", "healthy-vxlan-offload"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range []string{"node-a/eth0", "router-1/eth0", "router-1/eth1", "node-b/eth0"} {
		c := l.csums[pt]
		for _, want := range []string{"udp:lco/tcp:placeholder", "udp:lco/udp:placeholder", "udp:placeholder/icmp:ok"} {
			if c[want] == 0 {
				t.Errorf("%s: no %s frames; have %v", pt, want, c)
			}
		}
		for class, n := range c {
			if strings.Contains(class, "bad") {
				t.Errorf("%s: %d frames %s", pt, n, class)
			}
		}
	}
}

// TestCsumClassFlips flips one bit in real frames and checks what the classifier can and cannot
// see. Local checksum offload makes the outer UDP checksum independent of the inner payload (the
// completed inner checksum absorbs any change), so a flipped payload bit under an inner
// placeholder is invisible; the same bit in the inner Ethernet header, or under a checksum that
// was computed (ICMP, IP-in-IP's inner TCP), is caught.
func TestCsumClassFlips(t *testing.T) {
	vx := frames(t, filepath.Join("..", "scenarios", "healthy-vxlan-offload", "node-b-eth0.pcap"))
	ipip := frames(t, filepath.Join("..", "scenarios", "healthy-ipip", "node-b-eth0.pcap"))
	const outer = 14 + 20 + 8 + 8 // Ethernet, IPv4, UDP, VXLAN
	cases := []struct {
		name   string
		frames [][]byte
		class  string // frames of this class are flipped
		at     func(f []byte) int
		want   string
	}{
		{"lco inner payload", vx, "udp:lco/tcp:placeholder", last, "udp:lco/tcp:placeholder"},
		{"lco inner Ethernet", vx, "udp:lco/tcp:placeholder", func([]byte) int { return outer + 2 }, "udp:bad/tcp:placeholder"},
		{"lco VXLAN header", vx, "udp:lco/udp:placeholder", func([]byte) int { return outer - 2 }, "udp:bad/udp:placeholder"},
		{"inner ICMP payload", vx, "udp:placeholder/icmp:ok", last, "udp:placeholder/icmp:bad"},
		{"IP-in-IP inner TCP payload", ipip, "ipip/tcp:ok", last, "ipip/tcp:bad"},
		{"outer IPv4 header", ipip, "ipip/udp:ok", func([]byte) int { return 14 + 8 }, "ip:bad"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			for _, f := range c.frames {
				if csumClass(f[14:]) != c.class {
					continue
				}
				n++
				g := append([]byte(nil), f...)
				g[c.at(g)] ^= 0x10
				if got := csumClass(g[14:]); got != c.want {
					t.Errorf("frame of %d bytes flipped at %d: %s, want %s", len(f), c.at(g), got, c.want)
				}
			}
			if n == 0 {
				t.Fatalf("no %s frame to flip", c.class)
			}
		})
	}
}

func last(f []byte) int { return len(f) - 1 }

func frames(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
}
