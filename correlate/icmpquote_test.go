package correlate

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/decode"
)

// icmp6Msg builds Ethernet/IPv6/ICMPv6 with type typ, code code, the four bytes after the checksum
// rest, and body after them, with a correct checksum.
func icmp6Msg(dst, src [6]byte, sip, dip [16]byte, hops, typ, code uint8, rest uint32, body []byte) []byte {
	body = body[:min(len(body), 1280-40-8)]
	m := make([]byte, 8+len(body))
	m[0], m[1] = typ, code
	binary.BigEndian.PutUint32(m[4:], rest)
	copy(m[8:], body)
	pseudo := append(append(append([]byte{}, sip[:]...), dip[:]...), 0, 0, byte(len(m)>>8), byte(len(m)), 0, 0, 0, 58)
	binary.BigEndian.PutUint16(m[2:], csum(append(pseudo, m...)))
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(m)))
	ip[6], ip[7] = 58, hops
	copy(ip[8:], sip[:])
	copy(ip[24:], dip[:])
	return append(append(append(dst[:], src[:]...), 0x86, 0xdd), append(ip, m...)...)
}

// icmpQuoteCase is one of TestICMPErrorsOfTwoFlows' captures: pod-a (node-a) sends two packets that
// differ only in what ICMP errors' fingerprints leave out (a destination address and port, or an
// echo identifier), seen at its veth and node-a/eth0, and a router answers each with an error
// microseconds apart, seen at node-a/eth0 and the veth on their way back. No NAT lies between the
// two points.
func icmpQuoteCase(t *testing.T, gap int64, unseen bool) *Result {
	dir := t.TempDir()
	cali, macA := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}, [6]byte{0x0a, 0x58, 0, 0, 0, 1}
	nicA, rtr := [6]byte{2, 0, 0, 0, 0, 0xa}, [6]byte{2, 0, 0, 0, 1, 0xa}
	a16 := func(s string) [16]byte { return netip.MustParseAddr(s).As16() }
	podA, router := a16("fd00:10:244:1::5"), a16("fd00:192:168:10::1")
	dns1, dns2, far := a16("fd00:203:0:113::53"), a16("fd00:203:0:113::54"), a16("fd00:203:0:113::10")
	const t0 = int64(1_700_000_000_000_000_000)
	var ts [2][]int64 // node-a cali, node-a eth0
	var fr [2][][]byte
	add := func(k int, at int64, f []byte) { ts[k], fr[k] = append(ts[k], at), append(fr[k], f) }
	query := "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x1c\x00\x01"
	ping := strings.Repeat("p", 56)
	for i, pkt := range []struct {
		dst  [16]byte
		udp  bool
		port uint16 // the UDP destination port, or the echo identifier
	}{{dns1, true, 53}, {dns2, true, 53}, {far, false, 100}, {far, false, 200}} {
		at := t0 + int64(i/2)*100_000_000 + int64(i%2)*gap
		var out, fwd []byte
		if pkt.udp { // the same query to two servers
			out = udp6Frame(cali, macA, podA, pkt.dst, 64, 40000, pkt.port, query)
			fwd = udp6Frame(rtr, nicA, podA, pkt.dst, 63, 40000, pkt.port, query)
		} else { // two pings from pod-a with the same sequence and payload
			out = icmp6Msg(cali, macA, podA, pkt.dst, 64, 128, 0, uint32(pkt.port)<<16|1, []byte(ping))
			fwd = icmp6Msg(rtr, nicA, podA, pkt.dst, 63, 128, 0, uint32(pkt.port)<<16|1, []byte(ping))
		}
		add(0, at, out)
		add(1, at+10_000, fwd)
		// The router: address unreachable, quoting what it got.
		// With unseen, the capture missed the first error at the veth and the second at eth0.
		if !unseen || i%2 == 0 {
			add(1, at+40_000, icmp6Msg(nicA, rtr, router, podA, 64, 1, 3, 0, fwd[14:]))
		}
		if !unseen || i%2 == 1 {
			add(0, at+50_000, icmp6Msg(macA, cali, router, podA, 63, 1, 3, 0, fwd[14:]))
		}
	}
	var paths []string
	for k, name := range []string{"node-a-cali1111.pcap", "node-a-eth0.pcap"} {
		paths = append(paths, filepath.Join(dir, name))
		// each file in time order
		idx := make([]int, len(ts[k]))
		for i := range idx {
			idx[i] = i
		}
		for i := range idx {
			for j := i + 1; j < len(idx); j++ {
				if ts[k][idx[j]] < ts[k][idx[i]] {
					idx[i], idx[j] = idx[j], idx[i]
				}
			}
		}
		var st []int64
		var sf [][]byte
		for _, i := range idx {
			st, sf = append(st, ts[k][i]), append(sf, fr[k][i])
		}
		writePcap(t, paths[k], st, sf)
	}
	return Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
}

// Two ICMP errors that differ only in the quoted destination address, port or echo identifier are
// errors about two packets: fingerprinted from the quote less what NAT rewrites, they were taken for
// one error's sightings (the second a duplicate capture of the first when microseconds apart, or the
// pair ambiguous when further apart). No NAT lies between node-a/eth0 and the veth, so each must be a
// journey of its own, seen at both points, none a copy.
func TestICMPErrorsOfTwoFlows(t *testing.T) {
	for _, gap := range []int64{3_000, 200_000} {
		r := icmpQuoteCase(t, gap, false)
		errs, dups := 0, 0
		for _, f := range r.Flows {
			for _, j := range r.FlowJourneys(f.ID) {
				if len(j.Hops) == 0 {
					continue
				}
				for _, h := range j.Hops {
					dups += h.Dup
				}
				if j.Hops[0].Point != "node-a/eth0" {
					continue
				}
				errs++
				if len(j.Hops) != 2 || j.Hops[1].Point != "node-a/cali1111" {
					t.Errorf("gap %d: error journey %d: %+v, want node-a/eth0 then node-a/cali1111", gap, j.ID, j.Hops)
				}
			}
		}
		if errs != 4 || dups != 0 {
			t.Errorf("gap %d: %d error journeys, %d copies taken for duplicates: want 4 and 0", gap, errs, dups)
		}
		for _, a := range r.Anomalies {
			if a.Kind == "ambiguous-packets" || a.Kind == "capture-duplicate" {
				t.Errorf("gap %d: %s: %s", gap, a.Kind, a.Message)
			}
		}
	}
}

// The same errors, the capture missing the first of each pair at the veth and the second at eth0: the
// second, at the veth, is not the first seen again with other quoted ports or addresses (NAT): nothing
// on node-a rewrites them (its own error, its own quote and addresses but one, all else equal). Each
// is a journey of its own, seen once.
func TestICMPErrorsOfTwoFlowsUnseen(t *testing.T) {
	r := icmpQuoteCase(t, 3_000, true)
	var got []string
	for _, f := range r.Flows {
		for _, j := range r.FlowJourneys(f.ID) {
			if len(j.Hops) == 0 || j.Hops[0].Point == "node-a/cali1111" && len(j.Hops) > 1 {
				continue // a request
			}
			var pts []string
			for _, h := range j.Hops {
				pts = append(pts, h.Point+strings.Join(h.Changes, ","))
			}
			got = append(got, strings.Join(pts, " "))
		}
	}
	want := "node-a/cali1111 node-a/cali1111 node-a/eth0 node-a/eth0"
	slices.Sort(got)
	if strings.Join(got, " ") != want {
		t.Errorf("error journeys %q: want one at each point for each error (%s)", got, want)
	}
	for _, f := range r.Flows {
		if len(f.NAT) > 0 {
			t.Errorf("flow %s: NAT %+v", f.ID, f.NAT)
		}
	}
	// The queries crossed both points unrewritten: no NAT lies between them for these flows, so the
	// refused joins are no doubt.
	for _, a := range r.Anomalies {
		if a.Kind == "icmp-error-nat-unknown" {
			t.Errorf("%s: %s", a.Kind, a.Message)
		}
	}
}

// icmpResendCase: pod-a sends a DNS query and, gap later, the same query again (the same bytes: IPv6
// has no IP id); a router answers each with address unreachable, the two errors identical but for
// their time, seen arriving at node-a/eth0 and, with toPod, at the veth. With dupCapture, node-a/eth0's
// capture also wrote the first error twice (at one moment).
func icmpResendCase(t *testing.T, gap int64, toPod, dupCapture bool) *Result {
	copyAfter := int64(-1)
	if dupCapture {
		copyAfter = 0
	}
	return icmpCopyCase(t, gap, toPod, copyAfter)
}

// icmpCopyCase is icmpResendCase with the first error at node-a/eth0 written again copyAfter ns after
// it (none when negative).
func icmpCopyCase(t *testing.T, gap int64, toPod bool, copyAfter int64) *Result {
	dir := t.TempDir()
	cali, macA := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}, [6]byte{0x0a, 0x58, 0, 0, 0, 1}
	nicA, rtr := [6]byte{2, 0, 0, 0, 0, 0xa}, [6]byte{2, 0, 0, 0, 1, 0xa}
	a16 := func(s string) [16]byte { return netip.MustParseAddr(s).As16() }
	podA, router, dns := a16("fd00:10:244:1::5"), a16("fd00:192:168:10::1"), a16("fd00:203:0:113::53")
	const t0 = int64(1_700_000_000_000_000_000)
	query := "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x1c\x00\x01"
	var ts [2][]int64 // node-a cali, node-a eth0
	var fr [2][][]byte
	add := func(k int, at int64, f []byte) { ts[k], fr[k] = append(ts[k], at), append(fr[k], f) }
	fwd := udp6Frame(rtr, nicA, podA, dns, 63, 40000, 53, query)
	errAt0 := icmp6Msg(nicA, rtr, router, podA, 64, 1, 3, 0, fwd[14:])
	errAtPod := icmp6Msg(macA, cali, router, podA, 63, 1, 3, 0, fwd[14:])
	for i := range int64(2) {
		at := t0 + i*gap
		add(0, at, udp6Frame(cali, macA, podA, dns, 64, 40000, 53, query))
		add(1, at+10_000, fwd)
	}
	for i := range int64(2) {
		at := t0 + i*gap
		add(1, at+40_000, errAt0)
		if i == 0 && copyAfter >= 0 {
			add(1, at+40_000+copyAfter, errAt0)
		}
		if toPod {
			add(0, at+50_000, errAtPod)
		}
	}
	var paths []string
	for k, name := range []string{"node-a-cali1111.pcap", "node-a-eth0.pcap"} {
		paths = append(paths, filepath.Join(dir, name))
		idx := make([]int, len(ts[k]))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return int(ts[k][a] - ts[k][b]) })
		var st []int64
		var sf [][]byte
		for _, i := range idx {
			st, sf = append(st, ts[k][i]), append(sf, fr[k][i])
		}
		writePcap(t, paths[k], st, sf)
	}
	return Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
}

// A router's two identical ICMPv6 errors 300 µs apart (one per copy of a resent query) are two
// errors, not one captured twice: a capture that writes a frame twice does so at the same moment. The
// second was taken for a duplicated capture of the first (Hop.Dup 1, one error) when seen at
// node-a/eth0 only. Alike in all the frames say, they are counted by position (the ambiguous-packets
// warning says so). A frame the capture wrote twice at one moment is still one error seen twice.
func TestICMPErrorsResentApart(t *testing.T) {
	for _, c := range []struct {
		toPod, dupCapture bool
		gap               int64
		errs, dups        int
	}{{false, false, 300_000, 2, 0}, {true, false, 300_000, 2, 0}, {false, true, 10_000_000_000, 2, 1}, {true, true, 10_000_000_000, 2, 1}} {
		r := icmpResendCase(t, c.gap, c.toPod, c.dupCapture)
		errs, dups := 0, 0
		for _, f := range r.Flows {
			for _, j := range r.FlowJourneys(f.ID) {
				if len(j.Hops) == 0 || j.Hops[0].Point != "node-a/eth0" {
					continue
				}
				errs++
				for _, h := range j.Hops {
					dups += h.Dup
				}
				if want := map[bool]int{false: 1, true: 2}[c.toPod]; len(j.Hops) != want {
					t.Errorf("%+v: error journey %d has %d hops, want %d: %+v", c, j.ID, len(j.Hops), want, j.Hops)
				}
			}
		}
		if errs != c.errs || dups != c.dups {
			t.Errorf("%+v: %d error journeys, %d copies taken for duplicated captures: want %d and %d", c, errs, dups, c.errs, c.dups)
		}
	}
}

// icmpNATUnseenCase: pod-a sends DNS queries to a service address, not captured (both captures
// filtered on ICMPv6); node-a's NAT sends them to the backend.
// A router answers each with address unreachable quoting the query as it got it (to the backend),
// seen at node-a/eth0, and node-a's NAT rewrites the quote back (to the service address) on the
// way to the veth, where it is seen microseconds later. Two errors, each quoting its own query (the
// same query to two servers, no NAT), would look the same: the queries were not seen across the NAT.
func icmpNATUnseenCase(t *testing.T) *Result {
	dir := t.TempDir()
	cali, macA := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}, [6]byte{0x0a, 0x58, 0, 0, 0, 1}
	nicA, rtr := [6]byte{2, 0, 0, 0, 0, 0xa}, [6]byte{2, 0, 0, 0, 1, 0xa}
	a16 := func(s string) [16]byte { return netip.MustParseAddr(s).As16() }
	podA, router := a16("fd00:10:244:1::5"), a16("fd00:192:168:10::1")
	svc, backend := a16("fd00:10:96::a"), a16("fd00:203:0:113::53")
	const t0 = int64(1_700_000_000_000_000_000)
	query := "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x1c\x00\x01"
	var ts [2][]int64 // node-a cali, node-a eth0
	var fr [2][][]byte
	for i := range int64(3) {
		at := t0 + i*100_000_000
		sport := uint16(40000 + i)
		got := udp6Frame(rtr, nicA, podA, backend, 63, sport, 53, query) // as the router got it
		back := udp6Frame(rtr, nicA, podA, svc, 63, sport, 53, query)    // its quote after node-a's NAT
		ts[1], fr[1] = append(ts[1], at+40_000), append(fr[1], icmp6Msg(nicA, rtr, router, podA, 64, 1, 3, 0, got[14:]))
		ts[0], fr[0] = append(ts[0], at+50_000), append(fr[0], icmp6Msg(macA, cali, router, podA, 63, 1, 3, 0, back[14:]))
		// Another server's datagrams to pod-a on the way in: node-a/eth0, then the veth.
		ts[1], fr[1] = append(ts[1], at+60_000), append(fr[1], udp6Frame(nicA, rtr, backend, podA, 63, 53, 40100, query))
		ts[0], fr[0] = append(ts[0], at+70_000), append(fr[0], udp6Frame(macA, cali, backend, podA, 62, 53, 40100, query))
	}
	var paths []string
	for k, name := range []string{"node-a-cali1111.pcap", "node-a-eth0.pcap"} {
		paths = append(paths, filepath.Join(dir, name))
		writePcap(t, paths[k], ts[k], fr[k])
	}
	return Correlate(decode.Load(paths, decode.Options{}, decode.PointConfig{}), Options{})
}

// ICMP errors that crossed node-a's NAT, the quoted queries not captured across it (seen at the veth
// only): nothing links the error quoting the backend at node-a/eth0 to the one quoting the service
// address at the veth. They stay two journeys (as two errors would be), but the one at node-a/eth0
// must not be said lost with confidence: the icmp-error-nat-unknown warning names both points, both
// quoted flows and the time between, and no error-severity loss stands for that segment.
func TestICMPErrorsNATUnseen(t *testing.T) {
	r := icmpNATUnseenCase(t)
	var warn *Anomaly
	for i, a := range r.Anomalies {
		t.Logf("%s %s %s->%s: %s", a.Kind, a.Severity, a.Where.From, a.Where.To, a.Message)
		if a.Kind == "icmp-error-nat-unknown" {
			warn = &r.Anomalies[i]
		}
		if a.Severity == sevError && a.Where.From == "node-a/eth0" {
			t.Errorf("%s at %s -> %s stands as an error: %s", a.Kind, a.Where.From, a.Where.To, a.Message)
		}
		if lossWarnings[a.Kind] && a.Where.From == "node-a/eth0" && !strings.HasPrefix(a.Message, "Uncertain:") {
			t.Errorf("%s at %s -> %s said with confidence: %s", a.Kind, a.Where.From, a.Where.To, a.Message)
		}
	}
	if warn == nil {
		t.Fatal("no icmp-error-nat-unknown warning")
	}
	if warn.Severity != sevWarning || warn.Count != 3 {
		t.Errorf("warning severity %s count %d, want warning and 3", warn.Severity, warn.Count)
	}
	for _, s := range []string{"node-a/eth0", "node-a/cali1111", "fd00:203:0:113::53", "fd00:10:96::a", "10µs"} {
		if !strings.Contains(warn.Message, s) {
			t.Errorf("warning does not name %q: %s", s, warn.Message)
		}
	}
}

// A loss finding at the segment icmp-error-nat-unknown names is said as uncertain, a warning; one at
// another segment, or of another kind, is left as it was.
func TestNATUnknownUncertain(t *testing.T) {
	at := Where{From: "node-a/eth0", To: "node-a/cali1111"}
	ans := []Anomaly{
		{Kind: "delivery-drop", Severity: sevError, Where: at, Message: "m"},
		{Kind: "loss", Severity: sevWarning, Where: at, Message: "m"},
		{Kind: "delivery-drop", Severity: sevError, Where: Where{From: "node-b/eth0", To: "node-b/cali2222"}, Message: "m"},
		{Kind: "icmp-unreachable", Severity: sevWarning, Where: Where{Point: "node-a/eth0"}, Message: "m"},
		{Kind: "icmp-error-nat-unknown", Severity: sevWarning, Where: at, Count: 2, Message: "m"},
	}
	(&analysis{}).natUnknownUncertain(ans)
	for i, a := range ans[:2] {
		if a.Severity != sevWarning || !strings.HasPrefix(a.Message, "Uncertain: 2 ICMP errors") {
			t.Errorf("%d: %s %s: %s", i, a.Kind, a.Severity, a.Message)
		}
	}
	if ans[2].Severity != sevError || ans[2].Message != "m" || ans[3].Message != "m" {
		t.Errorf("changed elsewhere: %+v", ans[2:4])
	}
}

// Two byte-identical ICMP errors less than 10 µs apart in node-a/eth0's only capture (or written at
// one moment) are counted as one error captured twice (Hop.Dup): a duplicated capture and a sender's
// two errors back to back look the same. The icmp-error-copies finding says so, with the count, the
// point, the file and the gap; before, nothing did. A copy 300 µs later is a second error (ambiguous,
// TestICMPErrorsResentApart) and no such finding.
func TestICMPErrorCopies(t *testing.T) {
	for _, c := range []struct {
		copyAfter int64
		want      int // the finding's count, 0: none
	}{{5_000, 1}, {0, 1}, {-1, 0}} {
		r := icmpCopyCase(t, 10_000_000_000, false, c.copyAfter)
		var got *Anomaly
		for i, a := range r.Anomalies {
			if a.Kind == "icmp-error-copies" {
				got = &r.Anomalies[i]
			}
		}
		if c.want == 0 {
			if got != nil {
				t.Errorf("copy after %d ns: %s", c.copyAfter, got.Message)
			}
			continue
		}
		if got == nil {
			t.Errorf("copy after %d ns: no icmp-error-copies finding", c.copyAfter)
			continue
		}
		if got.Count != c.want || got.Where.Point != "node-a/eth0" || len(got.Evidence) != 2 ||
			!strings.Contains(got.Message, "node-a-eth0.pcap") || !strings.Contains(got.Message, "cannot tell") ||
			!strings.Contains(got.Message, time.Duration(c.copyAfter).String()) {
			t.Errorf("copy after %d ns: %+v", c.copyAfter, *got)
		}
	}
}

// icmpCopySharedCase is icmpCopyCase's query and ICMPv6 error with node-a/eth0 captured twice
// (node-a-eth0.pcap and node-a-eth0~b.pcap, named to sort after it, the second's frames 20 µs later): copyIn names the file
// that holds the error a second time, 5 µs after its first (0, 1; -1: neither), and copyAfter
// how long after.
func icmpCopySharedCase(t *testing.T, copyIn int, copyAfter int64) *Result {
	dir := t.TempDir()
	cali, macA := [6]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}, [6]byte{0x0a, 0x58, 0, 0, 0, 1}
	nicA, rtr := [6]byte{2, 0, 0, 0, 0, 0xa}, [6]byte{2, 0, 0, 0, 1, 0xa}
	a16 := func(s string) [16]byte { return netip.MustParseAddr(s).As16() }
	podA, router, dns := a16("fd00:10:244:1::5"), a16("fd00:192:168:10::1"), a16("fd00:203:0:113::53")
	const t0 = int64(1_700_000_000_000_000_000)
	query := "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x1c\x00\x01"
	fwd := udp6Frame(rtr, nicA, podA, dns, 63, 40000, 53, query)
	errAt0 := icmp6Msg(nicA, rtr, router, podA, 64, 1, 3, 0, fwd[14:])
	var ts [3][]int64 // node-a cali, node-a eth0 (two captures)
	var fr [3][][]byte
	add := func(k int, at int64, f []byte) { ts[k], fr[k] = append(ts[k], at), append(fr[k], f) }
	for i := range int64(2) {
		at := t0 + i*10_000_000_000
		add(0, at, udp6Frame(cali, macA, podA, dns, 64, 40000, 53, query))
		add(1, at+10_000, fwd)
		add(2, at+10_020, fwd)
		add(1, at+40_000, errAt0)
		add(2, at+40_020, errAt0)
		if i == 0 && copyIn >= 0 {
			add(1+copyIn, at+40_000+20*int64(copyIn)+copyAfter, errAt0)
		}
	}
	var paths []string
	cfg := decode.PointConfig{Explicit: map[string]decode.Identity{}}
	for k, name := range []string{"node-a-cali1111.pcap", "node-a-eth0.pcap", "node-a-eth0~b.pcap"} {
		paths = append(paths, filepath.Join(dir, name))
		writePcap(t, paths[k], ts[k], fr[k])
	}
	cfg.Explicit[paths[2]] = decode.Identity{Node: "node-a", Iface: "eth0"}
	return Correlate(decode.Load(paths, decode.Options{}, cfg), Options{})
}

// At a point with two captures, a byte-identical ICMP error that the capture which saw it first holds
// twice within 1 ms was taken for a copy (Hop.Dup) and said nowhere: only the point's sole capture
// was looked at. The icmp-error-copies finding counts it, pairing the two frames of that file; the
// other capture's own sighting of the error (20 µs after the first) is a copy no finding names. When
// the other capture holds it twice, its second frame is a second error, counted by position
// (ambiguous-packets), as before, and not a copy.
func TestICMPErrorCopiesShared(t *testing.T) {
	for _, c := range []struct {
		copyIn     int
		copyAfter  int64
		want       int // the finding's count, 0: none
		errs, dups int
		ambiguous  bool
	}{{0, 5_000, 1, 2, 3, false}, {0, 300_000, 1, 2, 3, false}, {0, 0, 1, 2, 3, false},
		{1, 5_000, 0, 3, 2, true}, {1, 0, 0, 3, 2, true}, {-1, 0, 0, 2, 2, false}} {
		r := icmpCopySharedCase(t, c.copyIn, c.copyAfter)
		var got *Anomaly
		errs, dups, ambiguous := 0, 0, false
		for _, f := range r.Flows {
			for _, j := range r.FlowJourneys(f.ID) {
				if len(j.Hops) > 0 && j.Hops[0].Point == "node-a/eth0" { // the errors: the queries begin at the veth
					errs++
					for _, h := range j.Hops {
						dups += h.Dup
					}
				}
			}
		}
		for i, a := range r.Anomalies {
			switch a.Kind {
			case "icmp-error-copies":
				got = &r.Anomalies[i]
			case "ambiguous-packets":
				ambiguous = true
			}
		}
		if errs != c.errs || dups != c.dups || ambiguous != c.ambiguous {
			t.Errorf("copy in %d after %d ns: %d error journeys, %d copies, ambiguous %v: want %d, %d, %v",
				c.copyIn, c.copyAfter, errs, dups, ambiguous, c.errs, c.dups, c.ambiguous)
		}
		if c.want == 0 {
			if got != nil {
				t.Errorf("copy in %d after %d ns: %s", c.copyIn, c.copyAfter, got.Message)
			}
			continue
		}
		if got == nil {
			t.Errorf("copy in %d after %d ns: no icmp-error-copies finding", c.copyIn, c.copyAfter)
			continue
		}
		file := []string{"node-a-eth0.pcap", "node-a-eth0~b.pcap"}[c.copyIn]
		if got.Count != c.want || got.Where.Point != "node-a/eth0" || len(got.Evidence) != 2 ||
			filepath.Base(got.Evidence[0].File) != file || filepath.Base(got.Evidence[1].File) != file ||
			!strings.Contains(got.Message, file+")") || !strings.Contains(got.Message, time.Duration(c.copyAfter).String()) {
			t.Errorf("copy in %d after %d ns: %+v", c.copyIn, c.copyAfter, *got)
		}
	}
}
