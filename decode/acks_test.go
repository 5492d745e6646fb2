package decode

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// ReadAcks reads frames of a lab capture again: pod-b's FIN (frame 42, an ACK of pod-a's data) and
// pod-a's ACK of it (frame 47, the FIN's sequence number + 1), as tshark shows them; a frame past the
// file's end and standard input give nothing.
func TestReadAcks(t *testing.T) {
	const path = "../testdata/lab/scenarios/clock-skew/node-a-any.pcap"
	ack, ok := ReadAcks(path, []uint32{42, 47, 100000}, Options{})
	want := []uint32{3403244645, 3319178800}
	for i, w := range want {
		if !ok[i] || ack[i] != w {
			t.Errorf("frame %d: ack %d (read %v), want %d", []uint32{42, 47}[i], ack[i], ok[i], w)
		}
	}
	if ok[2] {
		t.Errorf("a frame past the end read: ack %d", ack[2])
	}
	if _, ok := ReadAcks("-", []uint32{1}, Options{}); ok[0] {
		t.Error("standard input read twice")
	}
}

// TestReadAcksIndexed: through the file's FrameIndex, ReadAcksIndexed reads the ACKs ReadAcks reads
// from the start, going to the mark before each frame asked for that lies past what it read (a few
// records from each, not the file up to the last frame); without an index, or for a file changed since
// it was loaded, it reads as ReadAcks.
func TestReadAcksIndexed(t *testing.T) {
	n := 2*markEvery + 100
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
			EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Id: uint16(i),
			SrcIP: net.IPv4(192, 168, 0, 1), DstIP: net.IPv4(192, 168, 1, 1)}
		tcp := &layers.TCP{SrcPort: 1000, DstPort: 80, Seq: uint32(i), Ack: uint32(7 * i), ACK: i%3 != 0, Window: 100}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, ip, tcp, gopacket.Payload("x")); err != nil {
			t.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)*1000), CaptureLength: len(sb.Bytes()), Length: len(sb.Bytes())}
		if err := w.WritePacket(ci, sb.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "node-1-eth0.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	idx := Load([]string{path}, Options{}, PointConfig{}).Files[0].FrameIndex
	if idx == nil || len(idx.Marks) != 2 {
		t.Fatalf("index %+v, want two marks", idx)
	}
	rec := int64(len(buf.Bytes())-pcapHdrLen) / int64(n) // every record is as long
	frames := []uint32{3, 5, markEvery + 10, markEvery + 12, 2*markEvery + 3, uint32(n), uint32(n + 5)}
	want, wantOK := ReadAcks(path, frames, Options{})
	for k, f := range frames[:len(frames)-1] {
		if wantOK[k] != (f%3 != 0) || wantOK[k] && want[k] != 7*f {
			t.Fatalf("ReadAcks: frame %d: ack %d (read %v)", f, want[k], wantOK[k])
		}
	}
	check := func(what string, idx *FrameIndex, maxRecords int64) {
		t.Helper()
		ack, ok, read := readAcks(path, frames, idx, Options{})
		if !reflect.DeepEqual(ack, want) || !reflect.DeepEqual(ok, wantOK) {
			t.Errorf("%s: acks %v %v, want %v %v", what, ack, ok, want, wantOK)
		}
		if read > maxRecords*rec+pcapHdrLen {
			t.Errorf("%s: read %d bytes (%d records), want at most %d records", what, read, read/rec, maxRecords)
		}
	}
	// From the start to frame 5, from the first mark to markEvery+12, from the second to the end.
	check("indexed", idx, 5+12+100)
	check("without an index", nil, int64(n))
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, time.Time{}, st.ModTime().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, read := readAcks(path, frames, idx, Options{}); read < int64(n)*rec {
		t.Errorf("a changed file: read %d bytes, want it read from its start (%d)", read, int64(n)*rec)
	}
	check("changed", idx, int64(n))
}
