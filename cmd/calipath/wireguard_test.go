package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const wgLab = "../../testdata/lab/scenarios/healthy-wireguard"

// calipath packets shows the WireGuard header of each message on eth0: type, indexes, counter and the
// padded inner length, in text and JSON; --wireguard-port moves it.
func TestPacketsWireGuard(t *testing.T) {
	in := wgLab + "/node-a-eth0.pcap"
	code, out, errs := runCLI("packets", in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"node-a-eth0.pcap:3 ", "| wireguard initiation sender 0xb1b5912e csum",
		"| wireguard response sender 0xeb082c34 receiver 0xb1b5912e csum",
		"node-a-eth0.pcap:5 ", "UDP len 156 payload 128 ttl 64 id 1753 | wireguard transport receiver 0xeb082c34 counter 0 padded 96 csum",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = runCLI("packets", "--format", "json", in)
	if code != exitOK {
		t.Fatalf("json: exit %d: %s", code, errs)
	}
	type wg struct {
		Type      uint8   `json:"type"`
		Name      string  `json:"name"`
		Sender    string  `json:"sender"`
		Receiver  string  `json:"receiver"`
		Counter   *uint64 `json:"counter"`
		Len       int     `json:"len"`
		PaddedLen *int    `json:"padded_len"`
	}
	got := map[uint32]wg{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var f struct {
			Frame uint32 `json:"frame"`
			WG    *wg    `json:"wireguard"`
		}
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		if f.WG != nil {
			got[f.Frame] = *f.WG
		}
	}
	if w := got[3]; w.Type != 1 || w.Name != "initiation" || w.Sender != "0xb1b5912e" || w.Len != 148 || w.Counter != nil {
		t.Errorf("frame 3: %+v", w)
	}
	if w := got[5]; w.Type != 4 || w.Receiver != "0xeb082c34" || w.Counter == nil || *w.Counter != 0 || w.PaddedLen == nil ||
		*w.PaddedLen != 96 {
		t.Errorf("frame 5: %+v", w)
	}
	if _, ok := got[1]; ok {
		t.Error("the ARP frame has a WireGuard header")
	}
	// Another port: the same datagrams are plain UDP.
	code, out, _ = runCLI("packets", "--wireguard-port", "51821", in)
	if code != exitOK || strings.Contains(out, "| wireguard") {
		t.Errorf("--wireguard-port 51821: exit %d, WireGuard still decoded:\n%s", code, out)
	}
}

// calipath points on every WireGuard lab scenario: wireguard.cali is each node's tunnel (RAW, like
// tunl0), eth0 its underlay, named from the file names and the pcapng interface names alike.
func TestPointsWireGuard(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/lab/scenarios*/*wireguard*")
	if err != nil || len(dirs) == 0 {
		t.Skipf("no WireGuard scenarios (%v)", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files, _ := filepath.Glob(dir + "/*.pcap*")
			code, out, errs := runCLI(append([]string{"points"}, files...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if strings.Contains(errs, "wireguard.cali") {
				t.Errorf("a hint about wireguard.cali: %s", errs)
			}
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`(?m)^  node-a/wireguard\.cali +role tunnel .* RAW `),
				regexp.MustCompile(`(?m)^  node-b/wireguard\.cali +role tunnel `), // no frames at all when UDP 51820 is blocked
				regexp.MustCompile(`(?m)^  node-a/eth0 +role underlay `),
				regexp.MustCompile(`(?m)^  node-b/eth0 +role underlay `),
			} {
				if !want.MatchString(out) {
					t.Errorf("no line matching %s:\n%s", want, out)
				}
			}
			if strings.Contains(out, "role unknown") {
				t.Errorf("a point of unknown role:\n%s", out)
			}
		})
	}
}
