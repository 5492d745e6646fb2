package correlate

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// wgFindings lists a result's error and warning anomalies as "kind where count", and its summary's
// delivered and lost counts.
func wgFindings(r *Result) []string {
	out := []string{fmt.Sprintf("delivered %d lost %d", r.Summary.Delivered, r.Summary.Lost)}
	for _, a := range r.Anomalies {
		if a.Severity == "error" || a.Severity == "warning" {
			out = append(out, fmt.Sprintf("%s at %s%s→%s (%d)", a.Kind, a.Where.Point, a.Where.From, a.Where.To, a.Count))
		}
	}
	slices.Sort(out)
	return out
}

func wgCorrelate(files []string) *Result {
	return Correlate(decode.Load(files, decode.Options{}, decode.PointConfig{}), Options{})
}

// WireGuard captured without the devices (the pods' veths and eth0, as `calipath plan` prints without
// --wireguard): the pods' veth sightings stand in for the devices', so the report finds what it finds
// with the devices: the same packets delivered and lost, the same anomalies, and no host-drop inside
// a node, no retransmission made of a super-packet's pieces, no pmtu-blackhole on one (review5 #4).
// With one node's captures absent as well, a healthy capture loses nothing.
func TestWireGuardWithoutDevice(t *testing.T) {
	for _, sc := range []string{"healthy-wireguard", "wireguard-underlay-loss", "wireguard-mtu-blackhole",
		"wireguard-bypass", "wireguard-fragmented"} {
		t.Run(sc, func(t *testing.T) {
			all := wgScenarioFiles(t, sc)
			var noDev []string
			for _, f := range all {
				if !strings.Contains(filepath.Base(f), "wireguard.cali") {
					noDev = append(noDev, f)
				}
			}
			want, got := wgFindings(wgCorrelate(all)), wgFindings(wgCorrelate(noDev))
			if !slices.Equal(want, got) {
				t.Errorf("without the devices:\n  %s\nwith them:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
	for _, leave := range []string{"node-a", "node-b"} {
		t.Run("healthy-wireguard/no-"+leave, func(t *testing.T) {
			var files []string
			for _, f := range wgScenarioFiles(t, "healthy-wireguard", leave) {
				if !strings.Contains(filepath.Base(f), "wireguard.cali") {
					files = append(files, f)
				}
			}
			r := wgCorrelate(files)
			if r.Summary.Lost != 0 || r.Summary.Anomalies["error"] != 0 {
				t.Errorf("healthy capture without devices and %s: %d lost: %s", leave, r.Summary.Lost, wgFindings(r))
			}
		})
	}
}

// wireguard-bypass with node-b's device file left out and node-b's -i any file given: the any file's
// only unnamed tunnel interface (any#4) is node-b's WireGuard device, and the report finds what the
// per-interface files find (review5 #4: a pmtu-blackhole on a super-packet there).
func TestWireGuardAnyDevice(t *testing.T) {
	all := wgScenarioFiles(t, "wireguard-bypass")
	files := []string{filepath.Join(filepath.Dir(all[0]), "node-b-any.pcap")}
	for _, f := range all {
		if filepath.Base(f) != "node-b-wireguard.cali.pcap" {
			files = append(files, f)
		}
	}
	want, got := wgFindings(wgCorrelate(all)), wgFindings(wgCorrelate(files))
	if !slices.Equal(want, got) {
		t.Errorf("with node-b's any file for its device:\n  %s\nwith the device's own file:\n  %s",
			strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// wireguard-blocked without the devices: node-a's packets died for want of a session (its initiations
// unanswered), seen from its pod's veth; without node-b's captures too, node-a's initiations name its
// peer by address.
func TestWireGuardBlockedWithoutDevice(t *testing.T) {
	for _, leave := range []string{"", "node-b"} {
		t.Run("no-"+leave, func(t *testing.T) {
			r := wgCorrelate(wgScenarioFiles(t, "wireguard-blocked", "node-a-wireguard", "node-b-wireguard", leave+"-"))
			found := false
			for _, a := range r.Anomalies {
				if a.Kind == "wireguard-no-session" && a.Where.From == "node-a/cali5e1c4d6c68c" && a.Where.To == "node-a/eth0" &&
					a.Count == 9 && strings.Contains(a.Message, "wireguard.cali) was not captured") {
					found = true
				}
			}
			if !found {
				t.Errorf("no wireguard-no-session (9) at node-a/cali5e1c4d6c68c → node-a/eth0: %s", wgFindings(r))
			}
		})
	}
}

// A loss inside a node whose WireGuard device was not captured says so, and what to capture: built from
// healthy-wireguard, node-a's pod veth and eth0 only, node-a's own transport messages removed from its
// eth0 (its packets then never leave it).
func TestWireGuardProxyNote(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, f := range wgScenarioFiles(t, "healthy-wireguard", "node-b", "router-1", "node-a-wireguard") {
		files = append(files, filterPcap(t, f, dir, func(_ int, _ int64, data []byte) bool {
			// Ethernet, IPv4 (20 bytes) from 192.168.10.2, UDP, WireGuard type 4 (transport).
			return !(len(data) > 14+20+8 && string(data[14+12:14+16]) == "\xc0\xa8\x0a\x02" && data[14+9] == 17 &&
				data[14+20+8] == 4)
		}))
	}
	r := wgCorrelate(files)
	for _, a := range r.Anomalies {
		if a.Where.From == "node-a/cali5e1c4d6c68c" && a.Where.To == "node-a/eth0" {
			if !strings.Contains(a.Message, "node-a's WireGuard device (wireguard.cali) was not captured") ||
				!strings.Contains(a.Message, "Capture wireguard.cali too") {
				t.Errorf("%s (%d) does not say the device was not captured: %s", a.Kind, a.Count, a.Message)
			}
			return
		}
	}
	t.Errorf("no loss at node-a/cali5e1c4d6c68c → node-a/eth0: %s", wgFindings(r))
}
