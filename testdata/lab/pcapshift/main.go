// Command pcapshift simulates a skewed clock on one node: it rewrites the
// timestamps of classic pcap files in place, as
//
//	t' = t + offset + (t - t0) * driftPPM / 1e6
//
// keeping the link type, snap length and timestamp resolution. With -first
// it only prints the earliest packet timestamp (Unix ns) of the given files,
// which the lab uses as t0.
//
//	pcapshift -first a.pcap b.pcap
//	pcapshift -offset 2.5s -drift-ppm 200 -t0 1764088000000000000 node-b-*.pcap
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/google/gopacket/pcapgo"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("pcapshift: ")
	first := flag.Bool("first", false, "print the earliest timestamp (Unix ns) of the files and exit")
	offset := flag.Duration("offset", 0, "constant offset added to every timestamp")
	drift := flag.Float64("drift-ppm", 0, "clock drift in parts per million, relative to -t0")
	t0 := flag.Int64("t0", 0, "reference time (Unix ns) at which the drift term is zero")
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatal("no files")
	}
	if *first {
		min := int64(math.MaxInt64)
		for _, f := range flag.Args() {
			t, err := earliest(f)
			if err != nil {
				log.Fatal(err)
			}
			if t > 0 && t < min {
				min = t
			}
		}
		if min == math.MaxInt64 {
			log.Fatal("no packets in the files")
		}
		fmt.Println(min)
		return
	}
	if math.IsNaN(*drift) || math.Abs(*drift) > 1e5 {
		log.Fatal("-drift-ppm out of range")
	}
	for _, f := range flag.Args() {
		if err := shift(f, *offset, *drift, *t0); err != nil {
			log.Fatal(err)
		}
	}
}

func earliest(name string) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	min := int64(0)
	for {
		_, ci, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return min, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if t := ci.Timestamp.UnixNano(); min == 0 || t < min {
			min = t
		}
	}
}

// shift rewrites one file. It copies the 24-byte file header verbatim and
// rewrites each record's timestamp in the file's own byte order and
// resolution: gopacket v1.1.19 keeps link types in a uint8, which would turn
// LINKTYPE_LINUX_SLL2 (276, tcpdump -i any) into 20.
func shift(name string, offset time.Duration, ppm float64, t0 int64) error {
	in, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if len(in) < 24 {
		return fmt.Errorf("%s: short pcap header", name)
	}
	var bo binary.ByteOrder
	nanos := false
	switch binary.BigEndian.Uint32(in[:4]) {
	case 0xa1b2c3d4:
		bo = binary.BigEndian
	case 0xd4c3b2a1:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nanos = binary.BigEndian, true
	case 0x4d3cb2a1:
		bo, nanos = binary.LittleEndian, true
	default:
		return fmt.Errorf("%s: not a classic pcap file", name)
	}
	out := make([]byte, len(in))
	copy(out, in)
	frac := int64(1000) // ns per fraction unit
	if nanos {
		frac = 1
	}
	n := 0
	for off := 24; off < len(in); n++ {
		if len(in)-off < 16 {
			return fmt.Errorf("%s: packet %d: truncated record header", name, n+1)
		}
		rec := out[off : off+16]
		incl := int(bo.Uint32(rec[8:12]))
		if incl < 0 || incl > len(in)-off-16 {
			return fmt.Errorf("%s: packet %d: truncated record", name, n+1)
		}
		t := int64(bo.Uint32(rec[0:4]))*1e9 + int64(bo.Uint32(rec[4:8]))*frac
		d := float64(t-t0) * ppm / 1e6
		t += int64(offset) + int64(math.Round(d))
		if t < 0 || t/1e9 > math.MaxUint32 {
			return fmt.Errorf("%s: packet %d: shifted timestamp out of range", name, n+1)
		}
		bo.PutUint32(rec[0:4], uint32(t/1e9))
		bo.PutUint32(rec[4:8], uint32(t%1e9/frac))
		off += 16 + incl
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".pcapshift-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
