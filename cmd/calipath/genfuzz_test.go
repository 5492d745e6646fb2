package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/gen"
	"github.com/calipath/calipath/tui"
	tea "github.com/charmbracelet/bubbletea"
)

// genIn reads a fuzz input's bytes in turn; past its end every byte is 0.
type genIn struct{ b []byte }

func (r *genIn) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *genIn) u16() uint16 { return uint16(r.byte())<<8 | uint16(r.byte()) }

// pick returns one of choices, chosen by the next byte.
func pick[T any](r *genIn, choices ...T) T { return choices[int(r.byte())%len(choices)] }

// genOp is one incident done to the generated files: a node's clock stepped from some time on, a
// file's times going backwards or all equal, its records reordered, duplicated or dropped, the file
// cut short, a capture point or a whole node missing.
type genOp struct {
	kind  byte
	which byte   // file or node
	at    byte   // where in the file (a fraction of its records, /256)
	val   uint16 // how much
}

const genOpKinds = 9

func (op genOp) String() string {
	names := [genOpKinds]string{"step node clock", "time backwards", "times equal", "reorder records", "duplicate records",
		"drop records", "cut file", "drop file", "drop node"}
	return fmt.Sprintf("%s(which %d, at %d, val %#x)", names[op.kind], op.which, op.at, op.val)
}

// genSteps are the sizes of a clock step (genOp kind 0), from a microsecond to a day; the op's val
// picks one and its sign.
var genSteps = []time.Duration{time.Microsecond, 50 * time.Microsecond, time.Millisecond, 4 * time.Millisecond,
	100 * time.Millisecond, time.Second, time.Minute, time.Hour, 24 * time.Hour}

// genMaxOps bounds the incidents an input does.
const genMaxOps = 8

// genCase reads a fuzz input: the generator's parameters, then up to genMaxOps incidents of 5 bytes.
func genCase(in []byte) (gen.Config, []genOp) {
	r := &genIn{b: in}
	cfg := gen.DefaultConfig()
	cfg.Mode = gen.Mode(r.byte() % 4)
	cfg.Nodes = 2 + int(r.byte()%3)
	cfg.PodsPerNode = 1 + int(r.byte()%3)
	cfg.Flows = 1 + int(r.byte()%50)
	cfg.Packets = 1 + int(r.u16()%3000)
	cfg.LossPerHop = pick(r, 0, 0, 0.01, 0.05, 0.2, 0.5, 1)
	cfg.DupRate = pick(r, 0, 0, 0.01, 0.1, 0.5)
	cfg.RetransRate = pick(r, 0, 0, 0.02, 0.2)
	cfg.DNAT = pick(r, 0, 0, 0.3, 1)
	cfg.IPID0DF = pick(r, 0, 0, 0.5, 1)
	cfg.Identical = int(r.byte()) % (min(cfg.Flows, cfg.Packets, 3) + 1)
	for i := range cfg.Nodes {
		node := fmt.Sprintf("node-%d", i+1)
		b := r.byte()
		scale := []time.Duration{0, time.Microsecond, time.Millisecond, time.Second, time.Minute, time.Hour}[b%6]
		off := time.Duration(int8(r.byte())) * scale
		if b%6 == 5 {
			off = max(min(off, 24*time.Hour), -24*time.Hour)
		}
		if off != 0 {
			if cfg.ClockOffset == nil {
				cfg.ClockOffset = map[string]time.Duration{}
			}
			cfg.ClockOffset[node] = off
		}
		if d := float64(int8(r.byte())) * 500 / 128; d != 0 && b&0x80 != 0 {
			if cfg.DriftPPM == nil {
				cfg.DriftPPM = map[string]float64{}
			}
			cfg.DriftPPM[node] = d
		}
	}
	flags := r.byte()
	cfg.PartialCsum = flags&1 != 0
	cfg.Nanosecond = flags&2 != 0
	if flags&4 != 0 {
		cfg.Format = gen.FormatPcapNG
	}
	cfg.Protos = pick(r, gen.Protos{TCP: 0.7, UDP: 0.2, ICMP: 0.1}, gen.Protos{TCP: 1}, gen.Protos{UDP: 1}, gen.Protos{ICMP: 1})
	if flags&8 != 0 {
		cfg.Mix = gen.MixManyFlows
	}
	cfg.Routers = int(flags>>4) % 3
	cfg.Snaplen = pick(r, 262144, 262144, 64, 68, 96, 128, 1500)
	cfg.Rate = pick(r, 1e5, 1e5, 1, 10, 1000, 1e7, 1e9)
	cfg.Seed = uint64(r.byte())
	var ops []genOp
	for len(r.b) >= 5 && len(ops) < genMaxOps {
		ops = append(ops, genOp{kind: r.byte() % genOpKinds, which: r.byte(), at: r.byte(), val: r.u16()})
	}
	return cfg, ops
}

// genFile is a generated capture file taken apart, with what the incidents did to it: orig[i] is
// record i's frame number as generated (0 for a copy), moved[i] says its time was changed other than
// by its node's clock step; the file is gone when dropped.
type genFile struct {
	*capFile
	node    string
	orig    []uint32
	moved   []bool
	unit    int64 // ns per unit of the records' times
	dropped bool
}

// span is the file's records' first and last times.
func (f *genFile) span() (int64, int64) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, r := range f.recs {
		lo, hi = min(lo, r.ts), max(hi, r.ts)
	}
	return lo, hi
}

// apply does op to files; steps records which node's clock stepped (and so gives true latencies
// no more from the recorded times).
func (op genOp) apply(files []*genFile, stepped map[string]bool) {
	f := files[int(op.which)%len(files)]
	n := len(f.recs)
	i := int(op.at) * n / 256
	switch op.kind {
	case 0: // a node's clock steps at some time: every record of its files from then on
		d := genSteps[int(op.val&0xff)%len(genSteps)]
		if op.val&0x100 != 0 {
			d = -d
		}
		lo, hi := f.span()
		if n == 0 {
			return
		}
		at := lo + (hi-lo)/256*int64(op.at)
		stepped[f.node] = true
		for _, g := range files {
			if g.node != f.node {
				continue
			}
			for k := range g.recs {
				if g.recs[k].ts*g.unit >= at*f.unit {
					g.recs[k].ts += int64(d) / g.unit
				}
			}
		}
	case 1: // a record's time before the one before it
		if n > 0 {
			f.recs[i].ts -= int64(op.val) * 1e3 / f.unit
			f.moved[i] = true
		}
	case 2: // a run of records all at one time
		for k := i; k < min(n, i+1+int(op.val)); k++ {
			f.recs[k].ts = f.recs[i].ts
			f.moved[k] = true
		}
	case 3: // a run of records reversed
		j := min(n, i+2+int(op.val%64))
		for a, b := i, j-1; a < b; a, b = a+1, b-1 {
			f.recs[a], f.recs[b] = f.recs[b], f.recs[a]
			f.orig[a], f.orig[b] = f.orig[b], f.orig[a]
			f.moved[a], f.moved[b] = f.moved[b], f.moved[a]
		}
	case 4: // a run of records written twice
		if n == 0 {
			return
		}
		j := min(n, i+1+int(op.val%16))
		cp := make([]capRec, 0, j-i)
		for _, r := range f.recs[i:j] {
			r.data = append([]byte(nil), r.data...)
			r.pre = nil
			cp = append(cp, r)
		}
		f.recs = append(f.recs[:j], append(cp, f.recs[j:]...)...)
		f.orig = append(f.orig[:j], append(make([]uint32, len(cp)), f.orig[j:]...)...)
		f.moved = append(f.moved[:j], append(make([]bool, len(cp)), f.moved[j:]...)...)
	case 5: // a run of records gone
		if n == 0 {
			return
		}
		j := min(n, i+1+int(op.val%256))
		if f.recs[i].pre != nil && j < n { // keep the pcapng blocks it came after
			f.recs[j].pre = append(f.recs[i].pre, f.recs[j].pre...)
		}
		f.recs = append(f.recs[:i], f.recs[j:]...)
		f.orig = append(f.orig[:i], f.orig[j:]...)
		f.moved = append(f.moved[:i], f.moved[j:]...)
	case 6: // the file cut short, mid-record
		f.cutAt, f.framing = 1+int(op.val)%2000, true
	case 7: // a capture point missing
		f.dropped = true
	case 8: // a node missing
		for _, g := range files {
			if g.node == f.node {
				g.dropped = true
			}
		}
	}
}

// genClockBounds: latencies between nodes are checked against the truth within their clocks' bounds.
// CALIPATH_GENFUZZ_CLOCKS=off leaves them out, for a long run that hunts crashes and counts that do not
// add up past the clock fits' known misses on drifting clocks (the clock tests' to settle).
var genClockBounds = os.Getenv("CALIPATH_GENFUZZ_CLOCKS") != "off"

// genDeadline bounds one input's work (generation, five reports and the TUI).
const genDeadline = 60 * time.Second

// FuzzGenPipeline generates small captures from fuzzed parameters (internal/gen: mode, nodes, pods,
// flows, packets, loss, duplicates, retransmissions, DNAT, IP id 0, identical packets, clock offsets
// up to a day either way, drift up to ±500 ppm, partial checksums, snap length, rate, nanosecond
// times, pcapng), damages them as incidents do (genOp), and runs `calipath report` in every format
// and the TUI on them: no panic, no hang, and self-consistent outputs (genCheck).
func FuzzGenPipeline(f *testing.F) {
	for _, s := range genSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if msg := genRunGuarded(t, in, genClockBounds); msg != "" {
			t.Fatal(msg)
		}
	})
}

// genSpec is a fuzz input spelled out: each field is the byte genCase reads for it (packets two).
type genSpec struct {
	mode, nodes, pods, flows                   byte
	packets                                    uint16
	loss, dup, retrans, dnat, ipid0, identical byte
	clocks                                     [][3]byte // per node: offset scale (bit 7: drift), offset, drift
	flags, protos, snaplen, rate, seed         byte
	ops                                        []genOp
}

// bytes is the fuzz input that genCase reads as s.
func (s genSpec) bytes() []byte {
	b := []byte{s.mode, s.nodes, s.pods, s.flows, byte(s.packets >> 8), byte(s.packets), s.loss, s.dup, s.retrans, s.dnat,
		s.ipid0, s.identical}
	for i := range 2 + int(s.nodes%3) {
		var c [3]byte
		if i < len(s.clocks) {
			c = s.clocks[i]
		}
		b = append(b, c[:]...)
	}
	b = append(b, s.flags, s.protos, s.snaplen, s.rate, s.seed)
	for _, op := range s.ops {
		b = append(b, op.kind, op.which, op.at, byte(op.val>>8), byte(op.val))
	}
	return b
}

// genSeeds are the fuzz target's seeds and the inputs TestGenPipeline runs.
var genSeeds = [][]byte{
	{},
	genSpec{flows: 9, packets: 1000}.bytes(), // IP-in-IP, 10 flows, 1,000 packets
	// VXLAN, 3 nodes, 2 pods each, loss, duplicates, retransmissions, DNAT.
	genSpec{mode: 1, nodes: 1, pods: 1, flows: 19, packets: 2000, loss: 2, dup: 2, retrans: 2, dnat: 2, ipid0: 1, identical: 1}.bytes(),
	// BGP, 4 nodes, offsets of 10 s and -3 min, a drift of 100 ppm.
	genSpec{mode: 2, nodes: 2, pods: 2, flows: 49, packets: 1500, loss: 1, clocks: [][3]byte{{}, {3, 10, 0}, {0x80 | 4, 0xfd, 26}},
		seed: 1}.bytes(),
	// WireGuard, loss 20%, an offset of -56 h clamped to a day, routers.
	genSpec{mode: 3, flows: 4, packets: 256, loss: 4, clocks: [][3]byte{{5, 200, 0}}, flags: 0x10}.bytes(),
	// IP-in-IP, drift 50 ppm on node-2, its clock stepped 4 ms halfway (the panic of round 22's usualEvery).
	genSpec{flows: 4, packets: 3000, clocks: [][3]byte{{}, {0x80, 0, 13}}, ops: []genOp{{kind: 0, which: 4, at: 128, val: 3}}}.bytes(),
	// Tiny snap length, nanosecond pcapng, partial checksums, a very low rate.
	genSpec{mode: 1, pods: 1, flows: 7, packets: 500, loss: 3, flags: 7, snaplen: 2, rate: 2, seed: 7}.bytes(),
	// Many flows, every incident once.
	genSpec{nodes: 1, pods: 2, flows: 30, packets: 1500, loss: 2, dup: 1, retrans: 1, identical: 2, flags: 8, seed: 9,
		ops: []genOp{{0, 1, 100, 0x105}, {1, 2, 50, 0x20}, {2, 3, 10, 0x10}, {3, 4, 200, 0x08}, {4, 5, 30, 0x04},
			{5, 6, 90, 0x40}, {6, 7, 0, 0x100}, {7, 8, 0, 0}}}.bytes(),
	// A whole node missing, identical packets, IP id 0.
	genSpec{mode: 1, flows: 3, packets: 512, ipid0: 3, identical: 2, ops: []genOp{{kind: 8, which: 1}}}.bytes(),
	// VXLAN at snaplen 68 (the underlay's inner ports cut: no clock sample), node-2 100 ms ahead: its
	// latencies across the nodes are not known, not measured (TestUncrossedClockLatencyNotKnown).
	genSpec{mode: 1, flows: 3, packets: 400, clocks: [][3]byte{{}, {2, 100, 0}}, snaplen: 3}.bytes(),
	// All of a file's times equal, a very high rate, loss on every hop.
	genSpec{flows: 2, packets: 128, loss: 6, rate: 6, ops: []genOp{{kind: 2, which: 1, at: 0, val: 0x100}}}.bytes(),
}

// TestGenPipeline is FuzzGenPipeline's property test on inputs drawn at random from fixed seeds
// (FuzzGenPipeline's own seeds run under go test too): no panic, no hang, counts that add up. Their
// latencies between nodes are left out: drifting clocks' fits miss their bounds on some such inputs
// (reported to the clock tests, docs/correlation.md's 2026-12-07 rob23 section).
func TestGenPipeline(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 7))
	for i := range 6 {
		in := make([]byte, 20+r.IntN(30))
		for k := range in {
			in[k] = byte(r.UintN(256))
		}
		in[4] &= 0x03 // at most 1,023 packets: the test stays well under a minute
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if msg := genRunGuarded(t, in, false); msg != "" {
				t.Fatal(msg)
			}
		})
	}
}

// genRunGuarded runs genRun on in, turning a panic or a hang into what went wrong.
func genRunGuarded(t *testing.T, in []byte, clocks bool) string {
	cfg, ops := genCase(in)
	dir := t.TempDir()
	var what strings.Builder
	fmt.Fprintf(&what, "input %x: %s, %d nodes × %d pods, %d flows, %d packets, loss %v dup %v retrans %v dnat %v ipid0 %v identical %d, offsets %v drift %v, partial %v ns %v %s %s, protos %+v, routers %d, snaplen %d, rate %v, seed %d",
		in, cfg.Mode, cfg.Nodes, cfg.PodsPerNode, cfg.Flows, cfg.Packets, cfg.LossPerHop, cfg.DupRate, cfg.RetransRate, cfg.DNAT,
		cfg.IPID0DF, cfg.Identical, cfg.ClockOffset, cfg.DriftPPM, cfg.PartialCsum, cfg.Nanosecond, cfg.Format, cfg.Mix,
		cfg.Protos, cfg.Routers, cfg.Snaplen, cfg.Rate, cfg.Seed)
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
		done <- genRun(cfg, ops, dir, clocks)
	}()
	select {
	case msg := <-done:
		if msg != "" {
			return what.String() + ":\n" + msg
		}
		return ""
	case <-time.After(genDeadline):
		return fmt.Sprintf("%s: not done after %s", what.String(), genDeadline)
	}
}

// genRun generates cfg's captures into dir, does ops to them, and runs the reports and the TUI; it
// returns what went wrong, "" if nothing did. clocks: check the latencies between nodes too.
func genRun(cfg gen.Config, ops []genOp, dir string, clocks bool) string {
	cfg.Dir = filepath.Join(dir, "gen")
	cfg.KeepTruth = true
	g, err := gen.Generate(cfg)
	if err != nil {
		return "" // a configuration the generator refuses (a many-flows mix of too few packets)
	}
	files := make([]*genFile, len(g.Truth.Files))
	for i, ft := range g.Truth.Files {
		b, err := os.ReadFile(filepath.Join(cfg.Dir, ft.Name))
		if err != nil {
			return err.Error()
		}
		cf, err := parseCap(ft.Name, b)
		if err != nil {
			return err.Error()
		}
		gf := &genFile{capFile: cf, node: ft.Node, orig: make([]uint32, len(cf.recs)), moved: make([]bool, len(cf.recs)), unit: 1}
		if cf.ng && !cfg.Nanosecond {
			gf.unit = 1000
		}
		for k := range gf.orig {
			gf.orig[k] = uint32(k + 1)
		}
		files[i] = gf
	}
	stepped := map[string]bool{}
	for _, op := range ops {
		op.apply(files, stepped)
	}
	out := filepath.Join(dir, "in")
	if err := os.Mkdir(out, 0o755); err != nil {
		return err.Error()
	}
	var paths []string
	kept := map[string]*genFile{}
	for _, f := range files {
		if f.dropped {
			continue
		}
		p := filepath.Join(out, f.name)
		if err := os.WriteFile(p, f.bytes(), 0o644); err != nil {
			return err.Error()
		}
		paths = append(paths, p)
		kept[p] = f
	}
	if len(paths) == 0 {
		return ""
	}
	var problems []string
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	for _, form := range [][]string{{"--format", "text"}, {"--format", "markdown"}, {"--format", "html"},
		{"--format", "json"}, {"--format", "json", "--journeys"}} {
		var o, e bytes.Buffer
		code := run(context.Background(), append(append([]string{"report", "-q"}, form...), paths...), &o, &e)
		name := strings.Join(form, " ")
		if code != exitOK && code != exitSkipped {
			fail("report %s: exit %d\n%s", name, code, e.String())
			continue
		}
		if m := genNotANumber.Find(o.Bytes()); m != nil {
			fail("report %s: %q in the output", name, m)
		}
		if form[1] != "json" {
			continue
		}
		if !json.Valid(o.Bytes()) {
			fail("report %s: the JSON is not valid", name)
			continue
		}
		var res correlate.Result
		if err := json.Unmarshal(o.Bytes(), &res); err != nil {
			fail("report %s: the JSON does not parse: %v", name, err)
			continue
		}
		var generic any
		_ = json.Unmarshal(o.Bytes(), &generic) // valid, as checked
		problems = append(problems, genNegative("", generic)...)
		problems = append(problems, genSums(&res)...)
		if len(form) == 3 {
			problems = append(problems, genLatencies(&res, g.Truth, kept, stepped, cfg.Nanosecond, clocks)...)
		}
	}
	genTUI(paths)
	return strings.Join(problems, "\n")
}

// genNotANumber finds a NaN or an infinity printed in a report.
var genNotANumber = regexp.MustCompile(`\bNaN\b|[+-]Inf\b|\bInfinity\b`)

// genNegative lists the negative numbers of v (decoded JSON) but for the fields that may be negative:
// times, offsets, deltas, drifts and latencies (a latency between two clocks may come out negative
// within their bounds), and bounds of -1 (unbounded).
func genNegative(key string, v any) []string {
	switch x := v.(type) {
	case map[string]any:
		var out []string
		for k, e := range x {
			out = append(out, genNegative(k, e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, genNegative(key, e)...)
		}
		return out
	case float64:
		if x >= 0 || genMayBeNegative(key) || (x == -1 && strings.Contains(key, "bound")) {
			return nil
		}
		return []string{fmt.Sprintf("JSON field %q is negative: %v", key, x)}
	}
	return nil
}

// genSignedFields are the JSON fields (and the latency summary's) that may hold a negative number.
var genSignedFields = map[string]bool{"min": true, "p50": true, "p90": true, "p99": true, "max": true,
	"drift_ppm": true, "ts_ns": true, "first_ns": true, "last_ns": true}

func genMayBeNegative(key string) bool {
	return genSignedFields[key] || strings.Contains(key, "offset") || strings.Contains(key, "delta") ||
		strings.HasSuffix(key, "_ns")
}

// genSums checks that the counts add up: the summary is the flows' sums, each flow's packets are
// delivered, lost or not captured (or none of those: split, merged, unplaced …) and its losses are
// placed on segments, each segment's packets are delivered, lost or not captured and its losses the
// flows' placed there, a flow's connections sum to it, the journeys' statuses to the summary, and
// every latency summary is in order.
func genSums(r *correlate.Result) []string {
	var problems []string
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	lat := func(what string, l correlate.Latency) {
		if l.N < 0 || (l.N > 0 && !(l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max)) ||
			(l.N == 0 && l != correlate.Latency{}) {
			fail("%s: latency summary out of order: %+v", what, l)
		}
	}
	var sent, delivered, lost, notCaptured, flowsN int
	lostOn := map[[2]string]int{}
	for _, f := range r.Flows {
		flowsN++
		sent += f.Packets
		delivered += f.Delivered
		lost += f.Lost
		notCaptured += f.NotCaptured
		if f.Delivered+f.Lost+f.NotCaptured > f.Packets {
			fail("flow %s: %d delivered + %d lost + %d not captured > %d packets", f.ID, f.Delivered, f.Lost, f.NotCaptured, f.Packets)
		}
		placed := 0
		for _, l := range f.LostAt {
			placed += l.Count
			lostOn[[2]string{l.From, l.To}] += l.Count
		}
		if placed != f.Lost {
			fail("flow %s lost %d packets, %d of them placed on segments", f.ID, f.Lost, placed)
		}
		lat("flow "+f.ID, f.LatencyNs)
		for _, d := range f.Dirs {
			lat("flow "+f.ID+" "+d.Dir, d.LatencyNs)
		}
		if len(f.Connections) > 0 {
			var c correlate.TCPConnection
			for _, k := range f.Connections {
				c.Packets += k.Packets
				c.Bytes += k.Bytes
				c.Lost += k.Lost
				c.Retransmissions += k.Retransmissions
				c.Resets += k.Resets
			}
			if c.Packets != f.Packets || c.Bytes != f.Bytes || c.Lost != f.Lost || c.Retransmissions != f.Retransmissions ||
				c.Resets != f.Resets {
				fail("flow %s: %d packets, %d bytes, %d lost, %d retransmissions, %d resets; its connections %d, %d, %d, %d, %d",
					f.ID, f.Packets, f.Bytes, f.Lost, f.Retransmissions, f.Resets, c.Packets, c.Bytes, c.Lost,
					c.Retransmissions, c.Resets)
			}
		}
	}
	s := r.Summary
	if s.Flows != flowsN || s.Journeys != sent || s.Delivered != delivered || s.Lost != lost || s.NotCaptured != notCaptured {
		fail("summary: %d flows, %d packets: %d delivered, %d lost, %d not captured; the flows: %d, %d: %d, %d, %d",
			s.Flows, s.Journeys, s.Delivered, s.Lost, s.NotCaptured, flowsN, sent, delivered, lost, notCaptured)
	}
	segLost := 0
	for _, sg := range r.Segments {
		segLost += sg.Lost
		if sg.Delivered+sg.Lost+sg.NotCaptured != sg.Packets {
			fail("segment %s → %s: %d delivered + %d lost + %d not captured ≠ %d packets", sg.From, sg.To, sg.Delivered,
				sg.Lost, sg.NotCaptured, sg.Packets)
		}
		if n := lostOn[[2]string{sg.From, sg.To}]; n != sg.Lost {
			fail("segment %s → %s lost %d packets, the flows %d", sg.From, sg.To, sg.Lost, n)
		}
		lat("segment "+sg.From+" → "+sg.To, sg.LatencyNs)
	}
	if segLost != lost {
		fail("the segments lost %d packets, the flows %d", segLost, lost)
	}
	byStatus := map[string]int{}
	for _, j := range r.Journeys {
		byStatus[j.Status]++
	}
	// A packet seen again past --window was followed as two journeys, joined again and counted once
	// with the outcome of its second half (window-too-small counts them): each is one journey more.
	joined := 0
	for _, an := range r.Anomalies {
		if an.Kind == "window-too-small" {
			joined += an.Count
		}
	}
	// The pieces a GSO frame was split into (or a GRO frame merged from) are journeys of their own not
	// counted again: with none, the journeys are the packets. A journey that left the captures or was
	// seen only off its path counts as not captured, and so does a lost one on a path of one point (no
	// segment to place it on).
	if len(r.Journeys) > 0 && byStatus["split"] == 0 && byStatus["merged"] == 0 {
		ended := byStatus["lost"] + byStatus["not-captured"] + byStatus["left-captures"] + byStatus["unplaced"]
		more := byStatus["delivered"] - s.Delivered + ended - (s.Lost + s.NotCaptured)
		if byStatus["delivered"] < s.Delivered || ended < s.Lost+s.NotCaptured || more > joined {
			fail("journeys: %d delivered, %d lost, %d not captured, %d left the captures, %d unplaced (%d joined past the window); the summary %d delivered, %d lost, %d not captured",
				byStatus["delivered"], byStatus["lost"], byStatus["not-captured"], byStatus["left-captures"], byStatus["unplaced"],
				joined, s.Delivered, s.Lost, s.NotCaptured)
		}
	}
	return problems
}

// genLatencies checks every latency a journey gives between two hops against the truth: the delta of
// the true times of the two frames, within the bounds calipath reports for the two clocks (and their
// timestamps' resolution). Only two frames of one packet whose times the incidents left alone are
// checked, and none when a node's clock stepped (the accuracy of a stepped clock's fit is the clock
// tests', not this one's); between: those between two nodes too.
func genLatencies(r *correlate.Result, tr *gen.Truth, kept map[string]*genFile, stepped map[string]bool, ns, between bool) []string {
	var problems []string
	type sighting struct {
		pkt, true int64
	}
	trueAt := map[[2]string]sighting{} // file name, frame → the packet and its true time there
	for _, p := range tr.Packets {
		for _, c := range p.Captures {
			trueAt[[2]string{tr.Files[c.File].Name, fmt.Sprint(c.Frame)}] = sighting{p.ID, c.True}
		}
	}
	clocks := map[string]correlate.Clock{}
	for _, c := range r.Clocks {
		clocks[c.Node] = c
	}
	drift := map[string]float64{}
	for _, n := range tr.Nodes {
		drift[n.Name] = n.DriftPPM
	}
	ref := "" // the node whose clock the others are corrected to (its drift is the corrected times')
	for _, c := range r.Clocks {
		if c.Method == "reference" && ref == "" {
			ref = c.Node
		}
	}
	const genMaxDrift = 500 // ppm: the kernel's frequency limit, and genCase's
	res := int64(1000)
	if ns {
		res = 1
	}
	// truth returns the packet and true time of hop h's frame and the node it was captured on, when
	// known.
	truth := func(h correlate.Hop) (sighting, string, bool) {
		f := kept[h.File]
		if f == nil || h.Frame < 1 || int(h.Frame) > len(f.recs) || f.moved[h.Frame-1] || f.orig[h.Frame-1] == 0 {
			return sighting{}, "", false
		}
		t, ok := trueAt[[2]string{f.name, fmt.Sprint(f.orig[h.Frame-1])}]
		return t, f.node, ok
	}
	// clockOf is the clock calipath took hop h's times on: its point's node's (a file it reads as a
	// router's or another device's has a clock of its own).
	clockOf := func(h correlate.Hop) (correlate.Clock, bool) {
		node, _, _ := strings.Cut(h.Point, "/")
		c, ok := clocks[node]
		return c, ok
	}
	bad := 0
	for _, j := range r.Journeys {
		for k := 1; k < len(j.Hops); k++ {
			a, b := j.Hops[k-1], j.Hops[k]
			sa, na, okA := truth(a)
			sb, nb, okB := truth(b)
			// Only two sightings of one packet (identical packets are paired by their order, not
			// known to be the same one), a latency given, on clocks the incidents did not step.
			if !okA || !okB || sa.pkt != sb.pkt || b.ClockBound == correlate.BoundNone || len(stepped) > 0 {
				continue
			}
			// The corrected times run on the reference node's clock, which drifts from the true time.
			want := int64(float64(sb.true-sa.true) * (1 + drift[ref]/1e6))
			ca, haveA := clockOf(a)
			cb, haveB := clockOf(b)
			// The timestamps' resolution, and the clocks' rate errors over the latency itself (a clock
			// drifts up to 500 ppm, and so may calipath's take of it).
			tol := 2*res + int64(math.Abs(float64(want))*2*genMaxDrift/1e6) + 1
			if ca.Node != cb.Node || na != nb {
				if !between {
					continue
				}
				if !haveA || !haveB {
					problems = append(problems, fmt.Sprintf("journey %d: %s → %s: a latency between two nodes, and no clock of both",
						j.ID, a.Point, b.Point))
					continue
				}
				tol += max(ca.BoundNs, 0) + max(cb.BoundNs, 0) + b.ClockUncertainNs
				if (ca.BoundNs < 0 || cb.BoundNs < 0) && b.ClockBound == "" {
					problems = append(problems, fmt.Sprintf("journey %d: %s → %s crosses a clock bounded on one side only, and its latency is not marked a bound",
						j.ID, a.Point, b.Point))
					continue
				}
			}
			got := b.DeltaNs
			// A lower bound is at most the truth, an upper bound at least it, a measurement within tol of it.
			if (b.ClockBound != correlate.BoundUpper && got > want+tol) || (b.ClockBound != correlate.BoundLower && got < want-tol) {
				bad++
				if bad <= 5 {
					problems = append(problems, fmt.Sprintf("journey %d: %s (%s) → %s (%s): latency %d ns %s, truly %d ns, bound ±%d ns",
						j.ID, a.Point, filepath.Base(a.File), b.Point, filepath.Base(b.File), got, b.ClockBound, want, tol))
				}
			}
		}
	}
	if bad > 5 {
		problems = append(problems, fmt.Sprintf("… %d latencies out of their bounds in all", bad))
	}
	sort.Strings(problems)
	return problems
}

// genTUI shows the TUI's screens on the captures, as calipath tui loads and correlates them.
func genTUI(paths []string) {
	var dopts decode.Options
	c := decode.Load(paths, dopts, decode.PointConfig{})
	copts := correlate.Options{Window: time.Second, Lean: true, Acks: decode.AckReader(c, dopts), StreamFlows: true, KeepFreed: true}
	if correlate.Check(c, copts) != nil {
		return
	}
	res := correlate.Correlate(c, copts).WithFlows()
	var m tea.Model = tui.NewWithResult(res, tui.Options{Decode: dopts, Out: io.Discard,
		Getenv: func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return ""
		}})
	m = e2eSend(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	for _, k := range []string{"2", "G", "enter", "l", "n", "enter", "X", "5", "6", "enter", "1", "3", "4", "enter"} {
		m = e2eSend(m, e2eKey(k))
		_ = m.View()
	}
}
