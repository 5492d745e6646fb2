package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/calipath/calipath/decode"
)

func runPackets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("packets", "FILE...", stdout, stderr)
	var in inputFlags
	in.register(fs)
	format := fs.String("format", "text", "output `FORMAT`: text (one line per frame) or json (one object per line)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to `FILE`")
	memprofile := fs.String("memprofile", "", "write a heap profile to `FILE` at the end")
	_ = fs.MarkHidden("cpuprofile")
	_ = fs.MarkHidden("memprofile")
	paths, err := parseTextJSON(fs, &in, args, stderr)
	if err != nil {
		return err
	}
	if err := in.checkOutputs(fs, stderr, paths, "--cpuprofile", *cpuprofile, "--memprofile", *memprofile); err != nil {
		return err
	}
	stop, err := startProfiles(*cpuprofile, *memprofile, stderr)
	if err != nil {
		return err
	}
	defer stop()
	// packets reads each input twice: an input that can be read only once is refused before
	// anything is read. stdin that is a file is read again from where it began.
	var stdinAt int64 = -1
	for _, p := range paths {
		if what := readOnce(p); what != "" {
			if p == "-" {
				p = "- (stdin)"
			}
			return usageErr(fs, stderr, "%s is %s, which can be read only once, and packets reads each input twice "+
				"(to identify the capture points, then to print the frames): save it to a file first "+
				"(`cat > capture.pcap`); `calipath points` and `report` read it once", p, what)
		}
		if p == "-" {
			if stdinAt, err = os.Stdin.Seek(0, io.SeekCurrent); err != nil {
				return err
			}
		}
	}
	// First pass: identify the capture points (inference may need every frame).
	in.framesOnly = true
	c, err := in.load(paths, stderr)
	if err != nil {
		return err
	}
	// Second pass: decode again (the frames only: no observations, no traffic summaries) and print,
	// file by file, in frame order.
	w := bufio.NewWriterSize(stdout, 1<<16)
	pw := &packetWriter{c: c, w: w, json: *format == "json"}
	opts := in.decodeOptions()
	// File i of c is the i-th of the paths in byte order (every reader of a set of captures takes them
	// so: decode.Load), whatever their order on the command line; its sources in c.Tables are its by
	// that index. So the frames are printed file by file in that order, as the summary lists the files.
	paths = slices.Clone(paths)
	slices.Sort(paths)
	for i, path := range paths {
		if ctx.Err() != nil {
			break
		}
		if c.Files[i].Err != nil && c.Files[i].Records == 0 {
			continue
		}
		if path == "-" {
			if _, err := os.Stdin.Seek(stdinAt, io.SeekStart); err != nil {
				return err
			}
		}
		// The first pass reported what stopped a file's reading.
		_ = decode.ScanPackets(path, uint16(i), opts, c.Tables, func(rec *decode.Record, p *decode.Packet, src uint16) {
			if pw.err == nil {
				pw.write(path, rec, p, src)
			}
		})
	}
	if pw.err != nil {
		return pw.err
	}
	if !pw.json {
		writeSummary(w, c.Files)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if anyProblem(c.Files) || in.bundleSkipped() {
		return errSkipped
	}
	return nil
}

// writeSummary prints the per-file record and skip counts that every text output ends with.
func writeSummary(w io.Writer, files []*decode.FileInfo) {
	for _, fi := range files {
		fmt.Fprintf(w, "# %s: %d records, %d skipped, %d damaged, %d problems\n", sanitize(fi.Path), fi.Records,
			fi.Skipped, fi.Damaged, fi.NProblems)
	}
}

type packetWriter struct {
	c    *decode.Capture
	w    *bufio.Writer
	json bool
	fj   frameJSON
	fl   frameLine
	buf  []byte // the JSON line of the frame being written
	err  error
}

// Frame is one frame of `calipath packets --format json`.
type Frame struct {
	File     string     `json:"file"`
	Frame    uint32     `json:"frame"`
	Ts       string     `json:"ts"`
	Point    string     `json:"point"`
	Link     string     `json:"link"`
	Eth      *EthJSON   `json:"eth,omitempty"`
	SLL      *SLLJSON   `json:"sll,omitempty"`
	Outer    *OuterJSON `json:"outer,omitempty"`
	Encap    string     `json:"encap"`
	VNI      *uint32    `json:"vni,omitempty"`
	Inner    *InnerJSON `json:"inner,omitempty"`
	ARP      *ARPJSON   `json:"arp,omitempty"`
	WG       *WGJSON    `json:"wireguard,omitempty"`
	GSO      bool       `json:"gso,omitempty"`
	Checksum string     `json:"checksum"`
	Errors   []string   `json:"errors"`
}

// EthJSON is the Ethernet header.
type EthJSON struct {
	Src   string   `json:"src"`
	Dst   string   `json:"dst"`
	VLANs []uint16 `json:"vlans,omitempty"`
}

// SLLJSON is a Linux cooked header.
type SLLJSON struct {
	PktType uint8 `json:"pkttype"`
	IfIndex int32 `json:"ifindex"`
}

// OuterJSON is the outer IP header of an encapsulated frame.
type OuterJSON struct {
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Proto uint8  `json:"proto"`
	TTL   uint8  `json:"ttl"`
	ID    uint32 `json:"id"`
	Len   uint16 `json:"len"`
	DF    bool   `json:"df"`
	MF    bool   `json:"mf"`
	Frag  uint16 `json:"frag"`
	DSCP  uint8  `json:"dscp"`
	ECN   uint8  `json:"ecn"`
	Sport uint16 `json:"sport,omitempty"` // VXLAN outer UDP
	Dport uint16 `json:"dport,omitempty"`
}

// InnerJSON is the innermost IP packet.
type InnerJSON struct {
	Src      string     `json:"src"`
	Dst      string     `json:"dst"`
	Proto    uint8      `json:"proto"`
	TTL      uint8      `json:"ttl"`
	ID       uint32     `json:"id"`
	Len      uint16     `json:"len"`
	DF       bool       `json:"df"`
	MF       bool       `json:"mf"`
	Frag     uint16     `json:"frag"`
	DSCP     uint8      `json:"dscp"`
	ECN      uint8      `json:"ecn"`
	Sport    *uint16    `json:"sport,omitempty"`
	Dport    *uint16    `json:"dport,omitempty"`
	TCPFlags *uint8     `json:"tcp_flags,omitempty"`
	Seq      *uint32    `json:"seq,omitempty"`
	Ack      *uint32    `json:"ack,omitempty"`
	Win      *uint16    `json:"win,omitempty"`
	MSS      uint16     `json:"mss,omitempty"`
	ICMPType *uint8     `json:"icmp_type,omitempty"`
	ICMPCode *uint8     `json:"icmp_code,omitempty"`
	ICMPID   *uint16    `json:"icmp_id,omitempty"`
	ICMPSeq  *uint16    `json:"icmp_seq,omitempty"`
	MTU      uint16     `json:"mtu,omitempty"`
	Quote    *QuoteJSON `json:"quote,omitempty"`
	Payload  int        `json:"payload_len"`
}

// QuoteJSON is the packet an ICMP error quotes.
type QuoteJSON struct {
	Src      string `json:"src"`
	Dst      string `json:"dst"`
	Proto    uint8  `json:"proto"`
	Sport    uint16 `json:"sport"`
	Dport    uint16 `json:"dport"`
	InnerSrc string `json:"inner_src,omitempty"`
	InnerDst string `json:"inner_dst,omitempty"`
	// A quoted VXLAN datagram (a router's error about the nodes' tunnel datagram): Sport and Dport are
	// the packet's inside it, as for IP-in-IP; these are its protocol, the datagram's UDP ports and VNI.
	InnerProto *uint8  `json:"inner_proto,omitempty"`
	VXLANSport *uint16 `json:"vxlan_sport,omitempty"`
	VXLANDport *uint16 `json:"vxlan_dport,omitempty"`
	VNI        *uint32 `json:"vni,omitempty"`
}

// WGJSON is the clear-text header of a WireGuard message (indexes in hex, as WireGuard's tools show
// them). Counter, PaddedLen and Keepalive are for transport messages only.
type WGJSON struct {
	Type      uint8   `json:"type"`
	Name      string  `json:"name"` // initiation, response, cookie-reply, transport
	Sender    string  `json:"sender,omitempty"`
	Receiver  string  `json:"receiver,omitempty"`
	Counter   *uint64 `json:"counter,omitempty"`
	Len       int     `json:"len"`                  // message length
	PaddedLen *int    `json:"padded_len,omitempty"` // the encrypted inner packet's length, padded to 16
	Keepalive bool    `json:"keepalive,omitempty"`
}

var wgNames = [...]string{decode.WGInitiation: "initiation", decode.WGResponse: "response",
	decode.WGCookie: "cookie-reply", decode.WGTransport: "transport"}

// ARPJSON is an ARP packet.
type ARPJSON struct {
	Op  uint16 `json:"op"`
	SHA string `json:"sha"`
	SPA string `json:"spa"`
	THA string `json:"tha"`
	TPA string `json:"tpa"`
}

func (pw *packetWriter) write(path string, rec *decode.Record, p *decode.Packet, src uint16) {
	point := pw.c.Points[pw.c.PointOf[src]].ID
	if pw.json {
		pw.buf = pw.fj.append(pw.buf[:0], path, point, rec, p)
		_, pw.err = pw.w.Write(pw.buf)
		return
	}
	pw.buf = pw.fl.append(pw.buf[:0], path, point, rec, p)
	_, pw.err = pw.w.Write(pw.buf)
}

// readOnce says what an input is when it can be read only once (a pipe, FIFO, socket or device; "-"
// is stdin), and "" for a regular file or a path that cannot be looked at (reading it says why).
func readOnce(path string) string {
	st, err := statPath(path)
	if err != nil || st.Mode().IsRegular() {
		return ""
	}
	switch m := st.Mode(); {
	case m&fs.ModeNamedPipe != 0:
		return "a pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0, m.IsDir(): // a block device reads again; a directory fails when read
		return ""
	}
	return "not a regular file"
}
