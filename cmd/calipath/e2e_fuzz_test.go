package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/tui"
	tea "github.com/charmbracelet/bubbletea"
)

// e2eSet is a lab scenario's captures that FuzzReportMutated damages, and the --links files they need
// (NODE=FILE, in the scenario's directory).
type e2eSet struct {
	dir   string
	files []string
	links []string
}

// e2eSets are the lab captures the fuzz input picks from (its first byte): IP-in-IP per interface, VXLAN,
// a router's -i any capture with its links, two nodes' -i any captures, a ClusterIP DNAT, an ICMP
// frag-needed (PMTU) exchange across a router, a pcapng of IPv6 VXLAN with a -i any, WireGuard, ARP
// without proxy ARP, and TCP retransmissions.
var e2eSets = []e2eSet{
	{dir: "healthy-ipip", files: []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-eth0.pcap", "node-a-tunl0.pcap",
		"node-b-eth0.pcap", "node-b-tunl0.pcap", "node-b-cali2f5353dd8c5.pcap"}},
	{dir: "healthy-vxlan", files: []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-vxlan.calico.pcap", "node-a-eth0.pcap",
		"node-b-eth0.pcap", "node-b-cali2f5353dd8c5.pcap"}},
	{dir: "router-any-ipip", files: []string{"node-a-eth0.pcap", "router-1-any.pcap", "node-b-eth0.pcap"},
		links: []string{"router-1=router-1-links.txt"}},
	{dir: "healthy-ipip", files: []string{"node-a-any.pcap", "node-b-any.pcap"}},
	{dir: "clusterip-dnat", files: []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-eth0.pcap", "node-b-eth0.pcap",
		"node-b-cali2f5353dd8c5.pcap"}},
	{dir: "pmtu-discovery", files: []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-eth0.pcap", "router-1-eth0.pcap",
		"router-1-eth1.pcap", "node-b-eth0.pcap"}},
	{dir: "healthy-vxlan6", files: []string{"node-a.pcapng", "node-b-any.pcap"}},
	{dir: "healthy-wireguard", files: []string{"node-a-wireguard.cali.pcap", "node-a-eth0.pcap", "node-b-eth0.pcap",
		"node-b-wireguard.cali.pcap"}},
	{dir: "proxy-arp-off", files: []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-eth0.pcap", "node-b-eth0.pcap"}},
	{dir: "tcp-retransmission", files: []string{"node-a-cali5e1c4d6c68c.pcap", "node-a-eth0.pcap", "node-b-eth0.pcap",
		"node-b-cali2f5353dd8c5.pcap"}},
}

// e2eInputDeadline bounds one fuzz input's work (the five reports and the TUI): a few to some tens of
// milliseconds each on a quiet machine, this is far past any load's slowing of them.
const e2eInputDeadline = 15 * time.Second

// e2eMaxOps and e2eMaxFrames bound the mutations an input makes and the frames a file may grow to.
const (
	e2eMaxOps    = 24
	e2eMaxFrames = 200
)

// capRec is one record of a capture file: a pcap record, or a pcapng Enhanced Packet Block (its
// interface in ifid, its options in opts). pre holds the pcapng blocks that came before it.
type capRec struct {
	ts      int64 // pcap: ns; pcapng: the interface's time units
	origLen uint32
	data    []byte
	capLen  int64 // -1: len(data); else the length written in the record's header (damaged framing)
	ifid    uint32
	opts    []byte
	pre     [][]byte // pcapng: whole blocks written before this record
}

// capFile is a capture file taken apart into records so that a fuzz input can change them.
type capFile struct {
	name  string
	ng    bool
	le    bool
	nano  bool
	head  []byte   // pcap: the 24-byte file header; pcapng: the blocks before the first EPB
	tail  [][]byte // pcapng: the blocks after the last EPB
	recs  []capRec
	cutAt int // >0: the file written is cut this many bytes short
	// framing says the mutations touched the file's framing (a record header's lengths, the file's
	// snaplen or its end): how many records a reader finds is then not known in advance.
	framing bool
}

func (f *capFile) order() interface {
	binary.ByteOrder
	binary.AppendByteOrder
} {
	if f.le {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

// parseCap takes a pcap or pcapng file apart.
func parseCap(name string, b []byte) (*capFile, error) {
	f := &capFile{name: name}
	if len(b) >= 4 && binary.BigEndian.Uint32(b) == 0x0a0d0d0a {
		f.ng = true
		if len(b) < 12 {
			return nil, fmt.Errorf("%s: short", name)
		}
		f.le = binary.LittleEndian.Uint32(b[8:]) == 0x1a2b3c4d
		o := f.order()
		var pending [][]byte
		first := true
		for len(b) >= 12 {
			typ, n := o.Uint32(b), int(o.Uint32(b[4:]))
			if n < 12 || n > len(b) {
				return nil, fmt.Errorf("%s: bad block length", name)
			}
			blk := b[:n]
			b = b[n:]
			if typ != 6 {
				if first {
					f.head = append(f.head, blk...)
				} else {
					pending = append(pending, blk)
				}
				continue
			}
			first = false
			body := blk[8 : n-4]
			cl := int(o.Uint32(body[12:]))
			pad := (cl + 3) &^ 3
			if 20+pad > len(body) {
				return nil, fmt.Errorf("%s: bad EPB", name)
			}
			f.recs = append(f.recs, capRec{ifid: o.Uint32(body), ts: int64(uint64(o.Uint32(body[4:]))<<32 | uint64(o.Uint32(body[8:]))),
				origLen: o.Uint32(body[16:]), data: append([]byte(nil), body[20:20+cl]...), capLen: -1,
				opts: append([]byte(nil), body[20+pad:]...), pre: pending})
			pending = nil
		}
		f.tail = pending
		return f, nil
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("%s: short", name)
	}
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		f.le = true
	case 0xa1b23c4d:
		f.le, f.nano = true, true
	default:
		switch binary.BigEndian.Uint32(b) {
		case 0xa1b2c3d4:
		case 0xa1b23c4d:
			f.nano = true
		default:
			return nil, fmt.Errorf("%s: not a capture", name)
		}
	}
	o := f.order()
	f.head = append([]byte(nil), b[:24]...)
	for b = b[24:]; len(b) >= 16; {
		cl := int(o.Uint32(b[8:]))
		if 16+cl > len(b) {
			return nil, fmt.Errorf("%s: bad record", name)
		}
		frac := int64(o.Uint32(b[4:]))
		if !f.nano {
			frac *= 1000
		}
		f.recs = append(f.recs, capRec{ts: int64(o.Uint32(b))*1e9 + frac, origLen: o.Uint32(b[12:]),
			data: append([]byte(nil), b[16:16+cl]...), capLen: -1})
		b = b[16+cl:]
	}
	return f, nil
}

// bytes writes the file out.
func (f *capFile) bytes() []byte {
	o := f.order()
	out := append([]byte(nil), f.head...)
	capLen := func(r *capRec) uint32 {
		if r.capLen >= 0 {
			return uint32(r.capLen)
		}
		return uint32(len(r.data))
	}
	for i := range f.recs {
		r := &f.recs[i]
		if !f.ng {
			sec, frac := r.ts/1e9, r.ts%1e9
			if frac < 0 {
				sec, frac = sec-1, frac+1e9
			}
			if !f.nano {
				frac /= 1000
			}
			out = o.AppendUint32(o.AppendUint32(out, uint32(sec)), uint32(frac))
			out = o.AppendUint32(o.AppendUint32(out, capLen(r)), r.origLen)
			out = append(out, r.data...)
			continue
		}
		for _, p := range r.pre {
			out = append(out, p...)
		}
		pad := (len(r.data) + 3) &^ 3
		n := uint32(12 + 20 + pad + len(r.opts))
		out = o.AppendUint32(o.AppendUint32(out, 6), n)
		out = o.AppendUint32(out, r.ifid)
		out = o.AppendUint32(o.AppendUint32(out, uint32(uint64(r.ts)>>32)), uint32(r.ts))
		out = o.AppendUint32(o.AppendUint32(out, capLen(r)), r.origLen)
		out = append(out, r.data...)
		out = append(out, make([]byte, pad-len(r.data))...)
		out = append(out, r.opts...)
		out = o.AppendUint32(out, n)
	}
	for _, p := range f.tail {
		out = append(out, p...)
	}
	if f.cutAt > 0 {
		out = out[:max(0, len(out)-f.cutAt)]
	}
	return out
}

// linkType sets the file's link type: the pcap header's, or the first pcapng interface's.
func (f *capFile) setHeader(off int, v uint32, n int) {
	if !f.ng {
		if n == 4 {
			f.order().PutUint32(f.head[off:], v)
		} else {
			f.order().PutUint16(f.head[off:], uint16(v))
		}
		return
	}
	o := f.order()
	for b := f.head; len(b) >= 12; { // the first Interface Description Block
		typ, l := o.Uint32(b), int(o.Uint32(b[4:]))
		if l < 12 || l > len(b) {
			return
		}
		if typ == 1 && l >= 20 {
			if off == 20 { // link type
				o.PutUint16(b[8:], uint16(v))
			} else { // snaplen
				o.PutUint32(b[12:], v)
			}
			return
		}
		b = b[l:]
	}
}

// e2eOp is one mutation: what (kind), where (file, frame, off) and with what (val).
type e2eOp struct {
	kind, file, frame byte
	off, val          uint16
}

func (op e2eOp) String() string {
	names := [...]string{"set byte", "set u16", "shift time", "swap frames", "truncate frame", "duplicate frame",
		"delete frame", "link type", "snaplen", "record caplen", "cut file", "origlen", "copy frame from file",
		"set time", "move frame to file", "xor bytes"}
	return fmt.Sprintf("%s(file %d, frame %d, off %d, val %#x)", names[int(op.kind)%len(names)], op.file, op.frame, op.off, op.val)
}

// e2eProgram reads a fuzz input: the set (its first byte), then up to e2eMaxOps operations of 7 bytes.
func e2eProgram(in []byte) (int, []e2eOp) {
	if len(in) == 0 {
		return 0, nil
	}
	set := int(in[0]) % len(e2eSets)
	var ops []e2eOp
	for b := in[1:]; len(b) >= 7 && len(ops) < e2eMaxOps; b = b[7:] {
		ops = append(ops, e2eOp{kind: b[0] % 16, file: b[1], frame: b[2], off: binary.BigEndian.Uint16(b[3:]),
			val: binary.BigEndian.Uint16(b[5:])})
	}
	return set, ops
}

// apply makes op's change to files.
func (op e2eOp) apply(files []*capFile) {
	f := files[int(op.file)%len(files)]
	other := files[int(op.val>>8)%len(files)]
	n := len(f.recs)
	if n == 0 {
		if op.kind == 10 {
			f.cutAt, f.framing = int(op.off)%64+1, true
		}
		return
	}
	i := int(op.frame) % n
	r := &f.recs[i]
	at := func(l int) int { // a byte offset in the frame, l bytes fitting
		if len(r.data) < l {
			return -1
		}
		return int(op.off) % (len(r.data) - l + 1)
	}
	switch op.kind {
	case 0:
		if j := at(1); j >= 0 {
			r.data[j] = byte(op.val)
		}
	case 1:
		if j := at(2); j >= 0 {
			binary.BigEndian.PutUint16(r.data[j:], op.val)
		}
	case 2:
		scales := []int64{1e3, 1e6, 1e8, 1e9, 3600e9, 1 << 40, 1e3, 1e6}
		d := int64(int16(op.val)) * scales[op.off%uint16(len(scales))]
		if f.ng {
			d /= 1000 // the lab's pcapng files count microseconds
		}
		r.ts += d
	case 3:
		j := int(op.off) % n
		f.recs[i], f.recs[j] = f.recs[j], f.recs[i]
	case 4:
		r.data = r.data[:int(op.off)%(len(r.data)+1)]
	case 5:
		if n < e2eMaxFrames {
			c := *r
			c.data = append([]byte(nil), r.data...)
			c.pre = nil
			j := (i + 1 + int(op.off)%4) % (n + 1)
			f.recs = append(f.recs[:j], append([]capRec{c}, f.recs[j:]...)...)
		}
	case 6:
		if r.pre != nil && i+1 < n { // keep the blocks (interfaces) it came after
			f.recs[i+1].pre = append(r.pre, f.recs[i+1].pre...)
		}
		f.recs = append(f.recs[:i], f.recs[i+1:]...)
	case 7:
		types := []uint32{1, 113, 276, 101, 12, 228, 229, 0, 147, 0xffff, uint32(op.off)}
		f.setHeader(20, types[int(op.val)%len(types)], 2)
	case 8:
		snaps := []uint32{0, 1, 64, 96, 128, 1500, 65535, 262144, 0xffffffff, uint32(op.val)}
		f.setHeader(16, snaps[int(op.off)%len(snaps)], 4)
		f.framing = true
	case 9:
		lens := []int64{0, 1, int64(len(r.data)) + 1, int64(len(r.data)) + 100, 0xffffffff, 262145, int64(op.val)}
		r.capLen = lens[int(op.off)%len(lens)]
		f.framing = true
	case 10:
		f.cutAt, f.framing = int(op.off)%(len(r.data)+64)+1, true
	case 11:
		lens := []uint32{0, 1, uint32(len(r.data)) - 1, uint32(len(r.data)) + 1, 65535, 0xffffffff, uint32(op.val)}
		r.origLen = lens[int(op.off)%len(lens)]
	case 12:
		if len(other.recs) > 0 {
			src := other.recs[int(op.off)%len(other.recs)]
			r.data, r.origLen = append([]byte(nil), src.data...), src.origLen
		}
	case 13:
		times := []int64{0, -1, 1, 1 << 62, r.ts + 1, r.ts - 1, int64(op.val) * 1e9}
		r.ts = times[int(op.off)%len(times)]
	case 14:
		if other != f && len(other.recs) < e2eMaxFrames {
			c := *r
			c.pre = nil
			if c.ifid != 0 && other.ng {
				c.ifid = 0
			}
			j := int(op.off) % (len(other.recs) + 1)
			if other.ng && j == 0 && len(other.recs) > 0 && other.recs[0].pre != nil {
				j = 1 // after the blocks that come before the first record
			}
			other.recs = append(other.recs[:j], append([]capRec{c}, other.recs[j:]...)...)
			if r.pre != nil && i+1 < n {
				f.recs[i+1].pre = append(r.pre, f.recs[i+1].pre...)
			}
			f.recs = append(f.recs[:i], f.recs[i+1:]...)
		}
	case 15:
		if j := at(1); j >= 0 {
			for k := j; k < min(len(r.data), j+int(op.val>>8)%16+1); k++ {
				r.data[k] ^= byte(op.val)
			}
		}
	}
}

var e2eCache sync.Map // path → []byte

func e2eRead(path string) ([]byte, error) {
	if b, ok := e2eCache.Load(path); ok {
		return b.([]byte), nil
	}
	b, err := os.ReadFile(path)
	if err == nil {
		e2eCache.Store(path, b)
	}
	return b, err
}

// FuzzReportMutated runs calipath end to end on real lab captures damaged as the fuzz input says:
// bytes of a frame set, frames truncated, duplicated, deleted, swapped, moved to another file or
// shifted in time, a file's link type or snaplen changed, a record's lengths made wrong, a file cut
// short. Each input runs `calipath report` in every format (text, markdown, HTML, JSON, and JSON with
// --journeys) and shows the TUI's screens on the same captures. No panic, no hang (e2eInputDeadline),
// the exit code 0 or 2; every record is accounted for: the JSON's frames are the inputs' records, and
// the points' frames; a file whose framing was left alone has every record read, none skipped, and
// any file with fewer records than written says why; the JSON is valid.
func FuzzReportMutated(f *testing.F) {
	// Seeds: each set as it is, then each with a few mutations of its own kind.
	for i := range e2eSets {
		f.Add([]byte{byte(i)})
	}
	f.Add([]byte{0, 0, 1, 3, 0, 23, 0, 6})                     // healthy-ipip: a node-a-eth0 frame's outer protocol byte to 6
	f.Add([]byte{1, 4, 2, 5, 0, 0, 0, 0})                      // vxlan: truncate a frame of node-b-eth0 to nothing
	f.Add([]byte{2, 2, 1, 7, 0, 0, 0, 5})                      // router -i any: shift a frame by a second
	f.Add([]byte{3, 5, 0, 3, 0, 0, 0, 3})                      // -i any: a duplicated frame
	f.Add([]byte{4, 3, 2, 9, 0, 2, 0, 0})                      // NAT: a record's caplen past its data
	f.Add([]byte{5, 7, 1, 1, 0, 1, 0, 0})                      // ICMP: link type to Linux cooked v1
	f.Add([]byte{6, 10, 0, 0, 0, 9, 0, 0})                     // pcapng: the file cut 10 bytes short
	f.Add([]byte{7, 14, 0, 3, 0, 0, 3, 0})                     // WireGuard: a frame moved to another capture
	f.Add([]byte{8, 6, 0, 0, 0, 0, 0, 0, 3, 1, 2, 0, 5, 0, 0}) // ARP: a frame deleted, two swapped
	f.Add([]byte{9, 13, 1, 4, 0, 1, 0, 0})                     // retransmissions: a frame at time -1
	f.Fuzz(func(t *testing.T, in []byte) {
		set, ops := e2eProgram(in)
		var what strings.Builder
		fmt.Fprintf(&what, "set %d (%s", set, e2eSets[set].dir)
		for _, n := range e2eSets[set].files {
			what.WriteString(" " + n)
		}
		what.WriteString(")")
		for _, op := range ops {
			what.WriteString("; " + op.String())
		}
		done := make(chan string, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					done <- fmt.Sprintf("panic: %v\n%s", p, debug.Stack())
				}
			}()
			done <- e2eRun(e2eSets[set], ops)
		}()
		select {
		case msg := <-done:
			if msg != "" {
				t.Fatalf("input %x: %s:\n%s", in, what.String(), msg)
			}
		case <-time.After(e2eInputDeadline):
			t.Fatalf("input %x: %s: not done after %s", in, what.String(), e2eInputDeadline)
		}
	})
}

// e2eRun writes the set's files with ops applied and runs the reports and the TUI on them; it returns
// what went wrong, "" if nothing did.
func e2eRun(set e2eSet, ops []e2eOp) string {
	src := filepath.Join(lab, set.dir)
	files := make([]*capFile, len(set.files))
	for i, n := range set.files {
		b, err := e2eRead(filepath.Join(src, n))
		if err != nil {
			return err.Error()
		}
		cf, err := parseCap(n, b)
		if err != nil {
			return err.Error()
		}
		files[i] = cf
	}
	for _, op := range ops {
		op.apply(files)
	}
	dir, err := os.MkdirTemp("", "calipath-fuzz-")
	if err != nil {
		return err.Error()
	}
	defer os.RemoveAll(dir)
	var args, paths []string
	for _, l := range set.links {
		node, file, _ := strings.Cut(l, "=")
		args = append(args, "--links", node+"="+filepath.Join(src, file))
	}
	for _, cf := range files {
		p := filepath.Join(dir, cf.name)
		if err := os.WriteFile(p, cf.bytes(), 0o644); err != nil {
			return err.Error()
		}
		paths = append(paths, p)
	}
	args = append(args, paths...)
	var problems []string
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	for _, form := range [][]string{{"--format", "text"}, {"--format", "markdown"}, {"--format", "html"},
		{"--format", "json"}, {"--format", "json", "--journeys"}} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append(append([]string{"report", "-q"}, form...), args...), &out, &errb)
		name := strings.Join(form, " ")
		if code != exitOK && code != exitSkipped {
			fail("report %s: exit %d\n%s", name, code, errb.String())
			continue
		}
		if strings.Contains(errb.String(), "calipath report: ") {
			if form[1] == "text" { // said once: the other formats fail alike
				fail("report %s: exit %d: %s", name, code, errb.String())
			}
			continue
		}
		if form[1] != "json" {
			continue
		}
		var res correlate.Result
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			fail("report %s: the JSON does not parse: %v", name, err)
			continue
		}
		problems = append(problems, e2eCounts(&res, files, paths, code)...)
	}

	// The TUI on the same captures, as calipath tui loads and correlates them.
	fs := newFlagSet("tui", "", io.Discard, io.Discard)
	var in inputFlags
	in.register(fs)
	if err := fs.Parse(args); err != nil {
		return err.Error()
	}
	cfg, err := in.config(paths)
	if err != nil {
		return err.Error()
	}
	dopts := in.decodeOptions()
	c := decode.Load(paths, dopts, cfg)
	copts := correlate.Options{Window: time.Second, Lean: true, Cluster: in.cluster.meta, IfacePrefix: in.cluster.prefix,
		Acks: decode.AckReader(c, dopts), StreamFlows: true, KeepFreed: true}
	if correlate.Check(c, copts) != nil { // the TUI says why and quits (as report did)
		return strings.Join(problems, "\n")
	}
	res := correlate.Correlate(c, copts).WithFlows()
	var m tea.Model = tui.NewWithResult(res, tui.Options{Decode: dopts, Points: cfg, Out: io.Discard,
		Getenv: func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return ""
		}})
	m = e2eSend(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	for _, k := range []string{"2", "G", "enter", "l", "n", "enter", "X", "5", "6", "enter", "1"} {
		m = e2eSend(m, e2eKey(k))
		_ = m.View()
	}
	return strings.Join(problems, "\n")
}

// e2eCounts checks that the JSON report accounts for every record written.
func e2eCounts(res *correlate.Result, files []*capFile, paths []string, code int) []string {
	var problems []string
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	records, skipped, frames, problem := 0, 0, 0, false
	for _, p := range res.Points {
		frames += p.Frames
	}
	byFile := map[string]correlate.Input{}
	for _, in := range res.Inputs {
		records += in.Records
		skipped += in.Skipped
		byFile[in.File] = in
		problem = problem || in.Skipped > 0 || len(in.Errors) > 0
	}
	if res.Summary.Frames != records || res.Summary.Skipped != skipped {
		fail("summary: %d frames, %d skipped; the inputs: %d records, %d skipped", res.Summary.Frames, res.Summary.Skipped,
			records, skipped)
	}
	if frames != records {
		fail("the points hold %d frames, the inputs %d records", frames, records)
	}
	for i, cf := range files {
		in, ok := byFile[paths[i]]
		if !ok {
			fail("%s: not among the inputs", cf.name)
			continue
		}
		want := len(cf.recs)
		switch {
		case !cf.framing && in.Records+in.Skipped != want:
			fail("%s: %d records written, %d read and %d skipped", cf.name, want, in.Records, in.Skipped)
		case in.Skipped > 0 && len(in.Errors) == 0:
			fail("%s: %d records skipped, and nothing says why", cf.name, in.Skipped)
		case in.Records < want && in.Skipped == 0 && len(in.Errors) == 0:
			fail("%s: %d records written, %d read, and nothing says why", cf.name, want, in.Records)
		}
	}
	if problem && code != exitSkipped {
		fail("some input was skipped or has errors, but the exit code is %d", code)
	}
	return problems
}

// e2eKey is the key message of a key's name.
func e2eKey(k string) tea.KeyMsg {
	if k == "enter" {
		return tea.KeyMsg{Type: tea.KeyEnter}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// e2eSend gives msg to m's Update and the messages its commands return, in turn (a Result shown
// without loading has no timer: each command returns at once).
func e2eSend(m tea.Model, msg tea.Msg) tea.Model {
	queue := []tea.Msg{msg}
	for n := 0; len(queue) > 0 && n < 64; n++ {
		msg, queue = queue[0], queue[1:]
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				if c != nil {
					queue = append(queue, c())
				}
			}
			continue
		}
		if msg == nil {
			continue
		}
		var cmd tea.Cmd
		m, cmd = m.Update(msg)
		if cmd != nil {
			queue = append(queue, cmd())
		}
	}
	return m
}
