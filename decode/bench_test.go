package decode

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// ipipPcap builds an in-memory pcap of n Ethernet/IPv4/IPv4/TCP frames as an underlay (eth0) capture
// of IP-in-IP traffic holds them: every frame a different packet (id, seq, payload), 100-byte payloads.
func ipipPcap(n int) []byte {
	var buf bytes.Buffer
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	buf.Write(hdr)
	payload := make([]byte, 100)
	tcp := make([]byte, 20)
	nodeA, nodeB := [4]byte{192, 168, 10, 2}, [4]byte{192, 168, 20, 2}
	podA, podB := [4]byte{10, 244, 1, 5}, [4]byte{10, 244, 2, 7}
	rec := make([]byte, 16)
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint16(tcp[0:], 40000)
		binary.BigEndian.PutUint16(tcp[2:], 80)
		binary.BigEndian.PutUint32(tcp[4:], uint32(i)*100)
		binary.BigEndian.PutUint32(tcp[8:], 1)
		tcp[12], tcp[13] = 5<<4, TCPAck|TCPPsh
		binary.BigEndian.PutUint64(payload, uint64(i))
		seg := append(append([]byte(nil), tcp...), payload...)
		inner := ipv4Frame(podA, podB, 63, 6, seg)
		binary.BigEndian.PutUint16(inner[4:6], uint16(i))
		binary.BigEndian.PutUint16(inner[10:12], 0)
		binary.BigEndian.PutUint16(inner[10:12], ^fold(sum16(0, inner[:20])))
		// TCP checksum, so that verification takes its full path.
		var ih IPHdr
		copy(ih.Src[:4], podA[:])
		copy(ih.Dst[:4], podB[:])
		ih.Version = 4
		s := inner[20:]
		binary.BigEndian.PutUint16(s[16:], ^fold(sum16(pseudoSum(&ih, 6, len(s)), s)))
		frame := ethFrame([6]byte{2, 0, 0, 0, 0, 2}, [6]byte{2, 0, 0, 0, 0, 1}, 0x0800, ipv4Frame(nodeA, nodeB, 63, 4, inner))
		binary.LittleEndian.PutUint32(rec[0:], uint32(1700000000+i/1000000))
		binary.LittleEndian.PutUint32(rec[4:], uint32(i%1000000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
		buf.Write(rec)
		buf.Write(frame)
	}
	return buf.Bytes()
}

var benchPcap []byte

func benchInput(b *testing.B) []byte {
	if benchPcap == nil {
		benchPcap = ipipPcap(1 << 20)
	}
	return benchPcap
}

// BenchmarkReadDecodeIPIP reads and decodes 1 Mi IP-in-IP frames into Observations with the fast path:
// the per-frame cost from file bytes to the compact record (one core, no I/O).
func BenchmarkReadDecodeIPIP(b *testing.B) { benchReadDecode(b, false) }

// BenchmarkReadDecodeIPIPSlow is the same through gopacket's layers (DecodeSlow), for comparison.
func BenchmarkReadDecodeIPIPSlow(b *testing.B) { benchReadDecode(b, true) }

func benchReadDecode(b *testing.B, slow bool) {
	data := benchInput(b)
	const frames = 1 << 20
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		d := NewDecoder(Options{}, NewTables(), 0)
		var rec Record
		var p Packet
		var o Observation
		var sum uint64
		n := 0
		for r.Next(&rec) == nil {
			if slow {
				decodeSlow(rec.LinkType, rec.Data, rec.OrigLen, d.opts.VXLANPort, d.opts.WireGuardPort, &p)
				d.Observe(&rec, &p, &o)
			} else {
				d.Decode(&rec, &p, &o)
			}
			sum += p.Loose
			n++
		}
		if n != frames || o.Encap() != EncapIPIP || o.Checksum() != CsumOK {
			b.Fatalf("decoded %d frames, last %+v", n, o)
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkScanIPIP is the whole scan of a file of 1 Mi IP-in-IP frames: reading, decoding, and the
// traffic accounting of every frame (roles, node IPs, time spans), without keeping the Observations.
func BenchmarkScanIPIP(b *testing.B) {
	data := benchInput(b)
	const frames = 1 << 20
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		fi := &FileInfo{Traffic: map[uint16]*Traffic{}}
		scan(r, fi, Options{}, NewTables(), nil, nil, nil)
		if fi.Records != frames || fi.NProblems != 0 {
			b.Fatalf("scanned %d frames, problems %q", fi.Records, fi.Problems)
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
