package correlate

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// rawIP rewrites an Ethernet pcap as a raw-IP one (LINKTYPE_RAW, 101): each IP frame without its
// Ethernet header; other frames (ARP) cannot be written so and are left out. A file of another link
// type is copied as it is.
func rawIP(t *testing.T, in, out string) {
	t.Helper()
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if b[0] == 0xa1 {
		bo = binary.BigEndian
	}
	if len(b) < 24 || bo.Uint32(b[20:24]) != 1 { // a tunnel's capture: no link header already
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw := append([]byte(nil), b[:24]...)
	bo.PutUint32(raw[20:24], 101)
	for off := 24; off+16 <= len(b); {
		n := int(bo.Uint32(b[off+8 : off+12]))
		rec, data := b[off:off+16], b[off+16:off+16+n]
		off += 16 + n
		if n < 14 || (binary.BigEndian.Uint16(data[12:14]) != 0x0800 && binary.BigEndian.Uint16(data[12:14]) != 0x86dd) {
			continue
		}
		hdr := append([]byte(nil), rec...)
		bo.PutUint32(hdr[8:12], uint32(n-14))
		bo.PutUint32(hdr[12:16], bo.Uint32(rec[12:16])-14)
		raw = append(append(raw, hdr...), data[14:]...)
	}
	if err := os.WriteFile(out, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Raw-IP captures (no MACs) of a pod's veth hold its conversations' two ends equally often: the pod
// behind each veth is the end that sent frames not yet routed (an initial TTL), so each node's veth is
// its own pod's, and every packet is delivered or lost as truth.json says (healthy-ipip gave
// node-b's veth pod-a, 11 delivered and 16 not captured).
func TestRawIPPodPick(t *testing.T) {
	for _, sc := range []string{"healthy-ipip", "healthy-bgp", "underlay-loss"} {
		dir := "../testdata/lab/scenarios/" + sc
		tr, pods := truthPods(t, sc)
		pcaps, _ := filepath.Glob(dir + "/*.pcap")
		tmp := t.TempDir()
		var files []string
		for _, p := range pcaps {
			if strings.HasSuffix(p, "-any.pcap") {
				continue
			}
			out := filepath.Join(tmp, filepath.Base(p))
			rawIP(t, p, out)
			files = append(files, out)
		}
		r := Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
		for _, p := range r.Points {
			if p.Role == "pod-veth" && !slices.Contains(pods[p.Node], p.PodIP) {
				t.Errorf("%s: %s pod %q, not one of %s's pods %v", sc, p.ID, p.PodIP, p.Node, pods[p.Node])
			}
		}
		sent, delivered := 0, 0
		for _, f := range tr.Flows {
			sent, delivered = sent+f.Sent, delivered+f.Delivered
		}
		if s := r.Summary; s.Journeys != sent || s.Delivered != delivered || s.NotCaptured != 0 {
			t.Errorf("%s: %d sent, %d delivered, %d not captured; truth %d sent, %d delivered", sc,
				s.Journeys, s.Delivered, s.NotCaptured, sent, delivered)
		}
	}
}

// truthPods reads a lab scenario's truth.json: the truth, and each node's pods' addresses.
func truthPods(t *testing.T, sc string) (*labTruth, map[string][]string) {
	t.Helper()
	b, err := os.ReadFile("../testdata/lab/scenarios/" + sc + "/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		labTruth
		Nodes []struct {
			Name string
			Pods []struct{ IP string }
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	pods := map[string][]string{}
	for _, n := range tr.Nodes {
		for _, p := range n.Pods {
			pods[n.Name] = append(pods[n.Name], p.IP)
		}
	}
	return &tr.labTruth, pods
}
