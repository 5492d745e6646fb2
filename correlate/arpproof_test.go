package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// arpAnyOnly correlates a lab scenario's -i any captures only, node-b-any.pcap's frame 8 (pod-b's
// broadcast request for 169.254.1.1) changed by change when it is not nil, and gives the scenario's
// truth.json expected anomalies' kinds too.
func arpAnyOnly(t *testing.T, sc string, change func(frame []byte)) (*Result, []string) {
	t.Helper()
	tr, _ := truthPods(t, sc)
	var kinds []string
	for _, e := range tr.Expected {
		kinds = append(kinds, e.Kind)
	}
	paths := labFiles(t, sc, func(name string) bool { return strings.HasSuffix(name, "-any.pcap") })
	if change != nil {
		p := paths[slices.IndexFunc(paths, func(p string) bool { return filepath.Base(p) == "node-b-any.pcap" })]
		d, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		off := 24 // a little-endian pcap: 24-byte file header, 16-byte record headers
		for range 7 {
			off += 16 + int(binary.LittleEndian.Uint32(d[off+8:]))
		}
		change(d[off+16 : off+16+int(binary.LittleEndian.Uint32(d[off+8:]))])
		if err := os.WriteFile(p, d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{}), kinds
}

// One tcpdump -i any per node, whose kernel buffer dropped a burst at node-b: in these scenarios
// node-b-any.pcap holds pod-b's broadcast request for 169.254.1.1 (frame 8, cooked packet type
// "broadcast") but neither the proxy reply (node-b's cali capture holds it 4 µs later) nor pod-b's
// echo reply right after it. Pod-b then sends on through its gateway (the next echo replies, 0.2 s
// later), which its kernel does only once the request was answered: no proxy-arp-missing (truth.json
// expects none), the exchange's reply was not captured, and capture-dropped at node-b/any#3 says so
// with the request and the proving packet. The same request changed into a unicast one (a probe of an
// entry the kernel keeps using meanwhile) proves nothing: proxy-arp-missing stays.
func TestARPAnsweredAnyOnly(t *testing.T) {
	for _, sc := range []string{"healthy-ipip", "clock-drift", "clock-skew", "healthy-vxlan", "pmtu-discovery",
		"tcp-retransmission"} {
		r, want := arpAnyOnly(t, sc, nil)
		var cd *Anomaly
		for i, a := range r.Anomalies {
			if a.Kind == "proxy-arp-missing" || a.Kind == "arp-unanswered" {
				t.Errorf("%s: %s at %s: %s (truth.json expects %v)", sc, a.Kind, a.Where.Point, a.Message, want)
			}
			if a.Kind == "capture-dropped" && a.Where.Point == "node-b/any#3" {
				cd = &r.Anomalies[i]
			}
		}
		if cd == nil || cd.Severity != sevWarning || !strings.Contains(cd.Message, "missed the reply to 1 broadcast ARP request") ||
			len(cd.Evidence) < 2 || cd.Evidence[0].Frame != 8 || cd.Evidence[1].Frame <= 8 ||
			filepath.Base(cd.Evidence[1].File) != "node-b-any.pcap" {
			t.Errorf("%s: capture-dropped at node-b/any#3: %+v", sc, cd)
		}
		for _, ap := range r.ARP {
			if ap.Point != "node-b/any#3" {
				continue
			}
			if ap.Unanswered != 0 || !slices.ContainsFunc(ap.Exchanges, func(e ARPExch) bool {
				return e.Who == "169.254.1.1" && e.Verdict == "reply-not-captured" && e.Evidence.Frame == 8
			}) {
				t.Errorf("%s: ARP at node-b/any#3: %d unanswered, exchanges %+v", sc, ap.Unanswered, ap.Exchanges)
			}
		}
	}
	r, _ := arpAnyOnly(t, "healthy-ipip", func(frame []byte) {
		if frame[10] != 1 {
			t.Fatalf("frame 8's packet type %d, want 1 (broadcast)", frame[10])
		}
		frame[10] = 0 // to us: a unicast request
	})
	if !slices.ContainsFunc(r.Anomalies, func(a Anomaly) bool {
		return a.Kind == "proxy-arp-missing" && a.Where.Point == "node-b/any#3" && a.Severity == sevError
	}) {
		t.Errorf("a unicast request for the gateway followed by pod traffic: no proxy-arp-missing: %+v", r.Anomalies)
	}
}

// proxy-arp-off: pod-a's requests for 169.254.1.1 got no reply, and pod-a sent nothing after them
// (truth.json: proxy-arp-missing at node-a/cali5e1c4d6c68c). Its cali capture (Ethernet, broadcast
// requests) keeps the ERROR.
func TestARPUnansweredStays(t *testing.T) {
	r := labWithout(t, "proxy-arp-off", "node-a-any", "node-b", "node-a-eth0", "node-a-tunl0", "router")
	if !slices.ContainsFunc(r.Anomalies, func(a Anomaly) bool {
		return a.Kind == "proxy-arp-missing" && a.Where.Point == "node-a/cali5e1c4d6c68c" && a.Severity == sevError && a.Count == 6
	}) {
		t.Errorf("proxy-arp-off: no proxy-arp-missing (6) at node-a/cali5e1c4d6c68c: %+v", r.Anomalies)
	}
}

// healthy-ipip's per-interface captures, node-b's cali capture (Ethernet) without frames 5 and 6: the
// proxy reply to pod-b's broadcast request for 169.254.1.1 (frame 4) and pod-b's echo reply it
// released, as if its capture had dropped them. Pod-b's next echo reply (frame 8, 6 of the file cut, 0.2 s later) proves
// the request answered: no proxy-arp-missing (truth.json expects no anomaly).
func TestARPAnsweredEthernet(t *testing.T) {
	paths := labFiles(t, "healthy-ipip", func(name string) bool {
		return strings.HasSuffix(name, ".pcap") && !strings.HasSuffix(name, "-any.pcap")
	})
	p := paths[slices.IndexFunc(paths, func(p string) bool { return filepath.Base(p) == "node-b-cali2f5353dd8c5.pcap" })]
	d, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var at [7]int // offsets of records 1 to 6 (little-endian pcap: 24-byte header, 16-byte record headers)
	at[1] = 24
	for k := 2; k <= 6; k++ {
		at[k] = at[k-1] + 16 + int(binary.LittleEndian.Uint32(d[at[k-1]+8:]))
	}
	end := at[6] + 16 + int(binary.LittleEndian.Uint32(d[at[6]+8:]))
	if d[at[5]+16+12] != 0x08 || d[at[5]+16+13] != 0x06 {
		t.Fatal("frame 5 is not ARP")
	}
	if err := os.WriteFile(p, append(d[:at[5]:at[5]], d[end:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	for _, a := range r.Anomalies {
		if a.Kind == "proxy-arp-missing" {
			t.Errorf("%s at %s: %s", a.Kind, a.Where.Point, a.Message)
		}
	}
	if !slices.ContainsFunc(r.Anomalies, func(a Anomaly) bool {
		return a.Kind == "capture-dropped" && a.Where.Point == "node-b/cali2f5353dd8c5" && len(a.Evidence) == 2 &&
			a.Evidence[0].Frame == 4 && a.Evidence[1].Frame == 6 && strings.Contains(a.Message, "broadcast ARP request")
	}) {
		t.Errorf("no capture-dropped at node-b/cali2f5353dd8c5 with frames 4 and 6: %+v", r.Anomalies)
	}
}

// proxy-arp-off with its -i any captures only: node-a's holds pod-a's six broadcast requests for
// 169.254.1.1 and nothing else (the host sent nothing), so it looks like a capture of incoming frames
// only (tcpdump -Q in). The missing reply is then no proof, but silence would hide the one thing the
// captures show: a warning at node-a/any#3 says both (truth.json expects proxy-arp-missing; this
// capture cannot tell it from a one-way one). Before, no anomaly at all.
func TestARPOneSidedWarns(t *testing.T) {
	r, kinds := arpAnyOnly(t, "proxy-arp-off", nil)
	if !slices.Contains(kinds, "proxy-arp-missing") {
		t.Fatalf("truth.json of proxy-arp-off expects %v", kinds)
	}
	i := slices.IndexFunc(r.Anomalies, func(a Anomaly) bool { return a.Kind == "proxy-arp-missing" })
	if i < 0 {
		t.Fatalf("no proxy-arp-missing: %+v", r.Anomalies)
	}
	a := r.Anomalies[i]
	if a.Severity != sevWarning || a.Where.Point != "node-a/any#3" || a.Count != 6 ||
		!strings.Contains(a.Message, "one direction only") || !strings.Contains(a.Next, "no -Q") {
		t.Errorf("proxy-arp-missing: %s at %s (%d): %s / %s; want a warning at node-a/any#3 (6) saying the capture recorded one direction",
			a.Severity, a.Where.Point, a.Count, a.Message, a.Next)
	}
}
