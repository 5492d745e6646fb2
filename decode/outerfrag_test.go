package decode

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// fxFragment returns the fragment of Ethernet/IPv4 frame f (its datagram whole) holding payload bytes
// [off, off+n) of its outer IPv4 datagram, MF set unless last says it ends the datagram.
func fxFragment(f []byte, off, n int, last bool) []byte {
	ihl := int(f[14]&0xf) * 4
	out := append(append([]byte{}, f[:14+ihl]...), f[14+ihl+off:14+ihl+off+n]...)
	h := out[14:]
	binary.BigEndian.PutUint16(h[2:], uint16(ihl+n))
	ff := uint16(off / 8)
	if !last {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], ff)
	fxIPv4Csum(h)
	return out
}

// fxMoved returns fragment f moved to payload offset off, the last of its datagram.
func fxMoved(f []byte, off int) []byte {
	out := append([]byte{}, f...)
	binary.BigEndian.PutUint16(out[14+6:], uint16(off/8))
	fxIPv4Csum(out[14:])
	return out
}

// fxFragment6 is fxFragment for an Ethernet/IPv6 frame without extension headers: a fragment header
// (identification 7) follows its fixed header.
func fxFragment6(f []byte, off, n int, last bool) []byte {
	out := append([]byte{}, f[:14+40]...)
	binary.BigEndian.PutUint16(out[14+4:], uint16(8+n))
	nh := out[14+6]
	out[14+6] = 44
	fo := uint16(off)
	if !last {
		fo |= 1
	}
	out = append(out, nh, 0, byte(fo>>8), byte(fo), 0, 0, 0, 7)
	return append(out, f[14+40+off:14+40+off+n]...)
}

// fxSplit returns the fragments of f's outer datagram, at bytes each (a multiple of 8).
func fxSplit(f []byte, at int) [][]byte {
	pl := len(f) - 14 - int(f[14]&0xf)*4
	var out [][]byte
	for off := 0; off < pl; off += at {
		n := min(at, pl-off)
		out = append(out, fxFragment(f, off, n, off+n == pl))
	}
	return out
}

// fragLoad loads the frames (Ethernet, one a millisecond, step apart where a step is given) from one
// pcap file.
func fragLoad(t *testing.T, frames [][]byte, step ...time.Duration) *Capture {
	t.Helper()
	p := filepath.Join(t.TempDir(), "eth0.pcap")
	if err := os.WriteFile(p, fragPcap(t, frames, step...), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load([]string{p}, Options{}, PointConfig{})
}

// fragPcap is a pcap file of the frames, as fragLoad loads them.
func fragPcap(t testing.TB, frames [][]byte, step ...time.Duration) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	for i, d := range frames {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(d), Length: len(d)}, d); err != nil {
			t.Fatal(err)
		}
		ts = ts.Add(time.Millisecond)
		if i < len(step) {
			ts = ts.Add(step[i])
		}
	}
	return buf.Bytes()
}

// fragSeeds are pcap files of outer fragments for the fuzzers: VXLAN over IPv4 and IPv6 and
// IP-in-IP, whole, reordered, with a copy, a gap, an overlap and one fragment far out.
func fragSeeds(tb testing.TB) [][]byte {
	fx := fxFrames(tb)
	vx, ipip, vx6 := fx["vxlan-tcp"].data, fx["ipip-tcp"].data, fx["vxlan6-tcp"].data
	vxf, ipf := fxSplit(vx, 72), fxSplit(ipip, 64)
	pl6 := len(vx6) - 14 - 40
	return [][]byte{
		fragPcap(tb, vxf),
		fragPcap(tb, [][]byte{ipf[2], vxf[1], ipf[0], vxf[0], vxf[0], ipf[1], vxf[2]}),
		fragPcap(tb, [][]byte{vxf[0], vxf[2], fxFragment(vx, 40, 72, false), fxMoved(vxf[1], 65512)}),
		fragPcap(tb, [][]byte{fxFragment6(vx6, 0, 80, false), fxFragment6(vx6, 80, pl6-80, true), fxFragment6(vx6, 0, 80, false)}),
		fragPcap(tb, fxSplit(ipip, 8), 31*time.Second),
	}
}

// Outer fragments of a VXLAN and an IP-in-IP packet (outerfrag.go): reassembled in any order, the
// datagram's Observation, at its offset-0 fragment, is the whole frame's (its fingerprint too) and
// the other fragments are no sightings (fingerprint 0); a copy of a fragment counts once; a datagram
// missing a fragment (at the end of the file, or past the timeout) is named and none of its fragments
// is a sighting; overlapping and too long datagrams are skipped, named, and their fragments left as
// they decode; fragments of other datagrams are left alone. Every record is still one Observation.
func TestOuterFragmentReassembly(t *testing.T) {
	fx := fxFrames(t)
	vx, ipip, udp := fx["vxlan-tcp"].data, fx["ipip-tcp"].data, fx["eth-udp"].data
	vx6 := fx["vxlan6-tcp"].data
	whole := fragLoad(t, [][]byte{vx, ipip, vx6})
	want := []Observation{whole.Obs[0][0], whole.Obs[0][1], whole.Obs[0][2]}
	wantFp := []uint64{whole.Loose[0].At(0), whole.Loose[0].At(1), whole.Loose[0].At(2)}
	pl6 := len(vx6) - 14 - 40
	vx6f := [][]byte{fxFragment6(vx6, 0, 80, false), fxFragment6(vx6, 80, pl6-80, true)}
	if want[0].Encap() != EncapVXLAN || want[1].Encap() != EncapIPIP {
		t.Fatalf("fixtures decode as %v and %v", want[0].Encap(), want[1].Encap())
	}
	vxf, ipf := fxSplit(vx, 72), fxSplit(ipip, 64) // three fragments each
	if len(vxf) != 3 || len(ipf) != 3 {
		t.Fatalf("%d and %d fragments", len(vxf), len(ipf))
	}
	type check struct {
		firsts map[int]int // the tunnel packets' Observations: frame index → want's index
		counts [3]int      // reassembled, incomplete, skipped
		msg    string
		drop   []int // the frames that are no sightings
	}
	for _, c := range []struct {
		name   string
		frames [][]byte
		step   []time.Duration
		check
	}{
		{"vxlan", vxf, nil, check{map[int]int{0: 0}, [3]int{1, 0, 0}, "", []int{1, 2}}},
		{"vxlan-reversed", [][]byte{vxf[2], vxf[1], vxf[0]}, nil, check{map[int]int{2: 0}, [3]int{1, 0, 0}, "", []int{0, 1}}},
		{"ipip-interleaved", [][]byte{ipf[1], vxf[0], ipf[0], vxf[1], ipf[2], vxf[2]}, nil, check{map[int]int{1: 0, 2: 1}, [3]int{2, 0, 0}, "", []int{0, 3, 4, 5}}},
		{"vxlan-copy", [][]byte{vxf[0], vxf[1], vxf[1], vxf[2]}, nil, check{map[int]int{0: 0}, [3]int{1, 0, 0}, "", []int{1, 2, 3}}},
		{"vxlan-lost", [][]byte{vxf[0], vxf[2]}, nil, check{nil, [3]int{0, 1, 0}, "arrived incomplete", []int{0, 1}}},
		{"vxlan-timeout", vxf, []time.Duration{31 * time.Second}, check{nil, [3]int{0, 1, 0}, "within 30s of its first", []int{0}}},
		{"ipip-first-lost", ipf[1:], nil, check{nil, [3]int{0, 1, 0}, "its first fragment among the missing", []int{0, 1}}},
		{"vxlan-overlap", [][]byte{vxf[0], fxFragment(vx, 40, 72, false)}, nil, check{nil, [3]int{0, 0, 1}, "fragments overlap", nil}},
		{"vxlan-too-long", [][]byte{vxf[0], fxMoved(vxf[1], 65512)}, nil, check{nil, [3]int{0, 0, 1}, "beyond the", nil}},
		{"vxlan-ipv6", vx6f, nil, check{map[int]int{0: 2}, [3]int{1, 0, 0}, "", []int{1}}},
		{"vxlan-ipv6-lost", vx6f[:1], nil, check{nil, [3]int{0, 1, 0}, "arrived incomplete", []int{0}}},
		{"vxlan-id-reused", append(append([][]byte{}, vxf...), vxf...), []time.Duration{0, 0, 2 * time.Second},
			check{map[int]int{0: 0, 3: 0}, [3]int{2, 0, 0}, "", []int{1, 2, 4, 5}}},
		{"vxlan-two-ends", [][]byte{vxf[0], vxf[2], fxMoved(vxf[1], 208)}, nil, check{nil, [3]int{0, 0, 1}, "two last fragments", nil}},
		{"udp-fragments", fxSplit(udp, 8), nil, check{nil, [3]int{0, 0, 0}, "", nil}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := fragLoad(t, c.frames, c.step...)
			fi := got.Files[0]
			if len(got.Obs[0]) != len(c.frames) || fi.Records != len(c.frames) {
				t.Fatalf("%d Observations of %d records, want %d", len(got.Obs[0]), fi.Records, len(c.frames))
			}
			if n := [3]int{fi.OuterReassembled, fi.OuterIncomplete, fi.OuterSkipped}; n != c.counts {
				t.Errorf("reassembled, incomplete, skipped = %v, want %v", n, c.counts)
			}
			if e := strings.Join(fi.Problems, " "); (c.msg == "") != (e == "") || !strings.Contains(e, c.msg) {
				t.Errorf("problems %q, want one saying %q", fi.Problems, c.msg)
			}
			for i := range got.Obs[0] {
				o, fp := got.Obs[0][i], got.Loose[0].At(i)
				which, first := c.firsts[i]
				switch {
				case first:
					w := want[which]
					o.TsLo, w.TsLo = 0, 0
					o.Ctx, w.Ctx = 0, 0 // interned in another order
					if w.Flags&FlagIPv6 != 0 {
						o.Src, o.Dst, w.Src, w.Dst = 0, 0, 0, 0 // interned in another order too
					}
					if o != w || fp != wantFp[which] {
						t.Errorf("frame %d: %+v fp %x, want the whole frame's %+v fp %x", i+1, o, fp, w, wantFp[which])
					}
				case slices.Contains(c.drop, i):
					if fp != 0 {
						t.Errorf("frame %d: fingerprint %x, want 0 (no sighting)", i+1, fp)
					}
				case fp == 0 || o.Encap() != EncapNone:
					t.Errorf("frame %d: %+v fp %x, want the fragment as it decodes", i+1, o, fp)
				}
			}
		})
	}
}
