package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
)

// offsetFlag collects --offset NODE=DURATION.
type offsetFlag struct{ m map[string]time.Duration }

func (o *offsetFlag) String() string { return fmt.Sprint(o.m) }
func (o *offsetFlag) Type() string   { return "NODE=DURATION" }
func (o *offsetFlag) Set(s string) error {
	var kv kvFlag
	if err := kv.Set(s); err != nil {
		return err
	}
	d, err := time.ParseDuration(kv.kv[0][1])
	if err != nil {
		return fmt.Errorf("--offset %s: %w", s, err)
	}
	if o.m == nil {
		o.m = map[string]time.Duration{}
	}
	o.m[kv.kv[0][0]] = d
	return nil
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "FILE...", stderr)
	var in inputFlags
	in.register(fs)
	var offsets offsetFlag
	fs.Var(&offsets, "offset", "set a node's clock offset against the reference node instead of estimating it: NODE=DURATION (repeatable)")
	format := fs.String("format", "json", "output format: json")
	journeys := fs.Bool("journeys", false, "include every packet's journey")
	window := fs.Duration("window", time.Second, "how far apart (after clock correction) two sightings of one packet may be")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "json" {
		return usageErr(fs, stderr, "--format must be json, not %q", *format)
	}
	paths := in.files(fs.Args())
	if len(paths) == 0 {
		return usageErr(fs, stderr, "no capture files given")
	}
	cfg, err := in.config()
	if err != nil {
		return err
	}
	c := decode.Load(paths, decode.Options{VXLANPort: in.vxlanPort}, cfg)
	printProblems(c.Files, stderr)
	if err := ctx.Err(); err != nil {
		return err
	}
	res := correlate.Correlate(c, correlate.Options{Offsets: offsets.m, Journeys: *journeys, Window: *window})
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	if anyProblem(c.Files) {
		return errSkipped
	}
	return nil
}
