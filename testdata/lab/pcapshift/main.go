// Command pcapshift simulates a skewed clock on one node: it rewrites the
// timestamps of classic pcap files in place, as
//
//	t' = t + offset + (t - t0) * driftPPM / 1e6 + step + slew
//
// keeping the link type, snap length and timestamp resolution. step is -step
// for every t at or after t0 + -step-at (ntpd or chrony stepping the clock),
// 0 before. slew is a clock slewed at -slew-ppm for -slew-for from t0 +
// -slew-at on (chrony corrects at up to 83,333 ppm, far beyond the kernel's
// 500 ppm frequency limit): 0 before, (t - t0 - slewAt) * slewPPM / 1e6 during,
// slewFor * slewPPM / 1e6 after. Every term is of the true (unshifted) time t,
// so a test reads each packet's true time from the unshifted files. With
// -first it only prints the earliest packet timestamp (Unix ns) of the given
// files, which the lab uses as t0.
//
//	pcapshift -first a.pcap b.pcap
//	pcapshift -offset 2.5s -drift-ppm 200 -t0 1764088000000000000 node-b-*.pcap
//	pcapshift -step -2ms -step-at 2.5s -t0 1764088000000000000 node-b-*.pcap
//	pcapshift -slew-ppm 20000 -slew-at 2s -slew-for 100ms -t0 1764088000000000000 node-b-*.pcap
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
	var c clock
	flag.DurationVar(&c.step, "step", 0, "step added to every timestamp from -t0 + -step-at on")
	flag.DurationVar(&c.stepAt, "step-at", 0, "when the clock steps, after -t0")
	flag.Float64Var(&c.slewPPM, "slew-ppm", 0, "rate of a slew, in parts per million, from -t0 + -slew-at for -slew-for")
	flag.DurationVar(&c.slewAt, "slew-at", 0, "when the slew starts, after -t0")
	flag.DurationVar(&c.slewFor, "slew-for", 0, "how long the slew lasts")
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
	if math.IsNaN(c.slewPPM) || math.Abs(c.slewPPM) > 1e6 || c.slewFor < 0 {
		log.Fatal("-slew-ppm or -slew-for out of range")
	}
	c.offset, c.driftPPM, c.t0 = *offset, *drift, *t0
	for _, f := range flag.Args() {
		if err := c.shift(f); err != nil {
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

// clock is the simulated clock of one node (see the package comment).
type clock struct {
	offset          time.Duration
	driftPPM        float64
	t0              int64
	step, stepAt    time.Duration
	slewPPM         float64
	slewAt, slewFor time.Duration
}

// at returns the time the clock shows at true time t (Unix ns).
func (c *clock) at(t int64) int64 {
	d := float64(t-c.t0) * c.driftPPM / 1e6
	since := t - c.t0
	if c.step != 0 && since >= int64(c.stepAt) {
		d += float64(c.step)
	}
	if c.slewPPM != 0 && since >= int64(c.slewAt) {
		d += float64(min(since-int64(c.slewAt), int64(c.slewFor))) * c.slewPPM / 1e6
	}
	return t + int64(c.offset) + int64(math.Round(d))
}

// shift rewrites one file with a clock of offset and drift ppm from t0.
func shift(name string, offset time.Duration, ppm float64, t0 int64) error {
	c := clock{offset: offset, driftPPM: ppm, t0: t0}
	return c.shift(name)
}

// shift rewrites one file. It copies the 24-byte file header verbatim and
// rewrites each record's timestamp in the file's own byte order and
// resolution: gopacket v1.1.19 keeps link types in a uint8, which would turn
// LINKTYPE_LINUX_SLL2 (276, tcpdump -i any) into 20.
func (c *clock) shift(name string) error {
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
		t = c.at(t)
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
