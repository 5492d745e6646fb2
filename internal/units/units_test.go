package units

import "testing"

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1.0KiB", 1536: "1.5KiB",
		12<<20 + 300<<10: "12.3MiB", 7 << 29: "3.50GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDur(t *testing.T) {
	for ns, want := range map[int64]string{0: "0ns", 999: "999ns", 1000: "1µs", 1500: "1.5µs", 21_000: "21µs",
		1_250_000: "1.25ms", 12_340_000: "12.3ms", 3_200_000_000: "3.2s", -1_500_000: "-1.5ms"} {
		if got := Dur(ns); got != want {
			t.Errorf("Dur(%d) = %q, want %q", ns, got, want)
		}
	}
}

func TestProtoAndFlags(t *testing.T) {
	for n, want := range map[uint8]string{1: "icmp", 4: "ipip", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "132"} {
		if got := Proto(n); got != want {
			t.Errorf("Proto(%d) = %q, want %q", n, got, want)
		}
	}
	for f, want := range map[uint8]string{0x02: "S", 0x12: "S.", 0x18: "P.", 0x11: "F.", 0x04: "R", 0x10: ".", 0: ""} {
		if got := TCPFlags(f); got != want {
			t.Errorf("TCPFlags(%#x) = %q, want %q", f, got, want)
		}
	}
}
