package testtool

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// LabWithout copies the classic little-endian pcap files named of a lab scenario (the directory src)
// into a temporary directory without the frames drop says, and returns their paths.
func LabWithout(t testing.TB, src string, files []string, drop func(frame []byte) bool) []string {
	t.Helper()
	dir := t.TempDir()
	var in []string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(b) != 0xa1b23c4d {
			t.Fatalf("%s: not a little-endian classic pcap", f)
		}
		out := append([]byte(nil), b[:24]...)
		for off := 24; off+16 <= len(b); {
			end := off + 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
			if end > len(b) {
				t.Fatalf("%s: record at %d runs past the end", f, off)
			}
			if !drop(b[off+16 : end]) {
				out = append(out, b[off:end]...)
			}
			off = end
		}
		p := filepath.Join(dir, f)
		if err := os.WriteFile(p, out, 0o644); err != nil {
			t.Fatal(err)
		}
		in = append(in, p)
	}
	return in
}

// EchoReplyFrom reports whether an Ethernet frame is an ICMP echo reply from the IPv4 address src.
func EchoReplyFrom(f []byte, src [4]byte) bool {
	return len(f) >= 35 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 1 &&
		[4]byte(f[26:30]) == src && f[14+int(f[14]&0xf)*4] == 0
}
