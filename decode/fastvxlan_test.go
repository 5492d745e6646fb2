package decode

import (
	"path/filepath"
	"testing"

	"github.com/calipath/calipath/internal/gen"
)

// VXLAN packets on fastUsual: a VXLAN packet of the usual shape (outer Ethernet, IPv4 and UDP to the
// VXLAN port with no outer checksum, the VXLAN header with its I flag, an inner Ethernet header
// without a VLAN tag, an inner IPv4 packet of the usual shape) is written lean when its Packet is
// (Options.leanPacket), as an IP-in-IP packet is, where its Packet was written in full (fastFrame,
// fastOther) before. What anything reads of a lean VXLAN Packet must be what the usual path decodes.

// vxlanRead is what the scan, the Traffic, the header contexts and the merged probe read of a
// VXLAN packet's Packet (as the lean Packet holds it). Of the outer header's TOS, DF, total length,
// identification, checksum and captured length, which a lean Packet's outer header that fastUsual
// wrote does not hold (Options.leanPacket), nothing reads them but hdrCtx and ctxOf, from a Packet of
// fastFrame's or the usual path's, which writes them: stepLean's poisonLeanOuter holds it.
type vxlanRead struct {
	LinkType                LinkType
	Encap                   Encap
	HasEth                  bool
	Errs                    Err
	VNI                     uint32
	OuterV, OuterTTL        uint8
	OuterProto, OuterHdrLen uint8
	OuterCsumOK             bool
	OuterSrc, OuterDst      [16]byte
	InSrc, InDst            [16]byte
	InTOS                   uint8
	InMF                    bool
	InFragOff               uint16
}

func vxlanReadOf(p *Packet) vxlanRead {
	o, in := &p.Outer, &p.Inner
	return vxlanRead{LinkType: p.LinkType, Encap: p.Encap, HasEth: p.HasEth, Errs: p.Errs, VNI: p.VNI,
		OuterV: o.Version, OuterTTL: o.TTL, OuterProto: o.Proto, OuterHdrLen: o.HdrLen,
		OuterCsumOK: o.CsumOK, OuterSrc: o.Src, OuterDst: o.Dst, InSrc: in.Src, InDst: in.Dst, InTOS: in.TOS,
		InMF: in.MF, InFragOff: in.FragOff}
}

// vxlanFastPair steps every record of the capture files paths through a fastPair (the fast path
// held to the usual one, the lean Packet's Observation, fingerprint, Traffic and Tables held to the
// full one's) and fails t unless every VXLAN packet the fast path took (but in a cooked or VLAN-tagged
// frame) was written lean and what is read of its lean Packet is the usual path's. It returns how many
// VXLAN packets were so taken, and how many there were.
func vxlanFastPair(t *testing.T, paths []string) (took, vxlan int) {
	t.Helper()
	for _, path := range paths {
		fp := newFastPair(Options{})
		labRecords(t, path, func(rec *Record) {
			if !fp.step(t, path, rec) || fp.pSlow.Encap != EncapVXLAN {
				if fp.pSlow.Encap == EncapVXLAN {
					vxlan++
				}
				return
			}
			vxlan++
			for _, d := range []*Decoder{fp.lean, fp.probe} {
				if d.fastShape&shapeLink != 0 { // a cooked or VLAN-tagged frame: written in full (fastFrame)
					return
				}
				if d.fastShape&shapeLean == 0 {
					t.Fatalf("%s frame %d: a VXLAN packet of the fast path's shape %#x written in full", path, rec.Frame,
						d.fastShape)
				}
			}
			want := vxlanReadOf(&fp.pSlow)
			for _, p := range []*Packet{&fp.pLean, &fp.pProbe} {
				if got := vxlanReadOf(p); got != want {
					t.Fatalf("%s frame %d: the lean VXLAN Packet reads\n%+v\nwant\n%+v", path, rec.Frame, got, want)
				}
			}
			took++
		})
		fp.check(t, path)
	}
	return took, vxlan
}

// TestFastUsualVXLAN: the lab's VXLAN captures (real kernel frames: checksum offload, odd lengths) and
// a generated VXLAN set (the frames of `gencap --mode vxlan`, as the benchmarks' VXLAN set).
func TestFastUsualVXLAN(t *testing.T) {
	var lab []string
	for _, sc := range []string{"healthy-vxlan", "healthy-vxlan6", "healthy-vxlan-offload", "vxlan6-underlay-drop"} {
		paths, _ := filepath.Glob("../testdata/lab/scenarios/" + sc + "/*.pcap*")
		lab = append(lab, paths...)
	}
	if len(lab) < 20 {
		t.Fatalf("%d lab VXLAN captures", len(lab))
	}
	took, n := vxlanFastPair(t, lab)
	t.Logf("lab: %d of %d VXLAN packets took the fast path, written lean", took, n)
	if took < 20 { // (most of the lab's carry checksums left for offload: the usual path's)
		t.Fatalf("lab: %d of %d VXLAN packets took the fast path", took, n)
	}

	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Mode, cfg.Packets, cfg.Flows = t.TempDir(), gen.ModeVXLAN, 3000, 30
	g, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	took, n = vxlanFastPair(t, g.Files)
	t.Logf("generated: %d of %d VXLAN packets took the fast path, written lean", took, n)
	if n < 1000 || took < n*9/10 {
		t.Fatalf("generated: %d of %d VXLAN packets took the fast path", took, n)
	}
}

// vxlanSeed is a VXLAN packet FuzzFastPath starts from: its frame, its link type and its number k
// among its file's.
type vxlanSeed struct {
	link LinkType
	data []byte
	k    int
}

// vxlanSeeds returns FuzzFastPath's VXLAN seeds: the first 8 VXLAN packets of each capture of the
// lab's VXLAN scenarios (real kernel frames: offload, odd lengths) and of a generated VXLAN set (the
// benchmarks' frames).
func vxlanSeeds(tb testing.TB) []vxlanSeed {
	var paths []string
	for _, sc := range []string{"healthy-vxlan", "healthy-vxlan6", "healthy-vxlan-offload", "vxlan6-underlay-drop"} {
		p, _ := filepath.Glob("../testdata/lab/scenarios/" + sc + "/*.pcap*")
		paths = append(paths, p...)
	}
	cfg := gen.DefaultConfig()
	cfg.Dir, cfg.Mode, cfg.Packets, cfg.Flows = tb.TempDir(), gen.ModeVXLAN, 200, 10
	g, err := gen.Generate(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	paths = append(paths, g.Files...)
	var out []vxlanSeed
	var p Packet
	for _, path := range paths {
		k := 0
		labRecords(tb, path, func(rec *Record) {
			if k >= 8 {
				return
			}
			p = Packet{}
			decodeFrame(rec.LinkType, rec.Data, rec.OrigLen, DefaultVXLANPort, &p)
			if p.Encap == EncapVXLAN {
				k++
				out = append(out, vxlanSeed{rec.LinkType, append([]byte(nil), rec.Data...), k})
			}
		})
	}
	return out
}
