// Command gencap writes synthetic Calico captures and their ground truth (see package gen).
//
//	go run ./internal/gen/gencap -out DIR -seed 1 -packets 2000000 -flows 1000 -mode ipip
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/calipath/calipath/internal/gen"
	"github.com/spf13/pflag"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
}

// truthJSONMax is the largest run for which truth.json (one document) is written; larger runs get
// truth.jsonl (one packet a line) and truth-meta.json.
const truthJSONMax = 200000

// nodeValues is a repeatable node=value flag.
type nodeValues struct {
	m     map[string]string
	parse func(string) error
}

func (v *nodeValues) String() string {
	keys := make([]string, 0, len(v.m))
	for k := range v.m {
		keys = append(keys, k+"="+v.m[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (v *nodeValues) Set(s string) error {
	for _, kv := range strings.Split(s, ",") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("want node=value, got %q", kv)
		}
		if err := v.parse(val); err != nil {
			return err
		}
		v.m[k] = val
	}
	return nil
}

func (v *nodeValues) Type() string { return "node=value" }

// parseStep parses a clock step, AT:SIZE (two durations: when, after the start, and by how much).
func parseStep(s string) (gen.ClockStep, error) {
	at, size, ok := strings.Cut(s, ":")
	if !ok {
		return gen.ClockStep{}, fmt.Errorf("want AT:SIZE, got %q", s)
	}
	a, err := time.ParseDuration(at)
	if err != nil {
		return gen.ClockStep{}, err
	}
	d, err := time.ParseDuration(size)
	return gen.ClockStep{At: a, Size: d}, err
}

func run(args []string, stdout io.Writer) error {
	cfg := gen.DefaultConfig()
	fs := pflag.NewFlagSet("gencap", pflag.ContinueOnError)
	var (
		mode, format string
		mix          string
		truth        string
		noTruth      bool
		seed         uint64
	)
	offsets := &nodeValues{m: map[string]string{}, parse: func(s string) error { _, err := time.ParseDuration(s); return err }}
	drifts := &nodeValues{m: map[string]string{}, parse: func(s string) error { _, err := strconv.ParseFloat(s, 64); return err }}
	steps := &nodeValues{m: map[string]string{}, parse: func(s string) error { _, err := parseStep(s); return err }}
	fs.StringVar(&cfg.Dir, "out", "", "output directory (required)")
	fs.Uint64Var(&seed, "seed", 1, "random seed")
	fs.IntVar(&cfg.Packets, "packets", 100000, "IP packets sent by pods (frames ≈ 6×packets)")
	fs.IntVar(&cfg.Flows, "flows", 100, "flows")
	fs.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "nodes")
	fs.IntVar(&cfg.PodsPerNode, "pods", cfg.PodsPerNode, "pods per node")
	fs.StringVar(&mode, "mode", "ipip", "ipip, vxlan, bgp or wireguard")
	fs.StringVar(&mix, "mix", "default", "traffic: default, many-flows (DNS-like UDP and short TCP, one server pod per node) or arp-heavy (extra proxy ARP exchanges)")
	fs.Float64Var(&cfg.ARPRate, "arp-rate", 0, "extra proxy ARP exchanges per second, all pods together (0: none; arp-heavy then uses -rate)")
	fs.StringVar(&format, "format", "pcap", "pcap or pcapng")
	fs.BoolVar(&cfg.Nanosecond, "ns", false, "nanosecond timestamps")
	fs.BoolVar(&cfg.Gzip, "gzip", false, "gzip the capture files")
	fs.Float64Var(&cfg.LossPerHop, "loss", 0, "loss probability per hop")
	fs.Float64Var(&cfg.DupRate, "dup", 0, "probability that a packet has one duplicated frame")
	fs.Float64Var(&cfg.RetransRate, "retrans", 0, "probability that a TCP segment is resent")
	fs.Float64Var(&cfg.DNAT, "dnat", 0, "fraction of TCP/UDP flows sent to a ClusterIP")
	fs.Float64Var(&cfg.IPID0DF, "ipid0", 0, "fraction of flows with IP id 0 and DF")
	fs.IntVar(&cfg.Identical, "identical", 0, "flows (the first ones) sending byte-identical UDP packets one way: IP id 0, same ports and payload")
	fs.IntVar(&cfg.WGRekeyAfter, "wg-rekey-after", 0, "wireguard mode: a new session (receiver index, counters from 0) after this many messages of one (0: never)")
	fs.BoolVar(&cfg.PartialCsum, "partial-csum", false, "offload-style partial L4 checksums on the sending node")
	fs.Var(offsets, "offset", "clock offset per node, e.g. node-2=5s (repeatable)")
	fs.Var(drifts, "drift", "clock drift per node in ppm, e.g. node-2=100 (repeatable)")
	fs.Var(steps, "step", "clock step per node, AT:SIZE (from AT after the start on, its times SIZE later), e.g. node-2=5s:4ms (repeatable, one per node)")
	fs.IntVar(&cfg.Routers, "routers", cfg.Routers, "L3 routers between nodes")
	fs.IntVar(&cfg.PayloadMax, "payload", cfg.PayloadMax, "largest TCP/UDP payload")
	fs.IntVar(&cfg.Snaplen, "snaplen", cfg.Snaplen, "snap length")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "packets per second (true time)")
	fs.Float64Var(&cfg.Protos.TCP, "tcp", cfg.Protos.TCP, "weight of TCP flows")
	fs.Float64Var(&cfg.Protos.UDP, "udp", cfg.Protos.UDP, "weight of UDP flows")
	fs.Float64Var(&cfg.Protos.ICMP, "icmp", cfg.Protos.ICMP, "weight of ICMP flows")
	fs.BoolVar(&noTruth, "no-truth", false, "write no ground truth (same as -truth none)")
	fs.StringVar(&truth, "truth", "auto", "ground truth: json (truth.json), jsonl (truth.jsonl + truth-meta.json), none; auto = json up to 200000 packets")
	if err := fs.Parse(longFlags(args)); err != nil {
		return err
	}
	if cfg.Dir == "" {
		return fmt.Errorf("-out is required")
	}
	cfg.Seed = seed
	var err error
	if cfg.Mode, err = gen.ParseMode(mode); err != nil {
		return err
	}
	if cfg.Mix, err = gen.ParseMix(mix); err != nil {
		return err
	}
	if cfg.Format, err = gen.ParseFormat(format); err != nil {
		return err
	}
	cfg.ClockOffset = map[string]time.Duration{}
	for k, v := range offsets.m {
		cfg.ClockOffset[k], _ = time.ParseDuration(v) // validated by Set
	}
	cfg.DriftPPM = map[string]float64{}
	for k, v := range drifts.m {
		cfg.DriftPPM[k], _ = strconv.ParseFloat(v, 64) // validated by Set
	}
	cfg.ClockStep = map[string]gen.ClockStep{}
	for k, v := range steps.m {
		cfg.ClockStep[k], _ = parseStep(v) // validated by Set
	}
	if noTruth {
		truth = "none"
	}
	if truth == "auto" {
		truth = "json"
		if cfg.Packets > truthJSONMax {
			truth = "jsonl"
		}
	}
	switch truth {
	case "json":
		cfg.KeepTruth = true
	case "jsonl":
		cfg.KeepTruth = false
		cfg.TruthJSONL = "truth.jsonl"
	case "none":
		cfg.KeepTruth = false
	default:
		return fmt.Errorf("-truth: want auto, json, jsonl or none, got %q", truth)
	}

	began := time.Now()
	res, err := gen.Generate(cfg)
	if err != nil {
		return err
	}
	if truth != "none" {
		name := "truth.json"
		if truth == "jsonl" {
			name = "truth-meta.json"
		}
		if err := writeTruth(filepath.Join(cfg.Dir, name), res.Truth); err != nil {
			return err
		}
	}
	secs := time.Since(began).Seconds()
	fmt.Fprintf(stdout, "%d files, %d packets, %d frames, %d bytes, %.2fs, %.0f frames/s\n",
		len(res.Files), res.Packets, res.Frames, res.Bytes, secs, float64(res.Frames)/secs)
	return nil
}

// longFlags lets the Go-style single-dash spelling (-out DIR) work with pflag: a single-dash argument
// longer than one letter becomes a long flag. Nothing after "--" is touched.
func longFlags(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			a = "-" + a
		}
		out = append(out, a)
	}
	return out
}

func writeTruth(path string, t *gen.Truth) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := t.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
