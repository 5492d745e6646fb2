package correlate

import "testing"

// TestClientMapping: a mapping rewrote the client's packets when its tuple before is the flow's own,
// client to server; an ICMP flow's endpoints have no port where its mappings carry the echo
// identifier, and an IPv6 endpoint is written in brackets.
func TestClientMapping(t *testing.T) {
	tcp := Flow{Src: Endpoint{"10.244.1.5", 50834}, Dst: Endpoint{"10.96.0.10", 80}}
	icmp := Flow{Src: Endpoint{"10.244.1.5", 0}, Dst: Endpoint{"10.96.0.10", 0}}
	v6 := Flow{Src: Endpoint{"fd00:244::5", 46242}, Dst: Endpoint{"fd00:96::10", 8080}}
	for _, c := range []struct {
		name string
		f    Flow
		from string
		want bool
	}{
		{"request", tcp, "10.244.1.5:50834 → 10.96.0.10:80", true},
		{"answer", tcp, "10.244.1.9:8080 → 10.244.1.5:50834", false},
		{"other port", tcp, "10.244.1.5:50840 → 10.96.0.10:80", false},
		{"icmp request", icmp, "10.244.1.5:7 → 10.96.0.10:7", true},
		{"icmp answer", icmp, "10.244.2.7:7 → 10.244.1.5:7", false},
		{"v6 request", v6, "[fd00:244::5]:46242 → [fd00:96::10]:8080", true},
		{"v6 answer", v6, "[fd00:96::10]:8080 → [fd00:244::5]:46242", false},
		{"no arrow", tcp, "10.244.1.5:50834", false},
	} {
		if got := c.f.ClientMapping(NATMapping{Kind: "dnat", From: c.from}); got != c.want {
			t.Errorf("%s: ClientMapping(%q) = %v, want %v", c.name, c.from, got, c.want)
		}
	}
}
