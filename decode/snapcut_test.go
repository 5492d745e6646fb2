package decode

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// snapFile writes lab file src with every record cut to n bytes (tcpdump -s n) into dir.
func snapFile(t *testing.T, dir, src string, n int) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	out := append([]byte{}, b[:24]...)
	le.PutUint32(out[16:], uint32(n))
	for off := 24; off+16 <= len(b); {
		incl := int(le.Uint32(b[off+8:]))
		rec := append([]byte{}, b[off:off+16]...)
		le.PutUint32(rec[8:], uint32(min(incl, n)))
		out = append(append(out, rec...), b[off+16:off+16+min(incl, n)]...)
		off += 16 + incl
	}
	p := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// healthy-vxlan's node-a eth0 cut to 96 bytes ends its TCP segments inside the inner TCP header (the
// outer headers take 64 bytes): the file's frames are counted as cut at the transport level, and
// at that level each cut frame's fingerprint is its whole frame's. Its vxlan.calico file cut to 60
// cuts the 12 TCP segments inside their options (timestamps), before their payload, and leaves the
// echoes and UDP datagrams 16 payload bytes or more. Whole files count nothing.
func TestSnapLevels(t *testing.T) {
	dir := t.TempDir()
	const lab = "../testdata/lab/scenarios/healthy-vxlan/"
	for _, c := range []struct {
		file   string
		n      int
		level  uint8
		frames int
	}{
		{"node-a-eth0.pcap", 96, SnapTransport, 24}, {"node-a-vxlan.calico.pcap", 60, SnapPayload, 12},
		{"node-a-eth0.pcap", 1 << 16, SnapWhole, 0},
	} {
		whole := lab + c.file
		cut := snapFile(t, dir, whole, c.n)
		fi := ScanFile(cut, 0, Options{}, NewTables(), nil)
		if fi.SnapLevel != c.level || fi.SnapFrames != c.frames || (c.frames > 0) != (fi.SnapLen == c.n) || fi.SnapBlind != 0 {
			t.Errorf("%s -s %d: level %d, %d frames cut to %d (%d blind), want level %d, %d frames",
				c.file, c.n, fi.SnapLevel, fi.SnapFrames, fi.SnapLen, fi.SnapBlind, c.level, c.frames)
		}
		if c.level == SnapWhole {
			continue
		}
		fps := func(p string) []uint64 {
			var out []uint64
			ScanFile(p, 0, Options{SnapMatch: c.level}, NewTables(), func(_ *Record, p *Packet, _ *Observation) {
				out = append(out, p.Loose)
			})
			return out
		}
		if a, b := fps(whole), fps(cut); !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s -s %d: fingerprints at level %d differ from the whole frames'", c.file, c.n, c.level)
		}
	}
}

// Load and LoadSpilled read a cut run again on the headers: both give the same fingerprints, each
// the whole files' read at that level.
func TestSnapReload(t *testing.T) {
	dir := t.TempDir()
	const lab = "../testdata/lab/scenarios/healthy-vxlan/"
	names := []string{"node-a-eth0.pcap", "node-a-vxlan.calico.pcap"}
	var cut, whole []string
	for _, n := range names {
		cut, whole = append(cut, snapFile(t, dir, lab+n, 96)), append(whole, lab+n)
	}
	want := Load(whole, Options{SnapMatch: SnapTransport}, PointConfig{})
	got := Load(cut, Options{}, PointConfig{})
	for f := range names {
		if !slices.Equal(flat(got.Loose[f]), flat(want.Loose[f])) {
			t.Errorf("%s: Load's fingerprints are not the whole file's on headers", names[f])
		}
	}
	if !spillSupported {
		return
	}
	sp, spill, err := LoadSpilled(cut, Options{}, PointConfig{}, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer spill.Close()
	for f := range names {
		if !slices.Equal(flat(sp.Loose[f]), flat(want.Loose[f])) || len(flat(sp.Loose[f])) == 0 {
			t.Errorf("%s: LoadSpilled's fingerprints are not the whole file's on headers", names[f])
		}
	}
}

func flat(f Fingerprints) []uint64 { return slices.Concat(f.Chunks...) }

// Frames cut before their inner ports are one notion, marked on their Observations
// (CutBeforePorts) and counted by their file (SnapBlind) alike. healthy-vxlan's node-a eth0 cut to 46
// bytes ends every VXLAN datagram inside its VXLAN header (before, read as a UDP datagram to 4789
// whose payload was cut, SnapPayload: the datagrams made flows of their own, lost on the underlay),
// to 60 inside the inner Ethernet header; healthy-wireguard's cut to 46 ends every WireGuard message
// inside its header; healthy-ipip's cut to 54 keeps the inner IPv4 header and no port, ICMP type or
// identifier. Every IP frame of those files is cut before its ports, and none is left to match.
func TestCutBeforePortsOneNotion(t *testing.T) {
	for _, c := range []struct {
		sc string
		n  int
	}{{"healthy-vxlan", 46}, {"healthy-vxlan", 60}, {"healthy-wireguard", 46}, {"healthy-ipip", 54}} {
		cut := snapFile(t, t.TempDir(), "../testdata/lab/scenarios/"+c.sc+"/node-a-eth0.pcap", c.n)
		var blind, ip int
		fi := ScanFile(cut, 0, Options{}, NewTables(), func(rec *Record, p *Packet, o *Observation) {
			if p.Inner.Version != 0 || p.Encap != EncapNone {
				ip++
			}
			if CutBeforePorts(o) {
				blind++
			}
		})
		if blind == 0 || blind != ip || fi.SnapBlind != blind || fi.SnapFrames != 0 {
			t.Errorf("%s eth0 -s %d: %d IP frames, %d cut before their ports, file counts %d (and %d cut after)",
				c.sc, c.n, ip, blind, fi.SnapBlind, fi.SnapFrames)
		}
	}
}
