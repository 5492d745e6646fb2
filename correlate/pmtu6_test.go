package correlate

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A path-MTU black hole on IPv6: mtu-blackhole's IPv6 copy (labTo6), whose router drops pod-b's big
// segments and answers nothing. IPv6 has no DF bit because routers never fragment (RFC 8200), so
// every lost packet is one no router could have fragmented, and the finding must be the IPv4
// scenario's ERROR, said in IPv6's words (ICMPv6 Packet Too Big, not ICMP 3/4). Before, the check
// wanted DF and the copy said only "loss router-1/eth1→router-1/eth0 5", a warning.
//
// With an ICMPv6 Packet Too Big for each of those packets delivered to pod-b's veth, it is no black
// hole: path-MTU discovery is told, as the IPv4 check says of a delivered ICMP 3/4
// (icmp-frag-needed, and no pmtu-blackhole).
func TestPMTUBlackholeIPv6(t *testing.T) {
	files := labTo6(t, perIfaceFiles("mtu-blackhole"))
	r, lines := offloadVerdicts(files)
	var bh *Anomaly
	for i, a := range r.Anomalies {
		if a.Kind == "pmtu-blackhole" {
			bh = &r.Anomalies[i]
		}
	}
	if bh == nil || bh.Severity != "error" || bh.Where.From != "router-1/eth1" || bh.Where.To != "router-1/eth0" ||
		!strings.Contains(bh.Message, "Packet Too Big") || !strings.Contains(bh.Next, "ICMPv6 Packet Too Big") ||
		strings.Contains(bh.Next, "type 3 code 4") {
		t.Errorf("IPv6 mtu-blackhole: %s; want an ERROR pmtu-blackhole router-1/eth1 → router-1/eth0 naming ICMPv6 Packet Too Big: %+v\n%s",
			verdict6(r), bh, strings.Join(lines, "\n"))
	}

	// The same, with a Packet Too Big from router-1 reaching pod-b's veth after each big segment.
	cali := ""
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "node-b-cali") {
			cali = f
		}
	}
	b, err := os.ReadFile(cali)
	if err != nil {
		t.Fatal(err)
	}
	hdr, recs, unit := readPcapRecs(t, b)
	podB, router := v6Addr([]byte{10, 244, 2, 7}), v6Addr([]byte{192, 168, 20, 1})
	var out []pcapRec
	ptbs := 0
	for _, rec := range recs {
		out = append(out, rec)
		d := rec.data[16:]
		if len(d) < 54 || binary.BigEndian.Uint16(d[12:]) != 0x86dd || d[20] != 6 || !slices.Equal(d[22:38], podB[:]) ||
			binary.BigEndian.Uint16(d[18:]) < 1300 {
			continue
		}
		var dst, src [6]byte
		copy(dst[:], d[6:12])
		copy(src[:], d[:6])
		f := icmp6Frame(dst, src, router, podB, 1300, d[14:])
		h := append([]byte(nil), rec.data[:16]...)
		binary.LittleEndian.PutUint32(h[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(h[12:], uint32(len(f)))
		out = append(out, pcapRec{rec.ts + 200_000, append(h, f...)})
		ptbs++
	}
	if ptbs < 2 {
		t.Fatalf("%d big segments from pod-b at %s", ptbs, cali)
	}
	if err := os.WriteFile(cali, writePcapRecs(hdr, out, unit), 0o644); err != nil {
		t.Fatal(err)
	}
	r, lines = offloadVerdicts(files)
	var kinds []string
	for _, a := range r.Anomalies {
		kinds = append(kinds, a.Kind)
	}
	if slices.Contains(kinds, "pmtu-blackhole") || !slices.Contains(kinds, "icmp-frag-needed") {
		t.Errorf("IPv6 mtu-blackhole with %d Packet Too Big delivered: %s %v; want icmp-frag-needed and no pmtu-blackhole\n%s",
			ptbs, verdict6(r), kinds, strings.Join(lines, "\n"))
	}
}
