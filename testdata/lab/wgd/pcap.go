package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// Link types of the lab's classic pcap files.
const (
	linkEthernet = 1
	linkRaw      = 101
	linkRawAlt   = 12 // LINKTYPE_RAW as some systems write it (DLT_RAW)
	linkSLL      = 113
	linkSLL2     = 276
)

// readPcap calls fn with every IPv4 packet of a classic pcap file (Ethernet, raw IP, Linux
// cooked v1 or v2), fragments reassembled, and its timestamp in nanoseconds. A reassembled
// packet gets the timestamp of its last fragment.
func readPcap(name string, fn func(ts int64, ip []byte)) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var hdr [24]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("%s: file header: %w", name, err)
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.BigEndian.Uint32(hdr[:4]) {
	case 0xa1b2c3d4:
		bo = binary.BigEndian
	case 0xa1b23c4d:
		bo, nano = binary.BigEndian, true
	case 0xd4c3b2a1:
		bo = binary.LittleEndian
	case 0x4d3cb2a1:
		bo, nano = binary.LittleEndian, true
	default:
		return fmt.Errorf("%s: not a classic pcap file", name)
	}
	link := int(bo.Uint32(hdr[20:24]) & 0x0fffffff)
	re := reassembler{}
	for n := 1; ; n++ {
		var rh [16]byte
		if _, err := io.ReadFull(r, rh[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: record %d: %w", name, n, err)
		}
		incl := bo.Uint32(rh[8:12])
		if incl > 1<<18 {
			return fmt.Errorf("%s: record %d: %d bytes", name, n, incl)
		}
		data := make([]byte, incl)
		if _, err := io.ReadFull(r, data); err != nil {
			return fmt.Errorf("%s: record %d: %w", name, n, err)
		}
		sub := int64(bo.Uint32(rh[4:8]))
		if !nano {
			sub *= 1000
		}
		ts := int64(bo.Uint32(rh[0:4]))*1e9 + sub
		ip := network(link, data)
		if ip == nil {
			continue
		}
		if ip = re.add(ip); ip != nil {
			fn(ts, ip)
		}
	}
}

// network returns a frame's IPv4 packet, or nil.
func network(link int, d []byte) []byte {
	var proto uint16
	switch link {
	case linkEthernet:
		if len(d) < 14 {
			return nil
		}
		proto, d = binary.BigEndian.Uint16(d[12:14]), d[14:]
		for proto == 0x8100 && len(d) >= 4 {
			proto, d = binary.BigEndian.Uint16(d[2:4]), d[4:]
		}
	case linkRaw, linkRawAlt:
		proto = 0x0800
	case linkSLL:
		if len(d) < 16 {
			return nil
		}
		proto, d = binary.BigEndian.Uint16(d[14:16]), d[16:]
	case linkSLL2:
		if len(d) < 20 {
			return nil
		}
		proto, d = binary.BigEndian.Uint16(d[0:2]), d[20:]
	default:
		return nil
	}
	if proto != 0x0800 || len(d) < 20 || d[0]>>4 != 4 {
		return nil
	}
	ihl := int(d[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(d[2:4]))
	if ihl < 20 || total < ihl || total > len(d) {
		return nil
	}
	return d[:total]
}

type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    byte
}

type fragment struct {
	off  int
	more bool
	data []byte
}

// reassembler puts IPv4 fragments back together (one file's worth: fragments of one packet are
// never split across capture files).
type reassembler map[fragKey][]fragment

func (re reassembler) add(ip []byte) []byte {
	ff := binary.BigEndian.Uint16(ip[6:8])
	more, off := ff&0x2000 != 0, int(ff&0x1fff)*8
	if !more && off == 0 {
		return ip
	}
	k := fragKey{[4]byte(ip[12:16]), [4]byte(ip[16:20]), binary.BigEndian.Uint16(ip[4:6]), ip[9]}
	fr := fragment{off: off, more: more, data: ip}
	re[k] = append(re[k], fr)
	list := re[k]
	sort.Slice(list, func(i, j int) bool { return list[i].off < list[j].off })
	at := 0
	for _, f := range list {
		h := int(f.data[0]&0x0f) * 4
		if f.off > at {
			return nil
		}
		at = max(at, f.off+len(f.data)-h)
		if !f.more {
			// Complete: the first fragment's header, every fragment's payload.
			first := list[0].data
			fh := int(first[0]&0x0f) * 4
			out := append([]byte{}, first[:fh]...)
			payload := make([]byte, at)
			for _, g := range list {
				gh := int(g.data[0]&0x0f) * 4
				copy(payload[g.off:], g.data[gh:])
			}
			out = append(out, payload...)
			binary.BigEndian.PutUint16(out[2:4], uint16(len(out)))
			binary.BigEndian.PutUint16(out[6:8], binary.BigEndian.Uint16(first[6:8])&0x4000) // DF kept; MF and offset cleared
			delete(re, k)
			return out
		}
	}
	return nil
}
