package decode

import (
	"bytes"
	"compress/gzip"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// frameTestFile writes n Ethernet/IPv4/UDP frames whose payloads are "payload-<i>" (i from 1) and
// returns the file's path and the frames.
func frameTestFile(t *testing.T, n int, gz bool) (string, [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for i := 1; i <= n; i++ {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
			EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: uint8(60 + i), Protocol: layers.IPProtocolUDP, Id: uint16(i),
			SrcIP: net.IPv4(192, 168, 0, 1), DstIP: net.IPv4(192, 168, 1, 1)}
		udp := &layers.UDP{SrcPort: layers.UDPPort(1000 + i), DstPort: 53}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		sb := gopacket.NewSerializeBuffer()
		payload := gopacket.Payload("payload-" + string(rune('0'+i)))
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, ip, udp, payload); err != nil {
			t.Fatal(err)
		}
		data := append([]byte(nil), sb.Bytes()...)
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)*1000), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, data)
	}
	out := buf.Bytes()
	name := "node-1-eth0.pcap"
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(out)
		zw.Close()
		out = z.Bytes()
		name += ".gz"
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, frames
}

func TestReadFrame(t *testing.T) {
	for _, gz := range []bool{false, true} {
		path, frames := frameTestFile(t, 5, gz)
		for i, want := range frames {
			rec, p, err := ReadFrame(path, uint32(i+1))
			if err != nil {
				t.Fatalf("gz=%v frame %d: %v", gz, i+1, err)
			}
			if rec.Frame != uint32(i+1) || !bytes.Equal(rec.Data, want) || rec.LinkType != LinkEthernet {
				t.Fatalf("gz=%v frame %d: got frame %d link %v data %x, want %x", gz, i+1, rec.Frame, rec.LinkType, rec.Data, want)
			}
			if p.Inner.TTL != uint8(61+i) || p.Sport != uint16(1001+i) || !p.HasUDP || p.Checksum != CsumOK {
				t.Errorf("gz=%v frame %d: ttl %d sport %d udp %v csum %v", gz, i+1, p.Inner.TTL, p.Sport, p.HasUDP, p.Checksum)
			}
			wantPayload := "payload-" + string(rune('1'+i))
			if string(p.Payload) != wantPayload {
				t.Errorf("gz=%v frame %d: payload %q, want %q", gz, i+1, p.Payload, wantPayload)
			}
			// The payload must alias the returned copy, not the reader's buffer.
			if !aliases(p.Payload, rec.Data) {
				t.Errorf("gz=%v frame %d: payload does not point into rec.Data", gz, i+1)
			}
			var ref Packet
			DecodeFast(LinkEthernet, want, len(want), 0, &ref)
			if !bytes.Equal(ref.Payload, p.Payload) {
				t.Errorf("gz=%v frame %d: payload differs from DecodeFast of the original bytes", gz, i+1)
			}
			ref.Payload, p.Payload = nil, nil
			if !reflect.DeepEqual(ref, p) {
				t.Errorf("gz=%v frame %d: packet differs from DecodeFast of the original bytes", gz, i+1)
			}
		}
	}
}

func TestReadFrameErrors(t *testing.T) {
	path, _ := frameTestFile(t, 3, false)
	for _, tc := range []struct {
		path  string
		frame uint32
		want  string
	}{
		{path, 0, "start at 1"},
		{path, 4, "ends first"},
		{path, 1 << 31, "ends first"},
		{filepath.Join(t.TempDir(), "missing.pcap"), 1, "no such file"},
	} {
		_, _, err := ReadFrame(tc.path, tc.frame)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadFrame(%s, %d) = %v, want an error containing %q", filepath.Base(tc.path), tc.frame, err, tc.want)
		}
	}
	// A damaged record is reported, not returned as data.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Frame 2's caplen (record header at 24 + 16 + len(frame 1)) set beyond MaxCapLen.
	off := 24 + 16 + int(data[24+8]) | int(data[24+9])<<8
	bad := append([]byte(nil), data...)
	bad[off+8], bad[off+9], bad[off+10], bad[off+11] = 0xff, 0xff, 0xff, 0x7f
	badPath := filepath.Join(t.TempDir(), "bad.pcap")
	if err := os.WriteFile(badPath, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadFrame(badPath, 2); err == nil {
		t.Errorf("ReadFrame of a damaged frame succeeded")
	}
}

// aliases reports whether the non-empty slice b lies inside buf's memory.
func aliases(b, buf []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i := range buf {
		if &buf[i] == &b[0] {
			return i+len(b) <= len(buf)
		}
	}
	return false
}
