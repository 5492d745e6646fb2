package correlate

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// cookedV1Unplaced copies lab scenario sc's router-1 cooked v1 capture (sll1/router-1-any.pcap) into
// dir without what places its neighbours behind its interfaces: its ARP frames, and the frames of
// packets to back (the way back, by whose routes the router's interfaces are also told).
func cookedV1Unplaced(t *testing.T, sc, dir string, back netip.Addr) string {
	t.Helper()
	b4 := back.As4()
	return filterPcap(t, filepath.Join("../testdata/lab/scenarios", sc, "sll1", "router-1-any.pcap"), dir,
		func(_ int, _ int64, d []byte) bool {
			if len(d) < 16 {
				return true
			}
			switch binary.BigEndian.Uint16(d[14:16]) {
			case 0x0806:
				return false
			case 0x0800:
				return len(d) < 36 || [4]byte(d[32:36]) != b4
			}
			return true
		})
}

// router-any-drop's router-1 captured in cooked v1 (-i any, LINUX_SLL) with its ARP frames and the
// way back (the frames to pod-a) removed: only node-a's packets in and the router's out through eth1
// are left, so nothing places node-a behind an interface and the file was one point,
// router-1/any:underlay, where a forwarded packet's two sightings were one: pod-a's 3 UDP datagrams
// that router-1 dropped were "lost at router-1/any:underlay → node-b/eth0", after the router. The
// packet types (outgoing or not) now split it into router-1/any:in and router-1/any:out: the loss is
// inside router-1 (the truth's router-1/eth0 → router-1/eth1), and both the loss and the file's
// problem say that through which interfaces is not known, and how to tell.
func TestRouterCookedV1Sides(t *testing.T) {
	const sc = "router-any-drop"
	tr, _ := truthPods(t, sc)
	src := filepath.Join("../testdata/lab/scenarios", sc)
	nodes, _ := filepath.Glob(filepath.Join(src, "node-*.pcap"))
	v1 := cookedV1Unplaced(t, sc, t.TempDir(), netip.MustParseAddr("10.244.1.5"))
	c := decode.Load(append(slices.Clone(nodes), v1), decode.Options{}, decode.PointConfig{})
	r := Correlate(c, Options{})
	var ids []string
	for _, p := range c.Points {
		if p.Node == "router-1" {
			ids = append(ids, p.ID)
		}
	}
	if want := []string{"router-1/any:in", "router-1/any:out"}; !slices.Equal(ids, want) {
		t.Errorf("router-1's points %q, want %q", ids, want)
	}
	for _, fi := range c.Files {
		if fi.Path == v1 && !strings.Contains(strings.Join(fi.Problems, "\n"), "any:in") {
			t.Errorf("%s: no problem saying it is split by direction: %q", fi.Path, fi.Problems)
		}
	}
	sent, delivered := 0, 0
	for _, f := range tr.Flows {
		sent += f.Sent
		delivered += f.Delivered
	}
	if s := r.Summary; s.Journeys != sent || s.Delivered != delivered || s.Lost != sent-delivered {
		t.Errorf("sent %d delivered %d lost %d, truth sent %d delivered %d", s.Journeys, s.Delivered, s.Lost, sent, delivered)
	}
	var at []string
	for _, a := range r.Anomalies {
		if a.Kind == "underlay-drop" || a.Kind == "loss" || a.Kind == "host-drop" {
			at = append(at, a.Kind+" "+a.Where.From+"→"+a.Where.To)
			if !strings.Contains(a.Message, "is not known") {
				t.Errorf("%s: detail does not say what is not known: %q", a.Kind, a.Message)
			}
		}
	}
	if want := "underlay-drop router-1/any:in→router-1/any:out"; len(at) != 1 || at[0] != want {
		t.Errorf("losses %q, want %s", at, want)
	}
}
