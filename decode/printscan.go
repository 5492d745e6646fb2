package decode

import (
	"errors"
	"io"
)

// PacketFunc receives each decoded frame of ScanPackets with the index in the Tables of its capture
// source. rec.Data and p.Payload are only valid during the call.
type PacketFunc func(rec *Record, p *Packet, src uint16)

// ScanPackets reads and decodes every frame of a file for a caller that prints them, after ScanFile
// (or ScanFiles) has scanned the same file with the same options into t: fn receives the frames in
// order with the Packets ScanFile gives (ErrTimestamp included; not Packet.Loose) and their sources'
// indexes. It leaves out what printing does not read, the Observations (fingerprints, header
// contexts, the tables of ARP and ICMP errors) and the traffic summaries and problems the scan kept in
// its FileInfo, so that a frame costs little more than its decoding. It returns the error that
// stopped the reading early (nil at the end of the file; records the reader skipped are skipped).
func ScanPackets(path string, index uint16, opts Options, t *Tables, fn PacketFunc) error {
	r, c, err := openInput(path, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	d := NewDecoder(opts, t, index)
	var rec Record
	var p Packet
	times := map[uint16]*Traffic{} // each source's stretches of time, as the scan's Traffic keeps them
	var tr *Traffic
	lastSrc, records := -1, 0
	for {
		err := r.Next(&rec)
		if err != nil {
			var re *RecordError
			if errors.As(err, &re) {
				continue
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if records++; records%progressEvery == 0 && stopped(opts.Done) {
			return ErrStopped
		}
		if rec.LinkType == LinkLinuxSLL && d.sll == nil {
			// As scan files a cooked v1 frame: by what the file shows of its node's pods, read once
			// before (without it, a router's frames went to any:pod, ScanFile's to any:underlay).
			d.sll = learnSLL(path, opts)
		}
		d.decodePacket(&rec, &p)
		src := d.sourceOf(&rec, &p)
		if int(src) != lastSrc {
			lastSrc = int(src)
			if tr = times[src]; tr == nil {
				tr = &Traffic{}
				times[src] = tr
			}
		}
		// As scan flags a frame's time (Traffic.add keeps the stretches of time with addTime).
		if back := tr.addTime(rec.Frame, rec.Ts, rec.FracOver); back != 0 || rec.FracOver || tr.cur != tr.main {
			p.Errs |= ErrTimestamp
		}
		fn(&rec, &p, src)
	}
}
