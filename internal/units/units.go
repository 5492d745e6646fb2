// Package units formats quantities and names for people, once for every renderer: the text,
// Markdown and HTML reports, the progress line and the TUI share it.
package units

import (
	"fmt"
	"strconv"
	"strings"
)

// Bytes formats a byte count with a binary unit: 512B, 1.5KiB, 12.3MiB, 1.75GiB.
func Bytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%dB", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2fGiB", float64(n)/(1<<30))
}

// Count formats n with thousands separators: 1,234,567.
func Count(n int) string {
	if n < 0 {
		return "-" + Count(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Dur formats a duration in ns with three significant digits: 850ns, 21µs, 1.25ms, 3.2s.
func Dur(ns int64) string {
	neg := ""
	if ns < 0 {
		neg, ns = "-", -ns
	}
	var s string
	switch {
	case ns < 1000:
		s = strconv.FormatInt(ns, 10) + "ns"
	case ns < 1_000_000:
		s = trim3(float64(ns)/1e3) + "µs"
	case ns < 1_000_000_000:
		s = trim3(float64(ns)/1e6) + "ms"
	default:
		s = trim3(float64(ns)/1e9) + "s"
	}
	return neg + s
}

// trim3 formats x with three significant digits for x in [1, 1000).
func trim3(x float64) string {
	switch {
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(x, 'f', 1, 64), "0"), ".")
	}
	return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(x, 'f', 2, 64), "0"), ".")
}

// Proto names an IP protocol number as tcpdump does (tcp, udp, icmp, ipip, icmpv6), or gives the
// number.
func Proto(n uint8) string {
	switch n {
	case 1:
		return "icmp"
	case 4:
		return "ipip"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 58:
		return "icmpv6"
	}
	return strconv.Itoa(int(n))
}

// TCPFlags writes TCP flag bits as tcpdump does: S, F, R, P, U, E, C, and "." for ACK, in the order
// tcpdump prints them ("S." for SYN-ACK, "P." for PSH-ACK).
func TCPFlags(f uint8) string {
	var b strings.Builder
	for _, x := range []struct {
		bit  uint8
		name byte
	}{{0x02, 'S'}, {0x01, 'F'}, {0x04, 'R'}, {0x08, 'P'}, {0x20, 'U'}, {0x40, 'E'}, {0x80, 'C'}, {0x10, '.'}} {
		if f&x.bit != 0 {
			b.WriteByte(x.name)
		}
	}
	return b.String()
}
