package correlate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/calipath/calipath/decode"
)

// In df-ping-refused, pod-a's DF ping of 1500 bytes is refused by node-a itself (the tunnel's MTU is
// 1480), which answers with ICMP fragmentation-needed; it is the last packet of the captures, too
// close to their end for the next point's capture to count as running. The ICMP error shows node-a
// had it and dropped it: lost on node-a's cali → tunl0, an encap-drop (its flow lost all it sent),
// and the ICMP anomaly says the node refused its own pod's packet.
func TestRefusedByItsNode(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/lab/scenarios/df-ping-refused/*.pcap")
	if len(paths) == 0 {
		t.Fatal("no df-ping-refused captures")
	}
	r := Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
	const seg = "node-a/cali5e1c4d6c68c→node-a/tunl0"
	var df *Flow
	for i, f := range r.Flows {
		if f.Proto == "icmp" && f.Packets == 1 {
			df = &r.Flows[i]
		}
	}
	if df == nil {
		t.Fatalf("no one-packet ping flow in %v", r.Flows)
	}
	if df.Lost != 1 || df.NotCaptured != 0 || len(df.LostAt) != 1 || df.LostAt[0].From+"→"+df.LostAt[0].To != seg {
		t.Errorf("DF ping flow %s: %d lost at %v, %d not captured; want lost at %s", df.ID, df.Lost, df.LostAt, df.NotCaptured, seg)
	}
	var drop, icmp *Anomaly
	for i, a := range r.Anomalies {
		switch {
		case a.Kind == "encap-drop" && a.Where.From+"→"+a.Where.To == seg:
			drop = &r.Anomalies[i]
		case a.Kind == "icmp-frag-needed" && a.Where.Point == "node-a/cali5e1c4d6c68c":
			icmp = &r.Anomalies[i]
		}
	}
	if drop == nil || drop.Count != 1 || !strings.Contains(drop.Message, "node-a refused 1 of them itself") {
		t.Errorf("encap-drop at %s: %+v", seg, drop)
	}
	if icmp == nil || !strings.Contains(icmp.Message, "Sent by node-a to its own pod") {
		t.Errorf("icmp-frag-needed at node-a/cali5e1c4d6c68c: %+v", icmp)
	}
	checkSums(t, "df-ping-refused", r)
}
