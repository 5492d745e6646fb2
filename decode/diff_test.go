package decode

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/calipath/calipath/internal/gen"
)

// Differential tests: the fast Decoder and DecodeSlow (gopacket) must decode every frame to the same
// Packet. Payload is compared by content (the two alias the frame at the same offsets or not at all).

var diffCmp = cmpopts.IgnoreFields(Packet{}, "Payload")

// diffMaxFrames bounds the frames decoded from capture files in -short mode.
const diffMaxFrames = 20000

// diffOne decodes one frame both ways and returns a description of any disagreement.
func diffOne(link LinkType, data []byte, orig int, port uint16) string {
	var slow, fast Packet
	DecodeSlow(link, data, orig, port, &slow)
	slow.Loose, _ = Fingerprint(&slow) // the fast side's Decoder.Observe sets it
	rec := Record{Frame: 1, CapLen: len(data), OrigLen: orig, LinkType: link, Data: data}
	var o Observation
	NewDecoder(Options{VXLANPort: port}, NewTables(), 0).Decode(&rec, &fast, &o)
	if samePacket(&slow, &fast) {
		return ""
	}
	d := cmp.Diff(slow, fast, diffCmp)
	if !bytes.Equal(slow.Payload, fast.Payload) {
		d += fmt.Sprintf("Payload: slow %d bytes, fast %d bytes differ\n", len(slow.Payload), len(fast.Payload))
	}
	return d
}

// samePacket reports whether a and b agree in every field, Payload by content: the check for every
// frame, before the slow cmp.Diff that describes a disagreement.
func samePacket(a, b *Packet) bool {
	x, y := *a, *b
	x.Payload, y.Payload = nil, nil
	return reflect.DeepEqual(x, y) && bytes.Equal(a.Payload, b.Payload)
}

func TestDiffFixtures(t *testing.T) {
	frames := fxFrames(t)
	names := make([]string, 0, len(frames))
	for n := range frames {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := frames[n]
		for _, port := range []uint16{0, 8472} {
			if d := diffOne(f.link, f.data, f.origLen(), port); d != "" {
				t.Errorf("%s (vxlan port %d): decoders disagree (-slow +fast):\n%s", n, port, d)
			}
			// Every prefix of the frame, as a snaplen cut and as a frame that simply ends there. Only the
			// first disagreement per fixture is shown, with a count.
			bad, first, byField := 0, "", map[string]int{}
			for cut := range len(f.data) {
				for _, orig := range []int{f.origLen(), cut} {
					if d := diffOne(f.link, f.data[:cut], orig, port); d != "" {
						if bad++; bad == 1 {
							first = fmt.Sprintf("cut at %d, orig %d:\n%s", cut, orig, d)
						}
						var slow, fast Packet
						DecodeSlow(f.link, f.data[:cut], orig, port, &slow)
						DecodeFast(f.link, f.data[:cut], orig, port, &fast)
						for _, fl := range diffFields(&slow, &fast) {
							byField[fl]++
						}
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s (vxlan port %d): %d truncated variants disagree (by field: %v); first %s",
					n, port, bad, byField, first)
			}
		}
	}
}

// diffCaptureFiles lists every capture file under the repository's testdata trees, by magic number.
func diffCaptureFiles(t *testing.T, roots ...string) []string {
	var files []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				if d.Name() == "fuzz" {
					return filepath.SkipDir
				}
				return nil
			}
			if diffIsCapture(path) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	sort.Strings(files)
	return files
}

// diffIsCapture reports whether the file starts with a pcap, pcapng or gzip magic number.
func diffIsCapture(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var m [4]byte
	if _, err := io.ReadFull(f, m[:]); err != nil {
		return false
	}
	switch string(m[:]) {
	case "\xa1\xb2\xc3\xd4", "\xd4\xc3\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x4d\x3c\xb2\xa1", "\x0a\x0d\x0d\x0a":
		return true
	}
	if m[0] != 0x1f || m[1] != 0x8b {
		return false
	}
	// gzip: a capture inside, not a tarball of them (testdata/bundles).
	f.Seek(0, io.SeekStart)
	zr, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	if _, err := io.ReadFull(zr, m[:]); err != nil {
		return false
	}
	switch string(m[:]) {
	case "\xa1\xb2\xc3\xd4", "\xd4\xc3\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x4d\x3c\xb2\xa1", "\x0a\x0d\x0d\x0a":
		return true
	}
	return false
}

// diffFields names the top-level Packet fields in which two Packets differ.
func diffFields(a, b *Packet) []string {
	var out []string
	for _, f := range []struct {
		name string
		eq   bool
	}{
		{"link", a.HasEth == b.HasEth && a.SrcMAC == b.SrcMAC && a.DstMAC == b.DstMAC && a.EtherType == b.EtherType &&
			a.VLANs == b.VLANs && a.NVLAN == b.NVLAN},
		{"sll", a.HasSLL == b.HasSLL && a.PktType == b.PktType && a.IfIndex == b.IfIndex && a.SLLAddr == b.SLLAddr &&
			a.SLLAlen == b.SLLAlen},
		{"arp", a.HasARP == b.HasARP && a.ARP == b.ARP},
		{"encap", a.Encap == b.Encap && a.OuterSprt == b.OuterSprt && a.OuterDprt == b.OuterDprt &&
			a.OuterUCsm == b.OuterUCsm && a.VNI == b.VNI && a.InnerSrcMAC == b.InnerSrcMAC && a.InnerDstMAC == b.InnerDstMAC},
		{"outer", a.Outer == b.Outer},
		{"inner", a.Inner == b.Inner},
		{"ports", a.Sport == b.Sport && a.Dport == b.Dport},
		{"tcp", a.HasTCP == b.HasTCP && a.TCP == b.TCP},
		{"udp", a.HasUDP == b.HasUDP && a.UDPLen == b.UDPLen && a.UDPChecksum == b.UDPChecksum},
		{"icmp", a.HasICMP == b.HasICMP && a.ICMP == b.ICMP},
		{"payload", a.PayloadLen == b.PayloadLen && bytes.Equal(a.Payload, b.Payload)},
		{"gso", a.GSO == b.GSO},
		{"checksum", a.Checksum == b.Checksum},
		{"errs", a.Errs == b.Errs},
	} {
		if !f.eq {
			out = append(out, f.name)
		}
	}
	if a.Errs != b.Errs {
		out[len(out)-1] = "errs:" + strings.Join((a.Errs^b.Errs).Strings(), "+")
	}
	return out
}

// diffGenerated writes small synthetic Calico captures (internal/gen) in every mode, with
// offload-style partial checksums, a short snaplen, pcapng and gzip among them, and returns their paths.
func diffGenerated(t *testing.T) []string {
	t.Helper()
	var files []string
	var frames int64
	defer func() { t.Logf("generated %d capture files, %d frames", len(files), frames) }()
	for i, mode := range []gen.Mode{gen.ModeIPIP, gen.ModeVXLAN, gen.ModeBGP} {
		cfg := gen.DefaultConfig()
		cfg.Seed = uint64(7 + i)
		cfg.Dir = filepath.Join(t.TempDir(), mode.String())
		cfg.Mode = mode
		cfg.Packets = 300
		cfg.KeepTruth = false
		cfg.PayloadMax = 1400
		cfg.DNAT = 0.3
		cfg.RetransRate = 0.05
		switch mode {
		case gen.ModeIPIP:
			cfg.PartialCsum = true
			cfg.Format = gen.FormatPcapNG
		case gen.ModeVXLAN:
			cfg.Snaplen = 96
			cfg.Gzip = true
		case gen.ModeBGP:
			cfg.IPID0DF = 0.5
			cfg.Nanosecond = true
		}
		res, err := gen.Generate(cfg)
		if err != nil {
			t.Fatalf("generate %s captures: %v", mode, err)
		}
		files = append(files, res.Files...)
		frames += res.Frames
	}
	return files
}

func TestDiffCaptures(t *testing.T) {
	files := append(diffCaptureFiles(t, filepath.Join("..", "testdata"), "testdata"), diffGenerated(t)...)
	for _, path := range files {
		name := strings.TrimPrefix(filepath.ToSlash(path), "../")
		if i := strings.Index(name, "/TestDiffCaptures"); i >= 0 {
			name = "gen" + name[strings.LastIndex(name, "/"):]
		}
		t.Run(name, func(t *testing.T) {
			r, c, err := Open(path)
			if err != nil {
				t.Skipf("not readable: %v", err)
			}
			defer c.Close()
			var (
				rec        Record
				slow, fast Packet
				o          Observation
				n, bad     int
				byField    = map[string]int{}
			)
			dec := NewDecoder(Options{}, NewTables(), 0)
			for {
				err := r.Next(&rec)
				var re *RecordError
				if errors.As(err, &re) {
					continue
				}
				if err != nil {
					if err != io.EOF {
						t.Logf("stopped after %d frames: %v", n, err)
					}
					break
				}
				n++
				if testing.Short() && n > diffMaxFrames {
					break
				}
				DecodeSlow(rec.LinkType, rec.Data, rec.OrigLen, 0, &slow)
				slow.Loose, _ = Fingerprint(&slow)
				dec.decodeReusedObs(&rec, &fast) // as the scan decodes: each frame into the Packet of the one before
				dec.Observe(&rec, &fast, &o)
				fields := diffFields(&slow, &fast)
				if len(fields) == 0 {
					continue
				}
				for _, f := range fields {
					byField[f]++
				}
				if bad++; bad <= 3 {
					t.Errorf("frame %d (%s): decoders disagree (-slow +fast):\n%s", rec.Frame, rec.LinkType,
						cmp.Diff(slow, fast, diffCmp))
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d frames disagree; by field: %v", bad, n, byField)
			}
			if n == 0 && strings.HasPrefix(name, "gen/") {
				t.Errorf("no frames read from a generated capture")
			}
		})
	}
}

// FuzzDecode feeds arbitrary frames of any link type to both decoders: neither may panic, and both
// must produce the same Packet.
func FuzzDecode(f *testing.F) {
	for _, fr := range fxFrames(f) {
		f.Add(uint16(fr.link), fr.data, uint16(fr.origLen()-len(fr.data)), uint16(0))
	}
	f.Add(uint16(LinkEthernet), fxVXLAN(f, 8472, 0), uint16(0), uint16(8472))
	for _, fr := range wgSeeds(f) {
		f.Add(uint16(fr.link), fr.data, uint16(fr.origLen()-len(fr.data)), uint16(0))
	}
	for _, s := range []string{lcoTCPSyn, lcoTCPData, lcoUDP, lcoICMP} { // offload artefacts
		f.Add(uint16(LinkEthernet), hexDump(f, s), uint16(0), uint16(0))
	}
	f.Fuzz(func(t *testing.T, link uint16, data []byte, extra uint16, port uint16) {
		if len(data) > MaxCapLen {
			return
		}
		if d := diffOne(LinkType(link), data, len(data)+int(extra), port); d != "" {
			t.Errorf("link %d, %d bytes, orig +%d, port %d: decoders disagree (-slow +fast):\n%s\nframe %s",
				link, len(data), extra, port, d, strconv.Quote(string(data)))
		}
	})
}
