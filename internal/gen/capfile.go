package gen

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// capWriter writes one capture file (pcap or pcapng, optionally gzip) through a large buffer. Write
// errors are sticky in the bufio.Writer and reported by close.
type capWriter struct {
	f      *os.File
	gz     *gzip.Writer
	bw     *bufio.Writer
	ng     bool
	ns     bool
	snap   int
	last   int64 // last timestamp written (ns) less its clock's step, to keep the file in nondecreasing order
	frames uint32
	bytes  int64 // bytes written before compression
	rec    [32]byte
}

var pad4 [4]byte

func openCapWriter(path string, ng, ns, gz bool, snap, link int, iface string, bufSize int) (*capWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &capWriter{f: f, ng: ng, ns: ns, snap: snap}
	var sink io.Writer = f
	if gz {
		w.gz, _ = gzip.NewWriterLevel(f, gzip.BestSpeed) // BestSpeed is a valid level: no error
		sink = w.gz
	}
	w.bw = bufio.NewWriterSize(sink, bufSize)
	if ng {
		w.writeNgHeader(link, iface)
	} else {
		var h [24]byte
		magic := uint32(0xa1b2c3d4)
		if ns {
			magic = 0xa1b23c4d
		}
		le := binary.LittleEndian
		le.PutUint32(h[0:], magic)
		le.PutUint16(h[4:], 2)
		le.PutUint16(h[6:], 4)
		le.PutUint32(h[16:], uint32(snap))
		le.PutUint32(h[20:], uint32(link))
		w.write(h[:])
	}
	return w, nil
}

func (w *capWriter) write(b []byte) {
	n, _ := w.bw.Write(b) // errors are sticky; close reports them
	w.bytes += int64(n)
}

// writeNgHeader writes a Section Header Block and one Interface Description Block with if_name and
// if_tsresol.
func (w *capWriter) writeNgHeader(link int, iface string) {
	le := binary.LittleEndian
	shb := make([]byte, 28)
	le.PutUint32(shb[0:], 0x0A0D0D0A)
	le.PutUint32(shb[4:], 28)
	le.PutUint32(shb[8:], 0x1A2B3C4D)
	le.PutUint16(shb[12:], 1)
	le.PutUint16(shb[14:], 0)
	le.PutUint64(shb[16:], ^uint64(0))
	le.PutUint32(shb[24:], 28)
	w.write(shb)

	name := []byte(iface)
	opts := make([]byte, 0, 32+len(name))
	opts = le.AppendUint16(opts, 2) // if_name
	opts = le.AppendUint16(opts, uint16(len(name)))
	opts = append(opts, name...)
	opts = append(opts, pad4[:(4-len(name)%4)%4]...)
	res := byte(6)
	if w.ns {
		res = 9
	}
	opts = le.AppendUint16(opts, 9) // if_tsresol
	opts = le.AppendUint16(opts, 1)
	opts = append(opts, res, 0, 0, 0)
	opts = append(opts, 0, 0, 0, 0) // opt_endofopt
	total := 20 + len(opts)
	idb := make([]byte, 0, total)
	idb = le.AppendUint32(idb, 1)
	idb = le.AppendUint32(idb, uint32(total))
	idb = le.AppendUint16(idb, uint16(link))
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, uint32(w.snap))
	idb = append(idb, opts...)
	idb = le.AppendUint32(idb, uint32(total))
	w.write(idb)
}

// frame writes one record with timestamp ts (ns since the epoch, already rounded to the file's
// resolution) made of hdr followed by payload, cut at the snap length. step is the part of ts a step
// of the node's clock added (generator.recorded): the file is kept in order on its clock without it,
// so that a step back shows in it, as a real capture's times go back. It returns the timestamp
// actually written (never below the previous one, the step aside).
func (w *capWriter) frame(ts, step int64, hdr, payload []byte) int64 {
	if ts-step < w.last {
		ts = w.last + step
	}
	w.last = ts - step
	orig := len(hdr) + len(payload)
	capLen := min(orig, w.snap)
	if capLen < len(hdr) {
		hdr = hdr[:capLen]
	}
	payload = payload[:capLen-len(hdr)]
	le := binary.LittleEndian
	r := w.rec[:]
	if w.ng {
		units := ts / 1000
		if w.ns {
			units = ts
		}
		padLen := (4 - capLen%4) % 4
		total := 32 + capLen + padLen
		le.PutUint32(r[0:], 6)
		le.PutUint32(r[4:], uint32(total))
		le.PutUint32(r[8:], 0)
		le.PutUint32(r[12:], uint32(uint64(units)>>32))
		le.PutUint32(r[16:], uint32(units))
		le.PutUint32(r[20:], uint32(capLen))
		le.PutUint32(r[24:], uint32(orig))
		w.write(r[:28])
		w.write(hdr)
		w.write(payload)
		le.PutUint32(r[28:], uint32(total))
		w.write(pad4[:padLen])
		w.write(r[28:32])
		return ts
	}
	sub := ts % 1e9
	if !w.ns {
		sub /= 1000
	}
	le.PutUint32(r[0:], uint32(ts/1e9))
	le.PutUint32(r[4:], uint32(sub))
	le.PutUint32(r[8:], uint32(capLen))
	le.PutUint32(r[12:], uint32(orig))
	w.write(r[:16])
	w.write(hdr)
	w.write(payload)
	return ts
}

// close flushes and closes the file, returning the first error met.
func (w *capWriter) close() error {
	err := w.bw.Flush()
	if w.gz != nil {
		if e := w.gz.Close(); err == nil {
			err = e
		}
	}
	if e := w.f.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	return nil
}
