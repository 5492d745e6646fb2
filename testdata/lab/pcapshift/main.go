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

// isNano reports whether a pcap file has nanosecond timestamps. It reads the
// magic itself: gopacket v1.1.19's Reader.Resolution reports the opposite.
func isNano(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	m := binary.BigEndian.Uint32(magic[:])
	return m == 0xa1b23c4d || m == 0x4d3cb2a1, nil
}

func shift(name string, offset time.Duration, ppm float64, t0 int64) error {
	in, err := os.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".pcapshift-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	var w *pcapgo.Writer
	if nanos, err := isNano(name); err != nil {
		return err
	} else if nanos {
		w = pcapgo.NewWriterNanos(tmp)
	} else {
		w = pcapgo.NewWriter(tmp)
	}
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		return err
	}
	n := 0
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: packet %d: %w", name, n+1, err)
		}
		t := ci.Timestamp.UnixNano()
		d := float64(t-t0) * ppm / 1e6
		ci.Timestamp = time.Unix(0, t+int64(offset)+int64(math.Round(d)))
		if err := w.WritePacket(ci, data); err != nil {
			return err
		}
		n++
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
